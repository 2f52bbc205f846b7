"""A parent reads numbered records that its child writes into a named pipe (FIFO).

Usage: py_fifo.py DIR [COUNT]. The FIFO is created in DIR. The child writes faster
than the parent reads, so the FIFO is full at any checkpoint. The parent checks that
every record arrives exactly once and in order, then prints "OK <count>".
"""
import os
import sys
import time

directory = sys.argv[1]
count = int(sys.argv[2]) if len(sys.argv) > 2 else 20000
path = os.path.join(directory, "records.fifo")
if not os.path.exists(path):
    os.mkfifo(path, 0o600)

child = os.fork()
if child == 0:
    with open(path, "w") as out:
        for n in range(count):
            out.write("record %08d\n" % n)
    os._exit(0)

expected = 0
with open(path, "r") as source:
    for line in source:
        if line != "record %08d\n" % expected:
            print("FAIL expected record %d, got %r" % (expected, line), flush=True)
            sys.exit(1)
        expected += 1
        if expected % 1000 == 0:
            print("progress %d" % expected, flush=True)
            time.sleep(0.05)
_, status = os.waitpid(child, 0)
if expected != count or status != 0:
    print("FAIL got %d of %d records, child status %d" % (expected, count, status), flush=True)
    sys.exit(1)
print("OK %d" % expected, flush=True)
