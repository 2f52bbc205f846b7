#!/usr/bin/env python3
"""Scenario: py_pool.py ROUNDS [TASKS] [STEP_S] [STOP_FILE]
A multiprocessing.Pool of 4 forked workers maps TASKS tasks per round, ROUNDS
rounds, through imap (tasks and results travel through the pool's pipes; each task
carries 4 KiB, so the task pipe is full while a round runs). Every result is checked:
its task, its digest, and the worker's own running count of executed tasks, so a
task lost, repeated or answered twice shows. The pool must keep its 4 workers (a
replaced worker means one died). Prints "round N" after each round and, at the end,
"OK pool ROUNDS TOTAL"; exits 0 only then. With STOP_FILE, it also ends (and checks
everything) after the first round at whose end that file exists, so that a test can
hold it running for as long as it needs, however slow the machine."""
import os
import ctypes
import hashlib
import multiprocessing
import sys
import time

WORKERS = 4
BLOB = 4096
executed = 0                       # per worker: how many tasks this worker ran


def restart_count():
    """The agent's restart generation (0 without Stasis)."""
    try:
        return ctypes.CDLL(None).stasis_restart_count()
    except (OSError, AttributeError):
        return 0


def payload(rnd, i):
    return (b"%08d:%08d:" % (rnd, i)) * (BLOB // 18 + 1)


def work(task):
    global executed
    rnd, i, blob = task
    executed += 1
    return rnd, i, multiprocessing.current_process().pid, executed, hashlib.sha256(blob).hexdigest()


def fail(*what):
    print("FAIL", *what, flush=True)
    sys.exit(1)


def main():
    rounds = int(sys.argv[1])
    tasks = int(sys.argv[2]) if len(sys.argv) > 2 else 200
    step_s = float(sys.argv[3]) if len(sys.argv) > 3 else 0.02
    stop_file = sys.argv[4] if len(sys.argv) > 4 else None
    counts = {}                    # worker pid -> the running counts it reported
    seen_restarts = 0
    with multiprocessing.get_context("fork").Pool(WORKERS) as pool:
        for rnd in range(1, rounds + 1):
            jobs = ((rnd, i, payload(rnd, i)) for i in range(tasks))
            for want, (got_rnd, i, pid, count, digest) in enumerate(pool.imap(work, jobs)):
                if (got_rnd, i) != (rnd, want):
                    fail("round %d: result %d is for task %d of round %d" % (rnd, want, i, got_rnd))
                if digest != hashlib.sha256(payload(rnd, i)).hexdigest():
                    fail("round %d: task %d came back with a wrong digest" % (rnd, i))
                counts.setdefault(pid, []).append(count)
            if len(counts) > WORKERS:
                fail("a worker was replaced: %d worker pids %s" % (len(counts), sorted(counts)))
            r = restart_count()
            if r != seen_restarts:
                seen_restarts = r
                print("restarted pool", r, flush=True)
            print("round", rnd, flush=True)
            if stop_file and os.path.exists(stop_file):
                rounds = rnd
                break
            time.sleep(step_s)
        # a plain map at the end: the pool still works as a whole
        if pool.map(abs, range(-100, 0)) != list(range(100, 0, -1)):
            fail("the last map returned wrong results")
        pool.close()
        pool.join()
    total = 0
    for pid, seq in sorted(counts.items()):
        if sorted(seq) != list(range(1, len(seq) + 1)):
            fail("worker %d ran tasks twice or lost results: counts %s" % (pid, summarize(sorted(seq))))
        total += len(seq)
    if total != rounds * tasks:
        fail("%d results for %d tasks" % (total, rounds * tasks))
    print("OK pool %d %d" % (rounds, total), flush=True)


def summarize(seq):
    """The places where a sorted list of counts is not 1, 2, 3, ..."""
    odd = [(k + 1, v) for k, v in enumerate(seq) if v != k + 1]
    return "first mismatches (position, count) %s" % odd[:5]


if __name__ == "__main__":
    try:
        main()
    except Exception as error:  # a broken socket or pipe after a restart says so plainly
        fail("unexpected: %r" % (error,))
