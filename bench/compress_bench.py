#!/usr/bin/env python3
"""Compressed against plain checkpoints (`--compress zstd`, issue #15): a Python process
holding N MiB (default 1024) of one kind of data, with a ticker thread, checkpointed whole
(--full) RUNS times plain and RUNS times with zstd, then restarted from each. Prints per
kind and mode, medians: checkpoint wall time (`stasis checkpoint`, durable and published),
how long the program was paused (longest gap between its 5 ms ticks), throughput (page
data held / checkpoint time, and / pause), the CPU time the checkpointed process spent
meanwhile (its agent's writing and compressing, all threads: less sensitive to a loaded
machine than wall time), image size on disk, restart to first output and the CPU time
the restart took (the `stasis restart` process tree, killed right after its first output:
restorer, decompression, the program's first moments; median of the RUNS-1 restarts
killed that way).
Figures, not assertions; print `uptime` with them (the machine is shared).

Kinds of data (never zeros, which are not stored at all):
  text    log-like lines, a counter and a few fields changing: very compressible
  words   words of a 500-word vocabulary in random order: compressible, slow to compress
  random  os.urandom: incompressible (zstd stores it as it is)

usage: bench/compress_bench.py [MiB] [KIND ...]      (default: 1024 text words random; RUNS=3)"""
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

from checkpoint_restart import bench_computation   # same directory: the coordinator, program and cleanup

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
STASIS = os.path.join(REPO, "bin", "stasis")
RUNS = int(os.environ.get("RUNS", "3"))

PROGRAM = r"""
import os, random, sys, threading, time
mib, kind = int(sys.argv[1]), sys.argv[2]
size = mib << 20
data = bytearray(size)          # filled in place: no garbage of the making left in memory
if kind == "random":
    for at in range(0, size, 1 << 24):
        data[at:at + (1 << 24)] = os.urandom(min(1 << 24, size - at))
elif kind == "words":
    rng = random.Random(15)
    vocab = ["".join(rng.choice("abcdefghijklmnop") for _ in range(rng.randint(3, 9))) for _ in range(500)]
    # 8 MiB of random words, repeated: farther apart than a zstd window, so it compresses
    # as word text does, not as a repetition
    chunk = " ".join(rng.choice(vocab) for _ in range(1400000)).encode()[:8 << 20]
    for at in range(0, size, len(chunk)):
        data[at:at + len(chunk)] = chunk[:size - at]
    del chunk
else:
    n, at = 0, 0
    while at < size:
        block = b"".join(b"2026-12-03 13:%02d:%02d INFO worker-%d processed batch %d in %d ms status=ok\n" % (
            k // 60 % 60, k % 60, k % 16, k, k % 97) for k in range(n, n + 10000))
        n += 10000
        block = block[:size - at]
        data[at:at + len(block)] = block
        at += len(block)
    del block
print("ready", flush=True)
n = 0
while True:
    n += 1
    print("tick", n, time.monotonic(), flush=True)
    time.sleep(0.005)
"""


def stasis(env, *args):
    out = subprocess.run([STASIS, *args], env=env, capture_output=True, text=True, timeout=900)
    if out.returncode != 0:
        sys.exit("bench: stasis %s failed: %s" % (" ".join(args), out.stderr.strip()))
    return out.stdout


def lines(path):
    with open(path, "rb") as f:
        return f.read().count(b"\n")


def wait_for(pred, timeout=600):
    deadline = time.time() + timeout
    while not pred():
        if time.time() > deadline:
            sys.exit("bench: timed out")
        time.sleep(0.001)


def longest_pause(path, offset):
    with open(path, "rb") as f:
        f.seek(offset)
        last, gap = None, 0.0
        for line in f.read().decode(errors="replace").splitlines():
            parts = line.split()
            if len(parts) == 3 and parts[0] == "tick":
                t = float(parts[2])
                if last is not None:
                    gap = max(gap, t - last)
                last = t
    return gap


