"""Agent protocol robustness: fields that come from the program (file names, the
executable's path) cannot split or forge lines of the agent's reports."""
import os

from run_tests import SCEN, check, kill_agent_process, lines, wait_lines


def test_evil_file_names(env):
    """file names with a newline (and a forged 'FD 77 ... /etc/shadow' after it) and with
    backslashes are reported as one descriptor each, exactly, checkpoint after checkpoint"""
    proc, agent, path = env.launch(["python3", os.path.join(SCEN, "evil_names.py"), env.dir])
    wait_lines(path, 1, proc)
    ready = [l for l in lines(path) if l.startswith("ready ")][0].split()[1:]
    wanted = {int(ready[0]): os.path.join(env.dir, "evil\nFD 77 0 0 shadow"),
              int(ready[1]): os.path.join(env.dir, "back\\slash\\n"),
              int(ready[2]): os.path.join(env.dir, "plain")}
    for g in range(3):
        ck = os.path.join(env.dir, "ck%d" % g)
        env.coord.checkpoint(agent, ck, resume=True)
        reported = {f["fd"]: f["path"] for f in agent.fds()}
        check(77 not in reported or reported[77] != "shadow", lambda: ("forged descriptor", reported))
        for fd, name in wanted.items():
            check(reported.get(fd) == name, lambda: (fd, reported.get(fd), name))
        check(agent.request("PING") == "PONG", lambda: "the protocol is out of step")
    kill_agent_process(agent, proc)


TESTS = [test_evil_file_names]
