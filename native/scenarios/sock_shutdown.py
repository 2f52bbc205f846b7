#!/usr/bin/env python3
"""Scenario: sock_shutdown.py GO
Sockets shut in one or both directions with data queued before the shutdown, Unix
stream and TCP (127.0.0.1):
  1. the writer sent bytes then shut its sending side (SHUT_WR): the reader finds the
     bytes, then the end of stream;
  2. the reader shut its reading side (SHUT_RD) with bytes waiting: it still finds
     them, then the end of stream, and it can still send;
  3. one end shut both ways (SHUT_RDWR) with bytes waiting in both directions.
When GO exists every socket is checked. Prints "OK shutdown"."""
import os
import socket
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sockstate import expect, hold, ok  # noqa: E402


def tcp_pair(listener):
    c = socket.create_connection(listener.getsockname())
    s, _ = listener.accept()
    return c, s


def read_all(sock, what):
    sock.settimeout(5)
    data = b""
    while True:
        try:
            chunk = sock.recv(65536)
        except socket.timeout:
            expect(False, what, "never reached the end of stream after", len(data), "bytes")
        if not chunk:
            return data
        data += chunk


def main():
    go = sys.argv[1]
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    payload = {n: (b"%s-" % n.encode()) * 500 for n in ("wr", "rd", "rdwr-a", "rdwr-b")}
    pairs = {}
    for kind in ("unix", "tcp"):
        for case in ("wr", "rd", "rdwr"):
            a, b = socket.socketpair() if kind == "unix" else tcp_pair(listener)
            pairs[kind, case] = (a, b)
            if case == "wr":            # a writes, shuts its writing side; b has bytes + EOF
                a.sendall(payload["wr"])
                a.shutdown(socket.SHUT_WR)
            elif case == "rd":          # b got bytes, then shut its reading side
                a.sendall(payload["rd"])
                read_ready = b.recv(1, socket.MSG_PEEK)
                expect(read_ready, "no data before SHUT_RD")
                b.shutdown(socket.SHUT_RD)
            else:                       # bytes both ways, then a shuts both ways
                a.sendall(payload["rdwr-a"])
                b.sendall(payload["rdwr-b"])
                b.recv(1, socket.MSG_PEEK)
                a.recv(1, socket.MSG_PEEK)
                a.shutdown(socket.SHUT_RDWR)
    hold(go)
    for (kind, case), (a, b) in pairs.items():
        what = kind + " " + case
        if case == "wr":
            expect(read_all(b, what) == payload["wr"], what, "lost its bytes")
            b.sendall(b"late")      # the other direction still works
            expect(a.recv(10) == b"late", what, "other direction")
        elif case == "rd":
            expect(read_all(b, what) == payload["rd"], what, "lost its bytes")
            b.sendall(b"still")     # a reader that shut reading still sends
            expect(a.recv(10) == b"still", what, "sending after SHUT_RD")
        else:
            expect(read_all(b, what + " b") == payload["rdwr-a"], what, "lost a->b bytes")
            expect(read_all(a, what + " a") == payload["rdwr-b"], what, "lost b->a bytes")
    ok("shutdown")


if __name__ == "__main__":
    main()
