"""Checkpoint and restart a Python program from inside, under Stasis.

A program started with ``stasis launch -- python3 prog.py`` can ``import stasis``
without any setup (``stasis launch`` puts this package on ``PYTHONPATH``)::

    import stasis

    @stasis.on_checkpoint
    def flush():
        log.flush()

    ckpt = stasis.checkpoint()        # blocks until the checkpoint is published
    if stasis.is_restart():
        print("restarted from", ckpt)  # a copy brought back with `stasis restart`
    else:
        print("checkpoint", ckpt, "written; going on")

Outside Stasis (plain ``python3``, or installed with ``pip install``) the module
imports fine and every call is a harmless no-op that says so once on stderr:
:func:`enabled` is False, :func:`checkpoint` returns None, :func:`sessions` returns
an empty list.

The module talks to the in-process agent (``libstasis-agent.so``) through ctypes,
and to the coordinator through its control socket (for :func:`sessions`).
See doc/python.md for the details.
"""

import atexit
import datetime as _datetime
import os
import sys
import threading
import traceback
from dataclasses import dataclass
from typing import Any, Callable, Dict, List, NoReturn, Optional, Set, TypeVar, Union

from . import _agent, _control, _front

__all__ = [
    "enabled", "checkpoint", "is_resume", "is_restart", "isResume", "isRestart",
    "restart_count", "last_checkpoint_id", "on_checkpoint", "on_resume", "on_restart",
    "remove_hook", "sessions", "restore", "Session", "StasisError", "CheckpointError",
    "start_graphics", "show_graphics", "stop_graphics", "startGraphics", "showGraphics", "stopGraphics",
    "load_ipython_extension",
]

__version__ = "0.1"


class StasisError(RuntimeError):
    """Stasis could not do what was asked (coordinator unreachable, unknown id...)."""


class CheckpointError(StasisError):
    """The coordinator refused or aborted a checkpoint requested by the program."""


Hook = TypeVar("Hook", bound=Callable[[], Any])
"""A hook: any callable taking no argument (what it returns is ignored)."""

_AGENT = _agent.AGENT
_lock = threading.RLock()
_noticed: Set[str] = set()
_state: Optional[str] = None  # None, "resume" or "restart": what the last checkpoint was
_known_id: Optional[str] = None  # the last checkpoint id seen that was published (names the lineage)
_hooks: Dict[str, List[Callable[[], Any]]] = {"checkpoint": [], "resume": [], "restart": []}
_in_hook = threading.local()


def _notice(what: str) -> None:
    """Says once per function that it does nothing outside Stasis."""
    if what in _noticed:
        return
    _noticed.add(what)
    try:
        sys.stderr.write("stasis: not running under Stasis; %s does nothing\n" % what)
        sys.stderr.flush()
    except Exception:  # stderr closed: stay a no-op
        pass


def enabled() -> bool:
    """True if this process runs under Stasis with a live agent.

    False outside Stasis, in a child started without the agent (LD_PRELOAD
    cleared), and if the coordinator went away. Forked children have their own
    agent and are part of the computation.
    """
    return _AGENT is not None and bool(_AGENT.active())


def restart_count() -> int:
    """How many times this process has been restarted from a checkpoint (0 = never)."""
    return int(_AGENT.restart_count()) if _AGENT is not None else 0


def last_checkpoint_id() -> Optional[str]:
    """The id of the last checkpoint this process took part in (``"default-c1-3"``):
    the one just taken, or the one it was restarted from; None if none yet, the last
    one was aborted, or outside Stasis."""
    return _AGENT.checkpoint_id() if _AGENT is not None else None


