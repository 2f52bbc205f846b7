"""Graphics: a private VNC X server inside the computation, a viewer outside it.

Inside a program run by ``stasis launch``::

    import stasis.graphics as g
    g.start_graphics()            # Xvnc on a free display; DISPLAY set in os.environ
    import matplotlib.pyplot as plt   # TkAgg, GTK... now draw on it
    print(g.show_graphics())      # a web viewer (noVNC) outside: its URL

Xvnc (Debian: tigervnc-standalone-server) is a process of the computation: it and
its windows are checkpointed and restarted with the program. It listens only on a
Unix socket (mode 0600, in the user's private runtime directory), never on TCP. The
viewer is never part of a checkpoint: websockify (Debian: websockify, novnc) bound to
127.0.0.1 on a free port, reachable only with a one-time random token in its URL; or
TigerVNC's vncviewer with ``viewer="native"``. After a restart, a program that had a
viewer showing gets a fresh one and prints its address.

The same module is the command line's helper (``python3 -m stasis.graphics``):
``run`` (``stasis launch --graphics``), ``show`` and ``screenshot``.

Outside Stasis the functions say so once and do nothing.
"""

import atexit
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from typing import Dict, List, Optional, Sequence, Tuple

from . import _control, _rfb

__all__ = ["start_graphics", "show_graphics", "stop_graphics", "startGraphics", "showGraphics",
           "stopGraphics", "GraphicsError", "Display", "screenshot"]

XVNC_PACKAGE = "tigervnc-standalone-server"
NOVNC_DIR = "/usr/share/novnc"


class GraphicsError(RuntimeError):
    """The graphics server or its viewer could not be started or reached."""


@dataclass(frozen=True)
class Display:
    """A VNC X server of a computation."""
    number: int          #: the X display number (DISPLAY=":<number>")
    socket: str          #: the Unix socket where it speaks RFB (VNC)


_server: Optional["subprocess.Popen[bytes]"] = None
_display: Optional[Display] = None
_outer_display: Optional[str] = None       # DISPLAY before ours (for the native viewer)
_viewer_kind: Optional[str] = None          # the viewer shown ("web", "native"), re-shown after a restart
_noticed: List[str] = []


def _notice(what: str) -> None:
    if what not in _noticed:
        _noticed.append(what)
        sys.stderr.write("stasis: not running under Stasis; %s does nothing\n" % what)
        sys.stderr.flush()


def _enabled() -> bool:
    import stasis
    return stasis.enabled()


def graphics_dir() -> str:
    """The private directory (0700, in the Stasis runtime directory) of the VNC sockets,
    viewers' token files and logs."""
    try:
        base = _control.runtime_dir()
    except _control.ControlError as e:
        raise GraphicsError(str(e)) from None
    path = os.path.join(base, "graphics")
    os.makedirs(path, mode=0o700, exist_ok=True)
    os.chmod(path, 0o700)
    return path


def find_xvnc() -> str:
    """The Xvnc binary; GraphicsError naming the package to install if there is none."""
    found = shutil.which("Xvnc")
    if found is None:
        raise GraphicsError("Xvnc is not installed: install the package %s (apt-get install %s)"
                            % (XVNC_PACKAGE, XVNC_PACKAGE))
    return found


def _parse_geometry(geometry: str) -> str:
    w, sep, h = geometry.lower().partition("x")
    if not sep or not w.isdigit() or not h.isdigit() or not (16 <= int(w) <= 16384 and 16 <= int(h) <= 16384):
        raise ValueError("geometry must be WIDTHxHEIGHT, e.g. 1280x800 (got %r)" % geometry)
    return "%dx%d" % (int(w), int(h))


def _die_with_parent() -> None:
    """In the forked child: SIGTERM when the parent ends (PR_SET_PDEATHSIG; the restart
    brings it back)."""
    import ctypes
    ctypes.CDLL(None).prctl(1, int(signal.SIGTERM), 0, 0, 0)


