"""Copy-on-write snapshots (issue #15, the pause): SNAPSHOT forks a child that writes
the image while the program runs on; the image holds exactly the memory of the pause,
a MADV_DONTFORK area makes the agent write in the pause instead, and shared memory is
stored as it was in the pause although the processes change it right after."""
import json
import os
import re
import signal

from run_tests import RESTORE, SCEN, check, finish, kill_agent_process, lines, wait_lines
from minicoord import shared_areas

MIB = 64


def wait_word(path, proc, word, n, timeout=60):
    import time
    deadline = time.time() + timeout
    while sum(1 for l in lines(path) if l.startswith(word)) < n:
        check(proc.poll() is None, lambda: "exited early (rc %s): %s" % (proc.returncode, lines(path)[-3:]))
        check(time.time() < deadline, lambda: "no %s line: %s" % (word, lines(path)[-3:]))
        time.sleep(0.02)


def generations(env, mode, want_paused):
    stop = os.path.join(env.dir, "stop")
    os.environ["SC_STOP_FILE"] = stop
    try:
        proc, agent, path = env.launch([SCEN + "/cowgen", mode, str(MIB)])
    finally:
        del os.environ["SC_STOP_FILE"]
    for g in range(1, 3):
        wait_word(path, proc, "pass", 2)
        ck = os.path.join(env.dir, "ck%d" % g)
        if g == 2:  # compressed: the child runs the compression helpers
            check(agent.request("COMPRESS zstd 1") == "COMPRESS zstd")
        # resumed before the child is collected: the writer rewrites the buffer meanwhile
        env.coord.checkpoint(agent, ck, resume=True, snapshot=True)
        # a restored process has the area without the advice (given by a raw madvise,
        # the agent never knew of it): its snapshot is a fork's
        want = want_paused if g == 1 else None
        check(agent.paused == want, lambda: "SNAPSHOT written in the pause: %s" % agent.paused)
        wait_word(path, proc, "pass", len([l for l in lines(path) if l.startswith("pass")]) + 1)
        kill_agent_process(agent, proc)
        plan = os.path.join(ck, "restart.plan")
        env.coord.write_plan(ck, plan, inherit=(1, 2))
        path, f = env.log()
        proc, agent, _ = env.coord.restart(RESTORE, ck, f)
        env.procs.append(proc)
        wait_word(path, proc, "CHECK", 1)
        check(lines(path)[0].startswith("CHECK %d gen " % g), lambda: lines(path)[:2])
    open(stop, "w").close()
    finish(proc, path)


def test_snapshot_one_instant(env):
    """a thread rewrites 64 MiB with its generation without pause: the snapshot's image,
    written while it runs on, restores one instant of it (the writer checks every word
    against its own progress after each of two restarts; the second image compressed)"""
    generations(env, "gen", None)


def test_snapshot_dontfork(env):
    """a MADV_DONTFORK area (raw madvise, unseen by the agent) is missing in a fork: the
    child finds it missing, the agent writes in the pause (PAUSED dontfork), and the
    area restores"""
    generations(env, "dontfork", "dontfork")


def shared_words(agents):
    """{(pid, start-hex): first 8 bytes} of each shared view of the processes (suspended)"""
    out = {}
    for ag in agents:
        with open("/proc/%d/mem" % ag.host_pid, "rb") as mem:
            for start, _ in shared_areas(ag.host_pid):
                mem.seek(int(start, 16))
                out[(ag.pid, start)] = mem.read(8)
    return out


def test_snapshot_shared(env):
    """two processes ping-pong a counter through shared anonymous memory and a deleted
    file's shared page: snapshotted together and resumed before the children are
    collected, both change the shared pages right after; the restored processes hold
    them exactly as they were in the pause (read from their memory before they run),
    and the ping-pong goes on"""
    proc, root, path = env.launch([os.path.join(SCEN, "shm_fork"), "fork", "3000"])
    wait_lines(path, 1, proc)
    _, ppid, cpid = lines(path)[0].split()
    known = [root, env.coord.wait_agent(lambda x: x.pid == int(cpid))]
    for g in range(1, 3):
        wait_word(path, proc, "step", len([l for l in lines(path) if l.startswith("step")]) + 3)
        ck = os.path.join(env.dir, "ck%d" % g)
        paused = {}
        agents = env.coord.checkpoint_tree(known, ck, resume=True, snapshot=True,
                                           before_resume=lambda ags: paused.update(shared_words(ags)))
        check(all(a.paused is None for a in agents), lambda: [a.paused for a in agents])
        check(len(paused) == 4, lambda: paused)
        # they run on and change the shared pages before being killed
        wait_word(path, proc, "step", len([l for l in lines(path) if l.startswith("step")]) + 2)
        with open("/proc/%d/mem" % root.host_pid, "rb") as mem:
            start = min(s for p, s in paused if p == root.pid)
            mem.seek(int(start, 16))
            check(mem.read(8) != paused[(root.pid, start)], lambda: "the counter did not move")
        kill_agent_process(root, proc)
        for a in agents:
            a.close()
        path, f = env.log()
        proc, restored = env.coord.restart_tree(RESTORE, ck, f, shared="auto", resume=False)
        env.procs.append(proc)
        now = shared_words(restored.values())
        check(now == paused, lambda: ("restored shared memory is not the pause's", paused, now))
        for pid in sorted(restored):
            check(restored[pid].request("RESUME 1") == "RESUMED")
        known = list(restored.values())
        root = restored[int(ppid)]
        wait_word(path, proc, "step", 3)
    out = finish(proc, path)
    check(out[-1] == "OK 3000 3000", lambda: out[-3:])


