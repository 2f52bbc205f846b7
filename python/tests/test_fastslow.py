"""Unit tests of stasis.fastslow without Stasis: comparing states, the switch to
interpreted functions (on a real Cython module when cython3 and a C compiler are
there), mark() outside a fast/slow run, the CLI's usage errors."""
import contextlib
import io
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import textwrap
import types
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))

import stasis.fastslow as fs  # noqa: E402
from stasis.fastslow import _compare, _files, _priority, _pyx, _schedule, _switch  # noqa: E402
from stasis.fastslow.__main__ import main as cli_main  # noqa: E402


class CompareTest(unittest.TestCase):
    def test_equal_states(self) -> None:
        self.assertIsNone(_compare.first_difference_in({"a": 1, "b": [1.0, 2]}, {"a": 1, "b": [1.0, 2]}, 0.0))

    def test_first_variable_in_mark_order(self) -> None:
        found = _compare.first_difference_in({"i": 7, "acc": -1984967296, "z": 1},
                                             {"i": 7, "acc": 2310000000, "z": 2}, 0.0)
        self.assertEqual(found, ("acc", "-1984967296", "2310000000"))

    def test_tolerance(self) -> None:
        self.assertIsNotNone(_compare.first_difference_in({"t": 1.0}, {"t": 1.0001}, 0.0))
        self.assertIsNone(_compare.first_difference_in({"t": 1.0}, {"t": 1.0001}, 1e-3))
        self.assertIsNotNone(_compare.first_difference_in({"t": 1.0}, {"t": 1.01}, 1e-3))

    def test_integers_exact_without_tolerance(self) -> None:
        self.assertIsNotNone(_compare.first_difference_in({"n": 2 ** 53}, {"n": 2 ** 53 + 1}, 0.0))

    def test_nested_names(self) -> None:
        found = _compare.first_difference_in({"v": [1, 2, {"k": 3}]}, {"v": [1, 2, {"k": 4}]}, 0.0)
        self.assertEqual(found, ("v[2]['k']", "3", "4"))
        self.assertEqual(_compare.first_difference_in({"v": [1]}, {"v": [1, 2]}, 0.0), ("len(v)", "1", "2"))

    def test_missing_variable(self) -> None:
        self.assertEqual(_compare.first_difference_in({"a": 1}, {}, 0.0), ("a", "1", "(missing)"))

    def test_nan_equals_nan(self) -> None:
        self.assertIsNone(_compare.first_difference_in({"x": float("nan")}, {"x": float("nan")}, 1e-9))


class ScheduleTest(unittest.TestCase):
    """Where a new checker starts: checkers go on from interval to interval, so a new
    one starts where nobody is about to arrive."""

    def test_runs(self) -> None:
        self.assertEqual(_schedule.runs([5, 1, 2, 3, 9, 6]), [(1, 3), (5, 6), (9, 9)])

    def test_nobody_before_start_at_the_beginning(self) -> None:
        self.assertEqual(_schedule.next_start(range(1, 13), lambda n: False, lambda n: True), 1)

    def test_somebody_before_start_halfway(self) -> None:
        # the checker on interval 1 goes on into 2..7; the new one takes 8..12
        self.assertEqual(_schedule.next_start(range(2, 13), lambda n: n == 2, lambda n: True), 8)
        self.assertEqual(_schedule.next_start([2, 3], lambda n: n == 2, lambda n: True), 3)
        self.assertIsNone(_schedule.next_start([2], lambda n: n == 2, lambda n: True))

    def test_once_the_fast_run_ended_a_lone_interval_behind_a_busy_checker_starts(self) -> None:
        # the checker on 7 may end there (a mismatch): 8 waits for nobody once no marks will come
        self.assertEqual(_schedule.next_start([8], lambda n: n == 8, lambda n: True, final=True), 8)
        self.assertEqual(_schedule.next_start(range(8, 13), lambda n: n == 8, lambda n: True, final=True), 11)

    def test_longest_stretch_first(self) -> None:
        free = [2, 3, 4, 5, 6, 7, 8, 11, 12]          # 1 and 9..10 are being checked
        busy = {2, 11}.__contains__
        self.assertEqual(_schedule.next_start(free, busy, lambda n: True), 6)

    def test_only_published_checkpoints(self) -> None:
        self.assertEqual(_schedule.next_start(range(1, 5), lambda n: False, lambda n: n >= 3), 3)
        self.assertIsNone(_schedule.next_start(range(1, 5), lambda n: False, lambda n: False))


