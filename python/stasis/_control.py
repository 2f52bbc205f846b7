"""Talking to the coordinator over its control socket (internal).

doc/control-protocol.md: ``<rundir>/<name>.sock``; the request ``EXEC <n>\\n`` plus
``n`` bytes of a Gogo command line; the reply is frames ``<type> <n>\\n`` + payload,
``O`` (stdout text), ``E`` (stderr text), ``X`` (exit status, last).
"""

import os
import socket
import stat
from typing import List, Optional, Tuple

AGENT_SOCKET_SUFFIX = ".agent.sock"


class ControlError(RuntimeError):
    """The coordinator could not be reached or the command failed."""


def coordinator_name() -> Optional[str]:
    """The name of the coordinator this process belongs to, or None."""
    name = os.environ.get("STASIS_NAME")
    if name:
        return name
    agent = os.environ.get("STASIS_AGENT_SOCKET", "")
    base = os.path.basename(agent)
    if base.endswith(AGENT_SOCKET_SUFFIX) and len(base) > len(AGENT_SOCKET_SUFFIX):
        return base[: -len(AGENT_SOCKET_SUFFIX)]
    return None


def runtime_dir(use_agent_socket: bool = True) -> str:
    """The directory that holds the coordinators' sockets, checked as the C client
    checks it: if it exists it must be a directory owned by this user that nobody
    else can use (mode 0700), so that no other user's socket is ever talked to.

    :param use_agent_socket: the directory of this process's agent socket comes first
        (a process of a computation talks to its own coordinator)

    :raises ControlError: the directory is not a directory, is someone else's, or is
        open to group or others (the message says what to do)
    """
    agent = os.environ.get("STASIS_AGENT_SOCKET", "")
    if use_agent_socket and agent.endswith(AGENT_SOCKET_SUFFIX):
        directory = os.path.dirname(agent)
    elif os.environ.get("STASIS_RUNTIME_DIR"):
        directory = os.environ["STASIS_RUNTIME_DIR"]
    elif os.environ.get("XDG_RUNTIME_DIR"):
        directory = os.path.join(os.environ["XDG_RUNTIME_DIR"], "stasis")
    else:
        directory = "/tmp/stasis-%d" % os.getuid()
    _check_runtime_dir(directory)
    return directory


def _check_runtime_dir(directory: str) -> None:
    try:
        st = os.stat(directory)
    except FileNotFoundError:
        return                                 # no coordinator there yet: nothing to trust
    except OSError as e:
        raise ControlError("cannot inspect runtime directory %s: %s" % (directory, e.strerror)) from None
    if not stat.S_ISDIR(st.st_mode):
        raise ControlError("runtime directory %s is not a directory; remove it or set STASIS_RUNTIME_DIR"
                           % directory)
    if st.st_uid != os.getuid():
        raise ControlError("refusing runtime directory %s: it is owned by uid %d, not by you (uid %d); "
                           "set STASIS_RUNTIME_DIR to a directory of your own" % (directory, st.st_uid, os.getuid()))
    if st.st_mode & 0o077:
        raise ControlError("refusing runtime directory %s: it is accessible by group/others (mode %03o); "
                           "fix it with: chmod 700 %s" % (directory, st.st_mode & 0o777, directory))


def control_socket(name: Optional[str] = None, directory: Optional[str] = None) -> str:
    """The control socket of coordinator ``name`` (default: this process's) in
    ``directory`` (default: :func:`runtime_dir`; either is checked the same way)."""
    name = name or coordinator_name()
    if not name:
        raise ControlError("not running under Stasis: no coordinator name (STASIS_NAME)")
    if directory is None:
        directory = runtime_dir()
    else:
        _check_runtime_dir(directory)
    return os.path.join(directory, name + ".sock")


def _read_exact(sock: socket.socket, n: int) -> bytes:
    chunks: List[bytes] = []
    while n > 0:
        chunk = sock.recv(min(n, 65536))
        if not chunk:
            raise ControlError("the coordinator closed the connection")
        chunks.append(chunk)
        n -= len(chunk)
    return b"".join(chunks)


def _read_header(sock: socket.socket) -> str:
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


def execute(command: str, name: Optional[str] = None, timeout: float = 60.0,
            directory: Optional[str] = None) -> Tuple[int, str, str]:
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
        out: List[bytes] = []
        err: List[bytes] = []
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
