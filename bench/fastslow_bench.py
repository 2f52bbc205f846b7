#!/usr/bin/env python3
"""Fast/slow checking figures (issue #14) on the overflow sample (samples/fastslow).

Sizes the sample for about TARGET seconds of interpreted time (default 60): a short
interpreted run measures the rate, N (additions per interval, 12 intervals) is chosen
from it. Then prints, each with the load average it was taken at:
  - the interpreted time (the .pyx run as Python, as the checkers run it), measured at N;
  - the compiled run, plain python3 (no Stasis);
  - the compiled run under `stasis launch` without marks (the coordinator's start);
  - the fast run under `stasis fastslow` (13 marks, 13 checkpoints): its overhead over
    the run without marks, and the time the program spent inside mark() (its pauses);
  - the total wall time with K checkers (default 2) and its ratio to the interpreted time.
Figures, not assertions. Needs cython3 python3-dev gcc and a built dist/.

usage: bench/fastslow_bench.py [--target SECONDS] [--n N] [--checkers K]
"""
import argparse
import glob
import json
import os
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
PYTHON = os.environ.get("PYTHON") or ("/usr/bin/python3" if os.access("/usr/bin/python3", os.X_OK) else sys.executable)
HOME = os.environ.get("STASIS_HOME") or os.path.join(REPO, "dist")
CLI = os.path.join(HOME, "bin", "stasis")
INTERVALS = 12


def load() -> str:
    with open("/proc/loadavg") as f:
        return "load %s" % " ".join(f.read().split()[:3])


def timed(command, ok=(0,), **kw):
    """(seconds, CompletedProcess, load average after) of command."""
    began = time.monotonic()
    done = subprocess.run(command, stdin=subprocess.DEVNULL, capture_output=True, text=True, **kw)
    took = time.monotonic() - began
    if done.returncode not in ok:
        sys.exit("fastslow bench: %s failed (%d): %s" % (" ".join(command[:4]), done.returncode, done.stderr[-2000:]))
    return took, done, load()


def build(work):
    subprocess.run(["sh", os.path.join(REPO, "samples", "fastslow", "build.sh"), os.path.join(work, "fast")],
                   check=True, env=dict(os.environ, PYTHON=PYTHON))
    slow = os.path.join(work, "slow")
    os.makedirs(slow)
    sys.path.insert(0, os.path.join(REPO, "python"))
    from stasis.fastslow._pyx import to_python          # the source as a checker runs it
    with open(os.path.join(REPO, "samples", "fastslow", "overflow.pyx")) as f:
        source = to_python(f.read())
    with open(os.path.join(slow, "overflow.py"), "w") as f:
        f.write(source)
    with open(os.path.join(REPO, "samples", "fastslow", "main.py")) as f, \
            open(os.path.join(slow, "main.py"), "w") as g:
        g.write(f.read())


def size(work, target, env):
    """N for about `target` seconds interpreted, from a run of about 1-2 s."""
    n = 250_000
    while True:
        took, _, _ = timed([PYTHON, os.path.join(work, "slow", "main.py"), "overflow", str(n)], env=env)
        if took > 1.0 or n > 50_000_000:
            break
        n *= 4
    startup, _, _ = timed([PYTHON, os.path.join(work, "slow", "main.py"), "overflow", "12"], env=env)
    rate = n / max(took - startup, 0.01)              # additions per interval per second
    return max(1000, int(rate * (target - startup)))


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--target", type=float, default=60.0, help="interpreted seconds to size for (default 60)")
    p.add_argument("--n", type=int, help="additions per interval (default: sized for --target)")
    p.add_argument("--checkers", type=int, default=2)
    args = p.parse_args()
    env = dict(os.environ, STASIS_HOME=HOME, STASIS_PYTHON=PYTHON,
               PYTHONPATH=os.pathsep.join(filter(None, [os.path.join(HOME, "python"), os.environ.get("PYTHONPATH")])))
    with tempfile.TemporaryDirectory(prefix="fastslow-bench-") as work:
        env["STASIS_RUNTIME_DIR"] = os.path.join(work, "rt")      # the coordinators' files go with it
        os.mkdir(env["STASIS_RUNTIME_DIR"], 0o700)
        build(work)
        n = args.n or size(work, args.target, env)
        fast_main = os.path.join(work, "fast", "main.py")
        program = ["overflow", str(n)]
        print("fastslow bench: overflow sample, %d intervals x %d additions (%s)" % (INTERVALS, n, load()))
        slow, _, slow_load = timed([PYTHON, os.path.join(work, "slow", "main.py")] + program, env=env)
        plain, _, plain_load = timed([PYTHON, fast_main] + program, env=env)
        name = "fsbench-%d" % os.getpid()
        launch, _, launch_load = timed([CLI, "launch", "--name", name, "--", PYTHON, fast_main] + program, env=env)
        subprocess.run([CLI, "shutdown", "--name", name], stdin=subprocess.DEVNULL, capture_output=True, env=env)
        run = os.path.join(work, "run")
        wall, done, run_load = timed([CLI, "fastslow", "run", "--json", "--checkers", str(args.checkers),
                                      "--dir", run, "--", PYTHON, fast_main] + program, ok=(0, 1), env=env)
        report = json.loads(done.stdout)
        marks = [json.load(open(f)) for f in glob.glob(os.path.join(run, "marks", "*.json"))]
        paused = sum(m.get("paused", 0.0) for m in marks)
        fast = report["fast_seconds"]
        print("  interpreted (the source as Python):          %7.2f s   (%s)" % (slow, slow_load))
        print("  compiled, plain python3:                      %7.2f s   (%s)" % (plain, plain_load))
        print("  compiled, stasis launch, no marks:            %7.2f s   (%s)" % (launch, launch_load))
        print("  fast run, stasis fastslow, %2d marks:          %7.2f s   (%s)" % (len(marks), fast, run_load))
        print("    overhead of marks + checkpoints:            %+7.2f s = %.0f%% of the run without marks "
              "(%.0f%% of the plain run)" % (fast - launch, 100 * (fast - launch) / launch, 100 * (fast - plain) / plain))
        print("    time inside mark() (program paused):        %7.2f s   (%.3f s per mark)"
              % (paused, paused / max(1, len(marks))))
        print("  total wall, K=%d checkers:                     %7.2f s   = %.2f x the interpreted time"
              % (args.checkers, report["wall_seconds"], report["wall_seconds"] / slow))
        bad = [i for i in report["intervals"] if i["status"] != "ok"]
        print("  verdict: %s" % (", ".join("interval %d %s%s" % (i["interval"], i["status"], " (%s)" % i.get(
            "variable", "") if i["status"] == "mismatch" else "") for i in bad) or "all ok"))
        restarts = len(glob.glob(os.path.join(run, "checkers", "*.log")))
        stretches = {}
        for claim in glob.glob(os.path.join(run, "claims", "*")):
            with open(claim) as f:
                stretches.setdefault(int(f.read()), []).append(int(os.path.basename(claim)))
        print("  checker restarts: %d for %d intervals; stretches checked: %s" % (
            restarts, len(report["intervals"]),
            ", ".join("%d-%d" % (min(v), max(v)) for _, v in sorted(stretches.items()))))


if __name__ == "__main__":
    main()
