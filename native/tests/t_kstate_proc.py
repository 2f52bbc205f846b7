"""Per-process kernel state across checkpoints (issue #9, cause 6): POSIX timers,
pending signals with their values, pdeathsig and child subreaper, madvise advice,
/proc/self/cmdline and environ, a deleted working directory. Each scenario checks its
own state and exits 0 only if it is right."""
import glob
import os

import imagefmt

from run_tests import alone, SCEN, check, finish, kill_agent_process, lines, wait_lines


def resume_then_restart(env, argv, gens=3, progress=5, namespaces=True, memory="lazy", extra_env=None):
    """launch; gens x (progress, checkpoint and resume, progress, checkpoint, kill,
    restart): the resumed process and the restarted one both carry on"""
    old = dict(os.environ)
    if extra_env:
        os.environ.update(extra_env)
    try:
        proc, agent, path = env.launch(argv, namespaces)
    finally:
        os.environ.clear()
        os.environ.update(old)
    for g in range(1, gens + 1):
        wait_lines(path, len(lines(path)) + progress, proc)
        env.coord.checkpoint(agent, os.path.join(env.dir, "ck%da" % g), resume=True)
        wait_lines(path, len(lines(path)) + progress, proc)
        ck = os.path.join(env.dir, "ck%d" % g)
        env.coord.checkpoint(agent, ck, resume=False)
        kill_agent_process(agent, proc)
        proc, agent, path, _ = env.restart(ck, namespaces, memory)
        wait_lines(path, 1, proc)
    out = finish(proc, path)
    check(any(line.startswith("restarted") for line in out), lambda: "no restart noticed")
    return out


@alone
def test_ktimers(env):
    resume_then_restart(env, [SCEN + "/ktimers", "90", "100"], gens=3, progress=12)


@alone
def test_ktimers_memory_copy(env):
    resume_then_restart(env, [SCEN + "/ktimers", "60", "100"], gens=2, progress=12, memory="copy")


@alone
def test_ktimers_signal_only(env):
    """no SIGEV_THREAD timer (checkpoints even without the agent's helper)"""
    resume_then_restart(env, [SCEN + "/ktimers", "60", "100", "nothread"], gens=2, progress=12)


@alone
def test_ktimers_downtime(env):
    """a timer whose deadline passed while the program was down fires at once"""
    import time
    proc, agent, path = env.launch([SCEN + "/ktimers", "40", "100", "nothread"])
    wait_lines(path, 5, proc)
    ck = os.path.join(env.dir, "ck")
    env.coord.checkpoint(agent, ck, resume=False)
    kill_agent_process(agent, proc)
    time.sleep(3.5)
    proc, agent, path, _ = env.restart(ck)
    out = finish(proc, path)
    check(any(line.startswith("restarted") for line in out), lambda: "no restart noticed")


TESTS = [test_ktimers, test_ktimers_memory_copy, test_ktimers_signal_only, test_ktimers_downtime]


def test_ksigpend(env):
    resume_then_restart(env, [SCEN + "/ksigpend", "60", "100"], gens=3, progress=5)


def test_ksigpend_resumed(env):
    """checkpoints that resume: every signal still there exactly once"""
    proc, agent, path = env.launch([SCEN + "/ksigpend", "30", "100"])
    for g in range(3):
        wait_lines(path, len(lines(path)) + 3, proc)
        env.coord.checkpoint(agent, os.path.join(env.dir, "ck%d" % g), resume=True)
    finish(proc, path)


def test_ksigpend_no_namespaces(env):
    """tids change: each thread's signals follow it"""
    resume_then_restart(env, [SCEN + "/ksigpend", "60", "100"], gens=2, progress=5, namespaces=False)


TESTS += [test_ksigpend, test_ksigpend_resumed, test_ksigpend_no_namespaces]


def test_kprocmisc_prctl(env):
    resume_then_restart(env, [SCEN + "/kprocmisc", "prctl", "40", "100"], gens=2)


def test_kprocmisc_madvise(env):
    resume_then_restart(env, [SCEN + "/kprocmisc", "madvise", "40", "100"], gens=2)


def test_kprocmisc_madvise_copy(env):
    resume_then_restart(env, [SCEN + "/kprocmisc", "madvise", "30", "100"], gens=2, memory="copy")


def test_kprocmisc_cmdline(env):
    resume_then_restart(env, [SCEN + "/kprocmisc", "cmdline", "40", "100"], gens=2,
                        extra_env={"KPROCMISC": "value with spaces"})


def test_kprocmisc_cmdline_no_namespaces(env):
    resume_then_restart(env, [SCEN + "/kprocmisc", "cmdline", "30", "100"], gens=2, namespaces=False,
                        extra_env={"KPROCMISC": "1"})


def test_kprocmisc_cwd(env):
    resume_then_restart(env, [SCEN + "/kprocmisc", "cwd", "40", "100"], gens=2)
    img = imagefmt.read_image(glob.glob(os.path.join(env.dir, "ck2", "image-*.img"))[0])
    check(img["cwd_deleted"] and img["cwd"].startswith("/tmp/stasis-kcwd-"), lambda: (img["cwd_deleted"], img["cwd"]))


TESTS += [test_kprocmisc_prctl, test_kprocmisc_madvise, test_kprocmisc_madvise_copy, test_kprocmisc_cmdline,
          test_kprocmisc_cmdline_no_namespaces, test_kprocmisc_cwd]


def test_ksigflood_refused(env):
    """more pending signals than the agent can save: the checkpoint refuses with one
    line, the program goes on with all of them"""
    proc, agent, path = env.launch([SCEN + "/ksigflood", "30", "100"])
    wait_lines(path, 3, proc)
    try:
        env.coord.checkpoint(agent, os.path.join(env.dir, "ck"), resume=False)
        raise AssertionError("the checkpoint was not refused")
    except RuntimeError as e:
        check("too many pending signals" in str(e), lambda: e)
    check(agent.request("RESUME 0") == "RESUMED")
    finish(proc, path)


TESTS += [test_ksigflood_refused]
