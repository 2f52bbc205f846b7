#!/usr/bin/env python3
"""Scenario: sock_timewait.py GO
A TCP server (a listener on 127.0.0.1 without SO_REUSEADDR, one thread per
connection, greeting then echoing lines) and a forked client process that keeps two
connections open and opens and closes a short connection every 50 ms, so when the
computation is killed its port has connections in TIME_WAIT and FIN_WAIT. A restart
right after the kill must listen on the same port again (the kernel allows it with
address reuse) and the program's own SO_REUSEADDR (off) must be what it finds.
When the file GO exists both sides check: the same port, SO_REUSEADDR off, the old
connections still echo, a new connection is greeted. Prints "OK timewait"."""
import os
import socket
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sockstate import expect, fail, hold, ok  # noqa: E402


def serve(conn):
    conn.sendall(b"hi\n")
    f = conn.makefile("rb")
    for line in f:
        conn.sendall(b"echo " + line)
    conn.close()


def accept_loop(lsock):
    while True:
        conn, _ = lsock.accept()
        threading.Thread(target=serve, args=(conn,), daemon=True).start()


def connect(port):
    s = socket.create_connection(("127.0.0.1", port))
    f = s.makefile("rb")
    expect(f.readline() == b"hi\n", "no greeting")
    return s, f


def echo(s, f, text):
    s.sendall(text + b"\n")
    got = f.readline()
    expect(got == b"echo " + text + b"\n", "echo of", text, "was", got)


def client(port, go):
    try:
        keep = [connect(port), connect(port)]
        n = 0
        while not os.path.exists(go):
            n += 1
            for i, (s, f) in enumerate(keep):
                echo(s, f, b"keep %d %d" % (i, n))
            s, f = connect(port)
            echo(s, f, b"short %d" % n)
            s.close()
            time.sleep(0.05)
        for i, (s, f) in enumerate(keep):
            echo(s, f, b"final %d" % i)
        s, f = connect(port)
        echo(s, f, b"new")
        s.close()
    except Exception as e:  # noqa: BLE001
        fail("client", repr(e))
    os._exit(0)


def main():
    go = sys.argv[1]
    lsock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    lsock.bind(("127.0.0.1", 0))
    lsock.listen(8)
    port = lsock.getsockname()[1]
    pid = os.fork()
    if pid == 0:
        lsock.close()
        client(port, go)
    threading.Thread(target=accept_loop, args=(lsock,), daemon=True).start()
    hold(go)
    _, status = os.waitpid(pid, 0)
    expect(status == 0, "client ended with status", status)
    expect(lsock.getsockname() == ("127.0.0.1", port), "listener moved to", lsock.getsockname())
    expect(lsock.getsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR) == 0, "SO_REUSEADDR is on")
    ok("timewait")


if __name__ == "__main__":
    main()
