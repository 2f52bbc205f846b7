"""Native tests of the namespace's init (issue #9 causes 2 and 5): daemons outlive the
launched program and are checkpointed and restarted with an init that lives as long as
they do; stopped processes; FIFOs opened by one side only."""
import ctypes
import os
import signal
import struct
import subprocess
import time

from run_tests import alone, RESTORE, SCEN, check, lines, wait_lines

DAEMON = os.path.join(SCEN, "daemon")


def alive(host_pid):
    try:
        with open("/proc/%d/stat" % host_pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0] not in "ZX"
    except OSError:
        return False


def kill_all(host_pids):
    for hp in host_pids:
        if alive(hp):
            os.kill(hp, signal.SIGKILL)


def wait_gone(host_pid, timeout=10):
    deadline = time.time() + timeout
    while alive(host_pid):
        if time.time() > deadline:
            raise AssertionError("process %d did not end" % host_pid)
        time.sleep(0.02)


def counts(path):
    """the count lines so far; none while the program has not yet opened its file (its
    agent registers before main runs)"""
    try:
        return [l for l in lines(path) if l.startswith("count ")]
    except FileNotFoundError:
        return []


def wait_counts(path, n, timeout=20, who="the daemon"):
    deadline = time.time() + timeout
    while len(counts(path)) < n:
        if time.time() > deadline:
            raise AssertionError("%s stopped counting: %s" % (who, counts(path)[-3:]))
        time.sleep(0.02)


def wait_ok(path, timeout=30, who="the daemon"):
    deadline = time.time() + timeout
    while not lines(path) or not lines(path)[-1].startswith(("OK", "FAIL")):
        if time.time() > deadline:
            raise AssertionError("%s did not finish: %s" % (who, lines(path)[-3:]))
        time.sleep(0.05)
    out = lines(path)
    check(out[-1].startswith("OK"), lambda: out[-3:])
    return out


def daemon_agent(env, pid):
    return env.coord.wait_agent(lambda a: a.pid == pid and a.restored == 0)


def restart_tree(env, ck):
    """restart a checkpointed tree whose processes reopen their output files by path
    (nothing inherited from the restorer); -> (restorer, {pid: agent}, its log)"""
    plan = os.path.join(ck, "restart.plan")
    meta = env.coord.write_tree_plan(ck, plan, inherit=())
    logp, logf = env.log()
    rp = subprocess.Popen([RESTORE, plan], stdin=subprocess.DEVNULL, stdout=logf, stderr=logf)
    env.procs.append(rp)
    restored = {}
    for _ in meta["processes"]:
        ag = env.coord.wait_agent(lambda a: a.restored > 0 and a.pid not in restored)
        restored[ag.pid] = ag
    for pid in sorted(restored):
        check(restored[pid].request("RESUME 1") == "RESUMED")
    return rp, restored, logp


def test_daemon_outlives_launch(env):
    """the classic double fork: launch returns the launched process's status (3) at
    once, the daemon (reparented to the namespace's init) keeps counting; it is
    checkpointed, killed and restarted twice, and its parent is init again"""
    out = os.path.join(env.dir, "daemon.out")
    proc, first, path = env.launch([DAEMON, "double", "400", out])
    rc = proc.wait(timeout=10)
    check(rc == 3, lambda: "launch returned %s, not the launched process's 3" % rc)
    first.close()
    pid = int([l for l in lines(path) if l.startswith("daemon ")][0].split()[1])
    agent = daemon_agent(env, pid)
    started = [agent.host_pid]
    try:
        wait_counts(out, len(counts(out)) + 10)       # it lives on after launch returned
        for g in (1, 2):
            ck = os.path.join(env.dir, "ck%d" % g)
            env.coord.checkpoint(agent, ck, resume=False)
            os.kill(agent.host_pid, signal.SIGKILL)
            wait_gone(agent.host_pid)
            agent.close()
            seen = len(counts(out))
            plan = os.path.join(ck, "restart.plan")
            env.coord.write_plan(ck, plan, inherit=())   # its output file is reopened by path
            logp, logf = env.log()
            rp = subprocess.Popen([RESTORE, plan], stdin=subprocess.DEVNULL, stdout=logf, stderr=logf)
            env.procs.append(rp)
            try:
                agent = env.coord.wait_agent(lambda a: a.restored > 0 and a.pid == pid)
            except TimeoutError:      # seen once: say what the restorer said
                raise AssertionError("generation %d: the restored daemon never registered (restorer rc %s): %s"
                                     % (g, rp.poll(), lines(logp)[-5:]))
            started.append(agent.host_pid)
            check(agent.request("RESUME 1") == "RESUMED")
            wait_counts(out, seen + 10)
        text = wait_ok(out)
        check("restarted 2" in text, lambda: text[-5:])
    finally:
        kill_all(started)


