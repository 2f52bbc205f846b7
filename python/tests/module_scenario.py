"""Scenario for the stasis Python module (run by PythonModuleIT through bin/stasis).

    stasis launch -- python3 module_scenario.py WORKDIR [EXIT]

The original process:
  1. registers hooks, calls checkpoint() -> id A; checks is_resume(), the id, and
     that the checkpoint and resume hooks ran before checkpoint() returned;
  2. prints "READY cli" and waits until a checkpoint requested from the command line
     (by the test) has run its hooks; checks the id the hooks saw;
  3. prints "READY kill" and waits to be killed.
The test restarts checkpoint A with `stasis restart`; the restored copy continues
from checkpoint() with is_restart() True and the same id, its restart hook ran. It
  4. checks sessions() (ids, generations, directories, times);
  5. marks WORKDIR/restored-by-api and calls restore(A): the process is replaced;
the copy restored by restore() sees the mark, checks is_restart() again and prints
"OK module_scenario" and exits with EXIT (default 0: the test passes another value
to see it come through both restarts). Every failed check prints "FAIL ..." and
exits 1.
"""

import datetime
import os
import sys
import threading
import time

import stasis

WORK = sys.argv[1]
EXIT = int(sys.argv[2]) if len(sys.argv) > 2 else 0
MARK = os.path.join(WORK, "restored-by-api")
events = []                     # (kind, thread name, last id at hook time)
events_lock = threading.Lock()


def say(*words):
    print(*words, flush=True)


def check(cond, what):
    if not cond:
        say("FAIL", what, "events", events)
        sys.exit(1)


def hook(kind):
    def run():
        with events_lock:
            events.append((kind, threading.current_thread().name, stasis.last_checkpoint_id()))
        say("hook", kind, stasis.last_checkpoint_id())
    return run


def wait_for(pred, what, seconds=90):
    deadline = time.monotonic() + seconds
    while not pred():
        check(time.monotonic() < deadline, "timeout waiting for " + what)
        time.sleep(0.05)


check(stasis.enabled(), "enabled() under stasis launch")
for kind, register in (("checkpoint", stasis.on_checkpoint), ("resume", stasis.on_resume),
                       ("restart", stasis.on_restart)):
    register(hook(kind))
# a worker thread keeps running through every checkpoint
ticks = [0]


def tick():
    while True:
        ticks[0] += 1
        time.sleep(0.01)


threading.Thread(target=tick, daemon=True, name="ticker").start()

check(not stasis.is_resume() and not stasis.is_restart(), "no state before the first checkpoint")
first = stasis.checkpoint()                               # <- restored copies come back here
kinds = [e[0] for e in events]

if stasis.is_resume():
    # 1. the original process goes on
    check(not stasis.is_restart(), "is_restart() False in the original")
    check(stasis.isResume() and not stasis.isRestart(), "DMTCP aliases")
    check(isinstance(first, str) and first, "checkpoint() returned an id: %r" % (first,))
    check(stasis.last_checkpoint_id() == first, "last_checkpoint_id()")
    check(kinds == ["checkpoint", "resume"], "hooks before/after checkpoint(): %s" % kinds)
    check(events[0][1] != "MainThread", "hooks run on the agent's hook thread")
    check(events[1][2] == first, "the resume hook saw the new id")
    say("OK-STEP program-checkpoint", first)

    # 2. a checkpoint requested from the command line runs the hooks too
    before = len(events)
    say("READY cli")
    wait_for(lambda: len(events) >= before + 2, "the hooks of a CLI checkpoint")
    cli = [e for e in events[before:]]
    check([e[0] for e in cli] == ["checkpoint", "resume"], "CLI checkpoint hooks: %s" % cli)
    second = stasis.last_checkpoint_id()
    check(second and second != first and cli[1][2] == second, "CLI checkpoint id %r" % (second,))
    check(stasis.is_resume(), "is_resume() after a CLI checkpoint")
    t = ticks[0]
    time.sleep(0.2)
    check(ticks[0] > t, "the worker thread runs after the checkpoints")
    say("OK-STEP cli-checkpoint", second)

    # 3. the test kills us now and restarts checkpoint `first`
    say("READY kill")
    time.sleep(120)
    check(False, "not killed")

# restored copies: from `stasis restart` (step 4) or from restore() (step 6)
check(stasis.is_restart() and not stasis.is_resume(), "is_restart() in the restored copy")
check(stasis.isRestart(), "DMTCP alias isRestart")
check(stasis.last_checkpoint_id() == first, "restored copy: id %r vs %r" % (stasis.last_checkpoint_id(), first))
check(kinds == ["checkpoint", "restart"], "restored copy: hooks %s" % kinds)
check(events[1][2] == first, "the restart hook saw the id")
check(stasis.restart_count() >= 1, "restart_count() %d" % stasis.restart_count())
t = ticks[0]
time.sleep(0.2)
check(ticks[0] > t, "the worker thread runs in the restored copy")

if not os.path.exists(MARK):
    say("OK-STEP restarted", first, "restarts", stasis.restart_count())
    # 4. sessions(): the checkpoints so far, with their ids
    sessions = stasis.sessions()
    ids = [s.id for s in sessions]
    say("sessions", " ".join(ids))
    check(first in ids, "sessions() lists %s: %s" % (first, ids))
    check(len(sessions) >= 2, "sessions() lists both checkpoints: %s" % ids)
    s = sessions[ids.index(first)]
    check(os.path.isfile(os.path.join(s.directory, "manifest.json")), "session directory %s" % s.directory)
    check(s.state == "ok" and s.processes == 1 and s.bytes > 0, "session fields %r" % (s,))
    check(isinstance(s.created, datetime.datetime) and s.created.tzinfo is not None, "created %r" % (s.created,))
    check([x.generation for x in sessions] == sorted((x.generation for x in sessions), reverse=True), "newest first")
    check(sessions[0].created >= s.created, "times increase")
    say("OK-STEP sessions", " ".join(ids))
    # 5. replace this process by checkpoint `first`
    with open(MARK, "w") as f:
        f.write(first)
    say("RESTORING", first)
    stasis.restore(first)
    check(False, "restore() returned")

# 6. the copy restored by restore()
say("OK module_scenario", first, "pid", os.getpid())
sys.exit(EXIT)
