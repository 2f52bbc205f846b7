"""Hostile checkpoints (issue 18, item 6): a REAL checkpoint of a small program, mutated
the way an attacker would (every CRC32C recomputed, so only the semantic checks can
catch it). The restorer refuses each one before it touches anything: one line
"stasis: image NAME: ...", exit 1, within seconds, no process left behind. The same
rules run as `stasis-restore --check IMAGE` (what `stasis verify` calls)."""
import ctypes
import os
import signal
import struct
import subprocess
import time

from run_tests import Env, RESTORE, SCEN, check, wait_lines  # noqa: F401
import imagefmt

H = imagefmt.HEADER_SIZE
P = imagefmt.PROC_OFF
A = imagefmt.AREA_SIZE
R = imagefmt.RUN_SIZE
PR_SET_CHILD_SUBREAPER = 36


class Image:
    """header and tables of an image as mutable bytes; build() recomputes every CRC
    (header, tables; page data is left alone: plans run with 'verify off')"""

    def __init__(self, data):
        self.data = data
        self.h = bytearray(data[:H])
        (self.n_areas, self.n_runs) = struct.unpack_from("<II", self.h, imagefmt.OFF_N_AREAS)
        self.data_offset, _, self.tab_off, self.tab_size, self.file_size = struct.unpack_from("<QQQQQ", self.h, imagefmt.OFF_DATA_OFFSET)
        self.tab = bytearray(data[self.tab_off:self.tab_off + self.tab_size])

    def hset(self, off, fmt, *v):
        struct.pack_into(fmt, self.h, off, *v)

    def area(self, i):
        return dict(zip(("start", "end", "pgoff", "data_bytes", "prot", "flags", "kind", "crc", "run_first",
                         "run_count", "name_off", "name_len"), struct.unpack_from("<QQQQIIIIIIII", self.tab, i * A)))

    def aset(self, i, field, value):
        offs = {"start": (0, "<Q"), "end": (8, "<Q"), "prot": (32, "<I"), "flags": (36, "<I"), "kind": (40, "<I"),
                "name_off": (56, "<I"), "name_len": (60, "<I")}
        off, fmt = offs[field]
        struct.pack_into(fmt, self.tab, i * A + off, value)

    def rset(self, r, field, value):
        off = {"addr": 0, "len": 8, "file_offset": 16}[field]
        struct.pack_into("<Q", self.tab, self.n_areas * A + r * R + off, value)

    def build(self):
        h = bytearray(self.h)
        struct.pack_into("<I", h, imagefmt.OFF_TABLE_CRC, imagefmt.crc32c(bytes(self.tab)))
        struct.pack_into("<I", h, imagefmt.OFF_HEADER_CRC, 0)
        struct.pack_into("<I", h, imagefmt.OFF_HEADER_CRC, imagefmt.crc32c(bytes(h)))
        out = bytearray(self.data)
        out[:H] = h
        out[self.tab_off:self.tab_off + len(self.tab)] = self.tab
        return bytes(out)


def find(img, pred):
    for i in range(img.n_areas):
        if pred(img.area(i)):
            return i
    raise AssertionError("no such area in the image")


