#!/usr/bin/env python3
"""Reference coordinator for the native tests: speaks doc/agent-protocol.md on the
agent socket, writes checkpoint directories and restart plans (doc/restart-plan.md).

Used as a library by run_tests.py; also a tiny CLI for manual experiments:
  minicoord.py serve SOCKET   (prints agents; commands on stdin: ckpt DIR | quit)"""
import json
import os
import socket
import struct
import subprocess
import sys
import threading
import time


class LineReader:
    """Reads reply lines with recvmsg so that descriptors the agent sends along
    (SCM_RIGHTS, GIVE) are kept; a plain read() would make the kernel drop them."""

    def __init__(self, conn):
        self.conn = conn
        self.buf = b""
        self.fds = []                     # received, not yet taken by the caller

    def readline(self):
        while b"\n" not in self.buf:
            data, fds, _, _ = socket.recv_fds(self.conn, 65536, 16)
            self.fds += fds
            if not data:
                return b""
            self.buf += data
        line, _, self.buf = self.buf.partition(b"\n")
        return line + b"\n"

    def close_fds(self):
        for fd in self.fds:
            os.close(fd)
        self.fds = []


class Agent:
    def __init__(self, conn, hello, host_pid, reader=None):
        self.paused = None  # why the last SNAPSHOT was written in the pause (None: it was not)
        self.conn = conn
        self.file = reader or LineReader(conn)
        self.hello = hello
        self.host_pid = host_pid
        self.pid = int(hello["pid"])
        self.restored = int(hello["restored"])

    def request(self, line, timeout=60):
        self.conn.settimeout(timeout)
        self.conn.sendall((line + "\n").encode())
        return self.readline()

    def readline(self):
        line = self.file.readline()
        if not line:
            raise ConnectionError("agent closed the connection")
        return line.decode().rstrip("\n")

    def fds(self):
        self.conn.sendall(b"FDS\n")
        out = []
        while True:
            line = self.readline()
            if line == "END":
                return out
            if line.startswith("ERROR"):
                raise RuntimeError(line)
            _, fd, flags, pos, path = line.split(" ", 4)
            out.append({"fd": int(fd), "flags": int(flags, 8), "pos": int(pos), "path": unescape(path)})

    # ---- descriptors (GIVE / TAKE / EPOLL_ADD) ----
    def give(self, fd, timeout=60):
        """-> (reply, descriptor or None): a dup of the process's fd in this process"""
        self.file.close_fds()
        r = self.request("GIVE %d" % fd, timeout)
        got, self.file.fds = self.file.fds, []
        if r != "GIVEN %d" % fd or len(got) != 1:
            for d in got:
                os.close(d)
            return r, None
        return r, got[0]

    def take(self, fd, flags, descriptors, timeout=60, line=None):
        """install descriptors[0] at fd in the process; the request line and the
        descriptors go in ONE sendmsg (that is how the agent pairs them)"""
        self.conn.settimeout(timeout)
        data = ((line if line is not None else "TAKE %d %o" % (fd, flags)) + "\n").encode()
        if descriptors:
            socket.send_fds(self.conn, [data], list(descriptors))
        else:
            self.conn.sendall(data)
        return self.readline()

    def epoll_add(self, epfd, fd, events, data, timeout=60):
        return self.request("EPOLL_ADD %d %d %x %x" % (epfd, fd, events, data), timeout)

    def close(self):
        try:
            self.conn.close()
        except OSError:
            pass
        self.file.close_fds()


def unescape(field):
    """a path field of the agent protocol: backslash and newline are escaped"""
    out, i = [], 0
    while i < len(field):
        if field[i] == "\\" and i + 1 < len(field):
            out.append("\n" if field[i + 1] == "n" else field[i + 1])
            i += 2
        else:
            out.append(field[i])
            i += 1
    return "".join(out)


def parse_hello(line):
    if not line.startswith("HELLO "):
        raise ValueError("expected HELLO, got %r" % line)
    head, _, exe = line.partition(" exe=")
    fields = dict(kv.split("=", 1) for kv in head.split()[1:])
    fields["exe"] = unescape(exe)
    return fields


def pipe_ino(path):
    """'pipe:[123]' -> '123', else None"""
    return path[6:-1] if path.startswith("pipe:[") and path.endswith("]") else None


def internal_pipes(fdmap):
    """{pid: [fd entries]} -> {ino: [(pid, entry)]} for pipes of which the computation
    holds a read end and a write end (otherwise the pipe leads outside: not ours)"""
    ends = {}
    for pid, fds in fdmap.items():
        for e in fds:
            ino = pipe_ino(e["path"])
            if ino:
                ends.setdefault(ino, []).append((pid, e))
    return {ino: v for ino, v in ends.items()
            if any(e["flags"] & 3 for _, e in v) and not all(e["flags"] & 3 for _, e in v)}


