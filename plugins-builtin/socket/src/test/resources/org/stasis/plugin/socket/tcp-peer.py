# A program of one part of a computation that spans hosts (socket plugin tests).
# "a [IP]": listens on IP (127.0.0.1), accepts one connection; "b PORT [IP SERVER-IP]": connects
# to it (at SERVER-IP, 127.0.0.1) from IP (127.0.0.2).
# Each sends numbered lines until its buffers are full (nobody reads yet), prints
# "fds <connection> [<listener>] sent <n>", then waits for "go <n>" on stdin: it reads
# the peer's first n bytes, checks them, sends "after-<role>\n", reads the peer's, and
# prints "ok" (or what was wrong). Then it waits on stdin until it is killed.
import socket
import sys

role = sys.argv[1]
other = "b" if role == "a" else "a"
keep = []
if role == "a":
    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind((sys.argv[2] if len(sys.argv) > 2 else "127.0.0.1", 0))
    listener.listen(4)
    print("port", listener.getsockname()[1], flush=True)
    conn, _ = listener.accept()
    keep.append(listener)
else:
    conn = socket.socket()
    conn.bind((sys.argv[3] if len(sys.argv) > 3 else "127.0.0.2", 0))
    conn.connect((sys.argv[4] if len(sys.argv) > 4 else "127.0.0.1", int(sys.argv[2])))


def lines(tag):
    return b"".join(b"%s %d\n" % (tag.encode(), i) for i in range(200000))


data = lines(role)
conn.setblocking(False)
sent = 0
try:
    while sent < len(data):
        sent += conn.send(data[sent:sent + 65536])
except BlockingIOError:
    pass
print("fds", conn.fileno(), *[k.fileno() for k in keep], "sent", sent, flush=True)

expect = int(sys.stdin.readline().split()[1])
conn.setblocking(True)
conn.settimeout(10)


def read(n):
    got = bytearray()
    while len(got) < n:
        chunk = conn.recv(min(65536, n - len(got)))
        if not chunk:
            break
        got += chunk
    return bytes(got)


got = read(expect)
conn.sendall(b"after-%s\n" % role.encode())
tail = read(len("after-x\n"))
want = lines(other)[:expect]
if got == want and tail == b"after-%s\n" % other.encode():
    print("ok", flush=True)
else:
    print("bad: %d of %d bytes, %s, tail %r" % (len(got), expect, "in order" if got == want[:len(got)] else "out of order", tail), flush=True)
sys.stdin.readline()
