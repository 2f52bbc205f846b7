#!/usr/bin/env python3
"""Scenario: py_tcp_stream.py COUNT [ipv4|ipv6] [PACE_MS] [STOP_FILE]
A TCP server thread (listening on 127.0.0.1 or ::1, an ephemeral port,
SO_REUSEADDR) and a client process (this file run again by subprocess) streaming
COUNT numbered messages to it as fast as it can: the client's socket is non-blocking
and TCP_NODELAY, driven by a selector (epoll), and it never waits for acknowledgements
before sending more. The server reads slowly (one small read every PACE_MS), checks
that every message arrives exactly once and in order, and acknowledges each; the
client reads the acknowledgements slowly too and checks them the same way. So both
directions always have data in flight, in user buffers and in the kernel.
Both sides check that their socket options survived (non-blocking, TCP_NODELAY).
At the end the server says how many it got; the client then connects a second time
to the same listener and is greeted: the listening socket still works.
With STOP_FILE, the client sends no new batch once that file exists: the stream ends
after what it has sent (COUNT is then only a bound), and both sides check that the
server got exactly that many, each once and in order.
Prints "progress N" every 1000 messages the server got, "restarted server|client N"
when a side notices a restart, "OK tcp N" at the end (N the messages streamed);
exits 0 only then."""
import ctypes
import fcntl
import os
import selectors
import socket
import subprocess
import sys
import threading
import time

REC = 16                           # b"m%014d\n": message, b"a%014d\n": ack, b"d%014d\n": done
SERVER_READ = 1024
PROGRESS = 1000
child = None


def restart_count():
    """The agent's restart generation (0 without Stasis)."""
    try:
        return ctypes.CDLL(None).stasis_restart_count()
    except (OSError, AttributeError):
        return 0


def say(*words):
    """One line in one write(2): lines of the server thread, the main thread and the
    client process, which share stdout, never interleave."""
    os.write(1, (" ".join(str(w) for w in words) + "\n").encode())


def fail(*what):
    say("FAIL", *what)
    if child is not None:
        child.kill()
    os._exit(1)


class Restarts:
    """Notices a new restart generation once and says so."""

    def __init__(self, who):
        self.who = who
        self.seen = 0

    def new(self):
        r = restart_count()
        if r == self.seen:
            return False
        self.seen = r
        say("restarted", self.who, r)
        return True


def check_options(sock, who, nonblocking):
    if sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) == 0:
        fail(who, "lost TCP_NODELAY")
    is_nonblocking = bool(fcntl.fcntl(sock.fileno(), fcntl.F_GETFL) & os.O_NONBLOCK)
    if is_nonblocking != nonblocking:
        fail(who, "socket O_NONBLOCK is", is_nonblocking, "want", nonblocking)


class Records:
    """Fixed-size numbered records out of a byte stream; checks their order."""

    def __init__(self, who, kind):
        self.who = who
        self.kind = kind
        self.pending = b""
        self.next = 0

    def feed(self, data, on_other=None):
        """Checks each whole record; returns how many of kind came in."""
        self.pending += data
        whole = len(self.pending) // REC
        got = 0
        for k in range(whole):
            rec = self.pending[k * REC:(k + 1) * REC]
            if rec[:1] != self.kind and on_other is not None:
                on_other(rec)
                continue
            if rec != self.kind + b"%014d\n" % self.next:
                fail(self.who, "got %r, want %r number %d" % (rec, self.kind, self.next))
            self.next += 1
            got += 1
        self.pending = self.pending[whole * REC:]
        return got


