"""python3 -m stasis.fred [--every N] [--seconds T] [python3] prog.py ARGS: pdb that can go back."""
import os
import select
import signal
import sys
from typing import List, Optional, Tuple

from .commands import checkpoint, history, lookup, undo
from .link import Ended
from .session import Session

USAGE = ("usage: python3 -m stasis.fred [--every N] [--seconds T] [python3] prog.py [ARGS...]\n"
         "       stasis fred [--every N] [--seconds T] python3 prog.py [ARGS...]")


def parse(argv: List[str]) -> Tuple[str, List[str], int, float]:
    """The options, the python to run and the program's argv; exits with usage on errors."""
    every, seconds = 10, 1.0
    while argv and argv[0].startswith("--"):
        opt = argv.pop(0)
        if opt in ("-h", "--help"):
            print(USAGE)
            sys.exit(0)
        if opt not in ("--every", "--seconds") or not argv:
            sys.exit("fred: unknown option or missing value '%s'\n%s" % (opt, USAGE))
        value = argv.pop(0)
        try:
            every, seconds = (int(value), seconds) if opt == "--every" else (every, float(value))
        except ValueError:
            sys.exit("fred: %s needs a number, not '%s'" % (opt, value))
    python = sys.executable or "python3"
    if argv and os.path.basename(argv[0]).startswith("python"):
        python = argv.pop(0)
    if not argv:
        sys.exit("fred: which program?\n" + USAGE)
    if not os.path.isfile(argv[0]):
        sys.exit("fred: no such program file: %s" % argv[0])
    return python, argv, max(1, every), seconds


class Terminal:
    """The user's side: lines typed at the prompt, output relayed meanwhile."""

    def __init__(self, session: Session, fd: int = 0) -> None:
        self.session, self.fd, self.pending = session, fd, b""

    def line(self) -> Optional[str]:
        """The next line the user typed (None at end of input), relaying output meanwhile."""
        s = self.session
        link = s._line()
        while b"\n" not in self.pending:
            ready, _, _ = select.select([self.fd, link.master], [], [])
            if link.master in ready:
                try:
                    data = os.read(link.master, 65536)
                except OSError:
                    data = b""
                if not data:
                    raise Ended()
                s.write(data)
            if self.fd in ready:
                data = os.read(self.fd, 4096)
                if not data:
                    return None
                self.pending += data
        line, _, self.pending = self.pending.partition(b"\n")
        return line.decode(errors="replace")


def loop(session: Session) -> None:
    """Prompts, reads and runs commands until the program or the input ends."""
    term = Terminal(session)
    while True:
        session.write(session.pos["prompt"].encode())
        line = term.line()
        if line is None:
            session.write(b"\n")
            line = "EOF"
        fred, arg = lookup(line)
        if fred is None or arg is None:
            session.forward(line)
        elif fred is undo or fred is checkpoint or fred is history:
            fred(session, arg)
        else:
            saved = list(session.history)
            fred(session, arg)
            if [id(e) for e in session.history] != [id(e) for e in saved]:
                session.undo_log.append(("reverse", saved))


def main(argv: Optional[List[str]] = None) -> int:
    python, args, every, seconds = parse(list(sys.argv[1:] if argv is None else argv))
    session = Session(python, args, every=every, seconds=seconds)
    signal.signal(signal.SIGINT, lambda *_: session.link.interrupt() if session.link else None)
    for sig in (signal.SIGTERM, signal.SIGHUP):  # clean up the coordinator and checkpoints
        signal.signal(sig, lambda *_: sys.exit(1))
    try:
        session.start()
        loop(session)
    except Ended:
        pass
    except RuntimeError as exc:
        print("fred: %s" % exc, file=sys.stderr)
        return 1
    finally:
        session.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
