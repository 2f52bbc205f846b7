"""The front end's line to the debuggee: a pseudo-terminal it owns, and the markers."""
import fcntl
import json
import os
import select
import subprocess
import termios
import pty
from typing import Any, Callable, Dict, List, Optional

MARK_START = b"\x1b]fred;"
MARK_END = b"\x07"


class Ended(Exception):
    """The debuggee's side of the terminal closed: the computation ended."""


def _quiet(fd: int) -> None:
    attrs = termios.tcgetattr(fd)
    attrs[1] &= ~termios.OPOST  # bytes pass unchanged; the user's terminal translates
    attrs[3] &= ~termios.ECHO  # the front end shows what the user typed, once
    termios.tcsetattr(fd, termios.TCSANOW, attrs)


def _take_terminal() -> None:
    fcntl.ioctl(0, termios.TIOCSCTTY, 0)


class Link:
    """One run of the debuggee (stasis launch or stasis restart) on a fresh pty."""

    def __init__(self, argv: List[str], env: Optional[Dict[str, str]] = None) -> None:
        self.master, slave = pty.openpty()
        _quiet(slave)
        self.proc = subprocess.Popen(argv, stdin=slave, stdout=slave, stderr=slave, env=env,
                                     start_new_session=True, preexec_fn=_take_terminal)
        os.close(slave)
        self.buf = b""

    def send(self, data: bytes) -> None:
        os.write(self.master, data)

    def interrupt(self) -> None:
        os.write(self.master, b"\x03")

    def _fill(self, user_fd: Optional[int], on_input: Optional[Callable[[bytes], Any]]) -> None:
        fds = [self.master] + ([user_fd] if user_fd is not None else [])
        ready, _, _ = select.select(fds, [], [])
        if user_fd is not None and user_fd in ready:
            data = os.read(user_fd, 4096)
            data = data or b"\x04"  # end of file typed by the user: the program's input ends
            self.send(data)
            if on_input is not None:
                on_input(data)
        if self.master in ready:
            try:
                data = os.read(self.master, 65536)
            except OSError:
                data = b""
            if not data:
                raise Ended()
            self.buf += data

    def until_mark(self, sink: Optional[Callable[[bytes], Any]] = None, user_fd: Optional[int] = None,
                   on_input: Optional[Callable[[bytes], Any]] = None) -> Dict[str, Any]:
        """Relays output to sink (None: drops it) until the next marker; returns it."""
        while True:
            start = self.buf.find(MARK_START)
            if start >= 0:
                end = self.buf.find(MARK_END, start)
                if end >= 0:
                    self._emit(sink, self.buf[:start])
                    info: Dict[str, Any] = json.loads(self.buf[start + len(MARK_START):end])
                    self.buf = self.buf[end + 1:]
                    return info
                self._emit(sink, self.buf[:start])
                self.buf = self.buf[start:]
            else:
                keep = _partial_mark(self.buf)
                self._emit(sink, self.buf[:len(self.buf) - keep])
                self.buf = self.buf[len(self.buf) - keep:]
            self._fill(user_fd, on_input)

    @staticmethod
    def _emit(sink: Optional[Callable[[bytes], Any]], data: bytes) -> None:
        if sink is not None and data:
            sink(data)

    def close(self, timeout: float = 10) -> None:
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        try:
            os.close(self.master)
        except OSError:
            pass


def _partial_mark(buf: bytes) -> int:
    """How many bytes at the end of buf could begin a marker."""
    for keep in range(min(len(MARK_START) - 1, len(buf)), 0, -1):
        if MARK_START.startswith(buf[-keep:]):
            return keep
    return 0
