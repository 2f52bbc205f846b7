"""``stasis fastslow run``: the fast run and its checkers, concurrently (the driver)."""

import contextlib
import glob
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, Iterator, List, Optional, TextIO

from .. import _control
from . import _files, _priority, _schedule, _tasks


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
        self.name = "fastslow-%d" % os.getpid()           # the fast run's coordinator, and the
        #                                                   local checkers' (one computation each)
        self.checkers_name = self.name + "-checkers"      # the Dask workers' coordinators
        self.directories: Dict[int, str] = {}
        self.attempts: Dict[int, int] = {}
        self.dir = os.path.abspath(opts.directory) if opts.directory else tempfile.mkdtemp(prefix="stasis-fastslow-")
        for sub in ("ckpt", "marks", "roles", "checkers", "results", "claims"):
            os.makedirs(os.path.join(self.dir, sub), exist_ok=True)
        self.intervals: Dict[int, Interval] = {}
        self.marks = 0                       # marks the fast run recorded
        self.checkpoints: Dict[int, str] = {}  # mark -> its checkpoint id
        self.published: Dict[int, str] = {}  # mark -> its published checkpoint's directory
        self.unpublished: Dict[int, str] = {}  # mark -> why its checkpoint cannot be used
        self.fast: Optional["subprocess.Popen[bytes]"] = None
        self.fast_status: Optional[int] = None
        self.fast_ended = 0.0
        self.running: Dict[int, Any] = {}    # first interval -> Popen (local) or Future (Dask)
        self.owner: Dict[int, int] = {}      # interval -> the first interval of the checker that took it
        self.ended: Dict[int, _tasks.Outcome] = {}  # first interval -> how that checker ended
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
        with _started_whole() as child:
            self.fast = subprocess.Popen([self.cli, "launch", "--name", self.name, "--keep-coordinator",
                                          "--ckpt-dir", os.path.join(self.dir, "ckpt"), "--", *self.opts.program],
                                         stdin=subprocess.DEVNULL, stdout=out.fileno(), env=env,
                                         preexec_fn=child(None))

    def discover(self) -> None:
        """New marks of the fast run, their checkpoints once published (the fast run
        goes on before that), and the intervals checkers took on their own."""
        while True:
            info = _files.read_json(_files.mark_info(self.dir, self.marks))
            if info is None:
                break
            self.checkpoints[self.marks] = str(info["checkpoint"])
            if self.marks >= 1:
                self.intervals[self.marks] = Interval(self.marks)
            self.marks += 1
        for mark in range(self.marks):
            if mark not in self.published and mark not in self.unpublished:
                found = glob.glob(os.path.join(self.dir, "ckpt", "*", self.checkpoints[mark]))
                if found:
                    self.published[mark] = found[0]
        self.give_up_unpublished()
        for number, interval in self.intervals.items():
            if interval.status == "waiting" and number not in self.owner:
                owner = _files.claim_owner(self.dir, number)
                if owner is not None:                 # a checker went on into it
                    self.owner[number] = owner
                    interval.status, interval.began = "checking", time.monotonic()
                    if owner in self.ended:           # before the fast run's mark showed here
                        self.poll_results()
                        self.verdict(number, self.ended[owner])

    def give_up_unpublished(self) -> None:
        """A mark's checkpoint that is still not published once a later one is (the
        coordinator publishes them in order), or long after the fast run ended, never
        will be."""
        later = max(self.published, default=-1)
        late = self.fast_status is not None and time.monotonic() - self.fast_ended > 60
        for mark in range(self.marks):
            if mark not in self.published and mark not in self.unpublished and (mark < later or late):
                self.unpublished[mark] = "the checkpoint of mark %d (%s) was not published (see: stasis events)" % (
                    mark, self.checkpoints[mark])

    # -- checkers -------------------------------------------------------------------------
    def log(self, number: int) -> str:
        return os.path.join(self.dir, "checkers", "%d.log" % number)

    def prepare(self, number: int) -> str:
        """Takes interval ``number`` and writes its checker's role; the directory of the
        checkpoint to restart (published)."""
        interval = self.intervals[number]
        self.owner[number] = number
        _files.write_json(_files.role(self.dir, self.checkpoints[number - 1]),
                          {"interval": number, "tolerance": self.opts.tolerance,
                           "continue": self.client is None})
        interval.status, interval.began = "checking", time.monotonic()
        return self.published[number - 1]

    def free(self) -> List[int]:
        """Intervals nobody took yet; those that can never be checked are settled."""
        found = []
        for number, interval in self.intervals.items():
            if interval.status != "waiting":
                continue
            before = self.intervals.get(number - 1)
            reachable = before is not None and before.status in ("waiting", "checking") and self.client is None
            if number - 1 in self.unpublished and not reachable:
                interval.status = "not checked"
                interval.detail = {"reason": self.unpublished[number - 1]}
                continue
            found.append(number)
        return found

    def busy_before(self, number: int) -> bool:
        before = self.intervals.get(number - 1)
        return (self.client is None and before is not None and before.status == "checking"
                and self.owner.get(number - 1) in self.running)

    def next_start(self) -> Optional[int]:
        free = self.free()
        if self.client is not None:                    # Dask: one task per interval, in order
            return next((n for n in sorted(free) if n - 1 in self.published), None)
        return _schedule.next_start(free, self.busy_before, lambda n: n - 1 in self.published,
                                    final=self.fast_status is not None)

    def launch_checkers(self) -> None:
        limit = 1 << 30 if self.client is not None else self.opts.checkers
        while len(self.running) < limit and not self.stopped:
            number = self.next_start()
            if number is None:
                break
            if not _files.claim(self.dir, number, number):
                self.discover()                        # a checker just went on into it
                continue
            directory = self.prepare(number)
            if self.client is not None:
                from . import _dask
                self.running[number] = _dask.submit(self.client, self.cli, self.checkers_name, directory,
                                                    self.log(number), self.opts.timeout,
                                                    _files.started(self.dir, number))
            else:
                self.restart(number, directory)

    def restart(self, number: int, directory: str) -> None:
        """Starts the checker that begins at interval ``number`` (self.running)."""
        self.directories[number] = directory
        # under the fast run's coordinator (no second one to start: the first checkers
        # start sooner; its checkpoints of the fast run do not wait for their restarts);
        # at idle priority while the fast run runs (_priority)
        idle = self.fast_status is None and _priority.possible()
        with _started_whole() as child:
            self.running[number] = _tasks.start(self.cli, self.name, directory, self.log(number), keep=True,
                                                before=child(_priority.idle if idle else None))

    def poll_results(self) -> None:
        """The verdicts checkers wrote (a checker that goes on writes one per interval)."""
        for number, interval in self.intervals.items():
            if interval.status == "checking":
                result = _files.read_json(_files.result(self.dir, number))
                if result is not None:
                    interval.status, interval.detail = str(result.get("status", "crashed")), result
                    interval.seconds = time.monotonic() - interval.began

    def current(self, first: int) -> int:
        """The interval the checker that began at ``first`` works on now."""
        return max(n for n, o in self.owner.items() if o == first)

    def poll_checkers(self) -> None:
        self.poll_results()
        for first, task in list(self.running.items()):
            outcome: Optional[_tasks.Outcome] = None
            now = self.current(first)
            if self.client is not None:
                from . import _dask
                outcome = _dask.outcome(task)
            elif task.poll() is not None:
                outcome = _tasks.finish(task, self.log(first), False)
                self.attempts[first] = self.attempts.get(first, 0) + 1
                if _tasks.busy(outcome, os.path.exists(_files.started(self.dir, first))) and \
                        self.attempts[first] < 100 and \
                        time.monotonic() - self.intervals[first].began < self.opts.timeout:
                    self.restart(first, self.directories[first])   # again
                    continue
            elif self.intervals[now].status == "checking" and \
                    time.monotonic() - self.intervals[now].began > self.opts.timeout:
                _tasks.stop(task)
                outcome = _tasks.finish(task, self.log(first), True)
            if outcome is not None:
                del self.running[first]
                self.ended[first] = outcome
                self.discover()                        # what it took just before it ended
                for number in sorted(n for n, o in self.owner.items() if o == first):
                    self.verdict(number, outcome)

    def verdict(self, number: int, outcome: _tasks.Outcome) -> None:
        code, timed_out, tail, where = outcome
        interval = self.intervals[number]
        interval.where = interval.where or where
        if interval.status != "checking":
            return
        interval.seconds = time.monotonic() - interval.began
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
            self.fast_ended = time.monotonic()
            self.fast_seconds = self.fast_ended - self.started
            if self.client is None:                     # the checkers' turn: normal priority
                _priority.normal(task.pid for task in self.running.values())
        self.discover()
        self.poll_checkers()
        if self.opts.stop_at_first and any(i.status == "mismatch" for i in self.intervals.values()):
            self.stop_all("stopped at the first mismatch (--stop-at-first)")
            return False
        self.launch_checkers()
        self.progress()
        waiting = any(i.status == "waiting" for i in self.intervals.values())
        return not (self.fast_status is not None and not waiting and not self.running)

    def stop_all(self, reason: str) -> None:
        self.stopped = True
        if self.fast is not None and self.fast_status is None:
            # the checkers are computations of the same coordinator: name the fast run's
            # (the directory its checkpoints are published in), once there is one
            computation = next((os.path.basename(os.path.dirname(d)) for d in self.published.values()), "")
            self._stasis("kill", *(["--computation", computation] if computation else []))
            try:
                self.fast_status = self.fast.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.fast.kill()
                self.fast_status = self.fast.wait()
            self.fast_seconds = time.monotonic() - self.started
            self.fast_stopped = reason
        for task in self.running.values():
            if self.client is None:
                _tasks.stop(task)
            else:
                task.cancel()
        self.running.clear()
        self.poll_results()
        for interval in self.intervals.values():
            if interval.status in ("waiting", "checking"):
                interval.status = "not checked"
                interval.detail = {"reason": reason}

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


_STOPS = {signal.SIGTERM, signal.SIGHUP}


@contextlib.contextmanager
def _started_whole() -> Iterator[Callable[[Optional[Callable[[], None]]], Callable[[], None]]]:
    """SIGTERM and SIGHUP (Interrupted) wait while a process is started and recorded:
    one started but not recorded yet was never stopped, and a checker's ``stasis restart
    --keep-coordinator`` then started the coordinator again after close() had shut it
    down, and left it running. Yields what makes the child's preexec_fn: the child
    gets the signal mask back before its own step and its exec."""
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, _STOPS)

    def child(then: Optional[Callable[[], None]]) -> Callable[[], None]:
        def before() -> None:
            signal.pthread_sigmask(signal.SIG_SETMASK, previous)
            if then is not None:
                then()
        return before
    try:
        yield child
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


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
