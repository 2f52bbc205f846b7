#!/usr/bin/python3
"""An ipyparallel driver for issue #16 (IpyparallelHostsIT): a Client of the
controller whose client connection file is CLIENT_JSON, that submits TASKS
deterministic tasks one after the other to a load-balanced view of ENGINES engines,
and checks every result.

Task i returns the sum of the squares of i .. i+999 (and sleeps PAUSE seconds on the
engine, so that the run lasts); the driver compares it to the value it computes itself
and keeps a running checksum over the results in order.

Output: "engine E on HOST" for every engine at the start (where each engine runs),
"progress N checksum C" every EVERY tasks, "restarted driver G" when it notices it was
restarted by Stasis (restart generation G), and at last "OK ipp TASKS tasks checksum C"
(exit 0). A wrong result: one line "FAIL ..." that says which, exit 1. While a result
is late, "waiting for task N (S s)" every 10 s (the computation may be paused by a
checkpoint: no wall-clock limit ends the run).

Needs Debian's python3-ipyparallel: run it with /usr/bin/python3."""
import argparse
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from records import Restarts, fail, say  # noqa: E402

MODULUS = (1 << 61) - 1


def expected(i):
    return sum(k * k for k in range(i, i + 1000))


def square_sum(i, pause):
    import time as t
    t.sleep(pause)
    return sum(k * k for k in range(i, i + 1000))


def where():
    import os as o
    import socket as s
    return s.gethostname(), o.getpid()


def connect(client_json, engines):
    import ipyparallel
    deadline = time.monotonic() + 120
    while not os.path.exists(client_json):
        if time.monotonic() > deadline:
            fail("no client connection file %s after 120 s: did the controller start?" % client_json)
        time.sleep(0.2)
    while True:
        try:
            client = ipyparallel.Client(client_json, timeout=30)
            client.wait_for_engines(engines, timeout=max(1.0, deadline - time.monotonic()))
            return client
        except (TimeoutError, OSError, ipyparallel.error.TimeoutError) as e:
            if time.monotonic() > deadline:
                fail("%d engines did not register within 120 s: %s" % (engines, e))
            time.sleep(1.0)


def result_of(future, i, restarts):
    waited = 0
    while True:
        try:
            return future.get(timeout=10)
        except TimeoutError:
            pass
        except Exception as e:  # ipyparallel's TimeoutError is not the builtin one
            if type(e).__name__ != "TimeoutError":
                fail("task %d raised %s: %s" % (i, type(e).__name__, e))
        restarts.check()
        waited += 10
        say("waiting for task %d (%d s)" % (i, waited))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("client_json")
    parser.add_argument("--engines", type=int, default=2)
    parser.add_argument("--tasks", type=int, default=400)
    parser.add_argument("--every", type=int, default=10)
    parser.add_argument("--pause", type=float, default=0.05)
    args = parser.parse_args()
    restarts = Restarts("driver")
    client = connect(args.client_json, args.engines)
    for engine in sorted(client.ids):
        host, pid = client[engine].apply_sync(where)
        say("engine %d on %s pid %d" % (engine, host, pid))
    view = client.load_balanced_view()
    checksum = 0
    for i in range(args.tasks):
        restarts.check()
        value = result_of(view.apply_async(square_sum, i, args.pause), i, restarts)
        if value != expected(i):
            fail("task %d returned %r, expected %d" % (i, value, expected(i)))
        checksum = (checksum * 31 + value) % MODULUS
        if (i + 1) % args.every == 0:
            say("progress %d checksum %d" % (i + 1, checksum))
    restarts.check()
    say("OK ipp %d tasks checksum %d" % (args.tasks, checksum))
    client.close()


if __name__ == "__main__":
    main()
