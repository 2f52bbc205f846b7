"""Pseudo-terminals: the agent's CTTY request (a restored session leader takes its
pseudo-terminal back as controlling terminal, with its foreground process group)."""
import os

from run_tests import check, lines, wait_lines

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
    check(lines(path)[1].startswith("notty"), lambda: lines(path)[:3])
    pid, pgrp = (int(x) for x in lines(path)[0].split()[1:3])
    master, slave = os.openpty()
    try:
        check(agent.request("SUSPEND").startswith("SUSPENDED"))
        check(agent.take(20, os.O_RDWR, [slave]) == "TAKEN 20")
        check(agent.request("CTTY 1 0").startswith("ERROR TIOCSCTTY: "), lambda: "stdout is no terminal")
        check(agent.request("CTTY x 0").startswith("ERROR CTTY"))
        check(agent.request("CTTY %s 0" % agent.hello["agent-fd"]).startswith("ERROR "))
        r = agent.request("CTTY 20 %d" % pgrp)
        check(r == "CTTY_SET 20", lambda: r)
        check(tty_nr(agent.host_pid) == os.fstat(slave).st_rdev, lambda: "no controlling terminal in /proc stat")
        check(agent.request("CTTY 20 %d" % pgrp) == "CTTY_SET 20", lambda: "asking again is harmless")
        check(agent.request("RESUME 0") == "RESUMED")
        n = len(lines(path))
        wait_lines(path, n + 3, proc)
        last = lines(path)[-1].split()
        check(last == ["tty", "/dev/tty", str(pgrp)], lambda: last)
        check(pid > 0)
    finally:
        proc.kill()
        proc.wait()
        os.close(master)
        os.close(slave)


TESTS = [test_ctty_request]
