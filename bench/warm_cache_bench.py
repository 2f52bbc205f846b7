#!/usr/bin/python3
"""What warming the page cache after a checkpoint costs (warm.cache, issue 11). Once a
checkpoint is published the coordinator has the kernel read its images back into the page
cache, so a restart soon after checks and maps them from memory; that read runs while the
program runs again. A Python program holding MIB MiB of random bytes does units of CPU work
and logs how many per 50 ms; rounds alternate warm.cache=true and false (a private plugins
folder's org.stasis.coordinator.cfg, applied live). Each round: a checkpoint, the program's
work rate in the 0.5 s after it against the 1 s before it, the coordinator's CPU time in
that 0.5 s (the readahead requests), then two checkpoints back to back (the second one's write meets the
first one's warm), all full checkpoints. Figures, not assertions; prints the load.

Usage: /usr/bin/python3 bench/warm_cache_bench.py [DIST]   (ROUNDS=5, MIB=200)
"""

import os
import statistics
import subprocess
import sys
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(REPO, "python", "tests", "ipython"))
from harness import Stasis  # noqa: E402

ROUNDS = int(os.environ.get("ROUNDS", "5"))
MIB = int(os.environ.get("MIB", "200"))

PROGRAM = r"""
import os, sys, time
blob = os.urandom(%d << 20)
out = open(sys.argv[1], "a", buffering=1)
while True:
    t0 = time.monotonic(); n = 0
    while time.monotonic() - t0 < 0.05:
        sum(range(2000)); n += 1
    out.write("%%.4f %%d\n" %% (time.time(), n))
"""


class PrivatePlugins(Stasis):
    """A coordinator watching a plugins folder of its own (the dist's plugins linked into it)."""

    def __init__(self, name: str, dist: str, plugins: str) -> None:
        self.plugins = plugins
        super().__init__(name, dist=dist)

    def cli(self, *args: str, **kw: object) -> str:
        if args and args[0] == "coordinator":
            args = args + ("--plugins", self.plugins)
        return super().cli(*args, **kw)  # type: ignore[arg-type]


def cpu(pid: int) -> float:
    """A process's CPU seconds (user and system, its threads included)."""
    fields = open("/proc/%d/stat" % pid).read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rate(log: str, start: float, end: float) -> float:
    """Work units per second the program logged between two wall-clock instants."""
    units = [int(n) for t, n in (line.split() for line in open(log) if line.strip()) if start < float(t) <= end]
    return sum(units) / (end - start)


def configure(stasis: Stasis, cfg: str, on: bool) -> None:
    """Sets warm.cache and waits until the coordinator says it applied a change (true, the
    default, is not announced when the file first sets it)."""
    value = "true" if on else "false"
    with open(cfg + ".tmp", "w") as f:
        f.write("warm.cache=%s\nkeep=2\n" % value)
    os.replace(cfg + ".tmp", cfg)
    if on and not any("warm.cache = false" in line for line in stasis.cli("events", "-n", "2000").splitlines()):
        time.sleep(1.0)                          # keep=2 applied; the default needs no waiting
        return
    deadline = time.monotonic() + 10
    while not any("configuration: warm.cache = " + value in line for line in stasis.cli("events", "-n", "8").splitlines()):
        if time.monotonic() > deadline:
            raise SystemExit("the coordinator did not apply warm.cache=%s within 10 s" % value)
        time.sleep(0.1)


def timed_checkpoint(stasis: Stasis) -> float:
    start = time.monotonic()
    stasis.cli("checkpoint", "--full")
    return time.monotonic() - start


def main() -> None:
    dist = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else os.path.join(REPO, "dist"))
    print("load average %.2f %.2f %.2f, %d cores" % (os.getloadavg() + (os.cpu_count() or 0,)), flush=True)
    plugins = os.path.join(os.environ.get("TMPDIR", "/tmp"), "stasis-warm-plugins-%d" % os.getpid())
    os.makedirs(plugins)
    for name in os.listdir(os.path.join(dist, "plugins")):
        os.symlink(os.path.join(dist, "plugins", name), os.path.join(plugins, name))
    cfg = os.path.join(plugins, "org.stasis.coordinator.cfg")
    results = {True: [], False: []}
    try:
        with PrivatePlugins("warmbench", dist, plugins) as stasis:
            log = os.path.join(stasis.temp, "work.log")
            script = os.path.join(stasis.temp, "work.py")
            with open(script, "w") as f:
                f.write(PROGRAM % MIB)
            stasis.popen([stasis.stasis, "launch", "--name", stasis.name, "--", "/usr/bin/python3", script, log],
                         stdin=subprocess.DEVNULL)
            deadline = time.monotonic() + 60
            while not (os.path.exists(log) and os.path.getsize(log) > 0) and time.monotonic() < deadline:
                time.sleep(0.1)
            time.sleep(1.0)
            for n in range(2 * ROUNDS):
                on = n % 2 == 0
                configure(stasis, cfg, on)
                time.sleep(1.5)                      # the previous round's warm is over
                before = time.time()
                first = timed_checkpoint(stasis)
                done = time.time()
                cpu0 = cpu(stasis.coordinator_pid)
                time.sleep(0.5)
                cpu_after = cpu(stasis.coordinator_pid) - cpu0
                time.sleep(0.2)
                ratio = rate(log, done, done + 0.5) / rate(log, before - 1.0, before)
                time.sleep(1.0)
                timed_checkpoint(stasis)
                back_to_back = timed_checkpoint(stasis)
                results[on].append((first, ratio, cpu_after, back_to_back))
                print("warm.cache=%-5s checkpoint %.3f s; program's work rate in the 0.5 s after it %.0f%% of before;"
                      " the coordinator's CPU in those 0.5 s %.0f ms; the second of two checkpoints back to back %.3f s;"
                      " load %.2f" % (str(on).lower(), first, ratio * 100, cpu_after * 1000, back_to_back,
                                     os.getloadavg()[0]), flush=True)
    finally:
        for name in os.listdir(plugins):
            os.unlink(os.path.join(plugins, name))
        os.rmdir(plugins)
    for on in (True, False):
        rows = results[on]
        print("warm.cache=%-5s medians of %d: checkpoint %.3f s, work rate after it %.0f%%, coordinator CPU after it %.0f ms,"
              " back-to-back checkpoint %.3f s" % (str(on).lower(), len(rows),
                                                   statistics.median(r[0] for r in rows),
                                                   statistics.median(r[1] for r in rows) * 100,
                                                   statistics.median(r[2] for r in rows) * 1000,
                                                   statistics.median(r[3] for r in rows)), flush=True)
    print("load average %.2f %.2f %.2f" % os.getloadavg(), flush=True)


if __name__ == "__main__":
    main()
