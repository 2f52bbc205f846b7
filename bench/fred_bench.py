#!/usr/bin/env python3
"""FReD figures (issue #13): reverse-next and undo on a 100 MiB program, reverse-watch over
10^5 executed statements, forward stepping under FReD against plain pdb.

Usage: STASIS_HOME=dist python3 bench/fred_bench.py [--mib M] [--statements N]
Prints one line per figure. Not a test: nothing is asserted.
"""
import argparse
import os
import pty
import subprocess
import sys
import tempfile
import termios
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(REPO, "python"))
from stasis.fred.session import Session  # noqa: E402
from stasis.fred import commands  # noqa: E402

PROGRAM = '''import os, sys
ballast = os.urandom(int(sys.argv[1]) << 20)
n = int(sys.argv[2])
x = 0
i = 0
while i < n:
    x = x + 1
    i += 1
print("end", x)
'''


def timed(fn, *args):
    start = time.monotonic()
    fn(*args)
    return time.monotonic() - start


def session(prog, mib, n):
    s = Session(sys.executable, [prog, str(mib), str(n)], out=open(os.devnull, "wb"))
    s.start()
    return s


def reverse_figures(prog, mib, samples=5):
    """Median of `samples` undos and reverse-nexts, each from a checkpoint taken just
    before (as FReD's periodic ones are): its image is not in the page cache yet."""
    s = session(prog, mib, 10 * samples)
    try:
        undo, rn, ckpt = [], [], []
        for _ in range(samples):
            s.forward("n")
            ckpt.append(timed(s.checkpoint, True))
            s.forward("n")
            s.forward("n")
            undo.append(timed(commands.undo, s, ""))
            rn.append(timed(commands.reverse, s, "rn", "reverse-next"))
            s.forward("n")
            s.forward("n")
        print("%d MiB program, median of %d: undo %.2f s (%.2f-%.2f), reverse-next %.2f s (%.2f-%.2f), "
              "checkpoint %.2f s" % (mib, samples, median(undo), min(undo), max(undo), median(rn), min(rn),
                                     max(rn), median(ckpt)), flush=True)
    finally:
        s.close()


def median(values):
    return sorted(values)[len(values) // 2]


def watch_figure(prog, n):
    s = session(prog, 0, n)
    try:
        for _ in range(5):
            s.forward("n")
        s.forward("b 9")
        s.forward("c")
        events = s.pos["seq"] - s.ckpts[0].pos["seq"]
        took = timed(commands.reverse_watch, s, "x < %d" % (n // 3))
        print("reverse-watch over %d executed events (%d loop statements): %.2f s"
              % (events, n, took), flush=True)
    finally:
        s.close()


def pdb_time(prog, n):
    cmds = "b 9\nc\nq\n"
    start = time.monotonic()
    subprocess.run([sys.executable, "-m", "pdb", prog, "0", str(n)], input=cmds.encode(),
                   stdout=subprocess.DEVNULL, check=False)
    return time.monotonic() - start


def pdb_step_latency(prog, steps, pause, terminal=False):
    """Plain pdb over a pipe, or on a pseudo-terminal as a person at a terminal runs it
    (and as FReD runs its debuggee): seconds from sending 'n' to the next prompt, median."""
    if terminal:
        master, slave = pty.openpty()
        attrs = termios.tcgetattr(slave)
        attrs[3] &= ~termios.ECHO
        termios.tcsetattr(slave, termios.TCSANOW, attrs)
        proc = subprocess.Popen([sys.executable, "-m", "pdb", prog, "0", "100000"], stdin=slave, stdout=slave,
                                stderr=slave, start_new_session=True)
        os.close(slave)
        read, write = (lambda: os.read(master, 4096)), (lambda b: os.write(master, b))
    else:
        proc = subprocess.Popen([sys.executable, "-u", "-m", "pdb", prog, "0", "100000"], stdin=subprocess.PIPE,
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, bufsize=0)
        read, write = (lambda: proc.stdout.read(1)), proc.stdin.write

    def prompt():
        buf = b""
        while not buf.endswith(b"(Pdb) "):
            chunk = read()
            if not chunk:
                raise RuntimeError("pdb ended")
            buf += chunk
    try:
        prompt()
        times = []
        for _ in range(steps):
            time.sleep(pause)
            start = time.monotonic()
            write(b"n\n")
            prompt()
            times.append(time.monotonic() - start)
        return sorted(times)[len(times) // 2]
    finally:
        proc.kill()
        proc.wait()
        if terminal:
            os.close(master)


def step_figure(prog, steps=30, pause=0.3):
    """What a person stepping sees: the time from a command to its prompt, with a pause
    between commands (FReD checkpoints in the pause, while the person reads)."""
    piped = pdb_step_latency(prog, steps, pause)
    plain = pdb_step_latency(prog, steps, pause, terminal=True)
    s = session(prog, 0, 100000)
    try:
        times = []
        for _ in range(steps):
            time.sleep(pause)
            times.append(timed(s.forward, "n"))
        fred = sorted(times)[len(times) // 2]
        print("'next' to prompt with %.1f s between steps (median of %d): plain pdb on a terminal %.1f ms "
              "(over a pipe %.1f ms), FReD %.1f ms (%+.0f%% over pdb on a terminal; %d checkpoints taken meanwhile)"
              % (pause, steps, plain * 1000, piped * 1000, fred * 1000, 100.0 * (fred - plain) / plain,
                 len(s.ckpts) - 1), flush=True)
    finally:
        s.close()


def forward_figure(prog, n, runs=3):
    """Median of `runs` each: a `continue` to a breakpoint after n loop statements, under
    plain pdb (its start-up subtracted) and under FReD."""
    plain, fred, step = [], [], []
    for _ in range(runs):
        plain.append(pdb_time(prog, n) - pdb_time(prog, 0))
        s = session(prog, 0, n)
        try:
            s.forward("b 9")
            fred.append(timed(s.forward, "c"))
            step.append(timed(lambda: [s.forward("n") for _ in range(20)]) / 20)
        finally:
            s.close()
    plain, fred = median(plain), median(fred)
    print("continue over %d loop statements, median of %d: plain pdb %.2f s, FReD %.2f s (%+.0f%%); one "
          "'next' under FReD %.3f s" % (n, runs, plain, fred, 100.0 * (fred - plain) / max(plain, 1e-9),
                                        median(step)), flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mib", type=int, default=100)
    parser.add_argument("--statements", type=int, default=50000)
    opts = parser.parse_args()
    print("load average %.2f %.2f %.2f" % os.getloadavg(), flush=True)
    with tempfile.TemporaryDirectory(prefix="fred-bench-") as tmp:
        prog = os.path.join(tmp, "prog.py")
        with open(prog, "w") as f:
            f.write(PROGRAM)
        reverse_figures(prog, opts.mib)
        watch_figure(prog, opts.statements)
        forward_figure(prog, opts.statements)
        step_figure(prog)


if __name__ == "__main__":
    main()