def checkpoint(note: Optional[str] = None, wait: bool = True) -> Optional[str]:
    """Checkpoints the whole computation now and returns the checkpoint's id.

    ``note``: a line of text kept with the checkpoint (:attr:`Session.note`, the
    NOTE column of ``stasis list``); given by the original process once it is
    published.

    ``wait=False``: returns as soon as the program runs on again (its memory is
    written), before the checkpoint is durable and published; the program pauses
    only while its memory is written. The id is returned at once; whoever needs the
    checkpoint waits for its directory to appear in the store (:func:`last_checkpoint_id`
    turns None if it is not published after all). Not with ``note`` (ValueError).
    An agent without this ability waits for the publication.

    Blocks until the coordinator has published the checkpoint (every process of the
    computation is stopped meanwhile, this thread included). It then returns twice,
    in a manner of speaking: in the original process that goes on
    (:func:`is_resume` is True), and, later, in every process restarted from this
    checkpoint (:func:`is_restart` is True). Both get the same id.

    The hooks registered with :func:`on_checkpoint` run before the checkpoint, those
    of :func:`on_resume` / :func:`on_restart` before this call returns.

    Outside Stasis: does nothing, says so once on stderr, returns None.

    :raises CheckpointError: the coordinator refused the request or aborted the
        checkpoint (nothing was published; the program simply goes on)
    :raises RuntimeError: called from inside a hook
    """
    global _state, _known_id
    if _AGENT is None or not enabled():
        _notice("checkpoint()")
        return None
    if getattr(_in_hook, "active", False):
        raise RuntimeError("stasis.checkpoint() cannot be called from a checkpoint hook")
    if note and not wait:
        raise ValueError("stasis.checkpoint(note=..., wait=False): a note needs the published checkpoint; "
                         "give it with wait=True or later with stasis note ID TEXT")
    # ctypes releases the GIL for the call: the hook thread can run Python hooks
    # while this thread waits, and the other threads run until the agent stops them.
    asked = _datetime.datetime.now(_datetime.timezone.utc)
    call = _AGENT.checkpoint if wait or _AGENT.checkpoint_nowait is None else _AGENT.checkpoint_nowait
    result = int(call())
    if result < 0:
        raise CheckpointError("the coordinator refused the checkpoint request")
    ckpt_id = _AGENT.checkpoint_id()
    with _lock:
        _state = "restart" if result == 2 else "resume"
    if ckpt_id is None:
        raise CheckpointError(_abort_reason(asked) or "the checkpoint was aborted (see: stasis events)")
    _known_id = ckpt_id
    if note and result != 2:
        _note(ckpt_id, str(note))
    return ckpt_id


def _abort_reason(asked: "_datetime.datetime") -> Optional[str]:
    """Why the checkpoint asked for at ``asked`` was aborted, from the coordinator's
    event log (its line comes just after the processes run again); None if unknown."""
    import json
    import re
    import time
    marker = re.compile(r"^checkpoint requested by process \d+ failed: (?:checkpoint \S+ aborted: )?")
    deadline = time.monotonic() + 2.0
    while True:
        try:
            status, out, _ = _control.execute("stasis:events --json -n 20", timeout=5.0)
            entries = json.loads(out) if status == 0 else []
        except (_control.ControlError, ValueError):
            return None
        for entry in reversed(entries):
            message = str(entry.get("message") or "")
            when = _instant(str(entry.get("time") or ""))
            if marker.match(message) and when is not None and when >= asked - _datetime.timedelta(seconds=1):
                return marker.sub("", message, count=1)
        if time.monotonic() > deadline:
            return None
        time.sleep(0.05)


