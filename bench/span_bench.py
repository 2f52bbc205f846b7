#!/usr/bin/env python3
"""Checkpoint time of a computation that spans two hosts against the same computation on
one host, and its restart time on one host (issue #16: "4 ranks x 256 MiB on 2 hosts <=
1.2x a local checkpoint of the same memory; restart on one host <= 1 s to the ring's next
message").

The computation is samples/several-hosts/ring.py: 4 nodes passing a token round a TCP
ring, each holding MIB MiB of random bytes (--ballast). Hosts are simulated as in the
tests (distribution/.../scenarios/hosts/SimulatedHosts.java): network namespaces joined by
a bridge in a switch namespace of its own, 192.0.2.n, each host with its own
XDG_RUNTIME_DIR and HOME; the bench creates its own namespaces and deletes them (and
kills what runs in them, by pid) at the end, also after an error or Ctrl-C.

  local:   one host runs a coordinator and all 4 nodes (one `stasis launch`);
  span:    host 1 runs the main coordinator (--listen 192.0.2.1:4100) and nodes 0 and 1,
           host 2 joins with `stasis launch --coordinator 192.0.2.1:4100 --token-file ...`
           and runs nodes 2 and 3 (doc/several-hosts.md);
  restart: the span's ring (node 0 saying every round) checkpointed once; then RUNS times:
           `stasis kill` everywhere, `stasis restart --hosts h1 CKPT` on host 1 (all 4 nodes
           there), time from the command's start until node 0 says its next round; first
           with the images evicted from the page cache (as after the checkpoint, which writes
           them with O_DIRECT, or a reboot: the restart reads them from the disk), then
           cached. Then the same from a checkpoint of the all-on-host-1 ring back on two hosts
           (`--hosts h1,h2`). --no-verify restarts without the page check, --no-prefetch without the
           background paging in.

The checkpoint halves take RUNS full checkpoints (`stasis checkpoint --full`, wall time of
the whole command, which returns once the checkpoint is durable and published) and print
the median; then the ratio span/local. Figures, not assertions, with the load average.
Needs root (namespaces); the local half alone (--local) also runs without root, in this
machine's own network.

usage: bench/span_bench.py [--mib MIB] [--runs RUNS] [--local | --span | --restart] [--no-verify] [--no-prefetch]
                            [--events]
       (default 256 MiB, 3 runs, all three; --events: where the time of the restarts on h1 went)"""
import argparse
import datetime
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DIST_STASIS = os.path.join(REPO, "dist", "bin", "stasis")
STASIS = DIST_STASIS if os.access(DIST_STASIS, os.X_OK) else os.path.join(REPO, "bin", "stasis")
RING = os.path.join(REPO, "samples", "several-hosts", "ring.py")
PYTHON = "/usr/bin/python3" if os.access("/usr/bin/python3", os.X_OK) else sys.executable
SUBNET = "192.0.2."
COORDINATOR_PORT = 4100
ROUNDS = 10 ** 9


