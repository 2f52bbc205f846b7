#!/usr/bin/env python3
"""A worker that streams numbered records to service.py (issue #16 scenario).

    worker.py HOST:PORT WORKER RECORDS [--size BYTES] [--interval SECONDS]
              [--window N] [--hold FILE] [--progress EVERY]

Connects to the service at HOST:PORT as worker number WORKER and sends RECORDS records
(sequence number, CRC-32, BYTES of content) at a steady pace (one every SECONDS), with
up to N records sent but not yet acknowledged, so data is in flight both ways all the
time. Every acknowledgement must come back exactly once and in order. With --hold it
waits for FILE to exist before it sends its last message (a test can so make sure the
stream is still running when it checkpoints). Prints "connected W", "sent SEQ" every
EVERY records, "restarted worker N" when it notices it was restarted by Stasis, and
"OK worker W RECORDS records" at the end (exit 0); anything wrong: one line "FAIL ...",
exit 1.

No wall-clock timeouts: it may be paused (checkpointed) for any time."""
import argparse
import errno
import os
import select
import socket
import sys
import time

from records import ACK, DONE, END, HELLO, RECORD, Reader, Restarts, fail, message, parse_address, payload, say

CONNECT_TRIES = 200
CONNECT_PAUSE = 0.1


def connect(address, who):
    """Connects, trying again while the service is not listening yet."""
    target = parse_address(address)
    for _ in range(CONNECT_TRIES):
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            sock.connect(target)
            return sock
        except OSError as e:
            sock.close()
            if e.errno not in (errno.ECONNREFUSED, errno.ENETUNREACH, errno.EHOSTUNREACH):
                fail(who + ":", "cannot connect to", address + ":", e)
        time.sleep(CONNECT_PAUSE)
    fail(who + ":", "cannot connect to", address, "after", CONNECT_TRIES, "tries: is service.py running there?")


class Worker:
    def __init__(self, args):
        self.args = args
        self.number = args.worker
        self.who = "worker " + str(args.worker)
        self.sock = connect(args.address, self.who)
        self.reader = Reader(self.sock, self.who)
        self.acked = 0
        self.done = False
        self.restarts = Restarts(self.who)

    def run(self):
        say("connected", self.number)
        self.sock.sendall(message(HELLO, self.number, self.args.records))
        for seq in range(1, self.args.records + 1):
            while seq - 1 - self.acked >= self.args.window:
                self.receive(block=True)
            self.sock.sendall(message(RECORD, self.number, seq, payload(self.number, seq, self.args.size)))
            self.receive(block=False)
            if seq % self.args.progress == 0:
                say("sent", seq)
            self.restarts.check()
            if self.args.interval > 0:
                time.sleep(self.args.interval)
        self.hold()
        self.sock.sendall(message(END, self.number, self.args.records))
        while not self.done:
            self.receive(block=True)
        say("OK worker", self.number, self.args.records, "records")

    def hold(self):
        if self.args.hold is None:
            return
        while not os.path.exists(self.args.hold):
            self.receive(block=False)
            self.restarts.check()
            time.sleep(0.05)

    def receive(self, block):
        """Takes the acknowledgements that are there (waits for at least some if block)."""
        if not block and not select.select([self.sock], [], [], 0)[0]:
            return
        try:
            more = self.reader.fill()
        except OSError as e:
            fail(self.who + ": the connection failed after", self.acked, "acknowledgements:", e)
        if not more:
            fail(self.who + ":", "the service closed the connection after", self.acked, "acknowledgements")
        while True:
            msg = self.reader.next()
            if msg is None:
                return
            self.handle(*msg)

    def handle(self, kind, number, seq, data):
        if number != self.number:
            fail(self.who + ":", "got a", kind.decode(), "meant for worker", number)
        if kind == ACK:
            if seq != self.acked + 1:
                fail(self.who + ":", "acknowledgement", seq, "arrived after", self.acked, "(lost or twice)")
            self.acked = seq
        elif kind == DONE and self.acked == self.args.records and seq == self.args.records:
            self.done = True
        else:
            fail(self.who + ":", "unexpected", kind.decode(), seq, "after", self.acked, "acknowledgements")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("address", help="the service's HOST:PORT")
    parser.add_argument("worker", type=int, help="this worker's number, 1..WORKERS")
    parser.add_argument("records", type=int, help="how many records to send")
    parser.add_argument("--size", type=int, default=1024, help="bytes of content per record")
    parser.add_argument("--interval", type=float, default=0.002, help="seconds between two records")
    parser.add_argument("--window", type=int, default=64, help="records sent but not acknowledged, at most")
    parser.add_argument("--hold", help="wait for this file before the end")
    parser.add_argument("--progress", type=int, default=100, help="say how far every this many records")
    args = parser.parse_args()
    if args.worker < 1 or args.records < 1 or args.size < 0 or args.window < 1 or args.progress < 1:
        fail("worker: bad arguments (WORKER, RECORDS, --window and --progress must be at least 1)")
    try:
        Worker(args).run()
    except OSError as e:
        fail("worker " + str(args.worker) + ":", e)
    sys.exit(0)


if __name__ == "__main__":
    main()
