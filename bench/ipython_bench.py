#!/usr/bin/python3
"""IPython figures (issue 11): an ipython3 session holding 200 MiB of random bytes, in
a pseudo-terminal (pexpect) under `stasis launch`. Targets: `%checkpoint` <= 0.3 s (from
Enter to the magic's answer), `stasis restart` to a working prompt <= 0.3 s (from
starting `stasis restart` to the prompt of the restored session, then to the answer of
its first command). Prints each run, the medians, the coordinator's own checkpoint
time and the load average. Figures, not assertions; run it un-niced on a quiet machine.

Usage: /usr/bin/python3 bench/ipython_bench.py [DIST]   (RUNS=5, MIB=200)
"""

import os
import re
import statistics
import sys
import time

import pexpect

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(REPO, "python", "tests", "ipython"))
from harness import Stasis  # noqa: E402
from terminal_scenario import ANSI, ipython_env  # noqa: E402

RUNS = int(os.environ.get("RUNS", "5"))
MIB = int(os.environ.get("MIB", "200"))


def spawn(stasis: Stasis, argv: list, env: dict, log) -> pexpect.spawn:
    child = pexpect.spawn(argv[0], argv[1:], env=env, encoding="utf-8", dimensions=(24, 160), timeout=120,
                          codec_errors="replace")
    child.logfile_read = log
    child.delaybeforesend = None                     # pexpect waits 50 ms before each send by default
    stasis.children.append(child.pid)
    return child


def one_run(stasis: Stasis, env: dict, log) -> tuple:
    child = spawn(stasis, stasis.launch_argv("/usr/bin/ipython3", "--colors=NoColor"), env, log)
    child.expect(r"In \[1\]:")
    child.send("import os; blob = os.urandom(%d << 20); print('MiB', len(blob) >> 20)\r" % MIB)
    child.expect(r"MiB %d" % MIB)
    child.expect(r"In \[2\]:")
    time.sleep(0.5)                                  # the prompt drawn, the session idle
    start = time.monotonic()
    child.send("%checkpoint\r")
    child.expect(r"checkpoint (\S+) at \d{4}-\d\d-\d\d \d\d:\d\d:\d\d")
    checkpoint = time.monotonic() - start
    ckpt_id = ANSI.sub("", child.match.group(1))
    child.expect(r"In \[3\]:")
    own = float(re.search(r"\((\d+\.\d+) s\)", stasis.cli("status")).group(1))
    directory = next(os.path.join(root, ckpt_id) for root, dirs, _ in os.walk(stasis.ckpt_dir) if ckpt_id in dirs)
    stasis.kill()
    child.expect(pexpect.EOF)
    start = time.monotonic()
    started = time.time()
    child = spawn(stasis, stasis.restart_argv(directory), env, log)
    child.expect("restored from checkpoint")
    said = time.monotonic() - start
    child.expect(r"In \[3\]:")
    prompt = time.monotonic() - start
    if os.environ.get("EVENTS") == "1":
        print("stasis restart started at %s.%03dZ, 'restored from checkpoint' at +%.3f s, prompt at +%.3f s"
              % (time.strftime("%H:%M:%S", time.gmtime(started)), int(started * 1000) % 1000, said, prompt), flush=True)
    child.send("print('MiB', len(blob) >> 20)\r")
    child.expect(r"MiB %d" % MIB)
    answer = time.monotonic() - start
    if os.environ.get("EVENTS") == "1":             # where the time went, step by step
        print("\n".join(stasis.cli("events", "-n", "60").splitlines()[-22:]), flush=True)
    stasis.kill()
    child.expect(pexpect.EOF)
    return checkpoint, own, prompt, answer


def main() -> None:
    dist = sys.argv[1] if len(sys.argv) > 1 else None
    print("load average %.2f %.2f %.2f, %d cores" % (os.getloadavg() + (os.cpu_count() or 0,)), flush=True)
    rows = []
    with Stasis("ipybench", dist=dist) as stasis:
        env = ipython_env(stasis, os.path.join(stasis.temp, "ipythondir"))
        with open(os.path.join(stasis.temp, "terminal.log"), "a") as log:
            for n in range(RUNS):
                row = one_run(stasis, env, log)
                rows.append(row)
                print("run %d: %%checkpoint %.3f s (coordinator %.3f s); restart to prompt %.3f s, to the first"
                      " answer %.3f s; load %.2f" % ((n + 1,) + row + (os.getloadavg()[0],)), flush=True)
    med = [statistics.median(column) for column in zip(*rows)]
    print("session holding %d MiB, median of %d: %%checkpoint %.3f s (target <= 0.3 s; coordinator %.3f s),"
          " stasis restart to a working prompt %.3f s (target <= 0.3 s; first answer %.3f s)"
          % ((MIB, RUNS) + tuple(med)))
    print("load average %.2f %.2f %.2f" % os.getloadavg())


if __name__ == "__main__":
    main()
