#!/usr/bin/env python3
"""Scenario: tcp_lines.py COUNT
A TCP server thread and a client process stream numbered lines to each other.

The client sends "line N" for N in 0..COUNT-1 (a little paced, so checkpoints land
mid-stream); the server checks each arrives once and in order and answers "ack N";
the client checks the acks the same way. Exits 0 and prints OK only if every line
and ack arrived exactly once, in order. Also keeps a Unix socketpair between the
parent and the child busy with numbered datagrams (SOCK_SEQPACKET)."""
import os
import socket
import subprocess
import sys
import threading
import time

COUNT = int(sys.argv[1]) if len(sys.argv) > 1 else 100000


def lines(sock):
    buf = b""
    while True:
        chunk = sock.recv(65536)
        if not chunk:
            return
        buf += chunk
        *full, buf = buf.split(b"\n")
        for line in full:
            yield line


def client(port, seqfd):
    s = socket.create_connection(("127.0.0.1", port))
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    seq = socket.socket(fileno=seqfd)
    errors = []

    def read_acks():
        expect = 0
        for line in lines(s):
            if line != b"ack %d" % expect:
                errors.append("ack: expected %d, got %r" % (expect, line[:40]))
                return
            expect += 1
            if expect == COUNT:
                return
        errors.append("ack: connection ended at %d" % expect)

    t = threading.Thread(target=read_acks)
    t.start()
    for i in range(COUNT):
        s.sendall(b"line %d\n" % i)
        if i % 50 == 0:
            seq.send(b"seq %d" % (i // 50))
            time.sleep(0.001)
    t.join()
    nodelay = s.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)
    if nodelay != 1:
        errors.append("TCP_NODELAY lost")
    seq.send(b"end")
    if errors:
        print("CLIENT FAIL", errors, flush=True)
        sys.exit(1)
    print("client OK", flush=True)


def main():
    if len(sys.argv) > 2 and sys.argv[2] == "client":
        client(int(sys.argv[3]), int(sys.argv[4]))
        return
    lsock = socket.socket()
    lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    lsock.bind(("127.0.0.1", 0))
    lsock.listen(4)
    port = lsock.getsockname()[1]
    parent_seq, child_seq = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    child = subprocess.Popen([sys.executable, __file__, str(COUNT), "client", str(port), str(child_seq.fileno())],
                             pass_fds=[child_seq.fileno()])
    child_seq.close()
    errors = []

    def seq_reader():
        expect = 0
        while True:
            m = parent_seq.recv(100)
            if m == b"end":
                return
            if m != b"seq %d" % expect:
                errors.append("seq: expected %d, got %r" % (expect, m))
                return
            expect += 1

    rt = threading.Thread(target=seq_reader)
    rt.start()
    conn, _ = lsock.accept()
    expect = 0
    for line in lines(conn):
        if line != b"line %d" % expect:
            errors.append("line: expected %d, got %r" % (expect, line[:40]))
            break
        conn.sendall(b"ack %d\n" % expect)
        expect += 1
        if expect % 20000 == 0:
            print("progress", expect, flush=True)
        if expect == COUNT:
            break
    rc = child.wait()
    rt.join()
    if errors or rc != 0 or expect != COUNT:
        print("FAIL", errors, "child", rc, "lines", expect, flush=True)
        sys.exit(1)
    print("OK tcp+seqpacket", COUNT, flush=True)


main()