def _mutations(img0):
    """-> [(name, mutate(img), expected text in the refusal)]"""
    entry = struct.unpack_from("<Q", img0.h, P)[0]
    stack = find(img0, lambda a: a["flags"] & 2)
    heap = find(img0, lambda a: a["kind"] == 1 and a["run_count"] > 0 and not a["flags"] & 2)
    code = find(img0, lambda a: a["start"] <= entry < a["end"])
    named = find(img0, lambda a: a["name_len"] > 0)
    shared = find(img0, lambda a: a["kind"] == 3)
    run_area = find(img0, lambda a: a["run_count"] > 0)
    first_run = img0.area(run_area)["run_first"]
    ra = img0.area(run_area)
    others = sorted((img0.area(i)["start"], i) for i in range(img0.n_areas) if i != stack)
    before_stack = [i for s, i in others if s < img0.area(stack)["start"]][-1]

    def special_count(i): i.hset(P + 32, "<I", 1000)
    def special_name(i): i.h[P + 40 + 16:P + 40 + 32] = b"[" + b"A" * 15
    def special_renamed(i): i.h[P + 40 + 16:P + 40 + 32] = b"[vdso-x]".ljust(16, b"\0")
    def special_missing(i): i.hset(P + 32, "<I", 0)
    def overlap(i): i.aset(heap, "end", i.area(stack)["start"] + 4096)          # heap runs over the stack
    def overlap_stack(i): i.aset(before_stack, "end", i.area(stack)["end"])
    def entry0(i): i.hset(P, "<Q", 0)
    def entry_data(i): i.hset(P, "<Q", i.area(stack)["start"])               # not executable
    def stack0(i): i.hset(P + 8, "<Q", 0)
    def unaligned(i): i.aset(heap, "start", i.area(heap)["start"] + 8)
    def kernel(i):
        i.aset(stack, "start", 0xffff888000000000)
        i.aset(stack, "end", 0xffff888000100000)
    def noncanonical(i): i.aset(stack, "end", 0x800000000000)
    def restorer(i):
        i.aset(code, "start", 0x7e000000)
        i.aset(code, "end", 0x7e100000)
    def scratch(i):
        i.aset(heap, "start", 0x10000000000)
        i.aset(heap, "end", 0x10000100000)
    def kind(i): i.aset(heap, "kind", 9)
    def pgoff(i): struct.pack_into("<Q", i.tab, shared * A + 16, 100)
    def pgoff_huge(i): struct.pack_into("<Q", i.tab, shared * A + 16, 0x8000000000000000)
    def prot(i): i.aset(heap, "prot", 0x13)
    def flags(i): i.aset(heap, "flags", 0x80)
    def areas_huge(i): i.hset(108, "<I", 0xFFFFFFFF)
    def areas_file(i): i.hset(imagefmt.OFF_N_AREAS, "<I", imagefmt.MAX_AREAS)      # bounded by the table size
    def areas_limit(i): i.hset(imagefmt.OFF_N_AREAS, "<I", imagefmt.MAX_AREAS + 1)  # above STASIS_IMG_MAX_AREAS
    def runs_huge(i): i.hset(112, "<I", 0x7FFFFFFF)
    def table_wrap(i): i.hset(144, "<Q", 2 ** 64 - 4096)
    def pid_huge(i): i.hset(160, "<i", 308532724)
    def tid_negative(i): i.hset(168 + 4, "<i", -5)
    def threads0(i): i.hset(116, "<I", 0)
    def threads_huge(i): i.hset(116, "<I", 100000)
    def run_outside_file(i): i.rset(first_run, "file_offset", (i.file_size + (1 << 20)) & ~4095)
    def run_outside_area(i): i.rset(first_run, "addr", ra["end"])
    def run_beyond_area(i): i.rset(first_run, "addr", 0x7ffffffff000)         # end - addr would wrap
    def run_into_tables(i): i.rset(first_run, "file_offset", i.tab_off & ~4095)
    def name_unterminated(i): i.aset(named, "name_len", len(i.tab) * 2)
    def name_nonul(i):
        a = i.area(named)
        base = i.n_areas * A + i.n_runs * R
        i.tab[base + a["name_off"] + a["name_len"]] = ord("x")
    def cwd(i): i.h[imagefmt.OFF_PROC_CWD:imagefmt.OFF_PROC_CWD + imagefmt.CWD_LEN] = b"/" * 4096
    def auxv(i): i.hset(P + 36, "<I", 1000)
    def kflags(i): i.hset(imagefmt.OFF_PROC_KFLAGS, "<I", 0x80)
    def data_offset(i): i.hset(120, "<Q", i.data_offset + 8)
    return [
        ("special-count", special_count, "bad special area count 1000"),
        ("special-name", special_name, "special area 0 has a bad name"),
        ("special-renamed", special_renamed, "it has no record of the kernel's"),
        ("special-missing", special_missing, "it has no record of the kernel's"),
        ("overlap", overlap, "overlaps area"),
        ("overlap-stack", overlap_stack, "area %d overlaps area %d" % (max(stack, before_stack), min(stack, before_stack))),
        ("entry-zero", entry0, "entry point 0 is not in an executable saved area"),
        ("entry-data", entry_data, "is not in an executable saved area"),
        ("stack-zero", stack0, "entry stack 0 is not in a writable saved area"),
        ("unaligned", unaligned, "area %d has bad bounds" % heap),
        ("kernel-space", kernel, "area %d (0xffff888000000000) is outside user space" % stack),
        ("noncanonical", noncanonical, "is outside user space"),
        ("restorer-text", restorer, "overlaps the restorer's own memory"),
        ("restorer-scratch", scratch, "overlaps the restorer's own memory"),
        ("pgoff-huge", pgoff_huge, "area %d has a file offset out of range" % shared),
        ("kind", kind, "area %d has unknown kind 9" % heap),
        ("pgoff", pgoff, "area %d has a file offset that is not page aligned" % shared),
        ("prot", prot, "unknown protection bits 0x13"),
        ("flags", flags, "unknown flags 0x80"),
        ("areas-huge", areas_huge, "bad area count 4294967295"),
        ("areas-file", areas_file, "do not fit in the tables"),
        ("areas-limit", areas_limit, "bad area count %d" % (imagefmt.MAX_AREAS + 1)),
        ("runs-huge", runs_huge, "do not fit in the tables"),
        ("table-wrap", table_wrap, "do not fit in the file"),
        ("pid-huge", pid_huge, "bad pid 308532724"),
        ("tid-negative", tid_negative, "thread 1 has a bad id -5"),
        ("threads-zero", threads0, "bad thread count 0"),
        ("threads-huge", threads_huge, "bad thread count 100000"),
        ("run-outside-file", run_outside_file, "lies outside the page data"),
        ("run-outside-area", run_outside_area, "lies outside area %d" % run_area),
        ("run-beyond-area", run_beyond_area, "lies outside area %d" % run_area),
        ("run-into-tables", run_into_tables, "lies outside the page data"),
        ("name-beyond-pool", name_unterminated, "area %d has a name that is not NUL-terminated" % named),
        ("name-no-nul", name_nonul, "area %d has a name that is not NUL-terminated" % named),
        ("cwd-no-nul", cwd, "working directory is not NUL-terminated"),
        ("auxv", auxv, "bad auxv size 1000"),
        ("kflags", kflags, "unknown process flags 0x80"),
        ("data-offset", data_offset, "not page aligned"),
    ]


