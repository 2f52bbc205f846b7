"""Pseudo-terminals inside the computation; every round checks their state.

Usage: py_pty.py MODE [ROUNDS]
  script  a parent holds the master; its child is a session leader with the slave as
          controlling terminal (fds 0-2, echo off, a window size, an interrupt
          character of its own) and answers commands like a small shell. The parent
          keeps commands and answers in flight (one command is sent in two pieces:
          a partial line sits in the terminal) and checks every answer arrives once,
          in order. The child checks /dev/tty (opened anew and an fd on it held
          since the start), its foreground group, its settings.
  two     one process with two ptys: A raw with a window size and its slave locked,
          B canonical with echo off and its master in packet mode; one line is in
          flight in each direction at any time.
  closed  a master whose slave is closed: it reads EIO; another one still holds
          bytes the slave wrote before it closed, read at the end, then EIO.
Prints "progress N" per round and "OK <mode> <rounds>" at the end (exit 0), or
"FAIL <reason>" (exit 1).
"""
import errno
import fcntl
import os
import pty
import select
import struct
import sys
import termios
import time
import tty

TIOCGPTN = 0x80045430
TIOCSPTLCK = 0x40045431
TIOCGPTLCK = 0x80045439
TIOCPKT = 0x5420
TIOCGPKT = 0x80045438
WINDOW_A = (37, 111)
WINDOW_CHILD = (24, 91)
VINTR_CHILD = 0x07


def fail(reason):
    print("FAIL %s" % reason, flush=True)
    os._exit(1)


def window(fd):
    return struct.unpack("HHHH", fcntl.ioctl(fd, termios.TIOCGWINSZ, b"\0" * 8))[:2]


def set_window(fd, rows_cols):
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows_cols[0], rows_cols[1], 0, 0))


def get_int(fd, request):
    return struct.unpack("i", fcntl.ioctl(fd, request, b"\0" * 4))[0]


def read_until(fd, want, timeout=20):
    """bytes from fd until `want` complete lines came (a line ends with \\n)"""
    data = b""
    deadline = time.time() + timeout
    while data.count(b"\n") < want:
        if time.time() > deadline:
            fail("timeout reading fd %d, got %r" % (fd, data[-80:]))
        if select.select([fd], [], [], 0.5)[0]:
            chunk = os.read(fd, 4096)
            if not chunk:
                fail("EOF on fd %d" % fd)
            data += chunk
    return data


# ---------------- script: parent + session leader child ----------------
HELD_TTY = -1


def child_shell():
    attrs = termios.tcgetattr(0)
    attrs[3] &= ~termios.ECHO
    attrs[6][termios.VINTR] = bytes([VINTR_CHILD])
    termios.tcsetattr(0, termios.TCSANOW, attrs)
    set_window(0, WINDOW_CHILD)
    global HELD_TTY
    HELD_TTY = os.open("/dev/tty", os.O_RDWR)     # kept open: /dev/tty held across restarts
    os.write(1, b"ready\n")
    for line in sys.stdin:
        words = line.split()
        if words == ["exit"]:
            os._exit(0)
        time.sleep(0.03)        # commands pile up in the terminal meanwhile
        os.write(1, ("answer %s %s\n" % (words[1], child_checks())).encode())
    os._exit(2)


def child_checks():
    problems = []
    try:
        fd = os.open("/dev/tty", os.O_RDWR)
        if os.tcgetpgrp(fd) != os.getpgrp():
            problems.append("fg=%d" % os.tcgetpgrp(fd))
        os.close(fd)
    except OSError as e:
        problems.append("/dev/tty:%s" % errno.errorcode.get(e.errno, e.errno))
    try:
        if termios.tcgetattr(HELD_TTY) != termios.tcgetattr(0) or os.tcgetpgrp(HELD_TTY) != os.getpgrp():
            problems.append("held-/dev/tty-differs")
    except OSError as e:
        problems.append("held-/dev/tty:%s" % errno.errorcode.get(e.errno, e.errno))
    if os.getsid(0) != os.getpid():
        problems.append("not-a-session-leader")
    attrs = termios.tcgetattr(0)
    if attrs[3] & termios.ECHO:
        problems.append("echo-on")
    if attrs[6][termios.VINTR] != bytes([VINTR_CHILD]):
        problems.append("vintr=%r" % attrs[6][termios.VINTR])
    if window(0) != WINDOW_CHILD:
        problems.append("window=%s" % (window(0),))
    try:
        if not os.ttyname(0).startswith("/dev/pts/"):
            problems.append("ttyname=%s" % os.ttyname(0))
    except OSError as e:
        problems.append("ttyname:%s" % e)
    return ",".join(problems) or "ok"


