"""A log written through stdout redirected with '>' (write-only, not appending): one
line per step, 'line N TOKEN', the token random so that a line rewritten by a
restarted run differs from the first run's. Ends after line TARGET."""
import os
import sys
import time

target = int(sys.argv[1])
n = 0
while n < target:
    n += 1
    sys.stdout.write(f"line {n} {os.urandom(4).hex()}\n")
    sys.stdout.flush()
    time.sleep(0.05)
print("done", flush=True)
