#!/usr/bin/env python3
"""Scenario: compress_memory.py TEXT_MIB RANDOM_MIB [STEPS] [STEP_S]
Holds TEXT_MIB MiB of compressible text (words of a small vocabulary, no zero pages)
and RANDOM_MIB MiB of random bytes, re-checks the SHA-256 of both every 10 steps and at
the end; prints progress lines; exits 0 with "OK" only if nothing was lost."""
import hashlib
import os
import random
import sys
import time

text_mib = int(sys.argv[1]) if len(sys.argv) > 1 else 64
rand_mib = int(sys.argv[2]) if len(sys.argv) > 2 else 16
steps = int(sys.argv[3]) if len(sys.argv) > 3 else 50
step_s = float(sys.argv[4]) if len(sys.argv) > 4 else 0.05

rng = random.Random(15)
words = ["".join(rng.choice("abcdefghijklmnop") for _ in range(rng.randint(3, 9))) for _ in range(500)]
chunk = " ".join(rng.choice(words) for _ in range(200_000)).encode()
text = bytearray((chunk * ((text_mib << 20) // len(chunk) + 1))[:text_mib << 20])
rand = bytearray(os.urandom(rand_mib << 20))
digests = [hashlib.sha256(text).hexdigest(), hashlib.sha256(rand).hexdigest()]


def intact():
    return [hashlib.sha256(text).hexdigest(), hashlib.sha256(rand).hexdigest()] == digests


print("ready %d MiB text %d MiB random" % (text_mib, rand_mib), flush=True)
for step in range(1, steps + 1):
    time.sleep(step_s)
    if step % 10 == 0 and not intact():
        print("FAIL data changed", flush=True)
        sys.exit(1)
    print("progress %d" % step, flush=True)
if not intact():
    print("FAIL data changed", flush=True)
    sys.exit(1)
print("OK", flush=True)
