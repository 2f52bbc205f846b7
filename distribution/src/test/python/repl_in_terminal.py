#!/usr/bin/env python3
"""Scenario: an interactive Python REPL in a pseudo-terminal, driven like a person.

usage: repl_in_terminal.py STASIS COORDINATOR_NAME

Types into `stasis launch -- python3 -i` in a fresh pty: 200 MiB of random bytes, a
SHA-256 of them, two counting threads. Checkpoints it at the prompt, kills it, and
restarts it in another fresh pty (a new terminal, as after a reboot), three
generations. After each restart it types at the prompt and checks that the data, the
digest and the threads survived and that the terminal still echoes what is typed.
Exits 0 only if everything held; prints the transcript otherwise."""
import os
import pty
import select
import signal
import subprocess
import sys
import time

STASIS, NAME = sys.argv[1], sys.argv[2]
transcript = []


class Terminal:
    """A program running in a new pseudo-terminal of 40x120."""

    def __init__(self, argv):
        self.pid, self.fd = pty.fork()
        if self.pid == 0:
            os.execvp(argv[0], argv)
        import fcntl, struct, termios
        fcntl.ioctl(self.fd, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
        self.buffer = b""

    def read_until(self, marker, timeout=60):
        deadline = time.time() + timeout
        while marker.encode() not in self.buffer:
            left = deadline - time.time()
            if left <= 0:
                raise TimeoutError("no %r on the terminal; it shows:\n%s" % (marker, self.buffer.decode(errors="replace")))
            ready, _, _ = select.select([self.fd], [], [], left)
            if ready:
                try:
                    chunk = os.read(self.fd, 65536)
                except OSError:
                    chunk = b""
                if not chunk:
                    raise EOFError("the terminal closed; it showed:\n" + self.buffer.decode(errors="replace"))
                self.buffer += chunk
                transcript.append(chunk.decode(errors="replace"))
        before, _, after = self.buffer.partition(marker.encode())
        self.buffer = after
        return before.decode(errors="replace")

    def type(self, line):
        for ch in line + "\r":                  # a person types, then presses Enter
            os.write(self.fd, ch.encode())
            time.sleep(0.002)

    def wait(self, timeout=30):
        deadline = time.time() + timeout
        while time.time() < deadline:
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                return os.waitstatus_to_exitcode(status)
            try:
                ready, _, _ = select.select([self.fd], [], [], 0.1)
                if ready:
                    transcript.append(os.read(self.fd, 65536).decode(errors="replace"))
            except OSError:
                time.sleep(0.1)
        raise TimeoutError("the program in the terminal did not exit")

    def kill(self):
        try:
            os.kill(self.pid, signal.SIGKILL)
            os.waitpid(self.pid, 0)
        except (ProcessLookupError, ChildProcessError):
            pass


def stasis(*args):
    result = subprocess.run([STASIS, *args, "--name", NAME], capture_output=True, text=True, timeout=120)
    if result.returncode != 0:
        raise RuntimeError("stasis %s failed: %s" % (" ".join(args), result.stderr.strip()))
    return result.stdout


def main():
    term = Terminal([STASIS, "launch", "--name", NAME, "--", sys.executable, "-q", "-i"])
    terminals = [term]
    try:
        term.read_until(">>> ")
        for line in ["import hashlib, os, threading, time",
                     "data = os.urandom(200 << 20); digest = hashlib.sha256(data).hexdigest()",
                     "counts = [0, 0]",
                     "def count(i):\n    while True:\n        counts[i] += 1; time.sleep(0.005)\n",
                     "threads = [threading.Thread(target=count, args=(i,), daemon=True) for i in (0, 1)]",
                     "[t.start() for t in threads] and print('READY')"]:
            term.type(line)
            term.read_until(">>> ", timeout=120)
        term.type("print('PID', os.getpid())")
        term.read_until("PID ")
        pid = term.read_until("\n").strip()
        term.read_until(">>> ")
        for generation in (1, 2):
            checkpoint = stasis("checkpoint").strip().splitlines()[-1]
            stasis("kill")
            term.wait()
            term = Terminal([STASIS, "restart", "--name", NAME, checkpoint])
            terminals.append(term)
            time.sleep(0.5)
            term.type("")                       # a fresh prompt on the new terminal
            term.read_until(">>> ")
            term.type("print('CHECK', %d, hashlib.sha256(data).hexdigest() == digest, counts[0] > 0, os.getpid())"
                      % generation)
            term.read_until("CHECK %d " % generation)
            answer = term.read_until("\n").strip()
            if answer != "True True %s" % pid:
                raise AssertionError("generation %d: expected 'True True %s', got %r" % (generation, pid, answer))
            term.read_until(">>> ")
        term.type("exit(7)")
        status = term.wait()
        if status != 7:
            raise AssertionError("the restarted REPL's exit status reached stasis restart as %s, not 7" % status)
        print("OK repl in terminal: 2 restarts, data, threads and pid %s kept" % pid)
        return 0
    except Exception as e:
        print("FAIL", e)
        print("---- transcript ----")
        print("".join(transcript)[-4000:])
        return 1
    finally:
        for t in terminals:
            t.kill()


if __name__ == "__main__":
    sys.exit(main())
