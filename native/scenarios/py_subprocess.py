#!/usr/bin/env python3
"""Scenario: py_subprocess.py N [STEP_S]
A parent streams numbered records to a `subprocess` child through a pipe and reads
each reply through another. Checkpointed mid-stream, killed and restarted, the pair
must go on with every record answered exactly once, in order. Exits 0 with "OK"
only then."""
import subprocess
import sys
import time

n = int(sys.argv[1])
step_s = float(sys.argv[2]) if len(sys.argv) > 2 else 0.02
ECHO = "import sys\nfor line in sys.stdin:\n    sys.stdout.write('ack ' + line)\n    sys.stdout.flush()\n"
child = subprocess.Popen([sys.executable, "-c", ECHO], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         text=True, bufsize=1)
for i in range(1, n + 1):
    child.stdin.write("record %d\n" % i)
    child.stdin.flush()
    reply = child.stdout.readline()
    if reply != "ack record %d\n" % i:
        print("FAIL record %d answered with %r" % (i, reply), flush=True)
        sys.exit(1)
    print("step", i, flush=True)
    time.sleep(step_s)
child.stdin.close()
if child.wait() != 0:
    print("FAIL the child exited with", child.returncode, flush=True)
    sys.exit(1)
print("OK subprocess", n, flush=True)
