"""FReD end to end: real pdb sessions under `python3 -m stasis.fred`, driven through a pty.

Usage: fred_test.py [SCENARIO...]   (needs STASIS_HOME or a built dist/; prints OK/FAIL lines,
exits 0 only if every scenario passed). Run by FredIT in mvn verify.
"""
import fcntl
import os
import pty
import re
import select
import signal
import subprocess
import sys
import termios
import time

HERE = os.path.dirname(os.path.abspath(__file__))
PYTHON_DIR = os.path.abspath(os.path.join(HERE, "..", ".."))
PROMPT = "(Pdb) "


class Failed(Exception):
    pass


def _ctty():
    fcntl.ioctl(0, termios.TIOCSCTTY, 0)


class Fred:
    """One FReD session on a pseudo-terminal, like a user at a terminal."""

    def __init__(self, prog, *args, env=None, command=None):
        self.master, slave = pty.openpty()
        attrs = termios.tcgetattr(slave)
        attrs[3] &= ~termios.ECHO
        termios.tcsetattr(slave, termios.TCSANOW, attrs)
        environ = dict(os.environ, PYTHONPATH=PYTHON_DIR, **(env or {}))
        command = command or [sys.executable, "-m", "stasis.fred"]
        self.proc = subprocess.Popen([*command, os.path.join(HERE, prog), *args],
                                     stdin=slave, stdout=slave, stderr=slave, env=environ,
                                     start_new_session=True, preexec_fn=_ctty)
        os.close(slave)
        self.log = []
        self.first = self.until_prompt()

    def until_prompt(self, timeout=180):
        buf, deadline = "", time.monotonic() + timeout
        while not buf.endswith(PROMPT):
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self.master], [], [], left)[0]:
                raise Failed("no prompt after %ds; output so far:\n%s" % (timeout, buf))
            try:
                data = os.read(self.master, 65536)
            except OSError:
                data = b""
            if not data:
                try:
                    status = self.proc.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    status = "still running"
                raise Failed("FReD ended (exit status %s); output:\n%s\nsession so far:\n%s"
                             % (status, buf, "".join(self.log[-12:])))
            buf += data.decode(errors="replace").replace("\r", "")
        out = buf[:-len(PROMPT)]
        self.log.append(out)
        return out

    def do(self, line):
        self.log.append(PROMPT + line + "\n")
        os.write(self.master, line.encode() + b"\n")
        return self.until_prompt()

    def value(self, expr):
        return self.do("p " + expr).strip().splitlines()[-1]

    def expect(self, expr, want):
        got = self.value(expr)
        if got != str(want):
            raise Failed("p %s gave %s, expected %s" % (expr, got, want))

    def at(self, out, line, func=None):
        m = re.search(r"\((\d+)\)(\w+|<module>)\(\)", out)
        if not m or int(m.group(1)) != line or (func and m.group(2) != func):
            raise Failed("expected to be at line %s %s, FReD showed:\n%s" % (line, func or "", out))

    def close(self):
        try:
            os.write(self.master, b"q\n")
            self.proc.wait(60)
        except (OSError, subprocess.TimeoutExpired):
            self.proc.send_signal(signal.SIGTERM)
            self.proc.wait(30)
        os.close(self.master)


def autocount(binary):
    env = {"FRED_SCAN_LIMIT": "0"} if binary else {}
    f = Fred("autocount.py", env=env)
    try:
        for _ in range(3):
            f.do("n")
        f.do("b 17")
        f.do("c")
        f.expect("num", 20)
        out = f.do("rw num < 5")
        if "is true here" not in out:
            raise Failed("reverse-watch did not land:\n" + out)
        f.expect("num", 4)
        f.do("n")
        f.expect("num", 5)
        f.do("c")  # forward again: the same results
        f.expect("num", 20)
        f.expect("total", 210)
        hist = f.do("fred-history")
        if "not rolled back" not in hist:
            raise Failed("fred-history does not say files are not rolled back:\n" + hist)
    finally:
        f.close()


def linked_list():
    f = Fred("linkedlist.py")
    try:
        f.do("until 19")
        f.do("b 21")
        f.do("c")
        f.expect("length(head)", 18)
        out = f.do("rw length(head) <= 10")
        if "grow()" not in out:
            raise Failed("reverse-watch should land in the helper grow():\n" + out)
        f.expect("length(head)", 10)
        f.do("n")
        f.expect("length(head)", 11)
    finally:
        f.close()


