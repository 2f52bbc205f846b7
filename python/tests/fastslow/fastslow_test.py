"""Fast/slow checking end to end: real Cython modules (samples/fastslow, compiled here
with cython3 + gcc), real checkpoints and restarts through `stasis fastslow run`.

Usage: /usr/bin/python3 fastslow_test.py [--build DIR] SCENARIO...
  --build DIR  where the sample modules are compiled (reused if already built there;
               default: a temporary directory removed at the end)
Needs STASIS_HOME (or a built dist/), Debian cython3 python3-dev gcc, and for the dask
scenarios python3-distributed. Prints OK/FAIL per scenario; exits 0 only if all passed.
Run by FastSlowIT in mvn verify.
"""
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", "..", ".."))
SAMPLES = os.path.join(REPO, "samples", "fastslow")
PYTHON = "/usr/bin/python3" if os.access("/usr/bin/python3", os.X_OK) else sys.executable
STASIS_HOME = os.environ.get("STASIS_HOME") or os.path.join(REPO, "dist")
CLI = os.path.join(STASIS_HOME, "bin", "stasis")
BUILD = ""


class Failed(Exception):
    pass


def build(directory):
    stamp = os.path.join(directory, ".built")
    sources = [os.path.join(SAMPLES, f) for f in os.listdir(SAMPLES)]
    if os.path.exists(stamp) and all(os.path.getmtime(s) <= os.path.getmtime(stamp) for s in sources):
        return
    done = subprocess.run(["sh", os.path.join(SAMPLES, "build.sh"), directory], capture_output=True, text=True,
                          env=dict(os.environ, PYTHON=PYTHON))
    if done.returncode != 0:
        raise Failed("building the Cython samples failed (needs cython3 python3-dev gcc):\n" + done.stderr[-3000:])
    open(stamp, "w").close()


def run(command, timeout):
    """Runs a stasis command; on timeout asks it to stop (SIGTERM: it stops what it
    started) and fails."""
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL,
                            text=True, env=dict(os.environ, STASIS_HOME=STASIS_HOME, STASIS_PYTHON=PYTHON))
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.terminate()
        out, err = proc.communicate(timeout=60)
        raise Failed("%s did not end after %d s; stderr:\n%s" % (" ".join(command[:3]), timeout, err[-3000:]))
    return subprocess.CompletedProcess(command, proc.returncode, out, err)


def fastslow(*args, program, expect_status=None, timeout=240):
    """Runs stasis fastslow run --json ARGS -- python3 main.py PROGRAM; its JSON report."""
    command = [CLI, "fastslow", "run", "--json", *args, "--", PYTHON, os.path.join(BUILD, "main.py"), *program]
    started = time.monotonic()
    done = run(command, timeout)
    took = time.monotonic() - started
    try:
        report = json.loads(done.stdout)
    except ValueError:
        raise Failed("no JSON report (status %d):\nstdout: %s\nstderr: %s" % (done.returncode, done.stdout[-2000:],
                                                                            done.stderr[-3000:]))
    report["_status"], report["_stderr"], report["_took"] = done.returncode, done.stderr, took
    if expect_status is not None and done.returncode != expect_status:
        raise Failed("exit status %d, expected %d; report:\n%s\nstderr:\n%s"
                     % (done.returncode, expect_status, json.dumps(report, indent=1)[-3000:], done.stderr[-2000:]))
    return report


def statuses(report):
    return {i["interval"]: i["status"] for i in report["intervals"]}


def expect(condition, what, report):
    if not condition:
        shown = {k: v for k, v in report.items() if k != "_stderr"}
        raise Failed("%s\nreport: %s\nstderr tail: %s" % (what, json.dumps(shown, indent=1)[-3000:],
                                                          report.get("_stderr", "")[-1500:]))


def overflow(checkers, *extra, program="overflow"):
    report = fastslow("--checkers", str(checkers), *extra, program=[program, "100000"], expect_status=1)
    st = statuses(report)
    expect(len(st) == 12 and report["marks"] == 13, "12 intervals expected", report)
    expect(st[7] == "mismatch", "interval 7 should mismatch", report)
    seven = report["intervals"][6]
    expect(seven["variable"] == "acc" and seven["fast"] == "-1984967296" and seven["interpreted"] == "2310000000",
           "interval 7 should name acc with both values", report)
    expect(all(s == "ok" for n, s in st.items() if n != 7), "every other interval should be ok", report)
    return report


def t_overflow_k1():
    overflow(1)


def t_overflow_k2():
    overflow(2)


def t_overflow_k4():
    overflow(4, program="overflow_every")   # and mark() in a more frequent loop, with every(4)


