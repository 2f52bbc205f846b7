#!/usr/bin/env python3
"""Structure-aware fuzzing of Stasis (issue 18).

  fuzz.py restorer NATIVE_OUT [--seed S] [--seconds T] [--cases N]
      real checkpoints of a C and a Python scenario (made with minicoord.py), then
      mutated images and restart plans fed to stasis-restore
  fuzz.py coordinator DIST [--seed S] [--seconds T] [--cases N]
      a private coordinator of the real CLI: mutated checkpoints (manifest JSON, image
      headers and tables) through `stasis verify` and `stasis restart`, abusive control
      protocol frames, fake agents with hostile HELLO lines and replies
  common: --crashers DIR (replayed first; new crashers are minimised and written there
  when --save is given), --expect FILE (known crashers: reported, not failed)

Oracle: no signal death, no hang (20 s per run), every refusal exactly one line on
stderr (`stasis: ` from the CLI, `stasis-restore: ` from the restorer) with exit 1
(2 = usage), nothing left running (by pid), nothing written outside the temp dir, and
the coordinator still answers `status` after every case.
Prints `runs N, R runs/s, crashes C` at the end; exit 1 if an unexpected crash was found."""
import argparse
import hashlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import fuzzlib  # noqa: E402
import imagefmt  # noqa: E402
from minicoord import Coordinator  # noqa: E402

TIMEOUT = 20


def descendants(root):
    kids = {}
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                with open("/proc/%s/stat" % name) as f:
                    rest = f.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            kids.setdefault(int(rest[1]), []).append(int(name))
    out, todo = [], [root]
    while todo:
        for pid in kids.get(todo.pop(), []):
            out.append(pid)
            todo.append(pid)
    return out


def kill_tree(pid):
    for p in [pid] + descendants(pid):
        try:
            os.kill(p, signal.SIGKILL)
        except ProcessLookupError:
            pass


def ns_init(host_pid):
    def ns(p):
        try:
            return os.readlink("/proc/%d/ns/pid" % p)
        except OSError:
            return None
    mine, p, top = ns(host_pid), host_pid, None
    if mine is None or mine == ns(os.getpid()):
        return None
    while p > 1 and ns(p) == mine:
        top = p
        try:
            with open("/proc/%d/stat" % p) as f:
                p = int(f.read().rsplit(")", 1)[1].split()[1])
        except OSError:
            break
    return top


def set_subreaper(on):
    """orphans of the processes we start come back to us (PR_SET_CHILD_SUBREAPER), so that
    what a refused restart left running is found by pid"""
    import ctypes
    ctypes.CDLL(None, use_errno=True).prctl(36, int(on), 0, 0, 0)


def one_line_refusal(rc, err, prefix):
    """None if (rc, stderr lines) is an acceptable refusal or success, else what is wrong"""
    if rc < 0 or rc >= 128:
        return "killed by signal %d" % (-rc if rc < 0 else rc - 128)
    if rc == 0:
        return None
    if rc not in (1, 2):
        return "exit status %d" % rc
    prefixes = (prefix,) if isinstance(prefix, str) else prefix
    lines = [l for l in err.splitlines() if not l.startswith(tuple(p + "warning" for p in prefixes))]
    if len(lines) != 1 or not lines[0].startswith(prefixes):
        return "refusal is not one '%s' line: %r" % ("' or '".join(p.strip() for p in prefixes), err[:600])
    return None


class Stats:
    def __init__(self):
        self.runs = 0
        self.outcomes = {}
        self.crashes = []      # (case dict, problem)
        self.expected = []

    def add(self, outcome):
        self.runs += 1
        self.outcomes[outcome] = self.outcomes.get(outcome, 0) + 1


def minimise(case, still_fails):
    """drop ops one at a time while the case still fails"""
    ops = list(case["ops"])
    i = 0
    while i < len(ops) and len(ops) > 1:
        trial = dict(case, ops=ops[:i] + ops[i + 1:])
        if still_fails(trial):
            ops = trial["ops"]
        else:
            i += 1
    return dict(case, ops=ops)


def case_id(case):
    return hashlib.sha1(json.dumps({k: case[k] for k in ("target", "base", "ops")}, sort_keys=True)
                        .encode()).hexdigest()[:10]