def serve(listener, count, pace_s, result):
    """count: the messages that must arrive, or None when the client decides (STOP_FILE)"""
    conn, _ = listener.accept()
    conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    restarts = Restarts("server")
    messages = Records("server", b"m")
    while True:
        data = conn.recv(SERVER_READ)
        if not data:
            break
        before = messages.next
        if messages.feed(data):
            conn.sendall(b"".join(b"a%014d\n" % n for n in range(before, messages.next)))
        if messages.next // PROGRESS != before // PROGRESS:
            say("progress", messages.next // PROGRESS)
        if restarts.new():
            check_options(conn, "server", False)
        time.sleep(pace_s)
    if messages.pending:
        fail("server: a partial message at the end: %r" % messages.pending)
    if count is not None and messages.next != count:
        fail("server: the stream ended after %d of %d messages" % (messages.next, count))
    check_options(conn, "server", False)
    conn.sendall(b"d%014d\n" % messages.next)
    conn.close()
    again, _ = listener.accept()
    again.sendall(b"hello again\n")
    again.close()
    listener.close()
    result.append(messages.next)


def run_server(count, family, pace_s, stop):
    global child
    host = "::1" if family == "ipv6" else "127.0.0.1"
    listener = socket.socket(socket.AF_INET6 if family == "ipv6" else socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind((host, 0))
    listener.listen(4)
    port = listener.getsockname()[1]
    result = []
    threading.excepthook = lambda hook: fail("server thread: %r" % (hook.exc_value,))
    server = threading.Thread(target=serve, args=(listener, None if stop else count, pace_s, result), name="server")
    server.start()
    child = subprocess.Popen([sys.executable, os.path.abspath(__file__), "client", host, str(port),
                              str(count), str(pace_s)] + ([stop] if stop else []))
    say("streaming", family, port)
    status = child.wait()
    server.join()
    if status != 0:
        fail("the client exited with", status)
    if len(result) != 1 or (not stop and result != [count]) or result[0] == 0:
        fail("the server thread did not finish the stream:", result)
    say("OK tcp", result[0])


class Client:
    """Sends every message as soon as the socket takes it; reads acks slowly."""

    def __init__(self, sock, count, pace_s, stop=None):
        self.sock = sock
        self.count = count
        self.stop = stop
        self.pace_s = pace_s
        self.sent = 0
        self.out = b""
        self.shut = False
        self.done = None
        self.acks = Records("client", b"a")
        self.restarts = Restarts("client")

    def on_writable(self, selector):
        if not self.out and self.sent < self.count and self.sent and self.stop and os.path.exists(self.stop):
            self.count = self.sent  # the stream ends after what was sent; the server must get exactly that
        if not self.out and self.sent < self.count:
            batch = range(self.sent, min(self.count, self.sent + 256))
            self.out = b"".join(b"m%014d\n" % n for n in batch)
            self.sent = batch.stop
        if self.out:
            try:
                self.out = self.out[self.sock.send(self.out):]
            except BlockingIOError:
                pass
        if not self.out and self.sent == self.count and not self.shut:
            self.sock.shutdown(socket.SHUT_WR)
            self.shut = True
            selector.modify(self.sock, selectors.EVENT_READ)

    def on_done(self, rec):
        if rec != b"d%014d\n" % self.count:
            fail("client: the server's last word was %r" % rec)
        self.done = int(rec[1:])

    def on_readable(self):
        try:
            data = self.sock.recv(SERVER_READ)
        except BlockingIOError:
            return True
        if not data:
            return False
        self.acks.feed(data, self.on_done)
        if self.acks.next > self.sent:
            fail("client: ack %d for a message not sent yet" % self.acks.next)
        time.sleep(self.pace_s)
        return True

    def run(self):
        with selectors.DefaultSelector() as selector:
            selector.register(self.sock, selectors.EVENT_READ | selectors.EVENT_WRITE)
            open_ = True
            while open_:
                for _, mask in selector.select(timeout=5):
                    if mask & selectors.EVENT_WRITE:
                        self.on_writable(selector)
                    if mask & selectors.EVENT_READ:
                        open_ = self.on_readable()
                if self.restarts.new():
                    check_options(self.sock, "client", True)
        if self.acks.next != self.count or self.done != self.count or self.acks.pending:
            fail("client: %d acks of %d, done %s, left %r" % (self.acks.next, self.count, self.done,
                                                              self.acks.pending))
        check_options(self.sock, "client", True)


def run_client(host, port, count, pace_s, stop=None):
    sock = socket.create_connection((host, port))
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.setblocking(False)
    client = Client(sock, count, pace_s, stop)
    client.run()
    count = client.count
    sock.close()
    with socket.create_connection((host, port), timeout=30) as again:
        if again.makefile("rb").readline() != b"hello again\n":
            fail("client: no greeting on the second connection")
    say("client OK", count)


def main():
    if len(sys.argv) in (6, 7) and sys.argv[1] == "client":
        run_client(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), float(sys.argv[5]),
                   sys.argv[6] if len(sys.argv) == 7 else None)
        return
    count = int(sys.argv[1])
    family = sys.argv[2] if len(sys.argv) > 2 else "ipv4"
    pace_ms = float(sys.argv[3]) if len(sys.argv) > 3 else 1.0
    stop = sys.argv[4] if len(sys.argv) > 4 else None
    if family not in ("ipv4", "ipv6"):
        fail("family must be ipv4 or ipv6, not", family)
    run_server(count, family, pace_ms / 1000.0, stop)


if __name__ == "__main__":
    try:
        main()
    except Exception as error:  # a broken socket or pipe after a restart says so plainly
        fail("%s: %r" % ("client" if sys.argv[1:2] == ["client"] else "main", error))