def t_fixed():
    report = fastslow("--checkers", "2", program=["overflow_fixed", "100000"], expect_status=0)
    st = statuses(report)
    expect(len(st) == 12 and all(s == "ok" for s in st.values()) and report["ok"], "12 ok intervals expected", report)


def t_stop_at_first():
    report = fastslow("--checkers", "1", "--stop-at-first", program=["overflow", "100000"], expect_status=1)
    st = statuses(report)
    expect(st.get(7) == "mismatch", "interval 7 should mismatch", report)
    expect(all(s == "ok" for n, s in st.items() if n < 7), "intervals 1-6 should be ok", report)
    expect(all(s == "not checked" for n, s in st.items() if n > 7), "intervals after 7: not checked", report)


def t_float_tolerance():
    report = fastslow("--tolerance", "1e-3", program=["floatsum", "20000", "3"], expect_status=0)
    st = statuses(report)
    expect(len(st) == 3 and all(s == "ok" for s in st.values()), "3 ok intervals within 1e-3", report)


def t_float_exact():
    report = fastslow(program=["floatsum", "20000", "3"], expect_status=1)
    st = statuses(report)
    expect(len(st) == 3 and all(s == "mismatch" for s in st.values()), "3 mismatches without tolerance", report)
    expect(report["intervals"][0]["variable"] == "total", "the variable is total", report)


def t_crash():
    report = fastslow("--checkers", "2", program=["behave", "crash", "3"], expect_status=1)
    st = statuses(report)
    expect(st[3] == "crashed" and "signal 11" in report["intervals"][2]["reason"],
           "interval 3: crashed (SIGSEGV)", report)
    expect(all(s == "ok" for n, s in st.items() if n != 3), "the other intervals ok", report)


def t_hang():
    report = fastslow("--checkers", "2", "--timeout", "12", program=["behave", "hang", "3"], expect_status=1)
    st = statuses(report)
    expect(st[3] == "hung" and "--timeout" in report["intervals"][2]["reason"], "interval 3: hung", report)
    expect(all(s == "ok" for n, s in st.items() if n != 3), "the other intervals ok", report)


def t_interrupted():
    """SIGTERM to the driver while the fast run and a (hung) checker both run under its
    coordinator: everything started is stopped at once, the report says interrupted."""
    command = [CLI, "fastslow", "run", "--json", "--checkers", "2", "--", PYTHON, os.path.join(BUILD, "main.py"),
               "behave_slow", "hang", "2"]
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL,
                            text=True, env=dict(os.environ, STASIS_HOME=STASIS_HOME, STASIS_PYTHON=PYTHON))
    try:
        deadline = time.monotonic() + 60
        seen = ""
        while not ("ok 1" in seen and "checking 1" in seen) and time.monotonic() < deadline:
            line = proc.stderr.readline()      # interval 1 checked, interval 2's checker hangs
            if not line:
                break
            seen = line
        if "checking 1" not in seen:
            raise Failed("no checker ran alongside the fast run; last line: %s" % seen)
        time.sleep(2)
        began = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=60)
        took = time.monotonic() - began
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    if proc.returncode != 1 or took > 5:       # the fast run had 7 s or more to go
        raise Failed("SIGTERM: status %s after %.1f s (want 1 within 5 s); stderr:\n%s"
                     % (proc.returncode, took, err[-2000:]))
    print("  stopped %.1f s after SIGTERM" % took)


def t_unpicklable():
    report = fastslow(program=["unpicklable"], expect_status=1)
    expect(any("'callback'" in p and "cannot be pickled" in p for p in report["problems"]),
           "the unpicklable variable is named", report)


def t_nomark():
    report = fastslow(program=["nomark"], expect_status=1)
    expect(any("never called stasis.fastslow.mark()" in p for p in report["problems"]), "never marked", report)


def t_broken():
    report = fastslow(program=["broken", "1000"], expect_status=1)
    st = statuses(report)
    expect(st[1] == "not checked" and "could not be restarted" in report["intervals"][0]["reason"],
           "interval 1: not checked, with the reason", report)
    expect(all(s == "ok" for n, s in st.items() if n != 1), "the other intervals ok", report)


# -- Dask --------------------------------------------------------------------------------------

