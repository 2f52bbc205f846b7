"""One interval check as a self-contained task (internal): restart a checkpoint as a
checker and wait for it, with a timeout. Standard library only, so that Dask can ship
these functions to its workers by value (no stasis package needed there, only the
Stasis distribution at the same path and the run directory on a shared filesystem).
"""

import os
import signal
import socket
import subprocess
import time
from typing import Callable, List, Optional, Tuple

Outcome = Tuple[int, bool, str, str]
"""(exit status of ``stasis restart``, timed out?, the last lines of its output, where
it ran: host:pid of the process that ran the task)."""


def _tail(log: str, lines: int = 4) -> str:
    try:
        with open(log, "rb") as f:
            f.seek(0, os.SEEK_END)
            f.seek(max(0, f.tell() - 4096))
            text = f.read().decode("utf-8", "replace")
    except OSError:
        return ""
    return "\n".join([line for line in text.splitlines() if line.strip()][-lines:])


def start(cli: str, name: str, directory: str, log: str, keep: bool = False,
          before: Optional[Callable[[], None]] = None) -> "subprocess.Popen[bytes]":
    """Starts ``stasis restart`` of ``directory`` under coordinator ``name`` (its own
    computation there), in its own session, output to ``log``. ``keep``: the
    coordinator stays when the checker ends (the driver shuts it down). ``before``:
    runs in the child before the exec (its CPU priority)."""
    command = [cli, "restart", "--name", name] + (["--keep-coordinator"] if keep else []) + [directory]
    with open(log, "ab") as out:
        return subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True, preexec_fn=before)


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
    return (code, timed_out, _tail(log), "%s:%d" % (socket.gethostname(), os.getpid()))


def busy(outcome: Outcome, started: bool) -> bool:
    """The restart was refused because the coordinator was busy (another restart or a
    checkpoint), or another checker was starting the same coordinator: try again."""
    lines = outcome[2].splitlines()
    return (not started and outcome[0] != 0 and not outcome[1] and bool(lines)
            and ("busy" in lines[-1] or "cannot start coordinator" in lines[-1]))


def check(cli: str, name: str, directory: str, log: str, timeout: float, started: str) -> Outcome:
    """Runs one checker to its end (or kills it after ``timeout`` seconds); a restart
    refused by a busy coordinator is tried again (``started``: the file the checker
    writes once it runs)."""
    deadline = time.monotonic() + timeout
    for attempt in range(10):
        proc = start(cli, name, directory, log)
        while proc.poll() is None:
            if time.monotonic() > deadline:
                stop(proc)
                return finish(proc, log, True)
            time.sleep(0.05)
        outcome = finish(proc, log, False)
        if not busy(outcome, os.path.exists(started)) or time.monotonic() > deadline:
            break
        time.sleep(0.2 * (attempt + 1))
    return outcome


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
