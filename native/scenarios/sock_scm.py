#!/usr/bin/env python3
"""Scenario: sock_scm.py GO
Descriptors in flight: a Unix socket pair carries a message with SCM_RIGHTS (the read
end of a pipe holding bytes, and a file opened at an offset) that nobody has received
yet. A restart cannot bring descriptors in flight back, so a checkpoint must be
refused while they wait (the program goes on unharmed). When the file GO.received
exists the program receives them and checks them ("received" then "ready"); then it
holds until GO exists, being checkpointed and restarted, and checks the received
descriptors again. Prints "OK scm"."""
import array
import os
import socket
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sockstate import expect, hold, ok  # noqa: E402


def check(pipe_r, f, when):
    expect(os.read(pipe_r, 100) == b"pipe %s" % when, "pipe content", when)
    expect(os.lseek(f, 0, os.SEEK_CUR) == 5, "file offset", when)
    expect(os.read(f, 4) == b"5678", "file content", when)
    os.lseek(f, 5, os.SEEK_SET)


def main():
    go = sys.argv[1]
    fd, path = tempfile.mkstemp(prefix="sock_scm-")
    os.write(fd, b"0123456789")
    os.lseek(fd, 5, os.SEEK_SET)
    r, w = os.pipe()
    os.write(w, b"pipe before")
    a, b = socket.socketpair()
    a.sendmsg([b"fds"], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", [r, fd]))])
    os.close(r)
    os.close(fd)
    hold(go + ".received")
    msg, fds, _, _ = socket.recv_fds(b, 100, 4)
    expect(msg == b"fds" and len(fds) == 2, "message", msg, "with", len(fds), "descriptors")
    check(fds[0], fds[1], b"before")
    print("received", flush=True)
    hold(go)
    os.write(w, b"pipe after")
    check(fds[0], fds[1], b"after")
    os.unlink(path)
    ok("scm")


if __name__ == "__main__":
    main()
