#!/usr/bin/env python3
"""A long computation to try Stasis on: counts, keeps a running SHA-256 of its work and
a few megabytes of state, and prints a line every so often. Checkpoint it, kill it,
restart it: it carries on from the checkpoint and still agrees with itself.

usage: counter.py [STEPS] [SECONDS_PER_STEP]"""
import hashlib
import os
import sys
import time

steps = int(sys.argv[1]) if len(sys.argv) > 1 else 60
pause = float(sys.argv[2]) if len(sys.argv) > 2 else 0.25
state = bytearray(os.urandom(8 << 20))
digest = hashlib.sha256(state)
started = os.getpid()

for step in range(1, steps + 1):
    state[step % len(state)] ^= 0xFF
    digest.update(step.to_bytes(8, "little"))
    print(f"step {step:4d}/{steps}  pid {os.getpid()}  work {digest.hexdigest()[:12]}", flush=True)
    time.sleep(pause)

check = hashlib.sha256(bytes(state))
print(f"done: {steps} steps in process {started}, state hash {check.hexdigest()[:12]}")