class ClaimTest(unittest.TestCase):
    def test_an_interval_is_claimed_once(self) -> None:
        run = tempfile.mkdtemp()
        try:
            self.assertTrue(_files.claim(run, 3, 1))
            self.assertFalse(_files.claim(run, 3, 3))
            self.assertEqual(_files.claim_owner(run, 3), 1)
            self.assertIsNone(_files.claim_owner(run, 4))
            self.assertEqual(sorted(os.listdir(os.path.join(run, "claims"))), ["3"])
        finally:
            shutil.rmtree(run)


class PyxTest(unittest.TestCase):
    def test_c_declarations_made_python_line_for_line(self) -> None:
        source = textwrap.dedent("""\
            cpdef long long f(int a, double b=1.0, c=2):
                cdef int acc = a  # wraps
                cdef int j, k
                for j in range(3):
                    acc += j
                return acc
            """)
        python = _pyx.to_python(source)
        self.assertEqual(python.splitlines(), ["def f(a, b=1.0, c=2):", "    acc = a", "    pass",
                                               "    for j in range(3):", "        acc += j", "    return acc"])
        namespace: dict = {}
        exec(compile(python, "f.pyx", "exec"), namespace)
        self.assertEqual(namespace["f"](2 ** 31 - 1), 2 ** 31 + 2)

    def test_the_rest_is_left_alone(self) -> None:
        source = "cdef class P:\n    pass\nx = <int>y\n"
        self.assertEqual(_pyx.to_python(source), source)


class MarkOutsideTest(unittest.TestCase):
    def test_mark_is_a_no_op(self) -> None:
        self.assertFalse(fs.interpreted())
        fs.mark(i=0, f=lambda: 0)   # not even pickled outside a run

    def test_every_checks_its_argument(self) -> None:
        with self.assertRaises(ValueError):
            fs.every(0)
        fs.every(1)


class PriorityTest(unittest.TestCase):
    """A checker started while the fast run runs is at idle priority, every thread of
    every process under it goes back to normal priority once the fast run ended."""

    @unittest.skipUnless(_priority.possible(), "setting a process to idle priority and back is not allowed here")
    def test_idle_then_normal_down_the_tree(self) -> None:
        script = ("import subprocess, threading, time\n"
                  "threading.Thread(target=time.sleep, args=(30,), daemon=True).start()\n"
                  "child = subprocess.Popen(['sleep', '30'])\n"
                  "print('ready', flush=True)\n"
                  "child.wait()\n")
        proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True,
                                preexec_fn=_priority.idle)
        try:
            self.assertEqual(proc.stdout.readline().strip(), "ready")
            tasks = [(pid, int(tid)) for pid in _priority.descendants([proc.pid])
                     for tid in os.listdir("/proc/%d/task" % pid)]
            self.assertGreaterEqual(len(tasks), 3, "the process, its thread and its child")
            self.assertTrue(all(os.sched_getscheduler(tid) == os.SCHED_IDLE for _, tid in tasks), tasks)
            self.assertEqual(_priority.normal([proc.pid]), len(tasks))
            self.assertTrue(all(os.sched_getscheduler(tid) == os.SCHED_OTHER for _, tid in tasks), tasks)
        finally:
            for pid in reversed(_priority.descendants([proc.pid])):
                try:
                    os.kill(pid, 9)
                except OSError:
                    pass
            proc.wait()


class StartedWholeTest(unittest.TestCase):
    """SIGTERM waits while the driver starts and records a process (else a checker it
    never stopped started the coordinator again after the shutdown); the process itself
    runs with the signal mask the driver had."""

    def test_sigterm_waits_and_the_child_gets_the_mask_back(self) -> None:
        from stasis.fastslow import driver
        heard = []
        previous = signal.signal(signal.SIGTERM, lambda signum, frame: heard.append(signum))
        try:
            with driver._started_whole() as child:
                os.kill(os.getpid(), signal.SIGTERM)
                self.assertEqual(heard, [], "SIGTERM came while a process was being started")
                proc = subprocess.Popen(["sleep", "5"], preexec_fn=child(None))
            self.assertEqual(heard, [signal.SIGTERM], "SIGTERM is heard once the process is recorded")
            try:
                with open("/proc/%d/status" % proc.pid) as f:
                    blocked = next(int(line.split()[1], 16) for line in f if line.startswith("SigBlk:"))
                self.assertEqual(blocked & (1 << (signal.SIGTERM - 1)), 0, "the child runs with SIGTERM blocked")
            finally:
                proc.kill()
                proc.wait()
        finally:
            signal.signal(signal.SIGTERM, previous)