def mutations(image):
    """-> [(name, bytes, expected)] from a real image"""
    data = open(image, "rb").read()
    out = []
    for name, mutate, want in _mutations(Image(data)):
        img = Image(data)
        mutate(img)
        out.append((name, img.build(), want))
    return out


def our_children():
    kids = set()
    tdir = "/proc/self/task"
    for tid in os.listdir(tdir):
        try:
            with open("%s/%s/children" % (tdir, tid)) as f:
                kids.update(int(x) for x in f.read().split())
        except OSError:
            pass
    return kids


def state(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0]
    except OSError:
        return "?"


def set_subreaper(on):
    libc = ctypes.CDLL(None, use_errno=True)
    check(libc.prctl(PR_SET_CHILD_SUBREAPER, 1 if on else 0, 0, 0, 0) == 0)


def run_refused(env, plan, want, shared_output=False, timeout=10):
    """runs the restorer on plan: it must refuse (exit 1) with one line containing want,
    within timeout; every process it started (orphans come back to us: subreaper) is
    gone. shared_output: stdout and stderr are one description (`> log 2>&1`)."""
    before = our_children()
    log, f = env.log()
    t0 = time.time()
    p = subprocess.Popen([RESTORE, plan], stdin=subprocess.DEVNULL, stdout=f,
                         stderr=subprocess.STDOUT if shared_output else subprocess.PIPE)
    try:
        _, err = p.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait()
        raise AssertionError("%s: the restorer did not end within %d s" % (plan, timeout))
    finally:
        f.close()
        time.sleep(0.05)
        left = set()
        for pid in our_children() - before:      # orphans of the restart, reparented to us
            if state(pid) != "Z":
                left.add(pid)
                os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
    out = (open(log, errors="replace").read() if shared_output else err.decode(errors="replace")).strip().splitlines()
    check(p.returncode == 1, lambda: "%s: restorer exit %s, output %r" % (plan, p.returncode, out))
    check(len(out) == 1 and want in out[0], lambda: "%s: want one line with %r, got %r" % (plan, want, out))
    check(not left, lambda: "%s: processes left running: %s" % (plan, sorted(left)))
    return out[0], time.time() - t0


def checkpoint_files(env):
    """a real checkpoint of `files` (it also maps a file shared) -> (ckdir, meta, plan lines)"""
    inp = os.path.join(env.dir, "input.txt")
    with open(inp, "w") as f:
        for i in range(2000):
            f.write("line %06d\n" % i)
    shared = os.path.join(env.dir, "shared.dat")
    proc, agent, path = env.launch([SCEN + "/files", "100000", os.path.join(env.dir, "out.txt"), inp, "10", shared])
    time.sleep(0.3)
    ck = os.path.join(env.dir, "ck")
    env.coord.checkpoint(agent, ck)
    proc.kill()
    proc.wait()
    meta = env.coord.write_plan(ck, os.path.join(ck, "restart.plan"), inherit=(0,))
    with open(os.path.join(ck, "restart.plan")) as f:
        plan = f.read()
    return ck, meta, plan, shared


