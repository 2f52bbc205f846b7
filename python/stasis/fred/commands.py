"""FReD's own commands, on top of a Session."""
import os
from typing import Callable, Dict, List, Optional, Set, Tuple

from .session import INSPECT, Entry, Session, where  # noqa: F401 (INSPECT: part of this module's interface)

Command = Callable[[Session, str], None]
"""A FReD command: the session and the rest of the line typed after its name."""

# Below this many events, reverse-watch evaluates EXPR at every event in one forward run
# instead of halving further (a restart costs more than running 10^5 traced events).
SCAN_LIMIT = int(os.environ.get("FRED_SCAN_LIMIT", "200000"))
START = "at the start of the recorded history"


def start_seq(session: Session) -> int:
    return int((session.ckpts[0].pos or {}).get("seq", 0))


def reverse(session: Session, key: str, what: str) -> None:
    target = session.pos.get(key, 0)
    if not target or target < start_seq(session):
        session.say("%s: %s; nothing moves" % (what, START))
        return
    session.go_to(target)
    session.show()


def undo(session: Session, arg: str) -> None:
    if not session.undo_log:
        session.say("undo: %s; nothing moves" % START)
        return
    kind, saved = session.undo_log.pop()
    if isinstance(saved, list):  # "reverse": the history before it, replayed again
        session.history[:] = saved
        session.back_to(len(saved))
    else:  # "forward": the history length before it
        session.back_to(saved)
    session.show()


def checkpoint(session: Session, arg: str) -> None:
    session.checkpoint()


def history(session: Session, arg: str) -> None:
    marks = {c.hist_len: i for i, c in enumerate(session.ckpts) if session.valid(c)}
    lines = []
    for i, entry in enumerate(session.history):
        if i in marks:
            lines.append("  [checkpoint %d at %s]" % (marks[i], where(session.ckpts[marks[i]].pos)))
        shown = entry.line
        if shown.startswith("fred_runto "):
            shown = "(run to statement %s, breakpoints ignored)" % shown.split()[1]
        elif shown.startswith("fred_scan "):
            shown = "(run to statement %s, watching)" % shown.split()[1]
        lines.append("%4d  %s%s" % (i + 1, shown, "   (+ %d input line(s))" % len(entry.inputs)
                                    if entry.inputs else ""))
    if len(session.history) in marks:
        i = marks[len(session.history)]
        lines.append("  [checkpoint %d at %s]" % (i, where(session.ckpts[i].pos)))
    lines.append("now at %s. Going back replays these commands; files the program wrote "
                 "are not rolled back." % where(session.pos))
    session.write(("\n".join(lines) + "\n").encode())


def evaluate(session: Session, expr: str) -> Tuple[bool, Optional[str]]:
    session.command("fred_eval " + expr)
    note = session.pos.get("note") or {"value": False, "error": "no answer"}
    return bool(note["value"]), note.get("error")


def reverse_watch(session: Session, expr: str) -> None:
    expr = expr.strip()
    if not expr:
        session.say("reverse-watch needs an expression: fred-reverse-watch EXPR")
        return
    try:
        compile(expr, "<fred-reverse-watch>", "eval")
    except SyntaxError as exc:
        session.say("reverse-watch: syntax error in '%s': %s; nothing moves" % (expr, exc.msg))
        return
    now, error = evaluate(session, expr)
    if now:
        session.say("reverse-watch: '%s' is true now; nothing to search, nothing moves" % expr)
        return
    Watch(session, expr).search(error)


class Watch:
    """Binary search for the last event where expr is true, checkpointing as it narrows."""

    def __init__(self, session: Session, expr: str) -> None:
        self.session, self.expr = session, expr
        self.errors: Set[str] = set()

    def probe(self) -> bool:
        value, error = evaluate(self.session, self.expr)
        if error:
            self.errors.add(error)
        return value

    def scan(self, lo: int, lo_len: int, hi: int) -> int:
        """The rest of the interval in one forward run, EXPR evaluated at every event."""
        s = self.session
        if s.pos["seq"] > lo:
            s.back_to(lo_len)
        s.history.append(s.command("fred_scan %d %s" % (hi - 1, self.expr)))
        note = s.pos.get("note") or {}
        if note.get("error"):
            self.errors.add(note["error"])
        last = note.get("last") or lo
        return max(int(last), lo)

    def search(self, error_now: Optional[str]) -> None:
        s = self.session
        if error_now:
            self.errors.add(error_now)
        home, hi = len(s.history), s.pos["seq"]
        tail: List[Entry] = []
        for k in range(home - 1, -1, -1):  # the stops of the history, newest first
            tail = s.back_to(k) + tail
            if self.probe():
                break
        else:
            s.say("reverse-watch: '%s' is false at every stop of the recorded history; nothing moves"
                  % self.expr)
            s.history.extend(tail)
            s.back_to(home)
            s.show()
            return
        lo, lo_len = s.pos["seq"], len(s.history)
        while hi - lo > max(SCAN_LIMIT, 1):
            mid = (lo + hi) // 2
            if s.pos["seq"] > mid:
                s.back_to(lo_len)
            s.run_to(mid)
            if self.probe():
                lo, lo_len = mid, len(s.history)
                s.checkpoint(quiet=True)
            else:
                hi = mid
        if hi - lo > 1:
            lo = self.scan(lo, lo_len, hi)
        if s.pos["seq"] != lo:
            s.back_to(lo_len)
            s.run_to(lo)
        s.keep_settings(tail)
        s.show()
        note = "" if not self.errors else " (it raised at some probes, counted as false: %s)" % \
            "; ".join(sorted(self.errors))
        s.say("'%s' is true here, at %s, and false at the next statement%s"
              % (self.expr, where(s.pos), note))


COMMANDS: Dict[str, Optional[Command]] = {
    "fred-checkpoint": checkpoint, "ckpt": checkpoint,
    "fred-history": history,
    "fred-undo": undo, "undo": undo,
    "fred-reverse-next": lambda s, a: reverse(s, "rn", "reverse-next"), "rn": None,
    "fred-reverse-step": lambda s, a: reverse(s, "rs", "reverse-step"), "rs": None,
    "fred-reverse-finish": lambda s, a: reverse(s, "rf", "reverse-finish"), "rf": None,
    "fred-reverse-continue": lambda s, a: reverse(s, "rc", "reverse-continue"), "rc": None,
    "fred-reverse-watch": reverse_watch, "rw": None,
}
for _short, _long in (("rn", "fred-reverse-next"), ("rs", "fred-reverse-step"), ("rf", "fred-reverse-finish"),
                      ("rc", "fred-reverse-continue"), ("rw", "fred-reverse-watch")):
    COMMANDS[_short] = COMMANDS[_long]


def lookup(line: str) -> Tuple[Optional[Command], Optional[str]]:
    """The FReD command of a line typed at the prompt, or None (a pdb command)."""
    words = line.strip().split(None, 1)
    if not words or words[0] not in COMMANDS:
        return None, None
    return COMMANDS[words[0]], (words[1] if len(words) > 1 else "")

