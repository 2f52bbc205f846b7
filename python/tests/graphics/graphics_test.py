#!/usr/bin/env python3
"""Graphics scenarios of issue #12, against the real programs (Xvnc, matplotlib TkAgg,
Tk, websockify + noVNC, headless Chromium) through the real command line:

    graphics_test.py SCENARIO        (STASIS_HOME: the distribution; default ../../../dist)

Each scenario starts a coordinator of its own in a private temporary runtime
directory, kills only the processes it started (by pid), removes its files, and
prints "OK <scenario>" last when everything held. Run by GraphicsIT."""
import glob
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(os.path.dirname(HERE)))
DIST = os.environ.get("STASIS_HOME") or os.path.join(REPO, "dist")
STASIS = os.path.join(DIST, "bin", "stasis")
PY = "/usr/bin/python3"
sys.path.insert(0, os.path.join(DIST, "python"))
from stasis import _rfb  # noqa: E402

RED = (0xd6, 0x27, 0x28)      # the animated line of anim.py
BLUE = (0x1f, 0x77, 0xb4)     # the band under it
GREEN = (0x2c, 0xa0, 0x2c)    # tkclick.py's button


class Failed(Exception):
    pass


def check(cond, what):
    if not cond:
        raise Failed(what() if callable(what) else what)


class Run:
    """A coordinator of its own, the programs started under it, their files."""

    def __init__(self, scenario):
        self.dir = tempfile.mkdtemp(prefix="stasis-graphics-%s-" % scenario)
        os.chmod(self.dir, 0o700)
        self.rundir = os.path.join(self.dir, "run")
        os.mkdir(self.rundir, 0o700)
        self.env = dict(os.environ, STASIS_RUNTIME_DIR=self.rundir, STASIS_HOME=DIST)
        os.environ["STASIS_RUNTIME_DIR"] = self.rundir
        self.env.pop("DISPLAY", None)
        self.name = "g" + scenario.replace("_", "")
        self.ck = os.path.join(self.dir, "ck")
        self.procs = []
        self.displays = []         # X displays of the scenario's own servers (their files removed at the end)
        self.cli("coordinator", "--daemon", "--name", self.name, "--ckpt-dir", self.ck)

    def path(self, name):
        return os.path.join(self.dir, name)

    def cli(self, *args, ok=True, timeout=120):
        r = subprocess.run([STASIS] + list(args) + ([] if args[0] in ("launch", "restart") else ["--name", self.name]),
                           env=self.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                           timeout=timeout, stdin=subprocess.DEVNULL)
        if ok:
            check(r.returncode == 0, lambda: "stasis %s: exit %d\n%s%s" % (" ".join(args), r.returncode,
                                                                            r.stdout, r.stderr))
        return r

    def start(self, log, *args, env=None):
        f = open(log, "a")
        p = subprocess.Popen([STASIS] + list(args), env=env or self.env, stdout=f, stderr=f,
                             stdin=subprocess.DEVNULL)
        f.close()
        self.procs.append(p)
        return p

    def launch(self, log, *argv, options=("--graphics",)):
        return self.start(log, "launch", "--name", self.name, *options, "--", *argv)

    def restart(self, ckpt, log):
        return self.start(log, "restart", "--name", self.name, ckpt)

    def checkpoint(self, *options):
        return self.cli("checkpoint", *options).stdout.strip().splitlines()[-1]

    def kill(self, proc):
        self.cli("kill")
        proc.wait(timeout=30)

    def screenshot(self, name):
        out = self.path(name)
        self.cli("screenshot", "-o", out)
        with open(out, "rb") as f:
            return _rfb.decode_png_rgb(f.read())

    def rfb_socket(self):
        socks = glob.glob(os.path.join(self.rundir, "graphics", "rfb-*.sock"))
        check(len(socks) == 1, lambda: "one VNC socket expected: %s" % socks)
        return socks[0]

    def close(self, keep=False):
        if self.cli("status", ok=False).returncode == 0:
            self.cli("kill", ok=False)
        for p in self.procs:
            if p.poll() is None:
                p.kill()
                p.wait()
        # the viewers of this run (their token files are in its directory), inside a
        # computation's pid namespace or not: by the pids /proc shows out here
        for pid in _helpers_of(self.rundir):
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        self.cli("shutdown", ok=False)
        for n in self.displays:    # what the killed servers of this scenario left
            for leftover in ("/tmp/.X%d-lock" % n, "/tmp/.X11-unix/X%d" % n):
                try:
                    os.unlink(leftover)
                except OSError:
                    pass
        if not keep:
            shutil.rmtree(self.dir, ignore_errors=True)


