"""The restart's report channel: the outer side of the namespace reports it ("@pidns")
before any restored process can report "@ready". When it came late (a loaded machine
scheduled it after the whole restore), the supervisor had already stopped reading and
the report killed the outer side with SIGPIPE, ending a good restart with status 141."""
import os

from run_tests import SCEN, check, finish, kill_agent_process, lines, wait_lines


def test_late_namespace_report(env):
    """the outer side delayed by 700 ms: the restart still completes"""
    proc, agent, path = env.launch([SCEN + "/counter", "60", "20"])
    wait_lines(path, 5, proc)
    ck = os.path.join(env.dir, "ck")
    env.coord.checkpoint(agent, ck, resume=False)
    kill_agent_process(agent, proc)
    os.environ["STASIS_TEST_PIDNS_DELAY_MS"] = "700"
    try:
        proc, agent, path, _ = env.restart(ck)
    finally:
        del os.environ["STASIS_TEST_PIDNS_DELAY_MS"]
    wait_lines(path, 3, proc)
    out = finish(proc, path)
    check(any(line.startswith("restarted") for line in out), lambda: "no restart noticed: %s" % lines(path)[-3:])


TESTS = [test_late_namespace_report]