class Cluster:
    """A dask-scheduler and workers on this machine, killed by pid at the end."""

    def __init__(self, workers=2, hide=None):
        self.dir = tempfile.mkdtemp(prefix="fastslow-dask-")
        self.procs = []
        sched = os.path.join(self.dir, "scheduler.json")
        self.spawn(["dask-scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard",
                    "--scheduler-file", sched], "scheduler")
        for i in range(workers):
            worker = ["dask-worker", "--scheduler-file", sched, "--nthreads", "1", "--no-dashboard",
                      "--local-directory", os.path.join(self.dir, "w%d" % i)]
            if hide and i == workers - 1:   # a worker that does not share the filesystem hide is on
                worker = ["unshare", "--mount", "--propagation", "private", "sh", "-c",
                          'mount -t tmpfs none "$0" && exec "$@"', hide] + worker
            self.spawn(worker, "worker%d" % i)
        self.address = self.wait(sched, workers)

    def spawn(self, command, name):
        log = open(os.path.join(self.dir, name + ".log"), "wb")
        self.procs.append(subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                           start_new_session=True))
        log.close()

    def wait(self, sched, workers):
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if os.path.exists(sched):
                address = json.load(open(sched))["address"]
                probe = subprocess.run([PYTHON, "-c", "import sys; from distributed import Client; "
                                        "c = Client(sys.argv[1], timeout=10); c.wait_for_workers(int(sys.argv[2]), "
                                        "timeout=30); c.close()", address, str(workers)], capture_output=True)
                if probe.returncode == 0:
                    return address
            time.sleep(0.5)
        raise Failed("the Dask cluster did not start; logs in " + self.dir)

    def close(self):
        for proc in reversed(self.procs):
            try:
                os.killpg(proc.pid, signal.SIGTERM)
            except OSError:
                pass
        for proc in self.procs:
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        shutil.rmtree(self.dir, ignore_errors=True)


def t_dask():
    cluster = Cluster()
    try:
        report = fastslow("--dask", cluster.address, program=["overflow", "100000"], expect_status=1)
    finally:
        cluster.close()
    st = statuses(report)
    expect(len(st) == 12 and st[7] == "mismatch" and report["intervals"][6]["variable"] == "acc",
           "interval 7 should mismatch on acc", report)
    expect(all(s == "ok" for n, s in st.items() if n != 7), "every other interval ok", report)
    where = {i["checked_by"] for i in report["intervals"]}
    expect(str(os.getpid()) not in " ".join(where), "checks ran in the Dask workers", report)
    print("  checked by %d Dask worker process(es): %s" % (len(where), ", ".join(sorted(where))))


def t_dask_unshared():
    shared = tempfile.mkdtemp(prefix="fastslow-shared-")
    if subprocess.run(["unshare", "--mount", "--propagation", "private", "true"], capture_output=True).returncode:
        shutil.rmtree(shared)
        print("  skipped: unshare --mount is not permitted here (needs root or user namespaces)")
        return
    cluster = Cluster(workers=1, hide=shared)
    try:
        run_dir = os.path.join(shared, "run")
        command = [CLI, "fastslow", "run", "--dask", cluster.address, "--dir", run_dir, "--",
                   PYTHON, os.path.join(BUILD, "main.py"), "overflow", "1000"]
        done = run(command, 120)
    finally:
        cluster.close()
        shutil.rmtree(shared, ignore_errors=True)
    if done.returncode == 0 or "cannot read the checkpoint directory" not in done.stderr:
        raise Failed("a worker that cannot see the run directory must be refused; status %d, stderr:\n%s"
                     % (done.returncode, done.stderr[-2000:]))
    print("  " + done.stderr.strip().splitlines()[-1])


SCENARIOS = {name[2:]: fn for name, fn in list(globals().items()) if name.startswith("t_")}


def main(argv):
    global BUILD
    temp = None
    if argv[:1] == ["--build"]:
        BUILD = os.path.abspath(argv[1])
        argv = argv[2:]
    else:
        temp = BUILD = tempfile.mkdtemp(prefix="fastslow-build-")
    names = argv or list(SCENARIOS)
    failed = 0
    runtime = None
    if not os.environ.get("STASIS_RUNTIME_DIR"):   # coordinators of its own (ITs run two classes at once)
        runtime = tempfile.mkdtemp(prefix="fastslow-rt-")
        os.environ["STASIS_RUNTIME_DIR"] = runtime
    try:
        build(BUILD)
        for name in names:
            started = time.monotonic()
            try:
                SCENARIOS[name]()
                print("OK %s (%.1f s)" % (name, time.monotonic() - started), flush=True)
            except (Failed, subprocess.TimeoutExpired, KeyError) as e:
                failed += 1
                print("FAIL %s: %s" % (name, e), flush=True)
    except Failed as e:
        print("FAIL build: %s" % e)
        failed += 1
    finally:
        if temp:
            shutil.rmtree(temp, ignore_errors=True)
        if runtime:
            shutil.rmtree(runtime, ignore_errors=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
