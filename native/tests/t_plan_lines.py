"""Restart plan lines the restorer must refuse before it starts anything: a NUL byte
inside a line (the rest of the line was silently cut off, e.g. an agent-socket
'/tmp/x\\0...' read as '/tmp/x') and an agent-socket that is not an absolute path
(found by the fuzzer, issue #18)."""
import os
import subprocess

from run_tests import RESTORE, SCEN, check, kill_agent_process, wait_lines


def _refused(env, plan, ln, want):
    r = subprocess.run([RESTORE, plan], stdin=subprocess.DEVNULL, capture_output=True, timeout=20)
    err = r.stderr.decode(errors="replace").splitlines()
    check(r.returncode == 1 and len(err) == 1, lambda: (want, r.returncode, err))
    check(err[0].startswith("stasis-restore: %s:%d: %s" % (plan, ln, want)), lambda: (want, err))
    with env.coord.cond:
        check(not env.coord.agents, lambda: "a process was started")


def test_plan_line_refusals(env):
    proc, agent, path = env.launch([os.path.join(SCEN, "counter"), "100000", "20"])
    wait_lines(path, 2, proc)
    ck = os.path.join(env.dir, "ck")
    env.coord.checkpoint(agent, ck, resume=False)
    kill_agent_process(agent, proc)
    plan = os.path.join(ck, "restart.plan")
    env.coord.write_plan(ck, plan, inherit=())
    with open(plan, "rb") as f:
        lines = f.read().split(b"\n")
    at = next(i for i, l in enumerate(lines) if l.startswith(b"agent-socket "))
    good = lines[at]
    for bad, want in ((good + b"\0/elsewhere.sock", "a NUL byte inside the line"),
                      (b"agent-socket relative.sock", "bad agent-socket"),
                      (b"agent-socket " + b"/x" * 60, "bad agent-socket")):
        lines[at] = bad
        with open(plan, "wb") as f:
            f.write(b"\n".join(lines))
        _refused(env, plan, at + 1, want)


TESTS = [test_plan_line_refusals]