def _spawn_server(geometry: str, depth: int, opengl: bool,
                  die_with_parent: bool = False) -> "Tuple[subprocess.Popen[bytes], Display]":
    xvnc = find_xvnc()
    if depth not in (16, 24, 32):
        raise ValueError("depth must be 16, 24 or 32 (got %r)" % depth)
    sock = os.path.join(graphics_dir(), "rfb-%d-%s.sock" % (os.getpid(), secrets.token_hex(4)))
    r, w = os.pipe()
    argv = [xvnc, "-displayfd", str(w), "-geometry", _parse_geometry(geometry), "-depth", str(depth),
            "-rfbport", "-1", "-rfbunixpath", sock, "-rfbunixmode", "0600", "-SecurityTypes", "None",
            "-nolisten", "tcp", "-AlwaysShared", "-desktop", "stasis",
            # clients then draw without System V shared memory, which a restart cannot bring back
            "-extension", "MIT-SHM"] + ([] if opengl else
            # no GLX: its software renderer (Mesa, LLVM) would add some 200 MiB to every checkpoint
            ["-extension", "GLX"])
    log = open(os.path.join(graphics_dir(), "xvnc-%d.log" % os.getpid()), "ab")
    try:
        proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=log, stderr=log, pass_fds=(w,),
                                preexec_fn=_die_with_parent if die_with_parent else None)
    finally:
        os.close(w)
        log.close()
    try:
        number = _read_display(r, proc)
    finally:
        os.close(r)
    _wait_socket(sock, proc)
    return proc, Display(number, sock)


def _read_display(fd: int, proc: "subprocess.Popen[bytes]") -> int:
    text = b""
    deadline = time.monotonic() + 30
    while not text.endswith(b"\n"):
        if time.monotonic() > deadline:
            proc.kill()
            raise GraphicsError("Xvnc did not say its display within 30 s (see %s)" % graphics_dir())
        chunk = os.read(fd, 64)
        if not chunk:
            raise GraphicsError("Xvnc ended at start (exit status %s); see its log in %s"
                                % (proc.wait(), graphics_dir()))
        text += chunk
    return int(text.strip())


def _wait_socket(path: str, proc: "subprocess.Popen[bytes]") -> None:
    deadline = time.monotonic() + 30
    while not os.path.exists(path):
        if proc.poll() is not None or time.monotonic() > deadline:
            raise GraphicsError("Xvnc did not open its VNC socket %s" % path)
        time.sleep(0.02)


def start_graphics(geometry: str = "1280x800", depth: int = 24, opengl: bool = False) -> Optional[str]:
    """Starts Xvnc on a free display inside the computation and sets ``DISPLAY`` in
    ``os.environ`` (Tk, matplotlib's TkAgg and GTK pick it up). Returns the display
    (``":1"``); the same one if graphics already run. Outside Stasis: does nothing,
    returns None.

    The server offers no MIT-SHM (clients draw without System V shared memory, which
    a restart cannot bring back) and, unless ``opengl``, no GLX (its software renderer
    would add some 200 MiB to every checkpoint).

    :raises GraphicsError: Xvnc is missing (the message names the package) or failed
    """
    global _server, _display, _outer_display
    if not _enabled():
        _notice("start_graphics()")
        return None
    if _display is not None and _server is not None and _server.poll() is None:
        return ":%d" % _display.number
    proc, display = _spawn_server(geometry, depth, opengl)
    _server, _display = proc, display
    _outer_display = os.environ.get("DISPLAY")
    os.environ["DISPLAY"] = ":%d" % display.number
    os.environ["STASIS_VNC_SOCKET"] = display.socket
    atexit.register(stop_graphics)
    _install_restart_hook()
    return os.environ["DISPLAY"]


def stop_graphics() -> None:
    """Stops the viewer and the X server started by :func:`start_graphics`; puts the
    old ``DISPLAY`` back. Outside Stasis: does nothing."""
    global _server, _display, _viewer_kind
    if _display is None:
        if not _enabled():
            _notice("stop_graphics()")
        return
    stop_viewer(_display)
    _viewer_kind = None
    if _server is not None and _server.poll() is None:
        _server.terminate()
        try:
            _server.wait(10)
        except subprocess.TimeoutExpired:
            _server.kill()
            _server.wait()
    if _outer_display is None:
        os.environ.pop("DISPLAY", None)
    else:
        os.environ["DISPLAY"] = _outer_display
    os.environ.pop("STASIS_VNC_SOCKET", None)
    _server, _display = None, None


