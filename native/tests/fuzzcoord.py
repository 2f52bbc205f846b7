"""The coordinator side of fuzz.py: a private coordinator of the real CLI (dist/bin/stasis)
fed mutated checkpoints (`verify`, `list`, `restart`), abusive control frames and
fake agents. See fuzz.py for the oracle."""
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

import fuzzlib
import imagefmt
from fuzz import TIMEOUT, descendants, kill_tree, one_line_refusal

TARGETS = ("verify", "restart", "control", "agent")
NAME = "fz"
BAD_LOG = ("Exception in thread", "java.lang.OutOfMemoryError", "java.lang.StackOverflowError",
           "A fatal error has been detected", "ran out of memory")


class CoordinatorFuzz:
    def __init__(self, dist, workdir):
        self.dist = os.path.abspath(dist)
        self.stasis = os.path.join(self.dist, "bin/stasis")
        self.scen = os.path.join(os.path.dirname(self.dist), "native/target/scenarios")
        self.dir = workdir
        self.run_dir = os.path.join(workdir, "run")
        os.mkdir(self.run_dir, 0o700)
        self.ck = os.path.join(workdir, "ck")
        self.env = dict(os.environ, STASIS_RUNTIME_DIR=self.run_dir)
        self.coord_pid = None
        self.bases = {}
        self.log_pos = 0
        self.ncase = 0

    # ---- the CLI ----
    def cli(self, *args, timeout=TIMEOUT, stdin=subprocess.DEVNULL):
        """-> (rc or None on timeout, stdout, stderr)"""
        p = subprocess.Popen([self.stasis] + list(args), env=self.env, stdin=stdin, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, start_new_session=True, cwd=self.dir)
        try:
            out, err = p.communicate(timeout=timeout)
            return p.returncode, out.decode(errors="replace"), err.decode(errors="replace")
        except subprocess.TimeoutExpired:
            kill_tree(p.pid)
            out, err = p.communicate()
            return None, out.decode(errors="replace"), err.decode(errors="replace")

    def setup(self):
        rc, out, err = self.cli("coordinator", "--daemon", "--name", NAME, "--ckpt-dir", self.ck, timeout=90)
        if rc != 0:
            raise RuntimeError("coordinator did not start: %s %s" % (out, err))
        self.coord_pid = int(out.split("(pid ")[1].split(",")[0])
        self.make_base("counter", [os.path.join(self.scen, "counter"), "100000", "10"], "count 3")
        # two processes joined by pipes: a manifest with a tree, pipes and two images
        self.make_base("python", [sys.executable, os.path.join(self.scen, "py_subprocess.py"), "1000000", "0.02"],
                       "step 3")
        self.log_pos = os.path.getsize(self.log_path())

    def log_path(self):
        return os.path.join(self.run_dir, NAME + ".log")

    def make_base(self, name, argv, ready):
        logp = os.path.join(self.dir, "%s.out" % name)
        with open(logp, "w") as log:
            proc = subprocess.Popen([self.stasis, "launch", "--name", NAME, "--"] + argv, env=self.env,
                                    stdin=subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True)
        try:
            deadline = time.time() + 60
            while time.time() < deadline and ready not in open(logp).read():
                time.sleep(0.1)
            rc, out, err = self.cli("checkpoint", "--name", NAME, timeout=120)
            if rc != 0:
                raise RuntimeError("base checkpoint %s: %s %s" % (name, out, err))
            src = out.strip().splitlines()[-1]
            dst = os.path.join(self.dir, "base-" + name)
            shutil.copytree(src, dst, symlinks=True)
            with open(os.path.join(dst, "manifest.json")) as f:
                manifest = json.load(f)
            image = manifest["images"][0]["image"]
            with open(os.path.join(dst, image), "rb") as f:
                head = f.read(200)
            import struct
            n_areas, n_runs = struct.unpack_from("<II", head, imagefmt.OFF_N_AREAS)
            self.bases[name] = {"dir": dst, "manifest": manifest, "image": image, "n_areas": n_areas,
                                "n_runs": n_runs}
        finally:
            self.cli("kill", "--name", NAME)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                kill_tree(proc.pid)
                proc.wait()

    def close(self):
        if self.coord_pid:
            self.cli("kill", "--name", NAME)
            self.cli("shutdown", "--name", NAME)
            deadline = time.time() + 20
            while time.time() < deadline and os.path.exists("/proc/%d" % self.coord_pid):
                time.sleep(0.1)
            try:
                os.kill(self.coord_pid, signal.SIGKILL)
            except ProcessLookupError:
                pass

    # ---- cases ----
    def random_case(self, rng):
        base = rng.choice(sorted(self.bases))
        b = self.bases[base]
        target = rng.choice(("verify", "verify", "restart", "control", "agent"))
        if target in ("verify", "restart"):
            if rng.random() < 0.5:
                ops = fuzzlib.manifest_ops(rng, b["manifest"])
            else:
                ops = [dict(op, file="image") for op in fuzzlib.image_ops(rng, b["n_areas"], b["n_runs"])]
            if rng.random() < 0.1:
                ops.append({"op": rng.choice(("image-fifo", "image-symlink", "image-dir", "manifest-fifo",
                                              "manifest-symlink"))})
            return {"target": target, "base": base, "ops": ops}
        if target == "control":
            return {"target": "control", "base": base,
                    "ops": [{"op": "frame", "hex": fuzzlib.control_frame(rng).hex()}
                            for _ in range(rng.choice((1, 1, 3)))]}
        hello = fuzzlib.hello_line(rng)
        return {"target": "agent", "base": base, "ops": [{"op": "agent", "hello": hello,
                                                          "seed": rng.randrange(1 << 30),
                                                          "checkpoint": rng.random() < 0.7}]}

    def run(self, case):
        self.ncase += 1
        cdir = os.path.join(self.dir, "cases", "c%d" % self.ncase)
        os.makedirs(cdir, mode=0o700)
        before = set(os.listdir(self.dir))
        tmp_before = _tmp_entries()
        try:
            outcome, problem = getattr(self, "run_" + case["target"])(case, cdir)
        finally:
            shutil.rmtree(os.path.join(self.dir, "cases"), ignore_errors=True)
        problem = problem or self.health(before, tmp_before)
        return outcome, problem

    def health(self, before, tmp_before):
        """the coordinator lives, answers status, logged no crash; nothing new outside"""
        if not os.path.exists("/proc/%d" % self.coord_pid):
            return "the coordinator died"
        t0 = time.time()
        rc, out, err = self.cli("status", "--name", NAME, timeout=TIMEOUT)
        if rc != 0:
            return "status after the case: rc %s %s" % (rc, (err or out)[:300])
        took = time.time() - t0
        with open(self.log_path(), "rb") as f:
            f.seek(self.log_pos)
            new = f.read(4 << 20).decode(errors="replace")
            self.log_pos = f.tell()
        if os.path.getsize(self.log_path()) - self.log_pos > (1 << 20):
            return "the coordinator's log grew by over 1 MiB"
        for bad in BAD_LOG:
            if bad in new:
                i = new.index(bad)
                return "coordinator log: %s" % new[max(0, i - 100):i + 200].replace("\n", " | ")
        extra = set(os.listdir(self.dir)) - before - {"cases"}
        if extra:
            return "files written in the work dir: %s" % sorted(extra)
        outside = {e for e in _tmp_entries() - tmp_before if e in ("x.img", "x", "evil.sock", "image.img")}
        if outside:
            return "files written in /tmp: %s" % sorted(outside)
        if took > 10:
            return "status took %.1f s" % took
        return None

    def mutate_checkpoint(self, case, cdir):
        b = self.bases[case["base"]]
        ck = os.path.join(cdir, NAME + "-9")
        shutil.copytree(b["dir"], ck, symlinks=True)
        mpath, ipath = os.path.join(ck, "manifest.json"), os.path.join(ck, b["image"])
        mops = [o for o in case["ops"] if o["op"].startswith("json-")]
        iops = [o for o in case["ops"] if o.get("file") == "image"]
        special = [o["op"] for o in case["ops"] if o["op"] in ("image-fifo", "image-symlink", "image-dir",
                                                                "manifest-fifo", "manifest-symlink")]
        if mops:
            with open(mpath) as f:
                text = f.read()
            data = fuzzlib.apply_manifest_ops(text, mops)
            with open(mpath, "wb") as f:
                f.write(data)
        if iops:
            with open(ipath, "rb") as f:
                img = fuzzlib.Image(f.read())
            for op in iops:
                img.apply(op)
            img.save(ipath)
        for s in special:
            path = ipath if s.startswith("image") else mpath
            os.unlink(path)
            if s.endswith("fifo"):
                os.mkfifo(path, 0o600)
            elif s.endswith("symlink"):
                os.symlink(os.path.join(b["dir"], os.path.basename(path)), path)
            else:
                os.mkdir(path, 0o700)
        return ck

    def run_verify(self, case, cdir):
        ck = self.mutate_checkpoint(case, cdir)
        refused = False
        for args in (("verify", "--name", NAME, ck), ("list", "--name", NAME, "--ckpt-dir", cdir)):
            rc, out, err = self.cli(*args)
            if rc is None:
                return "hang", "%s did not answer in %d s" % (args[0], TIMEOUT)
            problem = one_line_refusal(rc, err, "stasis: ")
            if problem:
                return "bad", "%s: %s" % (args[0], problem)
            for bad in BAD_LOG:
                if bad in err + out:
                    return "bad", "%s: %s" % (args[0], (err + out)[:300])
            refused = refused or rc != 0
        return ("refused" if refused else "ok"), None

    def restored(self):
        rc, out, _ = self.cli("status", "--name", NAME, "--json", timeout=TIMEOUT)
        return rc == 0 and '"restored" : true' in out

    def run_restart(self, case, cdir):
        ck = self.mutate_checkpoint(case, cdir)
        errp = os.path.join(cdir, "restart.err")
        with open(errp, "w") as ef:
            p = subprocess.Popen([self.stasis, "restart", "--name", NAME, ck], env=self.env, stdin=subprocess.DEVNULL,
                                 stdout=subprocess.DEVNULL, stderr=ef, start_new_session=True, cwd=cdir)
        deadline = time.time() + TIMEOUT
        came = False
        while time.time() < deadline and p.poll() is None:
            if self.restored():
                came = True
                break
            time.sleep(0.2)
        try:
            if came:
                return "restored", None
            if p.poll() is None:
                return "hang", "restart did not end or restore in %d s" % TIMEOUT
            err = open(errp, errors="replace").read()
            # bin/stasis execs stasis-restore: its refusals (and the restored agent's) keep their prefix
            return "refused", one_line_refusal(p.returncode, err, ("stasis: ", "stasis-restore: ", "stasis-agent: "))
        finally:
            self.cli("kill", "--name", NAME)
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                kill_tree(p.pid)
                p.wait()
            for pid in descendants(os.getpid()):
                kill_tree(pid)

    def run_control(self, case, cdir):
        sock_path = os.path.join(self.run_dir, NAME + ".sock")
        conns = []
        try:
            for op in case["ops"]:
                s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                s.settimeout(5)
                s.connect(sock_path)
                try:
                    s.sendall(bytes.fromhex(op["hex"]))
                except OSError:
                    pass
                conns.append(s)
            # while the abusive connections are open, a well-behaved client is answered
            t0 = time.time()
            rc, out, err = self.cli("status", "--name", NAME, timeout=TIMEOUT)
            if rc != 0:
                return "bad", "status while abused: rc %s %s" % (rc, err[:200])
            if time.time() - t0 > 10:
                return "bad", "status took %.1f s while abused" % (time.time() - t0)
            # one wait for all of them: a connection whose request is incomplete is held
            # open by the coordinator until the deadline, and its neighbours' replies are
            # in by then (they were sent before the status above)
            deadline = time.time() + 8
            for s, op in zip(conns, case["ops"]):
                problem = read_frames(s, deadline, truncated_exec(bytes.fromhex(op["hex"])))
                if problem:
                    return "bad", problem
            return "ok", None
        finally:
            for s in conns:
                s.close()

    def run_agent(self, case, cdir):
        op = case["ops"][0]
        sock_path = os.path.join(self.run_dir, NAME + ".agent.sock")
        hello = os.path.join(cdir, "hello")
        with open(hello, "wb") as f:
            f.write(op["hello"].encode("utf-8", "surrogateescape"))
        fake = subprocess.Popen([sys.executable, os.path.abspath(__file__), sock_path, hello, str(op["seed"])],
                                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                start_new_session=True, cwd=cdir)
        try:
            time.sleep(0.3)
            if op["checkpoint"]:
                rc, out, err = self.cli("checkpoint", "--name", NAME, timeout=60)
                if rc is None:
                    return "hang", "checkpoint with a fake agent did not end in 60 s"
                problem = one_line_refusal(rc, err, "stasis: ")
                if problem:
                    return "bad", "checkpoint: " + problem
            return "ok", None
        finally:
            kill_tree(fake.pid)
            fake.wait()
            self.cli("kill", "--name", NAME)
            for ck in list(os.listdir(self.ck)) if os.path.isdir(self.ck) else []:
                if ck not in ("latest",) and not ck.startswith("."):
                    shutil.rmtree(os.path.join(self.ck, ck), ignore_errors=True)


