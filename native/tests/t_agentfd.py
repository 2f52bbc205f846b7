"""The agent does not show (issue #9, cause 9): its coordinator connection is not in
the program's descriptor table (the relay, native/agent/relay.c), so a program that
lists, closes or limits its descriptors is checkpointed and restarted like any other."""
import os
import sys
import time

from run_tests import RESTORE, SCEN, check, finish, generations, kill_agent_process, lines, wait_lines

AGENTFD = os.path.join(SCEN, "agentfd")
AGENTEXEC = os.path.join(SCEN, "agentexec")


def program_sockets(host_pid):
    """sockets in the process's descriptor table, as lsof or ls -l /proc/PID/fd see it"""
    out = []
    for name in os.listdir("/proc/%d/fd" % host_pid):
        try:
            target = os.readlink("/proc/%d/fd/%s" % (host_pid, name))
        except FileNotFoundError:
            continue
        if target.startswith("socket:"):
            out.append((int(name), target))
    return out


def test_agentfd_listfd(env):
    """a program that lists /proc/self/fd every step sees only its own fds, before and
    after restarts; from outside, /proc/PID/fd holds no socket of the agent"""
    proc, agent, path = env.launch([AGENTFD, "listfd", "150"])
    wait_lines(path, 2, proc)
    check(program_sockets(agent.host_pid) == [], lambda: program_sockets(agent.host_pid))
    check(agent.hello["agent-fd"] == "-1", lambda: agent.hello)
    proc.kill()
    proc.wait()
    generations(env, [AGENTFD, "listfd", "150"])


def test_agentfd_listfd_no_namespaces(env):
    generations(env, [AGENTFD, "listfd", "150"], namespaces=False)


def test_agentfd_closeall(env):
    """closing every fd 3..1024 (raw close loop, raw close_range, closefrom) every
    step does not cut the program off: checkpoints and restarts go on"""
    generations(env, [AGENTFD, "closeall", "150"])


def test_agentfd_rlimit(env):
    """RLIMIT_NOFILE lowered to 32: the program has all of 3..31, and is
    checkpointed and restarted (the restored limit is 32 too)"""
    generations(env, [AGENTFD, "rlimit", "150"])


def test_agentfd_fallback(env):
    """STASIS_AGENT_FALLBACK=1: the old high program fd, protected by the interposed
    close/closefrom calls (the counter scenario calls closefrom(3))"""
    os.environ["STASIS_AGENT_FALLBACK"] = "1"
    try:
        proc, agent, path = env.launch([SCEN + "/counter", "150", "10"])
    finally:
        del os.environ["STASIS_AGENT_FALLBACK"]
    fd = int(agent.hello["agent-fd"])
    check(fd > 2 and program_sockets(agent.host_pid) == [(fd, program_sockets(agent.host_pid)[0][1])])
    t = env.coord.checkpoint(agent, os.path.join(env.dir, "ck"))
    check(t["bytes"] > 0)
    finish(proc, path)


PY_FDS = r"""
import os, subprocess, sys
mine = set(os.listdir("/proc/self/fd"))
assert mine <= {"0", "1", "2", "3"}, mine          # 3: the listing's own directory
os.closerange(3, 4096)
out = subprocess.run(["ls", "-l", "/proc/self/fd"], capture_output=True, text=True, close_fds=True).stdout
assert "socket:" not in out, out
out = subprocess.run([sys.executable, "-c", "import os; print(sorted(os.listdir('/proc/self/fd')))"],
                     capture_output=True, text=True).stdout
assert out.strip() == "['0', '1', '2', '3']", out
print("ready", flush=True)
sys.stdin = None
import time
for i in range(100):
    time.sleep(0.02)
    assert set(os.listdir("/proc/self/fd")) <= {"0", "1", "2", "3"}
print("OK", flush=True)
"""


def test_agentfd_python(env):
    """Python: os.listdir('/proc/self/fd'), os.closerange, subprocess children (ls -l
    /proc/self/fd, another python) see no agent fd; checkpointed meanwhile"""
    proc, agent, path = env.launch([sys.executable, "-c", PY_FDS])
    wait_lines(path, 1, proc)
    env.coord.checkpoint(agent, os.path.join(env.dir, "ck"))
    finish(proc, path)


def wait_for(path, proc, text, timeout=20):
    deadline = time.time() + timeout
    while not any(text in line for line in lines(path)):
        check(proc.poll() is None, lambda: "exited early: %s" % lines(path)[-3:])
        check(time.time() < deadline, lambda: "no %r: %s" % (text, lines(path)[-3:]))
        time.sleep(0.02)


def test_agentexec(env):
    """children started with `env -i` and execle(minimal env) stay in the computation:
    they see exactly the environment their parent passed, are checkpointed with it and
    restarted twice as one tree with their counts intact"""
    proc, root, path = env.launch([AGENTEXEC, "parent", "250"])
    wait_for(path, proc, "A env ok")
    wait_for(path, proc, "B env ok")
    check(not any("stasis: warning" in line for line in lines(path)), lambda: lines(path)[:5])
    known = [root]
    for g in (1, 2):
        wait_for(path, proc, "A count %d" % (20 * g))
        agents = env.coord.checkpoint_tree(known, os.path.join(env.dir, "ck%d" % g), resume=False)
        check(len(agents) == 3, lambda: "processes checkpointed: %s" % [(a.pid, a.hello["exe"]) for a in agents])
        kill_agent_process(root, proc)
        for a in agents:
            a.close()
        path, f = env.log()
        proc, restored = env.coord.restart_tree(RESTORE, os.path.join(env.dir, "ck%d" % g), f)
        env.procs.append(proc)
        check(sorted(restored) == sorted(a.pid for a in agents))
        known = list(restored.values())
        root = restored[min(restored)]
    out = finish(proc, path)
    for who in ("A", "B"):
        check("%s restarted 2" % who in out and "%s done 31375 restarts 2" % who in out, lambda: (who, out[-6:]))


PY_SPAWN = r"""
import os, sys
code = ("import os, ctypes; print('child', os.environ.get('LD_PRELOAD'), [k for k in os.environ if 'STASIS' in k], "
        "ctypes.CDLL(None).stasis_agent_active(), flush=True)")
for env in ({"X": "1"}, {"X": "1", "LD_PRELOAD": "libm.so.6"}):
    pid = os.posix_spawn(sys.executable, [sys.executable, "-c", code], env)
    assert os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]) == 0
print("OK", flush=True)
"""


def test_agentexec_spawn(env):
    """posix_spawn with a minimal environment (and with a LD_PRELOAD of the program's
    own): the child has the agent, and sees exactly the environment it was given"""
    proc, agent, path = env.launch([sys.executable, "-c", PY_SPAWN])
    out = finish(proc, path)
    check(out[:2] == ["child None [] 1", "child libm.so.6 [] 1"], lambda: out)


TESTS = [test_agentfd_listfd, test_agentfd_listfd_no_namespaces, test_agentfd_closeall, test_agentfd_rlimit,
         test_agentfd_fallback, test_agentfd_python, test_agentexec,
         test_agentexec_spawn]