def show_graphics(viewer: str = "web") -> Optional[str]:
    """Opens a viewer of the graphics outside the computation and returns where to
    look: the web viewer's URL (noVNC, 127.0.0.1, one-time token), or for
    ``viewer="native"`` the socket TigerVNC's vncviewer shows. Called twice, it
    returns the viewer already showing. Outside Stasis, or before
    :func:`start_graphics`: says so, returns None. A viewer that fails to start is a
    warning on stderr (None); the computation is unaffected."""
    global _viewer_kind
    if not _enabled():
        _notice("show_graphics()")
        return None
    if _display is None:
        sys.stderr.write("stasis: show_graphics(): no graphics yet; call start_graphics() first\n")
        return None
    try:
        where = open_viewer(_display, viewer, outer_display=_outer_display, leave_computation=True)
    except GraphicsError as e:
        sys.stderr.write("stasis: warning: %s\n" % e)
        return None
    _viewer_kind = viewer
    return where


startGraphics = start_graphics
showGraphics = show_graphics
stopGraphics = stop_graphics


def _install_restart_hook() -> None:
    import stasis
    stasis.on_restart(_after_restart)


def _after_restart() -> None:
    """A restarted program that had opened a viewer (show_graphics) gets one again
    (viewers are outside the checkpoint): the one still answering, else a fresh one;
    its address goes to stderr. Viewers of ``stasis show``: see :func:`_reshow`."""
    if _display is None or _viewer_kind is None:
        return
    try:
        where = open_viewer(_display, _viewer_kind, outer_display=_outer_display, leave_computation=True)
        sys.stderr.write("stasis: graphics restored; viewer: %s\n" % where)
    except GraphicsError as e:
        sys.stderr.write("stasis: warning: no viewer after the restart: %s\n" % e)
    sys.stderr.flush()


# ---------------------------------------------------------------- viewers

def _viewer_file(display: Display) -> str:
    return os.path.join(os.path.dirname(display.socket), os.path.basename(display.socket) + ".viewer.json")


def _outside_env(extra: Optional[Dict[str, str]] = None) -> Dict[str, str]:
    """The environment of a helper that must not join the computation."""
    env = dict(os.environ)
    env["STASIS_AGENT_SOCKET"] = ""
    preload = [p for p in env.get("LD_PRELOAD", "").replace(":", " ").split() if "libstasis-agent" not in p]
    if preload:
        env["LD_PRELOAD"] = " ".join(preload)
    else:
        env.pop("LD_PRELOAD", None)
    env.update(extra or {})
    return env


def _port_answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


def _viewer_state(display: Display) -> Optional[Dict[str, object]]:
    try:
        with open(_viewer_file(display)) as f:
            state = json.load(f)
    except (OSError, ValueError):
        return None
    return state if isinstance(state, dict) else None


def current_viewer(display: Display) -> Optional[str]:
    """The address of the viewer showing ``display`` now, or None."""
    state = _viewer_state(display)
    if state is None:
        return None
    if state.get("kind") == "web" and _port_answers(int(str(state.get("port", 0)))):
        return str(state["url"])
    return None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def open_viewer(display: Display, kind: str = "web", outer_display: Optional[str] = None,
                leave_computation: bool = False) -> str:
    """Starts a viewer of ``display`` (reuses a web viewer that still answers) and
    returns its address. ``leave_computation``: the viewer is started from a process
    of the computation and must stay out of it."""
    if kind == "native":
        return _open_native(display, outer_display, leave_computation)
    if kind != "web":
        raise GraphicsError("unknown viewer %r: web or native" % kind)
    known = current_viewer(display)
    if known is not None:
        return known
    websockify = shutil.which("websockify")
    if websockify is None or not os.path.isdir(NOVNC_DIR):
        raise GraphicsError("the web viewer needs the packages websockify and novnc (apt-get install websockify novnc)")
    token = secrets.token_urlsafe(24)
    gdir = os.path.dirname(display.socket)
    tokens = os.path.join(gdir, os.path.basename(display.socket) + ".token")
    fd = os.open(tokens, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write("%s: unix_socket:%s\n" % (token, display.socket))
    port = _free_port()
    log = open(os.path.join(gdir, "viewer-%d.log" % display.number), "ab")
    argv = [websockify, "--web", NOVNC_DIR, "--token-plugin", "TokenFile", "--token-source", tokens,
            "127.0.0.1:%d" % port]
    try:
        proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True,
                                env=_outside_env() if leave_computation else None)
    finally:
        log.close()
    url = ("http://127.0.0.1:%d/vnc.html?autoconnect=1&resize=scale&path=websockify%%3Ftoken%%3D%s"
           % (port, token))
    deadline = time.monotonic() + 15
    while not _port_answers(port):
        if proc.poll() is not None or time.monotonic() > deadline:
            raise GraphicsError("the web viewer (websockify) did not start; see %s" % gdir)
        time.sleep(0.05)
    state = {"kind": "web", "port": port, "url": url, "pid": proc.pid,
             "origin": "program" if leave_computation else "cli"}
    with open(_viewer_file(display) + ".tmp", "w") as f:
        json.dump(state, f)
    os.replace(_viewer_file(display) + ".tmp", _viewer_file(display))
    return url


