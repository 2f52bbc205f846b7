"""``stasis fastslow run``: the fast run and its checkers, concurrently (the driver)."""

import glob
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, TextIO

from .. import _control
from . import _files, _tasks


@dataclass
class Options:
    program: List[str]
    checkers: int = 2
    tolerance: float = 0.0
    stop_at_first: bool = False
    json: bool = False
    timeout: float = 600.0
    dask: Optional[str] = None
    directory: Optional[str] = None
    keep: bool = False


@dataclass
class Interval:
    """Interval ``number``: from mark number-1 to mark number."""
    number: int
    status: str = "waiting"          # waiting checking ok mismatch crashed hung "not checked"
    detail: Dict[str, Any] = field(default_factory=dict)
    began: float = 0.0
    seconds: float = 0.0
    where: str = ""                  # host:pid that ran the checker (a Dask worker's, or this one)

    def line(self) -> str:
        head = "interval %2d (mark %d -> %d): " % (self.number, self.number - 1, self.number)
        d = self.detail
        if self.status == "ok":
            return head + "ok (%.1f s)" % self.seconds
        if self.status == "mismatch":
            return head + "MISMATCH: %s: fast %s, interpreted %s" % (d.get("variable"), d.get("fast"),
                                                                      d.get("interpreted"))
        return head + "%s: %s" % (self.status.upper(), d.get("reason", ""))


def find_cli() -> str:
    """$STASIS_HOME/bin/stasis, else the distribution this package is in, else PATH."""
    home = os.environ.get("STASIS_HOME")
    if home and os.access(os.path.join(home, "bin", "stasis"), os.X_OK):
        return os.path.join(home, "bin", "stasis")
    mine = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "bin", "stasis")
    if os.access(mine, os.X_OK):
        return os.path.abspath(mine)
    found = shutil.which("stasis")
    if not found:
        raise SystemExit("fastslow: cannot find the stasis command; set STASIS_HOME to the Stasis distribution")
    return found