def step_back_into():
    f = Fred("recursion.py")
    try:
        for _ in range(4):
            out = f.do("n")
        f.at(out, 19)
        out = f.do("rs")
        f.at(out, 15, "buggy")
        f.expect("result", -6)
        f.do("b 6")
        f.do("c")
        f.expect("n", 1)
        out = f.do("rf")
        f.at(out, 7, "fact")
        f.expect("n", 2)
        out = f.do("rf")
        f.expect("n", 3)
        f.do("c")
        f.expect("n", 1)  # forward again reaches the same breakpoint
    finally:
        f.close()


def reverse_continue():
    f = Fred("autocount.py")
    try:
        f.do("b 13")
        for _ in range(3):
            f.do("c")
        f.expect("num", 2)
        f.do("rc")
        f.expect("num", 1)
        f.do("rc")
        f.expect("num", 0)
        out = f.do("rc")
        if "at the start of the recorded history" not in out:
            raise Failed("rc before the first hit:\n" + out)
        f.expect("num", 0)
        f.do("undo")  # undoes the last reverse-continue that moved
        f.expect("num", 1)
        f.do("c")
        f.expect("num", 2)
    finally:
        f.close()


def undo():
    f = Fred("autocount.py")
    try:
        for _ in range(3):
            f.do("n")
        f.do("b 13")
        f.do("c")
        f.do("c")
        f.expect("num", 1)
        out = f.do("undo")  # after continue
        f.at(out, 13)
        f.expect("num", 0)
        out = f.do("s")
        f.at(out, 8, "bump")
        out = f.do("undo")  # after step
        f.at(out, 13, "<module>")
        f.do("c")
        f.expect("num", 1)  # forward again: the same result
        out = f.do("undo")  # three in a row
        f.at(out, 13)
        out = f.do("undo")
        f.at(out, 5)
        out = f.do("undo")
        f.at(out, 5)
    finally:
        f.close()


def threads():
    f = Fred("threads.py")
    try:
        f.do("until 20")
        f.expect("count", 3)
        f.do("n")
        f.expect("count", 6)
        f.do("rn")
        f.expect("count", 3)
        f.expect("sorted(results)", [0, 499500, 1999000])
        f.do("n")
        f.expect("count", 6)
    finally:
        f.close()


def bad_input():
    f = Fred("autocount.py")
    try:
        for cmd in ("rs", "rn", "undo"):
            out = f.do(cmd)
            if "at the start of the recorded history" not in out:
                raise Failed("%s at the start:\n%s" % (cmd, out))
        f.do("n")
        f.do("n")
        f.do("n")
        out = f.do("rw num <")
        if "syntax error" not in out:
            raise Failed("rw syntax error:\n" + out)
        out = f.do("rw num == 0")
        if "true now" not in out:
            raise Failed("rw true now:\n" + out)
        f.at(f.do("fred_show"), 5)
    finally:
        f.close()


def divergence():
    f = Fred("unseeded.py")
    try:
        f.do("b 7")
        f.do("c")
        for _ in range(5):  # one replay may draw the same number by chance (1 in 50)
            f.do("n")
            out = f.do("undo")  # replays the continue: the loop ends elsewhere
            if "diverged" in out:
                return
        raise Failed("replay of a program that reads os.urandom never reported divergence:\n" + out)
    finally:
        f.close()


SCENARIOS = {
    "autocount_binary_search": lambda: autocount(True),
    "autocount": lambda: autocount(False),
    "linked_list": linked_list,
    "step_back_into": step_back_into,
    "reverse_continue": reverse_continue,
    "undo": undo,
    "threads": threads,
    "bad_input": bad_input,
    "divergence": divergence,
}


def main(names):
    failed = 0
    for name in names or SCENARIOS:
        started = time.monotonic()
        try:
            SCENARIOS[name]()
            print("OK %s (%.1f s)" % (name, time.monotonic() - started), flush=True)
        except Exception as exc:  # one scenario's failure must not hide the others
            failed += 1
            print("FAIL %s: %s" % (name, exc), flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
