"""A program with one long-lived connection to a service: a request every 0.2 s,
COUNT requests in all. It never reconnects by itself: if the connection breaks it
says so and exits 1.

Usage: client.py PORT COUNT
"""
import socket
import sys
import time

port, count = int(sys.argv[1]), int(sys.argv[2])
conn = socket.create_connection(("127.0.0.1", port))
conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
stream = conn.makefile("rwb")
for n in range(1, count + 1):
    try:
        stream.write(b"%d\n" % n)
        stream.flush()
        reply = stream.readline()
    except OSError as e:
        print("request", n, "failed:", e, flush=True)
        sys.exit(1)
    if not reply:
        print("request", n, "lost: the connection was closed", flush=True)
        sys.exit(1)
    print("request", n, "->", reply.decode().strip(), flush=True)
    time.sleep(0.2)
print("all", count, "requests answered", flush=True)