def test_sh_background(env):
    """sh -c 'daemon count .. & daemon count .. &': sh exits 0 at once (launch returns
    0), both background programs count on; checkpointed as one tree, killed and
    restarted: the restorer returns when the first of them ends, with its status,
    and the other one goes on under the restored init"""
    f1, f2 = os.path.join(env.dir, "one.out"), os.path.join(env.dir, "two.out")
    script = "%s count 150 %s & %s count 400 %s &" % (DAEMON, f1, DAEMON, f2)
    proc, first, path = env.launch(["/bin/sh", "-c", script])
    check(proc.wait(timeout=10) == 0)
    first.close()
    agents = []
    started = []
    try:
        while len(agents) < 2:
            ag = env.coord.wait_agent(lambda a: a.hello["exe"] == DAEMON)
            agents.append(ag)
            started.append(ag.host_pid)
        wait_counts(f1, 10)
        wait_counts(f2, 10)
        ck = os.path.join(env.dir, "ck")
        agents = env.coord.checkpoint_tree(agents, ck, resume=False)
        check(len(agents) == 2, lambda: [a.pid for a in agents])
        for a in agents:
            os.kill(a.host_pid, signal.SIGKILL)
            wait_gone(a.host_pid)
            a.close()
        rp, restored, logp = restart_tree(env, ck)
        started += [a.host_pid for a in restored.values()]
        rc = rp.wait(timeout=30)
        check(rc == 0, lambda: "restorer exited %s: %s" % (rc, lines(logp)[-3:]))
        check(wait_ok(f1, who="the first")[-1] == "OK 150")
        n = len(counts(f2))
        wait_counts(f2, n + 10, who="the second, after the restorer returned")
        check(wait_ok(f2, who="the second")[-1] == "OK 400")
        for a in restored.values():
            a.close()
    finally:
        kill_all(started)


def state(host_pid):
    with open("/proc/%d/stat" % host_pid) as f:
        return f.read().rsplit(")", 1)[1].split()[0]


def wait_state(host_pid, want, timeout=10):
    deadline = time.time() + timeout
    while state(host_pid) != want:
        if time.time() > deadline:
            raise AssertionError("process %d is in state %s, not %s" % (host_pid, state(host_pid), want))
        time.sleep(0.01)


_libc = ctypes.CDLL(None, use_errno=True)
SYS_RT_TGSIGQUEUEINFO = 297          # x86-64
SUSPEND_SIG = 62                     # the agent's suspend signal
SI_QUEUE = -1


def hold_threads(agent):
    """queue the agent's suspend signal with its hold cookie (HELLO hold=) to every
    thread of the stopped process but the checkpoint thread: each enters the agent's
    handler before any program code once continued"""
    cookie = int(agent.hello["hold"], 16)
    info = (ctypes.c_ubyte * 128)()
    struct.pack_into("iii4xiiQ", info, 0, SUSPEND_SIG, 0, SI_QUEUE, os.getpid(), os.getuid(), cookie)
    tdir = "/proc/%d/task" % agent.host_pid
    for tid in os.listdir(tdir):
        with open("%s/%s/comm" % (tdir, tid)) as f:
            if f.read().strip() in ("stasis-ckpt", "stasis-relay"):
                continue
        r = _libc.syscall(ctypes.c_long(SYS_RT_TGSIGQUEUEINFO), agent.host_pid, int(tid), SUSPEND_SIG, info)
        check(r == 0, lambda: "rt_tgsigqueueinfo: %s" % os.strerror(ctypes.get_errno()))


def checkpoint_stopped(env, agent, ck):
    """what the coordinator does for a stopped process: hold its threads, SUSPEND (it
    waits in the socket), SIGCONT: the checkpoint thread suspends the held threads;
    then the usual checkpoint (SUSPEND again answers 'SUSPENDED already')"""
    t0 = time.time()
    hold_threads(agent)
    agent.conn.settimeout(30)
    agent.conn.sendall(b"SUSPEND\n")
    os.kill(agent.host_pid, signal.SIGCONT)
    r = agent.readline()
    check(r.startswith("SUSPENDED"), lambda: r)
    env.coord.checkpoint(agent, ck, resume=False)
    return time.time() - t0


@alone
def test_stopped_process(env):
    """a process that stopped itself (SIGSTOP) is checkpointed in well under a second,
    and stopped again after the checkpoint (agent STOP before RESUME) without running
    on; restarted, it is stopped too; SIGCONT continues it and it runs to its end"""
    proc, agent, path = env.launch([DAEMON, "selfstop", "60"])
    wait_lines(path, 6, proc)
    wait_state(agent.host_pid, "T")
    secs = checkpoint_stopped(env, agent, os.path.join(env.dir, "ck1"))
    check(secs < 3, lambda: "checkpoint of a stopped process took %.1f s" % secs)
    check(agent.request("STOP") == "STOPPING")
    check(agent.request("RESUME 0") == "RESUMED")
    wait_state(agent.host_pid, "T")
    time.sleep(0.3)
    check(state(agent.host_pid) == "T" and "continued" not in lines(path), lambda: lines(path)[-3:])
    ck = os.path.join(env.dir, "ck2")
    checkpoint_stopped(env, agent, ck)
    os.kill(agent.host_pid, signal.SIGKILL)
    check(proc.wait(timeout=10) == 128 + signal.SIGKILL)
    agent.close()
    logp, f = env.log()
    rp, agent, _ = env.coord.restart(RESTORE, ck, f, resume=False)
    env.procs.append(rp)
    check(agent.request("STOP") == "STOPPING")
    check(agent.request("RESUME 1") == "RESUMED")
    wait_state(agent.host_pid, "T")
    time.sleep(0.3)
    check(state(agent.host_pid) == "T" and not lines(logp), lambda: ("it ran after the restart", lines(logp)))
    os.kill(agent.host_pid, signal.SIGCONT)
    check(rp.wait(timeout=30) == 0, lambda: lines(logp)[-3:])
    out = lines(logp)
    check(out[0] == "continued" and out[-1] == "OK 60" and "restarted 1" in out, lambda: out)


TESTS = [test_daemon_outlives_launch, test_sh_background, test_stopped_process]
