"""Restarts are all-or-nothing and say why they fail; checkpoints that could not be
restarted are never taken (issue #9, causes 3 and 4)."""
import os
import subprocess
import time

from run_tests import RESTORE, SCEN, check, descendants, finish, kill_agent_process, lines, wait_lines


def alive(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0] not in "ZX"
    except OSError:
        return False


def failing_restart(env, plan, timeout=20, flags=()):
    """run the restorer on plan; it must fail: -> (rc, output lines, seconds). Every
    process it started (seen below it while it ran) and every agent that connected
    meanwhile must be gone once it has exited."""
    path, f = env.log()
    t0 = time.time()
    proc = subprocess.Popen([RESTORE, *flags, plan], stdin=subprocess.DEVNULL, stdout=f, stderr=f)
    env.procs.append(proc)
    seen = set()
    while proc.poll() is None and time.time() - t0 < timeout:
        seen.update(p for p, st in descendants(proc.pid).items() if st not in "ZX")
        time.sleep(0.01)
    took = time.time() - t0
    if proc.poll() is None:
        seen.update(descendants(proc.pid))
        proc.kill()
        proc.wait()
        for pid in seen:                       # our own leftovers, by pid
            try:
                os.kill(pid, 9)
            except OSError:
                pass
        raise AssertionError("the failing restart did not end within %d s: %s" % (timeout, lines(path)[-3:]))
    with env.coord.cond:
        agents, env.coord.agents[:] = env.coord.agents[:], []
    time.sleep(0.2)                            # SIGKILL is asynchronous
    left = [p for p in seen if alive(p)] + [a.host_pid for a in agents if alive(a.host_pid)]
    for pid in left:
        os.kill(pid, 9)
    check(not left, lambda: "processes of the failed restart still run: %s" % left)
    return proc.returncode, lines(path), took


def tree_checkpoint(env, n, steps=100000):
    """manyproc procs n, checkpointed whole, killed: -> its checkpoint directory"""
    proc, root, path = env.launch([SCEN + "/manyproc", "procs", str(n), str(steps)])
    wait_lines(path, 3, proc)
    known = [root]
    deadline = time.time() + 20
    while len(known) < n:                      # the children register as they fork
        known.append(env.coord.wait_agent(lambda a: a.restored == 0, timeout=max(1, deadline - time.time())))
    ck = os.path.join(env.dir, "ck")
    agents = env.coord.checkpoint_tree(known, ck, resume=False)
    check(len(agents) == n, lambda: [a.pid for a in agents])
    kill_agent_process(root, proc)
    for a in agents:
        a.close()
    return ck, sorted(a.pid for a in agents)


def test_ptimer_sigev_thread(env):
    """a SIGEV_THREAD POSIX timer (glibc's helper thread blocks every signal but its
    own; one thread per expiry comes and goes): the checkpoint suspends every thread
    (no timeout), holds the whole process, and the restart runs on"""
    proc, agent, path = env.launch([SCEN + "/ptimer", "200", "10"])
    for g in range(1, 3):
        wait_lines(path, len(lines(path)) + 5, proc)
        ck = os.path.join(env.dir, "ck%d" % g)
        r = agent.request("SUSPEND")                # not "ERROR timeout" after 10 s
        check(r.startswith("SUSPENDED"), lambda: r)
        threads = int(r.split("threads=")[1])
        check(threads >= 3, lambda: "the timer's helper thread was not suspended: %s" % r)
        agent.request("RESUME 0")
        env.coord.checkpoint(agent, ck, resume=False)
        kill_agent_process(agent, proc)
        proc, agent, path, _ = env.restart(ck)
        wait_lines(path, 1, proc)
    out = lines(path)
    rc = proc.wait(timeout=60)
    out = lines(path)
    check(rc == 0 and out[-1].startswith("OK ptimer"), lambda: (rc, out[-3:]))


def test_tree_one_fails(env):
    """one process of a tree cannot be restored (a file it had open is gone): the
    restart exits 1 at once with that process's message, and nothing of it runs on"""
    ck, pids = tree_checkpoint(env, 4)
    plan = os.path.join(ck, "restart.plan")
    env.coord.write_tree_plan(ck, plan, extra={pids[2]: ["fd 9 open 0 0 %s/gone/input.txt" % env.dir]})
    rc, out, took = failing_restart(env, plan)
    want = "stasis-restore: fd 9: cannot open %s/gone/input.txt: No such file or directory" % env.dir
    check(rc == 1 and want in out, lambda: (rc, out[-5:]))
    check(out.count(want) == 1, lambda: out)


