"""FIFOs that only one side holds open, and one unlinked while open.

Usage: py_fifo_oneside.py MODE DIR [TICKS]. Prints "tick N" every 50 ms for TICKS
ticks (checkpoint and restart it meanwhile), then checks the FIFO still works and
prints "OK <mode>".
  reader    holds only a read end (non-blocking), with data a writer left in it
  writer    holds only a write end (the reader that let it open has gone)
  unlinked  holds a read and a write end of a FIFO whose name it removed, with
            records in flight; they must come out in order
"""
import os
import sys
import time

mode, directory = sys.argv[1], sys.argv[2]
ticks = int(sys.argv[3]) if len(sys.argv) > 3 else 100
path = os.path.join(directory, "%s.fifo" % mode)
if not os.path.exists(path):
    os.mkfifo(path, 0o600)


def fail(what):
    print("FAIL %s" % what, flush=True)
    sys.exit(1)


def read_all(fd):
    out = b""
    while True:
        try:
            chunk = os.read(fd, 4096)
        except BlockingIOError:
            return out
        if not chunk:
            return out
        out += chunk


if mode == "reader":
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    w = os.open(path, os.O_WRONLY)
    os.write(w, b"left behind\n")
    os.close(w)
elif mode == "writer":
    r = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    fd = os.open(path, os.O_WRONLY)
    os.close(r)
elif mode == "unlinked":
    rd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    wr = os.open(path, os.O_WRONLY)
    os.unlink(path)
    sent = got = 0
else:
    fail("unknown mode " + mode)

for n in range(1, ticks + 1):
    if mode == "unlinked":             # two records in, one out: some always in flight
        for _ in range(2):
            os.write(wr, b"record %06d\n" % sent)
            sent += 1
        line = os.read(rd, 14)
        if line != b"record %06d\n" % got:
            fail("expected record %d, got %r" % (got, line))
        got += 1
    print("tick %d" % n, flush=True)
    time.sleep(0.05)

if mode == "reader":
    data = read_all(fd)
    if data != b"left behind\n":
        fail("the reader found %r" % data)
elif mode == "writer":
    r = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    os.write(fd, b"late\n")
    data = read_all(r)
    if data != b"late\n":
        fail("the writer's end does not lead to the FIFO: %r" % data)
else:
    rest = read_all(rd)
    want = b"".join(b"record %06d\n" % i for i in range(got, sent))
    if rest != want:
        fail("records in flight: %r, not %r" % (rest[:60], want[:60]))
    if not os.readlink("/proc/self/fd/%d" % rd).endswith(" (deleted)"):
        fail("the FIFO has a name again: %s" % os.readlink("/proc/self/fd/%d" % rd))
print("OK %s" % mode, flush=True)
