#!/usr/bin/env python3
"""Restart to first output and restart to a full pass over memory (issue #15, items 4
and 5), with the checkpoint's phase breakdown, next to CRIU when a working criu is on
PATH. A Python process holding N MiB of random bytes with two threads is checkpointed
(RUNS times: the median is printed, and the phases of the last one from `stasis events`),
then restarted once per way and page-cache state:

  lazy            --no-verify --no-prefetch: pages come in on first touch
  lazy+prefetch   --no-verify: the agent pages the image in once the program runs
  verified        --no-prefetch: every page read and checksummed before the program
                  runs (the eager read), then mapped
  verified+pf     the default: verified, then prefetched into the page tables

"cold": the image's pages dropped from the page cache first (a restart after a reboot or
much later); "warm": the image read once just before. After each restart the program
prints a line at once ("first output"), then reads every byte of its data (zlib.crc32)
and prints when done ("full pass"): both are timed from the start of `stasis restart`
(in parentheses the pass alone as the program saw it: wall and CPU time, page faults: on
a loaded machine the fault counts say more than the times). Two more restarts (lazy,
lazy+prefetch, cold) start the pass 2 s after the first output instead: the pass alone
then shows what the prefetch did meanwhile.
The load average (1 min) is printed next to every figure. Figures, not assertions.

usage: bench/restart_pass.py [MiB ...]        (default: 100 1024; RUNS=3 checkpoints)
       bench/restart_pass.py --tree [P MiB]   P processes x MiB (default 16 x 64): each
                                              checkpoint's time, pause and phases, and when
                                              each process's image was written"""
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import checkpoint_restart as cr  # noqa: E402  (helpers)

RUNS = int(os.environ.get("RUNS", "3"))
TICK = re.compile(r"tick \d+ \d+ \d+\.\d+")
WAYS = (("lazy", ["--no-verify", "--no-prefetch"]), ("lazy+prefetch", ["--no-verify"]),
        ("verified", ["--no-prefetch"]), ("verified+pf", []))
LATER = 2.0  # the "later" rows: the pass starts this long after the first output

PROGRAM = r"""
import os, resource, sys, threading, time, zlib
data = bytearray(os.urandom(int(sys.argv[1]) << 20))
trigger = sys.argv[2]
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
    if os.path.exists(trigger):
        with open(trigger) as f:
            delay = float(f.read() or 0)
        os.unlink(trigger)
        time.sleep(delay)
        t0, ru0, cpu0 = time.monotonic(), resource.getrusage(resource.RUSAGE_SELF), time.thread_time()
        crc = zlib.crc32(data)
        ru1 = resource.getrusage(resource.RUSAGE_SELF)
        print("passed %.3f %.3f %d %d %08x" % (time.monotonic() - t0, time.thread_time() - cpu0,
              ru1.ru_majflt - ru0.ru_majflt, ru1.ru_minflt - ru0.ru_minflt, crc), flush=True)
    time.sleep(0.005)
"""


def load():
    return "load %.2f" % os.getloadavg()[0]


def drop_cache(path):
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
    finally:
        os.close(fd)


def warm_cache(path):
    with open(path, "rb") as f:
        while f.read(8 << 20):
            pass


def phases(env, checkpoint_id):
    """the checkpoint's steps from the event log: [(step, actor, ms, message)], in order"""
    entries = json.loads(cr.stasis(env, "events", "--name", "bench", "--json", "-n", "400"))
    return [(e["step"], e["actor"], e["millis"], e.get("message", "")) for e in entries
            if e["operation"] == checkpoint_id]


