#!/usr/bin/env python3
"""A ring of MPI ranks passing a token with a checksum (issue #16 scenario).

    mpirun -n 4 python3 ring.py ROUNDS [--interval SECONDS] [--size BYTES] [--progress EVERY]

Rank 0 sends a token round the ring ROUNDS times with MPI point-to-point messages. The
token carries a running checksum and bytes derived from it; every rank checks the bytes,
folds its rank and the round into the checksum, waits SECONDS (so a run lasts long
enough to be checkpointed mid-run) and passes it on. At the end rank 0 compares the
checksum with the value an uninterrupted run computes (the same function, without MPI).

Prints "ready R HOST" once per rank, "round N" every EVERY rounds (rank 0),
"restarted rank R G" when rank R notices it was restarted by Stasis (G: restart count),
"OK rank R" when a rank stops, and "OK ring N rounds checksum C" (rank 0). Exit 0 only if
all is right; otherwise one line "FAIL ..." and exit 1 (MPI aborts the others). No
wall-clock timeouts: it may be paused (checkpointed) for any time."""
import argparse
import ctypes
import os
import socket
import sys
import time
import zlib

from mpi4py import MPI

SEED = 0x5354415349534D50
MASK = (1 << 64) - 1
TOKEN = 1
STOP = 2


def say(*words):
    """One line in one write(2), so lines of several ranks sharing a pipe never interleave."""
    os.write(1, (" ".join(str(w) for w in words) + "\n").encode())


def fail(*what):
    say("FAIL", *what)
    MPI.COMM_WORLD.Abort(1)


def restart_count():
    try:
        return ctypes.CDLL(None).stasis_restart_count()
    except (OSError, AttributeError):
        return 0


def token_bytes(checksum, size):
    """The bytes a token with this checksum carries."""
    seed = checksum.to_bytes(8, "little")
    out = bytearray()
    while len(out) < size:
        seed = zlib.crc32(seed).to_bytes(4, "little") + seed[:4]
        out += seed
    return bytes(out[:size])


def step(checksum, rank, rnd, size):
    """The checksum after `rank` handled the token in round `rnd`."""
    mixed = (checksum * 6364136223846793005 + (rank + 1) * 1442695040888963407 + rnd) & MASK
    return mixed ^ zlib.crc32(token_bytes(checksum, size))


def expected(ranks, rounds, size):
    """The final checksum of an uninterrupted run."""
    checksum = SEED
    for rnd in range(1, rounds + 1):
        for rank in range(ranks):
            checksum = step(checksum, rank, rnd, size)
    return checksum


class Rank:
    def __init__(self, args):
        self.args = args
        self.comm = MPI.COMM_WORLD
        self.rank = self.comm.Get_rank()
        self.size = self.comm.Get_size()
        self.next = (self.rank + 1) % self.size
        self.prev = (self.rank - 1) % self.size
        self.restarts = restart_count()

    def send(self, kind, rnd, checksum):
        data = token_bytes(checksum, self.args.size) if kind == TOKEN else b""
        self.comm.send((kind, rnd, self.rank, checksum, data), dest=self.next, tag=kind)

    def receive(self):
        kind, rnd, rank, checksum, data = self.comm.recv(source=self.prev, tag=MPI.ANY_TAG)
        if kind not in (TOKEN, STOP) or rank != self.prev:
            fail("rank", self.rank, ": got garbage from rank", rank)
        if kind == TOKEN and data != token_bytes(checksum, self.args.size):
            fail("rank", self.rank, ": the token of round", rnd, "arrived damaged")
        now = restart_count()
        if now != self.restarts:
            self.restarts = now
            say("restarted rank", self.rank, now)
        return kind, rnd, checksum

    def pace(self):
        if self.args.interval > 0:
            time.sleep(self.args.interval)

    def run(self):
        say("ready", self.rank, socket.gethostname())
        if self.rank == 0:
            self.lead()
        else:
            self.follow()
        say("OK rank", self.rank)

    def follow(self):
        while True:
            kind, rnd, checksum = self.receive()
            if kind == STOP:
                self.send(STOP, rnd, checksum)
                return
            self.pace()
            self.send(TOKEN, rnd, step(checksum, self.rank, rnd, self.args.size))

    def lead(self):
        checksum = SEED
        for rnd in range(1, self.args.rounds + 1):
            self.pace()
            self.send(TOKEN, rnd, step(checksum, 0, rnd, self.args.size))
            kind, back, checksum = self.receive()
            if kind != TOKEN or back != rnd:
                fail("rank 0: round", rnd, "came back as", kind, back)
            if rnd % self.args.progress == 0:
                say("round", rnd)
        want = expected(self.size, self.args.rounds, self.args.size)
        if checksum != want:
            fail("ring: checksum %016x after %d rounds, an uninterrupted run gives %016x"
                 % (checksum, self.args.rounds, want))
        self.send(STOP, self.args.rounds, checksum)
        kind, _, _ = self.receive()
        if kind != STOP:
            fail("rank 0: the stop round did not come back")
        say("OK ring", self.args.rounds, "rounds checksum %016x" % checksum)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("rounds", type=int)
    parser.add_argument("--interval", type=float, default=0.01, help="seconds each rank waits before passing on")
    parser.add_argument("--size", type=int, default=4096, help="bytes the token carries")
    parser.add_argument("--progress", type=int, default=10, help="rank 0 says the round every this many rounds")
    args = parser.parse_args()
    if args.rounds < 1 or args.size < 0 or args.progress < 1:
        say("FAIL ring: bad arguments (ROUNDS >= 1, SIZE >= 0, EVERY >= 1)")
        sys.exit(2)
    if MPI.COMM_WORLD.Get_size() < 2:
        say("FAIL ring: needs at least 2 ranks")
        sys.exit(2)
    Rank(args).run()


if __name__ == "__main__":
    main()
