"""Following ssh (native/agent/sshfollow.c): a program of the computation that runs
`ssh ... DEST COMMAND` hands ssh a remote command that runs COMMAND under
`stasis launch --coordinator MAIN` (MAIN from <runtime>/<coordinator>.span), or COMMAND
itself where Stasis is missing; ssh without a remote command is left alone; a followed ssh
that is restarted ends with status 0. A stand-in `ssh` on PATH shows what it was given."""
import os
import subprocess
import sys

from run_tests import RESTORE, check, finish, kill_agent_process, lines, wait_lines

FAKE_SSH = r"""#!/bin/sh
# what the agent gave ssh, one word per line, and whether the agent marked it followed
for a in "$@"; do printf 'word %s\n' "$a"; done
# the program does not see the mark (the agent hides it); the kernel's copy of the environment does
if tr '\0' '\n' < /proc/$$/environ | grep -q '^STASIS_SSH_FOLLOWED=1$'; then echo 'marked 1'; else echo 'marked no'; fi
printf 'seen %s\n' "${STASIS_SSH_FOLLOWED:-nothing}"
"""

CALLS = r"""
import subprocess, sys
calls = [
    ["ssh", "-F", "cfg", "-p", "22", "h2", "-l", "root", "echo", "\"it's\"", ";", "echo", "$HOME-x"],
    ["ssh", "-tF", "cfg", "--", "h2", "printf", "'%s\\n'", "a  b"],
    ["ssh", "h2"],
    ["ssh", "-N", "-L", "1:h:2", "h2"],
    ["ssh", "-s", "h2", "sftp"],
    ["ssh", "h2", "rsync", "--server", "."],
    ["ssh", "-x", "--", "h2", "/usr/bin/scp -t /tmp"],
    ["ssh", "h2", "echo", "y" * 20000],
]
import os
for argv in calls + [["ssh", "h2", "echo", "plain"]]:
    env = dict(os.environ, STASIS_FOLLOW_SSH="0") if argv[-1] == "plain" else None
    ran = subprocess.run(argv, capture_output=True, text=True, env=env)
    out = ran.stdout
    print("CALL", len(out.splitlines()), flush=True)
    if "too long to follow" in ran.stderr:
        print("warned too long", flush=True)
    sys.stdout.write(out)
print("OK", flush=True)
"""


def fake_ssh(env):
    bindir = os.path.join(env.dir, "fakebin")
    os.makedirs(bindir)
    path = os.path.join(bindir, "ssh")
    with open(path, "w") as f:
        f.write(FAKE_SSH)
    os.chmod(path, 0o755)
    return bindir


def write_span(env, main, member=False):
    with open(os.path.join(env.dir, "test.span"), "w") as f:
        f.write("%s\n/tok/en file\n%s" % (main, "member\n" if member else ""))


def calls(out):
    """the words each call's ssh got, per call"""
    result, current = [], None
    for line in out:
        if line.startswith("CALL"):
            current = []
            result.append(current)
        elif line.startswith("word ") or line.startswith("marked ") or line.startswith("seen "):
            current.append(line)
    return result


def run_calls(env, bindir, with_output=False):
    os.environ["PATH"] = bindir + os.pathsep + os.environ["PATH"]
    try:
        proc, agent, path = env.launch([sys.executable, "-c", CALLS])
    finally:
        os.environ["PATH"] = os.environ["PATH"].split(os.pathsep, 1)[1]
    out = finish(proc, path)
    return (calls(out), out) if with_output else calls(out)


