"""Background prefetch after a restart (issue #15, item 4): once the restarted program
runs, its agent's checkpoint thread pages in every private mapping of the image file
(MADV_POPULATE_READ, address order, between the coordinator's requests), so a program
that goes over all its memory finds it present. The scenario never touches its data
while it ticks: only a prefetch can make the image's mappings resident.
`stasis-restore --no-prefetch PLAN` leaves the pages to the first touch."""
import os
import subprocess
import time

from run_tests import alone, RESTORE, SCEN, check, finish, kill_agent_process, wait_lines

MIB = 96


def image_rss(host_pid):
    """bytes of the process's mappings of its image file that are resident"""
    total, in_image = 0, False
    with open("/proc/%d/smaps" % host_pid) as f:
        for line in f:
            head = line.split()
            if "-" in head[0] and len(head) >= 5:       # a mapping's first line
                in_image = len(head) >= 6 and head[5].endswith(".img")
            elif in_image and head[0] == "Rss:":
                total += int(head[1]) * 1024
    return total


def stop_file(env):
    """the file that ends prefetch_hold.py's steps early (the test has seen what it wanted)"""
    return os.path.join(env.dir, "stop")


def finish_now(env, proc, path):
    """the program stops stepping, checks its data and ends with OK"""
    open(stop_file(env), "w").close()
    finish(proc, path, timeout=60)


def checkpointed(env, steps):
    """prefetch_hold.py holding MIB MiB, checkpointed and killed -> checkpoint dir"""
    proc, agent, path = env.launch(["python3", SCEN + "/prefetch_hold.py", str(MIB), str(steps), "0.05",
                                    stop_file(env)])
    wait_lines(path, 3, proc, timeout=60)
    ck = os.path.join(env.dir, "ck%d" % len(os.listdir(env.dir)))
    env.coord.checkpoint(agent, ck, resume=False)
    kill_agent_process(agent, proc)
    return ck


def restart(env, ck, *options):
    """the restorer with options on ck's plan; RESUME 1 -> (Popen, agent, output path)"""
    plan = os.path.join(ck, "restart.plan")
    env.coord.write_plan(ck, plan)
    path, f = env.log()
    proc = subprocess.Popen([RESTORE, *options, plan], stdin=subprocess.DEVNULL, stdout=f, stderr=f)
    env.procs.append(proc)
    agent = env.coord.wait_agent(lambda a: a.restored > 0, timeout=60)
    check(agent.request("RESUME 1") == "RESUMED")
    return proc, agent, path


def wait_rss(host_pid, path, timeout=8):
    """the image's resident bytes once they reach MIB MiB (or at timeout), measured
    while the program still ticks (its final check touches every page itself)"""
    deadline, rss = time.time() + timeout, 0
    while time.time() < deadline:
        rss = image_rss(host_pid)
        if rss >= MIB << 20:
            break
        time.sleep(0.05)
    with open(path) as f:
        check("progress" in f.read().splitlines()[-1], lambda: "the program ended before the pages were in")
    return rss


def test_lazy_restart_prefetches(env):
    ck = checkpointed(env, 300)
    proc, agent, path = restart(env, ck, "--no-verify")
    rss = wait_rss(agent.host_pid, path)
    check(rss >= MIB << 20, lambda: "only %d MiB of the image paged in: no prefetch" % (rss >> 20))
    finish_now(env, proc, path)


def test_no_prefetch_leaves_pages_to_first_touch(env):
    ck = checkpointed(env, 100)
    proc, agent, path = restart(env, ck, "--no-verify", "--no-prefetch")
    wait_lines(path, 10, proc, timeout=30)   # half a second of running
    rss = image_rss(agent.host_pid)
    check(rss < (MIB << 20) // 2, lambda: "%d MiB of the image paged in without prefetch" % (rss >> 20))
    finish_now(env, proc, path)


def test_checkpoint_while_prefetching(env):
    """a SUSPEND stops the prefetch; the next generation restarts (verified) and prefetches too"""
    ck = checkpointed(env, 300)
    proc, agent, path = restart(env, ck, "--no-verify")
    ck2 = os.path.join(env.dir, "again")
    env.coord.checkpoint(agent, ck2, resume=False)  # at once: the prefetch has just begun
    kill_agent_process(agent, proc)
    proc, agent, path = restart(env, ck2)
    rss = wait_rss(agent.host_pid, path)
    check(rss >= MIB << 20, lambda: "only %d MiB of the image paged in after a verified restart" % (rss >> 20))
    finish_now(env, proc, path)


def ckpt_thread_io_class(host_pid):
    """the I/O scheduling class of the agent's checkpoint thread (ionice: idle, best-effort, none, ...)"""
    for tid in os.listdir("/proc/%d/task" % host_pid):
        with open("/proc/%d/task/%s/comm" % (host_pid, tid)) as f:
            if f.read().strip() == "stasis-ckpt":
                out = subprocess.run(["ionice", "-p", tid], capture_output=True, text=True).stdout
                return out.split(":")[0].strip()
    return "no checkpoint thread"


@alone
def test_prefetch_reads_at_idle_io_priority(env):
    """the prefetch's reads yield to the program's faults (idle class), and a checkpoint
    that stops the prefetch gives the checkpoint thread its own class back"""
    ck = checkpointed(env, 300)
    for name in os.listdir(ck):     # from the disk, so that the prefetch takes a while
        fd = os.open(os.path.join(ck, name), os.O_RDONLY)
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
        os.close(fd)
    proc, agent, path = restart(env, ck, "--no-verify")
    seen, deadline = set(), time.time() + 5     # the prefetch begins once the program runs again
    while "idle" not in seen and image_rss(agent.host_pid) < MIB << 20 and time.time() < deadline:
        seen.add(ckpt_thread_io_class(agent.host_pid))
        time.sleep(0.005)
    check("idle" in seen or not seen, lambda: "the prefetch ran at I/O class %s, not idle" % seen)
    env.coord.checkpoint(agent, os.path.join(env.dir, "again"), resume=True)   # stops the prefetch
    after = ckpt_thread_io_class(agent.host_pid)
    check(after != "idle", lambda: "the checkpoint thread stayed at idle I/O priority after a checkpoint")
    finish_now(env, proc, path)


TESTS = [test_lazy_restart_prefetches, test_no_prefetch_leaves_pages_to_first_touch, test_checkpoint_while_prefetching,
         test_prefetch_reads_at_idle_io_priority]
