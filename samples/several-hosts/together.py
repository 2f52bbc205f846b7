#!/usr/bin/env python3
"""service.py and its workers on one host, as one program (issue #16 scenario).

    together.py HOST:PORT WORKERS RECORDS [worker.py options...]

Starts service.py on HOST:PORT and, once it listens, WORKERS worker.py processes
sending RECORDS records each (the options after RECORDS go to every worker), all as
children of this process, so one `stasis launch` runs the whole stream on one host.
Their lines go to this process's stdout. Exits 0 if every one of them did, else 1 with
a "FAIL ..." line naming who failed."""
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))


def say(*words):
    os.write(1, (" ".join(str(w) for w in words) + "\n").encode())


def main():
    if len(sys.argv) < 4:
        say("FAIL usage: together.py HOST:PORT WORKERS RECORDS [worker.py options...]")
        sys.exit(2)
    address, workers, records = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    options = sys.argv[4:]
    python = sys.executable
    service = subprocess.Popen([python, os.path.join(HERE, "service.py"), address, str(workers), records],
                               stdout=subprocess.PIPE)
    ready = service.stdout.readline()
    if ready != b"ready\n":
        say("FAIL service.py did not start:", ready.decode(errors="replace").strip())
        sys.exit(1)
    say("ready")
    started = [("worker " + str(n), subprocess.Popen([python, os.path.join(HERE, "worker.py"), address, str(n),
                                                      records] + options))
               for n in range(1, workers + 1)]
    for line in iter(service.stdout.readline, b""):
        os.write(1, line)
    failed = [who for who, child in [("service", service)] + started if child.wait() != 0]
    if failed:
        say("FAIL together:", ", ".join(failed), "failed")
        sys.exit(1)
    say("OK together", workers, "workers", records, "records each")


if __name__ == "__main__":
    main()
