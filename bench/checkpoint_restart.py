#!/usr/bin/env python3
"""Checkpoint and restart figures for a Python process holding N MiB of random bytes
with two threads (DESIGN.md, "Where the bar is"). Prints, per size, the median of
RUNS: checkpoint wall time (the whole `stasis checkpoint` command, which returns once the
checkpoint is durable and published), how long the program was paused (the longest gap
between its ticks: it runs on while the checkpoint is synced), the image size on
disk against resident memory, and the time from `stasis restart` to the program's
first output line after the restart. A restart checks each image's header and
tables (microseconds) and maps the pages lazily; checking every page against its
CRC32C is what `stasis verify` does, and its time is printed too (that is what full
verification would add to a restart). Figures, not assertions.

The checkpoints measured here are full ones (--full). With --incremental, a full
checkpoint and then an incremental one after the program rewrote CHANGE MiB (scattered
64 KiB blocks) of its data: time and image size of each, and their ratios.

usage: bench/checkpoint_restart.py [MiB ...]        (default: 100 1024; RUNS=3)
       bench/checkpoint_restart.py --tree             16 processes x 64 MiB against 1 x 1024 MiB:
                                                      the difference is the cost of coordination
       bench/checkpoint_restart.py --incremental [MiB [CHANGE]]   (default: 1024 10)
       bench/checkpoint_restart.py --rewrite [MiB]    (default: 1024) a program that rewrites all its
                                                      memory pass after pass: its pass time without and
                                                      during a checkpoint (the copy-on-write faults of
                                                      the snapshot, plus the pause)"""
import contextlib
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
STASIS = os.path.join(REPO, "bin", "stasis")
RUNS = int(os.environ.get("RUNS", "3"))
TICK = re.compile(r"tick (?:(\d+) )?\d+ (\d+\.\d+)")

TREE_PROGRAM = r"""
import os, sys, time
mib, processes = int(sys.argv[1]), int(sys.argv[2])
for _ in range(processes - 1):
    if os.fork() == 0:
        break
data = bytearray(os.urandom(mib << 20))
print("ready", os.getpid(), flush=True)
n = 0
while True:
    n += 1
    print("tick", os.getpid(), n, time.monotonic(), flush=True)
    time.sleep(0.005)
"""

PROGRAM = r"""
import os, sys, threading, time
data = bytearray(os.urandom(int(sys.argv[1]) << 20))
counts = [0, 0]
def count(i):
    while True:
        counts[i] += 1; time.sleep(0.01)
for i in (0, 1):
    threading.Thread(target=count, args=(i,), daemon=True).start()
print("ready", flush=True)
n = 0
while True:
    n += 1
    print("tick", n, time.monotonic(), flush=True)
    time.sleep(0.005)
"""


INCR_PROGRAM = r"""
import os, random, sys, time
data = bytearray(os.urandom(int(sys.argv[1]) << 20))
change, flag = int(sys.argv[2]), sys.argv[3]
print("ready", flush=True)
while True:
    if os.path.exists(flag):
        for _ in range((change << 20) // 65536):
            at = random.randrange(0, len(data) - 65536)
            data[at:at + 65536] = os.urandom(65536)
        os.unlink(flag)
        print("changed", flush=True)
    time.sleep(0.005)
"""

REWRITE_PROGRAM = r"""
import os, sys, time
n = int(sys.argv[1]) << 20
data = bytearray(os.urandom(n))
block = os.urandom(1 << 20)
print("ready", flush=True)
while True:
    t0 = time.monotonic()
    for at in range(0, n, 1 << 20):
        data[at:at + (1 << 20)] = block
    print("pass", t0, time.monotonic(), flush=True)
"""


def stasis(env, *args):
    out = subprocess.run([STASIS, *args], env=env, capture_output=True, text=True, timeout=600)
    if out.returncode != 0:
        sys.exit("bench: stasis %s failed: %s" % (" ".join(args), out.stderr.strip()))
    return out.stdout


def lines(path):
    with open(path, "rb") as f:
        return f.read().count(b"\n")


def wait_for(pred, timeout=300):
    deadline = time.time() + timeout
    while not pred():
        if time.time() > deadline:
            sys.exit("bench: timed out")
        time.sleep(0.001)


def longest_pause(path, offset):
    """the longest gap between two ticks of one process written after byte offset: how
    long the checkpoint held the program (ticks come every 5 ms otherwise)"""
    with open(path, "rb") as f:
        f.seek(offset)
        last, gap = {}, 0.0
        for line in f.read().decode(errors="replace").splitlines():
            # Only whole tick lines: the 16 processes of --tree share the output file, and a
            # line cut by another process's write (or by the restart) is not a tick.
            tick = TICK.fullmatch(line)
            if not tick:
                continue
            who, t = tick.group(1) or "", float(tick.group(2))
            if who in last:
                gap = max(gap, t - last[who])
            last[who] = t
    return gap


