"""Interval checks as tasks of a Dask distributed cluster (internal; ``--dask``).

The tasks (:mod:`._tasks`) are shipped to the workers by value: a worker needs no
stasis package, but it needs the Stasis distribution at the same path and the run
directory on a filesystem it shares with this machine; :func:`connect` checks both on
every worker and fails clearly if one cannot.
"""

import importlib
from typing import Any, Optional

from . import _tasks


def connect(address: str, run: str, cli: str) -> Any:
    """A client of the scheduler at ``address`` whose every worker can reach ``run``."""
    try:                                  # optional: imported by name, untyped
        cloudpickle = importlib.import_module("cloudpickle")
        Client = importlib.import_module("distributed").Client
    except ImportError as e:
        raise SystemExit("fastslow: --dask needs Dask distributed (Debian: python3-distributed) in %s: %s"
                         % (_python(), e))
    cloudpickle.register_pickle_by_value(_tasks)
    try:
        client = Client(address, timeout=20)
    except Exception as e:
        raise SystemExit("fastslow: cannot reach the Dask scheduler at %s: %s" % (address, e))
    try:
        answers = client.run(_tasks.probe, run, cli)
    except Exception as e:
        client.close()
        raise SystemExit("fastslow: the Dask workers could not run the check: %s" % e)
    if not answers:
        client.close()
        raise SystemExit("fastslow: the Dask scheduler at %s has no worker" % address)
    bad = {worker: problem for worker, problem in answers.items() if problem}
    if bad:
        client.close()
        worker, problem = sorted(bad.items())[0]
        raise SystemExit("fastslow: Dask worker %s %s; the run directory (--dir) must be on a filesystem "
                         "every worker shares, with Stasis at the same path" % (worker, problem))
    return client


def _python() -> str:
    import sys
    return sys.executable or "python3"


def submit(client: Any, cli: str, name: str, directory: str, log: str, timeout: float, started: str) -> Any:
    return client.submit(_tasks.check, cli, name, directory, log, timeout, started, pure=False)


def outcome(future: Any) -> Optional[_tasks.Outcome]:
    """The task's outcome once it is done (a task that failed: status -1 with why)."""
    if not future.done():
        return None
    try:
        code, timed_out, tail, where = future.result()
        return (int(code), bool(timed_out), str(tail), str(where))
    except Exception as e:
        return (-1, False, "the Dask task failed: %s: %s" % (type(e).__name__, e), "?")