def print_phases(steps):
    """suspend, drain, write (per process), fsync, publish, release"""
    per_process = [s for s in steps if s[0] == "core:write-process"]
    plugin = {}
    for step, actor, ms, _ in steps:
        if actor != "core":
            plugin[step] = plugin.get(step, 0) + ms
    parts = []
    for name, want in (("preCheckpoint (plugins)", "preCheckpoint"), ("suspend", "core:suspend"),
                       ("drain (plugins)", "drain"), ("write", "core:write"), ("write (plugins)", "write"),
                       ("release", "core:release"), ("fsync", "core:fsync"), ("publish", "core:publish")):
        ms = plugin.get(want) if not want.startswith("core:") else \
            sum(s[2] for s in steps if s[0] == want)
        if ms is not None:
            parts.append("%s %d ms" % (name, ms))
    print("    phases of the last checkpoint: " + ", ".join(parts))
    slow = ["%s %s %d ms" % (actor, step, ms) for step, actor, ms, _ in steps if actor != "core" and ms >= 50]
    if slow:
        print("    plugin steps of 50 ms or more: " + ", ".join(slow))
    if per_process:
        spans = [(int(m.group(1)), int(m.group(2))) for m in
                 (re.search(r"from \+(\d+) ms to \+(\d+) ms", s[3]) for s in per_process) if m]
        if spans:
            print("    images written per process (ms after the first began): " +
                  " ".join("%d-%d" % span for span in sorted(spans)))


def restart_once(env, checkpoint, image, out, trigger, procs, options, cold, delay=0.0):
    """-> (restart to first output, restart to the end of the pass, the pass alone) in seconds"""
    if cold:
        drop_cache(image)
    else:
        warm_cache(image)
    with open(trigger, "w") as f:
        f.write(str(delay))
    before = cr.lines(out)
    before_pass = passes(out)
    t0 = time.perf_counter()
    with open(out, "ab") as sink:
        procs.append(subprocess.Popen([cr.STASIS, "restart", "--name", "bench", *options, checkpoint], env=env,
                                      stdout=sink, stderr=sink, stdin=subprocess.DEVNULL))
    cr.wait_for(lambda: cr.lines(out) > before)
    first = time.perf_counter() - t0
    cr.wait_for(lambda: passes(out) > before_pass)
    full = time.perf_counter() - t0
    cr.stasis(env, "kill", "--name", "bench")
    procs[-1].wait(timeout=60)
    with open(out, "rb") as f:
        last = [line for line in f.read().decode(errors="replace").splitlines() if line.startswith("passed ")][-1]
    wall, cpu, major, minor = last.split()[1:5]
    return first, full, "the pass %s s, CPU %s s, %s major + %s minor faults" % (wall, cpu, major, minor)


def passes(path):
    with open(path, "rb") as f:
        return f.read().count(b"passed")


def stasis_figures(mib, work):
    env = dict(os.environ, STASIS_RUNTIME_DIR=os.path.join(work, "run"))
    os.makedirs(env["STASIS_RUNTIME_DIR"], mode=0o700)
    program, out, trigger = (os.path.join(work, n) for n in ("hold.py", "out.txt", "pass-now"))
    with open(program, "w") as f:
        f.write(PROGRAM)
    cr.stasis(env, "coordinator", "--daemon", "--name", "bench", "--ckpt-dir", os.path.join(work, "ckpt"))
    procs, figures = [], {}
    try:
        with open(out, "ab") as sink:
            procs.append(subprocess.Popen([cr.STASIS, "launch", "--name", "bench", "--", sys.executable, program,
                                           str(mib), trigger], env=env, stdout=sink, stderr=sink,
                                          stdin=subprocess.DEVNULL))
        cr.wait_for(lambda: cr.count_ready(out) >= 1 and cr.lines(out) > 3)
        times, checkpoint = [], None
        for _ in range(RUNS):
            t0 = time.perf_counter()
            checkpoint = cr.stasis(env, "checkpoint", "--name", "bench").strip().splitlines()[-1]
            times.append(time.perf_counter() - t0)
            time.sleep(0.05)
        image = [os.path.join(checkpoint, f) for f in os.listdir(checkpoint) if f.endswith(".img")][0]
        figures["checkpoint"] = "%.3f s (%s)" % (statistics.median(times), load())
        figures["image"] = "%.0f MiB" % (os.path.getsize(image) / 2**20)
        print("%d MiB: checkpoint %s durable, median of %d; image %s" % (mib, figures["checkpoint"], RUNS,
                                                                      figures["image"]), flush=True)
        print_phases(phases(env, os.path.basename(checkpoint)))
        cr.stasis(env, "kill", "--name", "bench")
        procs[-1].wait(timeout=60)
        for cold in (True, False):
            for label, options in WAYS:
                first, full, alone = restart_once(env, checkpoint, image, out, trigger, procs, options, cold)
                figures[(label, cold)] = (first, full, load())
                print("    %-14s page cache %s: restart to first output %.3f s, to a full pass %.3f s "
                      "(%s)  (%s)" % (label, "cold" if cold else "warm", first, full, alone,
                                                   figures[(label, cold)][2]), flush=True)
        for label, options in WAYS[:2]:   # a pass that starts later: what the prefetch did meanwhile
            first, full, alone = restart_once(env, checkpoint, image, out, trigger, procs, options, True, LATER)
            print("    %-14s page cache cold, pass %.0f s after the first output: %s  (%s)" % (
                label, LATER, alone, load()), flush=True)
    finally:
        subprocess.run([cr.STASIS, "kill", "--name", "bench"], env=env, capture_output=True)
        for p in procs:
            try:
                p.wait(timeout=30)
            except subprocess.TimeoutExpired:
                p.kill()
        subprocess.run([cr.STASIS, "shutdown", "--name", "bench"], env=env, capture_output=True)
        time.sleep(1)
    return figures


