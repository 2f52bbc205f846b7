"""Path redirection (issue #11, section 1): a restart plan's `redirect` lines make the
restored agents serve a moved directory at its old path, in every libc call that
takes a path, in threads, forked and exec'd children, and again after the next
checkpoint and restart (the table lives in the processes' memory)."""
import os
import shutil
import subprocess
import sys
import time

from run_tests import RESTORE, SCEN, check, finish, kill_agent_process, lines


def checkpoint_and_kill(env, agent, proc, name):
    ck = os.path.join(env.dir, name)
    env.coord.checkpoint(agent, ck, resume=False)
    kill_agent_process(agent, proc)
    return ck


def wait_word(path, proc, word):
    """wait for a line starting with word; a FAIL line fails at once"""
    for _ in range(1500):
        out = lines(path)
        bad = [x for x in out if x.startswith("FAIL")]
        check(not bad, lambda: "the program says %s (output %s)" % (bad, out[-5:]))
        if any(x.startswith(word) for x in out):
            return out
        if proc.poll() is not None:
            raise AssertionError("exited (rc %s) before %r: %s" % (proc.returncode, word, out[-5:]))
        time.sleep(0.02)
    raise AssertionError("no %r in %s" % (word, lines(path)[-5:]))


def make_old(env):
    old = os.path.join(env.dir, "data")
    os.mkdir(old)
    with open(os.path.join(old, "f.txt"), "w") as f:
        f.write("hello\n")
    sibling = old + "c"                       # /x/data must not cover /x/datac
    os.mkdir(sibling)
    with open(os.path.join(sibling, "s.txt"), "w") as f:
        f.write("sibling\n")
    return old, os.path.join(env.dir, "moved", "data")


def two_restarts(env, move_again):
    """py_redirect: checkpoint, move the directory, restart with a redirect; checkpoint
    again and restart: with move_again, after moving it once more and with a redirect
    of its second place only (the agent composes both); else without any redirect"""
    old, new = make_old(env)
    proc, agent, path = env.launch([sys.executable, SCEN + "/py_redirect.py", old, old + "c", "2"])
    wait_word(path, proc, "ready")
    ck = checkpoint_and_kill(env, agent, proc, "ck1")
    os.makedirs(os.path.dirname(new))
    os.rename(old, new)
    logp, f = env.log()
    p2, a2, _ = env.coord.restart(RESTORE, ck, f, rewrite={old: new}, redirect={old: new})
    env.procs.append(p2)
    wait_word(logp, p2, "checked 1")
    ck2 = checkpoint_and_kill(env, a2, p2, "ck2")
    with env.coord.cond:                      # the children's agents (ended) are not the restart's
        env.coord.agents[:] = []
    final, again = new, {}
    if move_again:
        final = os.path.join(env.dir, "third")
        os.rename(new, final)
        again = {new: final}
    logp3, f3 = env.log()
    p3, a3, _ = env.coord.restart(RESTORE, ck2, f3, rewrite=again, redirect=again)
    env.procs.append(p3)
    wait_word(logp3, p3, "OK")
    finish(p3, logp3)
    check(not os.path.exists(old), lambda: "something was written at the old path: %s" % os.listdir(old))
    log = lines(os.path.join(final, "log.txt"))
    check(log == ["started", "restart 1", "restart 2"], lambda: log)
    check(os.path.exists(os.path.join(final, "new2.txt.moved")), lambda: os.listdir(final))


def test_redirect_python(env):
    """open, os.stat, os.listdir, sqlite3 (a connection kept open across the checkpoint
    and a new one), pathlib, rename/mkdir, relative paths and chdir, a thread, a forked
    child and exec'd children all see the moved directory at its old path; a second
    checkpoint and restart without redirect lines keeps it"""
    two_restarts(env, False)


def test_redirect_added_later(env):
    """the directory moves again before the second restart, whose plan redirects only
    its second place: the agent's table composes old -> second -> third"""
    two_restarts(env, True)


def test_redirect_calls(env):
    """each libc function by its C name: open, open64, openat, creat, fopen, freopen,
    stat, lstat, fstatat, statx, access, faccessat, opendir, mkdir, rename, renameat,
    unlink, unlinkat, readlink, realpath (named back at the old path), chdir, execve"""
    old, new = make_old(env)
    os.symlink("f.txt", os.path.join(old, "link"))
    shutil.copy("/bin/true", os.path.join(old, "tool"))
    proc, agent, path = env.launch([SCEN + "/redirect_calls", old])
    wait_word(path, proc, "ready")
    ck = checkpoint_and_kill(env, agent, proc, "ck")
    os.makedirs(os.path.dirname(new))
    os.rename(old, new)
    logp, f = env.log()
    p2, a2, _ = env.coord.restart(RESTORE, ck, f, redirect={old: new})
    env.procs.append(p2)
    out = finish(p2, logp)
    check(sum(x.startswith("ok ") for x in out) == 22, lambda: out)
    check(not os.path.exists(old), lambda: "the old path came back")


def test_redirect_cwd(env):
    """a program whose working directory was in the moved directory: the restart
    enters it where it is now, and the program's relative names work"""
    old, new = make_old(env)
    here = os.getcwd()
    os.chdir(old)                              # the launched program's cwd
    try:
        proc, agent, path = env.launch([sys.executable, SCEN + "/py_redirect.py", old, old + "c", "1"])
    finally:
        os.chdir(here)
    wait_word(path, proc, "ready")
    ck = checkpoint_and_kill(env, agent, proc, "ck")
    os.makedirs(os.path.dirname(new))
    os.rename(old, new)
    logp, f = env.log()
    p2, a2, _ = env.coord.restart(RESTORE, ck, f, rewrite={old: new}, redirect={old: new})
    env.procs.append(p2)
    finish(p2, logp)


def test_redirect_plan_errors(env):
    """a bad redirect line stops the restorer before anything runs: one line naming it"""
    for line, why in [("redirect data\t/x", "absolute"), ("redirect /a /b", "TAB"), ("redirect /\t/x", "absolute")]:
        plan = os.path.join(env.dir, "bad.plan")
        with open(plan, "w") as f:
            f.write("version 1\nprocess 2 /nonexistent.img\n%s\n" % line)
        r = subprocess.run([RESTORE, plan], capture_output=True, text=True, timeout=20)
        err = r.stderr.strip().splitlines()
        check(r.returncode == 1 and err and "redirect" in err[-1] and why in err[-1], lambda: (line, r.returncode, err))


TESTS = [test_redirect_python, test_redirect_added_later, test_redirect_calls, test_redirect_cwd,
         test_redirect_plan_errors]
