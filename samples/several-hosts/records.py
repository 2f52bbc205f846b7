"""The record stream shared by service.py and worker.py (issue #16 scenarios).

Every message is a fixed header (struct HEADER: a 4-byte kind, the worker's number, a
sequence number, a payload length, the payload's CRC-32) and the payload. A worker
sends HELO (its number, how many records it will send), then REC1 records numbered
from 1, then END1 (how many it sent); the service answers every record with ACK1 (its
sequence number) and END1 with DONE. A record's payload is a pure function of
(worker, sequence), so both ends can check it without keeping a copy.

Standard library only; any python3 >= 3.6 runs it."""
import ctypes
import os
import random
import struct
import sys
import zlib

HEADER = struct.Struct("!4sIIII")
HELLO = b"HELO"
RECORD = b"REC1"
ACK = b"ACK1"
END = b"END1"
DONE = b"DONE"


def payload(worker, seq, size):
    """The bytes of record `seq` of `worker`: deterministic, different for every record."""
    if size == 0:
        return b""
    rng = random.Random(worker * 1000003 + seq)
    return rng.getrandbits(8 * size).to_bytes(size, "little")


def message(kind, worker, seq, data=b""):
    return HEADER.pack(kind, worker, seq, len(data), zlib.crc32(data)) + data


def say(*words):
    """One line in one write(2), so lines of several processes sharing a file never interleave."""
    os.write(1, (" ".join(str(w) for w in words) + "\n").encode())


def fail(*what):
    say("FAIL", *what)
    sys.exit(1)


def parse_address(text):
    host, _, port = text.rpartition(":")
    if not host or not port.isdigit():
        fail("bad address", repr(text), "(want HOST:PORT)")
    return host, int(port)


def restart_count():
    """The Stasis agent's restart generation (0 when not running under Stasis)."""
    try:
        return ctypes.CDLL(None).stasis_restart_count()
    except (OSError, AttributeError):
        return 0


class Restarts:
    """Says "restarted WHO N" once when the process notices restart generation N."""

    def __init__(self, who):
        self.who = who
        self.seen = restart_count()

    def check(self):
        now = restart_count()
        if now != self.seen:
            self.seen = now
            say("restarted", self.who, now)


class Reader:
    """Whole messages out of a stream socket (blocking or not)."""

    def __init__(self, sock, who):
        self.sock = sock
        self.who = who
        self.buffer = bytearray()

    def fill(self):
        """Reads what is there (blocks if the socket does). Returns False at end of stream."""
        try:
            chunk = self.sock.recv(65536)
        except BlockingIOError:
            return True
        if not chunk:
            return False
        self.buffer += chunk
        return True

    def next(self):
        """The next whole message as (kind, worker, seq, data), or None if it is not all here."""
        if len(self.buffer) < HEADER.size:
            return None
        kind, worker, seq, length, crc = HEADER.unpack_from(self.buffer)
        if kind not in (HELLO, RECORD, ACK, END, DONE) or length > 1 << 24:
            fail(self.who + ":", "got garbage: header", bytes(self.buffer[:HEADER.size]).hex())
        if len(self.buffer) < HEADER.size + length:
            return None
        data = bytes(self.buffer[HEADER.size:HEADER.size + length])
        del self.buffer[:HEADER.size + length]
        if zlib.crc32(data) != crc:
            fail(self.who + ":", "record", seq, "of worker", worker, "has a bad checksum")
        return kind, worker, seq, data