def _tmp_entries():
    try:
        return set(os.listdir("/tmp"))
    except OSError:
        return set()


def truncated_exec(frame):
    """an EXEC request whose connection has fewer bytes than it announced"""
    head, nl, body = frame.partition(b"\n")
    parts = head.split(b" ")
    return bool(nl) and len(parts) == 2 and parts[0] == b"EXEC" and parts[1].isdigit() and len(body) < int(parts[1])


def read_frames(s, deadline, truncated=False):
    """None if what the coordinator sent back by the deadline (time.time()) is a
    well-formed reply (or nothing: closed without an answer), else what is wrong; a
    truncated EXEC must never run (no X 0)"""
    data = b""
    try:
        while len(data) < (4 << 20):
            s.settimeout(max(0.05, deadline - time.time()))
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
    except socket.timeout:
        return None if not data else None   # an incomplete request is waited for: fine
    except OSError:
        return None
    i = 0
    while i < len(data):
        nl = data.find(b"\n", i)
        if nl < 0:
            return "reply ends inside a frame header: %r" % data[i:i + 80]
        head = data[i:nl].split(b" ")
        if len(head) != 2 or head[0] not in (b"O", b"E", b"X") or not head[1].isdigit():
            return "bad frame header %r" % data[i:nl][:80]
        n = int(head[1])
        i = nl + 1 + n
        if i > len(data):
            return "reply ends inside a frame"
        if head[0] == b"X":
            if truncated and data[nl + 1:i] == b"0":
                return "a truncated EXEC was executed: %r" % data[:200]
            return None if i == len(data) else "bytes after the X frame"
    return None if not data else "reply without an X frame: %r" % data[:120]


def fake_agent(sock_path, hello, seed):
    """a hostile agent: its HELLO, then hostile replies to whatever the coordinator asks"""
    import random
    rng = random.Random(seed)
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(sock_path)
    s.sendall(hello.encode("utf-8", "surrogateescape") + b"\n")
    buf = b""
    s.settimeout(30)
    while True:
        data = s.recv(65536)
        if not data:
            return
        buf += data
        while b"\n" in buf:
            line, _, buf = buf.partition(b"\n")
            rep = fuzzlib.agent_reply(rng, line.decode(errors="replace"), hello)
            if rng.random() < 0.05:
                return                       # gone in the middle
            s.sendall(rep.encode() + (b"\n" if rng.random() < 0.95 else b""))


if __name__ == "__main__":
    with open(sys.argv[2], "rb") as f:
        fake_agent(sys.argv[1], f.read().decode("utf-8", "surrogateescape"), int(sys.argv[3]))
