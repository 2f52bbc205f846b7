"""A coordinator of its own for an IPython scenario, through the real command line
(like distribution's Computation.java). Run with /usr/bin/python3: IPython, ipykernel,
ipyparallel, jupyter_client and pexpect are Debian's modules of the system Python.

Scenarios print ``STEP ...`` lines as they go and ``OK <name>`` at the end; any
failure raises (exit 1) with what was seen.
"""

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from typing import Callable, List, Optional

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", "..", ".."))


def step(text: str) -> None:
    print("STEP " + text, flush=True)


def check(condition: bool, what: str) -> None:
    if not condition:
        raise AssertionError(what)


def wait_for(predicate: Callable[[], bool], what: str, limit: float = 60.0) -> None:
    deadline = time.monotonic() + limit
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("timed out (%d s) waiting for %s" % (limit, what))
        time.sleep(0.1)


class Stasis:
    """A coordinator named ``name`` in a runtime dir of its own under ``temp``."""

    def __init__(self, name: str, dist: Optional[str] = None, temp: Optional[str] = None,
                 coordinator_prefix: Optional[List[str]] = None) -> None:
        self.dist = os.path.abspath(dist or os.environ.get("STASIS_DIST") or os.path.join(REPO, "dist"))
        self.stasis = os.path.join(self.dist, "bin", "stasis")
        temp = temp or os.environ.get("IPY_SCENARIO_TEMP") or None
        self.own_temp = temp is None
        self.temp = temp or tempfile.mkdtemp(prefix="stasis-ipy-")
        self.name = name
        self.run_dir = os.path.join(self.temp, "run")
        os.makedirs(self.run_dir, mode=0o700, exist_ok=True)
        os.chmod(self.run_dir, 0o700)
        self.ckpt_dir = os.path.join(self.temp, "checkpoints")
        self.env = dict(os.environ)
        self.env["STASIS_RUNTIME_DIR"] = self.run_dir
        for key in ("STASIS_AGENT_SOCKET", "STASIS_NAME", "STASIS_HOME", "STASIS_COMPUTATION", "LD_PRELOAD"):
            self.env.pop(key, None)
        out = self.cli("coordinator", "--daemon", "--name", name, "--ckpt-dir", self.ckpt_dir,
                       prefix=coordinator_prefix or [])
        self.coordinator_pid = int(out.split("(pid ")[1].split(",")[0])
        self.children: List[int] = []

    def cli(self, *args: str, ok: bool = True, timeout: float = 120, prefix: Optional[List[str]] = None) -> str:
        args_l = list(args)
        if args_l[0] not in ("coordinator",):
            args_l[1:1] = ["--name", self.name]
        r = subprocess.run(list(prefix or []) + [self.stasis] + args_l, env=self.env, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, timeout=timeout,
                           universal_newlines=True)
        if ok and r.returncode != 0:
            raise AssertionError("stasis %s: exit %d: %s" % (" ".join(args), r.returncode, r.stdout))
        return r.stdout

    def checkpoint(self, note: str = "") -> str:
        """Returns the published checkpoint's directory."""
        out = self.cli("checkpoint", *(["--note", note] if note else []))
        directory = out.strip().splitlines()[-1]
        check(os.path.isfile(os.path.join(directory, "manifest.json")), "no checkpoint: " + out)
        return directory

    def kill(self) -> None:
        self.cli("kill")

    def launch_argv(self, *command: str) -> List[str]:
        return [self.stasis, "launch", "--name", self.name, "--"] + list(command)

    def restart_argv(self, checkpoint: str) -> List[str]:
        return [self.stasis, "restart", "--name", self.name, checkpoint]

    def popen(self, argv: List[str], **kw: object) -> "subprocess.Popen[str]":
        p = subprocess.Popen(argv, env=self.env, universal_newlines=True, start_new_session=True, **kw)  # type: ignore[call-overload]
        self.children.append(p.pid)
        return p

    def close(self) -> None:
        self.cli("kill", ok=False)
        for pid in self.children:
            try:
                os.killpg(pid, signal.SIGKILL)        # only the groups we started
            except OSError:
                pass
        self.cli("shutdown", ok=False)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                os.kill(self.coordinator_pid, 0)
            except OSError:
                break
            time.sleep(0.1)
        else:
            try:
                os.kill(self.coordinator_pid, signal.SIGKILL)
            except OSError:
                pass
        if self.own_temp:
            shutil.rmtree(self.temp, ignore_errors=True)

    def __enter__(self) -> "Stasis":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def main(scenario: Callable[[], None], name: str) -> None:
    try:
        scenario()
    except Exception as e:
        import traceback
        traceback.print_exc()
        print("FAIL %s: %s" % (name, e), flush=True)
        sys.exit(1)
    print("OK " + name, flush=True)
