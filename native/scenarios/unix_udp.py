#!/usr/bin/env python3
"""Scenario: unix_udp.py COUNT
Unix stream (a path listener bound by a relative name, in a fresh temporary
directory), Unix datagrams to a named receiver, and UDP over IPv6 between a parent
and its child; every message numbered and checked for loss, repetition and order.
At the end the child connects to the listener a second time. Prints "OK unix+udp
COUNT" at the end and exits 0 only then."""
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time

COUNT = int(sys.argv[1]) if len(sys.argv) > 1 else 20000


def child(udp_port):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect("svc.sock")
    d = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    u = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
    u.connect(("::1", udp_port))
    f = s.makefile("rb")
    for i in range(COUNT):
        s.sendall(b"line %d\n" % i)
        if f.readline() != b"echo %d\n" % i:
            print("CHILD FAIL echo", i, flush=True)
            sys.exit(1)
        if i % 10 == 0:
            d.sendto(b"dgram %d" % (i // 10), "log.sock")
            u.send(b"udp %d" % (i // 10))
        time.sleep(0.0005)
    d.sendto(b"end", "log.sock")
    u.send(b"end")
    s.close()
    again = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    again.connect("svc.sock")
    if again.recv(100) != b"hello again":
        print("CHILD FAIL again", flush=True)
        sys.exit(1)
    print("child OK", flush=True)


def reader(sock, prefix, errors):
    expect = 0
    while True:
        m = sock.recv(100)
        if m == b"end":
            return
        if m != prefix + b" %d" % expect:
            errors.append("%s: expected %d, got %r" % (prefix, expect, m))
            return
        expect += 1


def main():
    if len(sys.argv) > 2:
        child(int(sys.argv[2]))
        return
    os.chdir(tempfile.mkdtemp(prefix="unix_udp-"))
    lsock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    lsock.bind("svc.sock")
    lsock.listen(2)
    dsock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    dsock.bind("log.sock")
    usock = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
    usock.bind(("::1", 0))
    errors = []
    threads = [threading.Thread(target=reader, args=(dsock, b"dgram", errors)),
               threading.Thread(target=reader, args=(usock, b"udp", errors))]
    for t in threads:
        t.start()
    kid = subprocess.Popen([sys.executable, os.path.abspath(__file__), str(COUNT), str(usock.getsockname()[1])])
    conn, _ = lsock.accept()
    f = conn.makefile("rb")
    for i in range(COUNT):
        line = f.readline()
        if line != b"line %d\n" % i:
            errors.append("line: expected %d, got %r" % (i, line))
            break
        conn.sendall(b"echo %d\n" % i)
        if i % 5000 == 0:
            print("progress", i, flush=True)
    again, _ = lsock.accept()
    again.sendall(b"hello again")
    rc = kid.wait()
    for t in threads:
        t.join()
    shutil.rmtree(os.getcwd(), ignore_errors=True)   # the socket files' directory
    if errors or rc != 0:
        print("FAIL", errors, rc, flush=True)
        sys.exit(1)
    print("OK unix+udp", COUNT, flush=True)


main()
