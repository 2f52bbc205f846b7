#!/usr/bin/env python3
"""An Open MPI job on one host under Stasis: checkpoint time and restart time to the ring's
next message (issue #16: "restart on one host <= 1 s to the ring's next message").

The job is `mpirun -n 4 python3 samples/mpi/ring.py` (mpi4py; a token passed round 4
ranks, rank 0 printing every round). Each run launches it under its own coordinator (a
private runtime directory, checkpoints and Open MPI session directory in a temporary
directory), waits until the ring runs, checkpoints it (`stasis checkpoint`, wall time of
the command), kills it (`stasis kill`), restarts it (`stasis restart`, in the
background) and measures from the start of the restart command to the first round the
restored rank 0 prints. Prints each run and the medians, with the load average. Figures,
not assertions.

usage: bench/mpi_bench.py [--runs RUNS] [--transport tcp|default] [--ballast-rounds N]"""
import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DIST_STASIS = os.path.join(REPO, "dist", "bin", "stasis")
STASIS = DIST_STASIS if os.access(DIST_STASIS, os.X_OK) else os.path.join(REPO, "bin", "stasis")
RING = os.path.join(REPO, "samples", "mpi", "ring.py")
PYTHON = "/usr/bin/python3"
ROUND = re.compile(r"round (\d+)$")


def fail(why):
    print("mpi_bench: " + why, file=sys.stderr)
    sys.exit(1)


def lines(path):
    with open(path, errors="replace") as f:
        return f.read().splitlines()


def wait_round(path, skip, after, limit):
    """Waits for a 'round N' line past the first `skip` lines with N > after; returns (N, time seen)."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        for line in lines(path)[skip:]:
            if line.startswith("FAIL"):
                fail("the ring failed: " + line)
            m = ROUND.match(line)
            if m and int(m.group(1)) > after:
                return int(m.group(1)), time.monotonic()
        time.sleep(0.005)
    fail("no round past %d in %s within %d s" % (after, path, limit))


def one_run(top, transport, rounds, env):
    mpirun = ["mpirun", "--oversubscribe", "--mca", "orte_tmpdir_base", top]
    if os.geteuid() == 0:
        mpirun.append("--allow-run-as-root")
    if transport == "tcp":
        mpirun += ["--mca", "btl", "tcp,self", "--mca", "pml", "ob1"]
    mpirun += ["-n", "4", PYTHON, RING, str(rounds), "--interval", "0.002", "--progress", "1"]
    out = os.path.join(top, "ring.txt")
    ckdir = os.path.join(top, "checkpoints")
    with open(out, "ab") as f:
        launch = subprocess.Popen([STASIS, "launch", "--ckpt-dir", ckdir, "--"] + mpirun, stdout=f, stderr=f,
                                  stdin=subprocess.DEVNULL, env=env)
    restart = None
    try:
        at, _ = wait_round(out, 0, 50, 120)
        start = time.monotonic()
        ck = subprocess.run([STASIS, "checkpoint"], capture_output=True, text=True, env=env)
        checkpoint_s = time.monotonic() - start
        if ck.returncode != 0:
            fail("checkpoint failed: " + ck.stderr.strip())
        path = ck.stdout.strip().splitlines()[-1]
        if subprocess.run([STASIS, "kill"], capture_output=True, env=env).returncode != 0:
            fail("stasis kill failed")
        launch.wait(30)
        skip = len(lines(out))
        start = time.monotonic()
        with open(os.path.join(top, "restart.txt"), "ab") as f:
            restart = subprocess.Popen([STASIS, "restart", path], stdout=f, stderr=f, stdin=subprocess.DEVNULL,
                                       env=env)
        _, seen = wait_round(out, skip, 0, 120)
        return checkpoint_s, seen - start
    finally:
        subprocess.run([STASIS, "kill"], capture_output=True, env=env)
        for p in (launch, restart):
            if p is not None:
                try:
                    p.wait(30)
                except subprocess.TimeoutExpired:
                    p.kill()
        subprocess.run([STASIS, "shutdown"], capture_output=True, env=env)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--transport", choices=("tcp", "default"), default="tcp")
    parser.add_argument("--rounds", type=int, default=100000, help="rounds of the ring (it is killed long before)")
    args = parser.parse_args()
    if shutil.which("mpirun") is None or subprocess.run([PYTHON, "-c", "import mpi4py"]).returncode != 0:
        fail("needs mpirun (Debian openmpi-bin) and mpi4py for %s (python3-mpi4py)" % PYTHON)
    checkpoints, restarts = [], []
    shm_before = set(os.listdir("/dev/shm")) if os.path.isdir("/dev/shm") else set()
    try:
        for run in range(1, args.runs + 1):
            checkpoint_s, restart_s = measured(args)
            checkpoints.append(checkpoint_s)
            restarts.append(restart_s)
            print("run %d: checkpoint %.3f s, restart to the ring's next message %.3f s (load %.2f)"
                  % (run, checkpoint_s, restart_s, os.getloadavg()[0]), flush=True)
    finally:
        # A killed job leaves its shared memory segments (Open MPI removes them only when it ends).
        if os.path.isdir("/dev/shm"):
            for name in set(os.listdir("/dev/shm")) - shm_before:
                if name.startswith("vader_segment."):
                    os.unlink(os.path.join("/dev/shm", name))
    print("mpi %s, 4 ranks on one host: checkpoint median %.3f s, restart to next message median %.3f s "
          "(target <= 1 s), load %s" % (args.transport, statistics.median(checkpoints), statistics.median(restarts),
                                        " ".join("%.2f" % x for x in os.getloadavg())))


def measured(args):
    """One run in a temporary directory of its own: (checkpoint seconds, restart seconds)."""
    top = tempfile.mkdtemp(prefix="stasis-mpi-bench-")
    try:
        runtime = os.path.join(top, "run")
        os.mkdir(runtime, 0o700)
        env = dict(os.environ, XDG_RUNTIME_DIR=runtime)
        return one_run(top, args.transport, args.rounds, env)
    finally:
        shutil.rmtree(top, ignore_errors=True)


if __name__ == "__main__":
    main()
