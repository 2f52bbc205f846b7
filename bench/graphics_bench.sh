#!/usr/bin/env bash
# Graphics figures (issue 12): Python + matplotlib animating in Xvnc at 1280x800 under
# `stasis launch --graphics`. Prints the median checkpoint time (wall time of `stasis
# checkpoint`, and the coordinator's own figure), the time from `stasis restart` to a
# screen that is back (a screenshot through the VNC socket equal to the one at the
# checkpoint), and how much larger the checkpoint is than the same program's without
# graphics (matplotlib's Agg backend, no X). Targets: checkpoint <= 0.5 s, restart to
# repainted screen <= 1 s, image <= +60 MiB. Figures, not assertions; `uptime` first,
# since a loaded machine inflates all of them. EVENTS=1: where the restart's time went
# (the restart's core and plugin steps); NO_VERIFY=1: restart with --no-verify.
set -euo pipefail
repo="$(cd "$(dirname "$(readlink -f "$0")")/.." && pwd)"
[ -x "$repo/dist/bin/stasis-client" ] || { echo "bench: build first: mvn package" >&2; exit 1; }
command -v Xvnc >/dev/null || { echo "bench: needs Xvnc (tigervnc-standalone-server)" >&2; exit 1; }
uptime
STASIS_HOME="$repo/dist" RUNS="${RUNS:-5}" exec /usr/bin/python3 - "$repo" <<'PY'
import json, os, statistics, subprocess, sys, time
repo = sys.argv[1]
sys.path.insert(0, os.path.join(repo, "python/tests/graphics"))
import graphics_test as g

def size(path):
    return sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(path) for f in fs)

def run_once(graphics):
    run = g.Run("bench" + ("g" if graphics else "n"))
    try:
        log = run.path("anim.log")
        pause, stop = run.path("pause"), run.path("stop")
        argv = [g.PY, os.path.join(g.HERE, "anim.py"), pause, stop]
        if graphics:
            proc = run.launch(log, *argv, options=("--graphics", "--geometry", "1280x800"))
        else:
            env = dict(run.env, ANIM_BACKEND="Agg")
            proc = run.start(log, "launch", "--name", run.name, "--", *argv, env=env)
        g.wait_for(log, r"^frame 20$", proc)
        walls, own, sizes = [], [], []
        for _ in range(int(os.environ["RUNS"])):
            t0 = time.monotonic()
            ck = run.checkpoint("--full")  # whole images: their time and size, not an increment's
            walls.append(time.monotonic() - t0)
            st = json.loads(run.cli("status", "--json").stdout)
            own.append(st["computations"][0]["lastCheckpoint"]["seconds"])
            sizes.append(size(ck))
            parts = {p["pid"]: p["command"].split()[0].rsplit("/", 1)[-1] + " " + " ".join(p["command"].split()[1:3])
                     for p in st["processes"]}
            time.sleep(0.3)
        repaint = None
        if graphics:
            g.pause_and_shoot(run, log, proc, pause, "at.png")
            sock = run.rfb_socket()
            with g._rfb.RfbClient.connect(sock) as c:
                at = c.screen()
            ck = run.checkpoint()
            run.kill(proc)
            t0 = time.monotonic()
            started = time.time()
            if os.environ.get("NO_VERIFY") == "1":  # without the page checksums (stasis restart --no-verify)
                proc = run.start(run.path("restart.log"), "restart", "--name", run.name, "--no-verify", ck)
            else:
                proc = run.restart(ck, run.path("restart.log"))
            connected = None
            while True:                    # the VNC socket polled directly: no CLI in the figure
                try:
                    with g._rfb.RfbClient.connect(sock, timeout=5) as c:
                        connected = connected or time.monotonic() - t0
                        if c.screen() == at:
                            break
                except (OSError, g._rfb.RfbError):
                    pass
                if time.monotonic() - t0 > 60:
                    raise SystemExit("bench: the screen did not come back")
                time.sleep(0.01)
            repaint = time.monotonic() - t0
            if os.environ.get("EVENTS") == "1":     # where the restart's time went
                print("  stasis restart started at %s.%03dZ; VNC socket answered at +%.3f s, screen equal at +%.3f s"
                      % (time.strftime("%H:%M:%S", time.gmtime(started)), int(started * 1000) % 1000,
                         connected, repaint))
                for line in run.cli("events", "-n", "40").stdout.splitlines():
                    if "-restart " in line and (" core" in line or "vnc" in line or "socket" in line):
                        print("  " + line[:140])
        for f in sorted(os.listdir(ck)):
            if f.startswith("image-"):
                pid = int(f[6:-4])
                print("  %s: image of process %d (%s): %.1f MiB" % ("graphics" if graphics else "plain", pid,
                      parts.get(pid, "?")[:60], os.path.getsize(os.path.join(ck, f)) / (1 << 20)))
        open(stop, "w").close()
        return statistics.median(walls), statistics.median(own), statistics.median(sizes), repaint
    finally:
        run.close()

wall, own, with_size, repaint = run_once(True)
_, own_plain, plain_size, _ = run_once(False)
mib = 1 << 20
print("checkpoint (matplotlib + Xvnc 1280x800): %.3f s wall (stasis checkpoint), %.3f s coordinator"
      % (wall, own))
print("checkpoint without graphics (Agg):        %.3f s coordinator" % own_plain)
print("restart to the screen as at checkpoint:   %.3f s (stasis restart started to the VNC socket serving"
      " a screen equal to the checkpoint's)" % repaint)
print("checkpoint size: %.1f MiB with graphics, %.1f MiB without: +%.1f MiB"
      % (with_size / mib, plain_size / mib, (with_size - plain_size) / mib))
PY
