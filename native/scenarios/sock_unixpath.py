#!/usr/bin/env python3
"""Scenario: sock_unixpath.py GO DIR
Unix sockets bound to paths in DIR/a/b (made here with modes 750 and 710): a stream
listener svc.sock (chmod 600) with an accepted connection, and a datagram receiver
dg.sock with two datagrams waiting. Between a kill and a restart the test may remove
DIR/a or DIR/a/b (the directory is gone) or leave the old socket files (stale).
When GO exists it checks: the directories and the socket file have their modes, the
names are the same, the old connection works both ways, the datagrams are there in
order, and a new client is accepted by path. Prints "OK unixpath"."""
import os
import socket
import stat
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sockstate import expect, hold, ok  # noqa: E402


def mode(path):
    return stat.S_IMODE(os.lstat(path).st_mode)


def main():
    go, top = sys.argv[1], sys.argv[2]
    a, b = os.path.join(top, "a"), os.path.join(top, "a", "b")
    os.makedirs(b)
    os.chmod(b, 0o710)
    os.chmod(a, 0o750)
    svc, dg = os.path.join(b, "svc.sock"), os.path.join(b, "dg.sock")
    lsock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    lsock.bind(svc)
    os.chmod(svc, 0o600)
    lsock.listen(4)
    client = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    client.connect(svc)
    conn, _ = lsock.accept()
    client.sendall(b"before")
    receiver = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    receiver.bind(dg)
    sender = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sender.sendto(b"one", dg)
    sender.sendto(b"two", dg)
    hold(go)
    expect(mode(a) == 0o750, "mode of", a, oct(mode(a)))
    expect(mode(b) == 0o710, "mode of", b, oct(mode(b)))
    expect(stat.S_ISSOCK(os.lstat(svc).st_mode), svc, "is not a socket")
    expect(mode(svc) == 0o600, "mode of", svc, oct(mode(svc)))
    expect(lsock.getsockname() == svc, "listener name", lsock.getsockname())
    expect(conn.getsockname() == svc, "accepted name", conn.getsockname())
    expect(client.getpeername() == svc, "client's peer", client.getpeername())
    expect(conn.recv(100) == b"before", "bytes in flight")
    conn.sendall(b"back")
    expect(client.recv(100) == b"back", "reply")
    expect(receiver.recv(100) == b"one", "first datagram")
    expect(receiver.recv(100) == b"two", "second datagram")
    sender.sendto(b"three", dg)
    expect(receiver.recv(100) == b"three", "new datagram")
    again = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    again.connect(svc)
    new, _ = lsock.accept()
    again.sendall(b"new")
    expect(new.recv(100) == b"new", "new connection")
    ok("unixpath")


if __name__ == "__main__":
    main()