def _instant(text: str) -> "Optional[_datetime.datetime]":
    """An ISO-8601 instant of the coordinator (``2026-12-03T07:10:08.063Z``), any fraction."""
    import re
    m = re.match(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?Z$", text)
    if m is None:
        return None
    fraction = (m.group(2) or "0")[:6].ljust(6, "0")
    return _datetime.datetime.strptime(m.group(1) + "." + fraction + "+0000", "%Y-%m-%dT%H:%M:%S.%f%z")


def _note(ckpt_id: str, text: str) -> None:
    """Gives the checkpoint its note; a failure is a warning (the checkpoint stands)."""
    try:
        status, out, err = _control.execute("stasis:note %s %s" % (_quote(ckpt_id), _quote(text)))
    except _control.ControlError as e:
        status, out, err = 1, "", str(e)
    if status != 0:
        sys.stderr.write("stasis: warning: checkpoint %s has no note: %s\n" % (ckpt_id, (err or out).strip()))


def is_resume() -> bool:
    """True if the last checkpoint left this process running on (the original process
    continued after it), whoever requested that checkpoint. False before any
    checkpoint, after a restart and outside Stasis."""
    return _state == "resume"


def is_restart() -> bool:
    """True if this process was restarted from the last checkpoint it took part in
    (it continues from that checkpoint in a new incarnation), whoever requested that
    checkpoint. False before any checkpoint, in the original process and outside
    Stasis."""
    return _state == "restart"


# Names of DMTCP's Python module, for code written against it.
isResume = is_resume
isRestart = is_restart


# ---------------------------------------------------------------- hooks

def _run_hooks(kind: str) -> None:
    _in_hook.active = True
    try:
        for fn in list(_hooks[kind]):
            try:
                fn()
            except Exception:
                sys.stderr.write("stasis: %s hook %r failed:\n" % (kind, fn))
                traceback.print_exc()
    finally:
        _in_hook.active = False


def _before() -> None:
    _run_hooks("checkpoint")


def _after(restarted: int) -> None:
    global _state, _known_id
    with _lock:
        _state = "restart" if restarted else "resume"
        _known_id = last_checkpoint_id() or _known_id
    _run_hooks("restart" if restarted else "resume")


_c_before = _agent.BEFORE_HOOK(_before)      # the trampolines handed to the agent;
_c_after = _agent.AFTER_HOOK(_after)         # kept alive here for the process's life
_c_installed: Optional[bool] = None         # (before installed?) or None


def _sync_hooks() -> None:
    """Tells the agent which callbacks to run; it runs them on its ``stasis-hooks``
    thread around every checkpoint, whoever requested it. The after-callback is
    always installed (it keeps is_resume()/is_restart() right for checkpoints the
    program did not request); the before-callback only while on_checkpoint hooks
    exist, so that a program without them never delays a checkpoint."""
    global _c_installed
    if _AGENT is None or _AGENT.set_hooks is None or not enabled():
        return
    want_before = bool(_hooks["checkpoint"])
    if _c_installed == want_before:
        return
    if _AGENT.set_hooks(_c_before if want_before else _agent.NO_BEFORE_HOOK, _c_after) == 0:
        if _c_installed is None:
            atexit.register(_uninstall_hooks)
        _c_installed = want_before


def _uninstall_hooks() -> None:
    # at exit: no calls into an interpreter that is shutting down
    global _c_installed
    if _c_installed is not None and _AGENT is not None and _AGENT.set_hooks is not None:
        _AGENT.set_hooks(_agent.NO_BEFORE_HOOK, _agent.NO_AFTER_HOOK)
        _c_installed = None


def _register(kind: str, fn: Hook) -> Hook:
    if not callable(fn):
        raise TypeError("a hook must be callable")
    if not enabled():
        _notice("on_%s()" % kind)
        return fn
    with _lock:
        _hooks[kind].append(fn)
        _sync_hooks()
    return fn


def on_checkpoint(fn: Hook) -> Hook:
    """Registers ``fn()`` to run just before every checkpoint, whoever requested it
    (``stasis checkpoint``, an interval, or :func:`checkpoint`). The program's other
    threads still run meanwhile; they are stopped right after the hooks. Usable as
    a decorator; returns ``fn``.

    Hooks run on an agent thread (not the main thread); the checkpoint waits for
    them at most 10 seconds and then proceeds (see doc/python.md)."""
    return _register("checkpoint", fn)


def on_resume(fn: Hook) -> Hook:
    """Registers ``fn()`` to run after every checkpoint in the process that goes on.
    Usable as a decorator; returns ``fn``."""
    return _register("resume", fn)


def on_restart(fn: Hook) -> Hook:
    """Registers ``fn()`` to run in a process restarted from a checkpoint, once its
    threads run again (e.g. to reopen connections to the outside world). Usable as a
    decorator; returns ``fn``."""
    return _register("restart", fn)


def remove_hook(fn: Callable[[], Any]) -> None:
    """Unregisters ``fn`` from every hook list it is in."""
    with _lock:
        for hooks in _hooks.values():
            while fn in hooks:
                hooks.remove(fn)
        _sync_hooks()


_sync_hooks()


# ---------------------------------------------------------------- sessions

@dataclass(frozen=True)
class Session:
    """A checkpoint of this computation, as listed by :func:`sessions`."""
    id: str                        #: e.g. ``"default-c1-3"``
    generation: int                #: counts the coordinator's checkpoints, from 1
    created: Optional[_datetime.datetime]  #: when it was taken (timezone-aware, UTC); None if unknown
    directory: str                 #: where it is stored
    processes: int                 #: how many processes it holds
    bytes: int                     #: its size on disk
    state: str                     #: ``"ok"`` if it verifies, else what is wrong
    command: str = ""              #: the computation's command line
    lineage: str = ""              #: the computation's identity across restarts
    parent: str = ""               #: the checkpoint before it in the lineage ("" if first)
    note: str = ""                 #: the note given to :func:`checkpoint` or ``stasis checkpoint --note``


def _parse_time(text: str) -> _datetime.datetime:
    """ISO-8601 with up to nanoseconds and ``Z`` (what the coordinator writes)."""
    text = text.strip()
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    main, tz = text, ""
    for sign in ("+", "-"):
        cut = text.rfind(sign)
        if cut > 10:                       # after the date's own '-'
            main, tz = text[:cut], text[cut:]
            break
    if "." in main:
        head, frac = main.split(".", 1)
        main = head + "." + (frac + "000000")[:6]
    return _datetime.datetime.fromisoformat(main + tz)


def sessions() -> List[Session]:
    """The checkpoints of this computation, newest first, as :class:`Session` objects
    (id, generation, created, directory, processes, bytes, state, command, lineage,
    parent, note). "This computation" is its lineage: the checkpoints it took, and
    those of the runs it was restarted from, across restarts; never another program's
    checkpoints in the same directory. Empty before its first checkpoint.

    Asks the coordinator (``stasis list --json --lineage-of ID``). Outside Stasis: an
    empty list.

    :raises StasisError: the coordinator cannot be reached
    """
    import json
    if not enabled():
        _notice("sessions()")
        return []
    mine = last_checkpoint_id() or _known_id     # an aborted last checkpoint leaves None
    if mine is None:
        return []
    try:
        status, out, err = _control.execute("stasis:list --json --lineage-of " + _quote(mine))
    except _control.ControlError as e:
        raise StasisError(str(e)) from None
    if status != 0:
        raise StasisError("stasis list failed: " + (err.strip() or out.strip()))
    result = [_session(row) for row in json.loads(out)]
    result.sort(key=lambda s: (s.generation, s.id), reverse=True)
    return result


def _quote(text: str) -> str:
    """A Gogo string literal."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _session(row: Dict[str, Any]) -> Session:
    def text(key: str) -> str:
        value = row.get(key)
        return "" if value is None else str(value)

    def number(key: str) -> int:
        try:
            return int(row.get(key, 0))
        except (TypeError, ValueError):
            return 0
    return Session(
        id=text("id"),
        generation=number("generation"),
        created=_parse_time(text("created")) if row.get("created") not in (None, "?") else None,
        directory=text("directory"),
        processes=number("processes"),
        bytes=number("bytes"),
        state=text("state"),
        command=text("command"),
        lineage=text("lineage"),
        parent=text("parent"),
        note=text("note"),
    )


def restore(session: Union[str, Session]) -> None:
    """Replaces the running computation by the checkpoint ``session`` (an id such as
    ``"default-c1-2"``, or a :class:`Session`) of this computation. Does not return: the
    whole computation is stopped and killed, and the checkpoint is restarted in its
    place, at the same level (no nested namespaces: any number of restores works), on
    the same terminal and stdout; the process that waited for the computation
    (``stasis launch``, ``stasis restart``) gets the restored program's exit status.
    The restored program continues from its own :func:`checkpoint` call (or wherever
    it was when the checkpoint was taken), with :func:`is_restart` True.

    Outside Stasis: does nothing, says so once on stderr, returns None.

    :raises StasisError: unknown id, or the checkpoint is not usable
    """
    if not enabled():
        _notice("restore()")
        return None
    if getattr(_in_hook, "active", False):
        raise RuntimeError("stasis.restore() cannot be called from a checkpoint hook")
    wanted = session.id if isinstance(session, Session) else str(session)
    found = [s for s in sessions() if s.id == wanted]
    if not found:
        raise StasisError("no checkpoint %r in this computation (see stasis.sessions())" % wanted)
    chosen = found[0]
    if chosen.state != "ok":
        raise StasisError("checkpoint %s is not usable: %s" % (wanted, chosen.state))
    name = _control.coordinator_name() or "default"
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except Exception:
            pass
    front = _front.connect()
    if front is not None:
        _front.replace(front, name, chosen.directory)     # does not return
    _restore_in_place(name, chosen.directory)


def _restore_in_place(name: str, directory: str) -> NoReturn:
    """Without a front (``--no-namespaces``: nothing nests): this process becomes
    ``stasis restart`` of the checkpoint."""
    home = os.environ.get("STASIS_HOME")
    if not home:
        raise StasisError("STASIS_HOME is not set: cannot find the stasis command")
    command = os.path.join(home, "bin", "stasis")
    env = dict(os.environ)
    # The helper commands must not join the computation as processes of their own.
    env.pop("STASIS_AGENT_SOCKET", None)
    preload = [p for p in env.get("LD_PRELOAD", "").replace(":", " ").split()
               if "libstasis-agent" not in p]
    if preload:
        env["LD_PRELOAD"] = " ".join(preload)
    else:
        env.pop("LD_PRELOAD", None)
    os.execve(command, ["stasis", "restart", "--name", name, directory], env)


# ---------------------------------------------------------------- graphics (stasis.graphics)

def start_graphics(geometry: str = "1280x800", depth: int = 24, opengl: bool = False) -> Optional[str]:
    """Starts a VNC X server (Xvnc) inside the computation and points ``DISPLAY`` at
    it; returns the display (``":1"``). See :mod:`stasis.graphics`."""
    from . import graphics
    return graphics.start_graphics(geometry, depth, opengl)


def show_graphics(viewer: str = "web") -> Optional[str]:
    """Opens a viewer of the graphics outside the computation; returns where to look
    (the web viewer's URL). See :mod:`stasis.graphics`."""
    from . import graphics
    return graphics.show_graphics(viewer)


def stop_graphics() -> None:
    """Stops the viewer and the X server :func:`start_graphics` started."""
    from . import graphics
    graphics.stop_graphics()


startGraphics = start_graphics
showGraphics = show_graphics
stopGraphics = stop_graphics


def load_ipython_extension(ipython: Any) -> None:
    """``%load_ext stasis`` in IPython: the magics ``%checkpoint``, ``%sessions``,
    ``%restore`` and ``%stasis`` (see :mod:`stasis.ipython`)."""
    from . import ipython as _ipython
    _ipython.load_ipython_extension(ipython)
