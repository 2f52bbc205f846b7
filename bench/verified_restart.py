#!/usr/bin/env python3
"""Restart to first output with and without page verification (issue #15, item 1):
a Python process holding N MiB of random bytes with two threads is checkpointed once,
then restarted RUNS times each way; prints the medians, page cache warm (the image
was just written or read) and cold (the image's pages dropped from the page cache
with POSIX_FADV_DONTNEED first), next to the time `stasis-restore --check` takes
(every page checksummed, nothing restored) and the time to read the image once with
O_DIRECT (the disk's speed). Figures, not assertions.

usage: bench/verified_restart.py [MiB]        (default: 1024; RUNS=3)"""
import mmap
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import checkpoint_restart as cr  # noqa: E402  (the same program and helpers)

RUNS = int(os.environ.get("RUNS", "3"))
RESTORE = os.path.join(cr.REPO, "dist", "bin", "stasis-restore")


def drop_cache(image):
    fd = os.open(image, os.O_RDONLY)
    try:
        os.fsync(fd)
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
    finally:
        os.close(fd)


def read_direct(image):
    """seconds to read the image once with O_DIRECT (1 MiB requests)"""
    fd = os.open(image, os.O_RDONLY | os.O_DIRECT)
    buf = mmap.mmap(-1, 1 << 20)
    try:
        t0 = time.perf_counter()
        while os.readv(fd, [buf]) > 0:
            pass
        return time.perf_counter() - t0
    finally:
        os.close(fd)
        buf.close()


def restart_once(env, checkpoint, out, procs, options, cold, image):
    if cold:
        drop_cache(image)
    before = cr.lines(out)
    t0 = time.perf_counter()
    with open(out, "ab") as sink:
        procs.append(subprocess.Popen([cr.STASIS, "restart", "--name", "bench", *options, checkpoint], env=env,
                                      stdout=sink, stderr=sink, stdin=subprocess.DEVNULL))
    cr.wait_for(lambda: cr.lines(out) > before)
    took = time.perf_counter() - t0
    cr.stasis(env, "kill", "--name", "bench")
    procs[-1].wait(timeout=60)
    return took


def check_once(image, cold):
    if cold:
        drop_cache(image)
    t0 = time.perf_counter()
    subprocess.run([RESTORE, "--check", image], check=True)
    return time.perf_counter() - t0


def measure(mib, work):
    env = dict(os.environ, STASIS_RUNTIME_DIR=os.path.join(work, "run"))
    os.makedirs(env["STASIS_RUNTIME_DIR"], mode=0o700)
    program = os.path.join(work, "hold.py")
    with open(program, "w") as f:
        f.write(cr.PROGRAM)
    out = os.path.join(work, "out.txt")
    cr.stasis(env, "coordinator", "--daemon", "--name", "bench", "--ckpt-dir", os.path.join(work, "ckpt"))
    procs = []
    try:
        with open(out, "ab") as sink:
            procs.append(subprocess.Popen([cr.STASIS, "launch", "--name", "bench", "--", sys.executable, program,
                                           str(mib)], env=env, stdout=sink, stderr=sink, stdin=subprocess.DEVNULL))
        cr.wait_for(lambda: cr.count_ready(out) >= 1 and cr.lines(out) > 3)
        checkpoint = cr.stasis(env, "checkpoint", "--name", "bench").strip().splitlines()[-1]
        cr.stasis(env, "kill", "--name", "bench")
        procs[-1].wait(timeout=60)
        image = [os.path.join(checkpoint, f) for f in os.listdir(checkpoint) if f.endswith(".img")][0]
        size = os.path.getsize(image)
        figures = {}
        for cold in (False, True):
            for label, options in (("verified", []), ("--no-verify", ["--no-verify"])):
                figures[(cold, label)] = statistics.median(
                    restart_once(env, checkpoint, out, procs, options, cold, image) for _ in range(RUNS))
            figures[(cold, "check")] = statistics.median(check_once(image, cold) for _ in range(RUNS))
        drop_cache(image)
        direct = read_direct(image)
        print("%d MiB image (%.0f MiB), restart to first output, median of %d:" % (mib, size / 2**20, RUNS))
        for cold in (False, True):
            print("  %s: verified %.3f s, --no-verify %.3f s (pages checked alone: stasis-restore --check %.3f s)" % (
                "page cache cold" if cold else "page cache warm", figures[(cold, "verified")],
                figures[(cold, "--no-verify")], figures[(cold, "check")]))
        print("  reading the image once with O_DIRECT: %.3f s (%.2f GB/s)" % (direct, size / direct / 1e9), flush=True)
    finally:
        subprocess.run([cr.STASIS, "kill", "--name", "bench"], env=env, capture_output=True)
        for p in procs:
            try:
                p.wait(timeout=30)
            except subprocess.TimeoutExpired:
                p.kill()
        subprocess.run([cr.STASIS, "shutdown", "--name", "bench"], env=env, capture_output=True)
        time.sleep(1)


def main():
    mib = int(sys.argv[1]) if len(sys.argv) > 1 else 1024
    work = tempfile.mkdtemp(prefix="stasis-bench-")
    try:
        measure(mib, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
