"""The checkers' CPU priority while the fast run runs (internal).

The fast run has priority: a local checker starts at idle priority (SCHED_IDLE, it
gets only the CPU time nobody else wants) and goes back to normal priority once the
fast run ended, when only the checkers are left. Going back from SCHED_IDLE needs
CAP_SYS_NICE or an RLIMIT_NICE of 20; without either the checkers run at normal
priority throughout (never at idle priority for good: on a loaded machine they would
hardly run at all).
"""

import os
from typing import Dict, Iterable, List, Optional

_possible: Optional[bool] = None


def possible() -> bool:
    """Whether a process of ours can be set to idle priority and back (tried once, in a child)."""
    global _possible
    if _possible is None:
        if not hasattr(os, "SCHED_IDLE"):
            _possible = False
            return False
        pid = os.fork()
        if pid == 0:                                   # pragma: no cover - the child
            code = 1
            try:
                os.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0))
                os.sched_setscheduler(0, os.SCHED_OTHER, os.sched_param(0))
                code = 0
            except OSError:
                pass
            os._exit(code)
        _, status = os.waitpid(pid, 0)
        _possible = os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0
    return _possible


def idle() -> None:
    """In a checker's process between fork and exec: idle priority, inherited by the
    restart front, its restorer and the restored processes."""
    os.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0))


def _parents() -> Dict[int, int]:
    parents: Dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % entry, "rb") as f:
                stat = f.read()
        except OSError:
            continue
        fields = stat[stat.rfind(b")") + 2:].split()
        if len(fields) > 1:
            parents[int(entry)] = int(fields[1])
    return parents


def descendants(roots: Iterable[int]) -> List[int]:
    """The processes under ``roots`` (``roots`` included)."""
    parents = _parents()
    found = [r for r in roots if r in parents]
    seen = set(found)
    grew = True
    while grew:
        grew = False
        for pid, parent in parents.items():
            if parent in seen and pid not in seen:
                seen.add(pid)
                found.append(pid)
                grew = True
    return found


def normal(roots: Iterable[int]) -> int:
    """Every thread of the processes under ``roots`` back to normal priority; how many."""
    count = 0
    for pid in descendants(roots):
        try:
            tids = [int(t) for t in os.listdir("/proc/%d/task" % pid)]
        except OSError:
            continue
        for tid in tids:
            try:
                if os.sched_getscheduler(tid) == os.SCHED_IDLE:
                    os.sched_setscheduler(tid, os.SCHED_OTHER, os.sched_param(0))
                    count += 1
            except OSError:
                pass                                   # it ended meanwhile
    return count
