#!/usr/bin/python3
"""IPython figures (issue 11): an ipython3 session holding 200 MiB of random bytes, in
a pseudo-terminal (pexpect) under `stasis launch`. Targets: `%checkpoint` <= 0.3 s (from
Enter to the magic's answer), `stasis restart` to a working prompt <= 0.3 s (from
starting `stasis restart` to the prompt of the restored session, then to the answer of
its first command). Prints each run with where its time went (from `stasis events`:
the checkpoint's phases, the restart's), the medians, the coordinator's own checkpoint
time and the load average. Figures, not assertions; run it un-niced on a quiet machine.

Usage: /usr/bin/python3 bench/ipython_bench.py [DIST]   (RUNS=5, MIB=200; EVENTS=1 prints
every step; RESTART_OPTIONS="--no-verify" passes options to stasis restart; WARM_CACHE=false
runs the coordinator with warm.cache=false: restarts read the image from the disk; SETTINGS="KEY=VALUE ..."
sets other coordinator settings, e.g. SETTINGS=snapshot.min.mib=0)
"""

import calendar
import contextlib
import json
import os
import re
import shutil
import statistics
import sys
import tempfile
import time
from typing import Iterator, Optional

import pexpect

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(REPO, "python", "tests", "ipython"))
sys.path.insert(0, os.path.join(REPO, "bench"))
from harness import Stasis  # noqa: E402
from terminal_scenario import ANSI, ipython_env  # noqa: E402

RUNS = int(os.environ.get("RUNS", "5"))
MIB = int(os.environ.get("MIB", "200"))


def spawn(stasis: Stasis, argv: list, env: dict, log) -> pexpect.spawn:
    child = pexpect.spawn(argv[0], argv[1:], env=env, encoding="utf-8", dimensions=(24, 160), timeout=120,
                          codec_errors="replace")
    child.logfile_read = log
    child.delaybeforesend = None                     # pexpect waits 50 ms before each send by default
    stasis.children.append(child.pid)
    return child


