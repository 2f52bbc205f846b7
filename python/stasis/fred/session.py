"""FReD's front end: history, checkpoints, going back by restart and replay."""
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from typing import Any, BinaryIO, Callable, Dict, List, Optional, Tuple, Union

from .. import _control
from .._control import ControlError, execute
from .link import Link, Ended

DEBUGGEE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "_debuggee.py")
# pdb commands that only change breakpoints or displays: kept when going back in time.
# Commands that only look: undo goes back over them to the last command that did something.
INSPECT = {"p", "pp", "print", "w", "where", "bt", "l", "list", "ll", "longlist", "a", "args", "whatis",
           "source", "h", "help", "fred_show", "fred_sync"}
# commands FReD sends to its coordinator without the CLI (plain words: no quoting needed)
DIRECT = {"checkpoint", "kill"}
SETTINGS = {"b", "break", "tbreak", "cl", "clear", "disable", "enable", "condition", "ignore",
            "display", "undisplay", "alias", "unalias"}


Position = Dict[str, Any]
"""Where the debuggee stopped, as its marker says (seq, depth, file, line, prompt...)."""


@dataclass
class Entry:
    """One command of the history: the line sent to pdb, where it started and ended,
    and the input the program read meanwhile."""
    line: str
    before: Optional[Position]
    after: Optional[Position] = None
    inputs: List[bytes] = field(default_factory=list)


@dataclass
class Ckpt:
    """A checkpoint of the debuggee (its directory; None while a background checkpoint
    runs) and the history length it was taken at."""
    directory: Optional[str]
    hist_len: int
    pos: Optional[Position]
    last: Optional[Entry]  # the history entry just before it (None at the start)


def find_cli() -> str:
    """The stasis command: $STASIS_HOME/bin/stasis, this distribution's, or on PATH."""
    home = os.environ.get("STASIS_HOME")
    if home and os.access(os.path.join(home, "bin", "stasis"), os.X_OK):
        return os.path.join(home, "bin", "stasis")
    dist = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    mine = os.path.join(dist, "..", "bin", "stasis")
    if os.access(mine, os.X_OK):
        return os.path.abspath(mine)
    found = shutil.which("stasis")
    if not found:
        raise SystemExit("fred: cannot find the stasis command; set STASIS_HOME to the Stasis distribution")
    return found


def runtime_dir() -> str:
    """Where the coordinator keeps its log (as bin/stasis decides), checked like the C
    client checks it (ours, mode 0700). FReD's own coordinator is started by FReD, not
    by the debuggee, so the agent's socket does not name it."""
    return _control.runtime_dir(use_agent_socket=False)


def where(pos: Optional[Position]) -> str:
    """A position for the user: file:line (statement, depth)."""
    if not pos:
        return "an unknown position"
    return "%s:%d (statement %d, depth %d)" % (os.path.basename(pos["file"]), pos["line"], pos["seq"], pos["depth"])


