#!/usr/bin/env python3
"""Scenario: py_asyncio_echo.py COUNT [WINDOW] [PACE_MS]
An asyncio echo server (this process: an epoll event loop with its self-pipe
socketpair, listening on 127.0.0.1, an ephemeral port) and an asyncio client in a
second process (this file run again by subprocess). The client sends COUNT numbered
lines as fast as it can while it is less than WINDOW lines ahead of the echoes; the
server echoing and the client reading echoes both pause PACE_MS every 50 lines and
read through small (1 KiB) stream buffers, so lines wait in the kernel both ways at
any time. The client checks that every echo comes
back once and in order; the server checks the lines arrive in order too. At the end the
client connects a second time and the server greets it (the listener still works).
Prints "progress N" every 1000 echoes, "restarted server|client N" when a side
notices a restart, "OK asyncio COUNT" at the end; exits 0 only then."""
import asyncio
import ctypes
import os
import subprocess
import sys

PROGRESS = 1000
BATCH = 50
LIMIT = 1024        # small stream buffers: what is not read yet waits in the kernel


def restart_count():
    """The agent's restart generation (0 without Stasis)."""
    try:
        return ctypes.CDLL(None).stasis_restart_count()
    except (OSError, AttributeError):
        return 0


def fail(*what):
    print("FAIL", *what, flush=True)
    os._exit(1)


class Restarts:
    """Notices a new restart generation once and says so."""

    def __init__(self, who):
        self.who = who
        self.seen = 0

    def check(self):
        r = restart_count()
        if r != self.seen:
            self.seen = r
            print("restarted", self.who, r, flush=True)


def line(n):
    return b"line %d\n" % n


class Server:
    def __init__(self, count, pace_s):
        self.count = count
        self.pace_s = pace_s
        self.streams = 0
        self.finished = None
        self.restarts = Restarts("server")

    async def handle(self, reader, writer):
        self.streams += 1
        if self.streams == 2:              # the client's second connection: greet it
            writer.write(b"hello again\n")
            await writer.drain()
            writer.close()
            self.finished.set_result(True)
            return
        got = 0
        while True:
            data = await reader.readline()
            if not data:
                break
            if data != line(got):
                fail("server: got %r, want %r" % (data, line(got)))
            writer.write(data)
            got += 1
            if got % BATCH == 0:
                await writer.drain()
                self.restarts.check()
                await asyncio.sleep(self.pace_s)
        if got != self.count:
            fail("server: the stream ended after %d of %d lines" % (got, self.count))
        writer.close()

    async def run(self):
        self.finished = asyncio.get_running_loop().create_future()
        server = await asyncio.start_server(self.handle, "127.0.0.1", 0, limit=LIMIT)
        port = server.sockets[0].getsockname()[1]
        return server, port


class Client:
    def __init__(self, count, window, pace_s):
        self.count = count
        self.window = window
        self.pace_s = pace_s
        self.echoed = 0
        self.restarts = Restarts("client")
        self.echoes = asyncio.Event()          # set when an echo came back

    async def send(self, writer):
        sent = 0
        while sent < self.count:
            while sent - self.echoed >= self.window:
                self.echoes.clear()
                await self.echoes.wait()
            batch = range(sent, min(self.count, sent + BATCH, self.echoed + self.window))
            writer.write(b"".join(line(n) for n in batch))
            sent = batch.stop
            await writer.drain()
        writer.write_eof()

    async def receive(self, reader):
        while True:
            data = await reader.readline()
            if not data:
                break
            if data != line(self.echoed):
                fail("client: echo %r, want %r" % (data, line(self.echoed)))
            self.echoed += 1
            self.echoes.set()
            if self.echoed % BATCH == 0:
                await asyncio.sleep(self.pace_s)
            if self.echoed % PROGRESS == 0:
                print("progress", self.echoed // PROGRESS, flush=True)
                self.restarts.check()

    async def run(self, port):
        reader, writer = await asyncio.open_connection("127.0.0.1", port, limit=LIMIT)
        await asyncio.gather(self.send(writer), self.receive(reader))
        writer.close()
        if self.echoed != self.count:
            fail("client: %d echoes of %d" % (self.echoed, self.count))
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        if await asyncio.wait_for(reader.readline(), 30) != b"hello again\n":
            fail("client: no greeting on the second connection")
        writer.close()
        print("client OK", self.count, flush=True)


async def serve(count, window, pace_ms):
    server = Server(count, pace_ms / 1000.0)
    listener, port = await server.run()
    child = subprocess.Popen([sys.executable, os.path.abspath(__file__), "client", str(port), str(count),
                              str(window), str(pace_ms)])
    print("echoing", port, flush=True)
    await server.finished
    listener.close()
    await listener.wait_closed()
    return child


def main():
    if len(sys.argv) == 6 and sys.argv[1] == "client":
        client = Client(int(sys.argv[3]), int(sys.argv[4]), float(sys.argv[5]) / 1000.0)
        asyncio.run(client.run(int(sys.argv[2])))
        return
    count = int(sys.argv[1])
    window = int(sys.argv[2]) if len(sys.argv) > 2 else 2000
    pace_ms = float(sys.argv[3]) if len(sys.argv) > 3 else 1.0
    child = asyncio.run(serve(count, window, pace_ms))
    status = child.wait()
    if status != 0:
        fail("the client exited with", status)
    print("OK asyncio", count, flush=True)


if __name__ == "__main__":
    try:
        main()
    except Exception as error:  # a broken socket or pipe after a restart says so plainly
        fail("%s: %r" % ("client" if sys.argv[1:2] == ["client"] else "main", error))
