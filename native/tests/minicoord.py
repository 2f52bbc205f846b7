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


class Agent:
    def __init__(self, conn, hello, host_pid):
        self.conn = conn
        self.file = conn.makefile("rb")
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
            out.append({"fd": int(fd), "flags": int(flags, 8), "pos": int(pos), "path": path})

    def close(self):
        try:
            self.conn.close()
        except OSError:
            pass


def parse_hello(line):
    if not line.startswith("HELLO "):
        raise ValueError("expected HELLO, got %r" % line)
    head, _, exe = line.partition(" exe=")
    fields = dict(kv.split("=", 1) for kv in head.split()[1:])
    fields["exe"] = exe
    return fields


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
            f = conn.makefile("rb")
            first = f.readline().decode().rstrip("\n")
            f.close()
            if first.startswith("REQUEST "):       # stasis_checkpoint() from inside a program
                conn.sendall(b"ACCEPTED\n")
                conn.close()
                with self.cond:
                    self.requests.append((host_pid, first))
                    self.cond.notify_all()
                return
            hello = parse_hello(first)
            agent = Agent(conn, hello, host_pid)
        except (OSError, ValueError):
            conn.close()
            return
        with self.cond:
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
    def checkpoint(self, agent, ckdir, resume=True):
        """SUSPEND, FDS, WRITE, (RESUME 0); returns timing dict. ckdir is created 0700."""
        os.makedirs(ckdir, mode=0o700, exist_ok=True)
        t0 = time.time()
        r = agent.request("SUSPEND")
        if not r.startswith("SUSPENDED"):
            raise RuntimeError("SUSPEND: " + r)
        t1 = time.time()
        fds = agent.fds()
        r = agent.request("WRITE " + ckdir)
        if not r.startswith("WRITTEN "):
            raise RuntimeError("WRITE: " + r)
        _, nbytes, nareas, image = r.split(" ", 3)
        t2 = time.time()
        meta = {"pid": agent.pid, "image": image, "fds": fds, "hello": agent.hello,
                "bytes": int(nbytes), "areas": int(nareas)}
        tmp = os.path.join(ckdir, "meta.json.tmp")
        with open(tmp, "w") as f:
            json.dump(meta, f)
        os.rename(tmp, os.path.join(ckdir, "meta.json"))
        if resume:
            r = agent.request("RESUME 0")
            if r != "RESUMED":
                raise RuntimeError("RESUME: " + r)
        return {"suspend": t1 - t0, "write": t2 - t1, "total": time.time() - t0, "bytes": int(nbytes),
                "exe": agent.hello["exe"]}

    # ---- restart ----
    def write_plan(self, ckdir, plan_path, namespaces=True, inherit=(0, 1, 2), memory="lazy", rewrite=None):
        """rewrite: {old_prefix: new_prefix} for fd paths and shared file mappings"""
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
        for fd in inherit:
            lines.append("fd %d inherit %d" % (fd, fd))
        for e in meta["fds"]:
            if e["fd"] in inherit or not e["path"].startswith("/") or e["path"].endswith(" (deleted)"):
                continue
            if e["path"].startswith("/dev/") or e["path"].startswith("/proc/"):
                continue
            lines.append("fd %d open %o %d %s" % (e["fd"], e["flags"], e["pos"], rw(e["path"])))
        with open(plan_path, "w") as f:
            f.write("\n".join(lines) + "\n")
        return meta

    def restart(self, restorer, ckdir, stdout, namespaces=True, resume=True, timeout=30, memory="lazy",
                rewrite=None):
        """start the restorer; wait for the restored agent; RESUME 1. -> (Popen, Agent, secs)"""
        plan = os.path.join(ckdir, "restart.plan")
        meta = self.write_plan(ckdir, plan, namespaces, memory=memory, rewrite=rewrite)
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
