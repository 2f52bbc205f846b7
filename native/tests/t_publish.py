"""The program runs on while its checkpoint is made durable ("RESUME 0 <id> pending"),
but a thread that asked for the checkpoint from inside (stasis_checkpoint()) goes on
only once the coordinator says how it ended: PUBLISHED (it gets the id) or
UNPUBLISHED (no id: the checkpoint was aborted)."""
import os
import re
import time

from run_tests import SCEN, check, lines


def requested_then_pending(env, ckid):
    proc, agent, path = env.launch([SCEN + "/selfckpt", "30", "5", "10"])
    host_pid, line = env.coord.wait_request()
    check(re.fullmatch(r"REQUEST checkpoint pid=%d seq=\d+" % agent.pid, line), lambda: line)
    env.coord.checkpoint(agent, os.path.join(env.dir, "ck"), resume=False)
    check(agent.request("RESUME 0 %s pending" % ckid) == "RESUMED")
    time.sleep(0.3)            # released, but the requester waits for the outcome
    out = lines(path)
    check(not any(l.startswith("checkpoint ") for l in out), lambda: "went on before publish: %s" % out[-3:])
    return proc, agent, path


def finish(proc, path):
    check(proc.wait(timeout=20) == 0, lambda: "rc %s: %s" % (proc.returncode, lines(path)[-3:]))
    return lines(path)


def test_pending_then_published(env):
    proc, agent, path = requested_then_pending(env, "app-c1-1")
    check(agent.request("PUBLISHED") == "OK")
    out = finish(proc, path)
    at = out.index("checkpoint resumed")
    check(out[at + 1] == "id app-c1-1", lambda: out[at:at + 2])


def test_pending_then_unpublished(env):
    proc, agent, path = requested_then_pending(env, "app-c1-1")
    check(agent.request("UNPUBLISHED") == "OK")
    out = finish(proc, path)
    at = out.index("checkpoint resumed")
    check(out[at + 1] == "id none", lambda: out[at:at + 2])


def test_declined_request(env):
    """a checkpoint the coordinator accepted but could not take (busy, a plugin failed
    before any process was suspended) sends no RESUME: DECLINED <seq> wakes the thread
    that asked, with no id; a DECLINED of another request is ignored"""
    proc, agent, path = env.launch([SCEN + "/selfckpt", "30", "5", "10"])
    host_pid, line = env.coord.wait_request()
    seq = int(line.rsplit("seq=", 1)[1])
    check(agent.request("DECLINED %d" % (seq + 1)) == "OK")
    time.sleep(0.3)
    check(not any(l.startswith("checkpoint ") for l in lines(path)), lambda: lines(path)[-3:])
    check(agent.request("DECLINED %d" % seq) == "OK")
    out = finish(proc, path)
    at = out.index("checkpoint resumed")
    check(out[at + 1] == "id none", lambda: out[at:at + 2])


TESTS = [test_pending_then_published, test_pending_then_unpublished, test_declined_request]
