"""A small RFB (VNC) client of our own, and a PNG writer (internal).

Enough of RFB 3.8 (RFC 6143) to read the whole screen of a VNC server that listens on
a Unix socket with security type None (the graphics server of a computation: its socket
is mode 0600, so only its user gets there) and to send pointer and key events:

    with RfbClient.connect("/run/.../rfb.sock") as rfb:
        png = encode_png(rfb.width, rfb.height, rfb.screen())
        rfb.click(100, 200)

The PNG is written with zlib only (no PIL).
"""

import socket
import struct
import time
import zlib
from types import TracebackType
from typing import List, Optional, Tuple, Type

SECURITY_NONE = 1
ENCODING_RAW = 0


class RfbError(RuntimeError):
    """The VNC server did not answer as RFB says, or refused us."""


class RfbClient:
    """A connected RFB session (ClientInit done, pixels asked as 32-bit little-endian BGRX)."""

    def __init__(self, sock: socket.socket) -> None:
        self._sock = sock
        self.width = 0
        self.height = 0
        self.name = ""
        self._buttons = 0
        self._handshake()

    @classmethod
    def connect(cls, path: str, timeout: float = 10.0) -> "RfbClient":
        """Connects to the VNC server listening on Unix socket ``path``."""
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(timeout)
        try:
            sock.connect(path)
            return cls(sock)
        except BaseException:
            sock.close()
            raise

    def __enter__(self) -> "RfbClient":
        return self

    def __exit__(self, kind: Optional[Type[BaseException]], value: Optional[BaseException],
                 tb: Optional[TracebackType]) -> None:
        self.close()

    def close(self) -> None:
        self._sock.close()

    def _read(self, n: int) -> bytes:
        chunks: List[bytes] = []
        left = n
        while left > 0:
            chunk = self._sock.recv(min(left, 1 << 20))
            if not chunk:
                raise RfbError("the VNC server closed the connection")
            chunks.append(chunk)
            left -= len(chunk)
        return b"".join(chunks)

    def _handshake(self) -> None:
        version = self._read(12)
        if not version.startswith(b"RFB "):
            raise RfbError("not a VNC server (it greeted with %r)" % version)
        self._sock.sendall(b"RFB 003.008\n")
        count = self._read(1)[0]
        if count == 0:
            reason = self._read(struct.unpack(">I", self._read(4))[0])
            raise RfbError("the VNC server refused: %s" % reason.decode(errors="replace"))
        types = self._read(count)
        if SECURITY_NONE not in types:
            raise RfbError("the VNC server asks for a password (security types %s); "
                           "this client speaks only None" % list(types))
        self._sock.sendall(bytes([SECURITY_NONE]))
        if struct.unpack(">I", self._read(4))[0] != 0:
            raise RfbError("the VNC server refused the connection")
        self._sock.sendall(b"\x01")                       # ClientInit: shared
        self.width, self.height = struct.unpack(">HH", self._read(4))
        self._read(16)                                    # the server's pixel format
        self.name = self._read(struct.unpack(">I", self._read(4))[0]).decode(errors="replace")
        # SetPixelFormat: 32 bpp, depth 24, little-endian, true colour, 255/255/255, shifts 16/8/0
        self._sock.sendall(struct.pack(">BxxxBBBBHHHBBBxxx", 0, 32, 24, 0, 1, 255, 255, 255, 16, 8, 0))
        self._sock.sendall(struct.pack(">BxHi", 2, 1, ENCODING_RAW))  # SetEncodings: Raw only

    def screen(self) -> bytes:
        """The whole screen now: width*height pixels, 4 bytes each (B, G, R, unused)."""
        fb = bytearray(self.width * self.height * 4)
        self._sock.sendall(struct.pack(">BBHHHH", 3, 0, 0, 0, self.width, self.height))
        while True:
            kind = self._read(1)[0]
            if kind == 0:
                self._update(fb)
                return bytes(fb)
            self._skip_message(kind)

    def _update(self, fb: bytearray) -> None:
        self._read(1)
        (rects,) = struct.unpack(">H", self._read(2))
        for _ in range(rects):
            x, y, w, h, enc = struct.unpack(">HHHHi", self._read(12))
            if enc != ENCODING_RAW:
                raise RfbError("the VNC server sent encoding %d, not the Raw asked for" % enc)
            data = self._read(w * h * 4)
            for row in range(h):
                start = ((y + row) * self.width + x) * 4
                fb[start:start + w * 4] = data[row * w * 4:(row + 1) * w * 4]

    def _skip_message(self, kind: int) -> None:
        if kind == 1:                                     # SetColourMapEntries
            _, _, n = struct.unpack(">BHH", self._read(5))
            self._read(n * 6)
        elif kind == 2:                                   # Bell
            pass
        elif kind == 3:                                   # ServerCutText
            self._read(3)
            self._read(struct.unpack(">I", self._read(4))[0])
        else:
            raise RfbError("the VNC server sent an unknown message type %d" % kind)

    def pointer(self, x: int, y: int, buttons: int) -> None:
        """Moves the pointer to (x, y) with ``buttons`` (bit 0: left) held."""
        self._buttons = buttons
        self._sock.sendall(struct.pack(">BBHH", 5, buttons, x, y))

    def click(self, x: int, y: int, button: int = 1) -> None:
        """A press and release of ``button`` (1: left) at (x, y)."""
        mask = 1 << (button - 1)
        self.pointer(x, y, 0)
        time.sleep(0.05)
        self.pointer(x, y, mask)
        time.sleep(0.05)
        self.pointer(x, y, 0)

    def key(self, keysym: int) -> None:
        """A press and release of the key ``keysym`` (X keysym, e.g. 0x61 for 'a')."""
        self._sock.sendall(struct.pack(">BBxxI", 4, 1, keysym))
        self._sock.sendall(struct.pack(">BBxxI", 4, 0, keysym))


def encode_png(width: int, height: int, bgrx: bytes) -> bytes:
    """A PNG (8-bit RGB) of a screen as :meth:`RfbClient.screen` returns it."""
    rows = bytearray()
    stride = width * 4
    for y in range(height):
        line = bgrx[y * stride:(y + 1) * stride]
        rgb = bytearray(width * 3)
        rgb[0::3] = line[2::4]
        rgb[1::3] = line[1::4]
        rgb[2::3] = line[0::4]
        rows += b"\x00" + rgb

    def chunk(tag: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(bytes(rows), 6))
            + chunk(b"IEND", b""))


def decode_png_rgb(data: bytes) -> Tuple[int, int, bytes]:
    """Width, height and RGB bytes of a PNG that :func:`encode_png` wrote (8-bit RGB,
    no interlace, filter 0 on every row): for tests that compare screens."""
    pos = 8
    width = height = 0
    idat = b""
    while pos < len(data):
        (n,) = struct.unpack(">I", data[pos:pos + 4])
        tag = data[pos + 4:pos + 8]
        body = data[pos + 8:pos + 8 + n]
        if tag == b"IHDR":
            width, height = struct.unpack(">II", body[:8])
        elif tag == b"IDAT":
            idat += body
        pos += 12 + n
    raw = zlib.decompress(idat)
    stride = width * 3 + 1
    return width, height, b"".join(raw[y * stride + 1:(y + 1) * stride] for y in range(height))
