#!/usr/bin/env python3
"""What one fast/slow mark costs the program (issue #14): a small Python process
(about 30 MiB) under `stasis launch` calls stasis.checkpoint(wait=False), as every
mark does, N times in a loop; the program times each call (request to release),
then the coordinator's event log gives where the time went, per checkpoint:
  - the program's view: first call (full image) and the others (incremental);
  - the coordinator's steps (plugin events and core steps, median ms over the
    incremental checkpoints), from `stasis events --json`;
  - "outside the steps": the program's time minus the steps before the release
    (the request's round trip, the thread start, the gate, the agent's wake-up).
Figures, not assertions; print the load with them.

usage: bench/mark_cost.py [--marks N] [--mib M]
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
PYTHON = "/usr/bin/python3" if os.access("/usr/bin/python3", os.X_OK) else sys.executable
HOME = os.environ.get("STASIS_HOME") or os.path.join(REPO, "dist")
CLI = os.path.join(HOME, "bin", "stasis")

PROGRAM = r"""
import json, os, sys, time
import stasis
ballast = bytearray(os.urandom(1 << 20)) * %(mib)d
times = []
for i in range(%(marks)d):
    ballast[i * 4096] = i & 0xff               # a page or two changes between marks, as in a loop
    began = time.monotonic()
    stasis.checkpoint(wait=False)
    times.append(time.monotonic() - began)
    time.sleep(%(gap)f)
print(json.dumps(times))
"""

# the steps before the program's release, in order
BEFORE_RELEASE = ("preCheckpoint", "core:suspend", "drain", "core:write", "core:release")


def load() -> str:
    with open("/proc/loadavg") as f:
        return "load %s" % " ".join(f.read().split()[:3])


def stasis(env, *args, check=True):
    done = subprocess.run([CLI, *args], stdin=subprocess.DEVNULL, capture_output=True, text=True, env=env)
    if check and done.returncode != 0:
        sys.exit("mark_cost: stasis %s failed: %s" % (" ".join(args), done.stderr.strip()[-400:]))
    return done


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--marks", type=int, default=20)
    p.add_argument("--mib", type=int, default=30, help="ballast of the process (default 30 MiB)")
    p.add_argument("--gap", type=float, default=0.05, help="seconds between marks (default 0.05)")
    args = p.parse_args()
    with tempfile.TemporaryDirectory(prefix="mark-cost-") as work:
        env = dict(os.environ, STASIS_HOME=HOME, STASIS_RUNTIME_DIR=os.path.join(work, "rt"),
                   PYTHONPATH=os.pathsep.join(filter(None, [os.path.join(HOME, "python"),
                                                            os.environ.get("PYTHONPATH")])))
        os.mkdir(env["STASIS_RUNTIME_DIR"], 0o700)
        name = "markcost-%d" % os.getpid()
        prog = os.path.join(work, "prog.py")
        with open(prog, "w") as f:
            f.write(PROGRAM % {"mib": args.mib, "marks": args.marks, "gap": args.gap})
        try:
            done = subprocess.run([CLI, "launch", "--name", name, "--keep-coordinator", "--ckpt-dir",
                                   os.path.join(work, "ckpt"), "--", PYTHON, prog], stdin=subprocess.DEVNULL,
                                  capture_output=True, text=True, env=env)
            if done.returncode != 0:
                sys.exit("mark_cost: the program failed: %s" % done.stderr.strip()[-600:])
            times = json.loads(done.stdout.strip().splitlines()[-1])
            events = json.loads(stasis(env, "events", "--name", name, "-n", "2000", "--json").stdout)
        finally:
            stasis(env, "shutdown", "--name", name, check=False)
        report(args, times, events)


def entries(events):
    return events if isinstance(events, list) else events.get("entries", events.get("events", []))


def report(args, times, events):
    per = {}                                       # checkpoint id -> step -> ms
    order = []
    for e in entries(events):
        op, step = str(e.get("operation", "")), str(e.get("step", ""))
        if not op or op.endswith("-restart"):
            continue
        if op not in per:
            per[op] = {}
            order.append(op)
        key = step if step.startswith("core:") else step
        if e.get("actor") not in (None, "core") and not step.startswith("core:"):
            key = "%s/%s" % (step, e.get("actor"))
        per[op][key] = per[op].get(key, 0) + int(e.get("millis", 0))
    ckpts = [op for op in order if "core:suspend" in per[op]]
    print("mark cost: %d x stasis.checkpoint(wait=False), %d MiB process, %.2f s apart (%s)"
          % (len(times), args.mib, args.gap, load()))
    print("  program's view: first (full) %.1f ms; others median %.1f ms, mean %.1f ms, max %.1f ms"
          % (1000 * times[0], 1000 * statistics.median(times[1:]), 1000 * statistics.mean(times[1:]),
             1000 * max(times[1:])))
    if len(ckpts) < 2:
        print("  (no step timings in the event log)")
        return
    rest = [per[op] for op in ckpts[1:]]
    keys = sorted({k for r in rest for k in r}, key=lambda k: -statistics.median([r.get(k, 0) for r in rest]))
    print("  coordinator's steps, median ms over the incremental checkpoints:")
    for k in keys:
        values = [r.get(k, 0) for r in rest]
        if max(values) == 0:
            continue
        print("    %-40s %6.1f   (max %d)" % (k, statistics.median(values), max(values)))
    before = [sum(v for k, v in r.items() if k.split("/")[0] in BEFORE_RELEASE) for r in rest]
    print("  steps before the release (preCheckpoint, suspend, drain, write, release): median %.1f ms"
          % statistics.median(before))
    print("  outside the steps (request, gate, wake-up; the program's median minus that): %.1f ms"
          % (1000 * statistics.median(times[1:]) - statistics.median(before)))


if __name__ == "__main__":
    main()
