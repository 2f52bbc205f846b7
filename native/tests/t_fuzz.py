"""Issue 18: the bounded fuzzing run of the native test step. Real checkpoints of a C and
a Python scenario, then structure-aware mutations of their images and restart plans fed
to stasis-restore (fuzz.py restorer; the coordinator side runs in distribution's FuzzIT).
Every stored crasher (fuzz-crashers/restorer-*.json) is replayed first.
STASIS_FUZZ_SECONDS (default 15; the long soak is bench/fuzz.sh) and STASIS_FUZZ_SEED (default 18) tune it."""
import os
import shutil
import tempfile

import fuzz
from run_tests import OUT, check

HERE = os.path.dirname(os.path.abspath(__file__))


def test_fuzz_restorer(env):
    seconds = float(os.environ.get("STASIS_FUZZ_SECONDS", "15"))
    seed = os.environ.get("STASIS_FUZZ_SEED", "18")
    work = tempfile.mkdtemp(prefix="fuzz-", dir=env.dir)
    fz = fuzz.RestorerFuzz(OUT, work)
    try:
        fz.setup()
        st = fuzz.drive(fz, ("restorer-image", "restorer-plan", "agent-requests"), seed, seconds, None,
                        os.path.join(HERE, "fuzz-crashers"), False, log=lambda m: print("   " + m, flush=True))
    finally:
        fz.close()
        shutil.rmtree(work, ignore_errors=True)
    print("   runs %d, outcomes %s, known restorer crashers still failing: %d"
          % (st.runs, st.outcomes, len(st.expected)), flush=True)
    check(st.runs > 20, lambda: "too few runs: %d" % st.runs)
    check(not st.crashes, lambda: "crashes: %s" % ["%s: %s" % (c.get("file") or fuzz.case_id(c), p) for c, p in st.crashes])


TESTS = [test_fuzz_restorer]
