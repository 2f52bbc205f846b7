"""IPython extension: checkpoints from inside an IPython session or Jupyter kernel.

``%load_ext stasis`` (done automatically when IPython starts under ``stasis
launch``, see :mod:`stasis.ipython.startup`) gives the line magics:

- ``%checkpoint [--note TEXT]``: checkpoints the whole computation, prints its id and
  time. A session restored from it continues right after this magic (variables,
  history, prompt number) and says so.
- ``%sessions``: this computation's checkpoints, newest first: id, time, note, size,
  intact.
- ``%restore ID``: replaces the running session by checkpoint ``ID`` (tab completes
  ids). Unknown or damaged ids: a message, the session goes on untouched.
- ``%stasis``: status (under Stasis or not, coordinator, last checkpoint, restarts).

Outside Stasis every magic says that the session is not under Stasis and how to
start it. Only the public surfaces are used (the :mod:`stasis` module).
"""

import argparse
import shlex
from typing import Any, Callable, List, Optional, Sequence

import stasis
from stasis import _control

__all__ = ["load_ipython_extension", "unload_ipython_extension", "OUTSIDE", "session_table",
           "checkpoint_magic", "sessions_magic", "restore_magic", "status_magic", "complete_ids"]

OUTSIDE = ("stasis: this session is not running under Stasis. Start it with:\n"
           "    stasis launch -- ipython3\n"
           "(or, for a Jupyter kernel: stasis launch -- python3 -m ipykernel_launcher -f CONNECTION_FILE)")

Printer = Callable[[str], None]


def _human_size(size: int) -> str:
    value = float(size)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return ("%d %s" % (value, unit)) if unit == "B" else ("%.1f %s" % (value, unit))
        value /= 1024
    return "%d B" % size


def _when(session: stasis.Session) -> str:
    if session.created is None:
        return "?"
    return session.created.astimezone().strftime("%Y-%m-%d %H:%M:%S")


def session_table(sessions: Sequence[stasis.Session]) -> str:
    """The text of ``%sessions``: one row per checkpoint (id, time, note, size, intact)."""
    rows = [("ID", "TIME", "NOTE", "SIZE", "INTACT")]
    for s in sessions:
        rows.append((s.id, _when(s), s.note, _human_size(s.bytes),
                     "yes" if s.state == "ok" else "no: " + s.state))
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    lines = ["  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row[:4])) + "  " + row[4]
             for row in rows]
    return "\n".join(line.rstrip() for line in lines)


class _Parser(argparse.ArgumentParser):
    """argparse that raises instead of exiting the interpreter."""

    def error(self, message: str) -> Any:
        raise ValueError(message)


def _parse_checkpoint(line: str) -> Optional[str]:
    parser = _Parser(prog="%checkpoint", add_help=False)
    parser.add_argument("--note", default=None)
    args = parser.parse_args(shlex.split(line))
    note = args.note
    return None if note is None else str(note)


def checkpoint_magic(line: str, out: Printer = print) -> Optional[str]:
    """``%checkpoint [--note TEXT]``: returns the id (None outside Stasis or on error)."""
    if not stasis.enabled():
        out(OUTSIDE)
        return None
    try:
        note = _parse_checkpoint(line)
    except ValueError as e:
        out("stasis: %s (usage: %%checkpoint [--note TEXT])" % e)
        return None
    import datetime
    # the time of the request, kept in memory: it is in the image too, so the restored
    # session says when without asking the coordinator (a round trip of 0.1-0.3 s)
    when = datetime.datetime.now().strftime("%Y-%m-%d %H:%M:%S")
    try:
        ckpt = stasis.checkpoint(note=note)
    except stasis.StasisError as e:
        out("stasis: checkpoint failed: %s" % e)
        return None
    if stasis.is_restart():
        out("restored from checkpoint %s (taken %s)" % (ckpt, when))
    else:
        out("checkpoint %s at %s" % (ckpt, when))
    return ckpt


def sessions_magic(line: str = "", out: Printer = print) -> None:
    """``%sessions``: prints the table of this computation's checkpoints."""
    if not stasis.enabled():
        out(OUTSIDE)
        return
    try:
        found = stasis.sessions()
    except stasis.StasisError as e:
        out("stasis: cannot list the checkpoints: %s" % e)
        return
    if not found:
        out("no checkpoint yet (take one with %checkpoint)")
        return
    out(session_table(found))


def restore_magic(line: str, out: Printer = print) -> None:
    """``%restore ID``: does not return when it works; prints why when it does not."""
    if not stasis.enabled():
        out(OUTSIDE)
        return
    words = line.split()
    if len(words) != 1:
        out("stasis: usage: %restore ID (see %sessions)")
        return
    try:
        stasis.restore(words[0])
    except stasis.StasisError as e:
        out("stasis: cannot restore %s: %s; this session goes on unchanged" % (words[0], e))


