#!/usr/bin/env python3
"""Scenario: deleted_file.py N PATH [STEP_S]
Creates PATH, deletes it while keeping it open, and appends a numbered record to it
at every step, re-reading the whole content each time. A restart must bring the
deleted file back with the content it had at the checkpoint, still deleted, at the
same offset. Exits 0 with "OK" only if the content always matched."""
import os
import sys
import time

n = int(sys.argv[1])
path = sys.argv[2]
step_s = float(sys.argv[3]) if len(sys.argv) > 3 else 0.05

f = open(path, "w+b")
os.unlink(path)
for i in range(1, n + 1):
    f.seek(0, os.SEEK_END)
    f.write(b"record %06d\n" % i)
    f.flush()
    f.seek(0)
    if f.read() != b"".join(b"record %06d\n" % j for j in range(1, i + 1)):
        print("FAIL deleted file content at step", i, flush=True)
        sys.exit(1)
    if os.path.exists(path):
        print("FAIL the deleted file came back by name", flush=True)
        sys.exit(1)
    target = os.readlink("/proc/self/fd/%d" % f.fileno())
    if not target.endswith(" (deleted)"):
        print("FAIL the file is not deleted:", target, flush=True)
        sys.exit(1)
    print("step", i, flush=True)
    time.sleep(step_s)
print("OK deleted file", n, flush=True)