def count_ready(path):
    with open(path, "rb") as f:
        return f.read().count(b"ready")


def rss_bytes(env):
    status = stasis(env, "status", "--name", "bench", "--json")
    total = 0
    # each process is listed twice (under its computation and in "processes"): count it once
    for pid in set(re.findall(r'"hostPid" : (\d+)', status)):
        with open("/proc/%s/status" % pid) as f:
            total += int(re.search(r"VmRSS:\s+(\d+) kB", f.read()).group(1)) * 1024
    return total


@contextlib.contextmanager
def bench_computation(work, name, source):
    """a coordinator named bench in work/ with source written to work/name; yields (env, program, procs)
    and afterwards kills the computation, waits for procs (its launch and restart commands), stops it"""
    env = dict(os.environ, STASIS_RUNTIME_DIR=os.path.join(work, "run"))
    os.makedirs(env["STASIS_RUNTIME_DIR"], mode=0o700)
    program = os.path.join(work, name)
    with open(program, "w") as f:
        f.write(source)
    stasis(env, "coordinator", "--daemon", "--name", "bench", "--ckpt-dir", os.path.join(work, "ckpt"))
    procs = []
    try:
        yield env, program, procs
    finally:
        subprocess.run([STASIS, "kill", "--name", "bench"], env=env, capture_output=True)
        for p in procs:
            try:
                p.wait(timeout=30)
            except subprocess.TimeoutExpired:
                p.kill()
        subprocess.run([STASIS, "shutdown", "--name", "bench"], env=env, capture_output=True)
        time.sleep(1)


def measure(mib, work, processes=1):
    out = os.path.join(work, "out.txt")
    with bench_computation(work, "hold.py", PROGRAM if processes == 1 else TREE_PROGRAM) as (env, program, procs):
        with open(out, "ab") as sink:
            procs.append(subprocess.Popen([STASIS, "launch", "--name", "bench", "--", sys.executable, program, str(mib)]
                                          + ([str(processes)] if processes > 1 else []),
                                          env=env, stdout=sink, stderr=sink, stdin=subprocess.DEVNULL))
        wait_for(lambda: count_ready(out) >= processes and lines(out) > processes + 2)
        rss = rss_bytes(env)
        ckpt_times, pauses, sizes, restart_times = [], [], [], []
        checkpoint = None
        for _ in range(RUNS):
            offset = os.path.getsize(out)
            t0 = time.perf_counter()
            checkpoint = stasis(env, "checkpoint", "--name", "bench", "--full").strip().splitlines()[-1]
            ckpt_times.append(time.perf_counter() - t0)
            time.sleep(0.05)
            pauses.append(longest_pause(out, offset))
            sizes.append(sum(os.path.getsize(os.path.join(checkpoint, f)) for f in os.listdir(checkpoint)
                             if f.endswith(".img")))
        verify_times = []
        for _ in range(RUNS):
            t0 = time.perf_counter()
            stasis(env, "verify", "--name", "bench", checkpoint)
            verify_times.append(time.perf_counter() - t0)
        for _ in range(RUNS):
            stasis(env, "kill", "--name", "bench")
            procs[-1].wait(timeout=60)
            before = lines(out)
            t0 = time.perf_counter()
            with open(out, "ab") as sink:
                procs.append(subprocess.Popen([STASIS, "restart", "--name", "bench", checkpoint], env=env,
                                              stdout=sink, stderr=sink, stdin=subprocess.DEVNULL))
            wait_for(lambda: lines(out) > before)
            restart_times.append(time.perf_counter() - t0)
        label = "%5d MiB" % mib if processes == 1 else "%2d x %d MiB" % (processes, mib)
        print("%s: checkpoint %.3f s durable (program paused %.3f s; %.2f GB/s of resident %.0f MiB), "
              "image %.0f MiB (%.2f x resident), "
              "restart to first output %.3f s; full CRC32C verification %.3f s   [median of %d]" % (
                  label, statistics.median(ckpt_times), statistics.median(pauses),
                  rss / statistics.median(ckpt_times) / 1e9, rss / 2**20,
                  statistics.median(sizes) / 2**20, statistics.median(sizes) / rss,
                  statistics.median(restart_times), statistics.median(verify_times), RUNS), flush=True)


def image_bytes(checkpoint):
    return sum(os.path.getsize(os.path.join(checkpoint, f)) for f in os.listdir(checkpoint) if f.endswith(".img"))