def snapshot_child(host_pid):
    """host pid of the snapshot child: a child of one of the process's threads that is
    not one of its threads"""
    for tid in os.listdir("/proc/%d/task" % host_pid):
        try:
            with open("/proc/%d/task/%s/children" % (host_pid, tid)) as f:
                kids = [int(k) for k in f.read().split()]
        except OSError:
            continue
        if kids:
            return kids[0]
    return None


def test_snapshot_child_killed(env):
    """the snapshot child dies while the program runs on: COLLECT says so, the image is
    gone, the program is unaffected, and the next snapshot checkpoint restores"""
    stop = os.path.join(env.dir, "stop")
    os.environ["SC_STOP_FILE"] = stop
    try:
        proc, agent, path = env.launch([SCEN + "/cowgen", "gen", "512"])
    finally:
        del os.environ["SC_STOP_FILE"]
    wait_word(path, proc, "cowgen", 1)
    killed = False
    for attempt in range(3):                   # the child may be done before it is killed
        ck = os.path.join(env.dir, "dead%d" % attempt)
        os.makedirs(ck, mode=0o700)
        check(agent.request("SUSPEND").startswith("SUSPENDED"))
        r = agent.request("SNAPSHOT " + ck)
        check(r.startswith("SNAPSHOTTING "), lambda: r)
        image = r.split(" ", 1)[1]
        child = snapshot_child(agent.host_pid)
        check(child is not None, lambda: "no snapshot child under process %d" % agent.host_pid)
        os.kill(child, 9)
        check(agent.request("RESUME 0 dead") == "RESUMED")
        r = agent.request("COLLECT")
        if r.startswith("WRITTEN "):
            continue
        check(r == "ERROR the snapshot process died of signal 9", lambda: r)
        check(not os.path.exists(image), lambda: "the dead child's image is left: " + image)
        killed = True
        break
    check(killed, lambda: "the snapshot child always finished before it was killed")
    check(snapshot_child(agent.host_pid) is None, lambda: "the dead child was not reaped")
    n = len([l for l in lines(path) if l.startswith("pass")])
    wait_word(path, proc, "pass", n + 1)      # the program runs on
    ck = os.path.join(env.dir, "ck")
    env.coord.checkpoint(agent, ck, resume=True, snapshot=True)
    check(agent.paused is None, lambda: agent.paused)
    kill_agent_process(agent, proc)
    env.coord.write_plan(ck, os.path.join(ck, "restart.plan"), inherit=(1, 2))
    path, f = env.log()
    proc, agent, _ = env.coord.restart(RESTORE, ck, f)
    env.procs.append(proc)
    wait_word(path, proc, "CHECK", 1)
    open(stop, "w").close()
    finish(proc, path)


def test_snapshot_child_blocks_signals(env):
    """the snapshot child blocks every signal it can (one sent to the program's process
    group must not run the program's handlers in the copy, nor stop the writer): sent
    SIGTSTP and SIGINT, it still writes the image"""
    proc, agent, path = env.launch([SCEN + "/cowgen", "gen", "512"])
    wait_word(path, proc, "cowgen", 1)
    want = ((1 << 64) - 1) & ~(1 << (signal.SIGKILL - 1)) & ~(1 << (signal.SIGSTOP - 1))
    for attempt in range(3):                   # the child may be done before it is looked at
        ck = os.path.join(env.dir, "sig%d" % attempt)
        os.makedirs(ck, mode=0o700)
        check(agent.request("SUSPEND").startswith("SUSPENDED"))
        r = agent.request("SNAPSHOT " + ck)
        check(r.startswith("SNAPSHOTTING "), lambda: r)
        child = snapshot_child(agent.host_pid)
        blocked = None
        try:
            with open("/proc/%d/status" % child) as f:
                blocked = int(re.search(r"SigBlk:\s+([0-9a-f]+)", f.read()).group(1), 16)
            os.kill(child, signal.SIGTSTP)
            os.kill(child, signal.SIGINT)
        except (TypeError, OSError):
            pass                               # gone already
        check(agent.request("RESUME 1 sig") == "RESUMED")
        r = agent.request("COLLECT")
        check(r.startswith("WRITTEN "), lambda: "signals reached the snapshot child: " + r)
        if blocked is not None:
            check(blocked == want, lambda: "the snapshot child blocks %x, not %x" % (blocked, want))
            break
    check(blocked is not None, lambda: "the snapshot child always finished before it was looked at")
    kill_agent_process(agent, proc)


TESTS = [test_snapshot_one_instant, test_snapshot_dontfork, test_snapshot_shared, test_snapshot_child_killed,
         test_snapshot_child_blocks_signals]