def criu_problem():
    """None if a working criu is on PATH, else why not"""
    criu = shutil.which("criu")
    if not criu:
        return "criu is not on PATH"
    check = subprocess.run([criu, "check"], capture_output=True, text=True, timeout=60)
    if check.returncode != 0:
        lines = (check.stderr or check.stdout).strip().splitlines()
        return "criu check failed: " + (lines[-1] if lines else "exit %d" % check.returncode)
    return None


def criu_figures(mib, work):
    """the same program under criu: dump (leave it running, then kill), restore --restore-detached
    with cold and warm page cache. Only run when `criu check` passes (not on the machine this was
    written on: Debian's criu 3.17 fails there), so less tried than the Stasis side."""
    program, out, trigger = (os.path.join(work, n) for n in ("hold.py", "out.txt", "pass-now"))
    with open(program, "w") as f:
        f.write(PROGRAM)
    images = os.path.join(work, "criu")
    os.makedirs(images)
    figures = {}
    with open(out, "ab") as sink:
        proc = subprocess.Popen(["setsid", sys.executable, program, str(mib), trigger], stdout=sink, stderr=sink,
                                stdin=subprocess.DEVNULL)
    try:
        cr.wait_for(lambda: cr.count_ready(out) >= 1 and cr.lines(out) > 3)
        t0 = time.perf_counter()
        subprocess.run(["criu", "dump", "-t", str(proc.pid), "-D", images, "--shell-job"], check=True,
                       capture_output=True)
        subprocess.run(["sync", "-f", images], check=True)
        figures["checkpoint"] = "%.3f s (%s)" % (time.perf_counter() - t0, load())
        proc.wait(timeout=30)
        size = sum(os.path.getsize(os.path.join(images, n)) for n in os.listdir(images))
        figures["image"] = "%.0f MiB" % (size / 2**20)
        for cold in (True, False):
            for name in os.listdir(images):
                (drop_cache if cold else warm_cache)(os.path.join(images, name))
            with open(trigger, "w"):
                pass
            before, before_pass = cr.lines(out), passes(out)
            t0 = time.perf_counter()
            subprocess.run(["criu", "restore", "-D", images, "--shell-job", "--restore-detached",
                            "--pidfile", os.path.join(work, "pid")], check=True, capture_output=True)
            cr.wait_for(lambda: cr.lines(out) > before)
            first = time.perf_counter() - t0
            cr.wait_for(lambda: passes(out) > before_pass)
            figures[("criu", cold)] = (first, time.perf_counter() - t0, load())
            with open(os.path.join(work, "pid")) as f:
                os.kill(int(f.read()), 9)
            time.sleep(0.5)
    finally:
        if proc.poll() is None:
            proc.kill()
    return figures


