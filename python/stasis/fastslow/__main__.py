"""python3 -m stasis.fastslow run [OPTIONS] -- python3 prog.py ARGS (stasis fastslow run ...)."""

import argparse
import os
import sys
from typing import List, Optional

from .driver import Options, run

DESCRIPTION = """\
Checks that a Cython-compiled computation computes what its Python source says.

The program calls stasis.fastslow.mark(name=value, ...) at points of its computation.
The fast run (compiled code, under Stasis) records the values and checkpoints at every
mark. Each interval between two marks is then checked by a checker: the checkpoint at
the interval's start restarted with the functions of every Cython module whose .pyx or
.py source sits next to its .so switched to interpreted versions compiled from that
source; it runs to the next mark, where its values are compared with the fast run's.
Checkers start as soon as their interval is done and run concurrently with the fast run.

Report: per interval, ok or the first differing variable with both values; an interval
whose checker crashed, hung (--timeout) or could not be restarted is never ok.
Exit status: 0 every interval agrees, 1 a mismatch or any interval not ok (or nothing
to check), 2 bad usage. See doc/fastslow.md for what is and is not switched."""


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="stasis fastslow", description=DESCRIPTION,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="command", metavar="run")
    r = sub.add_parser("run", help="run the fast computation and check its intervals",
                       description=DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter,
                       usage="stasis fastslow run [OPTIONS] -- python3 PROG.py [ARGS...]")
    r.add_argument("--checkers", type=int, default=2, metavar="K",
                   help="checkers running at once on this machine (default 2)")
    r.add_argument("--tolerance", type=float, default=0.0, metavar="T",
                   help="numbers agree if they differ by at most T relative (or T absolute near 0); "
                        "default 0: exactly")
    r.add_argument("--stop-at-first", action="store_true",
                   help="stop the fast run and the checkers at the first mismatch")
    r.add_argument("--json", action="store_true",
                   help="the report as JSON on stdout (the program's output goes to stderr)")
    r.add_argument("--timeout", type=float, default=600.0, metavar="S",
                   help="a checker that has not reached its next mark after S seconds is killed "
                        "and reported as hung (default 600)")
    r.add_argument("--dask", metavar="SCHEDULER_ADDRESS",
                   help="submit each interval check as a task to this Dask distributed scheduler "
                        "(tcp://host:port); --dir must then be on a filesystem every worker shares")
    r.add_argument("--dir", metavar="D",
                   help="the run directory: checkpoints, recorded states, checker logs "
                        "(default: a new temporary directory, removed at the end)")
    r.add_argument("--keep", action="store_true", help="keep the run directory at the end")
    r.add_argument("program", nargs=argparse.REMAINDER, help="-- python3 PROG.py [ARGS...]")
    return p


def main(argv: Optional[List[str]] = None) -> int:
    args = parser().parse_args(sys.argv[1:] if argv is None else argv)
    if args.command != "run":
        parser().print_usage(sys.stderr)
        sys.stderr.write("stasis fastslow: say 'run'; see stasis fastslow run --help\n")
        return 2
    program = list(args.program)
    if program and program[0] == "--":
        program.pop(0)
    if not program:
        sys.stderr.write("stasis fastslow: which program? stasis fastslow run [OPTIONS] -- python3 PROG.py\n")
        return 2
    if args.checkers < 1 or args.timeout <= 0 or args.tolerance < 0:
        sys.stderr.write("stasis fastslow: --checkers needs K >= 1, --timeout S > 0, --tolerance T >= 0\n")
        return 2
    if args.dir and os.path.isdir(args.dir) and os.listdir(args.dir):
        sys.stderr.write("stasis fastslow: --dir %s is not empty; give a new or empty directory\n" % args.dir)
        return 2
    return run(Options(program=program, checkers=args.checkers, tolerance=args.tolerance,
                       stop_at_first=args.stop_at_first, json=args.json, timeout=args.timeout,
                       dask=args.dask, directory=args.dir, keep=args.keep or bool(args.dir)))


if __name__ == "__main__":
    sys.exit(main())
