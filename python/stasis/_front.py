"""The front's replace channel (internal).

The front is the process the user started (``stasis launch`` or ``stasis restart``):
it stays outside the computation's namespaces and holds its terminal. It listens on
the abstract Unix socket ``stasis-front-<inode of the computation's pid namespace>``
(native/restore/front.h); ``REPLACE <name> <checkpoint-dir>`` has it stop and kill
the whole computation and become ``stasis restart`` of that checkpoint, so a restore
never nests namespaces.
"""

import os
import socket
import struct
import time
from typing import NoReturn, Optional


def connect() -> Optional[socket.socket]:
    """A connection to this computation's front, or None if there is none (launched
    without namespaces, or an older front)."""
    try:
        ino = os.stat("/proc/self/ns/pid").st_ino
    except OSError:
        return None
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.settimeout(10.0)
        sock.connect("\0stasis-front-%d" % ino)
        _, uid, _ = struct.unpack("3i", sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED,
                                                         struct.calcsize("3i")))
    except OSError:
        sock.close()
        return None
    if uid != os.getuid():                     # a squatter of the name: not ours
        sock.close()
        return None
    return sock


def replace(sock: socket.socket, name: str, directory: str) -> NoReturn:
    """Asks the front to replace the computation by ``directory``; does not return
    (the front kills this process). Raises StasisError if the front refuses."""
    from . import StasisError
    try:
        sock.sendall(("REPLACE %s %s\n" % (name, directory)).encode("utf-8"))
        answer = b""
        while not answer.endswith(b"\n"):
            chunk = sock.recv(512)
            if not chunk:
                break
            answer += chunk
    except OSError as e:
        raise StasisError("cannot ask the computation's front to restore: %s" % e) from None
    text = answer.decode("utf-8", "replace").strip()
    if text != "OK":
        sock.close()
        raise StasisError("restore refused: " + (text[4:] if text.startswith("ERR ") else text or "no answer"))
    while True:                                # stopped and killed by the front
        time.sleep(3600)