# ===================================================================== restorer
class RestorerFuzz:
    """mutated images and plans through native/target/bin/stasis-restore"""

    def __init__(self, out, workdir):
        self.out = os.path.abspath(out)
        self.dir = workdir
        self.coord = Coordinator(os.path.join(self.dir, "agent.sock"))
        self.bases = {}
        self.victim = None
        set_subreaper(1)

    def restore_bin(self):
        return os.path.join(self.out, "bin/stasis-restore")

    def make_base(self, name, argv, ready):
        log = open(os.path.join(self.dir, "%s.log" % name), "w")
        cmd = [os.path.join(self.out, "bin/stasis-launch"), os.path.join(self.out, "lib/libstasis-agent.so"),
               self.coord.sock_path, "--"] + argv
        proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=log, stderr=log)
        try:
            agent = self.coord.wait_agent(lambda a: a.restored == 0 and "join" not in a.hello)
            deadline = time.time() + 30
            while time.time() < deadline and ready not in open(log.name).read():
                time.sleep(0.05)
            ck = os.path.join(self.dir, "base-" + name)
            self.coord.checkpoint(agent, ck, resume=False)
            plan = os.path.join(ck, "restart.plan")
            meta = self.coord.write_plan(ck, plan, inherit=(), shared="auto")
            with open(plan) as f:
                text = f.read()
            with open(meta["image"], "rb") as f:
                image = f.read()
            info = imagefmt.read_image(meta["image"])
            self.bases[name] = {"plan": text, "image": image, "image_path": meta["image"],
                                "n_areas": len(info["areas"]), "n_runs": _n_runs(image)}
            init = ns_init(agent.host_pid)
            agent.close()
        finally:
            kill_tree(proc.pid)
            proc.kill()
            proc.wait()
        if init:
            kill_tree(init)

    def setup(self):
        self.make_base("counter", [os.path.join(self.out, "scenarios/counter"), "100000", "10"], "count 3")
        self.make_base("python", [sys.executable, os.path.join(self.out, "scenarios/python_memory.py"),
                                  "8", "100000", "0.05"], "\n")

    def launch_victim(self):
        """a long-running program whose agent gets the hostile requests"""
        log = open(os.path.join(self.dir, "victim.log"), "a")
        cmd = [os.path.join(self.out, "bin/stasis-launch"), os.path.join(self.out, "lib/libstasis-agent.so"),
               self.coord.sock_path, "--", os.path.join(self.out, "scenarios/counter"), "10000000", "20"]
        self.vcwd = os.path.join(self.dir, "victim-cwd")
        os.makedirs(self.vcwd, mode=0o700, exist_ok=True)
        proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True,
                                cwd=self.vcwd)
        self.victim = (proc, self.coord.wait_agent(lambda a: a.restored == 0 and "join" not in a.hello))

    def drop_victim(self):
        proc, agent = self.victim
        init = ns_init(agent.host_pid)
        agent.close()
        kill_tree(proc.pid)
        if init:
            kill_tree(init)
        proc.wait()
        self.victim = None

    def run_requests(self, case):
        if self.victim is None:
            self.launch_victim()
        proc, agent = self.victim
        cdir = tempfile.mkdtemp(prefix="case-", dir=self.dir)
        try:
            for op in case["ops"] + [{"op": "req", "line": "RESUME 0"}]:
                line = op["line"].replace("{dir}", cdir)
                try:
                    agent.conn.settimeout(TIMEOUT)
                    agent.conn.sendall(line.encode("utf-8", "surrogateescape") + b"\nPING\n")
                    while True:
                        reply = agent.readline()
                        if reply == "PONG":
                            break
                        if len(reply) > 70000:
                            raise AssertionError("reply of %d bytes" % len(reply))
                    agent.file.close_fds()
                except (OSError, ConnectionError, AssertionError) as e:
                    alive = proc.poll() is None
                    self.drop_victim()
                    return "bad", "agent after %r: %s (%s)" % (line[:200], e, "process alive" if alive else
                                                               "process ended %s" % proc.returncode)
            if proc.poll() is not None:
                self.drop_victim()
                return "bad", "the program ended (%s)" % proc.returncode
            wrote = os.listdir(self.vcwd)
            if wrote:                      # only the case's directory may get anything
                for f in wrote:
                    shutil.rmtree(os.path.join(self.vcwd, f), ignore_errors=True)
                return "bad", "the agent wrote %r in the program's working directory" % wrote
            return "ok", None
        finally:
            shutil.rmtree(cdir, ignore_errors=True)

    def random_case(self, rng):
        base = rng.choice(sorted(self.bases))
        b = self.bases[base]
        if rng.random() < 0.15:
            return {"target": "agent-requests", "base": "counter",
                    "ops": [{"op": "req", "line": fuzzlib.agent_request(rng, "{dir}")}
                            for _ in range(rng.randrange(1, 5))]}
        if rng.random() < 0.7:
            return {"target": "restorer-image", "base": base, "verify": rng.choice(("on", "off")),
                    "namespaces": rng.choice(("on", "on", "off")), "ops": fuzzlib.image_ops(rng, b["n_areas"],
                                                                                              b["n_runs"])}
        return {"target": "restorer-plan", "base": base, "verify": "on", "namespaces": "on",
                "ops": fuzzlib.plan_ops(rng, len(b["plan"].splitlines()))}

    def run(self, case):
        """-> (outcome, problem or None)"""
        if case["target"] == "agent-requests":
            return self.run_requests(case)
        b = self.bases[case["base"]]
        cdir = tempfile.mkdtemp(prefix="case-", dir=self.dir)
        try:
            image = os.path.join(cdir, "image.img")
            plan_text = b["plan"].replace(b["image_path"], image)
            lines = [l for l in plan_text.splitlines() if not l.startswith(("verify ", "namespaces "))]
            lines.insert(1, "verify " + case["verify"])
            lines.insert(1, "namespaces " + case["namespaces"])
            plan_text = "\n".join(lines) + "\n"
            if case["target"] == "restorer-image":
                img = fuzzlib.Image(b["image"])
                for op in case["ops"]:
                    img.apply(op)
                img.save(image)
                plan_bytes = plan_text.encode()
            else:
                with open(image, "wb") as f:
                    f.write(b["image"])
                plan_bytes = fuzzlib.apply_plan_ops(plan_text, case["ops"])
            plan = os.path.join(cdir, "restart.plan")
            with open(plan, "wb") as f:
                f.write(plan_bytes)
            return self._run_restorer(plan, cdir)
        finally:
            shutil.rmtree(cdir, ignore_errors=True)

    def _run_restorer(self, plan, cdir):
        errp = os.path.join(cdir, "stderr")
        with open(errp, "w") as ef:
            proc = subprocess.Popen([self.restore_bin(), plan], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                    stderr=ef, cwd=cdir, start_new_session=True)
        deadline = time.time() + TIMEOUT
        agent = None
        # a plan without an agent-socket line restores a program no agent of ours will
        # report: once it runs there is nothing more to wait for
        with open(plan, "rb") as f:
            detached = not any(line.startswith(b"agent-socket ") for line in f.read().splitlines())
        while time.time() < deadline and proc.poll() is None and agent is None:
            try:
                agent = self.coord.wait_agent(lambda a: a.restored > 0, timeout=0.05)
            except TimeoutError:
                if detached and self.runs_program(proc.pid):
                    break
        if agent is None and proc.poll() is None:
            time.sleep(0.2)
        rc = proc.poll()
        try:
            if agent is not None:
                return "restored", None
            if rc is None:
                if self.runs_program(proc.pid):
                    return "restored-detached", None     # a plan without our agent-socket line
                return "hang", "no answer in %d s" % TIMEOUT
            err = open(errp, errors="replace").read()
            # the restorer's own refusals, and the restored agent's (it reports through the
            # restorer's channel, e.g. when it cannot reach the plan's agent-socket)
            problem = one_line_refusal(rc, err, ("stasis: ", "stasis-restore: ", "stasis-agent: "))
            left = self.leftovers()
            if left and not problem:
                problem = "left running after the restorer exited %d: %s" % (rc, left)
            return ("refused" if rc else "exit0"), problem
        finally:
            if agent is not None:
                init = ns_init(agent.host_pid)
                kill_tree(agent.host_pid)
                if init:
                    kill_tree(init)
                agent.close()
            kill_tree(proc.pid)
            proc.wait()
            keep = self.keep()
            for p in descendants(os.getpid()):
                if p not in keep:
                    kill_tree(p)

    def keep(self):
        """the long-running program of agent-requests stays"""
        if not self.victim:
            return set()
        return {self.victim[0].pid, self.victim[1].host_pid} | set(descendants(self.victim[0].pid))

    def leftovers(self):
        """-> [(pid, cmdline)] of processes a refused restart left running (the fuzzer is
        the subreaper of everything the restorer started: orphans come back to it)"""
        deadline = time.time() + 2
        while True:
            left = []
            for p in descendants(os.getpid()):
                if p in self.keep():
                    continue
                try:
                    with open("/proc/%d/stat" % p) as f:
                        zombie = f.read().rsplit(")", 1)[1].split()[0] == "Z"
                    with open("/proc/%d/cmdline" % p, "rb") as f:
                        cmd = f.read().replace(b"\0", b" ").decode(errors="replace")[:120]
                except OSError:
                    continue
                if zombie:
                    try:
                        os.waitpid(p, os.WNOHANG)
                    except ChildProcessError:
                        pass
                    continue
                left.append((p, cmd))
            if not left or time.time() > deadline:
                return left
            time.sleep(0.05)

    def runs_program(self, pid):
        """a restored program runs (without coordinator): some process below the restorer
        is no longer stasis-restore"""
        for p in [pid] + descendants(pid):
            try:
                with open("/proc/%d/cmdline" % p, "rb") as f:
                    argv0 = f.read().split(b"\0")[0]
                if argv0 and not argv0.endswith(b"stasis-restore"):
                    return True
            except OSError:
                pass
        return False

    def close(self):
        if self.victim:
            self.drop_victim()
        self.coord.close()
        set_subreaper(0)


