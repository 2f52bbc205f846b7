#!/usr/bin/env python3
"""A TCP service that workers on other hosts stream records to (issue #16 scenario).

    service.py HOST:PORT WORKERS RECORDS [--progress EVERY]

Listens on HOST:PORT, accepts WORKERS workers (worker.py, numbered 1..WORKERS, any
order, one connection each) and receives RECORDS numbered records from each. Every
record must arrive exactly once and in order, with its checksum and its content (a
function of worker and number) right; each is acknowledged (so both directions carry
data). Prints "ready" once it listens, "worker W connected from ADDRESS", "progress TOTAL" every
EVERY records received (all workers together), "restarted service N" when it notices
it was restarted by Stasis, "worker W done N" and at last
"OK service WORKERS workers RECORDS records each" (exit 0). Anything wrong: one line
"FAIL ..." that says what, exit 1.

No wall-clock timeouts: it may be paused (checkpointed) for any time."""
import argparse
import selectors
import socket
import sys

from records import ACK, DONE, END, HELLO, RECORD, Reader, Restarts, fail, message, parse_address, payload, say


class Worker:
    """One worker's connection: what came in, what goes out, what it has sent so far."""

    def __init__(self, sock, peer):
        self.sock = sock
        self.peer = peer
        self.reader = Reader(sock, "service")
        self.out = bytearray()
        self.number = None
        self.received = 0
        self.done = False


class Service:
    def __init__(self, args):
        self.workers = args.workers
        self.records = args.records
        self.every = args.progress
        self.total = 0
        self.finished = set()
        self.known = {}
        self.connections = 0
        self.selector = selectors.DefaultSelector()
        self.restarts = Restarts("service")
        self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(parse_address(args.address))
        self.listener.listen(args.workers)
        self.selector.register(self.listener, selectors.EVENT_READ, None)

    def run(self):
        say("ready")
        while len(self.finished) < self.workers or self.flushing():
            for key, events in self.selector.select():
                self.restarts.check()
                if key.data is None:
                    self.accept()
                    continue
                if events & selectors.EVENT_READ:
                    self.read(key.data)
                if events & selectors.EVENT_WRITE and key.data.sock.fileno() >= 0:
                    self.write(key.data)
        say("OK service", self.workers, "workers", self.records, "records each")

    def flushing(self):
        return any(w.out for w in self.known.values())

    def accept(self):
        sock, peer = self.listener.accept()
        self.connections += 1
        if self.connections > self.workers:
            fail("service: one connection too many, from", peer)
        sock.setblocking(False)
        self.selector.register(sock, selectors.EVENT_READ, Worker(sock, peer))

    def read(self, worker):
        try:
            more = worker.reader.fill()
        except OSError as e:
            fail("service: the connection of worker", worker.number, "from", worker.peer, "failed after",
                 worker.received, "of", self.records, "records:", e)
        if not more:
            if not worker.done:
                fail("service: worker", worker.number, "from", worker.peer, "closed its connection after",
                     worker.received, "of", self.records, "records")
            self.selector.unregister(worker.sock)
            worker.sock.close()
            worker.out.clear()
            return
        while True:
            msg = worker.reader.next()
            if msg is None:
                break
            self.handle(worker, *msg)
        self.want_write(worker)

    def handle(self, worker, kind, number, seq, data):
        if kind == HELLO:
            self.hello(worker, number, seq)
        elif worker.number is None or number != worker.number:
            fail("service: a", kind.decode(), "for worker", number, "on the connection of worker", worker.number)
        elif kind == RECORD:
            self.record(worker, seq, data)
        elif kind == END:
            self.end(worker, seq)
        else:
            fail("service: unexpected", kind.decode(), "from worker", number)

    def hello(self, worker, number, records):
        if worker.number is not None or number in self.known or not 1 <= number <= self.workers:
            fail("service: unexpected hello of worker", number, "from", worker.peer)
        if records != self.records:
            fail("service: worker", number, "will send", records, "records, not", self.records)
        worker.number = number
        self.known[number] = worker
        say("worker", number, "connected from", worker.peer[0])

    def record(self, worker, seq, data):
        expected = worker.received + 1
        if seq < expected:
            fail("service: record", seq, "of worker", worker.number, "arrived twice (expected", str(expected) + ")")
        if seq > expected:
            fail("service: records", expected, "to", seq - 1, "of worker", worker.number, "were lost")
        if data != payload(worker.number, seq, len(data)):
            fail("service: record", seq, "of worker", worker.number, "has the wrong content")
        worker.received = seq
        worker.out += message(ACK, worker.number, seq)
        self.total += 1
        if self.total % self.every == 0:
            say("progress", self.total)

    def end(self, worker, count):
        if count != self.records or worker.received != self.records:
            fail("service: worker", worker.number, "ended after sending", count, "records; received",
                 worker.received, "of", self.records)
        worker.done = True
        worker.out += message(DONE, worker.number, count)
        self.finished.add(worker.number)
        say("worker", worker.number, "done", count)

    def want_write(self, worker):
        events = selectors.EVENT_READ | (selectors.EVENT_WRITE if worker.out else 0)
        if worker.sock.fileno() >= 0:
            self.selector.modify(worker.sock, events, worker)

    def write(self, worker):
        try:
            sent = worker.sock.send(worker.out)
        except BlockingIOError:
            sent = 0
        except OSError as e:
            fail("service: sending to worker", worker.number, "failed:", e)
        del worker.out[:sent]
        self.want_write(worker)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("address", help="HOST:PORT to listen on")
    parser.add_argument("workers", type=int)
    parser.add_argument("records", type=int, help="records each worker sends")
    parser.add_argument("--progress", type=int, default=100, help="say progress every this many records")
    args = parser.parse_args()
    if args.workers < 1 or args.records < 1 or args.progress < 1:
        fail("service: WORKERS, RECORDS and EVERY must be at least 1")
    try:
        Service(args).run()
    except OSError as e:
        fail("service:", e)
    sys.exit(0)


if __name__ == "__main__":
    main()
