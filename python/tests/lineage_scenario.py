"""sessions() is scoped to the computation (PythonSessionsIT).

Usage: lineage_scenario.py WORKDIR TAG. Program "A" checkpoints once and ends.
Program "B", launched later under the same coordinator, checkpoints: sessions() lists
only its own checkpoint (not A's). The test kills B and restarts that checkpoint; the
restored B checkpoints again: sessions() lists both of B's checkpoints, newest first,
the newest with the restarted one as parent and its note, both with B's command line.
Prints "OK lineage TAG ..." and exits 0; "FAIL ..." on a mismatch.
"""
import os
import sys
import time

import stasis

WORK, TAG = sys.argv[1], sys.argv[2]


def say(*words):
    print(*words, flush=True)


def check(ok, what):
    if not ok:
        say("FAIL", TAG, what)
        sys.exit(1)


first = stasis.checkpoint()
if not stasis.is_restart():
    mine = stasis.sessions()
    check([s.id for s in mine] == [first], "sessions() of a new launch: %s, want [%s]"
          % ([s.id for s in mine], first))
    if TAG == "A":
        say("OK lineage A", first)
        sys.exit(0)
    check("lineage_scenario.py" in mine[0].command and TAG in mine[0].command, "command %r" % mine[0].command)
    check(mine[0].parent == "", "the first checkpoint has no parent: %r" % mine[0].parent)
    say("READY kill", first)
    while True:
        time.sleep(1)

second = stasis.checkpoint(note="after the restart")
mine = stasis.sessions()
ids = [s.id for s in mine]
check(ids == [second, first], "sessions() after a restart: %s, want [%s, %s]" % (ids, second, first))
check(mine[0].parent == first, "parent of %s: %r, want %s" % (second, mine[0].parent, first))
check(mine[0].lineage == mine[1].lineage != "", "one lineage: %r" % ([s.lineage for s in mine],))
check(all("lineage_scenario.py" in s.command for s in mine), "commands %r" % ([s.command for s in mine],))
check(mine[0].note == "after the restart" and mine[1].note == "", "notes %r" % ([s.note for s in mine],))
say("OK lineage", TAG, " ".join(ids))
