"""An X client that draws as toolkits (cairo, Qt, GTK) do: through MIT-SHM (System V
shared memory shared with the X server) when the server offers it, else with plain
XPutImage. shm_prog.py GO STOP: fills a 300x200 window's image with orange and puts
it, prints "drawn shm" or "drawn plain"; once GO exists fills the same image memory
with teal and puts it again, prints "redrawn"; exits 0 once STOP exists.
Needs libX11 and libXext (ctypes, no headers)."""
import ctypes
import ctypes.util
import os
import sys
import time

W, H = 300, 200
ORANGE, TEAL = 0xFF7F0E, 0x17BECF


class ShmInfo(ctypes.Structure):
    _fields_ = [("shmseg", ctypes.c_ulong), ("shmid", ctypes.c_int), ("shmaddr", ctypes.c_void_p),
                ("readOnly", ctypes.c_int)]


class XImage(ctypes.Structure):                       # the leading fields of Xlib's XImage
    _fields_ = [("width", ctypes.c_int), ("height", ctypes.c_int), ("xoffset", ctypes.c_int),
                ("format", ctypes.c_int), ("data", ctypes.c_void_p), ("byte_order", ctypes.c_int),
                ("bitmap_unit", ctypes.c_int), ("bitmap_bit_order", ctypes.c_int), ("bitmap_pad", ctypes.c_int),
                ("depth", ctypes.c_int), ("bytes_per_line", ctypes.c_int), ("bits_per_pixel", ctypes.c_int)]


x11 = ctypes.CDLL("libX11.so.6")
xext = ctypes.CDLL("libXext.so.6")
libc = ctypes.CDLL(None, use_errno=True)
x11.XOpenDisplay.restype = ctypes.c_void_p
x11.XOpenDisplay.argtypes = [ctypes.c_char_p]
for name, res, args in [
        ("XDefaultScreen", ctypes.c_int, [ctypes.c_void_p]),
        ("XDefaultVisual", ctypes.c_void_p, [ctypes.c_void_p, ctypes.c_int]),
        ("XDefaultDepth", ctypes.c_int, [ctypes.c_void_p, ctypes.c_int]),
        ("XRootWindow", ctypes.c_ulong, [ctypes.c_void_p, ctypes.c_int]),
        ("XCreateSimpleWindow", ctypes.c_ulong, [ctypes.c_void_p, ctypes.c_ulong, ctypes.c_int, ctypes.c_int,
                                                 ctypes.c_uint, ctypes.c_uint, ctypes.c_uint, ctypes.c_ulong,
                                                 ctypes.c_ulong]),
        ("XMapWindow", ctypes.c_int, [ctypes.c_void_p, ctypes.c_ulong]),
        ("XCreateGC", ctypes.c_void_p, [ctypes.c_void_p, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_void_p]),
        ("XSync", ctypes.c_int, [ctypes.c_void_p, ctypes.c_int])]:
    fn = getattr(x11, name)
    fn.restype, fn.argtypes = res, args
xext.XShmQueryExtension.argtypes = [ctypes.c_void_p]
xext.XShmCreateImage.restype = ctypes.POINTER(XImage)
xext.XShmCreateImage.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_uint, ctypes.c_int, ctypes.c_char_p,
                                 ctypes.POINTER(ShmInfo), ctypes.c_uint, ctypes.c_uint]
xext.XShmAttach.argtypes = [ctypes.c_void_p, ctypes.POINTER(ShmInfo)]
xext.XShmPutImage.argtypes = [ctypes.c_void_p, ctypes.c_ulong, ctypes.c_void_p, ctypes.POINTER(XImage),
                              ctypes.c_int, ctypes.c_int, ctypes.c_int, ctypes.c_int, ctypes.c_uint, ctypes.c_uint,
                              ctypes.c_int]
libc.shmget.argtypes = [ctypes.c_int, ctypes.c_size_t, ctypes.c_int]
libc.shmat.restype = ctypes.c_void_p
libc.shmat.argtypes = [ctypes.c_int, ctypes.c_void_p, ctypes.c_int]
libc.shmctl.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_void_p]

x11.XCreateImage.restype = ctypes.POINTER(XImage)
x11.XCreateImage.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_uint, ctypes.c_int, ctypes.c_int,
                             ctypes.c_void_p, ctypes.c_uint, ctypes.c_uint, ctypes.c_int, ctypes.c_int]
x11.XPutImage.argtypes = [ctypes.c_void_p, ctypes.c_ulong, ctypes.c_void_p, ctypes.POINTER(XImage), ctypes.c_int,
                          ctypes.c_int, ctypes.c_int, ctypes.c_int, ctypes.c_uint, ctypes.c_uint]

dpy = x11.XOpenDisplay(None)
if not dpy:
    sys.exit("no X display")
screen = x11.XDefaultScreen(dpy)
use_shm = bool(xext.XShmQueryExtension(dpy))
info = ShmInfo()
if use_shm:
    image = xext.XShmCreateImage(dpy, x11.XDefaultVisual(dpy, screen), x11.XDefaultDepth(dpy, screen), 2, None,
                                 ctypes.byref(info), W, H)
    size = image.contents.bytes_per_line * H
    info.shmid = libc.shmget(0, size, 0o1000 | 0o600)          # IPC_PRIVATE, IPC_CREAT
    info.shmaddr = libc.shmat(info.shmid, None, 0)
    image.contents.data = info.shmaddr
    info.readOnly = 0
    xext.XShmAttach(dpy, ctypes.byref(info))
    x11.XSync(dpy, 0)
    libc.shmctl(info.shmid, 0, None)                            # IPC_RMID: gone once both detach
    memory = info.shmaddr
else:
    pixels = ctypes.create_string_buffer(W * H * 4)
    memory = ctypes.addressof(pixels)
    image = x11.XCreateImage(dpy, x11.XDefaultVisual(dpy, screen), x11.XDefaultDepth(dpy, screen), 2, 0, memory,
                             W, H, 32, 0)
    size = W * H * 4
window = x11.XCreateSimpleWindow(dpy, x11.XRootWindow(dpy, screen), 0, 0, W, H, 0, 0, 0)
gc = x11.XCreateGC(dpy, window, 0, None)
x11.XMapWindow(dpy, window)
x11.XSync(dpy, 0)
time.sleep(0.3)


def draw(colour):
    row = colour.to_bytes(4, "little") * W
    buf = (ctypes.c_char * size).from_address(memory)
    for y in range(H):
        start = y * image.contents.bytes_per_line
        buf[start:start + len(row)] = row
    if use_shm:
        xext.XShmPutImage(dpy, window, gc, image, 0, 0, 0, 0, W, H, 0)
    else:
        x11.XPutImage(dpy, window, gc, image, 0, 0, 0, 0, W, H)
    x11.XSync(dpy, 0)


draw(ORANGE)
print("drawn", "shm" if use_shm else "plain", flush=True)
while not os.path.exists(sys.argv[1]):
    time.sleep(0.05)
draw(TEAL)
print("redrawn", flush=True)
while not os.path.exists(sys.argv[2]):
    time.sleep(0.05)
print("OK shm", flush=True)
