#!/usr/bin/env python3
"""Native checkpoint/restart tests (run by `make check`): run_tests.py OUT_DIR [NAME...]
Each test launches a scenario under stasis-launch, checkpoints it with the reference
coordinator (minicoord.py), kills it, restarts it with stasis-restore, several times."""
import json
import os
import re
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from minicoord import Coordinator, parse_hello, shared_areas  # noqa: E402
import imagefmt  # noqa: E402

OUT = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else "target")
AGENT = os.path.join(OUT, "lib/libstasis-agent.so")
LAUNCH = os.path.join(OUT, "bin/stasis-launch")
RESTORE = os.path.join(OUT, "bin/stasis-restore")
SCEN = os.path.join(OUT, "scenarios")


def check(condition, message=None):
    """An explicit test check: raises AssertionError (what the runner reports) when
    `condition` is false. Unlike `assert` it survives `python -O`. `message` is a
    callable, evaluated only on failure; without one the caller's file:line is named."""
    if condition:
        return
    if message is not None:
        raise AssertionError(message())
    caller = sys._getframe(1)
    raise AssertionError("check failed at %s:%d" % (os.path.basename(caller.f_code.co_filename), caller.f_lineno))


class Env:
    def __init__(self, name):
        self.dir = tempfile.mkdtemp(prefix="stasis-test-%s-" % name)
        os.chmod(self.dir, 0o700)
        self.coord = Coordinator(os.path.join(self.dir, "test.agent.sock"))
        self.procs = []
        self.nlog = 0

    def log(self):
        self.nlog += 1
        path = os.path.join(self.dir, "out%d.log" % self.nlog)
        return path, open(path, "w")

    def launch(self, argv, namespaces=True):
        path, f = self.log()
        cmd = [LAUNCH] + ([] if namespaces else ["--no-namespaces"]) + [AGENT, self.coord.sock_path, "--"] + argv
        p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=f, stderr=f)
        self.procs.append(p)
        # the launched program, not a child it forked that registered quickly
        return p, self.coord.wait_agent(lambda a: a.restored == 0 and "join" not in a.hello), path

    def restart(self, ckdir, namespaces=True, memory="lazy", shared=None):
        path, f = self.log()
        p, agent, secs = self.coord.restart(RESTORE, ckdir, f, namespaces=namespaces, memory=memory, shared=shared)
        self.procs.append(p)
        return p, agent, path, secs

    def cleanup(self, keep=False):
        for p in self.procs:
            if p.poll() is None:
                p.kill()
                p.wait()
        self.coord.close()
        if not keep:
            shutil.rmtree(self.dir, ignore_errors=True)


def lines(path):
    with open(path, errors="replace") as f:
        return f.read().splitlines()


def complete_lines(path):
    """How many lines the file has that end in a newline (a writer may be mid-line)."""
    with open(path, "rb") as f:
        return f.read().count(b"\n")


def wait_lines(path, n, proc, timeout=30):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if complete_lines(path) >= n:
            return
        if proc.poll() is not None:
            raise AssertionError("process exited early (rc %s): %s" % (proc.returncode, lines(path)[-3:]))
        time.sleep(0.02)
    raise AssertionError("no progress in %s: %s" % (path, lines(path)[-3:]))


def namespace_init(host_pid):
    """host pid of the init of host_pid's pid namespace (None: not in a namespace of ours)"""
    def ns(pid):
        try:
            return os.readlink("/proc/%d/ns/pid" % pid)
        except OSError:
            return None
    mine, pid, top = ns(host_pid), host_pid, None
    if mine is None or mine == ns(os.getpid()):
        return None
    while pid > 1 and ns(pid) == mine:
        top = pid
        with open("/proc/%d/stat" % pid) as f:
            pid = int(f.read().rsplit(")", 1)[1].split()[1])
    return top


def kill_agent_process(agent, proc):
    """kill the process, then its whole pid namespace: the namespace's init outlives the
    launched process (daemons), so killing only that process would leave its children"""
    init = namespace_init(agent.host_pid)
    os.kill(agent.host_pid, signal.SIGKILL)
    rc = proc.wait(timeout=10)
    check(rc in (128 + signal.SIGKILL, -signal.SIGKILL), lambda: "killed process exited %s" % rc)
    if init is not None:
        try:
            os.kill(init, signal.SIGKILL)
        except ProcessLookupError:
            pass
    agent.close()


def check_no_caps(host_pid):
    """a non-root program has no capabilities after its execve: nor after a restart"""
    time.sleep(0.05)  # let the recreated threads drop theirs
    tdir = "/proc/%d/task" % host_pid
    for tid in os.listdir(tdir):
        try:
            with open("%s/%s/status" % (tdir, tid)) as f:
                eff = [l.split()[1] for l in f if l.startswith("CapEff:")][0]
        except (FileNotFoundError, ProcessLookupError):
            continue                                # a short-lived thread ended meanwhile
        check(int(eff, 16) == 0, lambda: "thread %s has capabilities %s" % (tid, eff))


def finish(proc, path, timeout=60):
    rc = proc.wait(timeout=timeout)
    out = lines(path)
    check(rc == 0, lambda: "exit status %s; last output %s" % (rc, out[-3:]))
    check(out and out[-1].startswith("OK"), lambda: "no OK line: %s" % out[-3:])
    return out


def generations(env, argv, progress=5, gens=3, namespaces=True, timings=None, memory="lazy"):
    """launch; gens x (progress, checkpoint, kill, restart); run to the end"""
    proc, agent, path = env.launch(argv, namespaces)
    for g in range(1, gens + 1):
        wait_lines(path, len(lines(path)) + progress, proc)
        ck = os.path.join(env.dir, "ck%d" % g)
        # kill while still suspended: files the program writes are not rolled back
        # at restart, so they must not change after the checkpoint (the file plugin
        # will own that later)
        t = env.coord.checkpoint(agent, ck, resume=False)
        kill_agent_process(agent, proc)
        proc, agent, path, secs = env.restart(ck, namespaces, memory)
        if namespaces:
            check(agent.hello["exe"] == t["exe"], lambda: "exe link %r != %r" % (agent.hello["exe"], t["exe"]))
            if os.getuid() != 0:
                check_no_caps(agent.host_pid)
        if timings is not None:
            timings.append((t, secs))
        wait_lines(path, 1, proc)
    out = finish(proc, path)
    check(any(line.startswith("restarted") for line in out) or "python" in argv[0], lambda: "no restart noticed")
    return out


# ---------------- tests ----------------
def test_counter(env):
    generations(env, [SCEN + "/counter", "150", "10"])


def test_counter_no_namespaces(env):
    generations(env, [SCEN + "/counter", "120", "10"], gens=2, namespaces=False)


def test_threads_no_namespaces(env):
    """tids change: the agent patches glibc's cached tids"""
    generations(env, [SCEN + "/threads", "300", "1000"], progress=3, gens=2, namespaces=False)


def test_counter_memory_copy(env):
    generations(env, [SCEN + "/counter", "100", "10"], gens=2, memory="copy")


