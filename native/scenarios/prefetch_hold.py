#!/usr/bin/env python3
"""Scenario: prefetch_hold.py [MIB] [STEPS] [STEP_S] [STOP_FILE]
Holds MIB MiB of random bytes and does not touch them while it prints STEPS progress
lines (so that only a prefetch can page them in after a lazy restart), or fewer once
STOP_FILE exists (the test is done watching); then checks their SHA-256 and exits 0
with "OK" only if nothing was lost."""
import hashlib
import os
import sys
import time

mib = int(sys.argv[1]) if len(sys.argv) > 1 else 64
steps = int(sys.argv[2]) if len(sys.argv) > 2 else 100
step_s = float(sys.argv[3]) if len(sys.argv) > 3 else 0.05
stop = sys.argv[4] if len(sys.argv) > 4 else None

data = bytearray(os.urandom(mib << 20))
digest = hashlib.sha256(data).hexdigest()
print("ready %d MiB" % mib, flush=True)
for step in range(1, steps + 1):
    time.sleep(step_s)
    print("progress %d" % step, flush=True)
    if stop and os.path.exists(stop):
        break
if hashlib.sha256(data).hexdigest() != digest:
    print("FAIL data changed", flush=True)
    sys.exit(1)
print("OK prefetch_hold %d MiB" % mib, flush=True)