def plan_with_image(env, plan, meta, image, name):
    text = plan.replace("process %d %s" % (meta["pid"], meta["image"]), "process %d %s" % (meta["pid"], image))
    text = text.replace("memory lazy", "memory lazy\nverify off")
    path = os.path.join(env.dir, name + ".plan")
    with open(path, "w") as f:
        f.write(text)
    return path


def check_cmd(image, timeout=10):
    r = subprocess.run([RESTORE, "--check", image], capture_output=True, text=True, timeout=timeout)
    return r.returncode, r.stdout, r.stderr.strip().splitlines()


def test_hostile_images(env):
    """every semantic mutation: restart refuses with one line, exit 1, nothing left;
    `stasis-restore --check` gives the same line; the intact image passes both"""
    ck, meta, plan, _ = checkpoint_files(env)
    rc, out, err = check_cmd(meta["image"])
    check(rc == 0 and not out and not err, lambda: "intact image: --check %s %r %r" % (rc, out, err))
    set_subreaper(True)
    try:
        for name, content, want in mutations(meta["image"]):
            image = os.path.join(ck, "image-%s.img" % name)
            with open(image, "wb") as f:
                f.write(content)
            line, secs = run_refused(env, plan_with_image(env, plan, meta, image, name), want)
            check(line.startswith("stasis: image image-%s.img: " % name), lambda: line)
            rc, out, err = check_cmd(image)
            check(rc == 1 and err == [line], lambda: "%s: --check %s %r, restart said %r" % (name, rc, err, line))
            if os.environ.get("STASIS_VERBOSE"):
                print("   %-18s %.2fs %s" % (name, secs, line))
    finally:
        set_subreaper(False)


def test_hostile_files(env):
    """a FIFO or a symlink named as the image; a shared mapping whose file became a
    FIFO: refused at once (never blocks), one line, exit 1, nothing left"""
    ck, meta, plan, shared = checkpoint_files(env)
    fifo = os.path.join(ck, "fifo.img")
    os.mkfifo(fifo, 0o600)
    link = os.path.join(ck, "link.img")
    os.symlink(meta["image"], link)
    set_subreaper(True)
    try:
        for name, image, want in (("fifo", fifo, "stasis: image fifo.img: cannot open %s: not a regular file" % fifo),
                                  ("symlink", link, "stasis: image link.img: cannot open %s: it is a symbolic link" % link)):
            run_refused(env, plan_with_image(env, plan, meta, image, name), want)
            rc, _, err = check_cmd(image)
            check(rc == 1 and len(err) == 1 and err[0].startswith(want), lambda: (name, rc, err))
        # read-write (opened O_RDWR: a FIFO never blocks that, mmap failed after the
        # teardown) and read-only (O_RDONLY blocked forever, every signal blocked)
        img = Image(open(meta["image"], "rb").read())
        img.aset(find(img, lambda a: a["kind"] == 3), "prot", 1)
        readonly = os.path.join(ck, "readonly.img")
        with open(readonly, "wb") as f:
            f.write(img.build())
        os.unlink(shared)
        os.mkfifo(shared, 0o600)
        for name, image in (("shared-fifo", meta["image"]), ("shared-fifo-readonly", readonly)):
            run_refused(env, plan_with_image(env, plan, meta, image, name),
                        "stasis-restore: cannot map %s shared again: it is no longer a regular file" % shared)
    finally:
        set_subreaper(False)


def test_hostile_shared_output(env):
    """`stasis-restore plan > log 2>&1` (stdout and stderr one description): the
    refusal reaches the log, before the fd table (image check) and after it (a
    shared mapping's file is gone)"""
    ck, meta, plan, shared = checkpoint_files(env)
    bad = os.path.join(ck, "bad.img")
    img = Image(open(meta["image"], "rb").read())
    img.hset(P, "<Q", 0)
    with open(bad, "wb") as f:
        f.write(img.build())
    plan1 = plan_with_image(env, plan, meta, bad, "shared-output-image")
    with open(plan1, "a") as f:
        f.write("fd 1 inherit 1\nfd 2 inherit 1\n")
    set_subreaper(True)
    try:
        run_refused(env, plan1, "stasis: image bad.img: entry point 0", shared_output=True)
        os.unlink(shared)
        plan2 = plan_with_image(env, plan, meta, meta["image"], "shared-output-gone")
        with open(plan2, "a") as f:
            f.write("fd 1 inherit 1\nfd 2 inherit 1\n")
        run_refused(env, plan2, "stasis-restore: cannot reopen %s (mapped shared)" % shared, shared_output=True)
    finally:
        set_subreaper(False)


TESTS = [test_hostile_images, test_hostile_files, test_hostile_shared_output]