def _open_native(display: Display, outer_display: Optional[str], leave_computation: bool) -> str:
    viewer = shutil.which("vncviewer")
    if viewer is None:
        raise GraphicsError("the native viewer needs the package tigervnc-viewer")
    if not outer_display:
        raise GraphicsError("the native viewer needs a local X display (DISPLAY is not set); use the web viewer")
    subprocess.Popen([viewer, display.socket], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                     stderr=subprocess.DEVNULL, start_new_session=True,
                     env=_outside_env({"DISPLAY": outer_display}) if leave_computation else
                     dict(os.environ, DISPLAY=outer_display))
    return "vncviewer %s (on %s)" % (display.socket, outer_display)


def stop_viewer(display: Display) -> None:
    """Stops the web viewer of ``display`` if one runs (it was started from here)."""
    path = _viewer_file(display)
    try:
        with open(path) as f:
            state = json.load(f)
        os.unlink(path)
    except (OSError, ValueError):
        return
    pid = int(str(state.get("pid", 0)))
    port = int(str(state.get("port", 0)))
    if pid <= 0 or not _port_answers(port):
        return
    # websockify may swallow SIGTERM (its handler raises inside its logging): then SIGKILL
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.kill(pid, sig)
        except OSError:
            return
        deadline = time.monotonic() + 1.0
        while time.monotonic() < deadline and _port_answers(port):
            time.sleep(0.05)
        if not _port_answers(port):
            return


# ---------------------------------------------------------------- outside: the CLI's helpers

def display_of(name: str, computation: Optional[str] = None) -> Display:
    """The VNC server of a computation of coordinator ``name``: its Xvnc process found
    in ``stasis status --json`` and its exact arguments in /proc."""
    try:
        status, out, err = _control.execute("stasis:status --json", name=name)
    except _control.ControlError as e:
        raise GraphicsError(str(e)) from None
    if status != 0:
        raise GraphicsError("stasis status failed: " + (err.strip() or out.strip()))
    found: List[Display] = []
    for comp in json.loads(out).get("computations", []):
        if computation is not None and comp.get("id") != computation:
            continue
        for proc in comp.get("processes", []):
            display = _xvnc_display(int(proc.get("hostPid", 0)))
            if display is not None:
                found.append(display)
    if not found:
        where = "computation %s" % computation if computation else "any computation of coordinator '%s'" % name
        raise GraphicsError("no graphics server (Xvnc) runs in %s; start it with stasis launch --graphics "
                            "or stasis.start_graphics()" % where)
    if len(found) > 1:
        raise GraphicsError("several computations have graphics; name one with --computation ID")
    return found[0]


def _xvnc_display(host_pid: int) -> Optional[Display]:
    try:
        with open("/proc/%d/cmdline" % host_pid, "rb") as f:
            argv = [a.decode(errors="replace") for a in f.read().split(b"\0")]
    except OSError:
        return None
    if not argv or os.path.basename(argv[0]) != "Xvnc" or "-rfbunixpath" not in argv:
        return None
    sock = argv[argv.index("-rfbunixpath") + 1]
    return Display(_x_display_number(host_pid), sock)


def _x_display_number(host_pid: int) -> int:
    """The display number of the X server ``host_pid``: the name of the X socket it
    listens on (``/tmp/.X11-unix/X<n>``, path or abstract), from /proc; -1 if none."""
    try:
        inodes = set()
        for fd in os.listdir("/proc/%d/fd" % host_pid):
            target = os.readlink("/proc/%d/fd/%s" % (host_pid, fd))
            if target.startswith("socket:["):
                inodes.add(target[8:-1])
        with open("/proc/%d/net/unix" % host_pid) as f:
            rows = [line.split() for line in f.readlines()[1:]]
    except OSError:
        return -1
    for row in rows:
        if len(row) >= 8 and row[6] in inodes and "/.X11-unix/X" in row[7]:
            digits = row[7].rsplit("/X", 1)[1]
            if digits.isdigit():
                return int(digits)
    return -1


