#!/usr/bin/env python3
"""Scenario: evil_names.py DIR
Holds open files whose names are made to break a line protocol: one with a newline
followed by a forged descriptor report ("\\nFD 77 0 0 shadow"), one with a
backslash. Prints "ready" and the fd numbers, then counts until killed."""
import os
import sys
import time

d = sys.argv[1]
names = ["evil\nFD 77 0 0 shadow", "back\\slash\\n", "plain"]
fds = [os.open(os.path.join(d, n), os.O_RDWR | os.O_CREAT, 0o600) for n in names]
print("ready", " ".join(str(f) for f in fds), flush=True)
i = 0
while True:
    i += 1
    print("count", i, flush=True)
    time.sleep(0.05)