def test_counter_parallel(env):
    """restart while the original still runs: separate namespaces, same pid"""
    proc, agent, path = env.launch([SCEN + "/counter", "120", "10"])
    wait_lines(path, 10, proc)
    ck = os.path.join(env.dir, "ck")
    env.coord.checkpoint(agent, ck)
    p2, a2, path2, _ = env.restart(ck)
    check(a2.pid == agent.pid)
    finish(proc, path)
    finish(p2, path2)


def test_threads(env):
    generations(env, [SCEN + "/threads", "400", "1000"], progress=3)


def test_files(env):
    inp = os.path.join(env.dir, "input.txt")
    with open(inp, "w") as f:
        for i in range(2000):
            f.write("line %06d\n" % i)
    generations(env, [SCEN + "/files", "150", os.path.join(env.dir, "output.txt"), inp, "10"])


def test_files_moved(env):
    """restart from another path: the files (fds and a MAP_SHARED mapping) moved"""
    old, new = os.path.join(env.dir, "old"), os.path.join(env.dir, "new")
    os.mkdir(old)
    inp = os.path.join(old, "input.txt")
    with open(inp, "w") as f:
        for i in range(2000):
            f.write("line %06d\n" % i)
    proc, agent, path = env.launch([SCEN + "/files", "100", os.path.join(old, "output.txt"), inp, "10",
                                    os.path.join(old, "shared.dat")])
    wait_lines(path, 10, proc)
    ck = os.path.join(env.dir, "ck")
    env.coord.checkpoint(agent, ck, resume=False)
    kill_agent_process(agent, proc)
    os.rename(old, new)
    logp, f = env.log()
    p2, a2, _ = env.coord.restart(RESTORE, ck, f, rewrite={old: new})
    env.procs.append(p2)
    out = finish(p2, logp)
    check(any(line.startswith("restarted") for line in out))
    with open(os.path.join(new, "shared.dat"), "rb") as f:
        check(struct.unpack("<q", f.read(8))[0] == 100, lambda: "the moved shared file was not mapped")
    lines_out = lines(os.path.join(new, "output.txt"))
    check(lines_out == ["out %06d" % i for i in range(1, 101)], lambda: lines_out[-3:])


def test_python(env):
    generations(env, [sys.executable, SCEN + "/python_memory.py", "64", "40", "0.05"], progress=3)


def test_checkpoint_from_inside(env):
    """stasis_checkpoint() in the program: 'resumed' in the original, 'restarted' after a restart"""
    proc, agent, path = env.launch([SCEN + "/selfckpt", "40", "10", "10"])
    host_pid, line = env.coord.wait_request()
    check(host_pid == agent.host_pid and re.fullmatch(r"REQUEST checkpoint pid=%d seq=\d+" % agent.pid, line), lambda: line)
    ck = os.path.join(env.dir, "ck")
    env.coord.checkpoint(agent, ck, resume=False)
    check(agent.request("RESUME 0") == "RESUMED")
    out = finish(proc, path)
    check("checkpoint resumed" in out and out[-1].startswith("OK selfckpt 40 resumed"), lambda: out[-2:])
    p2, a2, path2, _ = env.restart(ck)
    out2 = finish(p2, path2)
    check(out2[0] == "checkpoint restarted" and out2[-1].startswith("OK selfckpt 40 restarted"), lambda: out2[:2])


def test_signal_forwarding(env):
    """SIGTERM to stasis-launch / stasis-restore reaches the program; status 128+15"""
    proc, agent, path = env.launch([SCEN + "/threads", "1000000", "1000"])
    wait_lines(path, 3, proc)
    ck = os.path.join(env.dir, "ck")
    env.coord.checkpoint(agent, ck)
    proc.send_signal(signal.SIGTERM)
    check(proc.wait(timeout=10) == 128 + signal.SIGTERM, lambda: "launch rc %s" % proc.returncode)
    p2, a2, path2, _ = env.restart(ck)
    wait_lines(path2, 3, p2)
    p2.send_signal(signal.SIGTERM)
    check(p2.wait(timeout=10) == 128 + signal.SIGTERM, lambda: "restore rc %s" % p2.returncode)


def test_fd_kinds(env):
    """plan fd kinds: open (flags/offset), unlinked (deleted-while-open copy), inherit + termios"""
    import ctypes
    import pty
    import termios
    proc, agent, path = env.launch([SCEN + "/threads", "1000000", "1000"])
    wait_lines(path, 2, proc)
    ck = os.path.join(env.dir, "ck")
    env.coord.checkpoint(agent, ck, resume=False)
    kill_agent_process(agent, proc)
    plan = os.path.join(ck, "restart.plan")
    env.coord.write_plan(ck, plan, inherit=(1, 2))
    copy = os.path.join(env.dir, "copy.bin")
    appendf = os.path.join(env.dir, "append.txt")
    for name in (copy, appendf):
        with open(name, "w") as f:
            f.write("0123456789")
    master, slave = pty.openpty()
    libc = ctypes.CDLL(None)
    raw = ctypes.create_string_buffer(60)
    check(libc.tcgetattr(slave, raw) == 0)
    attrs = termios.tcgetattr(slave)
    check(attrs[3] & termios.ECHO)
    attrs[3] &= ~termios.ECHO
    termios.tcsetattr(slave, termios.TCSANOW, attrs)
    check(libc.tcgetattr(slave, raw) == 0)
    attrs[3] |= termios.ECHO                       # restore: the restorer must clear it
    termios.tcsetattr(slave, termios.TCSANOW, attrs)
    with open(plan, "a") as f:
        f.write("fd 0 inherit 0\nfd 7 unlinked 2 3 %s\nfd 8 open %o 0 %s\ntermios 0 %s\n"
                % (copy, os.O_WRONLY | os.O_APPEND, appendf, raw.raw.hex()))
    logp, logf = env.log()
    p2 = subprocess.Popen([RESTORE, plan], stdin=slave, stdout=logf, stderr=logf)
    env.procs.append(p2)
    a2 = env.coord.wait_agent(lambda a: a.restored > 0)
    try:
        fdd = "/proc/%d/fd" % a2.host_pid
        check(os.readlink(fdd + "/7").endswith(" (deleted)") and not os.path.exists(copy))
        with open("/proc/%d/fdinfo/7" % a2.host_pid) as f:
            check("pos:\t3" in f.read())
        check(os.readlink(fdd + "/8") == appendf)
        with open("/proc/%d/fdinfo/8" % a2.host_pid) as f:
            flags = int([l.split()[1] for l in f if l.startswith("flags:")][0], 8)
        check(flags & os.O_APPEND)
        check(not termios.tcgetattr(slave)[3] & termios.ECHO, lambda: "termios not applied")
        check(sorted(int(x) for x in os.listdir(fdd) if int(x) < 100) == [0, 1, 2, 7, 8])
    finally:
        os.close(master)
        os.close(slave)
        a2.request("RESUME 1")
        p2.kill()