def _instant(text: str) -> float:
    """The coordinator's ISO-8601 instant (2026-12-03T20:04:11.459Z) as seconds since the epoch."""
    m = re.match(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?Z$", text)
    whole = calendar.timegm(time.strptime(m.group(1), "%Y-%m-%dT%H:%M:%S"))
    return whole + float("0." + (m.group(2) or "0"))


def breakdown(stasis: Stasis, ckpt_id: str, directory: str, checkpoint: float, own: float, started: float,
              prompt: float) -> str:
    """Where the time went, from the coordinator's event log (its entries carry their end
    and duration): the checkpoint's phases and the restart's, in ms."""
    entries = json.loads(stasis.cli("events", "--json", "-n", "200"))
    ck = [e for e in entries if e["operation"] == ckpt_id]
    rs = [e for e in entries if e["operation"] == ckpt_id + "-restart"]

    def ms(rows: list, step: str, actor: str = "core") -> int:
        return sum(int(e["millis"]) for e in rows if e["step"] == step and e["actor"] == actor and e["status"] != "info")

    def end(rows: list, step: str, actor: str = "core") -> float:
        return max(_instant(e["time"]) for e in rows if e["step"] == step and e["actor"] == actor)

    image = sum(os.path.getsize(os.path.join(directory, f)) for f in os.listdir(directory) if f.endswith(".img"))
    drain = sum(int(e["millis"]) for e in ck if e["step"] == "drain" and e["status"] != "info")
    plugin_writes = [e for e in ck if e["step"] == "write" and e["actor"] != "core" and e["status"] != "info"]
    after_write = max([_instant(e["time"]) for e in plugin_writes] + [end(ck, "core:write")]) - end(ck, "core:write")
    ipy = ms(ck, "write", "ipython-config")
    restarts = [e for e in rs if e["step"] == "restart" and e["status"] != "info"]
    first = min(_instant(e["time"]) - int(e["millis"]) / 1000 for e in restarts)
    released = end(rs, "core:release")
    return ("  checkpoint (ms): suspend %d, drain %d, memory write %d (%.0f MiB of images), plugins after it %d"
            " (ipython-config's copy %d), fsync %d, publish %d; the magic, IPython and the request %d\n"
            "  restart (ms): to the plugins %d, plugins %d (ipython-config %d), core:restore %d (page check,"
            " processes, memory), resume %d, released to the prompt %d"
            % (ms(ck, "core:suspend"), drain, ms(ck, "core:write"), image / 2**20, after_write * 1000, ipy,
               ms(ck, "core:fsync"), ms(ck, "core:publish"), (checkpoint - own) * 1000,
               (first - started) * 1000, sum(int(e["millis"]) for e in restarts), ms(rs, "restart", "ipython-config"),
               ms(rs, "core:restore"), (released - end(rs, "core:restore")) * 1000,
               (started + prompt - released) * 1000))


def published(stasis: Stasis, ckpt_id: str) -> str:
    """The checkpoint's directory, once it is published (at once when the magic waited for it)."""
    deadline = time.monotonic() + 60
    while True:
        found = [os.path.join(root, ckpt_id) for root, dirs, _ in os.walk(stasis.ckpt_dir) if ckpt_id in dirs]
        if found or time.monotonic() > deadline:
            return found[0]
        time.sleep(0.01)


def coordinator_time(stasis: Stasis, ckpt_id: str) -> float:
    """The coordinator's own time for the checkpoint (`stasis status`: last ID (T s)); it
    may note it a moment after the magic heard of the publication."""
    deadline = time.monotonic() + 10
    while True:
        found = re.search(r"^last\s+%s \((\d+\.\d+) s\)" % re.escape(ckpt_id), stasis.cli("status"), re.M)
        if found or time.monotonic() > deadline:
            return float(found.group(1))
        time.sleep(0.01)


def one_run(stasis: Stasis, env: dict, log) -> tuple:
    child = spawn(stasis, stasis.launch_argv("/usr/bin/ipython3", "--colors=NoColor"), env, log)
    child.expect(r"In \[1\]:")
    child.send("import os; blob = os.urandom(%d << 20); print('MiB', len(blob) >> 20)\r" % MIB)
    child.expect(r"MiB %d" % MIB)
    child.expect(r"In \[2\]:")
    time.sleep(0.5)                                  # the prompt drawn, the session idle
    start = time.monotonic()
    child.send("%checkpoint\r")
    child.expect(r"checkpoint (\S+) at \d{4}-\d\d-\d\d \d\d:\d\d:\d\d")
    checkpoint = time.monotonic() - start
    ckpt_id = ANSI.sub("", child.match.group(1))
    child.expect(r"In \[3\]:")
    directory = published(stasis, ckpt_id)
    own = coordinator_time(stasis, ckpt_id)
    stasis.kill()
    child.expect(pexpect.EOF)
    start = time.monotonic()
    started = time.time()
    argv = stasis.restart_argv(directory)
    argv[-1:-1] = os.environ.get("RESTART_OPTIONS", "").split()   # e.g. --no-verify: what the page check costs
    child = spawn(stasis, argv, env, log)
    child.expect(r"In \[3\]:")
    prompt = time.monotonic() - start
    child.send("print('MiB', len(blob) >> 20)\r")
    child.expect(r"MiB %d" % MIB)
    answer = time.monotonic() - start
    print(breakdown(stasis, ckpt_id, directory, checkpoint, own, started, prompt), flush=True)
    if os.environ.get("EVENTS") == "1":             # every step, as stasis events shows it
        print("\n".join(line for line in stasis.cli("events", "-n", "200").splitlines()
                        if re.search(r"\s%s(-restart)?\s" % re.escape(ckpt_id), line)), flush=True)
    stasis.kill()
    child.expect(pexpect.EOF)
    return checkpoint, own, prompt, answer


@contextlib.contextmanager
def coordinator(dist: Optional[str]) -> Iterator[Stasis]:
    """The bench's coordinator; with WARM_CACHE or SETTINGS set, one watching a plugins folder of
    its own whose org.stasis.coordinator.cfg sets warm.cache and the SETTINGS (KEY=VALUE ...)."""
    warm = os.environ.get("WARM_CACHE")
    settings = os.environ.get("SETTINGS", "").split()
    if warm is not None:
        settings.append("warm.cache=%s" % warm)
    if not settings:
        with Stasis("ipybench", dist=dist) as stasis:
            yield stasis
        return
    from warm_cache_bench import PrivatePlugins
    dist = os.path.abspath(dist or os.path.join(REPO, "dist"))
    plugins = tempfile.mkdtemp(prefix="stasis-ipybench-plugins-")
    try:
        for name in os.listdir(os.path.join(dist, "plugins")):
            os.symlink(os.path.join(dist, "plugins", name), os.path.join(plugins, name))
        with open(os.path.join(plugins, "org.stasis.coordinator.cfg"), "w") as f:
            f.write("".join(line + "\n" for line in settings))
        with PrivatePlugins("ipybench", dist, plugins) as stasis:
            print(" ".join(settings), flush=True)
            yield stasis
    finally:
        shutil.rmtree(plugins, ignore_errors=True)


def main() -> None:
    dist = sys.argv[1] if len(sys.argv) > 1 else None
    print("load average %.2f %.2f %.2f, %d cores" % (os.getloadavg() + (os.cpu_count() or 0,)), flush=True)
    rows = []
    with coordinator(dist) as stasis:
        env = ipython_env(stasis, os.path.join(stasis.temp, "ipythondir"))
        with open(os.path.join(stasis.temp, "terminal.log"), "a") as log:
            for n in range(RUNS):
                row = one_run(stasis, env, log)
                rows.append(row)
                print("run %d: %%checkpoint %.3f s (coordinator %.3f s); restart to prompt %.3f s, to the first"
                      " answer %.3f s; load %.2f" % ((n + 1,) + row + (os.getloadavg()[0],)), flush=True)
    med = [statistics.median(column) for column in zip(*rows)]
    print("session holding %d MiB, median of %d: %%checkpoint %.3f s (target <= 0.3 s; coordinator %.3f s),"
          " stasis restart to a working prompt %.3f s (target <= 0.3 s; first answer %.3f s)"
          % ((MIB, RUNS) + tuple(med)))
    print("load average %.2f %.2f %.2f" % os.getloadavg())


if __name__ == "__main__":
    main()
