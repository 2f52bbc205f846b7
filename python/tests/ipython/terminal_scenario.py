"""ipython3 in a pseudo-terminal under Stasis (IPythonTerminalIT).

1. `stasis launch -- ipython3`: the stasis extension is loaded by itself; define a
   variable and a function, `%checkpoint --note first`, more input, `stasis kill`.
2. `stasis restart` on a new terminal of another size: "restored from checkpoint",
   the prompt number after the checkpoint, the variables and the function, `%history`,
   up-arrow history (the line before is `%checkpoint --note first`).
3. `%restore` back and forth twice between two checkpoints, each time with its own
   variables and prompt number; `%restore` of an unknown id and of a damaged
   checkpoint: a message, the session goes on untouched.
4. Outside Stasis: `%load_ext stasis` and every magic say how to start it.

Usage: /usr/bin/python3 terminal_scenario.py [DIST]
"""

import os
import re
import shutil
import subprocess
import sys

import pexpect

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import REPO, Stasis, check, main, step, wait_for  # noqa: E402

UP = "\x1b[A"
CTRL_U = "\x15"
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


class Terminal:
    """An ipython3 (or stasis restart of one) in a pty of a given size."""

    def __init__(self, stasis: Stasis, argv: list, env: dict, size: tuple, log: str) -> None:
        self.child = pexpect.spawn(argv[0], argv[1:], env=env, encoding="utf-8", dimensions=size,
                                   timeout=60, codec_errors="replace")
        self.child.logfile_read = open(log, "a")
        stasis.children.append(self.child.pid)

    def prompt(self, number: int) -> str:
        """Waits for the prompt In [number]; returns the text before it, escapes removed."""
        self.child.expect(r"In \[%d\]:" % number)
        return ANSI.sub("", self.child.before)

    def run(self, line: str, next_prompt: int) -> str:
        """Types line + Enter and returns its output (escapes removed)."""
        self.child.send(line + "\r")
        return self.prompt(next_prompt)

    def drain(self, quiet: float) -> str:
        """What the terminal shows until it has been quiet for ``quiet`` seconds."""
        text = ""
        while True:
            try:
                text += self.child.read_nonblocking(4096, timeout=quiet)
            except pexpect.TIMEOUT:
                return text

    def expect(self, pattern: str) -> str:
        self.child.expect(pattern)
        return self.child.match.group(0)


def ipython_env(stasis: Stasis, ipdir: str) -> dict:
    env = dict(stasis.env)
    env.update(IPYTHONDIR=ipdir, TERM="xterm", PROMPT_TOOLKIT_NO_CPR="1")  # pexpect answers no CPR
    return env


def checkpoint_dir(stasis: Stasis, ckpt_id: str) -> str:
    for root, dirs, _ in os.walk(stasis.ckpt_dir):
        if ckpt_id in dirs:
            return os.path.join(root, ckpt_id)
    raise AssertionError("no directory for checkpoint " + ckpt_id)


def scenario() -> None:
    dist = sys.argv[1] if len(sys.argv) > 1 else None
    with Stasis("ipyterm", dist=dist) as stasis:
        ipdir = os.path.join(stasis.temp, "ipythondir")
        env = ipython_env(stasis, ipdir)
        log = os.path.join(stasis.temp, "terminal.log")
        try:
            run_terminal(stasis, env, log)
            outside(env)
        except Exception:
            with open(log, errors="replace") as f:
                sys.stdout.write("---- terminal output (last 4000 chars):\n" + ANSI.sub("", f.read())[-4000:] + "\n")
            raise


CONFIG = "# the profile as it was at the checkpoint\nc.TerminalInteractiveShell.confirm_exit = False\n"
SHOW_CONFIG = ("import os; p = get_ipython().profile_dir.location; "
               "print('config:', open(os.path.join(p, 'ipython_config.py')).read().splitlines()[0], os.path.isdir(p))")