def test_clock_after_reboot(env):
    """a restart after a (simulated) reboot: CLOCK_MONOTONIC/BOOTTIME must not go back"""
    proc, agent, path = env.launch([SCEN + "/threads", "1000000", "1000"])
    wait_lines(path, 2, proc)
    ck = os.path.join(env.dir, "ck")
    env.coord.checkpoint(agent, ck, resume=False)
    kill_agent_process(agent, proc)
    image = os.path.join(ck, "image-%d.img" % agent.pid)
    with open(image, "rb") as f:
        data = f.read()
    mono_off = imagefmt.PROC_OFF + 3200
    mono = struct.unpack_from("<qq", data, mono_off)
    ahead = mono[0] + 100000                       # "before the reboot" the clock was far ahead
    h = bytearray(data[:imagefmt.HEADER_SIZE])
    struct.pack_into("<qqqq", h, mono_off, ahead, 0, ahead, 0)
    h[imagefmt.OFF_HEADER_CRC:imagefmt.OFF_HEADER_CRC + 4] = b"\0\0\0\0"
    h[imagefmt.OFF_HEADER_CRC:imagefmt.OFF_HEADER_CRC + 4] = imagefmt.crc32c(bytes(h)).to_bytes(4, "little")
    tmp = image + ".tmp"
    with open(tmp, "wb") as f:
        f.write(bytes(h) + data[imagefmt.HEADER_SIZE:])
    os.rename(tmp, image)
    p2, a2, path2, _ = env.restart(ck)
    with open("/proc/%d/timens_offsets" % a2.host_pid) as f:
        offs = dict((l.split()[0], int(l.split()[1])) for l in f)
    check(offs["monotonic"] >= 100000 - 5 and offs["boottime"] >= 100000 - 5, lambda: offs)
    wait_lines(path2, 2, p2)                        # and it runs on
    p2.kill()


def test_bad_images(env):
    proc, agent, path = env.launch([SCEN + "/counter", "100", "10"])
    wait_lines(path, 3, proc)
    ck = os.path.join(env.dir, "ck")
    env.coord.checkpoint(agent, ck)
    proc.kill()
    proc.wait()
    meta = env.coord.write_plan(ck, os.path.join(ck, "restart.plan"))
    image = meta["image"]
    # the documented format, read independently (doc/image-format.md), all checksums
    img = imagefmt.read_image(image, all_crcs=True)
    check(img["pid"] == meta["pid"] and img["arch"] == "x86_64")
    check(any(a["kind"] == "vdso" for a in img["areas"]) and any(a["flags"] & 2 for a in img["areas"]))
    data = open(image, "rb").read()
    def patched(off, value):
        h = bytearray(data[:imagefmt.HEADER_SIZE])
        h[off:off + len(value)] = value
        h[imagefmt.OFF_HEADER_CRC:imagefmt.OFF_HEADER_CRC + 4] = b"\0\0\0\0"
        h[imagefmt.OFF_HEADER_CRC:imagefmt.OFF_HEADER_CRC + 4] = imagefmt.crc32c(bytes(h)).to_bytes(4, "little")
        return bytes(h) + data[imagefmt.HEADER_SIZE:]

    proc_off = imagefmt.PROC_OFF
    cases = {
        "cpu-isa": patched(proc_off + 3176, b"\xff" * 20),
        "cpu-xsave": patched(proc_off + 3168, b"\xff" * 8),
        "data": data[:img["data_offset"] + 100] + bytes([data[img["data_offset"] + 100] ^ 0xff]) +
        data[img["data_offset"] + 101:],
        "garbage": b"hello world" * 100,
        "magic": b"XXXXXXXX" + data[8:],
        "header": data[:200] + bytes([data[200] ^ 0xff]) + data[201:],
        "truncated": data[: len(data) // 2],
        "empty": b"",
    }
    for name, content in cases.items():
        bad = os.path.join(env.dir, "bad-%s.img" % name)
        with open(bad, "wb") as f:
            f.write(content)
        plan = os.path.join(env.dir, "bad-%s.plan" % name)
        with open(plan, "w") as f:
            f.write("version 1\nverify on\nprocess %d %s\nfd 1 inherit 1\n" % (meta["pid"], bad))
        r = subprocess.run([RESTORE, plan], capture_output=True, text=True, timeout=10)
        if os.environ.get("STASIS_VERBOSE"):
            print("   %s: %s" % (name, r.stderr.strip()))
        err = r.stderr.strip().splitlines()
        check(r.returncode == 1, lambda: "%s: restorer rc %s, stderr %s" % (name, r.returncode, err))
        check(len(err) == 1 and err[0].startswith("stasis: image bad-%s.img: " % name), lambda: "%s: stderr %r" % (name, err))
        if name.startswith("cpu"):
            check("CPU" in err[0], lambda: err[0])


def test_fuzzed_images(env):
    """Random damage to any checksummed part of a real image (header, tables, page data)
    or a truncation: the restorer (with `verify on`) always refuses it with one line and
    exit 1 - never a crash, a hang or a half-restored process."""
    import random
    proc, agent, path = env.launch([SCEN + "/counter", "100", "10"])
    wait_lines(path, 3, proc)
    ck = os.path.join(env.dir, "ck")
    env.coord.checkpoint(agent, ck)
    proc.kill()
    proc.wait()
    meta = env.coord.write_plan(ck, os.path.join(ck, "restart.plan"))
    data = open(meta["image"], "rb").read()
    img = imagefmt.read_image(meta["image"], all_crcs=False)
    covered = [(0, imagefmt.HEADER_SIZE),
               (img["data_offset"], img["data_offset"] + img["data_bytes"]),
               (img["data_offset"] + img["data_bytes"], img["file_size"])]   # the tables
    rng = random.Random(1234)
    bad = os.path.join(env.dir, "fuzz.img")
    plan = os.path.join(env.dir, "fuzz.plan")
    with open(plan, "w") as f:
        f.write("version 1\nverify on\nnamespaces off\nprocess %d %s\nfd 1 inherit 1\n" % (meta["pid"], bad))
    for i in range(120):
        content = bytearray(data)
        if rng.random() < 0.2:
            content = content[:rng.randrange(len(content))]
        else:
            for _ in range(rng.randint(1, 4)):
                lo, hi = rng.choice(covered)
                off = rng.randrange(lo, hi)
                content[off] ^= rng.randint(1, 255)
        with open(bad, "wb") as f:
            f.write(content)
        r = subprocess.run([RESTORE, plan], capture_output=True, text=True, timeout=10)
        err = r.stderr.strip().splitlines()
        check(r.returncode == 1, lambda: "mutation %d: restorer rc %s, stderr %s" % (i, r.returncode, err))
        check(len(err) == 1 and err[0].startswith("stasis: image fuzz.img: "), lambda: "mutation %d: stderr %r" % (i, err))


def descendants(host_pid):
    """-> {pid: state} of every process below host_pid (from /proc)"""
    kids = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % name) as f:
                rest = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        kids.setdefault(int(rest[1]), []).append((int(name), rest[0]))
    out, todo = {}, [host_pid]
    while todo:
        for pid, state in kids.get(todo.pop(), []):
            out[pid] = state
            todo.append(pid)
    return out


