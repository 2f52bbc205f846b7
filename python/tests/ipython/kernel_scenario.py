"""A Jupyter kernel under Stasis, driven from outside (IPythonKernelIT).

`stasis launch -- python3 -m ipykernel_launcher -f conn.json`; a
jupyter_client.BlockingKernelClient outside the computation:
1. x = 41; `stasis checkpoint`; kill; `stasis restart`; a new client with the same
   connection file executes x + 1 and gets 42.
2. A checkpoint while a cell runs: the cell finishes in the original; after kill and
   restart of that checkpoint the restored kernel finishes it too.
3. %checkpoint in the kernel, %restore back and forth twice between two checkpoints.

Usage: /usr/bin/python3 kernel_scenario.py [DIST]
"""

import os
import re
import sys
import time
from typing import Any, Dict, Optional

from jupyter_client import BlockingKernelClient
from jupyter_client.connect import write_connection_file

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import Stasis, check, main, step, wait_for  # noqa: E402


def client(conn: str, limit: float = 90) -> BlockingKernelClient:
    """A new client, once the kernel answers (wait_for_ready gives up after one second
    without heartbeat: a kernel that still starts looks dead to it, so try again)."""
    deadline = time.monotonic() + limit
    while True:
        c = BlockingKernelClient(connection_file=conn)
        c.load_connection_file()
        c.start_channels()
        try:
            c.wait_for_ready(timeout=30)
            return c
        except RuntimeError:
            c.stop_channels()
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)


def execute(c: BlockingKernelClient, code: str, timeout: float = 60) -> Dict[str, Any]:
    """Runs code; returns {'status', 'result' (text/plain or None), 'stdout'}."""
    out: Dict[str, Any] = {"result": None, "stdout": ""}

    def output(msg: Dict[str, Any]) -> None:
        kind, content = msg["msg_type"], msg["content"]
        if kind == "execute_result":
            out["result"] = content["data"].get("text/plain")
        elif kind == "stream":
            out["stdout"] += content["text"]

    reply = c.execute_interactive(code, timeout=timeout, output_hook=output)
    out["status"] = reply["content"]["status"]
    if out["status"] != "ok":
        out["error"] = "%s: %s" % (reply["content"].get("ename"), reply["content"].get("evalue"))
    return out


def value(c: BlockingKernelClient, expr: str) -> Optional[str]:
    r = execute(c, expr)
    check(r["status"] == "ok", "%s: %s" % (expr, r))
    return r["result"]


class Kernel:
    def __init__(self, stasis: Stasis) -> None:
        self.stasis = stasis
        self.env = dict(stasis.env)
        self.env.update(IPYTHONDIR=os.path.join(stasis.temp, "ipythondir"),
                        JUPYTER_RUNTIME_DIR=os.path.join(stasis.temp, "jupyter-runtime"))
        startup = os.path.join(stasis.temp, "user_startup.py")
        with open(startup, "w") as f:
            f.write("user_startup_ran = 'yes'\n")
        self.env["PYTHONSTARTUP"] = startup         # the user's own: still runs after the extension
        stasis.env = self.env
        self.conn = os.path.join(stasis.temp, "kernel.json")
        write_connection_file(self.conn, ip="127.0.0.1")
        self.log = open(os.path.join(stasis.temp, "kernel.log"), "a")
        self.process = None

    def launch(self) -> None:
        self.process = self.stasis.popen(self.stasis.launch_argv(
            "/usr/bin/python3", "-m", "ipykernel_launcher", "-f", self.conn),
            stdout=self.log, stderr=self.log, stdin=open(os.devnull))

    def kill(self) -> None:
        self.stasis.kill()
        self.process.wait(timeout=60)

    def restart(self, checkpoint: str) -> None:
        self.process = self.stasis.popen(self.stasis.restart_argv(checkpoint),
                                         stdout=self.log, stderr=self.log, stdin=open(os.devnull))


def scenario() -> None:
    dist = sys.argv[1] if len(sys.argv) > 1 else None
    with Stasis("ipykernel", dist=dist) as stasis:
        kernel = Kernel(stasis)
        try:
            run(stasis, kernel)
        except Exception:
            kernel.log.flush()
            with open(kernel.log.name, errors="replace") as f:
                sys.stdout.write("---- kernel output (last 4000 chars):\n" + f.read()[-4000:] + "\n")
            raise


def run(stasis: Stasis, kernel: Kernel) -> None:
    kernel.launch()
    c = client(kernel.conn)
    check(value(c, "user_startup_ran") == "'yes'", "the user's PYTHONSTARTUP file did not run")
    check(value(c, "[n for n in dir() if n.startswith('_stasis')]") == "[]", "the extension left names behind")
    check(execute(c, "x = 41")["status"] == "ok", "x = 41")
    first = stasis.checkpoint()
    step("checkpoint " + os.path.basename(first))
    check(value(c, "x + 1") == "42", "the original kernel after the checkpoint")
    c.stop_channels()
    kernel.kill()
    kernel.restart(first)
    c = client(kernel.conn)
    got = value(c, "x + 1")
    check(got == "42", "x + 1 after restart: %r" % got)
    step("restarted kernel: x + 1 = 42")

    # a checkpoint while a cell runs
    msg = c.execute("import time\nfor i in range(40):\n    time.sleep(0.05)\ny = 'done %d' % i")
    time.sleep(0.6)
    busy = stasis.checkpoint()
    reply = c.get_shell_msg(timeout=60)
    check(reply["parent_header"]["msg_id"] == msg and reply["content"]["status"] == "ok",
          "the running cell after the checkpoint: %r" % reply["content"])
    check(value(c, "y") == "'done 39'", "y in the original")
    c.stop_channels()
    kernel.kill()
    kernel.restart(busy)
    c = client(kernel.conn)
    wait_for(lambda: value(c, "'y' in dir()") == "True", "the restored kernel to finish the running cell", 60)
    check(value(c, "y") == "'done 39'", "y after the restart")
    step("checkpoint while a cell runs")

    # %checkpoint / %restore in the kernel, back and forth twice
    r = execute(c, "%checkpoint --note k1")
    m = re.search(r"checkpoint (\S+) at", r["stdout"])
    check(m is not None, "%checkpoint in the kernel: " + repr(r))
    k1 = m.group(1)
    execute(c, "x = 100")
    r = execute(c, "%checkpoint --note k2")
    k2 = re.search(r"checkpoint (\S+) at", r["stdout"]).group(1)
    sessions = execute(c, "%sessions")["stdout"]
    check(k1 in sessions and k2 in sessions and "k1" in sessions, "%sessions in the kernel: " + sessions)
    for _ in range(2):
        for ckpt, expected in ((k1, "41"), (k2, "100")):
            c.execute("%restore " + ckpt)         # no reply: the kernel is replaced
            c.stop_channels()
            time.sleep(1.0)
            c = client(kernel.conn)
            wait_for(lambda: value(c, "x") == expected, "x == %s after %%restore %s" % (expected, ckpt), 60)
    step("%restore back and forth twice in the kernel")
    r = execute(c, "%restore nosuch-1")
    check("cannot restore nosuch-1" in r["stdout"], "%restore of an unknown id: " + repr(r))
    check(value(c, "x") == "100", "the session after a refused restore")
    c.stop_channels()


if __name__ == "__main__":
    main(scenario, "ipython_kernel")