def run(command, env=None, check=True):
    result = subprocess.run(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if check and result.returncode != 0:
        raise SystemExit("span_bench: `%s` failed (exit %d): %s" % (" ".join(command), result.returncode,
                                                                    (result.stderr or result.stdout).strip()))
    return result


class Host:
    """A simulated host (a network namespace), or this machine itself (namespace None)."""

    def __init__(self, number, namespace, top):
        self.number = number
        self.name = "h%d" % number
        self.namespace = namespace
        self.address = SUBNET + str(number) if namespace else "127.0.0.1"
        self.home = os.path.join(top, self.name, "home")
        self.runtime = os.path.join(top, self.name, "run")
        os.makedirs(self.home)
        os.makedirs(self.runtime, mode=0o700)

    def env(self):
        env = dict(os.environ)
        env.pop("STASIS_RUNTIME_DIR", None)
        env["XDG_RUNTIME_DIR"] = self.runtime
        env["HOME"] = self.home
        return env

    def command(self, args):
        if self.namespace is None:
            return list(args)
        return ["ip", "netns", "exec", self.namespace, "unshare", "--uts", "--", "sh", "-c",
                'hostname "$0" && exec "$@"', self.name] + list(args)

    def stasis(self, *args, check=True):
        return run(self.command([STASIS] + list(args)), env=self.env(), check=check)

    def start_stasis(self, output, *args):
        with open(output, "ab") as out:
            return subprocess.Popen(self.command([STASIS] + list(args)), env=self.env(), stdout=out,
                                    stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)

    def token(self):
        return os.path.join(self.runtime, "stasis", "default.token")

    def checkpoints(self):
        """Passed as --ckpt-dir: a coordinator's default is under Java's user.home, not $HOME."""
        return os.path.join(self.home, ".local", "share", "stasis", "checkpoints")

    def coordinators(self):
        """The coordinators running here (a socket with a log beside it), as SimulatedHosts' Host finds them."""
        directory = os.path.join(self.runtime, "stasis")
        if not os.path.isdir(directory):
            return []
        return sorted(n[:-len(".sock")] for n in os.listdir(directory)
                      if n.endswith(".sock") and os.path.exists(os.path.join(directory, n[:-len(".sock")] + ".log")))

    def status(self, name):
        result = self.stasis("status", "--name", name, "--json", check=False)
        return json.loads(result.stdout) if result.returncode == 0 and result.stdout.strip() else {}


class Hosts:
    """COUNT simulated hosts on one switch; close() kills what runs in them and deletes them."""

    def __init__(self, count, simulated=True):
        self.prefix = "stbench-%d" % os.getpid()
        self.top = tempfile.mkdtemp(prefix="stasis-span-bench-")
        self.namespaces = []
        self.started = []
        self.hosts = []
        if not simulated:
            self.hosts.append(Host(1, None, self.top))
            return
        switch = self.prefix + "-sw"
        self.add_namespace(switch)
        run(["ip", "-n", switch, "link", "add", "br0", "type", "bridge"])
        run(["ip", "-n", switch, "link", "set", "br0", "up"])
        for n in range(1, count + 1):
            namespace = self.prefix + "-h%d" % n
            self.add_namespace(namespace)
            run(["ip", "-n", switch, "link", "add", "p%d" % n, "type", "veth", "peer", "name", "eth0", "netns",
                 namespace])
            run(["ip", "-n", switch, "link", "set", "p%d" % n, "master", "br0", "up"])
            run(["ip", "-n", namespace, "link", "set", "lo", "up"])
            run(["ip", "-n", namespace, "addr", "add", "%s%d/24" % (SUBNET, n), "dev", "eth0"])
            run(["ip", "-n", namespace, "link", "set", "eth0", "up"])
            etc = os.path.join("/etc/netns", namespace)
            os.makedirs(etc)
            with open(os.path.join(etc, "hosts"), "w") as hosts:
                hosts.write("127.0.0.1 localhost\n" + "".join("%s%d h%d\n" % (SUBNET, m, m)
                                                             for m in range(1, count + 1)))
            self.hosts.append(Host(n, namespace, self.top))

    def add_namespace(self, namespace):
        run(["ip", "netns", "add", namespace])
        self.namespaces.append(namespace)
        run(["ip", "-n", namespace, "link", "set", "lo", "up"])

    def start(self, host, output, *args):
        process = host.start_stasis(output, *args)
        self.started.append(process)
        return process

    def close(self):
        for host in self.hosts:
            if host.namespace is None:
                host.stasis("kill", check=False)
                host.stasis("shutdown", check=False)
        for process in self.started:
            if process.poll() is None:
                process.kill()
            process.wait()
        for namespace in reversed(self.namespaces):
            for _ in range(200):
                pids = [int(p) for p in run(["ip", "netns", "pids", namespace], check=False).stdout.split()]
                if not pids:
                    break
                for pid in pids:
                    try:
                        os.kill(pid, signal.SIGKILL)
                    except ProcessLookupError:
                        pass
                time.sleep(0.05)
        for namespace in reversed(self.namespaces):
            run(["ip", "netns", "del", namespace], check=False)
            shutil.rmtree(os.path.join("/etc/netns", namespace), ignore_errors=True)
        shutil.rmtree(self.top, ignore_errors=True)

    def kill_everything(self):
        """`stasis kill` of every computation of every coordinator on every host; returns once no process runs."""
        for host in self.hosts:
            for name in host.coordinators():
                for computation in host.status(name).get("computations", []):
                    host.stasis("kill", "--name", name, "--computation", str(computation["id"]), check=False)
        deadline = time.monotonic() + 30
        for host in self.hosts:
            for name in host.coordinators():
                while '"hostPid"' in json.dumps(host.status(name)):
                    if time.monotonic() > deadline:
                        raise SystemExit("span_bench: processes of %s on %s survived stasis kill" % (name, host.name))
                    time.sleep(0.05)


def ring_args(addresses, nodes, mib, progress=10):
    return [PYTHON, RING, "--ring", ",".join(addresses), "--nodes", ",".join(str(n) for n in nodes),
            "--rounds", str(ROUNDS), "--ballast", str(mib), "--interval", "0.01", "--progress", str(progress)]


def wait_rounds(outputs, processes, rounds=30, timeout=600):
    """Waits until node 0 has passed the token round the ring `rounds` times (every node holds its ballast)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for process in processes:
            if process.poll() is not None:
                raise SystemExit("span_bench: a launch ended (exit %d):\n%s" % (process.returncode, tails(outputs)))
        text = "".join(open(o, errors="replace").read() for o in outputs if os.path.exists(o))
        if "FAIL" in text:
            raise SystemExit("span_bench: the ring failed:\n" + tails(outputs))
        if any(line == "round %d" % rounds for line in text.splitlines()):
            return
        time.sleep(0.2)
    raise SystemExit("span_bench: the ring did not run in %d s:\n%s" % (timeout, tails(outputs)))


def tails(outputs):
    return "".join("--- %s\n%s\n" % (o, "".join(open(o, errors="replace").readlines()[-10:]))
                   for o in outputs if os.path.exists(o))


def checkpoints(main, runs):
    """RUNS full checkpoints from `main`: their wall times in seconds."""
    times = []
    for _ in range(runs):
        started = time.monotonic()
        main.stasis("checkpoint", "--full")
        times.append(time.monotonic() - started)
        time.sleep(1)
    return times


def local_half(mib, runs, simulated):
    """All 4 nodes on one host."""
    hosts = Hosts(1, simulated)
    try:
        host = hosts.hosts[0]
        host.stasis("coordinator", "--daemon", "--ckpt-dir", host.checkpoints())
        host.stasis("keep", "1")
        addresses = ["%s:%d" % (host.address, 4301 + n) for n in range(4)]
        output = os.path.join(hosts.top, "local.txt")
        launch = hosts.start(host, output, "launch", "--", *ring_args(addresses, range(4), mib))
        wait_rounds([output], [launch])
        return checkpoints(host, runs)
    finally:
        hosts.close()


def start_span(hosts, mib, progress=10, member=()):
    """Starts the ring with nodes 0 and 1 on host 1 (the main), 2 and 3 on host 2 (a member, launched with
    `member` options); returns node 0's output once it has gone round 30 times."""
    one, two = hosts.hosts
    main = "%s:%d" % (one.address, COORDINATOR_PORT)
    one.stasis("coordinator", "--daemon", "--listen", main, "--ckpt-dir", one.checkpoints())
    one.stasis("keep", "1")
    addresses = ["%s:%d" % (one.address, 4301), "%s:%d" % (one.address, 4302),
                 "%s:%d" % (two.address, 4303), "%s:%d" % (two.address, 4304)]
    out1 = os.path.join(hosts.top, "span-h1.txt")
    out2 = os.path.join(hosts.top, "span-h2.txt")
    first = hosts.start(one, out1, "launch", "--", *ring_args(addresses, [0, 1], mib, progress))
    second = hosts.start(two, out2, "launch", "--coordinator", main, "--token-file", one.token(),
                         "--ckpt-dir", two.checkpoints(), *member, "--",
                         *ring_args(addresses, [2, 3], mib, progress))
    wait_rounds([out1, out2], [first, second])
    return out1


def span_half(mib, runs):
    """Nodes 0 and 1 on host 1 (the main), 2 and 3 on host 2 (a member)."""
    hosts = Hosts(2)
    try:
        start_span(hosts, mib)
        return checkpoints(hosts.hosts[0], runs)
    finally:
        hosts.close()


def next_round(output, since, process, timeout=120):
    """Seconds from `since` (time.monotonic()) until node 0 says its first round in `output` after it said it was
    restarted, polled every 2 ms: the ring's next message after a restart (node 0 says every round)."""
    with open(output, "rb") as out:
        out.seek(0, os.SEEK_END)
        pending = b""
        restarted = False
        while time.monotonic() < since + timeout:
            chunk = out.read()
            now = time.monotonic()
            pending += chunk
            *lines, pending = pending.split(b"\n")
            for line in lines:
                restarted = restarted or line.startswith(b"restarted node 0 ")
                if line.startswith(b"round ") and restarted:
                    return now - since
                if line.startswith(b"FAIL"):
                    raise SystemExit("span_bench: the ring failed after the restart: %s" % line.decode())
            if not chunk:
                if process.poll() is not None:
                    raise SystemExit("span_bench: `stasis restart` ended (exit %d) before the ring went on"
                                     % process.returncode)
                time.sleep(0.002)
    raise SystemExit("span_bench: no round %d s after the restart" % timeout)


def evict(hosts):
    """Drops every host's checkpoint files from the page cache, as they are after a checkpoint (written with
    O_DIRECT) or a reboot: a restart reads its images from the disk."""
    for host in hosts.hosts:
        for directory, _, files in os.walk(host.checkpoints()):
            for name in files:
                try:
                    fd = os.open(os.path.join(directory, name), os.O_RDONLY)
                except OSError:
                    continue
                try:
                    os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
                finally:
                    os.close(fd)


def restarts(hosts, checkpoint, placement, runs, options, cold):
    """RUNS times: kill everything, (cold: evict the checkpoints from the page cache,) `stasis restart --hosts
    PLACEMENT CHECKPOINT` on host 1, time to the next round. Leaves the last restart running."""
    one = hosts.hosts[0]
    out1 = os.path.join(hosts.top, "span-h1.txt")
    times = []
    running = None
    for _ in range(runs):
        hosts.kill_everything()
        if running is not None:
            running.wait(timeout=30)
        if cold:
            evict(hosts)
        # The program's output goes where the checkpoint's descriptors say (out1); the command's to a file of its own.
        wall, started = time.time(), time.monotonic()
        running = hosts.start(one, os.path.join(hosts.top, "restart.txt"), "restart", "--hosts", placement,
                              *options, checkpoint)
        times.append(Restart(next_round(out1, started, running), wall))
    return times


class Restart:
    """One restart: seconds to the next round, and when it started (wall clock, as the event log)."""

    def __init__(self, seconds, wall):
        self.seconds = seconds
        self.wall = wall


def breakdown(host, restarts):
    """Where each restart's time went, from `host`'s event log (the parts it restarted): until the plugins'
    restart began (command, coordinator, checkpoint validation), the plugins' restart (the socket plugin's exchanges
    between parts in it), core:restore (the restorers: page check, memory mapped), and from the last part's release
    to node 0's next round."""
    entries = json.loads(host.stasis("events", "-n", "5000", "--json").stdout or "[]")
    for entry in entries:
        stamp = entry["time"]
        end = stamp if isinstance(stamp, (int, float)) else datetime.datetime.fromisoformat(
            stamp.replace("Z", "+00:00")).timestamp()
        entry["end"], entry["start"] = end, end - entry["millis"] / 1000.0
    lines = []
    for number, run in enumerate(restarts, 1):
        # by when they ended (a step's start is its end less its whole milliseconds)
        mine = [e for e in entries if e["operation"].endswith("-restart") and run.wall <= e["end"]
                <= run.wall + run.seconds]
        plugins = [e for e in mine if e["step"] == "restart"]
        restores = [e for e in mine if e["step"] == "core:restore"]
        released = [e["end"] for e in mine if e["step"] == "core:release"]
        if not plugins or not restores or not released:
            lines.append("  run %d: the event log does not cover it" % number)
            continue
        socket = max(e["millis"] for e in plugins if e["actor"] == "socket") / 1000.0 if any(
            e["actor"] == "socket" for e in plugins) else 0.0
        lines.append("  run %d (%.3f s): %.3f s to the plugins' restart, %.3f s plugins (socket %.3f s), core:restore "
                     "%s s, %.3f s from the release to the next round"
                     % (number, run.seconds, min(e["start"] for e in plugins) - run.wall,
                        max(e["end"] for e in plugins) - min(e["start"] for e in plugins), socket,
                        "/".join("%.3f" % (e["millis"] / 1000.0) for e in restores),
                        run.wall + run.seconds - max(released)))
    return "\n".join(lines)


def checkpoint_path(host):
    """A full checkpoint of the whole computation from the main: its directory (the command's last line)."""
    for _ in range(100):
        result = host.stasis("checkpoint", "--full", check=False)
        # Right after a restart on one host, a held part may not have joined the main's computation yet.
        if "several computations run" in result.stderr:
            time.sleep(0.1)
            continue
        # A part of the previous run, killed, may be listed until its member's watch says it is gone (<= 1 s).
        if "there is no process to checkpoint" in result.stderr:
            print("span_bench: checkpoint refused, trying again: " + result.stderr.strip(), file=sys.stderr)
            time.sleep(0.5)
            continue
        break
    if result.returncode != 0:
        raise SystemExit("span_bench: the checkpoint failed: " + result.stderr.strip())
    return result.stdout.strip().splitlines()[-1]


def restart_half(mib, runs, options):
    """The ring on two hosts, checkpointed, killed and restarted all on host 1 (RUNS times); then checkpointed
    there and restarted back on two hosts (RUNS times)."""
    hosts = Hosts(2)
    try:
        one, two = hosts.hosts
        # Each round said: the next message after a restart shows at once. The member outlives its part.
        start_span(hosts, mib, progress=1, member=["--keep-coordinator"])
        spanning = checkpoint_path(one)
        figures = {}
        for cold in (True, False):
            figures[("--hosts h1 (from 2 hosts)", cold)] = restarts(hosts, spanning, one.name, runs, options, cold)
        events = "\n".join(breakdown(one, figures[("--hosts h1 (from 2 hosts)", cold)]) for cold in (True, False))
        all_on_one = checkpoint_path(one)
        for cold in (True, False):
            figures[("--hosts h1,h2 (from all on h1)", cold)] = restarts(hosts, all_on_one, one.name + "," + two.name,
                                                                         runs, options, cold)
        hosts.kill_everything()
        return figures, events
    finally:
        hosts.close()


def describe(times):
    return "median %.3f s (runs: %s)" % (statistics.median(times), ", ".join("%.3f" % t for t in times))


def restart_table(mib, figures, options):
    """One row per placement and page cache: median (and every run) of the time to node 0's next round."""
    print("restart of 4 processes x %d MiB (ring checkpointed on 2 hosts)%s, from `stasis restart` until the ring's"
          " next message (target <= 1 s):" % (mib, " " + " ".join(options) if options else ""))
    print("  %-31s %-7s %s" % ("placement", "images", "next round"))
    for (label, cold), times in figures.items():
        print("  %-31s %-7s %s" % (label, "on disk" if cold else "cached", describe([t.seconds for t in times])))


def load():
    return "load average %s (uptime), %d CPUs" % (" ".join(open("/proc/loadavg").read().split()[:3]), os.cpu_count())


def main():
    parser = argparse.ArgumentParser(description="checkpoint time on 2 hosts against 1 host, restart time on one "
                                                 "host (issue #16)")
    parser.add_argument("--mib", type=int, default=256, help="MiB of random bytes each of the 4 nodes holds")
    parser.add_argument("--runs", type=int, default=int(os.environ.get("RUNS", "3")))
    which = parser.add_mutually_exclusive_group()
    which.add_argument("--local", action="store_true", help="only the local half")
    which.add_argument("--span", action="store_true", help="only the half on two hosts")
    which.add_argument("--restart", action="store_true", help="only the restarts (--hosts h1, then h1,h2)")
    parser.add_argument("--no-verify", action="store_true", help="restart with --no-verify")
    parser.add_argument("--no-prefetch", action="store_true", help="restart with --no-prefetch")
    parser.add_argument("--events", action="store_true", help="where the time of the restarts on h1 went (event log)")
    args = parser.parse_args()
    root = os.geteuid() == 0 and shutil.which("ip") is not None
    if not root and not args.local:
        raise SystemExit("span_bench: simulated hosts need root and ip (iproute2); --local runs the local half "
                         "in this machine's network")
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    signal.signal(signal.SIGINT, signal.default_int_handler)  # also when started with SIGINT ignored
    print(load() + " at the start", flush=True)
    local = span = None
    if not args.span and not args.restart:
        local = local_half(args.mib, args.runs, simulated=root)
        print("local: 4 processes x %d MiB on one host: full checkpoint %s" % (args.mib, describe(local)),
              flush=True)
    if not args.local and not args.restart:
        span = span_half(args.mib, args.runs)
        print("span:  2 hosts x 2 processes x %d MiB: full checkpoint %s" % (args.mib, describe(span)), flush=True)
    if local and span:
        print("ratio span/local: %.2f (target <= 1.2)" % (statistics.median(span) / statistics.median(local)))
    if not args.local and not args.span:
        options = ["--no-verify"] * args.no_verify + ["--no-prefetch"] * args.no_prefetch
        figures, events = restart_half(args.mib, args.runs, options)
        restart_table(args.mib, figures, options)
        if args.events:
            print("--hosts h1, on disk then cached, from the main's event log:\n" + events)
    print(load() + " at the end")


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        raise SystemExit("span_bench: interrupted (the simulated hosts were cleaned up)")
