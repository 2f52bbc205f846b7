#!/usr/bin/env python3
"""A ring of processes passing a token over TCP (issue #16 scenario).

    ring.py --ring ADDR0,ADDR1,...  --nodes I[,J...] --rounds N
            [--interval SECONDS] [--size BYTES] [--ballast MIB] [--progress EVERY] [--hold FILE]

The ring has one node per address (HOST:PORT); node i listens on its address and
connects to node i+1 (the last to node 0). This invocation runs the nodes listed in
--nodes: the first in this process, every other one in a child process (so a host can
run two nodes in one `stasis launch`). Node 0 sends a token round the ring N times.
The token carries a running checksum and some bytes derived from it; every node checks
the bytes, folds its own number and the round into the checksum, waits SECONDS and
passes the token on. After round N node 0 compares the checksum with the value an
uninterrupted run computes (the same function, without the network) and sends a stop
round. --ballast holds that many MiB of random bytes in every node (checked at the end:
memory for a benchmark to checkpoint). With --hold node 0 waits for FILE before round N.

Prints "ready I" once node I is connected both ways, "round R" every EVERY rounds (node 0),
"restarted node I G" when node I notices it was restarted by Stasis, "OK node I" when a
node stops, and "OK ring N rounds checksum C" (node 0). Exit 0 only if all is right;
otherwise one line "FAIL ..." and exit 1. No wall-clock timeouts: it may be paused
(checkpointed) for any time."""
import argparse
import ctypes
import errno
import os
import socket
import struct
import subprocess
import sys
import time
import zlib

HEADER = struct.Struct("!4sIIQI")
HELLO = b"HELO"
TOKEN = b"TOKN"
STOP = b"STOP"
SEED = 0x5354415349530016
MASK = (1 << 64) - 1
CONNECT_TRIES = 300
CONNECT_PAUSE = 0.1


def say(*words):
    """One line in one write(2), so lines of several nodes sharing a file never interleave."""
    os.write(1, (" ".join(str(w) for w in words) + "\n").encode())


def fail(*what):
    say("FAIL", *what)
    sys.exit(1)


def restart_count():
    try:
        return ctypes.CDLL(None).stasis_restart_count()
    except (OSError, AttributeError):
        return 0


def token_bytes(checksum, size):
    """The bytes a token with this checksum carries."""
    if size == 0:
        return b""
    seed = checksum.to_bytes(8, "little")
    out = bytearray()
    while len(out) < size:
        seed = zlib.crc32(seed).to_bytes(4, "little") + seed[:4]
        out += seed
    return bytes(out[:size])


def step(checksum, node, rnd, size):
    """The checksum after `node` handled the token in round `rnd`."""
    mixed = (checksum * 6364136223846793005 + (node + 1) * 1442695040888963407 + rnd) & MASK
    return mixed ^ zlib.crc32(token_bytes(checksum, size))


def expected(nodes, rounds, size):
    """The final checksum of an uninterrupted run."""
    checksum = SEED
    for rnd in range(1, rounds + 1):
        for node in range(nodes):
            checksum = step(checksum, node, rnd, size)
    return checksum


def parse_address(text):
    host, _, port = text.rpartition(":")
    if not host or not port.isdigit():
        fail("bad address", repr(text), "(want HOST:PORT)")
    return host, int(port)


def recv_exact(sock, count, who):
    data = bytearray()
    while len(data) < count:
        chunk = sock.recv(count - len(data))
        if not chunk:
            fail(who + ":", "the previous node closed the connection")
        data += chunk
    return bytes(data)


class Ballast:
    """MiB of random bytes kept in memory and checked at the end."""

    def __init__(self, mib):
        self.data = bytearray(mib << 20)
        for at in range(0, len(self.data), 1 << 20):
            self.data[at:at + (1 << 20)] = os.urandom(1 << 20)
        self.crc = zlib.crc32(self.data)

    def intact(self):
        return zlib.crc32(self.data) == self.crc


