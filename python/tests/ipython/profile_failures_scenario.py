"""The profile's failure cases, ipython3 in a pty under Stasis (IPythonScenariosIT).

1. A file of the profile the coordinator cannot read (mode 000: "permission denied";
   as root the coordinator runs without CAP_DAC_OVERRIDE/CAP_DAC_READ_SEARCH, so mode
   000 stops it as it stops any user): `%checkpoint` prints one line naming the file,
   `stasis checkpoint` exits 1 with that one line, nothing is published, the session
   goes on; once the file is readable again `%checkpoint` works.
2. A restart that fails after the ipython-config plugin restored the profile into its
   private directory (`stasis restart` killed once its plan is ready): the private
   copy is removed at once, not when the coordinator stops; the next restart works.

Usage: /usr/bin/python3 profile_failures_scenario.py [DIST]
"""

import os
import re
import signal
import subprocess
import sys
import time

import pexpect

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import Stasis, check, main, step, wait_for  # noqa: E402
from terminal_scenario import ANSI, Terminal, ipython_env  # noqa: E402

# as root, mode 000 only stops a process without the capabilities that override it
NO_DAC = ["setpriv", "--bounding-set", "-dac_override,-dac_read_search",
          "--inh-caps", "-dac_override,-dac_read_search"]


def scenario() -> None:
    dist = sys.argv[1] if len(sys.argv) > 1 else None
    with Stasis("ipyfail", dist=dist, coordinator_prefix=NO_DAC if os.geteuid() == 0 else None) as stasis:
        ipdir = os.path.join(stasis.temp, "ipythondir")
        env = ipython_env(stasis, ipdir)
        log = os.path.join(stasis.temp, "terminal.log")
        try:
            checkpoint = unreadable_file(stasis, env, log)
            failed_restart(stasis, env, log, checkpoint)
        except Exception:
            with open(log, errors="replace") as f:
                sys.stdout.write("---- terminal output (last 4000 chars):\n" + ANSI.sub("", f.read())[-4000:] + "\n")
            raise


def published(stasis: Stasis) -> list:
    found = []
    for root, dirs, _ in os.walk(stasis.ckpt_dir):
        found += [d for d in dirs if os.path.isfile(os.path.join(root, d, "manifest.json"))]
    return found


def unreadable_file(stasis: Stasis, env: dict, log: str) -> str:
    profile = os.path.join(env["IPYTHONDIR"], "profile_default")
    os.makedirs(profile)
    with open(os.path.join(profile, "ipython_config.py"), "w") as f:
        f.write("c.TerminalInteractiveShell.confirm_exit = False\n")
    secret = os.path.join(profile, "notes.txt")
    with open(secret, "w") as f:
        f.write("not for the coordinator\n")
    os.chmod(secret, 0)
    t = Terminal(stasis, stasis.launch_argv("/usr/bin/ipython3", "--colors=NoColor"), env, (24, 160), log)
    t.prompt(1)
    t.run("a = 6 * 7", 2)
    out = t.run("%checkpoint", 3)
    lines = [line.strip() for line in out.splitlines() if line.strip() and "%checkpoint" not in line]
    check(len(lines) == 1 and lines[0].startswith("stasis: checkpoint failed:") and secret in lines[0]
          and "cannot read" in lines[0], "%%checkpoint did not refuse with one line naming the file: %r" % out)
    step("%checkpoint refused: " + lines[0])
    r = subprocess.run([stasis.stasis, "checkpoint", "--name", stasis.name], env=stasis.env, stdin=subprocess.DEVNULL,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True, timeout=120)
    errors = [line for line in r.stderr.splitlines() if line.strip()]
    check(r.returncode == 1 and len(errors) == 1 and secret in errors[0],
          "stasis checkpoint: exit %d, stderr %r" % (r.returncode, r.stderr))
    step("stasis checkpoint refused: exit 1: " + errors[0])
    check(published(stasis) == [], "a refused checkpoint was published: %s" % published(stasis))
    out = t.run("print(a + 1)", 4)
    check("43" in out, "the session did not go on after the refused checkpoint: " + out)
    os.chmod(secret, 0o600)
    out = t.run("%checkpoint", 5)
    m = re.search(r"checkpoint (\S+) at ", out)
    check(m is not None, "%checkpoint failed with the file readable again: " + out)
    step("readable again: checkpoint " + m.group(1))
    t.run("b = 'after'", 6)
    stasis.kill()
    t.child.expect(pexpect.EOF)
    return find(stasis, m.group(1))


def find(stasis: Stasis, ckpt_id: str) -> str:
    for root, dirs, _ in os.walk(stasis.ckpt_dir):
        if ckpt_id in dirs:
            return os.path.join(root, ckpt_id)
    raise AssertionError("no directory for checkpoint " + ckpt_id)


def private_copies(stasis: Stasis) -> list:
    base = os.path.join(stasis.run_dir, "ipython-config")
    return sorted(os.listdir(base)) if os.path.isdir(base) else []


def restart_to_its_plan(stasis: Stasis, checkpoint: str) -> subprocess.Popen:
    """A restart, caught once its plan is ready (before its processes run again). A restart of
    this small session takes a fraction of a second: the plan is looked for every 2 ms, and a
    restart that got through before it was seen is tried again (it ends by itself: the
    restored session reads end of file)."""
    said = os.path.join(stasis.temp, "failed-restart.txt")
    for attempt in range(1, 6):
        with open(said, "wb") as out:
            restart = stasis.popen(stasis.restart_argv(checkpoint), stdin=subprocess.DEVNULL, stdout=out, stderr=out)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and restart.poll() is None:
            if any(n.endswith(".plan") for n in os.listdir(stasis.run_dir)):
                return restart
            time.sleep(0.002)
        if restart.poll() is None:
            break
        step("restart attempt %d got through before its plan was seen (exit %s)" % (attempt, restart.returncode))
        restart.wait()
    with open(said, errors="replace") as f:
        raise AssertionError("no restart plan seen; the restart said: %s; events: %s"
                             % (f.read()[-2000:], stasis.cli("events", ok=False)[-3000:]))


def failed_restart(stasis: Stasis, env: dict, log: str, checkpoint: str) -> None:
    restart = restart_to_its_plan(stasis, checkpoint)
    check(private_copies(stasis) != [], "no private copy of the profile during the restart")
    os.killpg(restart.pid, signal.SIGKILL)       # the restart fails between restart and resume
    restart.wait()
    step("restart killed once its plan was ready; private copies: %s" % private_copies(stasis))
    wait_for(lambda: private_copies(stasis) == [], "the failed restart's private copy to go: %s"
             % private_copies(stasis), limit=10)
    step("the failed restart's private copy is gone")
    started = time.monotonic()
    t = Terminal(stasis, stasis.restart_argv(checkpoint), env, (24, 160), log)
    t.child.expect("restored from checkpoint")
    t.prompt(5)
    out = t.run("print(a, len(_ih))", 6)
    check("42" in out, "the restored session lost its variables: " + out)
    check(len(private_copies(stasis)) == 1, "the restart has no private copy: %s" % private_copies(stasis))
    step("restarted after the failed one in %.1f s" % (time.monotonic() - started))
    stasis.kill()
    t.child.expect(pexpect.EOF)


if __name__ == "__main__":
    main(scenario, "ipython_profile_failures")
