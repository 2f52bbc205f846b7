"""A service outside Stasis (standing in for a database): answers each line it
receives with "ok <line> (connection N)", so a client's output shows which
connection carried each request.

Usage: service.py PORT
"""
import socket
import sys
import threading


def serve(conn, number):
    with conn, conn.makefile("rwb") as stream:
        for line in stream:
            stream.write(b"ok %s (connection %d)\n" % (line.rstrip(b"\n"), number))
            stream.flush()
    print("connection", number, "closed", flush=True)


def main():
    server = socket.socket()
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    server.bind(("127.0.0.1", int(sys.argv[1])))
    server.listen()
    print("listening on port", sys.argv[1], flush=True)
    number = 0
    while True:
        conn, peer = server.accept()
        number += 1
        print("connection", number, "from", peer, flush=True)
        threading.Thread(target=serve, args=(conn, number), daemon=True).start()


main()