def run_terminal(stasis: Stasis, env: dict, log: str) -> None:
    profile = os.path.join(env["IPYTHONDIR"], "profile_default")
    os.makedirs(profile)
    with open(os.path.join(profile, "ipython_config.py"), "w") as f:
        f.write(CONFIG)
    t = Terminal(stasis, stasis.launch_argv("/usr/bin/ipython3", "--colors=NoColor"), env, (24, 100), log)
    t.prompt(1)
    t.run("a = 6 * 7", 2)
    t.run("def sq(v): return v * v", 3)
    out = t.run("%checkpoint --note first", 4)
    m = re.search(r"checkpoint (\S+) at \d{4}-\d\d-\d\d \d\d:\d\d:\d\d", out)
    check(m is not None, "%checkpoint printed no id and time: " + out)
    first = m.group(1)
    step("checkpoint " + first)
    out = t.run("%sessions", 5)
    check(re.search(r"ID\s+TIME\s+NOTE\s+SIZE\s+INTACT", out) is not None and first in out and "first" in out
          and "yes" in out, "%sessions: " + out)
    t.run("b = 'after'", 6)
    stasis.kill()
    t.child.expect(pexpect.EOF)
    step("killed")
    with open(os.path.join(profile, "ipython_config.py"), "w") as f:
        f.write("# edited by the user after the checkpoint\n")
    os.remove(os.path.join(profile, "history.sqlite"))

    r = Terminal(stasis, stasis.restart_argv(checkpoint_dir(stasis, first)), env, (30, 120), log)
    r.expect("restored from checkpoint %s" % re.escape(first))
    r.prompt(4)
    step("prompt back")
    # up-arrow recalls the history database's lines (IPython's history is the profile's
    # file: it also holds what the original typed after the checkpoint, as it holds the
    # lines of concurrent sessions); the checkpoint's own line is among the last ones
    recalled = ""
    for _ in range(5):
        r.child.send(UP)
        recalled += ANSI.sub("", r.drain(0.7))
        if "checkpoint --note first" in recalled:
            break
    check("checkpoint --note first" in recalled, "up-arrow history: " + recalled)
    r.child.send(CTRL_U)                           # drop the recalled line
    r.drain(0.5)
    out = r.run("print('values', a, sq(a), 'b' in dir())", 5)
    check("values 42 1764 False" in out, "variables after restart: " + out)
    out = r.run("%history -n", 6)
    for n, line in ((1, "a = 6 * 7"), (2, "def sq(v): return v * v"), (3, "%checkpoint --note first"),
                    (4, "print('values'")):
        check(re.search(r"\b%d: %s" % (n, re.escape(line)), out) is not None, "%%history: " + out)
    check("not unique" not in out, "the restored session's history collided with the original's: " + out)
    out = r.run(SHOW_CONFIG, 7)
    check("config: # the profile as it was at the checkpoint True" in out, "the restored session's profile: " + out)
    with open(os.path.join(profile, "ipython_config.py")) as f:
        check(f.read() == "# edited by the user after the checkpoint\n", "the user's edit was overwritten")
    check(not os.path.exists(os.path.join(profile, "history.sqlite")),
          "the restored session wrote history into the user's profile")
    step("ipython-config: the restored session sees the checkpoint's profile; the user's edit and deletion stay")
    step("variables, history and up-arrow after restart")

    r.run("c = 'second'", 8)
    out = r.run("%checkpoint --note second", 9)
    second = re.search(r"checkpoint (\S+) at", out).group(1)
    shutil.rmtree(profile)                         # the user deletes the whole profile
    for _ in range(2):                             # back and forth, twice
        r.child.send("%%restore %s\r" % first)
        r.expect("restored from checkpoint %s" % re.escape(first))
        out = r.prompt(4)
        out = r.run("print('state', a, 'c' in dir())", 5)
        check("state 42 False" in out, "after %restore first: " + out)
        out = r.run(SHOW_CONFIG, 6)
        check("config: # the profile as it was at the checkpoint True" in out,
              "a deleted profile is served by the saved copy: " + out)
        r.child.send("%%restore %s\r" % second)
        r.expect("restored from checkpoint %s" % re.escape(second))
        r.prompt(9)
        out = r.run("print('state', a, c)", 10)
        check("state 42 second" in out, "after %restore second: " + out)
    check(not os.path.exists(profile), "the restored sessions recreated the deleted profile")
    step("restore back and forth twice; the deleted profile served by the saved copy")

    out = r.run("%restore nosuch-1", 11)
    check("cannot restore nosuch-1" in out and "unchanged" in out, "%restore of an unknown id: " + out)
    damaged = checkpoint_dir(stasis, first)
    with open(os.path.join(damaged, "manifest.json"), "r+") as f:
        f.seek(10)
        f.write("#garbage#")
    out = r.run("%restore " + first, 12)
    check("cannot restore " + first in out, "%restore of a damaged checkpoint: " + out)
    out = r.run("print('still', a, c)", 13)
    check("still 42 second" in out, "session after refused restores: " + out)
    out = r.run("print('completes', sorted(get_ipython().complete('', '%%restore %s')[1]))" % first[:-1], 14)
    check("completes ['%s']" % second in out, "tab completion of %%restore ids (the damaged %s not offered): %s"
          % (first, out))
    out = r.run("%stasis", 15)
    check("under Stasis: yes" in out and second in out, "%stasis: " + out)
    step("bad ids refused, session untouched")
    private = profile_restored(stasis, env["IPYTHONDIR"])
    r.child.send("exit\r")
    r.child.expect(pexpect.EOF)
    wait_for(lambda: not os.path.exists(private), "the private profile copy %s to go with the computation" % private, 30)
    step("ipython-config: profile restored into %s, removed at the end" % private)
    with open(log, errors="replace") as f:
        seen = f.read()
    for bad in ("readonly database", "Failed to open SQLite history", "not unique"):
        check(bad not in seen, "the terminal showed %r: restored sessions lost their history" % bad)
    step("history written by every restored session")


