"""stasis_checkpoint_nowait(): the thread that asked for the checkpoint goes on as soon
as the program is released ("RESUME 0 <id> pending"), with the id, without waiting for
PUBLISHED (fast/slow marks); an UNPUBLISHED that comes later takes the id back. A plain
stasis_checkpoint() after it still waits for its own publication."""
import os
import re
import time

from run_tests import SCEN, check, lines


def released_pending(env, ckid, prog="selfckpt_nowait"):
    proc, agent, path = env.launch([SCEN + "/" + prog, "40", "5", "10"])
    host_pid, line = env.coord.wait_request()
    check(re.fullmatch(r"REQUEST checkpoint pid=%d seq=\d+" % agent.pid, line), lambda: line)
    env.coord.checkpoint(agent, os.path.join(env.dir, "ck"), resume=False)
    check(agent.request("RESUME 0 %s pending" % ckid) == "RESUMED")
    return proc, agent, path


def wait_line(path, prefix, timeout=10):
    deadline = time.time() + timeout
    while time.time() < deadline:
        found = [l for l in lines(path) if l.startswith(prefix)]
        if found:
            return found
        time.sleep(0.05)
    return []


def finish(proc, path):
    check(proc.wait(timeout=20) == 0, lambda: "rc %s: %s" % (proc.returncode, lines(path)[-3:]))
    return lines(path)


def test_nowait_goes_on_before_publish(env):
    proc, agent, path = released_pending(env, "app-c1-1")
    check(wait_line(path, "checkpoint resumed"), lambda: "still waiting for PUBLISHED: %s" % lines(path)[-3:])
    out = lines(path)
    at = out.index("checkpoint resumed")
    check(out[at + 1] == "id app-c1-1", lambda: out[at:at + 2])
    check(agent.request("PUBLISHED") == "OK")
    out = finish(proc, path)
    check("final id app-c1-1" in out, lambda: out[-3:])


def test_nowait_then_unpublished(env):
    proc, agent, path = released_pending(env, "app-c1-1")
    check(wait_line(path, "checkpoint resumed"), lambda: lines(path)[-3:])
    check(agent.request("UNPUBLISHED") == "OK")
    out = finish(proc, path)
    check("final id none" in out, lambda: "an unpublished checkpoint kept its id: %s" % out[-3:])


def test_plain_request_still_waits(env):
    """the waiting stasis_checkpoint() is unchanged (t_publish tests it fully): no early
    wake-up is left over from the nowait flag"""
    proc, agent, path = released_pending(env, "app-c1-1", prog="selfckpt")
    time.sleep(0.3)
    check(not any(l.startswith("checkpoint ") for l in lines(path)), lambda: "went on before publish")
    check(agent.request("PUBLISHED") == "OK")
    out = finish(proc, path)
    check("id app-c1-1" in out, lambda: out[-3:])


TESTS = [test_nowait_goes_on_before_publish, test_nowait_then_unpublished, test_plain_request_still_waits]