def shared_areas(host_pid):
    """-> [(start-hex, key)]: the views of shared memory objects in a (suspended)
    process, as the coordinator finds them in /proc/<pid>/maps: shared ('s') mappings
    of /dev/zero (deleted) (MAP_SHARED|MAP_ANONYMOUS), SysV segments, memfds and deleted
    files; key = "<dev>-<inode>" of the maps line (the same object in every process)"""
    out = []
    with open("/proc/%d/maps" % host_pid) as f:
        for line in f:
            parts = line.rstrip("\n").split(None, 5)
            if len(parts) < 6 or parts[1][3] != "s":
                continue
            name = parts[5]
            if name.endswith(" (deleted)") or name.startswith("/SYSV") or name.startswith("/memfd:"):
                out.append((parts[0].split("-")[0], "%s-%s" % (parts[3], parts[4])))
    return out


def shared_lines(shared, recorded):
    """plan lines for shared=None (none), "auto" (the recorded areas) or [(start, key)]"""
    if shared is None:
        return []
    return ["shared %s %s" % (start, key) for start, key in (recorded if shared == "auto" else shared)]


class Coordinator:
    def __init__(self, sock_path):
        self.sock_path = sock_path
        self.agents = []
        self.requests = []
        self.cond = threading.Condition()
        self.srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        if os.path.exists(sock_path):
            os.unlink(sock_path)
        self.srv.bind(sock_path)
        os.chmod(sock_path, 0o600)
        self.srv.listen(16)
        self.closed = False
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while not self.closed:
            try:
                conn, _ = self.srv.accept()
            except OSError:
                return
            threading.Thread(target=self._register, args=(conn,), daemon=True).start()

    def _register(self, conn):
        try:
            cred = conn.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
            host_pid, uid, _ = struct.unpack("3i", cred)
            if uid != os.getuid():
                conn.close()
                return
            conn.settimeout(30)
            reader = LineReader(conn)
            first = reader.readline().decode().rstrip("\n")
            if first.startswith("REQUEST "):       # stasis_checkpoint() from inside a program
                conn.sendall(b"ACCEPTED\n")
                conn.close()
                with self.cond:
                    self.requests.append((host_pid, first))
                    self.cond.notify_all()
                return
            hello = parse_hello(first)
            agent = Agent(conn, hello, host_pid, reader)
        except (OSError, ValueError):
            conn.close()
            return
        with self.cond:
            # a child made by fork() waits for PING once it is registered (its
            # parent's fork() returns only then); register and confirm under the lock
            if hello.get("join") == "fork":
                try:
                    if agent.request("PING", timeout=10) != "PONG":
                        raise ConnectionError("no PONG")
                except (OSError, ConnectionError):
                    agent.close()
                    return
            self.agents.append(agent)
            self.cond.notify_all()

    def wait_agent(self, pred=lambda a: True, timeout=30):
        deadline = time.time() + timeout
        with self.cond:
            while True:
                for a in self.agents:
                    if pred(a):
                        self.agents.remove(a)
                        return a
                left = deadline - time.time()
                if left <= 0:
                    raise TimeoutError("no agent connected")
                self.cond.wait(left)

    def wait_request(self, timeout=30):
        """-> (host_pid, request line) of the next in-program checkpoint request"""
        deadline = time.time() + timeout
        with self.cond:
            while not self.requests:
                left = deadline - time.time()
                if left <= 0:
                    raise TimeoutError("no checkpoint request")
                self.cond.wait(left)
            return self.requests.pop(0)

    def close(self):
        self.closed = True
        self.srv.close()
        try:
            os.unlink(self.sock_path)
        except OSError:
            pass

    # ---- checkpoint ----
    def snapshot(self, agent, ckdir):
        """SNAPSHOT: -> "SNAPSHOTTING <path>" (COLLECT later) or, written in the pause,
        "WRITTEN <bytes> <areas> <path>" (the reason kept in agent.paused)"""
        r = agent.request("SNAPSHOT " + ckdir)
        agent.paused = None
        if r.startswith("PAUSED "):
            _, agent.paused, rest = r.split(" ", 2)
            r = "WRITTEN " + rest
        elif not r.startswith("SNAPSHOTTING "):
            raise RuntimeError("SNAPSHOT pid %d: %s" % (agent.pid, r))
        return r

    def checkpoint(self, agent, ckdir, resume=True, snapshot=False):
        """SUSPEND, FDS, WRITE, (RESUME 0); returns timing dict. ckdir is created 0700.
        snapshot: SNAPSHOT instead of WRITE, RESUME 0 (if resume) before COLLECT."""
        os.makedirs(ckdir, mode=0o700, exist_ok=True)
        t0 = time.time()
        r = agent.request("SUSPEND")
        if not r.startswith("SUSPENDED"):
            raise RuntimeError("SUSPEND: " + r)
        t1 = time.time()
        fds = agent.fds()
        if snapshot:
            r = self.snapshot(agent, ckdir)
            if r.startswith("SNAPSHOTTING ") and resume:
                # with an id: a RESUME without one aborts the checkpoint (the child is killed)
                resumed = agent.request("RESUME 0 " + os.path.basename(ckdir))
                if resumed != "RESUMED":
                    raise RuntimeError("RESUME: " + resumed)
                resume = False
            t_paused = time.time()
            if r.startswith("SNAPSHOTTING "):
                r = agent.request("COLLECT")
        else:
            r = agent.request("WRITE " + ckdir)
        if not r.startswith("WRITTEN "):
            raise RuntimeError("WRITE: " + r)
        _, nbytes, nareas, image = r.split(" ", 3)
        t2 = time.time()
        meta = {"pid": agent.pid, "image": image, "fds": fds, "hello": agent.hello,
                "bytes": int(nbytes), "areas": int(nareas), "shared": shared_areas(agent.host_pid)}
        tmp = os.path.join(ckdir, "meta.json.tmp")
        with open(tmp, "w") as f:
            json.dump(meta, f)
        os.rename(tmp, os.path.join(ckdir, "meta.json"))
        if resume:
            r = agent.request("RESUME 0")
            if r != "RESUMED":
                raise RuntimeError("RESUME: " + r)
        return {"suspend": t1 - t0, "write": t2 - t1, "total": time.time() - t0, "bytes": int(nbytes),
                "exe": agent.hello["exe"], "paused": (t_paused if snapshot else t2) - t0}

    # ---- restart ----
    def write_plan(self, ckdir, plan_path, namespaces=True, inherit=(0, 1, 2), memory="lazy", rewrite=None,
                   shared=None, redirect=None):
        """rewrite: {old_prefix: new_prefix} for fd paths and shared file mappings;
        redirect: {old: new} redirect lines (the agent serves old from new; fd paths are
        rewritten by rewrite only);
        shared: None (no shared lines: private copies), "auto" (the shared memory views
        found at checkpoint time) or a list of (start-hex, key)"""
        rewrite = rewrite or {}

        def rw(path):
            for old, new in rewrite.items():
                if path == old or path.startswith(old + "/"):
                    return new + path[len(old):]
            return path

        with open(os.path.join(ckdir, "meta.json")) as f:
            meta = json.load(f)
        lines = ["version 1", "namespaces " + ("on" if namespaces else "off"), "memory " + memory,
                 "process %d %s" % (meta["pid"], meta["image"]),
                 "agent-socket " + self.sock_path]
        lines += ["path-map %s\t%s" % (old, new) for old, new in rewrite.items()]
        lines += ["redirect %s\t%s" % (old, new) for old, new in (redirect or {}).items()]
        for fd in inherit:
            lines.append("fd %d inherit %d" % (fd, fd))
        for e in meta["fds"]:
            if e["fd"] in inherit or not e["path"].startswith("/") or e["path"].endswith(" (deleted)"):
                continue
            if e["path"].startswith("/dev/") or e["path"].startswith("/proc/"):
                continue
            lines.append("fd %d open %o %d %s" % (e["fd"], e["flags"], e["pos"], rw(e["path"])))
        lines += shared_lines(shared, meta.get("shared", []))
        with open(plan_path, "w") as f:
            f.write("\n".join(lines) + "\n")
        return meta

    def restart(self, restorer, ckdir, stdout, namespaces=True, resume=True, timeout=30, memory="lazy",
                rewrite=None, shared=None, redirect=None):
        """start the restorer; wait for the restored agent; RESUME 1. -> (Popen, Agent, secs)"""
        plan = os.path.join(ckdir, "restart.plan")
        meta = self.write_plan(ckdir, plan, namespaces, memory=memory, rewrite=rewrite, shared=shared,
                               redirect=redirect)
        t0 = time.time()
        proc = subprocess.Popen([restorer, plan], stdin=subprocess.DEVNULL, stdout=stdout, stderr=stdout)
        try:
            agent = self.wait_agent(lambda a: a.restored > 0, timeout=timeout)
        except TimeoutError:
            proc.kill()
            proc.wait()
            raise RuntimeError("restored process did not reconnect (restorer rc %s)" % proc.returncode)
        if namespaces and agent.pid != meta["pid"]:
            raise RuntimeError("restored pid %d != %d" % (agent.pid, meta["pid"]))
        if resume:
            r = agent.request("RESUME 1")
            if r != "RESUMED":
                raise RuntimeError("RESUME 1: " + r)
        return proc, agent, time.time() - t0

    # ---- process trees ----
    def suspend_tree(self, known, timeout=60):
        """SUSPEND every agent in known and every agent that registers meanwhile (children
        made by fork() while the checkpoint starts); -> the suspended agents, pid order.
        Agents whose process ended meanwhile are dropped."""
        suspended, pending = [], list(known)
        while pending:
            for ag in pending:
                try:
                    r = ag.request("SUSPEND", timeout=timeout)
                except (OSError, ConnectionError):
                    ag.close()
                    continue
                if not r.startswith("SUSPENDED"):
                    raise RuntimeError("SUSPEND pid %d: %s" % (ag.pid, r))
                suspended.append(ag)
            with self.cond:
                pending = self.agents[:]
                self.agents.clear()
        return sorted(suspended, key=lambda a: a.pid)

    def checkpoint_tree(self, known, ckdir, resume=True, compress=None, snapshot=False, before_resume=None):
        """checkpoint a whole computation into ckdir (meta.json lists every process with
        its ppid/pgid/sid at suspend time); compress: e.g. "zstd 1" (images compressed);
        snapshot: SNAPSHOT instead of WRITE; the images of snapshot children are collected
        after the RESUME (if resume), before meta.json; before_resume(agents): called once
        the images are written or snapshotted, before anything else; -> the agents checkpointed"""
        collect = []
        os.makedirs(ckdir, mode=0o700, exist_ok=True)
        agents = self.suspend_tree(known)
        fdmap = {ag.pid: ag.fds() for ag in agents}
        pipes = internal_pipes(fdmap)
        drained = {}                                    # ino -> (reader agent, fd, bytes)
        for ino, ends in pipes.items():
            readers = [(pid, e) for pid, e in ends if e["flags"] & 3 == os.O_RDONLY]
            if not readers:
                continue
            pid, e = readers[0]
            ag = next(a for a in agents if a.pid == pid)
            data = b""
            while True:
                r = ag.request("DRAIN %d 3072" % e["fd"])
                if not r.startswith("DRAINED"):
                    raise RuntimeError("DRAIN pid %d: %s" % (pid, r))
                chunk = bytes.fromhex(r[8:])
                if not chunk:
                    break
                data += chunk
            drained[ino] = (ag, e["fd"], data)
            if data:
                with open(os.path.join(ckdir, "pipe-%s.data" % ino), "wb") as f:
                    f.write(data)
        procs = []
        for ag in agents:
            now = parse_hello(ag.request("HELLO"))       # ppid/pgid/sid as they are now
            fds = fdmap[ag.pid]
            if compress and ag.request("COMPRESS " + compress) != "COMPRESS " + compress.split()[0]:
                raise RuntimeError("COMPRESS pid %d refused" % ag.pid)
            r = self.snapshot(ag, ckdir) if snapshot else ag.request("WRITE " + ckdir)
            if r.startswith("SNAPSHOTTING "):
                collect.append(ag)
                r = "WRITTEN ? ? " + r.split(" ", 1)[1]
            if not r.startswith("WRITTEN "):
                raise RuntimeError("WRITE pid %d: %s" % (ag.pid, r))
            zombies = []
            ag.conn.sendall(b"ZOMBIES\n")
            while True:
                line = ag.readline()
                if line == "END":
                    break
                if not line.startswith("ZOMBIE "):
                    raise RuntimeError("ZOMBIES pid %d: %s" % (ag.pid, line))
                zombies.append([int(x) for x in line.split()[1:]])
            procs.append({"pid": ag.pid, "image": r.split(" ", 3)[3], "fds": fds, "hello": ag.hello,
                          "ppid": int(now["ppid"]), "pgid": int(now["pgid"]), "sid": int(now["sid"]),
                          "zombies": zombies, "shared": shared_areas(ag.host_pid)})
        if before_resume:
            before_resume(agents)
        if resume:
            for ag, fd, data in drained.values():      # refill, in order, before anyone runs
                for i in range(0, len(data), 3072):
                    r = ag.request("FILL %d %s" % (fd, data[i:i + 3072].hex()))
                    if not r.startswith("FILLED"):
                        raise RuntimeError("FILL pid %d: %s" % (ag.pid, r))
            for ag in agents:
                if ag.request("RESUME 0" + (" " + os.path.basename(ckdir) if snapshot else "")) != "RESUMED":
                    raise RuntimeError("RESUME pid %d" % ag.pid)
        for ag in collect:
            r = ag.request("COLLECT")
            if not r.startswith("WRITTEN "):
                raise RuntimeError("COLLECT pid %d: %s" % (ag.pid, r))
        tmp = os.path.join(ckdir, "meta.json.tmp")
        with open(tmp, "w") as f:
            json.dump({"processes": procs}, f)
        os.rename(tmp, os.path.join(ckdir, "meta.json"))
        return agents

    def write_tree_plan(self, ckdir, plan_path, inherit=(0, 1, 2), extra=None, shared=None):
        """plan for a whole tree: process + tree + fd lines per process.
        extra: {pid: [plan lines]} added to that process's section;
        shared: None, "auto" or {pid: [(start-hex, key)]} (see write_plan)"""
        with open(os.path.join(ckdir, "meta.json")) as f:
            meta = json.load(f)
        lines = ["version 1", "namespaces on", "agent-socket " + self.sock_path]
        pipes = internal_pipes({p["pid"]: p["fds"] for p in meta["processes"]})
        for ino in pipes:
            data = os.path.join(ckdir, "pipe-%s.data" % ino)
            if os.path.exists(data):
                lines.append("pipe %s %s" % (ino, data))
        for p in meta["processes"]:
            lines.append("process %d %s" % (p["pid"], p["image"]))
            lines.append("tree %d %d %d" % (p["ppid"], p["pgid"], p["sid"]))
            lines += ["zombie %d %d" % (zp, st) for zp, st in p.get("zombies", [])]
            piped = set()
            for e in p["fds"]:
                ino = pipe_ino(e["path"])
                if ino in pipes:
                    piped.add(e["fd"])
                    lines.append("fd %d pipe %s %s %o" % (e["fd"], ino, "w" if e["flags"] & 3 else "r", e["flags"]))
            for fd in inherit:
                if fd not in piped:
                    lines.append("fd %d inherit %d" % (fd, fd))
            for e in p["fds"]:
                if e["fd"] in inherit or not e["path"].startswith("/") or e["path"].endswith(" (deleted)"):
                    continue
                if e["path"].startswith("/dev/") or e["path"].startswith("/proc/"):
                    continue
                lines.append("fd %d open %o %d %s" % (e["fd"], e["flags"], e["pos"], e["path"]))
            mine = shared if shared in (None, "auto") else shared.get(p["pid"], [])
            lines += shared_lines(mine, p.get("shared", []))
            lines += (extra or {}).get(p["pid"], [])
        with open(plan_path, "w") as f:
            f.write("\n".join(lines) + "\n")
        return meta

    def restart_tree(self, restorer, ckdir, stdout, timeout=30, resume=True, pass_fds=(), extra=None,
                     shared=None):
        """start one restorer for the whole tree; wait for every restored agent; release
        them together. -> (Popen, {pid: Agent})"""
        plan = os.path.join(ckdir, "restart.plan")
        meta = self.write_tree_plan(ckdir, plan, extra=extra, shared=shared)
        want = {p["pid"] for p in meta["processes"]}
        proc = subprocess.Popen([restorer, plan], stdin=subprocess.DEVNULL, stdout=stdout, stderr=stdout,
                                pass_fds=pass_fds)
        agents = {}
        try:
            while len(agents) < len(want):
                ag = self.wait_agent(lambda a: a.restored > 0 and a.pid in want and a.pid not in agents,
                                     timeout=timeout)
                agents[ag.pid] = ag
        except TimeoutError:
            proc.kill()
            proc.wait()
            raise RuntimeError("restored processes missing: %s (restorer rc %s)"
                               % (sorted(want - set(agents)), proc.returncode))
        if resume:
            for pid in sorted(agents):
                if agents[pid].request("RESUME 1") != "RESUMED":
                    raise RuntimeError("RESUME 1 pid %d" % pid)
        return proc, agents


def main():
    if len(sys.argv) != 3 or sys.argv[1] != "serve":
        print(__doc__)
        return 2
    c = Coordinator(sys.argv[2])
    agent = c.wait_agent(timeout=3600)
    print("agent", agent.hello, "host pid", agent.host_pid, flush=True)
    for line in sys.stdin:
        cmd = line.split()
        if cmd and cmd[0] == "ckpt":
            print(c.checkpoint(agent, cmd[1]), flush=True)
        elif cmd and cmd[0] == "quit":
            break
    c.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
