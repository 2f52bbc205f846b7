"""Writes numbered lines to one log through stdout, stderr and a forked child.

Usage: py_shared_log.py LOG COUNT. LOG is opened once without O_APPEND and made
fd 1 and fd 2 (as `prog > LOG 2>&1` does); the child inherits that one open file
description. Parent and child take turns through a pipe, so the lines are in order
in LOG only if all three descriptors still share one file offset after a restart.
At the end the parent checks LOG holds every line exactly once and prints
"OK shared-log COUNT" to the terminal it was started on (fd 3, a dup of the original stdout).
"""
import os
import sys
import time

log, count = sys.argv[1], int(sys.argv[2])
report = os.dup(1)
fd = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
os.dup2(fd, 1)
os.dup2(fd, 2)
os.close(fd)
to_child_r, to_child_w = os.pipe()
to_parent_r, to_parent_w = os.pipe()

child = os.fork()
if child == 0:
    os.close(to_child_w)
    os.close(to_parent_r)
    while True:
        n = int(os.read(to_child_r, 16).decode() or "-1")
        if n < 0:
            os._exit(0)
        os.write(2, b"line %06d child\n" % n)
        os.write(to_parent_w, b"%d" % (n + 1))

os.close(to_child_r)
os.close(to_parent_w)
n = 0
while n < count:
    os.write(1 if n % 4 == 0 else 2, b"line %06d parent\n" % n)
    os.write(to_child_w, b"%d" % (n + 1))
    n = int(os.read(to_parent_r, 16).decode())
    if n % 100 == 0:
        os.write(report, b"progress %d\n" % n)
        time.sleep(0.05)
os.close(to_child_w)
os.waitpid(child, 0)
with open(log) as f:
    lines = f.read().splitlines()
expected = ["line %06d %s" % (i, "child" if i % 2 else "parent") for i in range(count)]
if lines != expected:
    bad = next((i for i, (a, b) in enumerate(zip(lines, expected)) if a != b), min(len(lines), len(expected)))
    os.write(report, b"FAIL shared-log at line %d: %r\n" % (bad, lines[bad] if bad < len(lines) else None))
    sys.exit(1)
os.write(report, b"OK shared-log %d\n" % count)
