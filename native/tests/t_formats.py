"""Tests of the test kit itself: explicit checks that survive `python -O`, and no bare
`assert` statement left in the native tests (they vanish under -O)."""
import ast
import os
import subprocess
import sys

from run_tests import check

HERE = os.path.dirname(os.path.abspath(__file__))


def test_checks_survive_optimize(env):
    """check() still fails under python -O, naming the caller's line, where assert is gone"""
    code = "import sys; sys.argv[1:] = ['x']; from run_tests import check; assert False; check(1 == 2)"
    p = subprocess.run([sys.executable, "-O", "-c", code], cwd=HERE, capture_output=True, text=True, timeout=60)
    check(p.returncode != 0, lambda: "check() passed under -O: %s" % p.stderr)
    check("AssertionError: check failed at <string>:1" in p.stderr, lambda: p.stderr[-300:])


def test_no_assert_statements(env):
    """every native test checks with check(), never `assert` (convert with
    /work/notes/s9/assert2check.py, then import check from run_tests)"""
    found = []
    for f in sorted(os.listdir(HERE)):
        if f == "run_tests.py" or (f.startswith("t_") and f.endswith(".py")):
            with open(os.path.join(HERE, f)) as src:
                tree = ast.parse(src.read(), f)
            found += ["%s:%d" % (f, n.lineno) for n in ast.walk(tree) if isinstance(n, ast.Assert)]
    check(not found, lambda: "assert statements (gone under python -O): %s" % ", ".join(found[:10]))


TESTS = [test_checks_survive_optimize, test_no_assert_statements]