def suspend_tree(env, known):
    """SUSPEND every agent, including those that join while the checkpoint runs;
    -> the suspended agents (agents whose process ended meanwhile are dropped)"""
    suspended, pending = [], list(known)
    while pending:
        for ag in pending:
            try:
                r = ag.request("SUSPEND", timeout=30)
            except (OSError, ConnectionError):
                ag.close()
                continue
            check(r.startswith("SUSPENDED"), lambda: "pid %d: %s" % (ag.pid, r))
            suspended.append(ag)
        with env.coord.cond:
            pending = env.coord.agents[:]
            env.coord.agents.clear()
    return suspended


def test_fork_join(env):
    """children made by fork() register (ppid, pgid, sid); a checkpoint includes every
    live process of the tree, also while the root forks continuously"""
    proc, first, path = env.launch([os.path.join(SCEN, "forktree"), "join", "4"])
    wait_lines(path, 1, proc)
    _, rpid, apid, bpid = lines(path)[0].split()
    with env.coord.cond:                 # the registrations may come in any order
        env.coord.agents.append(first)
    root = env.coord.wait_agent(lambda x: x.pid == int(rpid))
    a = env.coord.wait_agent(lambda x: x.pid == int(apid))
    b = env.coord.wait_agent(lambda x: x.pid == int(bpid))
    check(a.hello.get("join") == "fork" and b.hello.get("join") == "fork")
    check(int(a.hello["ppid"]) == root.pid and int(b.hello["ppid"]) == a.pid)
    known = [root, a, b]
    for rnd in range(5):
        time.sleep(0.2)
        agents = suspend_tree(env, known)
        live = {ag.host_pid for ag in agents}
        tree = descendants(root.host_pid)
        missing = [p for p, st in tree.items() if st not in "ZX" and p not in live]
        check(not missing, lambda: "round %d: processes outside the checkpoint: %s" % (rnd, missing))
        check(any(st == "Z" for st in tree.values()), lambda: "no zombie in the tree")
        time.sleep(0.1)
        with env.coord.cond:
            check(not env.coord.agents, lambda: "a process joined while all were suspended")
        # pgid/sid as they are now (A called setpgid after it registered)
        ha, hb = (parse_hello(x.request("HELLO")) for x in (a, b))
        check(int(ha["pgid"]) == a.pid and int(hb["pgid"]) == a.pid, lambda: (ha, hb))
        check(ha["sid"] == root.hello["sid"] == hb["sid"] and "join" not in ha)
        ck = os.path.join(env.dir, "ck%d" % rnd)
        for ag in (root, a, b):
            r = ag.request("WRITE " + ck)
            check(r.startswith("WRITTEN "), lambda: r)
        for ag in agents:
            check(ag.request("RESUME 0") == "RESUMED")
        known = [root, a, b]
        for ag in agents:
            if ag not in known:
                ag.close()
    out = finish(proc, path)
    check(int(out[-1].split()[1]) > 50, lambda: out[-1])


def test_tree_restart(env):
    """a three-level tree (own process group, a zombie) passing numbered records through
    two pipes is checkpointed (once resumed: pipes drained and refilled; once killed and
    restarted as one: pipes recreated and refilled), three times: same pids, parents,
    groups, the zombie; every record exactly once in order; signals and waitpid work"""
    proc, first, path = env.launch([os.path.join(SCEN, "forktree"), "tree", "150"])
    wait_lines(path, 1, proc)
    with env.coord.cond:
        env.coord.agents.append(first)
    _, rpid, apid = lines(path)[0].split()
    root = env.coord.wait_agent(lambda x: x.pid == int(rpid))
    known = [root, env.coord.wait_agent(lambda x: x.pid == int(apid))]   # B and Z: found while suspending
    inflight = 0
    for g in range(1, 4):
        wait_lines(path, len(lines(path)) + 10, proc)
        # one checkpoint that lets the tree go on (pipes drained and refilled) ...
        known = env.coord.checkpoint_tree(known, os.path.join(env.dir, "ck%d-resumed" % g))
        wait_lines(path, len(lines(path)) + 5, proc)
        # ... and one it is killed after and restarted from
        ck = os.path.join(env.dir, "ck%d" % g)
        agents = env.coord.checkpoint_tree(known, ck, resume=False)
        check(len(agents) == 3, lambda: [a.pid for a in agents])
        inflight += sum(os.path.getsize(os.path.join(ck, n)) for n in os.listdir(ck) if n.startswith("pipe-"))
        kill_agent_process(root, proc)
        for a in agents:
            a.close()
        path, f = env.log()
        proc, restored = env.coord.restart_tree(RESTORE, ck, f)
        env.procs.append(proc)
        check(sorted(restored) == sorted(a.pid for a in agents))
        known = list(restored.values())
        root = restored[min(restored)]
        wait_lines(path, 3, proc)
    out = finish(proc, path)
    check("A reaped B" in out, lambda: out[-5:])
    sent = int(out[-1].split()[2])
    check("B got %d" % sent in out, lambda: ("records lost or repeated", sent, [l for l in out if l.startswith("B got")]))
    check(inflight > 0, lambda: "no data was in flight in the pipes at any checkpoint")
    for who in ("root", "A", "B"):
        check("restarted %s 3" % who in out, lambda: (who, out[:8]))


def test_exec_outside(env):
    """a child exec'd with STASIS_AGENT_SOCKET set empty: clear warning, it leaves the
    computation, checkpoints of the rest go on"""
    proc, root, path = env.launch([os.path.join(SCEN, "forktree"), "outside"])
    wait_lines(path, 3, proc)
    deadline = time.time() + 10
    while not any("is started without the Stasis agent (STASIS_AGENT_SOCKET cleared)" in l for l in lines(path)):
        check(time.time() < deadline, lambda: "no warning: %s" % lines(path)[:5])
        time.sleep(0.05)
    known = [root]
    for g in range(3):
        known = env.coord.checkpoint_tree(known, os.path.join(env.dir, "ck%d" % g))
        check([a.pid for a in known] == [root.pid], lambda: [a.pid for a in known])
        time.sleep(0.1)
    finish(proc, path)

# ---------------- descriptors: GIVE / TAKE / EPOLL_ADD, posix_spawn, FIFOs ----------------
PIPE_WRITER = r"""
import os, time
r, w = os.pipe()
print("pipe", r, w, flush=True)
i = 0
while True:
    os.write(w, b"tick %d\n" % i)
    i += 1
    time.sleep(0.02)
"""


def fd_flags(host_pid, fd):
    with open("/proc/%d/fdinfo/%d" % (host_pid, fd)) as f:
        return int([l.split()[1] for l in f if l.startswith("flags:")][0], 8)


def fd_set(host_pid):
    return {int(x) for x in os.listdir("/proc/%d/fd" % host_pid)}