def status_magic(line: str = "", out: Printer = print) -> None:
    """``%stasis``: whether this session runs under Stasis, and its checkpoint state."""
    if not stasis.enabled():
        out(OUTSIDE)
        return
    last = stasis.last_checkpoint_id()
    lines = [
        "under Stasis: yes (coordinator %s)" % (_control.coordinator_name() or "default"),
        "last checkpoint: %s" % (last or "none yet"),
        "restarted: %d time(s)%s" % (stasis.restart_count(), " (this session is a restored copy)"
                                     if stasis.is_restart() else ""),
    ]
    try:
        lines.append("checkpoints of this computation: %d (see %%sessions)" % len(stasis.sessions()))
    except stasis.StasisError as e:
        lines.append("checkpoints: unknown (%s)" % e)
    out("\n".join(lines))


def complete_ids(prefix: str = "") -> List[str]:
    """The ids ``%restore`` accepts that start with ``prefix`` (empty on any error)."""
    if not stasis.enabled():
        return []
    try:
        return [s.id for s in stasis.sessions() if s.id.startswith(prefix)]
    except stasis.StasisError:
        return []


def _completer(shell: Any, event: Any) -> List[str]:
    return complete_ids(getattr(event, "symbol", "") or "")


def _checkpoint(line: str) -> None:
    """%checkpoint [--note TEXT]: checkpoint the whole computation now; prints its id
    and time. A session restored from it continues right after this line."""
    checkpoint_magic(line)


def _sessions(line: str) -> None:
    """%sessions: this computation's checkpoints (id, time, note, size, intact)."""
    sessions_magic(line)


def _restore(line: str) -> None:
    """%restore ID: go back to checkpoint ID (see %sessions; tab completes ids). The
    restored session continues after its %checkpoint with its variables and history."""
    restore_magic(line)


def _status(line: str) -> None:
    """%stasis: whether this session runs under Stasis, its last checkpoint, restarts."""
    status_magic(line)


class _HistoryAfterRestart:
    """After a restart, IPython's history database is connected again and the restored
    session logs its input as a new session of it.

    - Connected again: SQLite remembers the inode of the database file it opened and
      refuses to write ("attempt to write a readonly database") once the file at that
      path is another one, which it is after a restart that serves the profile from a
      private copy (the ipython-config plugin's path redirection), or after the user
      replaced the file. A new connection (and a new saving thread) opens the file the
      path names now.
    - A new session: the database may already hold the lines the original typed after
      the checkpoint under the same session and line numbers ("Session/line number was
      not unique").

    Done in the main thread, before the first cell after the restart is stored; prompt
    numbers and ``%history`` (in memory) are unchanged."""

    def __init__(self, shell: Any) -> None:
        self.shell = shell
        self.pending = False

    def restarted(self) -> None:            # stasis-hooks thread: only set a flag
        self.pending = True

    def pre_run_cell(self, *args: Any) -> None:
        if not self.pending:
            return
        self.pending = False
        manager = getattr(self.shell, "history_manager", None)
        if manager is None or not getattr(manager, "enabled", False):
            return
        try:
            _reconnect(manager)
            with manager.db_input_cache_lock:
                manager.new_session()
        except Exception as e:              # history is a convenience: never stop the cell
            print("stasis: input history of the restored session not saved: %s" % e)


def _reconnect(manager: Any) -> None:
    """A new connection to the history database, and a new saving thread with its own."""
    thread = getattr(manager, "save_thread", None)
    if thread is not None:
        thread.stop()                       # it would write through its old connection
    old = manager.db
    manager.init_db()
    try:
        old.close()
    except Exception:
        pass
    if thread is not None:
        new_thread = type(thread)(manager)
        manager.save_thread = new_thread
        new_thread.start()


_extensions: List[_HistoryAfterRestart] = []


def load_ipython_extension(ipython: Any) -> None:
    """Registers the magics and the id completion in ``ipython`` (an InteractiveShell)."""
    for fn, name in ((_checkpoint, "checkpoint"), (_sessions, "sessions"),
                     (_restore, "restore"), (_status, "stasis")):
        ipython.register_magic_function(fn, "line", name)
    ipython.set_hook("complete_command", _completer, str_key="%restore")
    if stasis.enabled() and not any(e.shell is ipython for e in _extensions):
        history = _HistoryAfterRestart(ipython)
        _extensions.append(history)
        stasis.on_restart(history.restarted)
        ipython.events.register("pre_run_cell", history.pre_run_cell)


def unload_ipython_extension(ipython: Any) -> None:
    """Nothing to undo beyond IPython's own bookkeeping (magics stay until exit)."""
