"""Talking to the coordinator over its control socket (internal).

doc/control-protocol.md: ``<rundir>/<name>.sock``; the request ``EXEC <n>\\n`` plus
``n`` bytes of a Gogo command line; the reply is frames ``<type> <n>\\n`` + payload,
``O`` (stdout text), ``E`` (stderr text), ``X`` (exit status, last).
"""

import os
import socket

AGENT_SOCKET_SUFFIX = ".agent.sock"


class ControlError(RuntimeError):
    """The coordinator could not be reached or the command failed."""


def coordinator_name():
    """The name of the coordinator this process belongs to, or None."""
    name = os.environ.get("STASIS_NAME")
    if name:
        return name
    agent = os.environ.get("STASIS_AGENT_SOCKET", "")
    base = os.path.basename(agent)
    if base.endswith(AGENT_SOCKET_SUFFIX) and len(base) > len(AGENT_SOCKET_SUFFIX):
        return base[: -len(AGENT_SOCKET_SUFFIX)]
    return None


def runtime_dir():
    """The directory that holds the coordinators' sockets."""
    agent = os.environ.get("STASIS_AGENT_SOCKET", "")
    if agent.endswith(AGENT_SOCKET_SUFFIX):
        return os.path.dirname(agent)
    if os.environ.get("STASIS_RUNTIME_DIR"):
        return os.environ["STASIS_RUNTIME_DIR"]
    if os.environ.get("XDG_RUNTIME_DIR"):
        return os.path.join(os.environ["XDG_RUNTIME_DIR"], "stasis")
    return "/tmp/stasis-%d" % os.getuid()


def control_socket(name=None, directory=None):
    name = name or coordinator_name()
    if not name:
        raise ControlError("not running under Stasis: no coordinator name (STASIS_NAME)")
    return os.path.join(directory or runtime_dir(), name + ".sock")


def _read_exact(sock, n):
    chunks = []
    while n > 0:
        chunk = sock.recv(min(n, 65536))
        if not chunk:
            raise ControlError("the coordinator closed the connection")
        chunks.append(chunk)
        n -= len(chunk)
    return b"".join(chunks)


def _read_header(sock):
    line = bytearray()
    while True:
        c = sock.recv(1)
        if not c:
            raise ControlError("the coordinator closed the connection")
        if c == b"\n":
            return bytes(line).decode("ascii")
        line += c
        if len(line) > 64:
            raise ControlError("bad reply frame from the coordinator")


def execute(command, name=None, timeout=60.0, directory=None):
    """Runs a Gogo command line in the coordinator; returns (status, out, err)."""
    path = control_socket(name, directory)
    payload = command.encode("utf-8")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.settimeout(timeout)
        try:
            sock.connect(path)
        except OSError as e:
            raise ControlError("cannot reach coordinator at %s: %s" % (path, e)) from None
        sock.sendall(b"EXEC %d\n" % len(payload) + payload)
        out, err = [], []
        while True:
            kind, _, size = _read_header(sock).partition(" ")
            data = _read_exact(sock, int(size))
            if kind == "O":
                out.append(data)
            elif kind == "E":
                err.append(data)
            elif kind == "X":
                return (int(data.decode("ascii").strip() or "1"),
                        b"".join(out).decode("utf-8", "replace"),
                        b"".join(err).decode("utf-8", "replace"))
    finally:
        sock.close()
