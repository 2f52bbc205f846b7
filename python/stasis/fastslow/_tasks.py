"""One interval check as a self-contained task (internal): restart a checkpoint as a
checker and wait for it, with a timeout. Standard library only, so that Dask can ship
these functions to its workers by value (no stasis package needed there, only the
Stasis distribution at the same path and the run directory on a shared filesystem).
"""

import os
import signal
import subprocess
import time
from typing import List, Tuple

Outcome = Tuple[int, bool, str]
"""(exit status of ``stasis restart``, timed out?, the last lines of its output)."""


def _tail(log: str, lines: int = 4) -> str:
    try:
        with open(log, "rb") as f:
            f.seek(0, os.SEEK_END)
            f.seek(max(0, f.tell() - 4096))
            text = f.read().decode("utf-8", "replace")
    except OSError:
        return ""
    return "\n".join([line for line in text.splitlines() if line.strip()][-lines:])


def start(cli: str, name: str, directory: str, log: str) -> "subprocess.Popen[bytes]":
    """Starts ``stasis restart`` of ``directory`` in its own session, output to ``log``."""
    with open(log, "ab") as out:
        return subprocess.Popen([cli, "restart", "--name", name, directory], stdin=subprocess.DEVNULL,
                                stdout=out, stderr=subprocess.STDOUT, start_new_session=True)


def stop(proc: "subprocess.Popen[bytes]") -> None:
    """Kills a checker: its restart front and everything in its session (the restored
    computation lives in the front's pid namespace and dies with it)."""
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except OSError:
        pass
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        pass


def finish(proc: "subprocess.Popen[bytes]", log: str, timed_out: bool) -> Outcome:
    code = proc.returncode if proc.returncode is not None else -9
    return (code, timed_out, _tail(log))


def check(cli: str, name: str, directory: str, log: str, timeout: float) -> Outcome:
    """Runs one checker to its end (or kills it after ``timeout`` seconds)."""
    proc = start(cli, name, directory, log)
    deadline = time.monotonic() + timeout
    while proc.poll() is None:
        if time.monotonic() > deadline:
            stop(proc)
            return finish(proc, log, True)
        time.sleep(0.05)
    return finish(proc, log, False)


def probe(run: str, cli: str) -> str:
    """On a worker: "" if it can read the run directory's checkpoints and run the
    stasis command, else what is wrong."""
    problems: List[str] = []
    ckpt = os.path.join(run, "ckpt")
    if not os.path.isdir(ckpt) or not os.access(ckpt, os.R_OK | os.X_OK):
        problems.append("cannot read the checkpoint directory %s" % ckpt)
    if not os.access(os.path.join(run, "marks"), os.R_OK | os.W_OK | os.X_OK):
        problems.append("cannot write the run directory %s" % run)
    if not os.access(cli, os.X_OK):
        problems.append("no stasis command at %s" % cli)
    return "; ".join(problems)
