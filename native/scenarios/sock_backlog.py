#!/usr/bin/env python3
"""Scenario: sock_backlog.py GO DIR
Listeners with a backlog of clients of the computation not yet accepted, each client
having already sent bytes into its unaccepted connection: a Unix stream listener
(DIR/svc.sock) with two clients, a TCP listener (127.0.0.1) with two clients, one of
them watched by a selector (epoll) for the reply. When GO exists the program accepts:
the clients come in their old order, the bytes they sent are there, both ends see the
same addresses as before, and each reply reaches its client (the watched one through
its selector). Prints "OK backlog"."""
import os
import selectors
import socket
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sockstate import expect, hold, ok  # noqa: E402


def main():
    go, top = sys.argv[1], sys.argv[2]
    os.makedirs(top, exist_ok=True)
    unix = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    unix.bind(os.path.join(top, "svc.sock"))
    unix.listen(8)
    tcp = socket.socket()
    tcp.bind(("127.0.0.1", 0))
    tcp.listen(8)
    clients = []
    for name, listener, family in (("u1", unix, socket.AF_UNIX), ("u2", unix, socket.AF_UNIX),
                                   ("t1", tcp, socket.AF_INET), ("t2", tcp, socket.AF_INET)):
        c = socket.socket(family, socket.SOCK_STREAM)
        c.connect(listener.getsockname())
        c.sendall(b"hello from " + name.encode() + b" " * 3000)
        clients.append((name, c, c.getsockname(), c.getpeername()))
    watcher = selectors.DefaultSelector()
    watcher.register(clients[3][1], selectors.EVENT_READ)
    hold(go)
    for name, c, local, peer in clients:
        listener = unix if name.startswith("u") else tcp
        conn, addr = listener.accept()
        expect(c.getsockname() == local and c.getpeername() == peer, name, "addresses changed")
        if name.startswith("t"):
            expect(addr == local, name, "accepted from", addr, "instead of", local)
        got = b""
        conn.settimeout(5)
        want = b"hello from " + name.encode() + b" " * 3000
        while len(got) < len(want):
            try:
                chunk = conn.recv(65536)
            except socket.timeout:
                chunk = b""
            expect(chunk, name, "connection ended after", len(got), "bytes")
            got += chunk
        expect(got == want, name, "sent", got[:20], "accepted out of order or lost")
        conn.sendall(b"welcome " + name.encode())
        if name == "t2":
            expect(watcher.select(timeout=5), "the selector watching", name, "saw no reply")
        c.settimeout(5)
        expect(c.recv(100) == b"welcome " + name.encode(), name, "reply")
    ok("backlog")


if __name__ == "__main__":
    main()
