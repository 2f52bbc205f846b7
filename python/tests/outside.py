"""The stasis module outside Stasis: run with plain python3 and PYTHONPATH naming
the package (or after `pip install python`). Every call must be a harmless
no-op; prints "OK outside" and exits 0, else "FAIL ..." and exits 1."""

import os
import sys

for var in ("STASIS_AGENT_SOCKET", "LD_PRELOAD"):
    if os.environ.get(var):
        print("FAIL run this without", var)
        sys.exit(1)

import stasis  # noqa: E402


def check(cond, what):
    if not cond:
        print("FAIL", what, flush=True)
        sys.exit(1)


called = []
check(stasis.enabled() is False, "enabled() is False")
check(stasis.checkpoint() is None, "checkpoint() returns None")
check(stasis.checkpoint() is None, "checkpoint() twice")
check(not stasis.is_resume() and not stasis.is_restart(), "no resume/restart")
check(not stasis.isResume() and not stasis.isRestart(), "DMTCP aliases")
fn = lambda: called.append(1)  # noqa: E731
check(stasis.on_checkpoint(fn) is fn, "on_checkpoint returns its argument")
check(stasis.on_resume(fn) is fn and stasis.on_restart(fn) is fn, "on_resume/on_restart")
stasis.remove_hook(fn)
check(stasis.sessions() == [], "sessions() is empty")
check(stasis.restore("default-1") is None, "restore() returns None")
check(stasis.restart_count() == 0 and stasis.last_checkpoint_id() is None, "no restart, no id")
check(not called, "no hook ran")
print("OK outside", flush=True)
