"""FReD's debuggee side: pdb plus a statement counter, run under Stasis.

Run as a script (``python3 _debuggee.py prog.py ARGS``) by FReD's front end, which
talks to it over its terminal. It is ``python3 -m pdb prog.py ARGS`` with:

- every event the main thread's tracer sees (call, line, return, exception) numbered
  (``seq``), in every frame, also while continuing (pdb stops tracing there): the
  number says where in the program's history a stop is, the same on every replay;
- before each prompt, an invisible marker with the position (seq, depth, file, line)
  and the targets of the reverse commands, for the front end;
- hidden commands: ``fred_runto N`` (run to event N, ignoring breakpoints),
  ``fred_eval EXPR`` (EXPR's truth in the current frame), ``fred_sync`` (a prompt),
  ``fred_show`` (print the current frame like a stop does).
"""
import bdb
import json
import os
import pdb
import sys
import sysconfig
import termios
from typing import Any, List, Optional

MARK_START = "\x1b]fred;"
MARK_END = "\x07"
_STDLIB = tuple(os.path.join(os.path.abspath(sysconfig.get_paths()[k]), "") for k in ("stdlib", "platstdlib"))
_SKIP = {os.path.abspath(__file__), os.path.abspath(pdb.__file__), os.path.abspath(bdb.__file__)}


class FredPdb(pdb.Pdb):
    """pdb whose tracer numbers the events and answers the front end's queries."""

    def __init__(self):
        super().__init__(stdin=sys.stdin, stdout=sys.stdout)
        self.fred_seq = 0
        self.fred_stack = [[0, 0, 0]]  # per frame: [call seq, last line seq, previous line seq]
        self.fred_lines = [0, 0]  # the last two line events, any frame
        self.fred_hits = []  # seqs of line events at a breakpoint
        self.fred_target = None
        self.fred_scan: Optional[List[Any]] = None  # [code, last seq where it was true, errors]
        self.fred_event = "line"
        self.fred_note = None
        self._skipfile = {}

    # -- the prompt carries the position ------------------------------------------------
    @property
    def prompt(self):
        return self._fred_mark() if self.fred_stack else self._base_prompt

    @prompt.setter
    def prompt(self, value):
        if value.startswith(MARK_START):  # pdb's commands puts back what it read
            value = json.loads(value[len(MARK_START):-len(MARK_END)])["prompt"]
        self._base_prompt = value

    def _fred_mark(self):
        frame = self.curframe
        top = self.fred_stack[-1]
        info = {
            "prompt": self._base_prompt,
            "seq": self.fred_seq,
            "depth": len(self.fred_stack),
            "file": frame.f_code.co_filename if frame else "",
            "line": frame.f_lineno if frame else 0,
            "event": self.fred_event,
            "rn": self._rn_target(top),
            "rs": self.fred_lines[1] if self.fred_lines[1] < self.fred_seq else self.fred_lines[0],
            "rf": self.fred_stack[-2][1] if len(self.fred_stack) > 1 else 0,
            "rc": next((s for s in reversed(self.fred_hits) if s < self.fred_seq), 0),
        }
        if self.fred_note is not None:
            info["note"] = self.fred_note
            self.fred_note = None
        return MARK_START + json.dumps(info) + MARK_END

    def _rn_target(self, top):
        if top[1] < self.fred_seq and top[1]:
            return top[1]
        if top[2]:
            return top[2]
        return self.fred_stack[-2][1] if len(self.fred_stack) > 1 else 0

    # -- the tracer -------------------------------------------------------------------
    def _skipped(self, code):
        name = code.co_filename
        hit = self._skipfile.get(name)
        if hit is None:
            # The standard library is not counted: its paths can depend on timing
            # (Thread.join finds the thread finished or not), the program's do not.
            path = os.path.abspath(name)
            hit = path in _SKIP or name.startswith("<frozen ") or \
                (path.startswith(_STDLIB) and "site-packages" not in path)
            self._skipfile[name] = hit
        return hit

    def trace_dispatch(self, frame, event, arg):
        if self.quitting:
            return None
        if event[:2] == "c_" or self._skipped(frame.f_code):
            if not (self.fred_target is not None or self._pdb_idle(frame, event)):
                super().trace_dispatch(frame, event, arg)
            return self.trace_dispatch
        self.fred_seq += 1
        self.fred_event = event
        seq = self.fred_seq
        if event == "line":
            self._count_line(frame, seq)
        elif event == "call":
            self.fred_stack.append([seq, 0, 0])
        target = self.fred_target
        if target is not None:
            if self.fred_scan is not None:
                self._scan(frame, seq)
            if seq < target:
                self._after(event)
                return self.trace_dispatch
            self.fred_target = None
            self.set_step()
        if not self._pdb_idle(frame, event):
            super().trace_dispatch(frame, event, arg)
        self._after(event)
        return self.trace_dispatch

    def _pdb_idle(self, frame, event):
        """Continuing and not at a breakpoint's line: pdb's dispatch would do nothing."""
        return self.stoplineno == -1 and self.stopframe is self.botframe and self.botframe is not None \
            and (event != "line" or frame.f_lineno not in self.breaks.get(frame.f_code.co_filename, ()))

    def _count_line(self, frame, seq):
        top = self.fred_stack[-1]
        top[2] = top[1]
        top[1] = seq
        self.fred_lines[0] = self.fred_lines[1]
        self.fred_lines[1] = seq
        lines = self.breaks.get(frame.f_code.co_filename)
        if lines and frame.f_lineno in lines:
            self.fred_hits.append(seq)

    def _after(self, event):
        if event == "return" and len(self.fred_stack) > 1:
            self.fred_stack.pop()

    def set_continue(self):
        # pdb stops tracing when no breakpoint is set; FReD keeps counting.
        self._set_stopinfo(self.botframe, None, -1)  # type: ignore[attr-defined]  # bdb's own, not public

    def onecmd(self, line):
        if not line.startswith("fred_"):
            return super().onecmd(line)
        last = self.lastcmd  # an empty line still repeats the user's last command
        try:
            return super().onecmd(line)
        finally:
            self.lastcmd = last

    # -- hidden commands -------------------------------------------------------------
    def do_fred_runto(self, arg):
        """fred_runto N: run to event N, ignoring breakpoints."""
        target = int(arg)
        if target <= self.fred_seq:
            return None
        self.fred_target = target
        self._set_stopinfo(self.botframe, None, -1)  # type: ignore[attr-defined]  # bdb's own, not public
        return 1

    def _scan(self, frame, seq):
        scan = self.fred_scan
        if scan is None:
            return
        try:
            if eval(scan[0], frame.f_globals, frame.f_locals):
                scan[1] = seq
        except Exception as exc:
            scan[2] = "%s: %s" % (type(exc).__name__, exc)
        if seq >= self.fred_target:
            self.fred_note = {"last": scan[1], "error": scan[2]}
            self.fred_scan = None

    def do_fred_scan(self, arg):
        """fred_scan N EXPR: run to event N; the last event before it where EXPR was true."""
        target, expr = arg.split(None, 1)
        self.fred_scan = [compile(expr, "<fred-reverse-watch>", "eval"), 0, None]
        return self.do_fred_runto(target)

    def do_fred_eval(self, arg):
        """fred_eval EXPR: whether EXPR is true in the current frame."""
        try:
            if self.curframe is None:
                raise RuntimeError("no frame")
            value = bool(eval(arg, self.curframe.f_globals, self.curframe_locals))
            self.fred_note = {"value": value}
        except Exception as exc:  # an expression that raises counts as false
            self.fred_note = {"value": False, "error": "%s: %s" % (type(exc).__name__, exc)}

    def do_fred_sync(self, arg):
        """fred_sync: only a prompt."""

    def do_fred_show(self, arg):
        """fred_show: show the current frame as a stop does."""
        self.print_stack_entry(self.stack[self.curindex])


