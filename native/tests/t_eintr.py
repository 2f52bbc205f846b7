"""A checkpoint must not interrupt blocking calls (issue #9, cause 1): threads of
scenarios/blocking_calls sit in poll, epoll_wait, select, semop, msgrcv, mq_receive,
nanosleep, sigwaitinfo, pause, futex... while the program is checkpointed and resumed,
or killed and restarted. No EINTR unless the program's own signal came, timeouts
neither cut short nor much longer than asked (the program checks the first two
itself; the upper bound is checked here, knowing how long the program was frozen)."""
import os
import time

from run_tests import alone, Env, SCEN, check, finish, kill_agent_process, lines, wait_lines  # noqa: F401

T_MS, S_MS, R_MS = 3000, 2000, 5000
SLACK = 0.6          # scheduling on a loaded machine, rounding, thread start-up


def wait_ready(path, proc):
    wait_lines(path, 1, proc)
    check(lines(path)[0].startswith("ready"), lambda: lines(path)[:3])
    return time.monotonic()


def finish_calls(proc, path):
    """finish(), naming the calls that failed"""
    try:
        return finish(proc, path)
    except AssertionError as e:
        bad = [l for l in lines(path) if l.startswith("FAIL") or " FAIL " in l]
        raise AssertionError("%s\n  %s" % (e, "\n  ".join(bad)))


def remove_ipc(path):
    """the SysV objects of a program that was killed or failed (it removes them when it ends)"""
    import subprocess
    words = dict(w.split("=") for w in lines(path)[0].split() if "=" in w) if os.path.exists(path) else {}
    for flag, key in (("-s", "sem"), ("-q", "msg")):
        if key in words:
            subprocess.run(["ipcrm", flag, words[key]], capture_output=True)


def at(t_ready, secs):
    """sleep until `secs` after the program said ready"""
    delay = t_ready + secs - time.monotonic()
    if delay > 0:
        time.sleep(delay)


def check_cases(out, frozen):
    """every case ok; timed ones not longer than T + the time the program was frozen"""
    cases = [l.split() for l in out if l.startswith("case ")]
    check(cases, lambda: out[-5:])
    if os.environ.get("STASIS_VERBOSE"):
        print("   frozen %.3f s while the timed calls ran\n   " % frozen +
              "\n   ".join(l for l in out if l.startswith(("case", "OK"))))
    bad = [" ".join(c) for c in cases if c[3] != "ok"]
    check(not bad, lambda: "calls that noticed the checkpoint:\n  " + "\n  ".join(bad))
    for c in cases:
        name, kind, ms = c[1], c[2], int(c[4])
        if kind != "timed":
            continue
        limit = T_MS / 1000 + frozen + SLACK
        check(ms / 1000 <= limit, lambda: "%s took %d ms, more than %.2f s (frozen %.2f s)" % (name, ms, limit, frozen))
    return cases


@alone
def test_blocking_calls_resumed(env):
    """four checkpoints, each resumed: two while the timed calls run, one between the
    program's own signal and the events, one while the event calls wait"""
    proc, agent, path = env.launch([SCEN + "/blocking_calls", "all", str(T_MS), str(S_MS), str(R_MS)])
    try:
        resumed_four_times(env, proc, agent, path)
    finally:
        remove_ipc(path)


def resumed_four_times(env, proc, agent, path):
    t_ready = wait_ready(path, proc)
    frozen_timed = 0.0
    for n, secs in enumerate((1.0, 1.6, 2.4, 4.0)):
        at(t_ready, secs)
        t = time.monotonic()
        env.coord.checkpoint(agent, os.path.join(env.dir, "ck%d" % n), resume=True)
        if secs < T_MS / 1000:
            frozen_timed += time.monotonic() - t
    out = finish_calls(proc, path)
    cases = check_cases(out, frozen_timed)
    check(len(cases) == 37, lambda: len(cases))
    check("usr1=4" in out[-1], lambda: out[-1])             # its own signals still came through


@alone
def test_blocking_calls_restarted(env):
    """killed and restarted twice: once while the timed calls run, once while the
    event calls wait; the restarted calls resume with the time that was left"""
    proc, agent, path = env.launch([SCEN + "/blocking_calls", "nofd", str(T_MS), str(S_MS), str(R_MS)])
    try:
        restarted_twice(env, proc, agent, path)
    finally:
        remove_ipc(path)


def restarted_twice(env, proc, agent, path):
    t_ready = wait_ready(path, proc)
    frozen_timed = 0.0
    for n, secs in enumerate((1.0, 4.0)):
        at(t_ready, secs)
        t = time.monotonic()
        ck = os.path.join(env.dir, "ck%d" % n)
        env.coord.checkpoint(agent, ck, resume=False)
        kill_agent_process(agent, proc)
        proc, agent, path, _ = env.restart(ck)
        if secs < T_MS / 1000:
            frozen_timed += time.monotonic() - t
    out = finish_calls(proc, path)
    cases = check_cases(out, frozen_timed)
    check(len(cases) == 24, lambda: len(cases))
    check("restarts=2" in out[-1] and "usr1=4" in out[-1], lambda: out[-1])


@alone
def test_blocking_calls_rapid(env):
    """a checkpoint every 150 ms: calls already restarted (pointing at the agent's copy
    of the time left) are interrupted and restarted again, many times"""
    proc, agent, path = env.launch([SCEN + "/blocking_calls", "all", str(T_MS), str(S_MS), str(R_MS)])
    try:
        every_150ms(env, proc, agent, path)
    finally:
        remove_ipc(path)


def every_150ms(env, proc, agent, path):
    t_ready = wait_ready(path, proc)
    frozen_timed, n, t_end = 0.0, 0, t_ready + R_MS / 1000 - 0.4
    while time.monotonic() < t_end:
        time.sleep(0.15)
        t = time.monotonic()
        env.coord.checkpoint(agent, os.path.join(env.dir, "ck%d" % (n % 2)), resume=True)
        if t - t_ready < T_MS / 1000 + frozen_timed:
            frozen_timed += time.monotonic() - t
        n += 1
    out = finish_calls(proc, path)
    check_cases(out, frozen_timed)
    check(n >= 15, lambda: n)


TESTS = [test_blocking_calls_resumed, test_blocking_calls_restarted, test_blocking_calls_rapid]


@alone
def test_eintr_churn(env):
    """threads enter and leave 1-3 ms blocking calls all the time while checkpoints
    come every 30 ms: a thread caught between the agent's look at its state and the
    suspend signal must not see EINTR either"""
    proc, agent, path = env.launch([SCEN + "/eintr_churn", "6"])
    t_ready = wait_ready(path, proc)
    n = 0
    while time.monotonic() < t_ready + 5.0:
        time.sleep(0.03)
        env.coord.checkpoint(agent, os.path.join(env.dir, "ck%d" % (n % 2)), resume=True)
        n += 1
    out = finish(proc, path)
    if os.environ.get("STASIS_VERBOSE"):
        print("   %d checkpoints: %s" % (n, out[-1]))
    check(n >= 20, lambda: n)


TESTS.append(test_eintr_churn)
