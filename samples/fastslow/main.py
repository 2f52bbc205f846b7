"""The fast/slow sample computation: 12 intervals (13 marks) of a compiled module.

    main.py overflow|overflow_fixed [N]     acc += step, N steps per interval, in a C int
                                            (overflow: wraps in interval 7) or long long
    main.py overflow_every [N]              the same, mark() called 4 times per interval, every(4)
    main.py floatsum [N [INTERVALS]]        a sum of 1/k^2 in single precision
    main.py behave crash|hang [BAD]         interval BAD crashes or hangs when interpreted
    main.py behave_slow hang [BAD]          the same, the fast run 1 s per interval (12)
    main.py unpicklable                     marks a value that cannot be pickled
    main.py nomark                          never marks
    main.py broken [N]                      the checkpoint of mark 0 is damaged after it
                                            was published: interval 1 cannot be checked

The compiled module must be importable (PYTHONPATH=the directory with its .so and its
source). Prints the final value.
"""
import glob
import importlib
import os
import sys
import time

import stasis
import stasis.fastslow as fs

INTERVALS = 12
PER_INTERVAL = 330_000_000      # 6 intervals stay below 2**31-1, the 7th goes past it


def accumulate(name, n):
    work = importlib.import_module(name)
    step = PER_INTERVAL // n
    acc = 0
    fs.mark(i=0, acc=acc)
    for i in range(1, INTERVALS + 1):
        acc = work.chunk(acc, step, n)
        fs.mark(i=i, acc=acc)
    return acc


def accumulate_every(n, parts=4):
    """The same in 4 parts per interval, mark() called after each part, every(4)."""
    import overflow as work
    fs.every(parts)
    step = PER_INTERVAL // n
    acc = 0
    fs.mark(i=0, acc=acc)
    for i in range(1, INTERVALS + 1):
        for part in range(parts):
            acc = work.chunk(acc, step, n // parts)
            fs.mark(i=i if part == parts - 1 else -1, acc=acc)
    return acc


def floats(n, intervals):
    import floatsum
    total = 0.0
    fs.mark(i=0, total=total)
    for i in range(1, intervals + 1):
        total = floatsum.chunk(total, (i - 1) * n, n)
        fs.mark(i=i, total=total)
    return total


def behave(action, bad, intervals=4, pause=0.0):
    import behave as work
    acc = 0
    fs.mark(i=0, acc=acc)
    for i in range(1, intervals + 1):
        if not fs.interpreted():
            time.sleep(pause)
        acc = work.chunk(acc, i, action, bad)
        fs.mark(i=i, acc=acc)
    return acc


def broken(n):
    """(The checkpoint of mark 0: a checker that goes on from interval 1 to 2 would check
    interval 2 without the damaged checkpoint of mark 1.)"""
    import overflow_fixed as work
    acc = 0
    fs.mark(i=0, acc=acc)
    if not fs.interpreted():
        damage(stasis.last_checkpoint_id())
    for i in range(1, 5):
        acc = work.chunk(acc, 1, n)
        fs.mark(i=i, acc=acc)
    return acc


def damage(ckpt_id):
    """Truncates the memory image of checkpoint ckpt_id (a disk that lost data), once it
    is published (marks do not wait for that)."""
    run = os.environ.get("STASIS_FASTSLOW_DIR", "")
    for _ in range(600):
        images = glob.glob(os.path.join(run, "ckpt", "*", str(ckpt_id), "image-*.img"))
        if images:
            break
        time.sleep(0.05)
    for image in images:
        with open(image, "r+b") as f:
            f.truncate(4096)


def main(argv):
    what = argv[1] if len(argv) > 1 else "overflow"
    if what in ("overflow", "overflow_fixed"):
        result = accumulate(what, int(argv[2]) if len(argv) > 2 else 100_000)
    elif what == "overflow_every":
        result = accumulate_every(int(argv[2]) if len(argv) > 2 else 100_000)
    elif what == "floatsum":
        result = floats(int(argv[2]) if len(argv) > 2 else 20_000, int(argv[3]) if len(argv) > 3 else INTERVALS)
    elif what == "behave":
        result = behave(argv[2], int(argv[3]) if len(argv) > 3 else 3)
    elif what == "behave_slow":
        result = behave(argv[2], int(argv[3]) if len(argv) > 3 else 2, intervals=12, pause=1.0)
    elif what == "unpicklable":
        fs.mark(i=0, ok=1, callback=lambda x: x)
        result = 0
    elif what == "nomark":
        result = sum(range(1000))
    elif what == "broken":
        result = broken(int(argv[2]) if len(argv) > 2 else 1000)
    else:
        sys.exit("main.py: unknown computation %r" % what)
    print("result", result, flush=True)


if __name__ == "__main__":
    main(sys.argv)