def test_sshfollow_rewrites_the_remote_command(env):
    """options before and after DEST are kept; the remote command becomes one word that
    runs the original under stasis launch (not for file transfers: rsync, scp; not when
    the user asks for a plain ssh with STASIS_FOLLOW_SSH=0) (here Stasis is absent at that path, so the
    fallback branch runs: the original words come through the shell quoting intact)"""
    bindir = fake_ssh(env)
    write_span(env, "192.0.2.9:7400")
    got, out_lines = run_calls(env, bindir, with_output=True)
    check(len(got) == 9, lambda: got)
    first = got[0]
    check(first[:7] == ["word -F", "word cfg", "word -p", "word 22", "word h2", "word -l", "word root"],
          lambda: first)
    check(first[8:] == ["marked 1", "seen nothing"], lambda: first)
    remote = first[7][len("word "):]
    check("launch --coordinator '192.0.2.9:7400' --token-file '/tok/en file'" in remote, lambda: remote)
    # run it as sshd would (the remote user's shell), where no stasis is installed at that path
    ran = subprocess.run(["/bin/sh", "-c", remote], capture_output=True, text=True, env=dict(os.environ, HOME="/h"))
    check(ran.stdout.splitlines() == ["it's", "/h-x"], lambda: (ran.stdout, ran.stderr))
    check("is outside the computation" in ran.stderr, lambda: ran.stderr)
    second = got[1]
    check(second[:4] == ["word -tF", "word cfg", "word --", "word h2"] and second[-2] == "marked 1", lambda: second)
    ran = subprocess.run(["/bin/sh", "-c", second[4][len("word "):]], capture_output=True, text=True)
    check(ran.stdout == "a\nb\n", lambda: ran.stdout)  # ssh joins words with spaces: the shell splits them again
    check(out_lines.count("warned too long") == 1, lambda: out_lines[-3:])
    for untouched, words in ((got[2], ["word h2"]), (got[3], ["word -N", "word -L", "word 1:h:2", "word h2"]),
                             (got[4], ["word -s", "word h2", "word sftp"]),
                             (got[5], ["word h2", "word rsync", "word --server", "word ."]),
                             (got[6], ["word -x", "word --", "word h2", "word /usr/bin/scp -t /tmp"]),
                             (got[7], ["word h2", "word echo", "word " + "y" * 20000]),
                             (got[8], ["word h2", "word echo", "word plain"])):
        check(untouched == words + ["marked no", "seen nothing"], lambda: untouched)


def test_sshfollow_member_and_every_address(env):
    """a main listening on every address: the remote side takes the address its ssh
    connection came from; a member's processes give no computation id (theirs are not the
    main's)"""
    bindir = fake_ssh(env)
    write_span(env, ":7400", member=True)
    remote = run_calls(env, bindir)[0][7][len("word "):]
    check("--coordinator \"${SSH_CONNECTION%% *}\"':7400'" in remote, lambda: remote)
    check("--computation" not in remote, lambda: remote)
    shown = subprocess.run(["/bin/sh", "-c", "SSH_CONNECTION='198.51.100.4 5000 198.51.100.5 22'; echo "
                            + "\"${SSH_CONNECTION%% *}\"':7400'"], capture_output=True, text=True).stdout
    check(shown == "198.51.100.4:7400\n", lambda: shown)


def test_sshfollow_not_without_a_main(env):
    """no span file (a coordinator that does not listen): ssh gets what the program passed"""
    got = run_calls(env, fake_ssh(env))
    check(got[0][7:] == ["word echo", "word \"it's\"", "word ;", "word echo", "word $HOME-x", "marked no", "seen nothing"],
          lambda: got[0])


PARENT = r"""
import subprocess, sys, time
child = subprocess.Popen([sys.argv[1], "h2", "orted"])
print("started", flush=True)
while child.poll() is None:
    time.sleep(0.05)
print("ssh exited", child.returncode, flush=True)
print("OK", flush=True)
"""

LONG_SSH = r"""#!%s
import time
print("ssh running", flush=True)  # its agent registered before: it runs before main
while True:
    time.sleep(0.05)
"""


def test_sshfollow_restarted_ssh_ends_with_zero(env):
    """a followed ssh that never ends by itself is checkpointed with its parent; restarted,
    it ends at once with status 0 and its parent goes on"""
    write_span(env, "192.0.2.9:7400")
    bindir = os.path.join(env.dir, "bin2")
    os.makedirs(bindir)
    ssh = os.path.join(bindir, "ssh")
    with open(ssh, "w") as f:
        f.write(LONG_SSH % sys.executable)
    os.chmod(ssh, 0o755)
    proc, root, path = env.launch([sys.executable, "-c", PARENT, ssh])
    wait_lines(path, 2, proc)
    agents = env.coord.checkpoint_tree([root], os.path.join(env.dir, "ck"), resume=False)
    check(len(agents) == 2, lambda: [a.hello.get("exe") for a in agents])
    kill_agent_process(root, proc)
    for a in agents:
        a.close()
    out_path, f = env.log()
    restored_proc, restored = env.coord.restart_tree(RESTORE, os.path.join(env.dir, "ck"), f)
    env.procs.append(restored_proc)
    out = finish(restored_proc, out_path)
    check("ssh exited 0" in out, lambda: out)


TESTS = [test_sshfollow_rewrites_the_remote_command, test_sshfollow_member_and_every_address,
         test_sshfollow_not_without_a_main, test_sshfollow_restarted_ssh_ends_with_zero]
