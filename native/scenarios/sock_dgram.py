#!/usr/bin/env python3
"""Scenario: sock_dgram.py GO DIR
Datagram sockets connected to bound peers, with datagrams waiting both ways:
  - UDP over 127.0.0.1: two bound sockets connected to each other;
  - Unix datagram by path (in DIR) and by abstract name: a bound socket connected to
    a bound peer that is connected back, and an unnamed socket connected to a bound
    receiver.
When GO exists it checks: each socket is still connected to the same peer
(getpeername, send without an address), the waiting datagrams are there in order,
and a connected UDP socket still ignores strangers. Prints "OK dgram"."""
import os
import socket
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sockstate import expect, hold, ok  # noqa: E402


def connected_pair(family, name_a, name_b):
    a = socket.socket(family, socket.SOCK_DGRAM)
    b = socket.socket(family, socket.SOCK_DGRAM)
    a.bind(name_a)
    b.bind(name_b)
    a.connect(b.getsockname())
    b.connect(a.getsockname())
    return a, b


def main():
    go, top = sys.argv[1], sys.argv[2]
    os.makedirs(top, exist_ok=True)
    tag = b"%d" % os.getpid()
    pairs = {
        "udp": connected_pair(socket.AF_INET, ("127.0.0.1", 0), ("127.0.0.1", 0)),
        "unix": connected_pair(socket.AF_UNIX, os.path.join(top, "a.sock"), os.path.join(top, "b.sock")),
        "abstract": connected_pair(socket.AF_UNIX, b"\0sock_dgram-a-" + tag, b"\0sock_dgram-b-" + tag),
    }
    receiver = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    receiver.bind(os.path.join(top, "r.sock"))
    unnamed = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    unnamed.connect(receiver.getsockname())
    names = {k: (a.getsockname(), b.getsockname()) for k, (a, b) in pairs.items()}
    for k, (a, b) in pairs.items():
        for i in range(3):
            a.send(b"%s a%d" % (k.encode(), i))
            b.send(b"%s b%d" % (k.encode(), i))
    unnamed.send(b"u0")
    unnamed.send(b"u1")
    hold(go)
    for k, (a, b) in pairs.items():
        expect((a.getsockname(), b.getsockname()) == names[k], k, "names changed")
        expect(a.getpeername() == names[k][1] and b.getpeername() == names[k][0], k, "peers changed")
        for i in range(3):
            expect(b.recv(100) == b"%s a%d" % (k.encode(), i), k, "datagram a", i)
            expect(a.recv(100) == b"%s b%d" % (k.encode(), i), k, "datagram b", i)
        a.send(b"new")
        expect(b.recv(100) == b"new", k, "new datagram")
    stranger = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    a, b = pairs["udp"]
    stranger.sendto(b"stranger", a.getsockname())
    b.send(b"peer")
    expect(a.recv(100) == b"peer", "a connected UDP socket took a stranger's datagram")
    expect(unnamed.getpeername() == receiver.getsockname(), "unnamed sender's peer")
    expect(receiver.recv(100) == b"u0" and receiver.recv(100) == b"u1", "unnamed sender's datagrams")
    unnamed.send(b"u2")
    expect(receiver.recv(100) == b"u2", "unnamed sender sends again")
    ok("dgram")


if __name__ == "__main__":
    main()
