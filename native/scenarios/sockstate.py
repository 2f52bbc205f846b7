"""Shared by the sock_*.py scenarios (socket state that must survive checkpoints):
a scenario builds its sockets, calls hold(go) -- which prints "ready", then
"tick N" every 50 ms (and "restarted N" when it notices a new restart generation)
until the file `go` exists -- and then checks that every socket is as it left it.
fail() prints one FAIL line and exits 1; ok() prints the OK line and exits 0."""
import ctypes
import os
import sys
import time


def restart_count():
    """The agent's restart generation (0 without Stasis)."""
    try:
        return ctypes.CDLL(None).stasis_restart_count()
    except (OSError, AttributeError):
        return 0


def fail(*what):
    print("FAIL", *what, flush=True)
    os._exit(1)


def expect(condition, *what):
    if not condition:
        fail(*what)


def hold(go):
    print("ready", flush=True)
    seen, tick = restart_count(), 0
    while not os.path.exists(go):
        time.sleep(0.05)
        tick += 1
        print("tick", tick, flush=True)
        now = restart_count()
        if now != seen:
            seen = now
            print("restarted", now, flush=True)


def ok(name):
    print("OK", name, flush=True)
    sys.stdout.flush()
    os._exit(0)