def cpu_seconds(pid):
    """user + system CPU of a process, all its threads (the agent's helpers included)"""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def reap_cpu(proc):
    """waits for a `stasis launch`/`restart` that was killed; -> the CPU seconds of its
    whole process tree (the restorer's threads and processes, then the program)"""
    _, _, ru = os.wait4(proc.pid, 0)
    proc.returncode = 0
    return ru.ru_utime + ru.ru_stime


def program_pid(env):
    status = stasis(env, "status", "--name", "bench", "--json")
    return int(re.findall(r'"hostPid" : (\d+)', status)[0])


def image_bytes(checkpoint):
    return sum(os.path.getsize(os.path.join(checkpoint, f)) for f in os.listdir(checkpoint) if f.endswith(".img"))


def measure(mib, kind, work):
    out = os.path.join(work, "out.txt")
    with bench_computation(work, "hold.py", PROGRAM) as (env, program, procs):
        with open(out, "ab") as sink:
            procs.append(subprocess.Popen([STASIS, "launch", "--name", "bench", "--", sys.executable, program, str(mib),
                                           kind], env=env, stdout=sink, stderr=sink, stdin=subprocess.DEVNULL))
        wait_for(lambda: b"ready" in open(out, "rb").read() and lines(out) > 3)
        data = mib << 20
        for mode in ("none", "zstd"):
            times, pauses, sizes, restarts, cpus, checkpoint = [], [], [], [], [], None
            pid = program_pid(env)
            for _ in range(RUNS):
                offset = os.path.getsize(out)
                c0, t0 = cpu_seconds(pid), time.perf_counter()
                checkpoint = stasis(env, "checkpoint", "--name", "bench", "--full", "--compress",
                                    mode).strip().splitlines()[-1]
                times.append(time.perf_counter() - t0)
                cpus.append(cpu_seconds(pid) - c0)
                time.sleep(0.05)
                pauses.append(longest_pause(out, offset))
                sizes.append(image_bytes(checkpoint))
            restart_cpus = []
            for run in range(RUNS):
                stasis(env, "kill", "--name", "bench")
                cpu = reap_cpu(procs[-1])
                if run > 0:   # a restart of this mode, killed right after its first output
                    restart_cpus.append(cpu)
                before = lines(out)
                t0 = time.perf_counter()
                with open(out, "ab") as sink:
                    procs.append(subprocess.Popen([STASIS, "restart", "--name", "bench", checkpoint], env=env,
                                                  stdout=sink, stderr=sink, stdin=subprocess.DEVNULL))
                wait_for(lambda: lines(out) > before)
                restarts.append(time.perf_counter() - t0)
            t, p, c = statistics.median(times), statistics.median(pauses), statistics.median(cpus)
            rc = statistics.median(restart_cpus) if restart_cpus else float("nan")
            print("%5d MiB %-6s %-4s: checkpoint %.3f s (%.2f GB/s), paused %.3f s (%.2f GB/s), program CPU %.2f s "
                  "(%.2f GB per CPU-second), image %.0f MiB (%.1f%%), restart to first output %.3f s "
                  "(restart CPU %.2f s)   [median of %d]" % (
                      mib, kind, mode, t, data / t / 1e9, p, data / p / 1e9 if p else 0, c, data / c / 1e9 if c else 0,
                      statistics.median(sizes) / 2**20, 100.0 * statistics.median(sizes) / data,
                      statistics.median(restarts), rc, RUNS), flush=True)


def main():
    args = sys.argv[1:]
    mib = int(args.pop(0)) if args and args[0].isdigit() else 1024
    kinds = args or ["text", "words", "random"]
    if any(k not in ("text", "words", "random") for k in kinds):
        sys.exit(__doc__)
    print("load: %s" % os.getloadavg().__repr__(), flush=True)
    for kind in kinds:
        work = tempfile.mkdtemp(prefix="stasis-bench-")
        try:
            measure(mib, kind, work)
        finally:
            shutil.rmtree(work, ignore_errors=True)
    print("load: %s" % os.getloadavg().__repr__(), flush=True)


if __name__ == "__main__":
    main()