def read_available(fd, timeout=0.0):
    """bytes readable from fd without blocking (poll before every read)"""
    import select
    out = b""
    while select.select([fd], [], [], timeout)[0]:
        chunk = os.read(fd, 65536)
        if not chunk:
            break
        out += chunk
        timeout = 0.0
    return out


def test_fd_give(env):
    """GIVE: a dup of a program's pipe end arrives here, running and suspended; the
    agent's own fd and closed fds are refused; nothing is left behind in the process"""
    proc, agent, path = env.launch([sys.executable, "-c", PIPE_WRITER])
    wait_lines(path, 1, proc)
    _, r, w = lines(path)[0].split()
    r, w = int(r), int(w)
    before = fd_set(agent.host_pid)
    reply, fd = agent.give(r)                       # the program is running
    check(reply == "GIVEN %d" % r and fd is not None, lambda: reply)
    try:
        check(os.readlink("/proc/%d/fd/%d" % (agent.host_pid, r)) == "pipe:[%d]" % os.fstat(fd).st_ino)
        data = b""
        deadline = time.time() + 10
        while data.count(b"\n") < 3:
            check(time.time() < deadline, lambda: "nothing came through the given fd: %r" % data)
            data += read_available(fd, 0.5)
        check(data.startswith(b"tick "), lambda: data[:40])
    finally:
        os.close(fd)
    check(agent.request("SUSPEND").startswith("SUSPENDED"))
    reply, wfd = agent.give(w)
    reply2, rfd = agent.give(r)
    check(reply == "GIVEN %d" % w and reply2 == "GIVEN %d" % r and wfd is not None and rfd is not None)
    os.write(wfd, b"from the test\n")
    got = read_available(rfd)
    check(got.endswith(b"from the test\n"), lambda: got[-40:])
    os.close(wfd)
    os.close(rfd)
    for bad in ("GIVE %s" % agent.hello["agent-fd"], "GIVE 977", "GIVE", "GIVE x"):
        check(agent.request(bad).startswith("ERROR "), lambda: bad)
    check(agent.request("RESUME 0") == "RESUMED")
    check(fd_set(agent.host_pid) == before, lambda: "fds left in the process: %s" % (fd_set(agent.host_pid) ^ before))
    wait_lines(path, 1, proc)
    proc.kill()


def test_fd_take(env):
    """TAKE installs a socketpair end at a free number (close-on-exec, O_NONBLOCK as
    asked) and data flows through it; flags are cleared when asked; received fds a
    request does not use are closed; errors for no fd / the agent's fd"""
    proc, agent, path = env.launch([SCEN + "/threads", "1000000", "1000"])
    wait_lines(path, 2, proc)
    hp = agent.host_pid
    agent_fd = int(agent.hello["agent-fd"])
    before = fd_set(hp)
    check(3 not in before and 40 not in before, lambda: before)
    check(agent.request("SUSPEND").startswith("SUSPENDED"))
    a, b = socket.socketpair()
    ino = os.fstat(b.fileno()).st_ino
    r = agent.take(40, os.O_RDWR | os.O_CLOEXEC | os.O_NONBLOCK, [b.fileno()])
    check(r == "TAKEN 40", lambda: r)
    b.close()                                       # the process holds the only other end now
    check(os.readlink("/proc/%d/fd/40" % hp) == "socket:[%d]" % ino)
    fl = fd_flags(hp, 40)
    check(fl & os.O_CLOEXEC and fl & os.O_NONBLOCK, lambda: oct(fl))
    a.sendall(b"through the process")
    reply, g = agent.give(40)
    check(reply == "GIVEN 40", lambda: reply)
    check(read_available(g, 5) == b"through the process")
    os.write(g, b"and back")
    a.settimeout(5)
    check(a.recv(100) == b"and back")
    os.close(g)
    # the received fd lands at the lowest free number (3): TAKE 3 must still clear
    # close-on-exec (received fds are close-on-exec) and O_NONBLOCK
    pr, pw = os.pipe()
    os.set_blocking(pr, False)
    r = agent.take(3, 0, [pr])
    check(r == "TAKEN 3", lambda: r)
    fl = fd_flags(hp, 3)
    check(not fl & os.O_CLOEXEC and not fl & os.O_NONBLOCK, lambda: oct(fl))
    check(os.get_blocking(pr), lambda: "O_NONBLOCK not cleared on the description")
    check(os.readlink("/proc/%d/fd/3" % hp) == "pipe:[%d]" % os.fstat(pr).st_ino)
    # several fds with one TAKE: the first is installed, the others closed
    extra = [os.open("/dev/null", os.O_RDONLY) for _ in range(10)]
    r = agent.take(42, os.O_CLOEXEC, extra)
    check(r == "TAKEN 42", lambda: r)
    check(os.path.samestat(os.stat("/proc/%d/fd/42" % hp), os.fstat(extra[0])))
    # errors, and fds sent with requests that do not take them
    check(agent.take(41, 0, []) == "ERROR no descriptor came with TAKE")
    check(agent.take(agent_fd, 0, [pw]).startswith("ERROR "), lambda: "TAKE onto the agent's fd")
    check(agent.take(0, 0, [pw], line="PING") == "PONG")
    check(agent.take(0, 0, [pw], line="TAKE x 1").startswith("ERROR "))
    check(agent.request("PING") == "PONG")
    if agent_fd >= 0:                               # the fallback's program fd (else in the relay's table)
        check(os.readlink("/proc/%d/fd/%d" % (hp, agent_fd)).startswith("socket:"))
    check(fd_set(hp) == before | {3, 40, 42}, lambda: "fds in the process: %s" % sorted(fd_set(hp) - before))
    fds = {e["fd"] for e in agent.fds()}
    check({3, 40, 42} <= fds and agent_fd not in fds)
    check(agent.request("RESUME 0") == "RESUMED")
    # also while the program runs
    r = agent.take(43, os.O_WRONLY, [pw])
    check(r == "TAKEN 43", lambda: r)
    os.close(pw)
    check(fd_set(hp) == before | {3, 40, 42, 43})
    n = len(lines(path))
    wait_lines(path, n + 2, proc)
    for fd in extra + [pr]:
        os.close(fd)
    a.close()
    proc.kill()


