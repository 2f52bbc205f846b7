"""Async-signal safety of the agent in a fork child (issue #17 item 3): the child
handler does raw system calls only; the checkpoint thread starts once fork() has
returned in the child, after the program's own fork handlers."""
from run_tests import SCEN
from t_kstate_files import tree_generations


def test_fork_allocator_lock(env):
    """a multithreaded program whose own allocator lock is held across fork (jemalloc
    style atfork handlers, registered after the agent's) while other threads churn the
    heap and stdio: the child runs, is checkpointed (resumed, and killed + restarted
    with its parent) 3 times and ends with its parent's OK"""
    out = tree_generations(env, [SCEN + "/forklock", "150", "20"])
    assert any(line.startswith("restarted") for line in out), out[-3:]
    assert out[-1] == "OK", out[-3:]


TESTS = [test_fork_allocator_lock]