def profile_restored(stasis: Stasis, ipdir: str) -> str:
    """The ipython-config plugin saved the profile and restored it into a private
    directory of the runtime dir (mode 0700) that holds the checkpoint's files."""
    events = stasis.cli("events")
    profile = os.path.join(ipdir, "profile_default")
    check(re.search(r"restored %s into " % re.escape(profile), events) is not None,
          "no 'restored %s into' in stasis events:\n%s" % (profile, events))
    root = re.findall(r"restored \S+ into (\S+)", events)[-1]    # the running session's copy
    check(root.startswith(os.path.join(stasis.run_dir, "ipython-config") + "/"), "private copy outside the runtime dir: " + root)
    private = os.path.dirname(root)
    check(oct(os.stat(private).st_mode & 0o777) == oct(0o700), "mode of " + private)
    check(os.path.isfile(os.path.join(root, "history.sqlite")), "no history.sqlite in " + root)
    return private


def outside(env: dict) -> None:
    plain = {k: v for k, v in env.items() if not k.startswith("STASIS") and k not in ("PYTHONSTARTUP", "LD_PRELOAD")}
    plain["PYTHONPATH"] = os.path.join(REPO, "python")
    r = subprocess.run(["/usr/bin/ipython3", "--simple-prompt", "--colors=NoColor"], env=plain,
                       input="%load_ext stasis\n%checkpoint\n%sessions\n%restore x-1\n%stasis\n",
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True, timeout=120)
    check(r.stdout.count("not running under Stasis") == 4 and "stasis launch -- ipython3" in r.stdout,
          "outside Stasis: " + r.stdout)
    step("outside Stasis every magic says how to start it")


if __name__ == "__main__":
    main(scenario, "ipython_terminal")