def test_fd_epoll_add(env):
    """EPOLL_ADD registers an fd in an epoll set inside the process: an epoll fd and a
    pipe TAKEn into a suspended process, checked in /proc fdinfo (tfd line) and by the
    set itself reporting the pipe readable"""
    import re
    import select
    proc, agent, path = env.launch([SCEN + "/threads", "1000000", "1000"])
    wait_lines(path, 2, proc)
    hp = agent.host_pid
    check(agent.request("SUSPEND").startswith("SUSPENDED"))
    ep = select.epoll()
    pr, pw = os.pipe()
    check(agent.take(44, os.O_CLOEXEC, [ep.fileno()]) == "TAKEN 44")
    check(agent.take(45, 0, [pr]) == "TAKEN 45")
    os.close(pr)
    r = agent.epoll_add(44, 45, select.EPOLLIN | select.EPOLLET, 0x123456789abcdef0)
    check(r == "EPOLL_ADDED", lambda: r)
    with open("/proc/%d/fdinfo/44" % hp) as f:
        tfd = re.findall(r"tfd:\s+(\d+) events:\s+([0-9a-f]+) data:\s+([0-9a-f]+)", f.read())
    # the kernel adds EPOLLERR|EPOLLHUP to every interest
    want = select.EPOLLIN | select.EPOLLET | select.EPOLLERR | select.EPOLLHUP
    check(tfd == [("45", "%x" % want, "123456789abcdef0")], lambda: tfd)
    check(ep.poll(0) == [])
    os.write(pw, b"x")
    ev = ep.poll(5)
    check(len(ev) == 1 and ev[0][1] & select.EPOLLIN, lambda: ev)
    check(agent.epoll_add(44, 45, 1, 0) == "ERROR epoll_ctl: File exists")
    check(agent.epoll_add(46, 45, 1, 0) == "ERROR epoll_ctl: Bad file descriptor")
    check(agent.epoll_add(44, int(agent.hello["agent-fd"]), 1, 0).startswith("ERROR "))
    check(agent.request("EPOLL_ADD 44 45 zz 0").startswith("ERROR "))
    check(agent.request("RESUME 0") == "RESUMED")
    n = len(lines(path))
    wait_lines(path, n + 2, proc)
    os.close(pw)
    ep.close()
    proc.kill()


SPAWNER = r"""
import os
def run(fn, prog, argv, env):
    pid = fn(prog, argv, env)
    print(argv[-1][5:], "status", os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]), flush=True)
env = dict(os.environ)
run(os.posix_spawn, "/bin/sh", ["sh", "-c", "echo ran spawn"], {k: v for k, v in env.items() if k != "LD_PRELOAD"})
run(os.posix_spawnp, "sh", ["sh", "-c", "echo ran spawnp"], dict(env, STASIS_AGENT_SOCKET=""))
run(os.posix_spawn, "/bin/sh", ["sh", "-c", "echo ran inside"], env)
print("OK", flush=True)
"""


def test_posix_spawn_warning(env):
    """posix_spawn without LD_PRELOAD: the agent is put back, no warning;
    posix_spawnp with STASIS_AGENT_SOCKET set empty: the exec warning, once; the
    children run; none for a normal spawn"""
    proc, agent, path = env.launch([sys.executable, "-c", SPAWNER])
    out = finish(proc, path)
    warn = [l for l in out if l.startswith("stasis: warning:")]
    tail = " is started without the Stasis agent (%s cleared): it runs outside the computation and is not checkpointed"
    check(warn == ["stasis: warning: sh" + tail % "STASIS_AGENT_SOCKET"], lambda: warn)
    for word in ("spawn", "spawnp", "inside"):
        check("ran " + word in out, lambda: (word, out))
    check(out.index(warn[0]) < out.index("ran spawnp"))
    for tag in ("spawn", "spawnp", "inside"):
        check("ran %s status 0" % tag in out, lambda: out)


def test_fifo_restore(env):
    """plan fds on a FIFO (read-only, write-only, non-blocking, unlinked) restore
    without blocking, with their flags, and work as one pipe; TAKE after a restart"""
    proc, agent, path = env.launch([SCEN + "/threads", "1000000", "1000"])
    wait_lines(path, 2, proc)
    ck = os.path.join(env.dir, "ck")
    env.coord.checkpoint(agent, ck, resume=False)
    kill_agent_process(agent, proc)
    fifo, gone = os.path.join(env.dir, "fifo"), os.path.join(env.dir, "fifo-unlinked")
    os.mkfifo(fifo, 0o600)
    os.mkfifo(gone, 0o600)
    plan = os.path.join(ck, "restart.plan")
    env.coord.write_plan(ck, plan)
    with open(plan, "a") as f:
        f.write("fd 5 open %o 0 %s\nfd 6 open %o 0 %s\nfd 7 open %o 0 %s\nfd 8 unlinked %o 0 %s\n"
                % (os.O_RDONLY, fifo, os.O_WRONLY | os.O_CLOEXEC, fifo, os.O_RDONLY | os.O_NONBLOCK, fifo,
                   os.O_RDONLY, gone))
    logp, logf = env.log()
    p2 = subprocess.Popen([RESTORE, plan], stdin=subprocess.DEVNULL, stdout=logf, stderr=logf)
    env.procs.append(p2)
    try:
        a2 = env.coord.wait_agent(lambda a: a.restored > 0, timeout=15)
    except TimeoutError:
        raise AssertionError("the restorer blocked on the FIFO (rc %s): %s" % (p2.poll(), lines(logp)[-3:]))
    hp = a2.host_pid
    for fd in (5, 6, 7):
        check(os.readlink("/proc/%d/fd/%d" % (hp, fd)) == fifo)
    check(os.readlink("/proc/%d/fd/8" % hp) == gone + " (deleted)" and not os.path.exists(gone))
    f5, f6, f7 = (fd_flags(hp, fd) for fd in (5, 6, 7))
    check(f5 & 3 == os.O_RDONLY and not f5 & (os.O_NONBLOCK | os.O_CLOEXEC), lambda: oct(f5))
    check(f6 & 3 == os.O_WRONLY and f6 & os.O_CLOEXEC and not f6 & os.O_NONBLOCK, lambda: oct(f6))
    check(f7 & os.O_NONBLOCK, lambda: oct(f7))
    _, w = a2.give(6)
    _, rd = a2.give(5)
    os.write(w, b"through the fifo")
    check(read_available(rd, 5) == b"through the fifo")
    os.close(w)
    os.close(rd)
    # the restored agent's connection carries descriptors too
    pr, pw = os.pipe()
    check(a2.take(9, 0, [pr]) == "TAKEN 9")
    check(os.readlink("/proc/%d/fd/9" % hp) == "pipe:[%d]" % os.fstat(pr).st_ino)
    os.close(pr)
    os.close(pw)
    check(a2.request("RESUME 1") == "RESUMED")
    wait_lines(logp, 2, p2)
    p2.kill()


# ---------------- shared memory between processes ('shared' plan lines) ----------------
def fd_table(host_pid):
    """-> {fd: link} of a process"""
    d = "/proc/%d/fd" % host_pid
    out = {}
    for name in os.listdir(d):
        try:
            out[int(name)] = os.readlink(os.path.join(d, name))
        except FileNotFoundError:
            pass
    return out


def check_shared_views(ckdir, meta_procs, count):
    """every process has count shared memory views, all of them SHARED_ANON areas of
    its image (the coordinator's rule matches the agent's), the same keys everywhere"""
    keys = None
    for p in meta_procs:
        kinds = {a["start"]: a["kind"] for a in imagefmt.read_image(p["image"])["areas"]}
        check(len(p["shared"]) == count, lambda: (p["pid"], p["shared"]))
        for start, _ in p["shared"]:
            check(kinds.get(int(start, 16)) == "shared-anon", lambda: (start, kinds.get(int(start, 16))))
        mine = sorted(k for _, k in p["shared"])
        check(keys is None or mine == keys, lambda: (mine, keys))
        keys = mine