def script(rounds):
    pid, master = pty.fork()
    if pid == 0:
        child_shell()
    got = read_until(master, 1)
    if got.replace(b"\r", b"") != b"ready\n":
        fail("child said %r" % got)
    pending = b""
    sent = 0
    for n in range(rounds):
        while sent < n + 3:     # three commands ahead: some are still in the terminal at a checkpoint
            os.write(master, b"cmd %d" % sent)
            time.sleep(0.005)
            os.write(master, b"\n")
            sent += 1
        pending += read_until(master, 1)
        line, pending = pending.split(b"\n", 1)
        line = line.replace(b"\r", b"").decode()
        if line != "answer %d ok" % n:
            fail("round %d: the child answered %r" % (n, line))
        print("progress %d" % n, flush=True)
        time.sleep(0.02)
    while pending.count(b"\n") < sent - rounds:
        pending += read_until(master, 1)
    os.write(master, b"exit\n")
    _, status = os.waitpid(pid, 0)
    if status != 0:
        fail("child status %d" % status)
    expect_eio(master, "after the child ended")
    print("OK script %d" % rounds, flush=True)


def expect_eio(master, when):
    try:
        while os.read(master, 4096):
            pass
        fail("master read EOF instead of EIO %s" % when)
    except OSError as e:
        if e.errno != errno.EIO:
            fail("master read %s %s" % (errno.errorcode.get(e.errno), when))


# ---------------- two: two ptys in one process ----------------
def two(rounds):
    ma, sa = os.openpty()
    mb, sb = os.openpty()
    tty.setraw(sa)
    set_window(ma, WINDOW_A)
    attrs = termios.tcgetattr(sb)
    attrs[3] &= ~termios.ECHO
    termios.tcsetattr(sb, termios.TCSANOW, attrs)
    fcntl.ioctl(mb, TIOCPKT, struct.pack("i", 1))
    fcntl.ioctl(ma, TIOCSPTLCK, struct.pack("i", 1))
    os.write(ma, b"a-in 0\n")          # one line in flight in each direction
    os.write(sb, b"b-out 0\n")
    for n in range(rounds):
        check_two(ma, sa, mb, sb, n)
        got = read_until(sa, 1)
        if got != b"a-in %d\n" % n:
            fail("round %d: slave A read %r" % (n, got))
        got = read_packets(mb)
        if got != b"b-out %d\r\n" % n:
            fail("round %d: master B (packet mode) read %r" % (n, got))
        os.write(ma, b"a-in %d\n" % (n + 1))
        os.write(sb, b"b-out %d\n" % (n + 1))
        print("progress %d" % n, flush=True)
        time.sleep(0.03)
    print("OK two %d" % rounds, flush=True)


def read_packets(master):
    """one line from a master in packet mode: every read starts with a status byte 0"""
    data = b""
    while not data.endswith(b"\n"):
        packet = read_until_any(master)
        if packet[:1] != b"\0":
            fail("packet mode read %r" % packet)
        data += packet[1:]
    return data


def read_until_any(fd):
    if not select.select([fd], [], [], 20)[0]:
        fail("timeout reading fd %d" % fd)
    return os.read(fd, 4096)


def check_two(ma, sa, mb, sb, n):
    if window(sa) != WINDOW_A:
        fail("round %d: window A %s" % (n, window(sa)))
    a = termios.tcgetattr(sa)
    if a[3] & (termios.ICANON | termios.ECHO) or a[1] & termios.OPOST:
        fail("round %d: A is no longer raw" % n)
    if termios.tcgetattr(sb)[3] & termios.ECHO or not termios.tcgetattr(sb)[3] & termios.ICANON:
        fail("round %d: B settings changed" % n)
    if get_int(mb, TIOCGPKT) != 1:
        fail("round %d: B master left packet mode" % n)
    if get_int(ma, TIOCGPTLCK) != 1:
        fail("round %d: A slave no longer locked" % n)
    # (opening a locked slave would fail with EIO and leave the pair in error: not tried)
    if get_int(ma, TIOCGPTN) != int(os.ttyname(sa).rsplit("/", 1)[1]) or get_int(mb, TIOCGPTN) != int(os.ttyname(sb).rsplit("/", 1)[1]):
        fail("round %d: masters and slaves are not pairs" % n)


# ---------------- closed: masters whose slave is closed ----------------
def closed(rounds):
    empty, s1 = os.openpty()
    os.close(s1)
    full, s2 = os.openpty()
    os.write(s2, b"written before close\n")
    os.close(s2)
    time.sleep(0.05)
    for n in range(rounds):
        expect_eio(empty, "in round %d" % n)
        if not select.select([full], [], [], 0)[0]:
            fail("round %d: the closed master is not readable" % n)
        print("progress %d" % n, flush=True)
        time.sleep(0.05)
    got = os.read(full, 4096)
    if got != b"written before close\r\n":
        fail("the closed master read %r" % got)
    expect_eio(full, "once emptied")
    print("OK closed %d" % rounds, flush=True)


MODES = {"script": script, "two": two, "closed": closed}

if __name__ == "__main__":
    MODES[sys.argv[1]](int(sys.argv[2]) if len(sys.argv) > 2 else 60)