class Node:
    def __init__(self, args, index):
        self.args = args
        self.index = index
        self.count = len(args.ring)
        self.who = "node " + str(index)
        self.restarts = restart_count()
        self.ballast = Ballast(args.ballast)
        self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(parse_address(args.ring[index]))
        self.listener.listen(1)

    def connect(self):
        """Connects to the next node (trying again while it is not listening) and accepts the previous one."""
        target = parse_address(self.args.ring[(self.index + 1) % self.count])
        for _ in range(CONNECT_TRIES):
            self.next = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            try:
                self.next.connect(target)
                break
            except OSError as e:
                self.next.close()
                if e.errno not in (errno.ECONNREFUSED, errno.ENETUNREACH, errno.EHOSTUNREACH):
                    fail(self.who + ":", "cannot connect to the next node at", target, ":", e)
            time.sleep(CONNECT_PAUSE)
        else:
            fail(self.who + ":", "the next node never listened at", target)
        self.next.sendall(HEADER.pack(HELLO, 0, self.index, 0, 0))
        self.prev, _ = self.listener.accept()
        self.listener.close()
        kind, _, node, _, _ = HEADER.unpack(recv_exact(self.prev, HEADER.size, self.who))
        if kind != HELLO or node != (self.index - 1) % self.count:
            fail(self.who + ":", "the previous node is", node, "not", (self.index - 1) % self.count)
        say("ready", self.index)

    def send(self, kind, rnd, checksum):
        data = token_bytes(checksum, self.args.size) if kind == TOKEN else b""
        self.next.sendall(HEADER.pack(kind, rnd, self.index, checksum, len(data)) + data)

    def receive(self):
        kind, rnd, node, checksum, length = HEADER.unpack(recv_exact(self.prev, HEADER.size, self.who))
        data = recv_exact(self.prev, length, self.who)
        if kind not in (TOKEN, STOP) or node != (self.index - 1) % self.count:
            fail(self.who + ":", "got garbage from the previous node:", kind, node)
        if kind == TOKEN and data != token_bytes(checksum, self.args.size):
            fail(self.who + ":", "the token of round", rnd, "arrived damaged")
        now = restart_count()
        if now != self.restarts:
            self.restarts = now
            say("restarted node", self.index, now)
        return kind, rnd, checksum

    def pace(self):
        if self.args.interval > 0:
            time.sleep(self.args.interval)

    def run(self):
        self.connect()
        if self.index == 0:
            self.lead()
        else:
            self.follow()
        if not self.ballast.intact():
            fail(self.who + ":", "its ballast memory changed")
        say("OK node", self.index)

    def follow(self):
        while True:
            kind, rnd, checksum = self.receive()
            if kind == STOP:
                self.send(STOP, rnd, checksum)
                return
            self.pace()
            self.send(TOKEN, rnd, step(checksum, self.index, rnd, self.args.size))

    def lead(self):
        checksum = SEED
        for rnd in range(1, self.args.rounds + 1):
            if rnd == self.args.rounds:
                self.hold()
            self.pace()
            self.send(TOKEN, rnd, step(checksum, 0, rnd, self.args.size))
            kind, back, checksum = self.receive()
            if kind != TOKEN or back != rnd:
                fail(self.who + ":", "round", rnd, "came back as", kind, back)
            if rnd % self.args.progress == 0:
                say("round", rnd)
        want = expected(self.count, self.args.rounds, self.args.size)
        if checksum != want:
            fail("ring: checksum %016x after %d rounds, an uninterrupted run gives %016x"
                 % (checksum, self.args.rounds, want))
        self.send(STOP, self.args.rounds, checksum)
        kind, _, _ = self.receive()
        if kind != STOP:
            fail(self.who + ":", "the stop round did not come back")
        say("OK ring", self.args.rounds, "rounds checksum %016x" % checksum)

    def hold(self):
        while self.args.hold and not os.path.exists(self.args.hold):
            time.sleep(0.05)


def children(args, others):
    """Runs the other nodes of this invocation in child processes."""
    started = []
    for index in others:
        command = [sys.executable, os.path.abspath(__file__), "--ring", ",".join(args.ring), "--nodes", str(index),
                   "--rounds", str(args.rounds), "--interval", str(args.interval), "--size", str(args.size),
                   "--ballast", str(args.ballast), "--progress", str(args.progress)]
        if args.hold:
            command += ["--hold", args.hold]
        started.append(subprocess.Popen(command))
    return started


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ring", required=True, type=lambda s: s.split(","), help="every node's HOST:PORT, in order")
    parser.add_argument("--nodes", required=True, type=lambda s: [int(i) for i in s.split(",")],
                        help="the nodes this invocation runs")
    parser.add_argument("--rounds", type=int, required=True)
    parser.add_argument("--interval", type=float, default=0.005, help="seconds each node waits before passing on")
    parser.add_argument("--size", type=int, default=4096, help="bytes the token carries")
    parser.add_argument("--ballast", type=int, default=0, help="MiB of random bytes each node holds")
    parser.add_argument("--progress", type=int, default=10, help="node 0 says the round every this many rounds")
    parser.add_argument("--hold", help="node 0 waits for this file before the last round")
    args = parser.parse_args()
    if len(args.ring) < 2 or args.rounds < 1 or args.progress < 1 or args.size < 0 or args.ballast < 0 \
            or not all(0 <= i < len(args.ring) for i in args.nodes):
        fail("ring: bad arguments (at least 2 addresses, node numbers among them, ROUNDS >= 1)")
    started = children(args, args.nodes[1:])
    try:
        Node(args, args.nodes[0]).run()
    except OSError as e:
        fail("ring node", args.nodes[0], ":", e)
    for child in started:
        if child.wait() != 0:
            fail("ring: a node in a child process failed (exit", str(child.returncode) + ")")
    sys.exit(0)


if __name__ == "__main__":
    main()
