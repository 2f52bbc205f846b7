#!/usr/bin/env python3
"""Self-tests of stasis-client against a fake coordinator speaking the control protocol.

usage: test_client.py PATH/TO/stasis-client

Each test gets its own STASIS_RUNTIME_DIR (mode 0700) under a temporary directory and
runs small protocol servers in threads. The real end-to-end test against the Java
coordinator lives with the coordinator.

If javac and the Apache Felix Gogo runtime 1.1.6 jar are available (STASIS_GOGO_JAR, or
the local Maven repository), the `call` quoting is also checked by feeding the client's
command lines to the real Gogo parser; otherwise that test is skipped.
"""
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest

CLIENT = None  # set from argv
NO_COORD = "stasis: no coordinator 'default' is running; start one with: stasis coordinator --daemon\n"


def quote(arg):
    """The quoting rule stasis-client implements, as a reference."""
    return "'" + arg.replace("'", "'\\''") + "'"


def frame(kind, payload):
    if isinstance(payload, str):
        payload = payload.encode()
    return kind.encode() + b" " + str(len(payload)).encode() + b"\n" + payload


def read_request(conn):
    """Read one request: returns (line, body) where body is the EXEC payload or b''."""
    line = b""
    while not line.endswith(b"\n"):
        c = conn.recv(1)
        if not c:
            return line, b""
        line += c
    line = line[:-1]
    body = b""
    if line.startswith(b"EXEC "):
        n = int(line[5:])
        while len(body) < n:
            c = conn.recv(n - len(body))
            if not c:
                break
            body += c
    return line, body