def _n_runs(image):
    import struct
    return struct.unpack_from("<I", image, imagefmt.OFF_N_RUNS)[0]


# ===================================================================== driver
def load_cases(path):
    out = []
    if path and os.path.isdir(path):
        for f in sorted(os.listdir(path)):
            if f.endswith(".json"):
                with open(os.path.join(path, f)) as fh:
                    c = json.load(fh)
                c["file"] = f
                out.append(c)
    return out


def drive(fuzzer, targets, seed, seconds, cases, crashers_dir, save, log=print):
    """replay stored crashers, then random cases until seconds or cases run out.
    -> Stats; unexpected crashes are the ones whose stored file is not marked expected"""
    st = Stats()
    replay = [c for c in load_cases(crashers_dir) if c["target"] in targets]
    for c in replay:
        outcome, problem = fuzzer.run(c)
        st.add(c["target"] + ":" + outcome)
        if problem:
            if c.get("expected"):
                st.expected.append((c, problem))
                log("expected-failure %s: %s" % (c["file"], problem))
            else:
                st.crashes.append((c, problem))
                log("REGRESSION %s: %s" % (c["file"], problem))
        elif c.get("expected"):
            log("fixed (remove its expected mark): %s" % c["file"])
    known = {case_id(c) for c in replay}
    t0 = time.time()
    i = 0
    while (seconds is None or time.time() - t0 < seconds) and (cases is None or i < cases):
        rng = fuzzlib.case_rng(seed, i)
        c = fuzzer.random_case(rng)
        c["seed"], c["case"] = seed, i
        i += 1
        outcome, problem = fuzzer.run(c)
        st.add(c["target"] + ":" + outcome)
        if not problem:
            continue
        small = minimise(c, lambda t: fuzzer.run(t)[1] is not None)
        first, (outcome, problem) = problem, fuzzer.run(small)
        if problem is None:
            small, problem = c, "flaky: " + first
        cid = case_id(small)
        if cid in known:
            continue
        known.add(cid)
        small["problem"] = problem
        st.crashes.append((small, problem))
        log("CRASH seed %s case %d -> %s: %s %s" % (seed, c["case"], cid, problem[:500],
                                                    json.dumps(small["ops"])[:500]))
        if save and crashers_dir:
            os.makedirs(crashers_dir, exist_ok=True)
            with open(os.path.join(crashers_dir, "%s-%s.json" % (small["target"], cid)), "w") as f:
                json.dump({k: v for k, v in small.items() if k != "file"}, f, indent=1)
                f.write("\n")
    return st


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("mode", choices=("restorer", "coordinator"))
    ap.add_argument("where")
    ap.add_argument("--seed", default="1")
    ap.add_argument("--seconds", type=float)
    ap.add_argument("--cases", type=int)
    ap.add_argument("--crashers", default=os.path.join(HERE, "fuzz-crashers"))
    ap.add_argument("--save", action="store_true")
    a = ap.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))    # clean up (finally blocks) when stopped
    work = tempfile.mkdtemp(prefix="stasis-fuzz-")
    os.chmod(work, 0o700)
    t0 = time.time()
    try:
        if a.mode == "restorer":
            fz = RestorerFuzz(a.where, work)
            targets = ("restorer-image", "restorer-plan", "agent-requests")
        else:
            import fuzzcoord
            fz = fuzzcoord.CoordinatorFuzz(a.where, work)
            targets = fuzzcoord.TARGETS
        try:
            fz.setup()
            st = drive(fz, targets, a.seed, a.seconds, a.cases, a.crashers, a.save)
        finally:
            fz.close()
    finally:
        shutil.rmtree(work, ignore_errors=True)
    secs = time.time() - t0
    print("runs %d, %.1f runs/s, crashes %d (expected %d), outcomes %s" %
          (st.runs, st.runs / max(secs, 0.001), len(st.crashes), len(st.expected), st.outcomes))
    return 1 if st.crashes else 0


if __name__ == "__main__":
    sys.exit(main())
