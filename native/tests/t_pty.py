"""Pseudo-terminals: the agent's CTTY request (a restored session leader takes its
pseudo-terminal back as controlling terminal, with its foreground process group)."""
import os

from run_tests import lines, wait_lines

SESSION_LEADER = r"""
import os, sys, time
os.setsid()
print("leader", os.getpid(), os.getpgrp(), flush=True)
while True:
    try:
        fd = os.open("/dev/tty", os.O_RDWR)
        print("tty", os.ttyname(fd), os.tcgetpgrp(fd), flush=True)
        os.close(fd)
    except OSError as e:
        print("notty", e.errno, flush=True)
    time.sleep(0.05)
"""


def tty_nr(host_pid):
    with open("/proc/%d/stat" % host_pid) as f:
        return int(f.read().rsplit(")", 1)[1].split()[4])


def test_ctty_request(env):
    """CTTY <fd> <pgrp>: a session leader without a controlling terminal gets the
    pseudo-terminal at <fd> as its controlling terminal (/dev/tty opens it again) and
    <pgrp> as its foreground group; errors for a non-terminal, a bad line, the agent's fd"""
    import sys
    proc, agent, path = env.launch([sys.executable, "-c", SESSION_LEADER])
    wait_lines(path, 2, proc)
    assert lines(path)[1].startswith("notty"), lines(path)[:3]
    pid, pgrp = (int(x) for x in lines(path)[0].split()[1:3])
    master, slave = os.openpty()
    try:
        assert agent.request("SUSPEND").startswith("SUSPENDED")
        assert agent.take(20, os.O_RDWR, [slave]) == "TAKEN 20"
        assert agent.request("CTTY 1 0").startswith("ERROR TIOCSCTTY: "), "stdout is no terminal"
        assert agent.request("CTTY x 0").startswith("ERROR CTTY")
        assert agent.request("CTTY %s 0" % agent.hello["agent-fd"]).startswith("ERROR ")
        r = agent.request("CTTY 20 %d" % pgrp)
        assert r == "CTTY_SET 20", r
        assert tty_nr(agent.host_pid) == os.fstat(slave).st_rdev, "no controlling terminal in /proc stat"
        assert agent.request("CTTY 20 %d" % pgrp) == "CTTY_SET 20", "asking again is harmless"
        assert agent.request("RESUME 0") == "RESUMED"
        n = len(lines(path))
        wait_lines(path, n + 3, proc)
        last = lines(path)[-1].split()
        assert last == ["tty", "/dev/tty", str(pgrp)], last
        assert pid > 0
    finally:
        proc.kill()
        proc.wait()
        os.close(master)
        os.close(slave)


TESTS = [test_ctty_request]
