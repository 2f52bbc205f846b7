"""Async-signal safety of the agent in a fork child (issue #17 item 3): the child
handler does raw system calls only; the checkpoint thread starts once fork() has
returned in the child, after the program's own fork handlers."""
import os

from run_tests import SCEN, check
from t_init import counts, wait_counts, wait_ok
from t_kstate_files import tree_generations


def test_fork_allocator_lock(env):
    """a multithreaded program whose own allocator lock is held across fork (jemalloc
    style atfork handlers, registered after the agent's) while other threads churn the
    heap and stdio: the child runs, is checkpointed (resumed, and killed + restarted
    with its parent) 3 times and ends with its parent's OK"""
    out = tree_generations(env, [SCEN + "/forklock", "150", "20"])
    check(any(line.startswith("restarted") for line in out), lambda: out[-3:])
    check(out[-1] == "OK", lambda: out[-3:])


TESTS = [test_fork_allocator_lock]


def forked_via(env, how):
    """the child made by `forkvia how` serves SUSPEND/RESUME (its checkpoint thread
    started when glibc's daemon()/forkpty() returned) and counts to its OK"""
    out = os.path.join(env.dir, "count.out")
    proc, first, _ = env.launch([SCEN + "/forkvia", how, "100", out])
    child = env.coord.wait_agent(lambda a: a.hello.get("join") == "fork")
    wait_counts(out, 5, who="the child")
    for _ in range(3):
        check(child.request("SUSPEND", timeout=20).startswith("SUSPENDED"), lambda: how)
        check(child.request("RESUME 0") == "RESUMED")
        wait_counts(out, len(counts(out)) + 5, who="the child")
    wait_ok(out, who="the child")
    if how == "forkpty":
        check(proc.wait(timeout=10) == 0)
    first.close()
    child.close()


def test_fork_via_daemon(env):
    """daemon(3) forks inside glibc: the daemon still starts its checkpoint thread"""
    forked_via(env, "daemon")


def test_fork_via_forkpty(env):
    """forkpty(3) forks inside glibc: the child still starts its checkpoint thread"""
    forked_via(env, "forkpty")


TESTS += [test_fork_via_daemon, test_fork_via_forkpty]