def check_restored_fds(before, host_pid):
    """same fd numbers as at checkpoint time; no restorer memfd left open"""
    now = fd_table(host_pid)
    check(sorted(now) == sorted(before), lambda: ("fds", sorted(before), now))
    check(not any("memfd:" in link for link in now.values()), lambda: now)


def wait_count(path, proc, word, n, timeout=20):
    """wait for n lines starting with word (a stuck ping-pong fails, not hangs)"""
    deadline = time.time() + timeout
    while sum(1 for l in lines(path) if l.startswith(word)) < n:
        if proc.poll() is not None:
            raise AssertionError("exited early (rc %s): %s" % (proc.returncode, lines(path)[-3:]))
        if time.time() > deadline:
            raise AssertionError("no progress (shared memory not shared?): %s" % lines(path)[-4:])
        time.sleep(0.02)


def test_shm_fork(env):
    """a parent and its child ping-pong a counter through MAP_SHARED|MAP_ANONYMOUS memory
    and a deleted file's shared page; restarted twice with shared lines keyed as the
    coordinator keys them (dev-inode from /proc/<pid>/maps): one object again, the
    ping-pong goes on, no restorer fd is left in the processes"""
    proc, root, path = env.launch([os.path.join(SCEN, "shm_fork"), "fork", "1500"])
    wait_lines(path, 1, proc)
    _, ppid, cpid = lines(path)[0].split()
    check(int(ppid) == root.pid)
    known = [root, env.coord.wait_agent(lambda x: x.pid == int(cpid))]
    for g in range(1, 3):
        wait_count(path, proc, "step", len([l for l in lines(path) if l.startswith("step")]) + 3)
        ck = os.path.join(env.dir, "ck%d" % g)
        agents = env.coord.checkpoint_tree(known, ck, resume=False)
        check(sorted(a.pid for a in agents) == [int(ppid), int(cpid)], lambda: [a.pid for a in agents])
        fds = {a.pid: fd_table(a.host_pid) for a in agents}
        with open(os.path.join(ck, "meta.json")) as f:
            check_shared_views(ck, json.load(f)["processes"], 2)
        kill_agent_process(root, proc)
        for a in agents:
            a.close()
        path, f = env.log()
        proc, restored = env.coord.restart_tree(RESTORE, ck, f, shared="auto")
        env.procs.append(proc)
        for pid, ag in restored.items():
            check_restored_fds(fds[pid], ag.host_pid)
        views = [sorted(k for _, k in shared_areas(ag.host_pid)) for ag in restored.values()]
        check(len(views[0]) == 2 and views[0] == views[1], lambda: ("one object per key after restart", views))
        known = list(restored.values())
        root = restored[int(ppid)]
        wait_count(path, proc, "step", 3)
    out = finish(proc, path)
    check(out[-1] == "OK 1500 1500", lambda: out[-3:])
    for who in ("parent", "child"):
        check("restarted %s 2" % who in out, lambda: (who, out[:4]))


def test_shm_twice(env):
    """one process maps one memfd twice (whole, and its second page alone): a plan with
    shared lines for one process restores both views as one object, with and without
    namespaces; no fd left behind"""
    proc, agent, path = env.launch([os.path.join(SCEN, "shm_fork"), "twice", "400"])
    for g, ns in ((1, True), (2, False)):
        wait_lines(path, len(lines(path)) + 3, proc)
        ck = os.path.join(env.dir, "ck%d" % g)
        env.coord.checkpoint(agent, ck, resume=False)
        fds = fd_table(agent.host_pid)
        with open(os.path.join(ck, "meta.json")) as f:
            meta = json.load(f)
        check_shared_views(ck, [meta], 2)
        kill_agent_process(agent, proc)
        proc, agent, path, _ = env.restart(ck, namespaces=ns, shared="auto")
        check_restored_fds(fds, agent.host_pid)
        wait_lines(path, 3, proc)
    out = finish(proc, path)
    check(out[-1] == "OK 400 800" and "restarted 2" in out, lambda: out[-3:])


def test_shm_plan_errors(env):
    """a shared line that names no shared anonymous area of the process's image, a
    malformed one, or one area twice: one line on stderr, exit 1, nothing started"""
    proc, agent, path = env.launch([os.path.join(SCEN, "shm_fork"), "twice", "100000"])
    wait_lines(path, 2, proc)
    ck = os.path.join(env.dir, "ck")
    env.coord.checkpoint(agent, ck, resume=False)
    kill_agent_process(agent, proc)
    with open(os.path.join(ck, "meta.json")) as f:
        meta = json.load(f)
    views = meta["shared"]
    areas = imagefmt.read_image(meta["image"])["areas"]
    private = "%x" % next(a["start"] for a in areas if a["kind"] == "anon")
    whole = next(a for a in areas if a["kind"] == "shared-anon" and a["end"] - a["start"] == 8192)
    view = ("%x" % whole["start"], dict(views)["%x" % whole["start"]])
    inside = "%x" % (whole["start"] + 4096)
    plan = os.path.join(ck, "restart.plan")
    cases = [   # shared lines, the line at fault (0 = first shared line), message
        ([(private, "k1")], 0, "shared %s: no shared anonymous area starts there in the image of process %d"
         % (private, meta["pid"])),
        ([view, (inside, view[1])], 1, "shared %s: no shared anonymous area starts there" % inside),
        ([("zz", "k")], 0, "shared <start-hex> <key>"),
        ([("-1000", "k")], 0, "shared <start-hex> <key>"),
        ([(view[0], "")], 0, "shared <start-hex> <key>"),
        ([(view[0], "a b")], 0, "shared <start-hex> <key>"),
        ([view, (view[0], "other")], 1, "shared: this area is named twice"),
    ]
    for shared, bad, want in cases:
        env.coord.write_plan(ck, plan, inherit=(), shared=shared)
        with open(plan) as f:
            ln = [i + 1 for i, l in enumerate(f.read().splitlines()) if l.startswith("shared ")][bad]
        r = subprocess.run([RESTORE, plan], stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=20)
        err = r.stderr.splitlines()
        check(r.returncode == 1 and len(err) == 1, lambda: (shared, r.returncode, err))
        check(err[0].startswith("stasis-restore: %s:%d: %s" % (plan, ln, want)), lambda: (want, err))
        with env.coord.cond:
            check(not env.coord.agents, lambda: "a process was started")


TESTS = [test_counter, test_counter_no_namespaces, test_counter_memory_copy, test_counter_parallel,
         test_threads, test_threads_no_namespaces,
         test_files, test_files_moved, test_python, test_checkpoint_from_inside, test_signal_forwarding, test_fd_kinds, test_clock_after_reboot,
         test_fork_join, test_tree_restart, test_exec_outside,
         test_fd_give, test_fd_take, test_fd_epoll_add, test_posix_spawn_warning, test_fifo_restore,
         test_shm_fork, test_shm_twice, test_shm_plan_errors,
         test_bad_images, test_fuzzed_images]