class Session:
    """One FReD session: the debuggee under its own coordinator, and the user's terminal."""

    def __init__(self, python: str, argv: List[str], every: int = 10, seconds: float = 1.0,
                 out: Optional[BinaryIO] = None, user_fd: int = 0) -> None:
        self.python, self.argv = python, argv
        self.every, self.seconds = every, seconds
        self.out: BinaryIO = out or sys.stdout.buffer
        # input typed while the program runs is the program's (a terminal only: piped
        # lines are all commands for the prompt)
        self.user_fd: Optional[int] = user_fd if os.isatty(user_fd) else None
        self.cli = find_cli()
        # one coordinator per session: a second session in the same process must not
        # find the first one's coordinator while it is still shutting down
        self.name = "fred-%d-%s" % (os.getpid(), os.urandom(3).hex())
        self.dir = tempfile.mkdtemp(prefix="stasis-fred-")
        self.history: List[Entry] = []
        self._ckpts: List[Ckpt] = []
        # a background checkpoint: (thread, its Ckpt, [error])
        self._pending: Optional[Tuple[threading.Thread, Ckpt, List[Exception]]] = None
        # per user command: ("forward", history length before) or ("reverse", history before)
        self.undo_log: List[Tuple[str, Union[int, List[Entry]]]] = []
        self.link: Optional[Link] = None
        self.pos: Position = {}
        self.diverged = False
        self.ran_since_ckpt = 0.0

    # -- output ------------------------------------------------------------------------
    def write(self, data: bytes) -> None:
        self.out.write(data)
        self.out.flush()

    def say(self, text: str) -> None:
        self.write(("fred: " + text + "\n").encode())

    # -- the debuggee ---------------------------------------------------------------------
    def _stasis(self, *args: str) -> str:
        if args[0] in DIRECT:
            return self._direct(*args)
        done = subprocess.run([self.cli, args[0], "--name", self.name, *args[1:]],
                              stdin=subprocess.DEVNULL, capture_output=True, text=True)
        if done.returncode != 0:
            raise RuntimeError("stasis %s failed: %s" % (args[0], (done.stderr or done.stdout).strip()))
        return done.stdout

    def _direct(self, *args: str) -> str:
        """A coordinator command sent straight to its control socket: no shell or client
        process per command (the kill and checkpoint of every undo and every few steps)."""
        try:
            status, out, err = execute(" ".join(args), name=self.name, timeout=600.0, directory=runtime_dir())
        except ControlError as e:
            raise RuntimeError("stasis %s failed: %s" % (args[0], e)) from None
        if status != 0:
            raise RuntimeError("stasis %s failed: %s" % (args[0], (err or out).strip()))
        return out

    def _line(self) -> Link:
        if self.link is None:
            raise RuntimeError("the debuggee is not started")
        return self.link

    def start(self) -> None:
        self.link = Link([self.cli, "launch", "--name", self.name, "--keep-coordinator", "--ckpt-dir", self.dir, "--",
                          self.python, DEBUGGEE, *self.argv])
        self.pos = self.link.until_mark(self.write)
        self.checkpoint(quiet=True)

    @property
    def ckpts(self) -> List[Ckpt]:
        """The checkpoints taken (a background one included once it is done)."""
        self.settle()
        return self._ckpts

    def _here(self) -> Ckpt:
        return Ckpt(None, len(self.history), self.pos, self.history[-1] if self.history else None)

    def checkpoint(self, quiet: bool = False) -> None:
        self.settle()
        ckpt = self._here()
        ckpt.directory = self._stasis("checkpoint").strip().splitlines()[-1].strip()
        self._ckpts.append(ckpt)
        self.ran_since_ckpt = 0.0
        if not quiet:
            self.say("checkpoint %d at %s" % (len(self._ckpts) - 1, where(self.pos)))

    def checkpoint_soon(self) -> None:
        """Checkpoints in the background while the user reads the output and types: the
        debuggee waits at its prompt until the next command, which waits for this
        checkpoint first (settle), so the image is the state the user sees now."""
        self.settle()
        ckpt, error = self._here(), []  # type: Ckpt, List[Exception]

        def run() -> None:
            try:
                ckpt.directory = self._stasis("checkpoint").strip().splitlines()[-1].strip()
            except (RuntimeError, IndexError) as e:
                error.append(e)
        thread = threading.Thread(target=run, name="fred-checkpoint", daemon=True)
        self._pending = (thread, ckpt, error)
        self.ran_since_ckpt = 0.0
        thread.start()

    def settle(self) -> None:
        """Waits for a background checkpoint and records it (or says why it failed)."""
        if self._pending is None:
            return
        thread, ckpt, error = self._pending
        self._pending = None
        thread.join()
        if error or not ckpt.directory:
            self.say("a checkpoint failed (going back will replay from an earlier one): %s"
                     % (error[0] if error else "no directory"))
        else:
            self._ckpts.append(ckpt)

    def command(self, line: str, sink: Optional[Callable[[bytes], Any]] = None, user: bool = False) -> Entry:
        """Sends one line to pdb and waits for its next prompt."""
        self.settle()
        self._line().send(line.encode() + b"\n")
        entry = Entry(line, self.pos)
        started = time.monotonic()
        self.pos = self._line().until_mark(sink, self.user_fd if user else None, entry.inputs.append)
        self.ran_since_ckpt += time.monotonic() - started
        entry.after = self.pos
        return entry

    def forward(self, line: str) -> None:
        """A pdb command the user typed: run it, record it, checkpoint when due."""
        if (line.split() or [""])[0] not in INSPECT:
            self.undo_log.append(("forward", len(self.history)))
        self.history.append(self.command(line, self.write, user=True))
        since = len(self.history) - max(c.hist_len for c in self.ckpts if self.valid(c))
        if since >= self.every or self.ran_since_ckpt >= self.seconds:
            self.checkpoint_soon()

    def _restart(self, ckpt: Ckpt) -> None:
        if ckpt.directory is None:  # only recorded checkpoints (settle) are restarted
            raise RuntimeError("checkpoint at %s has no directory" % where(ckpt.pos))
        try:
            self._stasis("kill")
        except RuntimeError:
            pass  # it may have ended already
        self._line().close()
        # FReD's own checkpoints, written seconds ago into its private 0700 directory and
        # deleted with the session: the page check (which reads a whole image that
        # O_DIRECT left out of the page cache) guards images that sat on a disk or came
        # from elsewhere. Mapped lazily, an undo reads only the pages the replay touches.
        self.link = Link([self.cli, "restart", "--name", self.name, "--no-verify", ckpt.directory])
        self.link.send(b"fred_sync\n")
        self.pos = self.link.until_mark(None)

    def _replay(self, entries: List[Entry]) -> None:
        for i, entry in enumerate(entries):
            self._line().send(entry.line.encode() + b"\n" + b"".join(entry.inputs))
            self.pos = self._line().until_mark(None)
            self._check(entry, self.pos)

    def _check(self, entry: Entry, got: Position) -> None:
        want = entry.after
        keys = ("seq", "file", "line", "depth")
        if want is not None and any(want[k] != got[k] for k in keys):
            self.say("replay diverged after '%s': expected %s, got %s; this is not the program's past "
                     "(outside input, time or randomness?)" % (entry.line, where(want), where(got)))
            self.diverged = True

    def back_to(self, k: int) -> List[Entry]:
        """The state after the first k history entries: restart the nearest checkpoint, replay."""
        ckpt = max((c for c in self.ckpts if c.hist_len <= k and self.valid(c)), key=lambda c: c.hist_len)
        tail = self.history[k:]
        self._restart(ckpt)
        self._replay(self.history[ckpt.hist_len:k])
        del self.history[k:]
        return tail

    def valid(self, ckpt: Ckpt) -> bool:
        """Whether ckpt is a state of the current history (not of an abandoned future)."""
        n = ckpt.hist_len
        return n <= len(self.history) and (n == 0 or self.history[n - 1] is ckpt.last)

    def run_to(self, seq: int) -> None:
        """Forward from here to event seq (breakpoints ignored), recorded in the history."""
        if self.pos["seq"] < seq:
            entry = self.command("fred_runto %d" % seq)
            self.history.append(entry)
            if self.pos["seq"] != seq:
                self.say("replay diverged: wanted statement %d, got %s" % (seq, where(self.pos)))

    def go_to(self, seq: int) -> None:
        """Back to event seq of the recorded history; keeps breakpoints and displays."""
        k = 0
        while k < len(self.history) and (self.history[k].after or {}).get("seq", 0) <= seq:
            k += 1
        tail = self.back_to(k)
        self.run_to(seq)
        self.keep_settings(tail)

    def keep_settings(self, tail: List[Entry]) -> None:
        for entry in tail:
            word = entry.line.split(None, 1)[0] if entry.line.strip() else ""
            if word in SETTINGS:
                self.history.append(self.command(entry.line))

    def show(self) -> None:
        self.command("fred_show", self.write)

    def close(self) -> None:
        self.settle()
        try:
            if self.link and self.link.proc.poll() is None:
                self._stasis("kill")
        except RuntimeError:
            pass
        if self.link:
            self.link.close()
        try:
            self._stasis("shutdown")
            os.unlink(os.path.join(runtime_dir(), self.name + ".log"))
        except (RuntimeError, OSError):
            pass
        shutil.rmtree(self.dir, ignore_errors=True)