def test_error_after_fd_table(env):
    """an error after the program's fd table is in place (its stderr is /dev/null
    now) still reaches the restart's stderr: a file the program mapped shared is gone"""
    data = os.path.join(env.dir, "shared.dat")
    inp = os.path.join(env.dir, "input.txt")
    with open(inp, "w") as f:
        for i in range(2000):
            f.write("line %06d\n" % i)
    proc, agent, path = env.launch([SCEN + "/files", "100", os.path.join(env.dir, "out.txt"), inp, "10", data])
    wait_lines(path, 5, proc)
    ck = os.path.join(env.dir, "ck")
    env.coord.checkpoint(agent, ck, resume=False)
    kill_agent_process(agent, proc)
    os.unlink(data)
    plan = os.path.join(ck, "restart.plan")
    env.coord.write_plan(ck, plan, inherit=(0,))
    with open(plan, "a") as f:
        f.write("fd 1 open 1 0 /dev/null\nfd 2 open 1 0 /dev/null\n")
    rc, out, _ = failing_restart(env, plan)
    check(rc == 1 and any("cannot reopen %s (mapped shared)" % data in l for l in out), lambda: (rc, out[-5:]))


def test_agent_cannot_reconnect(env):
    """the restored agent cannot reach its coordinator: the restart fails as a whole
    instead of running on unmanaged"""
    ck, pids = tree_checkpoint(env, 3)
    plan = os.path.join(ck, "restart.plan")
    env.coord.write_tree_plan(ck, plan)
    with open(plan) as f:
        text = f.read().replace(env.coord.sock_path, os.path.join(env.dir, "nobody.sock"))
    with open(plan, "w") as f:
        f.write(text)
    rc, out, _ = failing_restart(env, plan)
    check(rc == 1 and any("cannot reconnect to the coordinator" in l for l in out), lambda: (rc, out[-5:]))


TESTS = [test_ptimer_sigev_thread, test_tree_one_fails, test_error_after_fd_table, test_agent_cannot_reconnect]


def test_bigreserve(env):
    """2 TiB MAP_NORESERVE reservations (one writable, one PROT_NONE with a part opened
    up): checkpointed and restarted, only the touched pages are stored"""
    proc, agent, path = env.launch([SCEN + "/bigreserve", "120", "10"])
    for g in range(1, 3):
        wait_lines(path, len(lines(path)) + 5, proc)
        ck = os.path.join(env.dir, "ck%d" % g)
        t = env.coord.checkpoint(agent, ck, resume=False)
        check(t["bytes"] < 64 << 20, lambda: t)
        kill_agent_process(agent, proc)
        proc, agent, path, _ = env.restart(ck)
        wait_lines(path, 1, proc)
    out = finish(proc, path)
    check(any(l.startswith("restarted") for l in out), lambda: out[-3:])


TESTS.append(test_bigreserve)


def test_hundred_processes(env):
    """100 processes (more than the restorer's old fixed 64) checkpoint and restart"""
    ck, pids = tree_checkpoint(env, 100, steps=150)
    path, f = env.log()
    proc, restored = env.coord.restart_tree(RESTORE, ck, f, timeout=60)
    env.procs.append(proc)
    check(sorted(restored) == pids, lambda: (len(restored), len(pids)))
    out = finish(proc, path)
    check("restarted 1" in out and out[-1] == "OK manyproc procs 100", lambda: out[-3:])


def test_thousand_fds(env):
    """1000 descriptors in one process (more than the restorer's old fixed 256), each
    at its own offset, checkpointed and restarted twice"""
    data = os.path.join(env.dir, "data.bin")
    with open(data, "wb") as f:
        f.write(bytes(4096))
    out = generations_fds(env, data)
    check(out[-1] == "OK manyproc fds 1000", lambda: out[-3:])


def generations_fds(env, data):
    from run_tests import generations
    return generations(env, [SCEN + "/manyproc", "fds", "1000", data, "150"], gens=2)


