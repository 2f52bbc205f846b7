"""Unit tests of the RFB client and PNG writer (stasis._rfb) against a small fake VNC
server on a socket pair: handshake, a screen in two raw rectangles, pointer events."""
import os
import socket
import struct
import sys
import threading
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from stasis import _rfb  # noqa: E402


def _fake_server(sock, width, height, events):
    def read(n):
        data = b""
        while len(data) < n:
            chunk = sock.recv(n - len(data))
            if not chunk:
                raise EOFError
            data += chunk
        return data
    sock.sendall(b"RFB 003.008\n")
    read(12)
    sock.sendall(b"\x01\x01")                            # one security type: None
    read(1)
    sock.sendall(struct.pack(">I", 0))
    read(1)                                              # ClientInit
    sock.sendall(struct.pack(">HH", width, height) + b"\x00" * 16 + struct.pack(">I", 4) + b"fake")
    read(20)                                             # SetPixelFormat
    read(4 + 4)                                          # SetEncodings, one
    try:
        while True:
            kind = read(1)[0]
            if kind == 3:                                # FramebufferUpdateRequest
                read(9)
                sock.sendall(b"\x02")                    # a Bell first: skipped
                top = bytes([1, 2, 3, 0]) * (width * 1)  # row 0: B=1 G=2 R=3
                rest = bytes([10, 20, 30, 0]) * (width * (height - 1))
                sock.sendall(struct.pack(">BxH", 0, 2))
                sock.sendall(struct.pack(">HHHHi", 0, 0, width, 1, 0) + top)
                sock.sendall(struct.pack(">HHHHi", 0, 1, width, height - 1, 0) + rest)
            elif kind == 5:
                events.append(struct.unpack(">BHH", read(5)))
            else:
                return
    except EOFError:
        return


class RfbTest(unittest.TestCase):
    def test_screen_png_and_click(self):
        a, b = socket.socketpair()
        events = []
        server = threading.Thread(target=_fake_server, args=(b, 5, 3, events))
        server.start()
        with _rfb.RfbClient(a) as client:
            self.assertEqual((client.width, client.height, client.name), (5, 3, "fake"))
            pixels = client.screen()
            client.click(2, 1)
        server.join(5)
        b.close()
        width, height, rgb = _rfb.decode_png_rgb(_rfb.encode_png(5, 3, pixels))
        self.assertEqual((width, height), (5, 3))
        self.assertEqual(rgb[:3], bytes([3, 2, 1]))
        self.assertEqual(rgb[15:18], bytes([30, 20, 10]))
        self.assertEqual(len(rgb), 5 * 3 * 3)
        self.assertEqual(events, [(0, 2, 1), (1, 2, 1), (0, 2, 1)])

    def test_password_servers_are_refused_with_a_message(self):
        a, b = socket.socketpair()
        b.sendall(b"RFB 003.008\n\x01\x02")                # only VncAuth
        with self.assertRaisesRegex(_rfb.RfbError, "asks for a password"):
            _rfb.RfbClient(a)
        a.close()
        b.close()


if __name__ == "__main__":
    unittest.main()