class FakeCoordinator:
    """Listens on <rundir>/<name>.sock; handler(conn, server) serves one connection."""

    def __init__(self, rundir, name, handler):
        self.name = name
        self.path = os.path.join(rundir, name + ".sock")
        self.handler = handler
        self.requests = []
        self.lock = threading.Lock()
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.bind(self.path)
        self.sock.listen(16)
        self.workers = []
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def record(self, req):
        with self.lock:
            self.requests.append(req)

    def _accept(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            t = threading.Thread(target=self._serve, args=(conn,), daemon=True)
            self.workers.append(t)
            t.start()

    def _serve(self, conn):
        try:
            self.handler(conn, self)
        except OSError:
            pass
        finally:
            conn.close()

    def close(self):
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.sock.close()
        self.thread.join(5)
        for t in self.workers:
            t.join(5)
        if self.path and os.path.exists(self.path):
            os.unlink(self.path)


class FakeTcpCoordinator(FakeCoordinator):
    """Listens on 127.0.0.1:<free port>; a connection must first send "TOKEN <token>\n",
    else it is recorded in .refused and closed, as the real coordinator does."""

    def __init__(self, token, handler):
        self.name = "tcp"
        self.path = None
        self.token = token
        self.handler = handler
        self.requests = []
        self.refused = []
        self.lock = threading.Lock()
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.address = "127.0.0.1:%d" % self.sock.getsockname()[1]
        self.workers = []
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _serve(self, conn):
        line = b""
        try:
            while not line.endswith(b"\n") and len(line) < 300:
                c = conn.recv(1)
                if not c:
                    break
                line += c
        except OSError:
            conn.close()
            return
        if line != b"TOKEN " + self.token.encode() + b"\n":
            with self.lock:
                self.refused.append(line)
            conn.close()
            return
        super()._serve(conn)


def echo_exec(conn, server):
    """Reply to EXEC with its text as an O frame (prefixed by the server name), X 0."""
    line, body = read_request(conn)
    server.record((line, body))
    if line == b"PING":
        conn.sendall(frame("X", "0"))
        return
    conn.sendall(frame("O", server.name.encode() + b":" + body) + frame("X", "0"))


def scripted(chunks, delay=0.002):
    """A handler that reads one request and sends the given byte chunks with pauses."""
    def handler(conn, server):
        server.record(read_request(conn))
        for c in chunks:
            conn.sendall(c)
            time.sleep(delay)
    return handler


class ClientTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="stasis-cli-test-")
        self.rundir = os.path.join(self.tmp, "run")
        os.mkdir(self.rundir, 0o700)
        os.chmod(self.rundir, 0o700)
        self.servers = []
        self.procs = []

    def tearDown(self):
        for s in self.servers:
            s.close()
        for p in self.procs:
            if p.poll() is None:
                os.kill(p.pid, 9)
            p.wait()
            for f in (p.stdin, p.stdout, p.stderr):
                if f:
                    f.close()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def serve(self, handler, name="default"):
        s = FakeCoordinator(self.rundir, name, handler)
        self.servers.append(s)
        return s

    def env(self, **extra):
        env = dict(os.environ)
        env.pop("XDG_RUNTIME_DIR", None)
        env["STASIS_RUNTIME_DIR"] = self.rundir
        env.update(extra)
        return {k: v for k, v in env.items() if v is not None}

    def run_client(self, *args, stdin=b"", env=None, timeout=10):
        return subprocess.run([CLIENT] + list(args), input=stdin, capture_output=True,
                              env=env or self.env(), timeout=timeout)

    def assert_one_line(self, err):
        self.assertTrue(err.startswith(b"stasis: "), err)
        self.assertTrue(err.endswith(b"\n"), err)
        self.assertEqual(err.count(b"\n"), 1, err)

    # --- exec: frames, routing, status ------------------------------------------

    def test_frames_split_across_writes(self):
        wire = frame("O", "hello ") + frame("E", "warn\n") + frame("O", "world\n") + frame("X", "3")
        pieces = [wire[:1], wire[1:3], wire[3:9], wire[9:20]] + [bytes([b]) for b in wire[20:]]
        self.serve(scripted(pieces))
        r = self.run_client("exec", "lb")
        self.assertEqual((r.returncode, r.stdout, r.stderr), (3, b"hello world\n", b"warn\n"))

    def test_status_propagation(self):
        for status in (0, 1, 2, 42):
            self.serve(scripted([frame("X", str(status))]))
            r = self.run_client("exec", "x")
            self.assertEqual(r.returncode, status)
            self.servers.pop().close()

    def test_large_interleaved_output(self):
        out = bytes(range(256)) * 4096  # 1 MiB, binary
        chunks = []
        for i in range(0, len(out), 65536):
            chunks.append(frame("O", out[i:i + 65536]) + frame("E", "e%d\n" % i))
        chunks.append(frame("X", "0"))
        self.serve(scripted([b"".join(chunks)]))
        r = self.run_client("exec", "big")
        self.assertEqual(r.returncode, 0)
        self.assertEqual(r.stdout, out)
        self.assertEqual(r.stderr, b"".join(b"e%d\n" % i for i in range(0, len(out), 65536)))

    def test_empty_frames_and_request_format(self):
        srv = self.serve(scripted([frame("O", "") + frame("E", "") + frame("X", "0")]))
        r = self.run_client("exec", "echo 'a b'\nlb")
        self.assertEqual((r.returncode, r.stdout, r.stderr), (0, b"", b""))
        self.assertEqual(srv.requests, [(b"EXEC 13", b"echo 'a b'\nlb")])

    def test_lost_connection_without_x(self):
        self.serve(scripted([frame("O", "partial\n")]))
        r = self.run_client("exec", "x")
        self.assertEqual(r.returncode, 1)
        self.assertEqual(r.stdout, b"partial\n")
        self.assert_one_line(r.stderr)
        self.assertIn(b"lost connection to coordinator 'default'", r.stderr)

    def test_lost_connection_mid_frame(self):
        self.serve(scripted([b"O 10\nabc"]))
        r = self.run_client("exec", "x")
        self.assertEqual((r.returncode, r.stdout), (1, b"abc"))
        self.assert_one_line(r.stderr)

    def test_malformed_frame(self):
        for bad in (b"Z 1\nx", b"O x\n", b"X 1\nA", b"X 3\n256", b"O 1" + b"0" * 40 + b"\n"):
            self.serve(scripted([bad]))
            r = self.run_client("exec", "x")
            self.assertEqual(r.returncode, 1, bad)
            self.assert_one_line(r.stderr)
            self.assertIn(b"malformed reply", r.stderr)
            self.servers.pop().close()

    def test_closed_stdout_keeps_draining(self):
        self.serve(scripted([frame("O", b"x" * 200000), frame("X", "0")]))
        p = subprocess.Popen([CLIENT, "exec", "x"], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, env=self.env())
        self.procs.append(p)
        p.stdout.close()  # like "| head -0"
        self.assertEqual(p.wait(10), 0)  # not killed by SIGPIPE, status from X

    # --- no coordinator, runtime directory ---------------------------------------

    def test_no_coordinator(self):
        r = self.run_client("ping")
        self.assertEqual((r.returncode, r.stderr), (1, NO_COORD.encode()))
        r = self.run_client("ping", "-q")
        self.assertEqual((r.returncode, r.stdout, r.stderr), (1, b"", b""))
        r = self.run_client("exec", "lb")
        self.assertEqual((r.returncode, r.stderr), (1, NO_COORD.encode()))
        r = self.run_client("call", "status", "--name", "work")
        self.assertEqual(r.returncode, 1)
        self.assertEqual(r.stderr, b"stasis: no coordinator 'work' is running; start one with: "
                                   b"stasis coordinator --daemon --name work\n")
        r = self.run_client("shell")
        self.assertEqual((r.returncode, r.stderr), (1, NO_COORD.encode()))

    def test_stale_socket_and_missing_dir(self):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.bind(os.path.join(self.rundir, "default.sock"))
        s.close()  # file stays, nobody listens: ECONNREFUSED
        r = self.run_client("exec", "lb")
        self.assertEqual((r.returncode, r.stderr), (1, NO_COORD.encode()))
        r = self.run_client("ping", env=self.env(STASIS_RUNTIME_DIR=os.path.join(self.tmp, "nope")))
        self.assertEqual((r.returncode, r.stderr), (1, NO_COORD.encode()))

    def test_coordinators_lists_live_ones_and_removes_what_dead_ones_left(self):
        def dead_socket(name):
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.bind(os.path.join(self.rundir, name))
            s.close()  # file stays, nobody listens: ECONNREFUSED
        self.serve(echo_exec, "live")
        dead_socket("dead.sock")
        dead_socket("dead.agent.sock")
        gone = subprocess.Popen(["true"])
        gone.wait()
        plans = {"c1-%d-1.plan" % gone.pid: False, "c2-%d-2.plan" % os.getpid(): True}
        for plan in plans:
            with open(os.path.join(self.rundir, plan), "w") as f:
                f.write("plan\n")
        for keep in ("dead.log", "dead.token"):
            open(os.path.join(self.rundir, keep), "w").close()
        r = self.run_client("coordinators")
        self.assertEqual((r.returncode, r.stdout, r.stderr), (0, b"live\n", b""))
        left = set(os.listdir(self.rundir))
        self.assertEqual(left, {"live.sock", "dead.log", "dead.token", "c2-%d-2.plan" % os.getpid()})
        r = self.run_client("coordinators", env=self.env(STASIS_RUNTIME_DIR=os.path.join(self.tmp, "nope")))
        self.assertEqual((r.returncode, r.stdout, r.stderr), (0, b"", b""))

    def test_unsafe_runtime_dir(self):
        self.serve(echo_exec)
        os.chmod(self.rundir, 0o755)
        for args in (("ping",), ("ping", "-q"), ("exec", "lb"), ("wait-ready", "--timeout", "5")):
            r = self.run_client(*args)
            self.assertEqual(r.returncode, 1, args)
            self.assert_one_line(r.stderr)
            self.assertIn(b"chmod 700 " + self.rundir.encode(), r.stderr)
        os.chmod(self.rundir, 0o700)
        self.assertEqual(self.run_client("ping").returncode, 0)
        if os.geteuid() == 0:  # can only test a foreign owner as root
            os.chown(self.rundir, 65534, 65534)
            r = self.run_client("ping")
            self.assertEqual(r.returncode, 1)
            self.assert_one_line(r.stderr)
            self.assertIn(b"owned by uid 65534", r.stderr)
            os.chown(self.rundir, 0, 0)

    def test_xdg_runtime_dir(self):
        xdg = os.path.join(self.tmp, "xdg")
        os.mkdir(xdg, 0o700)
        os.mkdir(os.path.join(xdg, "stasis"), 0o700)
        self.rundir = os.path.join(xdg, "stasis")
        self.serve(echo_exec)
        r = self.run_client("exec", "lb", env=self.env(STASIS_RUNTIME_DIR=None, XDG_RUNTIME_DIR=xdg))
        self.assertEqual((r.returncode, r.stdout), (0, b"default:lb"))

    # --- call: quoting and --name -------------------------------------------------

    TRICKY = [
        "plain", "two words", "it's", "'", "''", "", "$HOME", "${x}", "$(id)", "%(1+1)",
        "back\\slash", "\\", "\\'", "a\\nb", '"double"', '"', "{a,b}", "{ }", "[x]", "(y)",
        "a;b", "a|b", "a&b", "&&", ">", "2>&1", "<", "<<EOF", "#comment", "//c", "/*c*/",
        "*", "?", "~", "~/x", "null", "true", "42", "-1.5", "--interval", "-", "=", "a=b",
        "tab\there", "line1\nline2", "cr\r\n", "h\u00e9llo \u2713",
    ]

    def call_text(self, *args):
        self.serve(echo_exec)
        r = self.run_client("call", *args)
        self.servers.pop().close()
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertTrue(r.stdout.startswith(b"default:"), r.stdout)
        return r.stdout[len(b"default:"):].decode()

    def test_call_quoting(self):
        self.assertEqual(self.call_text("status"), "stasis:status")
        self.assertEqual(self.call_text("launch", "python3", "app.py"),
                         "stasis:launch 'python3' 'app.py'")
        self.assertEqual(self.call_text("x", "it's", "", "$HOME", "a\\b", '"q"'),
                         "stasis:x 'it'\\''s' '' '$HOME' 'a\\b' '\"q\"'")
        self.assertEqual(self.call_text("x", *self.TRICKY),
                         "stasis:x " + " ".join(quote(a) for a in self.TRICKY))

    def test_call_name_placement(self):
        self.serve(echo_exec, "default")
        self.serve(echo_exec, "alt")
        cases = [
            (["--name", "alt", "checkpoint", "x"], b"alt:stasis:checkpoint 'x'"),
            (["checkpoint", "--name", "alt", "x"], b"alt:stasis:checkpoint 'x'"),
            (["checkpoint", "x", "--name=alt"], b"alt:stasis:checkpoint 'x'"),
            (["--name=alt", "--", "checkpoint", "--name", "y"],
             b"alt:stasis:checkpoint '--name' 'y'"),
            (["checkpoint", "--", "--name", "alt", "--"],
             b"default:stasis:checkpoint '--name' 'alt' '--'"),
            (["checkpoint", "--help", "-v"], b"default:stasis:checkpoint '--help' '-v'"),
        ]
        for args, want in cases:
            r = self.run_client("call", *args)
            self.assertEqual((r.returncode, r.stdout), (0, want), args)
        r = self.run_client("exec", "--name=alt", "lb")
        self.assertEqual(r.stdout, b"alt:lb")
        r = self.run_client("exec", "lb", "--name", "alt")
        self.assertEqual(r.stdout, b"alt:lb")

    def test_call_quoting_with_real_gogo(self):
        jar = os.environ.get("STASIS_GOGO_JAR") or os.path.expanduser(
            "~/.m2/repository/org/apache/felix/org.apache.felix.gogo.runtime/1.1.6/"
            "org.apache.felix.gogo.runtime-1.1.6.jar")
        if not (os.path.exists(jar) and shutil.which("javac") and shutil.which("java")):
            self.skipTest("needs javac and org.apache.felix.gogo.runtime-1.1.6.jar")
        text = self.call_text("show", *self.TRICKY)
        src = os.path.join(self.tmp, "GogoArgs.java")
        with open(src, "w") as f:
            f.write(GOGO_HARNESS)
        subprocess.run(["javac", "-cp", jar, "-d", self.tmp, src], check=True, timeout=60)
        script = os.path.join(self.tmp, "line.gogo")
        with open(script, "w", encoding="utf-8") as f:
            f.write(text)
        r = subprocess.run(["java", "-cp", jar + os.pathsep + self.tmp, "GogoArgs", script],
                           capture_output=True, timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)
        got = [bytes.fromhex(l[len("String:"):]).decode() if l.startswith("String:") else l
               for l in r.stdout.decode().splitlines()]
        self.assertEqual(got, self.TRICKY)

    # --- exec -f --------------------------------------------------------------------

    def test_exec_script(self):
        script = "echo 'a b'; lb\n# comment\nstasis:status \u2713\n\n".encode()
        path = os.path.join(self.tmp, "s.gogo")
        with open(path, "wb") as f:
            f.write(script)
        srv = self.serve(echo_exec)
        r = self.run_client("exec", "-f", path)
        self.assertEqual((r.returncode, r.stdout), (0, b"default:" + script))
        r = self.run_client("exec", "--file=" + path, "--name", "default")
        self.assertEqual(r.stdout, b"default:" + script)
        r = self.run_client("exec", "-f", "-", stdin=script)
        self.assertEqual((r.returncode, r.stdout), (0, b"default:" + script))
        self.assertEqual(srv.requests[-1], (b"EXEC %d" % len(script), script))
        r = self.run_client("exec", "-f", os.path.join(self.tmp, "missing"))
        self.assertEqual(r.returncode, 1)
        self.assert_one_line(r.stderr)

    # --- usage ------------------------------------------------------------------------

    def test_usage_errors(self):
        bad = [
            [], ["frobnicate"], ["ping", "--bogus"], ["ping", "extra"], ["ping", "--name"],
            ["ping", "--name", "a/b"], ["ping", "--name="], ["ping", "--timeout", "soon"],
            ["wait-ready", "--pid", "x"], ["wait-ready", "--timeout", "-1"],
            ["exec"], ["exec", "--bogus", "lb"], ["exec", "a", "b"], ["exec", "-f"],
            ["exec", "-f", "x", "lb"], ["call"], ["call", "--bogus", "status"],
            ["call", "felix:lb"], ["call", "a b"], ["call", "--name"], ["shell", "x"],
            ["shell", "--bogus"],
        ]
        for args in bad:
            r = self.run_client(*args)
            self.assertEqual(r.returncode, 2, args)
            self.assert_one_line(r.stderr)
            self.assertIn(b"--help", r.stderr)

    def test_help(self):
        for args in (["--help"], ["-h"], ["help"], ["ping", "--help"], ["wait-ready", "-h"],
                     ["exec", "--help"], ["call", "--help"], ["shell", "--help"]):
            r = self.run_client(*args)
            self.assertEqual((r.returncode, r.stderr), (0, b""), args)
            self.assertTrue(r.stdout.startswith(b"usage: "), args)

    # --- ping, wait-ready -------------------------------------------------------------

    def test_ping(self):
        srv = self.serve(echo_exec)
        r = self.run_client("ping")
        self.assertEqual((r.returncode, r.stdout, r.stderr), (0, b"", b""))
        self.assertEqual(srv.requests, [(b"PING", b"")])
        self.servers.pop().close()
        self.serve(scripted([frame("E", "bundle x failed\n") + frame("X", "1")]))
        r = self.run_client("ping")
        self.assertEqual((r.returncode, r.stderr), (1, b"bundle x failed\n"))
        r = self.run_client("ping", "-q")
        self.assertEqual((r.returncode, r.stderr), (1, b""))

    def test_ping_timeout(self):
        def silent(conn, server):
            read_request(conn)
            conn.recv(1)  # never answer; returns when the client hangs up
        self.serve(silent)
        # the server never answers: the client returns only through its own timeout
        r = self.run_client("ping", "--timeout", "0.3")
        self.assertEqual(r.returncode, 1)
        self.assertIn(b"did not answer", r.stderr)

    def test_wait_ready_for_late_start(self):
        p = subprocess.Popen([CLIENT, "wait-ready", "--timeout", "10"], env=self.env(),
                             stderr=subprocess.PIPE)
        self.procs.append(p)
        time.sleep(0.3)
        count = [0]

        def not_ready_twice(conn, server):
            read_request(conn)
            count[0] += 1
            conn.sendall(frame("X", "0" if count[0] > 2 else "1"))
        self.serve(not_ready_twice)
        self.assertEqual(p.wait(10), 0, p.stderr.read())
        self.assertGreaterEqual(count[0], 3)

    def test_wait_ready_timeout(self):
        r = self.run_client("wait-ready", "--timeout", "0.2")
        self.assertEqual(r.returncode, 1)
        self.assert_one_line(r.stderr)
        self.assertIn(b"came up within 0.2 s", r.stderr)

    def test_wait_ready_pid_exited(self):
        # The child exits at once but is not reaped: a zombie counts as exited.
        child = subprocess.Popen(["sleep", "0.2"])
        self.procs.append(child)
        r = self.run_client("wait-ready", "--timeout", "30", "--pid", str(child.pid))
        self.assertEqual(r.returncode, 1)
        self.assert_one_line(r.stderr)
        self.assertIn(b"(pid %d) exited" % child.pid, r.stderr)

    def test_wait_gone(self):
        # No coordinator: at once. A lock holder (another process: fcntl locks of our own
        # never conflict) that stays: a timeout. One that lets go and exits: done.
        self.assertEqual(self.run_client("wait-gone", "--timeout", "5").returncode, 0)
        lock = os.path.join(self.rundir, "default.lock")
        holder = subprocess.Popen([sys.executable, "-c", (
            "import fcntl, os, sys, time\n"
            "f = open(sys.argv[1], 'w'); fcntl.lockf(f, fcntl.LOCK_EX); print('held', flush=True)\n"
            "sys.stdin.readline(); os.unlink(sys.argv[1]); time.sleep(0.3)\n"), lock],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        self.procs.append(holder)
        self.assertEqual(holder.stdout.readline(), b"held\n")
        r = self.run_client("wait-gone", "--timeout", "0.2")
        self.assertEqual(r.returncode, 1)
        self.assert_one_line(r.stderr)
        self.assertIn(b"still stopping after 0.2 s", r.stderr)
        waiter = subprocess.Popen([CLIENT, "wait-gone", "--timeout", "10"], env=self.env())
        self.procs.append(waiter)
        time.sleep(0.3)  # the waiter has seen the lock held (and by whom)
        holder.stdin.write(b"go\n")
        holder.stdin.flush()
        self.assertEqual(waiter.wait(10), 0)
        self.assertIsNotNone(holder.poll(), "wait-gone returned before the holder exited")

    # --- shell ------------------------------------------------------------------------

    def test_shell_relay_until_eof(self):
        def upper_until_eof(conn, server):
            line, _ = read_request(conn)
            server.record(line)
            while True:
                data = conn.recv(4096)
                if not data:
                    break
                conn.sendall(data.upper())
            conn.sendall(b"bye\n")
        srv = self.serve(upper_until_eof)
        data = b"hello\n" + b"x" * 300000 + b"\nworld\n"
        r = self.run_client("shell", stdin=data)
        self.assertEqual((r.returncode, r.stderr), (0, b""))
        self.assertEqual(r.stdout, data.upper() + b"bye\n")
        self.assertEqual(srv.requests, [b"SHELL"])

    def test_shell_ends_when_coordinator_closes(self):
        def until_exit(conn, server):
            read_request(conn)
            buf = b""
            while b"exit\n" not in buf:
                data = conn.recv(4096)
                if not data:
                    return
                buf += data
            conn.sendall(b"bye\n")
        self.serve(until_exit)
        p = subprocess.Popen([CLIENT, "shell"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, env=self.env())
        self.procs.append(p)
        p.stdin.write(b"exit\n")
        p.stdin.flush()  # stdin stays open, like a terminal
        out = p.stdout.read()
        self.assertEqual((p.wait(10), out), (0, b"bye\n"))
        p.stdin.close()

    # --- TCP: --connect HOST:PORT [--token-file F] --------------------------------

    TOKEN = "0123456789abcdef" * 4

    def token_file(self, name, text, mode=0o600):
        path = os.path.join(self.tmp, name)
        with open(path, "w") as f:
            f.write(text)
        os.chmod(path, mode)
        return path

    def serve_tcp(self, handler=echo_exec):
        s = FakeTcpCoordinator(self.TOKEN, handler)
        self.servers.append(s)
        return s

    def test_tcp_exec_with_the_default_token_file(self):
        s = self.serve_tcp()
        self.token_file("run/default.token", self.TOKEN + "\n")
        for args in (["--connect", s.address, "exec", "x"], ["exec", "--connect=" + s.address, "x"]):
            r = self.run_client(*args)
            self.assertEqual((r.returncode, r.stdout, r.stderr), (0, b"tcp:x", b""), args)
        self.assertEqual(s.refused, [])
        self.assertEqual(s.requests, [(b"EXEC 1", b"x")] * 2)

    def test_tcp_every_command_takes_connect(self):
        s = self.serve_tcp()
        tok = self.token_file("tok", self.TOKEN)
        r = self.run_client("call", "version", "--connect", s.address, "--token-file", tok, "--", "a")
        self.assertEqual((r.returncode, r.stdout), (0, b"tcp:stasis:version 'a'"), r)
        for cmd in (["ping"], ["wait-ready", "--timeout", "5"]):
            r = self.run_client(*cmd, "--connect", s.address, "--token-file=" + tok)
            self.assertEqual((r.returncode, r.stderr), (0, b""), (cmd, r))
        p = subprocess.run([CLIENT, "shell", "--connect", s.address, "--token-file", tok],
                           input=b"", capture_output=True, env=self.env(), timeout=10)
        self.assertEqual(p.returncode, 0, p)
        self.assertEqual(s.refused, [])

    def test_tcp_wrong_token_is_refused_clearly(self):
        s = self.serve_tcp()
        bad = self.token_file("bad", "ff" * 32)
        for args in (["exec", "x"], ["ping"], ["shell"], ["call", "version"]):
            r = self.run_client("--connect", s.address, "--token-file", bad, *args)
            self.assertEqual(r.returncode, 1, (args, r))
            self.assert_one_line(r.stderr)
            self.assertIn(b"refused the token", r.stderr)
        self.assertEqual(s.requests, [])
        self.assertEqual(len(s.refused), 4)
        self.assertEqual(s.refused[0], b"TOKEN " + b"ff" * 32 + b"\n")

    def test_tcp_token_file_problems_fail_before_connecting(self):
        s = self.serve_tcp()
        cases = [
            (None, b"cannot read the token file"),                       # missing
            (self.token_file("open", self.TOKEN, 0o644), b"chmod 600"),  # readable by others
            (self.token_file("short", "abcd"), b"does not hold a token"),
            (self.token_file("nothex", "z" * 40), b"does not hold a token"),
        ]
        for path, what in cases:
            args = ["exec", "--connect", s.address] + (["--token-file", path] if path else []) + ["x"]
            r = self.run_client(*args)
            self.assertEqual(r.returncode, 1, (path, r))
            self.assert_one_line(r.stderr)
            self.assertIn(what, r.stderr)
        self.assertEqual((s.requests, s.refused), ([], []))

    def test_tcp_usage_and_nobody_listening(self):
        tok = self.token_file("tok", self.TOKEN)
        for bad in ("nohost", ":80", "host:", "host:0", "host:70000", "::1:80", "[::1:80"):
            r = self.run_client("exec", "--connect", bad, "x")
            self.assertEqual(r.returncode, 2, (bad, r))
            self.assert_one_line(r.stderr)
        r = self.run_client("exec", "--token-file", tok, "x")
        self.assertEqual(r.returncode, 1, r)
        self.assertIn(b"--connect", r.stderr)
        free = socket.socket()
        free.bind(("127.0.0.1", 0))
        port = free.getsockname()[1]
        free.close()
        r = self.run_client("ping", "--connect", "127.0.0.1:%d" % port, "--token-file", tok)
        self.assertEqual(r.returncode, 1, r)
        self.assert_one_line(r.stderr)
        self.assertIn(b"nothing listens at 127.0.0.1:%d" % port, r.stderr)
        r = self.run_client("ping", "-q", "--connect", "127.0.0.1:%d" % port, "--token-file", tok)
        self.assertEqual((r.returncode, r.stderr), (1, b""), r)


GOGO_HARNESS = r"""
import java.nio.charset.StandardCharsets;
import java.nio.file.*;
import java.util.List;
import org.apache.felix.gogo.runtime.CommandProcessorImpl;
import org.apache.felix.gogo.runtime.threadio.ThreadIOImpl;
import org.apache.felix.service.command.*;

public class GogoArgs {
    public static void main(String[] a) throws Exception {
        ThreadIOImpl tio = new ThreadIOImpl();
        tio.start();
        CommandProcessorImpl p = new CommandProcessorImpl(tio);
        StringBuilder out = new StringBuilder();
        Function show = (CommandSession s, List<Object> args) -> {
            for (Object o : args) {
                if (!(o instanceof String)) { out.append("NOT-A-STRING:" + o + "\n"); continue; }
                StringBuilder hex = new StringBuilder();
                for (byte b : ((String) o).getBytes(StandardCharsets.UTF_8))
                    hex.append(String.format("%02x", b & 0xff));
                out.append("String:").append(hex).append('\n');
            }
            return null;
        };
        p.addCommand("stasis", show, "show");
        CommandSession s = p.createSession(System.in, System.out, System.err);
        s.put("HOME", "/home/someone");
        s.put("x", "XVAL");
        s.execute(new String(Files.readAllBytes(Paths.get(a[0])), StandardCharsets.UTF_8));
        System.out.print(out);
        System.out.flush();
        System.exit(0);
    }
}
"""


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit("usage: test_client.py PATH/TO/stasis-client [unittest args]")
    CLIENT = os.path.abspath(sys.argv.pop(1))
    unittest.main(verbosity=1)