TESTS += [test_hundred_processes, test_thousand_fds]


def test_termios_not_a_terminal(env):
    """terminal settings for an fd that is no terminal now: a warning, the program runs
    on; for an fd that is not open at all: the restart fails and says which"""
    proc, agent, path = env.launch([SCEN + "/counter", "60", "10"])
    wait_lines(path, 3, proc)
    ck = os.path.join(env.dir, "ck")
    env.coord.checkpoint(agent, ck, resume=False)
    kill_agent_process(agent, proc)
    plan = os.path.join(ck, "restart.plan")
    env.coord.write_plan(ck, plan)
    with open(plan) as f:
        good = f.read()
    with open(plan, "w") as f:
        f.write(good + "termios 77 %s\n" % ("00" * 60))
    rc, out, _ = failing_restart(env, plan)
    check(rc == 1 and "stasis-restore: process %d: cannot restore the terminal settings of fd 77: " \
        "Bad file descriptor" % agent.pid in out, lambda: (rc, out[-3:]))
    with open(plan, "w") as f:
        f.write(good + "termios 0 %s\n" % ("00" * 60))   # the restorer's stdin is /dev/null
    path, f = env.log()
    p2 = subprocess.Popen([RESTORE, plan], stdin=subprocess.DEVNULL, stdout=f, stderr=f)
    env.procs.append(p2)
    a2 = env.coord.wait_agent(lambda a: a.restored > 0)
    check(a2.request("RESUME 1") == "RESUMED")
    out = finish(p2, path)
    check("stasis-restore: warning: process %d: fd 0 was a terminal at checkpoint time and is not one now; " \
        "its terminal settings are not restored" % agent.pid in out, lambda: out[:3])


TESTS.append(test_termios_not_a_terminal)


def ud2_address(data):
    """an address in an image's saved executable code that holds ud2 (0f 0b): a jump
    there dies at once (SIGILL while every signal is blocked: the kernel kills)"""
    import struct
    import imagefmt
    n_areas = struct.unpack_from("<I", data, imagefmt.OFF_N_AREAS)[0]
    tab = struct.unpack_from("<Q", data, imagefmt.OFF_TABLE_OFFSET)[0]
    for i in range(n_areas):
        prot, rfirst, rcount = (struct.unpack_from("<I", data, tab + i * imagefmt.AREA_SIZE + o)[0] for o in (32, 48, 52))
        for r in range(rfirst, rfirst + rcount if prot & 4 else rfirst):
            addr, ln, off = struct.unpack_from("<QQQ", data, tab + n_areas * imagefmt.AREA_SIZE + r * imagefmt.RUN_SIZE)
            k = data.find(b"\x0f\x0b", off, off + ln)
            if k >= 0:
                return addr + k - off
    raise AssertionError("no ud2 in the saved code")


def test_silent_death(env):
    """a process that dies during its restore without a word (here: a crash in phase 2,
    its image's entry point moved onto a ud2 in its saved code - it passes every check
    of the image, checksums intact): the others are killed, the restart exits 1 and
    says how many processes were restored"""
    import struct
    import imagefmt
    ck, pids = tree_checkpoint(env, 3)
    image = os.path.join(ck, "image-%d.img" % pids[1])
    with open(image, "rb") as f:
        data = f.read()
    h = bytearray(data[:imagefmt.HEADER_SIZE])
    struct.pack_into("<Q", h, imagefmt.PROC_OFF, ud2_address(data))    # proc.entry
    h[imagefmt.OFF_HEADER_CRC:imagefmt.OFF_HEADER_CRC + 4] = b"\0\0\0\0"
    h[imagefmt.OFF_HEADER_CRC:imagefmt.OFF_HEADER_CRC + 4] = imagefmt.crc32c(bytes(h)).to_bytes(4, "little")
    with open(image, "wb") as f:
        f.write(bytes(h) + data[imagefmt.HEADER_SIZE:])
    plan = os.path.join(ck, "restart.plan")
    env.coord.write_tree_plan(ck, plan)
    rc, out, _ = failing_restart(env, plan)
    check(rc == 1 and "stasis-restore: 2 of 3 processes were restored; the others ended during their restore " \
        "without a message" in out, lambda: (rc, out[-3:]))


TESTS.append(test_silent_death)