def _quiet_terminal():
    try:
        attrs = termios.tcgetattr(0)
        attrs[3] &= ~termios.ECHO
        termios.tcsetattr(0, termios.TCSANOW, attrs)
    except termios.error:
        pass


def main():
    if len(sys.argv) < 2:
        print("usage: _debuggee.py prog.py [ARGS...]", file=sys.stderr)
        sys.exit(2)
    _quiet_terminal()
    script = sys.argv[1]
    sys.argv[:] = sys.argv[1:]
    sys.path[0] = os.path.dirname(os.path.abspath(script))
    debugger = FredPdb()
    target = pdb._ScriptTarget(script) if hasattr(pdb, "_ScriptTarget") else None
    while True:
        try:
            if target is not None:
                debugger._run(target)  # type: ignore[attr-defined]  # pdb's own (3.11+), not public
            else:
                debugger._runscript(script)
            if debugger._user_requested_quit:  # type: ignore[attr-defined]  # pdb's own, not public
                break
            print("The program finished and will be restarted")
        except pdb.Restart:
            print("Restarting", script, "with arguments:")
            print("\t" + " ".join(sys.argv[1:]))
        except SystemExit as exc:
            print("The program exited via sys.exit(). Exit status:", exc.code)
        except SyntaxError:
            raise
        except Exception:
            import traceback
            traceback.print_exc()
            print("Uncaught exception. Entering post mortem debugging")
            debugger.interaction(None, sys.exc_info()[2])
            print("Post mortem debugger finished. The " + script + " will be restarted")


if __name__ == "__main__":
    # pdb empties __main__'s namespace for the program: run from a module of our own.
    import importlib.util
    _spec = importlib.util.spec_from_file_location("stasis_fred_debuggee", os.path.abspath(__file__))
    if _spec is None or _spec.loader is None:
        raise SystemExit("fred: cannot load its debuggee module " + __file__)
    _module = importlib.util.module_from_spec(_spec)
    _spec.loader.exec_module(_module)
    _module.main()
