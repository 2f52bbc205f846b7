"""Several computations on one coordinator (issue #10, item 1): every agent tells which
computation it belongs to (HELLO comp=ID, from STASIS_COMPUTATION that the launch
sets); forked children and programs exec'd with a cleared environment say the same,
without seeing the variable; a restarted process keeps it (it is in its memory), and
the coordinator can move a restored computation to another id (COMPUTATION ID)."""
import os
import subprocess
import time

from run_tests import AGENT, LAUNCH, RESTORE, SCEN, check, finish, kill_agent_process, lines, parse_hello

AGENTEXEC = os.path.join(SCEN, "agentexec")


def wait_for(path, proc, text, timeout=20):
    deadline = time.time() + timeout
    while not any(text in line for line in lines(path)):
        check(proc.poll() is None, lambda: "exited early: %s" % lines(path)[-3:])
        check(time.time() < deadline, lambda: "no %r: %s" % (text, lines(path)[-3:]))
        time.sleep(0.02)


def launch_as(env, computation, argv):
    path, f = env.log()
    cmd = [LAUNCH, AGENT, env.coord.sock_path, "--"] + argv
    p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=f, stderr=f,
                         env=dict(os.environ, STASIS_COMPUTATION=computation))
    env.procs.append(p)
    return p, env.coord.wait_agent(lambda a: a.restored == 0 and "join" not in a.hello), path


def comps(agents):
    return sorted({a.hello.get("comp") for a in agents})


def test_computation_id(env):
    """launched with STASIS_COMPUTATION=c7: the root, its forked children and the programs
    they exec with `env -i` / a minimal env all say comp=c7 (and the children see exactly
    the environment they were given); restarted, they still say c7; COMPUTATION c9 moves
    them, and a later HELLO says c9"""
    proc, root, path = launch_as(env, "c7", [AGENTEXEC, "parent", "250"])
    wait_for(path, proc, "A env ok")
    wait_for(path, proc, "B env ok")
    check(root.hello.get("comp") == "c7", lambda: root.hello)
    wait_for(path, proc, "A count 20")
    ck = os.path.join(env.dir, "ck1")
    agents = env.coord.checkpoint_tree([root], ck, resume=False)
    check(len(agents) == 3, lambda: [(a.pid, a.hello["exe"]) for a in agents])
    check(comps(agents) == ["c7"], lambda: [(a.pid, a.hello) for a in agents])
    kill_agent_process(root, proc)
    for a in agents:
        a.close()
    path, f = env.log()
    proc, restored = env.coord.restart_tree(RESTORE, ck, f)
    env.procs.append(proc)
    check(comps(restored.values()) == ["c7"], lambda: [a.hello for a in restored.values()])
    for a in restored.values():
        check(a.request("COMPUTATION c9") == "OK")
        check(a.request("COMPUTATION bad/id").startswith("ERROR"), lambda: "a bad id was taken")
        check(parse_hello(a.request("HELLO")).get("comp") == "c9")
    out = finish(proc, path)
    for who in ("A", "B"):
        check("%s done 31375 restarts 1" % who in out, lambda: (who, out[-6:]))


def test_no_computation_id(env):
    """launched without STASIS_COMPUTATION: HELLO has no comp field (older launchers)"""
    proc, root, path = env.launch([AGENTEXEC, "parent", "20"])
    check("comp" not in root.hello, lambda: root.hello)
    out = finish(proc, path)
    check(any(l.startswith("OK") for l in out), lambda: out[-3:])


TESTS = [test_computation_id, test_no_computation_id]
