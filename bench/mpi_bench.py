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

--hosts: the same ring over two simulated hosts (network namespaces with an sshd each, as
bench/span_bench.py makes them; needs root), 2 ranks per host, started by mpirun over ssh
under `stasis launch` on host 1 (the agent follows the ssh: orted's part runs on host 2);
checkpointed, killed with the main's `stasis kill`, restarted all on host 1
(`restart --hosts h1`), then checkpointed there, killed and restarted back on both hosts
(`--hosts h1,h2`): the time of each restart to the ring's next message.

usage: bench/mpi_bench.py [--runs RUNS] [--transport tcp|default] [--hosts]"""
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


def secure_shells(hosts):
    """An sshd on port 22 of every simulated host (keys made here); -> the ssh command for mpirun."""
    directory = os.path.join(hosts.top, "ssh")
    os.mkdir(directory, 0o700)
    for key in ("host_key", "user_key"):
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", os.path.join(directory, key)], check=True)
    shutil.copy(os.path.join(directory, "user_key.pub"), os.path.join(directory, "authorized_keys"))
    with open(os.path.join(directory, "ssh_config"), "w") as f:
        f.write("Host *\n  IdentityFile %s\n  UserKnownHostsFile /dev/null\n  StrictHostKeyChecking no\n"
                "  BatchMode yes\n  LogLevel ERROR\n" % os.path.join(directory, "user_key"))
    os.makedirs("/run/sshd", exist_ok=True)
    for host in hosts.hosts:
        config = os.path.join(directory, "sshd_config-" + host.name)
        with open(config, "w") as f:
            f.write("Port 22\nHostKey %s\nPermitRootLogin prohibit-password\nAuthorizedKeysFile %s\n"
                    "StrictModes no\nPidFile none\nUsePAM no\nPasswordAuthentication no\n"
                    "SetEnv XDG_RUNTIME_DIR=%s XDG_DATA_HOME=%s\n"
                    % (os.path.join(directory, "host_key"), os.path.join(directory, "authorized_keys"),
                       host.runtime, os.path.join(host.home, ".local", "share")))
        log = open(os.path.join(directory, "sshd-%s.log" % host.name), "ab")
        hosts.started.append(subprocess.Popen(host.command(["/usr/sbin/sshd", "-D", "-e", "-f", config]),
                                              stdout=log, stderr=log, stdin=subprocess.DEVNULL))
    command = "ssh -F " + os.path.join(directory, "ssh_config")
    deadline = time.monotonic() + 30
    while subprocess.run(hosts.hosts[0].command(command.split() + ["h2", "true"]),
                         capture_output=True).returncode != 0:
        if time.monotonic() > deadline:
            fail("ssh from h1 to h2 does not log in")
        time.sleep(0.2)
    return command


def across_hosts(args):
    """One run over two simulated hosts: (checkpoint s, restart on h1 s, restart on h1,h2 s)."""
    import span_bench  # the simulated hosts (network namespaces on a bridge)
    hosts = span_bench.Hosts(2)
    try:
        ssh = secure_shells(hosts)
        one, two = hosts.hosts
        main = "%s:%d" % (one.address, 7400)
        one.stasis("coordinator", "--daemon", "--listen", main, "--ckpt-dir", one.checkpoints())
        out = os.path.join(hosts.top, "ring.txt")
        mpirun = ["mpirun", "--allow-run-as-root", "--oversubscribe", "--mca", "plm_rsh_agent", ssh,
                  "--mca", "btl", "tcp,self", "--mca", "pml", "ob1", "--mca", "btl_tcp_if_include", "192.0.2.0/24",
                  "--mca", "oob_tcp_if_include", "192.0.2.0/24", "--mca", "orte_tmpdir_base", hosts.top,
                  "--host", "h1:2,h2:2", "-n", "4", PYTHON, RING, str(args.rounds), "--interval", "0.002",
                  "--progress", "1"]
        hosts.start(one, out, "launch", "--", *mpirun)
        at, _ = wait_round(out, 0, 50, 120)
        figures = []
        for placement in ("h1", "h1,h2"):
            start = time.monotonic()
            ck = one.stasis("checkpoint")
            if placement == "h1":
                figures.append(time.monotonic() - start)
            path = ck.stdout.strip().splitlines()[-1]
            one.stasis("kill")
            time.sleep(1)  # the foreground command ends; its last lines are written
            if placement == "h1,h2":
                two.stasis("coordinator", "--daemon", "--join", main, "--token-file", one.token(), "--ckpt-dir",
                           two.checkpoints())
            skip = len(lines(out))
            start = time.monotonic()
            hosts.start(one, out, "restart", "--hosts", placement, path)
            at, seen = wait_round(out, skip, 0, 120)
            figures.append(seen - start)
            at, _ = wait_round(out, len(lines(out)), at + 50, 120)
        return tuple(figures)
    finally:
        hosts.close()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--transport", choices=("tcp", "default"), default="tcp")
    parser.add_argument("--rounds", type=int, default=100000, help="rounds of the ring (it is killed long before)")
    parser.add_argument("--hosts", action="store_true", help="over two simulated hosts (root)")
    args = parser.parse_args()
    if shutil.which("mpirun") is None or subprocess.run([PYTHON, "-c", "import mpi4py"]).returncode != 0:
        fail("needs mpirun (Debian openmpi-bin) and mpi4py for %s (python3-mpi4py)" % PYTHON)
    if args.hosts:
        if os.geteuid() != 0 or shutil.which("ip") is None or not os.access("/usr/sbin/sshd", os.X_OK):
            fail("--hosts needs root, ip (iproute2) and sshd (openssh-server)")
        runs = []
        for run in range(1, args.runs + 1):
            runs.append(across_hosts(args))
            print("run %d: checkpoint on 2 hosts %.3f s, restart on h1 to the next message %.3f s, back on h1,h2 "
                  "%.3f s (load %.2f)" % (run, *runs[-1], os.getloadavg()[0]), flush=True)
        print("mpi tcp, 4 ranks on 2 simulated hosts: checkpoint median %.3f s, restart on one host to next message "
              "median %.3f s (target <= 1 s), back on two hosts median %.3f s, load %s"
              % (statistics.median(r[0] for r in runs), statistics.median(r[1] for r in runs),
                 statistics.median(r[2] for r in runs), " ".join("%.2f" % x for x in os.getloadavg())))
        return
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
