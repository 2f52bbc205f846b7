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
import datetime
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
    began = time.time()
    stasis.checkpoint(wait=False)
    times.append((began, time.time()))
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
        report(args, times, entries(events))


def entries(events):
    return events if isinstance(events, list) else events.get("entries", events.get("events", []))


def stamp(text):
    """An event's time (ISO 8601, nanoseconds, Z) as seconds since the epoch."""
    whole, _, frac = text.rstrip("Z").partition(".")
    return datetime.datetime.fromisoformat(whole).replace(tzinfo=datetime.timezone.utc).timestamp() + \
        float("0." + (frac or "0"))


# the program's view cut at the coordinator's steps: (name, the event that ends it)
PHASES = (("request, gate", "core:stage", "start"), ("stage", "core:stage", "end"),
          ("suspend", "core:suspend", "end"), ("drain", "drain", "end"), ("to the write", "core:write", "start"),
          ("write", "core:write", "end"), ("resume, release", "core:release", "end"))


def report(args, times, events):
    by_op = {}
    for e in events:
        by_op.setdefault(str(e.get("operation", "")), []).append(e)
    ops = sorted((op for op, es in by_op.items() if any(e["step"] == "core:suspend" for e in es)),
                 key=lambda op: min(stamp(e["time"]) for e in by_op[op]))
    print("mark cost: %d x stasis.checkpoint(wait=False), %d MiB process, %.2f s apart (%s)"
          % (len(times), args.mib, args.gap, load()))
    paused = [b - a for a, b in times]
    print("  program's view: first (full) %.1f ms; the others median %.1f ms, mean %.1f ms, max %.1f ms"
          % (1000 * paused[0], 1000 * statistics.median(paused[1:]), 1000 * statistics.mean(paused[1:]),
             1000 * max(paused[1:])))
    if len(ops) != len(times):
        print("  (%d checkpoints in the event log for %d calls: no breakdown)" % (len(ops), len(times)))
        return
    rows = {name: [] for name, _, _ in PHASES + (("wake-up", "", ""),)}
    parts = []
    for (began, ended), op in list(zip(times, ops))[1:]:
        es = by_op[op]
        at = began
        for name, step, edge in PHASES:
            mine = [e for e in es if e["step"] == step]
            if not mine:
                break
            t = max(stamp(e["time"]) for e in mine)
            if edge == "start":
                t = min(stamp(e["time"]) - e["millis"] / 1000 for e in mine)
            rows[name].append(1000 * (t - at))
            at = t
        rows["wake-up"].append(1000 * (ended - at))
        parts += [e["message"] for e in es if e["step"] == "core:suspend-parts"]
    print("  where it goes (median ms over the incremental ones; the program's clock against the event log's):")
    for name, values in rows.items():
        if values:
            print("    %-18s %6.1f   (max %.1f)" % (name, statistics.median(values), max(values)))
    if parts:
        print("  suspend, last one: %s" % parts[-1])


if __name__ == "__main__":
    main()
