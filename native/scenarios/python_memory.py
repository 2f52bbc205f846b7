#!/usr/bin/env python3
"""Scenario (d): python_memory.py [MIB] [STEPS] [STEP_S]
Holds MIB MiB of random bytes, re-checks their SHA-256, two threads count; prints
progress lines; exits 0 with "OK" only if nothing was lost."""
import hashlib
import os
import sys
import threading
import time

mib = int(sys.argv[1]) if len(sys.argv) > 1 else 200
steps = int(sys.argv[2]) if len(sys.argv) > 2 else 50
step_s = float(sys.argv[3]) if len(sys.argv) > 3 else 0.05

data = os.urandom(mib << 20)
digest = hashlib.sha256(data).hexdigest()
counts = [0, 0]
stop = False
lock = threading.Lock()


def counter(i):
    while not stop:
        with lock:
            counts[i] += 1
        time.sleep(0.002)


threads = [threading.Thread(target=counter, args=(i,)) for i in range(2)]
for t in threads:
    t.start()
print("ready %d MiB" % mib, flush=True)
last = [0, 0]
for step in range(1, steps + 1):
    time.sleep(step_s)
    with lock:
        now = list(counts)
    if now[0] < last[0] or now[1] < last[1]:
        print("FAIL counters went back", now, last, flush=True)
        sys.exit(1)
    last = now
    if step % 10 == 0 and hashlib.sha256(data).hexdigest() != digest:
        print("FAIL data changed", flush=True)
        sys.exit(1)
    print("progress %d %d %d" % (step, now[0], now[1]), flush=True)
stop = True
for t in threads:
    t.join()
if hashlib.sha256(data).hexdigest() != digest:
    print("FAIL data changed", flush=True)
    sys.exit(1)
if counts[0] == 0 or counts[1] == 0:
    print("FAIL threads did not count", flush=True)
    sys.exit(1)
print("OK python %d MiB" % mib, flush=True)