def screenshot(display: Display, path: str) -> Tuple[int, int]:
    """Writes the screen of ``display`` to ``path`` as PNG; returns its size."""
    try:
        with _rfb.RfbClient.connect(display.socket) as c:
            pixels = c.screen()
            size = (c.width, c.height)
    except (OSError, _rfb.RfbError) as e:
        raise GraphicsError("cannot read the screen from %s: %s" % (display.socket, e)) from None
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(_rfb.encode_png(size[0], size[1], pixels))
    os.replace(tmp, path)
    return size


def _option(args: List[str], flag: str, default: Optional[str]) -> Optional[str]:
    if flag in args:
        i = args.index(flag)
        if i + 1 >= len(args):
            raise SystemExit("stasis: %s needs a value" % flag)
        value = args[i + 1]
        del args[i:i + 2]
        return value
    return default


def _run(args: List[str]) -> int:
    """``stasis launch --graphics``: Xvnc first, then this process becomes the program
    (exec) with DISPLAY set; Xvnc, its child, ends with it (PR_SET_PDEATHSIG). No
    helper process stays in the computation."""
    geometry = _option(args, "--geometry", "1280x800") or "1280x800"
    if args and args[0] == "--":
        args = args[1:]
    if not args:
        raise SystemExit("stasis: launch --graphics needs a program")
    if not _enabled():
        _notice("launch --graphics")
        return 1
    _, display = _spawn_server(geometry, 24, False, die_with_parent=True)
    os.environ["DISPLAY"] = ":%d" % display.number
    os.environ["STASIS_VNC_SOCKET"] = display.socket
    sys.stdout.flush()
    sys.stderr.flush()
    try:
        os.execvp(args[0], args)
    except OSError as e:
        raise GraphicsError("cannot run %s: %s" % (args[0], e.strerror)) from None


def _reshow(name: str, timeout: float = 60.0) -> int:
    """After ``stasis restart`` (run beside it, outside the computation): once the
    restored Xvnc answers, a viewer that ``stasis show`` had opened before the
    checkpoint is shown again (the one still answering, else a fresh one) and its
    address printed. Nothing if no viewer was showing."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            display = display_of(name)
        except GraphicsError:
            time.sleep(0.2)
            continue
        state = _viewer_state(display)
        if state is None or state.get("origin") != "cli":
            return 0
        if current_viewer(display) is not None:
            sys.stderr.write("stasis: graphics viewer: %s\n" % current_viewer(display))
            return 0
        try:
            url = open_viewer(display, str(state.get("kind", "web")))
        except GraphicsError as e:
            sys.stderr.write("stasis: warning: no viewer after the restart: %s\n" % e)
            return 1
        sys.stderr.write("stasis: graphics restored; viewer: %s\n" % url)
        return 0
    return 1


def main(argv: Optional[Sequence[str]] = None) -> int:
    """The CLI's helper: ``run [--geometry WxH] -- PROG...``, ``show [--viewer web|native]
    [--computation ID]``, ``screenshot [-o FILE] [--computation ID]``."""
    args = list(sys.argv[1:] if argv is None else argv)
    if not args:
        sys.stderr.write("usage: python3 -m stasis.graphics run|show|screenshot ...\n")
        return 2
    cmd = args.pop(0)
    try:
        if cmd == "run":
            return _run(args)
        name = _option(args, "--name", None) or os.environ.get("STASIS_NAME") or "default"
        computation = _option(args, "--computation", None)
        if cmd == "reshow":
            return _reshow(name)
        if cmd == "show":
            kind = _option(args, "--viewer", "web") or "web"
            display = display_of(name, computation)
            print(open_viewer(display, kind, outer_display=os.environ.get("DISPLAY")))
            return 0
        if cmd == "screenshot":
            out = _option(args, "-o", None) or _option(args, "--output", None) or "screenshot.png"
            display = display_of(name, computation)
            w, h = screenshot(display, out)
            print("%s (%dx%d)" % (out, w, h))
            return 0
    except GraphicsError as e:
        sys.stderr.write("stasis: %s\n" % e)
        return 1
    sys.stderr.write("stasis: unknown graphics command %r\n" % cmd)
    return 2


if __name__ == "__main__":
    sys.exit(main())
