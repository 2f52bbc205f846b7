"""A program with a scratch companion file next to its data file (like sqlite's -wal):
DATA and DATA-scratch, both created and kept open for writing. Prints 'step N' and
exits after TARGET steps. Deleting DATA-scratch while the program is checkpointed
must not stop its restart: the companion is recreated empty."""
import os
import sys
import time

data, target = sys.argv[1], int(sys.argv[2])
main = os.open(data, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
scratch = os.open(data + "-scratch", os.O_RDWR | os.O_CREAT, 0o644)
for n in range(1, target + 1):
    os.write(main, f"step {n}\n".encode())
    os.pwrite(scratch, f"{n:08d}".encode(), 0)
    print(f"step {n}", flush=True)
    time.sleep(0.05)
print(f"OK {target} steps", flush=True)