def measure_incremental(mib, change, work):
    """full checkpoint, CHANGE MiB rewritten, incremental checkpoint; RUNS times"""
    out, flag = (os.path.join(work, n) for n in ("out.txt", "change"))
    with bench_computation(work, "incr.py", INCR_PROGRAM) as (env, program, procs):
        with open(out, "ab") as sink:
            procs.append(subprocess.Popen([STASIS, "launch", "--name", "bench", "--", sys.executable, program, str(mib),
                                           str(change), flag], env=env, stdout=sink, stderr=sink,
                                          stdin=subprocess.DEVNULL))
        wait_for(lambda: count_ready(out) >= 1)
        full_t, full_b, incr_t, incr_b = [], [], [], []
        for _ in range(RUNS):
            t0 = time.perf_counter()
            full = stasis(env, "checkpoint", "--name", "bench", "--full").strip().splitlines()[-1]
            full_t.append(time.perf_counter() - t0)
            full_b.append(image_bytes(full))
            changed = open(out, "rb").read().count(b"changed")
            open(flag, "w").close()
            wait_for(lambda: open(out, "rb").read().count(b"changed") > changed)
            t0 = time.perf_counter()
            incr = stasis(env, "checkpoint", "--name", "bench").strip().splitlines()[-1]
            incr_t.append(time.perf_counter() - t0)
            incr_b.append(image_bytes(incr))
        ft, fb, it, ib = (statistics.median(v) for v in (full_t, full_b, incr_t, incr_b))
        print("%5d MiB, %d MiB rewritten: full checkpoint %.3f s, image %.0f MiB; incremental %.3f s, image %.1f MiB"
              " (%.1f%% of the time, %.1f%% of the size)   [median of %d]" % (
                  mib, change, ft, fb / 2**20, it, ib / 2**20, 100 * it / ft, 100 * ib / fb, RUNS), flush=True)


def passes(path):
    """[(start, end)] of the rewrite passes, in order"""
    with open(path, "rb") as f:
        return [(float(a), float(b)) for a, b in re.findall(rb"^pass (\d+\.\d+) (\d+\.\d+)$", f.read(), re.M)]


def measure_rewrite(mib, work):
    """a program rewriting its mib MiB pass after pass: pass times without and during a checkpoint"""
    out = os.path.join(work, "out.txt")
    with bench_computation(work, "rewrite.py", REWRITE_PROGRAM) as (env, program, procs):
        with open(out, "ab") as sink:
            procs.append(subprocess.Popen([STASIS, "launch", "--name", "bench", "--", sys.executable, program,
                                           str(mib)], env=env, stdout=sink, stderr=sink, stdin=subprocess.DEVNULL))
        wait_for(lambda: len(passes(out)) >= 4)
        quiet, during, ckpt = [], [], []
        for _ in range(RUNS):
            before = len(passes(out))
            wait_for(lambda: len(passes(out)) >= before + 2)
            quiet += [b - a for a, b in passes(out)[before:before + 2]]
            t0, m0 = time.perf_counter(), time.monotonic()
            stasis(env, "checkpoint", "--name", "bench", "--full")
            ckpt.append(time.perf_counter() - t0)
            m1 = time.monotonic()
            n = len(passes(out))
            wait_for(lambda: len(passes(out)) >= n + 2)
            # the passes that overlap the checkpoint (its pause, the snapshot's writing)
            over = [b - a for a, b in passes(out) if b > m0 and a < m1 + 0.5]
            during.append(max(over))
        q = statistics.median(quiet)
        print("%5d MiB rewritten pass after pass: pass %.3f s without a checkpoint, longest pass during one "
              "%.3f s (+%.3f s: pause and copy-on-write faults), checkpoint %.3f s durable   [median of %d]" % (
                  mib, q, statistics.median(during), statistics.median(during) - q, statistics.median(ckpt), RUNS),
              flush=True)


def main():
    if sys.argv[1:2] == ["--rewrite"]:
        work = tempfile.mkdtemp(prefix="stasis-bench-")
        try:
            measure_rewrite(int(sys.argv[2]) if len(sys.argv) > 2 else 1024, work)
        finally:
            shutil.rmtree(work, ignore_errors=True)
        return
    if sys.argv[1:2] == ["--incremental"]:
        rest = [int(a) for a in sys.argv[2:]]
        mib, change = (rest + [1024, 10][len(rest):])[:2]
        work = tempfile.mkdtemp(prefix="stasis-bench-")
        try:
            measure_incremental(mib, change, work)
        finally:
            shutil.rmtree(work, ignore_errors=True)
        return
    if sys.argv[1:] == ["--tree"]:
        runs = [(1024, 1), (64, 16)]
    else:
        runs = [(int(a), 1) for a in sys.argv[1:]] or [(100, 1), (1024, 1)]
    for mib, processes in runs:
        work = tempfile.mkdtemp(prefix="stasis-bench-")
        try:
            measure(mib, work, processes)
        finally:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