def _helpers_of(directory):
    """Host pids of the websockify viewers whose arguments name `directory`."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open("/proc/%s/cmdline" % entry, "rb") as f:
                argv = f.read().decode(errors="replace").split("\0")
        except OSError:
            continue
        if any(a.endswith("websockify") for a in argv[:2]) and any(directory in a for a in argv):
            found.append(int(entry))
    return found


def wait_for(path, pattern, proc=None, timeout=60, after=0):
    """Waits until file `path` has a line matching `pattern` at or after line `after`;
    returns the match."""
    deadline = time.time() + timeout
    rx = re.compile(pattern)
    while time.time() < deadline:
        with open(path, errors="replace") as f:
            lines = f.read().splitlines()
        for line in lines[after:]:
            m = rx.search(line)
            if m:
                return m
        if proc is not None and proc.poll() is not None:
            raise Failed("ended (exit %s) before %r: %s" % (proc.returncode, pattern, lines[-5:]))
        time.sleep(0.05)
    raise Failed("no %r in %s within %d s: %s" % (pattern, path, timeout, lines[-5:]))


def count_lines(path):
    with open(path, errors="replace") as f:
        return len(f.read().splitlines())


def colour_pixels(rgb, colour, tolerance=24):
    n = 0
    r0, g0, b0 = colour
    for i in range(0, len(rgb) - 2, 3):
        if abs(rgb[i] - r0) <= tolerance and abs(rgb[i + 1] - g0) <= tolerance and abs(rgb[i + 2] - b0) <= tolerance:
            n += 1
    return n


def frames_advance(log, proc, n=1):
    """Waits for n more 'frame' lines of anim.py after the current end of the log."""
    start = count_lines(log)
    for _ in range(n):
        wait_for(log, r"^frame \d+", proc, after=start)
        start = count_lines(log)


def start_anim(run, log):
    pause, stop = run.path("pause"), run.path("stop")
    p = run.launch(log, PY, os.path.join(HERE, "anim.py"), pause, stop, options=("--graphics", "--geometry", "1024x700"))
    wait_for(log, r"^frame 20$", p)
    return p, pause, stop


def pause_and_shoot(run, log, proc, pause, name):
    before = count_lines(log)
    open(pause, "w").close()
    wait_for(log, r"^paused at frame", proc, after=before)
    return run.screenshot(name)


# ---------------------------------------------------------------- scenarios

def scenario_animation(run):
    """screen after restart == screen at checkpoint, pixel for pixel; animation goes on;
    three generations; then 20 checkpoints in a row while it animates, and a restart"""
    log = run.path("anim.log")
    proc, pause, stop = start_anim(run, log)
    for gen in range(1, 4):
        at_ckpt = pause_and_shoot(run, log, proc, pause, "ckpt%d.png" % gen)
        check(colour_pixels(at_ckpt[2], RED) > 2000, "no red plot line on the screen at checkpoint %d" % gen)
        ckpt = run.checkpoint()
        run.kill(proc)
        proc = run.restart(ckpt, run.path("restart%d.log" % gen))
        restored = _wait_screen(run, "restored%d.png" % gen, proc)
        check(restored == at_ckpt, "generation %d: the restored screen differs from the one at the checkpoint" % gen)
        os.unlink(pause)
        frames_advance(log, proc)
        moved = run.screenshot("moved%d.png" % gen)
        check(moved[2] != restored[2], "generation %d: the animation did not draw after the restart" % gen)
        print("generation %d: restored screen equal, animation continues" % gen, flush=True)
    for i in range(20):
        ckpt = run.checkpoint()
    frames_advance(log, proc)
    run.kill(proc)
    proc = run.restart(ckpt, run.path("restart-last.log"))
    frames_advance(log, proc)
    open(stop, "w").close()
    check(proc.wait(timeout=60) == 0, "the animation did not end well after 20 checkpoints and a restart")
    wait_for(log, r"^OK anim after \d+ frames")
    print("20 checkpoints while animating, restart of the last: OK", flush=True)


def _wait_screen(run, name, proc, timeout=30):
    """A screenshot once the restarted Xvnc answers."""
    deadline = time.time() + timeout
    while True:
        try:
            return run.screenshot(name)
        except Failed:
            if time.time() > deadline or proc.poll() is not None:
                raise
            time.sleep(0.2)


def scenario_web(run):
    """a viewer showing at checkpoint comes back after the restart (a fresh one if the old
    one is gone); headless Chromium opens the URL printed and sees the plot"""
    log = run.path("anim.log")
    proc, pause, stop = start_anim(run, log)
    first = run.cli("show").stdout.strip()
    check(first.startswith("http://127.0.0.1:") and "token%3D" in first, "show printed %r" % first)
    check(run.cli("show").stdout.strip() == first, "a second show did not print the same viewer")
    ckpt = run.checkpoint()
    run.kill(proc)
    with open(glob.glob(os.path.join(run.rundir, "graphics", "*.viewer.json"))[0]) as f:
        os.kill(int(json.load(f)["pid"]), signal.SIGKILL)      # the old viewer is gone (as after a reboot)
    time.sleep(0.5)
    rlog = run.path("restart.log")
    proc = run.restart(ckpt, rlog)
    url = wait_for(rlog, r"viewer: (http://127\.0\.0\.1:\d+/\S+)", proc).group(1)
    check(url != first, "the restart printed the old viewer's address")
    red, blue = _browser_colours(run, url, run.path("chromium.png"))
    check(red > 2000 and blue > 10000, "Chromium's screenshot of %s does not show the plot (red %d, blue %d px)"
          % (url, red, blue))
    print("chromium sees the plot through %s: %d red, %d blue pixels" % (url.split("?")[0], red, blue), flush=True)
    base, token = url.split("/vnc.html")[0], url.split("token%3D")[1]
    check(_rfb_through(base, token), "websockify did not hand out the screen for the right token")
    check(not _rfb_through(base, token[:-1] + "x"), "websockify accepted a wrong token")
    open(stop, "w").close()
    check(proc.wait(timeout=60) == 0, "the animation did not end well")


def _browser_colours(run, url, shot, timeout=40):
    """Red and blue pixels of the page at `url` in headless Chromium: screenshots taken
    through its DevTools protocol until the plot shows (noVNC connects in real time,
    which --virtual-time-budget does not wait for)."""
    import base64
    from PIL import Image
    profile = run.path("chromium-profile")
    # its own scratch files (org.chromium.Chromium.*, which it leaves behind) go with the run's
    scratch = run.path("chromium-tmp")
    os.makedirs(scratch, mode=0o700, exist_ok=True)
    browser = subprocess.Popen(["chromium", "--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run",
                                "--user-data-dir=" + profile, "--window-size=1100,800",
                                "--remote-debugging-port=0", url],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=dict(run.env, TMPDIR=scratch))
    red = blue = 0
    try:
        deadline = time.time() + timeout
        port_file = os.path.join(profile, "DevToolsActivePort")
        while not os.path.exists(port_file) or len(open(port_file).read().split()) < 2:
            check(time.time() < deadline and browser.poll() is None, "Chromium did not open its DevTools port")
            time.sleep(0.1)
        port = int(open(port_file).read().split()[0])
        page = None
        while page is None:
            import urllib.request
            with urllib.request.urlopen("http://127.0.0.1:%d/json/list" % port, timeout=10) as r:
                page = next((t for t in json.load(r) if t.get("type") == "page"), None)
            check(page is not None or time.time() < deadline, "Chromium has no page")
            time.sleep(0.1)
        ws = page["webSocketDebuggerUrl"]
        while time.time() < deadline:
            png = base64.b64decode(_devtools_call(ws, "Page.captureScreenshot")["data"])
            with open(shot, "wb") as f:
                f.write(png)
            rgb = Image.open(shot).convert("RGB").tobytes()
            red, blue = colour_pixels(rgb, RED), colour_pixels(rgb, BLUE)
            if red > 2000 and blue > 10000:
                break
            time.sleep(0.5)
    finally:
        browser.terminate()
        try:
            browser.wait(timeout=10)
        except subprocess.TimeoutExpired:
            browser.kill()
            browser.wait()
    return red, blue


def _devtools_call(ws_url, method):
    """One DevTools protocol call over a WebSocket of our own (RFC 6455, client side)."""
    import base64
    import socket
    import struct
    hostport, path = ws_url[len("ws://"):].split("/", 1)
    host, port = hostport.split(":")
    with socket.create_connection((host, int(port)), timeout=20) as s:
        key = base64.b64encode(os.urandom(16)).decode()
        s.sendall(("GET /%s HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                   "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n\r\n" % (path, hostport, key)).encode())
        buf = b""
        while b"\r\n\r\n" not in buf:
            chunk = s.recv(4096)
            check(chunk, "DevTools closed the connection")
            buf += chunk
        head, buf = buf.split(b"\r\n\r\n", 1)
        check(b" 101 " in head.split(b"\r\n")[0], "DevTools refused the WebSocket: %r" % head[:100])
        payload = json.dumps({"id": 1, "method": method}).encode()
        mask = os.urandom(4)
        n = len(payload)
        header = struct.pack(">BB", 0x81, 0x80 | n) if n < 126 else struct.pack(">BBH", 0x81, 0x80 | 126, n)
        s.sendall(header + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload)))

        def need(k):
            nonlocal buf
            while len(buf) < k:
                chunk = s.recv(1 << 20)
                check(chunk, "DevTools closed the connection")
                buf += chunk
            out, buf = buf[:k], buf[k:]
            return out
        message = b""
        while True:
            b0, b1 = need(2)
            length = b1 & 0x7F
            if length == 126:
                (length,) = struct.unpack(">H", need(2))
            elif length == 127:
                (length,) = struct.unpack(">Q", need(8))
            message += need(length)
            if b0 & 0x80:
                reply = json.loads(message)
                if reply.get("id") == 1:
                    return reply["result"]
                message = b""


def _rfb_through(base, token):
    """Whether websockify at `base` hands out the VNC greeting for `token`."""
    import base64
    import socket
    host, port = base[len("http://"):].split(":")
    with socket.create_connection((host, int(port)), timeout=5) as s:
        key = base64.b64encode(os.urandom(16)).decode()
        s.sendall(("GET /websockify?token=%s HTTP/1.1\r\nHost: %s:%s\r\nUpgrade: websocket\r\n"
                   "Connection: Upgrade\r\nSec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n"
                   "Sec-WebSocket-Protocol: binary\r\n\r\n" % (token, host, port, key)).encode())
        data = b""
        try:
            while b"RFB" not in data:
                chunk = s.recv(4096)
                if not chunk:
                    break
                data += chunk
        except OSError:
            pass
        return b"RFB" in data


def scenario_click(run):
    """a Tk program waiting for a click: a click sent through VNC after the restart reaches it"""
    log = run.path("tk.log")
    proc = run.launch(log, PY, os.path.join(HERE, "tkclick.py"), options=("--graphics", "--geometry", "640x480"))
    wait_for(log, r"^waiting$", proc)
    ckpt = run.checkpoint()
    run.kill(proc)
    proc = run.restart(ckpt, run.path("restart.log"))
    screen = _wait_screen(run, "tk-restored.png", proc)
    check(colour_pixels(screen[2], GREEN) > 20000, "the restored screen does not show the green button")
    with _rfb.RfbClient.connect(run.rfb_socket()) as rfb:
        rfb.click(160, 100)
    check(proc.wait(timeout=30) == 0, "the Tk program did not end well after the click")
    wait_for(log, r"^OK tkclick$")


def scenario_api(run):
    """start_graphics() from a program already running under Stasis; show_graphics()
    twice; outside Stasis the functions say so and do nothing"""
    log = run.path("api.log")
    done = run.path("done")
    proc = run.launch(log, PY, os.path.join(HERE, "api_prog.py"), done, options=())
    wait_for(log, r"^drawn$", proc)
    screen = run.screenshot("api.png")
    check(colour_pixels(screen[2], (0x94, 0x67, 0xbd)) > 15000, "the Tk window is not on the screen")
    ckpt = run.checkpoint()
    check(os.path.isdir(ckpt), "no checkpoint")
    open(done, "w").close()
    check(proc.wait(timeout=60) == 0, lambda: "api_prog failed: %s" % open(log).read()[-2000:])
    wait_for(log, r"^OK api$")
    deadline = time.time() + 10
    while _helpers_of(run.rundir):
        check(time.time() < deadline, "stop_graphics() left the viewer running")
        time.sleep(0.1)
    env = dict(os.environ, PYTHONPATH=os.path.join(DIST, "python"))
    for key in ("STASIS_AGENT_SOCKET", "LD_PRELOAD", "STASIS_NAME"):
        env.pop(key, None)
    r = subprocess.run([PY, "-c", "import stasis; print(stasis.start_graphics(), stasis.show_graphics(), "
                        "stasis.stop_graphics(), stasis.startGraphics is stasis.start_graphics)"],
                       env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=60)
    check(r.returncode == 0 and r.stdout.strip() == "None None None True", "outside Stasis: %r %r" % (r.stdout, r.stderr))
    check("not running under Stasis; start_graphics() does nothing" in r.stderr, "no notice outside: %r" % r.stderr)


def scenario_no_xvnc(run):
    """Xvnc missing: one line naming the package, exit 1, the program is not started"""
    bindir = run.path("bin")
    os.mkdir(bindir)
    for tool in ("bash", "java", "python3", "dirname", "readlink", "mktemp", "setsid", "stat", "tail", "cat"):
        found = shutil.which(tool)
        if found:
            os.symlink(found, os.path.join(bindir, tool))
    marker = run.path("started")
    env = dict(run.env, PATH=bindir)
    r = subprocess.run([STASIS, "launch", "--name", run.name, "--graphics", "--", "/usr/bin/touch", marker], env=env,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=60)
    check(r.returncode == 1, "exit status %d, not 1: %r" % (r.returncode, r.stderr))
    lines = r.stderr.strip().splitlines()
    check(len(lines) == 1 and "tigervnc-standalone-server" in lines[0], "not one line naming the package: %r" % r.stderr)
    check(not os.path.exists(marker), "the program was started without Xvnc")


def _xvnc_host_pid(run):
    status = json.loads(run.cli("status", "--json").stdout)
    pids = [p["hostPid"] for p in status["processes"] if p["command"].split()[0].endswith("Xvnc")]
    check(len(pids) == 1, lambda: "one Xvnc expected: %s" % status["processes"])
    return int(pids[0])


def scenario_display(run):
    """the vnc plugin: the display's lock file is written again at restart (here removed
    as a reboot would); a display taken by another X server at restart stops the
    restart with one line naming it"""
    log = run.path("display.log")
    proc = run.launch(log, PY, os.path.join(HERE, "display_prog.py"), run.path("rfb.sock"), options=())
    n = int(wait_for(log, r"^display (\d+)$", proc).group(1))
    wait_for(log, r"^waiting$", proc)
    run.displays.append(n)
    lock = "/tmp/.X%d-lock" % n
    ckpt = run.checkpoint()
    run.kill(proc)
    os.unlink(lock)                               # as after a reboot (/tmp emptied)
    proc = run.restart(ckpt, run.path("restart.log"))
    deadline = time.time() + 30
    while not os.path.exists(run.path("rfb.sock")) or run.cli("status", "--json").stdout.count('"restored" : true') < 2:
        check(time.time() < deadline and proc.poll() is None, "the restart did not come back")
        time.sleep(0.1)
    host = _xvnc_host_pid(run)
    deadline = time.time() + 10             # written in resume, as the processes come to run again
    while not os.path.exists(lock) and time.time() < deadline:
        time.sleep(0.05)
    check(os.path.exists(lock), lambda: "no lock file %s after the restart; events:\n%s" % (
        lock, run.cli("events", ok=False).stdout[-3000:]))
    with open(lock) as f:
        held = f.read().strip()
    check(held == str(host), "the lock file holds %r, not the restored Xvnc's pid %d" % (held, host))
    print("display :%d: lock file written again for pid %d" % (n, host), flush=True)
    ckpt = run.checkpoint()
    run.kill(proc)
    for leftover in (lock, "/tmp/.X11-unix/X%d" % n):
        if os.path.exists(leftover):
            os.unlink(leftover)
    other_log = open(run.path("other-xvnc.log"), "w")
    other = subprocess.Popen(["Xvnc", ":%d" % n, "-rfbport", "-1", "-SecurityTypes", "None", "-nolisten", "tcp"],
                             stdout=other_log, stderr=other_log, stdin=subprocess.DEVNULL)
    try:
        deadline = time.time() + 20
        while not os.path.exists("/tmp/.X11-unix/X%d" % n):
            check(time.time() < deadline and other.poll() is None, "the other Xvnc did not start on :%d" % n)
            time.sleep(0.05)
        r = run.cli("restart", "--name", run.name, ckpt, ok=False)
        check(r.returncode != 0, "the restart went on although display :%d is taken" % n)
        errors = [line for line in r.stderr.splitlines() if line.strip()]
        check(len(errors) == 1 and ("X display :%d of the checkpoint is taken" % n) in errors[0],
              "not one line naming the display: %r" % r.stderr)
        print("display taken: %s" % errors[0], flush=True)
        run.cli("status")
    finally:
        other.terminate()
        other.wait(timeout=20)
        other_log.close()


def scenario_shm(run):
    """an X client that would draw through MIT-SHM: the server of start_graphics offers no
    MIT-SHM (System V segments attached cannot be restarted: the checkpoint would be
    refused), so it draws with XPutImage, and it is checkpointed and restarted"""
    log = run.path("shm.log")
    go, stop = run.path("go"), run.path("stop")
    proc = run.launch(log, PY, os.path.join(HERE, "shm_prog.py"), go, stop, options=("--graphics", "--geometry", "640x480"))
    how = wait_for(log, r"^drawn (\w+)$", proc).group(1)
    check(how == "plain", "the X server offered MIT-SHM")
    orange, teal = (0xff, 0x7f, 0x0e), (0x17, 0xbe, 0xcf)
    before = run.screenshot("shm-before.png")
    check(colour_pixels(before[2], orange, 4) > 50000, "the shared image is not on the screen")
    ckpt = run.checkpoint()
    run.kill(proc)
    proc = run.restart(ckpt, run.path("restart.log"))
    restored = _wait_screen(run, "shm-restored.png", proc)
    check(restored == before, "the restored screen differs")
    start = count_lines(log)
    open(go, "w").close()
    wait_for(log, r"^redrawn$", proc, after=start)
    after = run.screenshot("shm-after.png")
    check(colour_pixels(after[2], teal, 4) > 50000 and colour_pixels(after[2], orange, 4) == 0,
          "what the client wrote into the shared segment after the restart did not reach the screen")
    open(stop, "w").close()
    check(proc.wait(timeout=30) == 0, "shm_prog did not end well")


def scenario_display_dies(run):
    """the graphics server killed by hand: stasis status (and --json) warns, the
    checkpoint is refused with one line naming it (a checkpoint whose windows cannot come
    back is never published); the program goes on"""
    log = run.path("sleeper.log")
    proc = run.launch(log, PY, "-c", "import time; print('ready', flush=True); time.sleep(120)",
                      options=("--graphics", "--geometry", "320x200"))
    wait_for(log, r"^ready$", proc)
    os.kill(_xvnc_host_pid(run), signal.SIGKILL)
    deadline = time.time() + 20
    while any("Xvnc" in p["command"] for p in json.loads(run.cli("status", "--json").stdout)["processes"]):
        check(time.time() < deadline, "the killed Xvnc stays in stasis status")
        time.sleep(0.1)
    status = run.cli("status").stdout
    warned = [line for line in status.splitlines() if line.startswith("warning ")]
    check(len(warned) == 1 and "vnc: the graphics server (Xvnc :" in warned[0] and "is gone" in warned[0]
          and "the next checkpoint will be refused" in warned[0], "stasis status does not say so:\n" + status)
    print("status: %s" % warned[0], flush=True)
    computations = json.loads(run.cli("status", "--json").stdout)["computations"]
    check(len(computations) == 1 and len(computations[0]["warnings"]) == 1
          and "is gone" in computations[0]["warnings"][0], "status --json does not say so: %r" % computations)
    r = run.cli("checkpoint", ok=False)
    check(r.returncode == 1, lambda: "the checkpoint was not refused: %s%s" % (r.stdout, r.stderr))
    errors = [line for line in r.stderr.splitlines() if line.strip()]
    check(len(errors) == 1 and "the graphics server (Xvnc :" in errors[0] and "is gone" in errors[0],
          "not one line naming the graphics server: %r" % r.stderr)
    print("refused: %s" % errors[0], flush=True)
    check(proc.poll() is None, "the program did not go on after the refused checkpoint")


def scenario_native(run):
    """stasis show --viewer native: TigerVNC's vncviewer on the local X display (an Xvfb
    of the test's own here) shows the computation's screen"""
    log = run.path("tk.log")
    proc = run.launch(log, PY, os.path.join(HERE, "tkclick.py"), options=("--graphics", "--geometry", "640x480"))
    wait_for(log, r"^waiting$", proc)
    n = next(n for n in range(150, 250) if not os.path.exists("/tmp/.X%d-lock" % n)
             and not os.path.exists("/tmp/.X11-unix/X%d" % n))
    xvfb_log = open(run.path("xvfb.log"), "w")
    xvfb = subprocess.Popen(["Xvfb", ":%d" % n, "-screen", "0", "800x600x24", "-nolisten", "tcp"],
                            stdout=xvfb_log, stderr=xvfb_log, stdin=subprocess.DEVNULL)
    run.displays.append(n)
    try:
        deadline = time.time() + 20
        while not os.path.exists("/tmp/.X11-unix/X%d" % n):
            check(time.time() < deadline and xvfb.poll() is None, "Xvfb did not start")
            time.sleep(0.05)
        env = dict(run.env, DISPLAY=":%d" % n)
        r = subprocess.run([STASIS, "show", "--name", run.name, "--viewer", "native"], env=env, text=True,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
        check(r.returncode == 0 and r.stdout.startswith("vncviewer "), "show --viewer native: %r %r" % (r.stdout, r.stderr))
        while True:
            tree = subprocess.run(["xwininfo", "-root", "-tree"], env=env, text=True, stdout=subprocess.PIPE,
                                  stderr=subprocess.DEVNULL, timeout=30).stdout
            if "TigerVNC" in tree and "640x480" in tree:
                break
            check(time.time() < deadline + 20, "no vncviewer window on the local display: %s" % tree[-500:])
            time.sleep(0.2)
        print("vncviewer shows the screen on :%d" % n, flush=True)
    finally:
        xvfb.terminate()                 # the viewer ends with its display
        xvfb.wait(timeout=20)
        xvfb_log.close()


SCENARIOS = {"native": scenario_native, "display_dies": scenario_display_dies, "shm": scenario_shm, "animation": scenario_animation, "web": scenario_web, "click": scenario_click,
             "api": scenario_api, "no_xvnc": scenario_no_xvnc, "display": scenario_display}


def main():
    name = sys.argv[1] if len(sys.argv) > 1 else ""
    if name not in SCENARIOS:
        print("usage: graphics_test.py %s" % "|".join(SCENARIOS))
        return 2
    run = Run(name)
    keep = os.environ.get("KEEP") == "1"
    try:
        SCENARIOS[name](run)
    except Failed as e:
        print("FAILED %s: %s (files in %s)" % (name, e, run.dir), flush=True)
        keep = True
        return 1
    finally:
        run.close(keep)
    print("OK " + name, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
