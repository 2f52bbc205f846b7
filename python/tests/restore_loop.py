"""restore() many times in a row (PythonSessionsIT): each round checkpoints, changes
its state, restores the checkpoint and checks that the state is the checkpointed one
again. The restored computation replaces the old one at the same level: its pid
namespace is never nested in the previous one. That cannot be seen from inside (the
computation's /proc is its namespace's own, NSpid has one entry there), so the test
reads NSpid from the host while the program waits at "PROBE start", "PROBE 1" (after
the first restore) and "PROBE end".

Usage: restore_loop.py WORKDIR ROUNDS. Prints "restored N" per round and
"OK restore_loop N" at the end (exit 0); "FAIL ..." (exit 1) on a mismatch. The
round counter lives in WORKDIR/count: memory goes back with each restore, files do not.
"""
import os
import sys
import time

import stasis

WORK, ROUNDS = sys.argv[1], int(sys.argv[2])
COUNT = os.path.join(WORK, "count")


def say(*words):
    print(*words, flush=True)


def check(ok, what):
    if not ok:
        say("FAIL", what)
        sys.exit(1)


def restores_done():
    try:
        with open(COUNT) as f:
            return int(f.read())
    except FileNotFoundError:
        return 0


def probe(tag):
    """Waits while the test looks at this process from the host."""
    say("PROBE", tag)
    mark = os.path.join(WORK, "ack-" + tag)
    while not os.path.exists(mark):
        time.sleep(0.05)


probe("start")
while True:
    n = restores_done()
    if n >= ROUNDS:
        break
    state = {"round": n, "value": "checkpointed %d" % n}
    ckpt = stasis.checkpoint()                      # <- the restored copy comes back here
    if stasis.is_restart():
        check(state == {"round": n, "value": "checkpointed %d" % n}, "state after restore: %r" % (state,))
        check(restores_done() == n + 1, "round %d: count file says %d" % (n, restores_done()))
        say("restored", n + 1)
        if n == 0:
            probe("1")
        continue
    state["value"] = "changed after the checkpoint"
    sessions = stasis.sessions()
    check(sessions and sessions[0].id == ckpt, "newest session %r is not %s"
          % (sessions[0].id if sessions else None, ckpt))
    with open(COUNT, "w") as f:
        f.write(str(n + 1))
    stasis.restore(ckpt)
    check(False, "restore() returned")

probe("end")
say("OK restore_loop", ROUNDS)