def table(mib, ours, theirs, why_not):
    print("\n%d MiB, Stasis vs CRIU (restart rows: first output / full pass; cold and warm page cache)" % mib)
    print("  %-34s %-28s %s" % ("", "Stasis", "CRIU"))
    na = "unavailable (%s)" % why_not if why_not else None
    print("  %-34s %-28s %s" % ("checkpoint (durable)", ours["checkpoint"], na or theirs["checkpoint"]))
    print("  %-34s %-28s %s" % ("image size", ours["image"], na or theirs["image"]))
    for cold in (True, False):
        for label, _ in WAYS:
            first, full, ld = ours[(label, cold)]
            other = na or "%.3f s / %.3f s (%s)" % theirs[("criu", cold)] if label == "verified" else ""
            print("  %-34s %-28s %s" % ("restart %s, %s" % (label, "cold" if cold else "warm"),
                                        "%.3f s / %.3f s (%s)" % (first, full, ld), other))


def longest_pause(path, offset):
    """as checkpoint_restart.longest_pause, skipping lines that several processes' output
    mixed up"""
    with open(path, "rb") as f:
        f.seek(offset)
        last, gap = {}, 0.0
        for line in f.read().decode(errors="replace").splitlines():
            if not TICK.fullmatch(line):
                continue
            parts = line.split()
            who, t = parts[1], float(parts[3])
            if who in last and 0 <= t - last[who] < 60:
                gap = max(gap, t - last[who])
            last[who] = t
    return gap


def tree_figures(processes, mib, work):
    """processes x mib MiB (checkpoint_restart.py's tree program): checkpoint time, longest
    pause and the phases, per process when each image was written"""
    env = dict(os.environ, STASIS_RUNTIME_DIR=os.path.join(work, "run"))
    os.makedirs(env["STASIS_RUNTIME_DIR"], mode=0o700)
    program, out = os.path.join(work, "tree.py"), os.path.join(work, "out.txt")
    with open(program, "w") as f:
        f.write(cr.TREE_PROGRAM)
    cr.stasis(env, "coordinator", "--daemon", "--name", "bench", "--ckpt-dir", os.path.join(work, "ckpt"))
    procs = []
    try:
        with open(out, "ab") as sink:
            procs.append(subprocess.Popen([cr.STASIS, "launch", "--name", "bench", "--", sys.executable, program,
                                           str(mib), str(processes)], env=env, stdout=sink, stderr=sink,
                                          stdin=subprocess.DEVNULL))
        cr.wait_for(lambda: cr.count_ready(out) >= processes and cr.lines(out) > processes + 2)
        times, pauses, checkpoint = [], [], None
        for _ in range(RUNS):
            offset = os.path.getsize(out)
            t0 = time.perf_counter()
            checkpoint = cr.stasis(env, "checkpoint", "--name", "bench").strip().splitlines()[-1]
            times.append(time.perf_counter() - t0)
            time.sleep(0.05)
            pauses.append(longest_pause(out, offset))
            print("  %d x %d MiB: checkpoint %.3f s durable, program paused %.3f s  (%s)" % (
                processes, mib, times[-1], pauses[-1], load()), flush=True)
            print_phases(phases(env, os.path.basename(checkpoint)))
        print("%d x %d MiB: checkpoint %.3f s, pause %.3f s   [median of %d]" % (
            processes, mib, statistics.median(times), statistics.median(pauses), RUNS), flush=True)
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
    if sys.argv[1:2] == ["--tree"]:
        processes, mib = (int(a) for a in (sys.argv[2:4] if len(sys.argv) >= 4 else (16, 64)))
        work = tempfile.mkdtemp(prefix="stasis-bench-")
        try:
            tree_figures(processes, mib, work)
        finally:
            shutil.rmtree(work, ignore_errors=True)
        return
    sizes = [int(a) for a in sys.argv[1:]] or [100, 1024]
    why_not = criu_problem()
    for mib in sizes:
        work = tempfile.mkdtemp(prefix="stasis-bench-")
        try:
            ours = stasis_figures(mib, work)
        finally:
            shutil.rmtree(work, ignore_errors=True)
        theirs = {}
        if not why_not:
            work = tempfile.mkdtemp(prefix="stasis-bench-criu-")
            try:
                theirs = criu_figures(mib, work)
            except (subprocess.CalledProcessError, OSError) as e:
                why_not = "criu failed: %s" % (getattr(e, "stderr", b"") or str(e))[-200:]
            finally:
                shutil.rmtree(work, ignore_errors=True)
        table(mib, ours, theirs, why_not)


if __name__ == "__main__":
    main()