class CliTest(unittest.TestCase):
    def usage(self, argv: list) -> int:
        err = io.StringIO()
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
            try:
                return cli_main(argv)
            except SystemExit as e:
                return int(e.code or 0)

    def test_no_program(self) -> None:
        self.assertEqual(self.usage(["run"]), 2)
        self.assertEqual(self.usage(["run", "--"]), 2)

    def test_bad_values(self) -> None:
        self.assertEqual(self.usage(["run", "--checkers", "0", "--", "python3", "x.py"]), 2)
        self.assertEqual(self.usage(["run", "--checkers", "two", "--", "python3", "x.py"]), 2)

    def test_dir_not_empty(self) -> None:
        self.assertEqual(self.usage(["run", "--dir", HERE, "--", "python3", "x.py"]), 2)

    def test_no_command(self) -> None:
        self.assertEqual(self.usage([]), 2)


def _cython_available() -> bool:
    if not shutil.which("cython3") or not shutil.which("gcc"):
        return False
    return subprocess.run([sys.executable, "-c", "import Cython, sysconfig; import os, sys; "
                           "sys.exit(0 if os.path.exists(os.path.join(sysconfig.get_paths()['include'], "
                           "'Python.h')) else 1)"], capture_output=True).returncode == 0


class SwitchTest(unittest.TestCase):
    def test_plain_python_module_is_not_switched(self) -> None:
        module = types.ModuleType("plain")
        module.__file__ = __file__
        self.assertIsNone(_switch._source_of(module))

    def test_syntax_error_is_refused_with_reason(self) -> None:
        directory = tempfile.mkdtemp()
        try:
            source = os.path.join(directory, "m.pyx")
            with open(source, "w") as f:
                f.write("cdef class Point:\n    cdef int x\n")
            module = types.ModuleType("m")
            done = _switch.Switched()
            _switch.switch_module(module, source, done)
            self.assertEqual(done.modules, [])
            self.assertIn("is not Python", done.refused[0])
        finally:
            shutil.rmtree(directory)

    @unittest.skipUnless(_cython_available(), "needs cython3, gcc and the Python headers (python3-dev)")
    def test_real_cython_module_switched(self) -> None:
        directory = tempfile.mkdtemp()
        try:
            with open(os.path.join(directory, "wrapmod.pyx"), "w") as f:
                f.write(textwrap.dedent("""\
                    import cython
                    COUNT = 0

                    def add(a, b):
                        x = cython.declare(cython.int, a)
                        y = cython.declare(cython.int, b)
                        return x + y

                    def twice(a):
                        return add(a, a)
                    """))
            subprocess.run(["cython3", "-3", "wrapmod.pyx"], cwd=directory, check=True, capture_output=True)
            import sysconfig
            subprocess.run(["gcc", "-shared", "-fPIC", "-fwrapv", "-O1", "-I" + sysconfig.get_paths()["include"],
                            "wrapmod.c", "-o", "wrapmod" + (sysconfig.get_config_var("EXT_SUFFIX") or ".so")],
                           cwd=directory, check=True, capture_output=True)
            sys.path.insert(0, directory)
            try:
                import wrapmod  # type: ignore
                holder = types.ModuleType("fastslow_holder")   # `from wrapmod import add` elsewhere
                holder.add = wrapmod.add  # type: ignore[attr-defined]
                sys.modules["fastslow_holder"] = holder
                self.assertEqual(wrapmod.twice(2 ** 30), -2 ** 31)        # C int wraps
                wrapmod.COUNT = 5
                done = _switch.switch_all()
                self.assertIn("wrapmod", done.modules)
                self.assertEqual(sorted(done.functions), ["wrapmod.add", "wrapmod.twice"])
                self.assertEqual(wrapmod.twice(2 ** 30), 2 ** 31)         # interpreted: no wrap
                self.assertIs(holder.add, wrapmod.add)                   # the copy re-bound too
                self.assertEqual(holder.add(2 ** 31, 1), 2 ** 31 + 1)
                self.assertEqual(wrapmod.twice.__globals__["COUNT"], 5)  # data as it was at the switch
            finally:
                sys.path.remove(directory)
                sys.modules.pop("wrapmod", None)
                sys.modules.pop("fastslow_holder", None)
        finally:
            shutil.rmtree(directory)


if __name__ == "__main__":
    unittest.main()