class Run:
    """One fast/slow check: the run directory, the fast run, the intervals."""

    def __init__(self, opts: Options, err: TextIO = sys.stderr) -> None:
        self.opts, self.err = opts, err
        self.cli = find_cli()
        self.name = "fastslow-%d" % os.getpid()           # the fast run's coordinator
        self.checkers_name = self.name + "-checkers"      # the checkers': one computation each
        self.directories: Dict[int, str] = {}
        self.attempts: Dict[int, int] = {}
        self.coordinator: Optional[threading.Thread] = None
        self.dir = os.path.abspath(opts.directory) if opts.directory else tempfile.mkdtemp(prefix="stasis-fastslow-")
        for sub in ("ckpt", "marks", "roles", "checkers", "results"):
            os.makedirs(os.path.join(self.dir, sub), exist_ok=True)
        self.intervals: Dict[int, Interval] = {}
        self.marks = 0                       # marks whose checkpoint is published
        self.fast: Optional["subprocess.Popen[bytes]"] = None
        self.fast_status: Optional[int] = None
        self.running: Dict[int, Any] = {}    # interval -> Popen (local) or Future (Dask)
        self.queue: List[int] = []
        self.stopped = False
        self.last_progress = ""
        self.client: Any = None
        self.started = time.monotonic()
        self.fast_seconds = 0.0
        self.fast_stopped = ""               # why the driver stopped the fast run, if it did

    # -- the fast run ---------------------------------------------------------------
    def start_fast(self) -> None:
        env = dict(os.environ)
        env[_files.ENV] = self.dir
        home = os.path.dirname(os.path.dirname(self.cli))
        package = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
        env["PYTHONPATH"] = os.pathsep.join(p for p in (package, env.get("PYTHONPATH", "")) if p)
        env.setdefault("STASIS_HOME", home)
        out = sys.stderr if self.opts.json else sys.stdout
        out.flush()
        self.fast = subprocess.Popen([self.cli, "launch", "--name", self.name, "--keep-coordinator",
                                      "--ckpt-dir", os.path.join(self.dir, "ckpt"), "--", *self.opts.program],
                                     stdin=subprocess.DEVNULL, stdout=out.fileno(), env=env)

    def checkpoint_dir(self, mark: int) -> Optional[str]:
        info = _files.read_json(_files.mark_info(self.dir, mark))
        if not info:
            return None
        found = glob.glob(os.path.join(self.dir, "ckpt", "*", str(info["checkpoint"])))
        return found[0] if found else None

    def discover(self) -> None:
        while os.path.exists(_files.mark_info(self.dir, self.marks)):
            if self.marks >= 1:
                self.intervals[self.marks] = Interval(self.marks)
                self.queue.append(self.marks)
            self.marks += 1

    # -- checkers -------------------------------------------------------------------------
    def log(self, number: int) -> str:
        return os.path.join(self.dir, "checkers", "%d.log" % number)

    def prepare(self, number: int) -> Optional[str]:
        """Writes the checker's role; its checkpoint directory, or None (then the
        interval is 'not checked')."""
        interval = self.intervals[number]
        info = _files.read_json(_files.mark_info(self.dir, number - 1))
        directory = self.checkpoint_dir(number - 1)
        if info is None or directory is None:
            interval.status = "not checked"
            interval.detail = {"reason": "the checkpoint of mark %d is missing" % (number - 1)}
            return None
        _files.write_json(_files.role(self.dir, str(info["checkpoint"])),
                          {"interval": number, "tolerance": self.opts.tolerance})
        interval.status, interval.began = "checking", time.monotonic()
        return directory

    def start_checkers_coordinator(self) -> None:
        """Starts the checkers' coordinator now, in the background, so that the first
        checkers do not race to start it."""
        def run() -> None:
            subprocess.run([self.cli, "coordinator", "--name", self.checkers_name, "--daemon",
                            "--ckpt-dir", os.path.join(self.dir, "checker-ckpt")], stdin=subprocess.DEVNULL,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.coordinator = threading.Thread(target=run, name="fastslow-coordinator", daemon=True)
        self.coordinator.start()

    def launch_checkers(self) -> None:
        if self.coordinator is not None and self.coordinator.is_alive():
            return
        limit = 1 << 30 if self.client is not None else self.opts.checkers
        while self.queue and len(self.running) < limit and not self.stopped:
            number = self.queue.pop(0)
            directory = self.prepare(number)
            if directory is None:
                continue
            if self.client is not None:
                from . import _dask
                self.running[number] = _dask.submit(self.client, self.cli, self.checkers_name, directory,
                                                    self.log(number), self.opts.timeout,
                                                    _files.started(self.dir, number))
            else:
                self.running[number] = self.restart(number, directory)

    def restart(self, number: int, directory: str) -> "subprocess.Popen[bytes]":
        self.directories[number] = directory
        return _tasks.start(self.cli, self.checkers_name, directory, self.log(number), keep=True)

    def poll_checkers(self) -> None:
        for number, task in list(self.running.items()):
            outcome: Optional[_tasks.Outcome] = None
            if self.client is not None:
                from . import _dask
                outcome = _dask.outcome(task)
            elif task.poll() is not None:
                outcome = _tasks.finish(task, self.log(number), False)
                self.attempts[number] = self.attempts.get(number, 0) + 1
                if _tasks.busy(outcome, os.path.exists(_files.started(self.dir, number))) and \
                        self.attempts[number] < 10 and \
                        time.monotonic() - self.intervals[number].began < self.opts.timeout:
                    self.running[number] = self.restart(number, self.directories[number])   # again
                    continue
            elif time.monotonic() - self.intervals[number].began > self.opts.timeout:
                _tasks.stop(task)
                outcome = _tasks.finish(task, self.log(number), True)
            if outcome is not None:
                del self.running[number]
                self.verdict(number, outcome)

    def verdict(self, number: int, outcome: _tasks.Outcome) -> None:
        code, timed_out, tail, where = outcome
        interval = self.intervals[number]
        interval.seconds = time.monotonic() - interval.began
        interval.where = where
        result = _files.read_json(_files.result(self.dir, number))
        if result is not None:
            interval.status = str(result.get("status", "crashed"))
            interval.detail = result
        elif timed_out:
            interval.status = "hung"
            interval.detail = {"reason": "no result after %g s (--timeout); the checker was killed" % self.opts.timeout}
        elif os.path.exists(_files.started(self.dir, number)):
            interval.status = "crashed"
            interval.detail = {"reason": "the checker ended (%s) before mark %d%s" % (
                _status_text(code), number, (": " + tail.splitlines()[-1]) if tail else "")}
        else:
            interval.status = "not checked"
            interval.detail = {"reason": "the checkpoint of mark %d could not be restarted (%s)%s" % (
                number - 1, _status_text(code), (": " + tail.replace("\n", " | ")) if tail else "")}

    # -- the loop -------------------------------------------------------------------------
    def counts(self) -> Dict[str, int]:
        result: Dict[str, int] = {}
        for interval in self.intervals.values():
            result[interval.status] = result.get(interval.status, 0) + 1
        return result

    def progress(self, final: bool = False) -> None:
        c = self.counts()
        done = sum(n for s, n in c.items() if s not in ("waiting", "checking"))
        text = "fastslow: %s, %d marks, intervals done %d/%d, checking %d, ok %d, mismatch %d" % (
            "fast run running" if self.fast_status is None else "fast run ended",
            self.marks, done, len(self.intervals), c.get("checking", 0), c.get("ok", 0), c.get("mismatch", 0))
        bad = sum(c.get(s, 0) for s in ("crashed", "hung", "not checked"))
        if bad:
            text += ", not ok %d" % bad
        if text != self.last_progress or final:
            self.last_progress = text
            self.err.write(text + "\n")
            self.err.flush()

    def step(self) -> bool:
        """One round; False once everything is done."""
        if self.fast is not None and self.fast_status is None and self.fast.poll() is not None:
            self.fast_status = self.fast.returncode
            self.fast_seconds = time.monotonic() - self.started
        self.discover()
        self.poll_checkers()
        if self.opts.stop_at_first and any(i.status == "mismatch" for i in self.intervals.values()):
            self.stop_all("stopped at the first mismatch (--stop-at-first)")
            return False
        self.launch_checkers()
        self.progress()
        return not (self.fast_status is not None and not self.queue and not self.running)

    def stop_all(self, reason: str) -> None:
        self.stopped = True
        if self.fast is not None and self.fast_status is None:
            self._stasis("kill")
            try:
                self.fast_status = self.fast.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.fast.kill()
                self.fast_status = self.fast.wait()
            self.fast_seconds = time.monotonic() - self.started
            self.fast_stopped = reason
        for number, task in list(self.running.items()):
            if self.client is None:
                _tasks.stop(task)
            else:
                task.cancel()
            self.intervals[number].status = "not checked"
            self.intervals[number].detail = {"reason": reason}
        self.running.clear()
        for number in self.queue:
            self.intervals[number].status = "not checked"
            self.intervals[number].detail = {"reason": reason}
        self.queue.clear()

    def _stasis(self, *args: str, name: str = "") -> None:
        subprocess.run([self.cli, args[0], "--name", name or self.name, *args[1:]], stdin=subprocess.DEVNULL,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def close(self) -> None:
        self._stasis("shutdown")
        self._stasis("shutdown", name=self.checkers_name)
        if not self.opts.keep:                 # the coordinators' logs too (kept with --keep)
            try:
                runtime = _control.runtime_dir(use_agent_socket=False)
            except _control.ControlError:
                runtime = ""
            for name in (self.name, self.checkers_name):
                try:
                    os.unlink(os.path.join(runtime, name + ".log"))
                except OSError:
                    pass
        if self.client is not None:
            self.client.close()
        if not self.opts.keep:
            shutil.rmtree(self.dir, ignore_errors=True)

    # -- the report -------------------------------------------------------------------------
    def problems(self) -> List[str]:
        found: List[str] = []
        error = _files.read_json(_files.error(self.dir))
        if error:
            found.append(str(error.get("error")))
        if self.marks == 0 and not error:
            found.append("the program never called stasis.fastslow.mark(): nothing to check")
        elif self.marks == 1:
            found.append("the program called stasis.fastslow.mark() once: an interval needs two marks")
        if self.fast_stopped:
            found.append("the fast run was stopped after mark %d: %s" % (self.marks - 1, self.fast_stopped))
        elif self.fast_status not in (0, None):
            found.append("the fast run ended with %s" % _status_text(self.fast_status or 0))
        return found

    def report(self) -> Dict[str, Any]:
        intervals = [self.intervals[n] for n in sorted(self.intervals)]
        problems = self.problems()
        ok = bool(intervals) and all(i.status == "ok" for i in intervals) and not problems
        return {
            "ok": ok,
            "marks": self.marks,
            "checkers": self.opts.checkers if self.client is None else "dask " + str(self.opts.dask),
            "tolerance": self.opts.tolerance,
            "fast_exit": self.fast_status,
            "fast_seconds": round(self.fast_seconds, 3),
            "wall_seconds": round(time.monotonic() - self.started, 3),
            "problems": problems,
            "intervals": [dict({k: v for k, v in i.detail.items() if k not in ("interval",)},
                               interval=i.number, status=i.status, seconds=round(i.seconds, 3),
                               checked_by=i.where)
                          for i in intervals],
        }

    def print_report(self, out: TextIO) -> None:
        rep = self.report()
        if self.opts.json:
            out.write(json.dumps(rep, indent=1) + "\n")
            return
        c = self.counts()
        summary = ", ".join("%d %s" % (n, s) for s, n in sorted(c.items()))
        out.write("fastslow: %d intervals (%d marks): %s; fast run %.1f s, wall %.1f s\n"
                  % (len(self.intervals), self.marks, summary or "nothing checked", rep["fast_seconds"],
                     rep["wall_seconds"]))
        for n in sorted(self.intervals):
            out.write(self.intervals[n].line() + "\n")
        for problem in rep["problems"]:
            out.write("fastslow: " + problem + "\n")
        first = next((self.intervals[n] for n in sorted(self.intervals) if self.intervals[n].status == "mismatch"), None)
        if first is not None:
            out.write("fastslow: the first mismatch is in interval %d, variable %s\n"
                      % (first.number, first.detail.get("variable")))
        out.flush()


def _status_text(code: int) -> str:
    if code < 0:
        return "signal %d" % -code
    if code > 128:
        return "status %d (signal %d?)" % (code, code - 128)
    return "status %d" % code


class Interrupted(Exception):
    """SIGTERM or SIGHUP: stop everything started and clean up."""


def _interrupted(signum: int, frame: Any) -> None:
    raise Interrupted()


def run(opts: Options) -> int:
    """Runs the check; the exit status: 0 every interval agrees, 1 otherwise."""
    check = Run(opts)
    for sig in (signal.SIGTERM, signal.SIGHUP):   # stop the fast run and the checkers, clean up
        signal.signal(sig, _interrupted)
    try:
        if opts.dask:
            from . import _dask
            check.client = _dask.connect(opts.dask, check.dir, check.cli)
        check.start_checkers_coordinator()
        check.start_fast()
        while check.step():
            time.sleep(0.05)
        check.progress(final=True)
        check.print_report(sys.stdout)
        return 0 if check.report()["ok"] else 1
    except (KeyboardInterrupt, Interrupted):
        check.stop_all("interrupted")
        return 1
    finally:
        if check.fast is not None and check.fast.poll() is None:
            check.stop_all("ended")
        check.close()