def all_tests():
    """TESTS here, then the TESTS of every tests/t_*.py module (one module per concern,
    so that concerns add tests without touching this file)."""
    import importlib
    tests = list(TESTS)
    here = os.path.dirname(os.path.abspath(__file__))
    for f in sorted(os.listdir(here)):
        if f.startswith("t_") and f.endswith(".py"):
            tests += importlib.import_module(f[:-3]).TESTS
    return tests


def run_once(t, name):
    """-> None if test t passed, else what went wrong (one line)"""
    env = Env(name)
    ok = False
    try:
        t(env)
        ok = True
        return None
    except Exception as e:  # noqa: BLE001
        return "%s: %s" % (type(e).__name__, e)
    finally:
        env.cleanup(keep=os.environ.get("STASIS_KEEP") == "all" or (not ok and os.environ.get("STASIS_KEEP") == "1"))


def alone(test):
    """marks a test that runs while no other test runs: it bounds a time (a call's
    duration, a timer's rate) or watches an I/O priority that a neighbour's load could
    upset. The others run JOBS at a time (see main)."""
    test.alone = True
    return test


def run_with_retry(t, name, retry):
    """-> (error or None, seconds of the last run, first error if it passed only on its
    second run); prints RETRY, PASS or FAIL"""
    t0 = time.time()
    error, first = run_once(t, name), None
    if error is not None and retry:
        print("RETRY %-23s %s" % (name, error), flush=True)
        first, t0 = error, time.time()
        error = run_once(t, name)
    secs = time.time() - t0
    if error is None:
        print("PASS %-24s %.1fs" % (name, secs), flush=True)
    else:
        print("FAIL %-24s %s" % (name, error), flush=True)
    return error, secs, (first if error is None else None)


DONE = "\x1edone "   # a worker's line to the runner after each test (never printed)


def worker(tests, retry, fd):
    """`run_tests.py OUT --worker FD`: runs the tests the runner names on fd FD, one a
    line (not stdin: a program a test starts may read that), each followed by a DONE
    line on stdout: ok, failed, or second FIRST-ERROR"""
    os.set_inheritable(fd, False)
    for line in os.fdopen(fd):
        name = line.strip()
        error, _, first = run_with_retry(tests[name], name, retry)
        verdict = "failed" if error is not None else ("second " + first if first else "ok")
        print(DONE + name + " " + verdict.replace("\n", " "), flush=True)
    return 0


def run_parallel(tests, names, jobs, retry):
    """runs names on `jobs` worker processes (each its own interpreter, so a test's
    os.environ or cwd stays its own); an `alone` test starts when every worker is idle
    and nothing starts beside it. Alone tests go first, then the others in order.
    -> (failed names, [second-run notes])"""
    import selectors
    queue = [n for n in names if getattr(tests[n], "alone", False)] + \
        [n for n in names if not getattr(tests[n], "alone", False)]
    sel = selectors.DefaultSelector()
    workers = []
    for _ in range(min(jobs, len(queue))):
        r, wfd = os.pipe()
        w = subprocess.Popen([sys.executable, os.path.abspath(__file__), OUT, "--worker", str(r)], pass_fds=(r,),
                             stdout=subprocess.PIPE)
        os.close(r)
        w.orders, w.pending = os.fdopen(wfd, "w", buffering=1), b""
        workers.append(w)
        sel.register(w.stdout, selectors.EVENT_READ, w)
    running = {}                       # worker -> the test it runs
    failed, second = [], []

    def dispatch():
        while queue:
            idle = [w for w in workers if w not in running]
            if not idle or any(getattr(tests[n], "alone", False) for n in running.values()):
                return
            if getattr(tests[queue[0]], "alone", False) and running:
                return
            running[idle[0]] = queue.pop(0)
            idle[0].orders.write(running[idle[0]] + "\n")

    def done(w, line):
        name, verdict = line[len(DONE):].split(" ", 1)
        running.pop(w)
        if verdict == "failed":
            failed.append(name)
        elif verdict.startswith("second "):
            second.append("%s (first run: %s)" % (name, verdict[7:]))

    dispatch()
    while running:
        for key, _ in sel.select():
            w = key.data
            data = os.read(w.stdout.fileno(), 65536)   # not readline: lines left in a buffer select cannot see
            if not data:                  # the worker died: its test failed, it takes no more
                sel.unregister(w.stdout)
                name = running.pop(w, None)
                if name:
                    failed.append(name)
                    print("FAIL %-24s its worker ended (rc %s)" % (name, w.wait()), flush=True)
                workers.remove(w)
                if not workers:
                    failed += queue
                    queue.clear()
                continue
            w.pending += data
            *complete, w.pending = w.pending.split(b"\n")
            for line in (raw.decode(errors="replace") for raw in complete):
                if line.startswith(DONE):
                    done(w, line)
                else:
                    sys.stdout.write(line + "\n")
            sys.stdout.flush()
        dispatch()
    for w in workers:
        w.orders.close()
        w.wait()
    return failed, second


def main():
    """Runs the tests (all, or those named). A test that fails runs once more: on these
    2-core machines, shared with other work, a few timing-bound scenarios failed once in
    many runs for causes not found; one that passes on its second run is listed at the
    end as such (never silently), one that fails twice fails the suite.
    STASIS_NO_RETRY=1: no second run. Most tests wait on programs more than they compute,
    so STASIS_TEST_JOBS (default 2) of them run at once, each in a worker process of
    its own; tests marked `alone` run with no neighbour. STASIS_TEST_JOBS=1: one at a time."""
    retry = os.environ.get("STASIS_NO_RETRY") != "1"
    tests = {t.__name__[5:]: t for t in all_tests()}
    if sys.argv[2:3] == ["--worker"]:
        return worker(tests, retry, int(sys.argv[3]))
    want = sys.argv[2:]
    unknown = [n for n in want if n not in tests]
    if unknown:
        print("run_tests.py: no test named %s" % " ".join(unknown), file=sys.stderr)
        return 2
    names = [n for n in tests if not want or n in want]
    jobs = max(1, int(os.environ.get("STASIS_TEST_JOBS", "2")))
    t0 = time.time()
    if jobs == 1 or len(names) == 1:
        failed, second = [], []
        for name in names:
            error, _, first = run_with_retry(tests[name], name, retry)
            if error is not None:
                failed.append(name)
            elif first:
                second.append("%s (first run: %s)" % (name, first))
    else:
        failed, second = run_parallel(tests, names, jobs, retry)
    print("%d tests in %.0f s, %d at a time" % (len(names), time.time() - t0, jobs))
    if second:
        print("passed only on a second run: %d" % len(second))
        for line in second:
            print("  " + line)
    if failed:
        print("failed: %s" % " ".join(failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
