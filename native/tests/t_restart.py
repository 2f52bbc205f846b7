"""Restarts are all-or-nothing and say why they fail; checkpoints that could not be
restarted are never taken (issue #9, causes 3 and 4)."""
import os
import time

from run_tests import SCEN, generations, kill_agent_process, lines, wait_lines


def test_ptimer_sigev_thread(env):
    """a SIGEV_THREAD POSIX timer (glibc's helper thread blocks every signal but its
    own; one thread per expiry comes and goes): the checkpoint suspends every thread
    quickly, holds the whole process, and the restart runs on"""
    proc, agent, path = env.launch([SCEN + "/ptimer", "200", "10"])
    for g in range(1, 3):
        wait_lines(path, len(lines(path)) + 5, proc)
        ck = os.path.join(env.dir, "ck%d" % g)
        t0 = time.time()
        r = agent.request("SUSPEND")
        took = time.time() - t0
        assert r.startswith("SUSPENDED"), r
        assert took < 3, "suspend took %.1f s" % took
        threads = int(r.split("threads=")[1])
        assert threads >= 3, "the timer's helper thread was not suspended: %s" % r
        agent.request("RESUME 0")
        t = env.coord.checkpoint(agent, ck, resume=False)
        assert t["total"] < 5, t
        kill_agent_process(agent, proc)
        proc, agent, path, _ = env.restart(ck)
        wait_lines(path, 1, proc)
    out = lines(path)
    rc = proc.wait(timeout=60)
    out = lines(path)
    assert rc == 0 and out[-1].startswith("OK ptimer"), (rc, out[-3:])


TESTS = [test_ptimer_sigev_thread]
