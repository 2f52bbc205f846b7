"""Structure-aware mutations of real checkpoints, restart plans and protocol frames
(issue 18). A mutation is a list of small JSON-able operations ("ops") that name
what they change symbolically (a field, a boundary value, a line), so that a case
replays on any fresh checkpoint of the same scenario: crashers are stored as op
lists (native/tests/fuzz-crashers/*.json) and replayed by every bounded run.

Deterministic: case i of seed s uses random.Random("s:i")."""
import json
import random
import struct

import imagefmt

HDR = imagefmt.HEADER_SIZE
P = imagefmt.PROC_OFF

# (name, offset, struct format) of the header fields worth mutating
HEADER_FIELDS = [
    ("version", 8, "<I"), ("header_size", 12, "<I"), ("page_size", 104, "<I"), ("n_areas", 108, "<I"),
    ("n_runs", 112, "<I"), ("n_threads", 116, "<I"), ("data_offset", 120, "<Q"), ("data_bytes", 128, "<Q"),
    ("table_offset", 136, "<Q"), ("table_size", 144, "<Q"), ("file_size", 152, "<Q"), ("pid", 160, "<i"),
    ("ppid", 164, "<i"), ("tid0", 168, "<i"), ("tid1", 172, "<i"),
    ("entry", P + 0, "<Q"), ("entry_stack", P + 8, "<Q"), ("main_fsbase", P + 16, "<Q"), ("umask", P + 24, "<I"),
    ("personality", P + 28, "<I"), ("n_special", P + 32, "<I"), ("auxv_words", P + 36, "<I"),
    ("special0_start", P + 40, "<Q"), ("special0_end", P + 48, "<Q"),
    ("special1_start", P + 72, "<Q"), ("special1_end", P + 80, "<Q"),
    ("sigact11_handler", P + 168 + 10 * 32, "<Q"), ("sigact11_flags", P + 168 + 10 * 32 + 8, "<Q"),
    ("rlim_nofile_cur", P + 2216 + 7 * 16, "<Q"), ("rlim_stack_cur", P + 2216 + 3 * 16, "<Q"),
    ("mm_start_code", P + 2472, "<Q"), ("mm_start_brk", P + 2472 + 32, "<Q"), ("mm_brk", P + 2472 + 40, "<Q"),
    ("mm_start_stack", P + 2472 + 48, "<Q"), ("mm_arg_start", P + 2472 + 56, "<Q"),
    ("auxv0", P + 2560, "<Q"), ("itimer_real_value_sec", P + 3072 + 16, "<q"),
    ("itimer_real_value_usec", P + 3072 + 24, "<q"), ("monotonic_nsec", P + 3200 + 8, "<q"),
    ("kflags", imagefmt.OFF_PROC_KFLAGS, "<I"),
]
AREA_FIELDS = [("start", 0, "<Q"), ("end", 8, "<Q"), ("pgoff", 16, "<Q"), ("data_bytes", 24, "<Q"),
               ("prot", 32, "<I"), ("flags", 36, "<I"), ("kind", 40, "<I"), ("run_first", 48, "<I"),
               ("run_count", 52, "<I"), ("name_off", 56, "<I"), ("name_len", 60, "<I")]
RUN_FIELDS = [("addr", 0, "<Q"), ("len", 8, "<Q"), ("file_offset", 16, "<Q")]
# fields whose every value is the program's business (a checkpoint is a program): only
# values no process could have are tried there, never plausible ones
CODE_FIELDS = {"entry", "entry_stack", "main_fsbase", "sigact11_handler", "start", "end", "addr", "pgoff",
               "special0_start", "special0_end", "special1_start", "special1_end", "mm_start_code",
               "mm_start_brk", "mm_brk", "mm_start_stack", "mm_arg_start", "auxv0", "tid0", "tid1", "pid", "ppid"}

BOUNDARY = ["0", "-1", "i31max", "i31max+1", "2^63", "2^63-1", "u32max", "kernel", "unaligned", "page",
            "x2", "plus1", "minus1", "huge", "neg-small"]
IMPLAUSIBLE = ["0", "-1", "i31max", "2^63", "2^63-1", "u32max", "kernel", "unaligned", "huge"]


def resolve(value, old, fmt, ctx):
    """symbolic value -> integer for a field of struct format fmt holding old"""
    bits = struct.calcsize(fmt) * 8
    mask = (1 << bits) - 1
    v = {"0": 0, "-1": mask, "i31max": 2 ** 31 - 1, "i31max+1": 2 ** 31, "2^63": 2 ** 63, "2^63-1": 2 ** 63 - 1,
         "u32max": 2 ** 32 - 1, "kernel": 0xffff800000001000, "unaligned": old | 0x801, "page": 4096,
         "x2": old * 2, "plus1": old + 1, "minus1": old - 1, "huge": 2 ** 40 + 4096, "neg-small": -4096,
         "filesize": ctx.get("file_size", 0), "filesize-page": ctx.get("file_size", 4096) - 4096}.get(value)
    if v is None:
        v = int(value, 0)
    v &= mask
    if fmt[-1] in "iq" and v >= 1 << (bits - 1):
        v -= 1 << bits
    return v


class Image:
    """an image file being mutated; save() recomputes the table and header CRCs (over the
    range the header names, when it is inside the file) so that mutations get past them"""

    def __init__(self, data):
        self.b = bytearray(data)
        self.n_areas, self.n_runs = struct.unpack_from("<II", self.b, imagefmt.OFF_N_AREAS)
        self.tab_off, self.tab_size, self.file_size = struct.unpack_from("<QQQ", self.b, imagefmt.OFF_TABLE_OFFSET)
        self.ctx = {"file_size": self.file_size}

    def area_off(self, i):
        return self.tab_off + (i % max(self.n_areas, 1)) * imagefmt.AREA_SIZE

    def run_off(self, i):
        return self.tab_off + self.n_areas * imagefmt.AREA_SIZE + (i % max(self.n_runs, 1)) * imagefmt.RUN_SIZE

    def put(self, off, fmt, value):
        if 0 <= off and off + struct.calcsize(fmt) <= len(self.b):
            old = struct.unpack_from(fmt, self.b, off)[0]
            struct.pack_into(fmt, self.b, off, resolve(value, old, fmt, self.ctx))

    def get(self, off, fmt):
        if 0 <= off and off + struct.calcsize(fmt) <= len(self.b):
            return struct.unpack_from(fmt, self.b, off)[0]
        return 0

    def apply(self, op):
        k = op["op"]
        if k == "header":
            f = next(x for x in HEADER_FIELDS if x[0] == op["field"])
            self.put(f[1], f[2], op["value"])
        elif k == "area":
            f = next(x for x in AREA_FIELDS if x[0] == op["field"])
            self.put(self.area_off(op["index"]) + f[1], f[2], op["value"])
        elif k == "run":
            f = next(x for x in RUN_FIELDS if x[0] == op["field"])
            self.put(self.run_off(op["index"]) + f[1], f[2], op["value"])
        elif k == "overlap":           # area index gets the range of area other (overlapping areas)
            a, o = self.area_off(op["index"]), self.area_off(op["other"])
            s, e = self.get(o, "<Q"), self.get(o + 8, "<Q")
            shift = op.get("shift", 0) * 4096
            if a + 16 <= len(self.b):
                struct.pack_into("<QQ", self.b, a, (s + shift) & (2 ** 64 - 1), (e + shift) & (2 ** 64 - 1))
        elif k == "runs-overlap":      # run index gets the file offset of run other
            a, o = self.run_off(op["index"]), self.run_off(op["other"])
            if a + 24 <= len(self.b):
                struct.pack_into("<Q", self.b, a + 16, self.get(o + 16, "<Q"))
        elif k == "swap-areas":
            a, o = self.area_off(op["index"]), self.area_off(op["other"])
            if max(a, o) + 64 <= len(self.b):
                x, y = bytes(self.b[a:a + 64]), bytes(self.b[o:o + 64])
                self.b[a:a + 64], self.b[o:o + 64] = y, x
        elif k == "names-no-nul":      # the name pool without its terminators
            pool = self.tab_off + self.n_areas * imagefmt.AREA_SIZE + self.n_runs * imagefmt.RUN_SIZE
            end = min(self.tab_off + self.tab_size, len(self.b))
            self.b[pool:end] = bytes(c if c else 0x41 for c in self.b[pool:end])
        elif k == "special-name":      # special[i].name without NUL, or unknown
            off = P + 40 + 32 * (op["index"] % 4) + 16
            if off + 16 <= len(self.b):
                self.b[off:off + 16] = (op["value"].encode() * 16)[:16]
        elif k == "cwd-no-nul":
            if P + 3584 + 4096 <= len(self.b):
                self.b[P + 3584:P + 3584 + 4096] = b"/" + b"a" * 4095
        elif k == "truncate":
            self.b = self.b[:int(len(self.b) * op["frac"]) & ~7]
        elif k == "extend":
            self.b += b"\0" * op["bytes"]
        elif k == "flip":              # damage without recomputing anything but the CRCs
            off = int(op["frac"] * len(self.b)) % max(len(self.b), 1)
            self.b[off] ^= op.get("xor", 0xff)
        else:
            raise ValueError("unknown image op %r" % k)

    def save(self, path):
        b = self.b
        if len(b) >= HDR:
            tab_off, tab_size = struct.unpack_from("<QQ", b, imagefmt.OFF_TABLE_OFFSET)
            if tab_off + tab_size <= len(b):
                struct.pack_into("<I", b, imagefmt.OFF_TABLE_CRC, imagefmt.crc32c(bytes(b[tab_off:tab_off + tab_size])))
            struct.pack_into("<I", b, imagefmt.OFF_HEADER_CRC, 0)
            struct.pack_into("<I", b, imagefmt.OFF_HEADER_CRC, imagefmt.crc32c(bytes(b[:HDR])))
        with open(path, "wb") as f:
            f.write(b)


def image_ops(rng, n_areas, n_runs):
    """1-3 random structure-aware ops for an image with that many areas/runs"""
    ops = []
    for _ in range(rng.choice((1, 1, 1, 2, 3))):
        r = rng.random()
        if r < 0.3:
            name, _, _ = rng.choice(HEADER_FIELDS)
            pool = IMPLAUSIBLE if name in CODE_FIELDS else BOUNDARY
            ops.append({"op": "header", "field": name, "value": rng.choice(pool)})
        elif r < 0.6:
            name, _, _ = rng.choice(AREA_FIELDS)
            pool = IMPLAUSIBLE if name in CODE_FIELDS else BOUNDARY
            ops.append({"op": "area", "index": rng.randrange(n_areas), "field": name, "value": rng.choice(pool)})
        elif r < 0.75:
            name, _, _ = rng.choice(RUN_FIELDS)
            value = rng.choice(IMPLAUSIBLE + (["filesize", "filesize-page", "page", "x2"]
                                              if name != "addr" else []))
            ops.append({"op": "run", "index": rng.randrange(max(n_runs, 1)), "field": name, "value": value})
        elif r < 0.83:
            ops.append({"op": "overlap", "index": rng.randrange(n_areas), "other": rng.randrange(n_areas),
                        "shift": rng.choice((0, 0, 1, -1))})
        elif r < 0.86:
            ops.append({"op": "runs-overlap", "index": rng.randrange(max(n_runs, 1)),
                        "other": rng.randrange(max(n_runs, 1))})
        elif r < 0.88:
            ops.append({"op": "swap-areas", "index": rng.randrange(n_areas), "other": rng.randrange(n_areas)})
        elif r < 0.9:
            ops.append({"op": "names-no-nul"})
        elif r < 0.92:
            ops.append({"op": "special-name", "index": rng.randrange(4), "value": rng.choice(("x", "[vdso]", ""))})
        elif r < 0.93:
            ops.append({"op": "cwd-no-nul"})
        elif r < 0.97:
            ops.append({"op": "truncate", "frac": rng.choice((0.0, 0.001, 0.01, 0.5, 0.99, 0.9999))})
        else:
            ops.append({"op": "extend", "bytes": rng.choice((1, 4096, 1 << 20))})
    return ops


# ---------------- restart plans ----------------
PLAN_WORDS = ["version", "namespaces", "memory", "verify", "process", "tree", "zombie", "pipe", "cwd",
              "agent-socket", "fd", "path-map", "termios", "shared"]
PLAN_TOKENS = ["0", "-1", "2147483647", "2147483648", "9223372036854775808", "18446744073709551616",
               "99999999999999999999999", "0x10", "1e3", "", " ", "zz", "\\", "..", "../../../etc/passwd",
               "/dev/zero", "/proc/self/mem", "/", "/nonexistent/x", "a" * 5000, "7777777777777777777777",
               "-0", "+1", "\t", "on", "off", "inherit", "open", "pipe", "unlinked", "r", "w", "x"]


def plan_ops(rng, nlines):
    ops = []
    for _ in range(rng.choice((1, 1, 2, 3))):
        r = rng.random()
        ln = rng.randrange(max(nlines, 1))
        if r < 0.4:
            ops.append({"op": "plan-token", "line": ln, "tok": rng.randrange(5), "value": rng.choice(PLAN_TOKENS)})
        elif r < 0.5:
            ops.append({"op": "plan-drop", "line": ln})
        elif r < 0.6:
            ops.append({"op": "plan-dup", "line": ln})
        elif r < 0.8:
            words = [rng.choice(PLAN_WORDS)] + [rng.choice(PLAN_TOKENS) for _ in range(rng.randrange(5))]
            ops.append({"op": "plan-insert", "line": ln, "text": " ".join(words)})
        elif r < 0.85:
            ops.append({"op": "plan-nul", "line": ln})
        elif r < 0.9:
            ops.append({"op": "plan-long", "line": ln, "bytes": rng.choice((4096, 65536, 1 << 20))})
        elif r < 0.95:
            ops.append({"op": "plan-no-newline"})
        else:
            ops.append({"op": "plan-crlf"})
    return ops


def apply_plan_ops(text, ops):
    """-> bytes of the mutated plan"""
    lines = [l.encode() for l in text.splitlines()]
    tail = b"\n"
    sep = b"\n"
    for op in ops:
        k = op["op"]
        i = op.get("line", 0) % max(len(lines), 1)
        if k == "plan-token" and lines:
            toks = lines[i].split(b" ")
            toks[op["tok"] % len(toks)] = op["value"].encode()
            lines[i] = b" ".join(toks)
        elif k == "plan-drop" and lines:
            del lines[i]
        elif k == "plan-dup" and lines:
            lines.insert(i, lines[i])
        elif k == "plan-insert":
            lines.insert(i, op["text"].encode())
        elif k == "plan-nul" and lines:
            lines[i] = lines[i][:len(lines[i]) // 2] + b"\0" + lines[i][len(lines[i]) // 2:]
        elif k == "plan-long" and lines:
            lines[i] += b"x" * op["bytes"]
        elif k == "plan-no-newline":
            tail = b""
        elif k == "plan-crlf":
            sep = b"\r\n"
    return sep.join(lines) + tail


# ---------------- manifest JSON ----------------
JSON_VALUES = [None, True, 0, -1, 2 ** 31 - 1, 2 ** 31, 2 ** 63, 2 ** 64, -2 ** 63, 1e308, "x", "", "../x",
               "/etc/passwd", "..", "a/b", "a" * 10000, [], {}, [1, 2], {"a": 1}, "\u0000", "\ud800"]


def json_paths(node, prefix=()):
    """every (path) to a value in a JSON tree"""
    out = [prefix]
    if isinstance(node, dict):
        for k, v in node.items():
            out += json_paths(v, prefix + (k,))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            out += json_paths(v, prefix + (i,))
    return out


def manifest_ops(rng, manifest):
    paths = [p for p in json_paths(manifest) if p]
    ops = []
    for _ in range(rng.choice((1, 1, 2))):
        r = rng.random()
        p = list(rng.choice(paths))
        if r < 0.55:
            ops.append({"op": "json-set", "path": p, "value": rng.choice(JSON_VALUES)})
        elif r < 0.7:
            ops.append({"op": "json-del", "path": p})
        elif r < 0.75:
            ops.append({"op": "json-nest", "path": p, "depth": rng.choice((100, 3000, 100000))})
        elif r < 0.8:
            ops.append({"op": "json-truncate", "frac": rng.random()})
        elif r < 0.85:
            ops.append({"op": "json-big-number", "path": p})
        elif r < 0.9:
            ops.append({"op": "json-dup-list", "path": p, "times": rng.choice((2, 1000))})
        else:
            ops.append({"op": "json-set", "path": p, "value": rng.choice(
                ["image-0.img", "../image.img", "/tmp/x.img", "sub/x", "latest", "manifest.json", "fifo",
                 "link"])})
    return ops


def _walk(root, path):
    node = root
    for k in path[:-1]:
        node = node[k] if isinstance(node, dict) else node[int(k) % len(node)] if node else None
        if node is None or not isinstance(node, (dict, list)):
            return None, None
    if not path:
        return None, None
    return node, path[-1]


def apply_manifest_ops(text, ops):
    """-> bytes of the mutated manifest (ops that no longer apply are skipped)"""
    doc = json.loads(text)
    raw_tail = None
    for op in ops:
        k = op["op"]
        if k == "json-truncate":
            raw_tail = op["frac"]
            continue
        parent, key = _walk(doc, op["path"])
        if parent is None or (isinstance(parent, list) and not parent):
            continue
        if isinstance(parent, list):
            key = int(key) % len(parent)
        elif key not in parent:
            continue
        if k == "json-set":
            parent[key] = op["value"]
        elif k == "json-del":
            del parent[key]
        elif k == "json-nest":
            v = parent[key]
            for _ in range(op["depth"]):
                v = [v]
            parent[key] = v
        elif k == "json-big-number":
            parent[key] = "BIGNUM"
        elif k == "json-dup-list":
            v = parent[key]
            if isinstance(v, list) and v:
                parent[key] = v * op["times"]
    try:
        out = json.dumps(doc, indent=1)
    except (RecursionError, ValueError):
        out = _dump_deep(doc)
    out = out.replace('"BIGNUM"', "1" + "0" * 400)
    data = out.encode("utf-8", "surrogatepass")
    if raw_tail is not None:
        data = data[:int(len(data) * raw_tail)]
    return data


def _dump_deep(doc):
    """json.dumps without recursion (deeply nested lists)"""
    parts, stack = [], [doc]
    while stack:
        v = stack.pop()
        if isinstance(v, str) and v.startswith("\x00CLOSE"):
            parts.append(v[6:])
        elif isinstance(v, list):
            parts.append("[")
            stack.append("\x00CLOSE]")
            for i, x in enumerate(reversed(v)):
                stack.append(x)
                if i < len(v) - 1:
                    stack.append("\x00CLOSE,")
        elif isinstance(v, dict):
            parts.append("{")
            stack.append("\x00CLOSE}")
            items = list(v.items())
            for i, (kk, x) in enumerate(reversed(items)):
                stack.append(x)
                stack.append("\x00CLOSE" + json.dumps(kk) + ":")
                if i < len(items) - 1:
                    stack.append("\x00CLOSE,")
        else:
            parts.append(json.dumps(v))
    return "".join(parts)


# ---------------- protocol frames ----------------
CONTROL_FRAMES = [
    b"", b"\n", b"PING", b"PING\n", b"PING\r\n", b"PING\0\n", b"EXEC\n", b"EXEC 5\n", b"EXEC 5\nstat",
    b"EXEC -1\nx", b"EXEC 99999999999999999999\n", b"EXEC 2147483648\n", b"EXEC 0\n", b"EXEC 4\n\0\0\0\0",
    b"EXEC 0x10\n", b"EXEC 1048577\n", b"EXEC 6\nstatus", b"EXEC 8\n$($($(", b"EXEC 8\n{{{{{{{{",
    b"EXEC 3\n\xff\xfe\xfd", b"SHELL", b"SHELL\n\x04", b"TOKEN abc\n", b"X" * 70 + b"\n", b"X" * 100000,
    b"EXEC 13\nstasis:verif", b"PING\nPING\nPING\n", b"\0" * 64, b"EXEC  6\nstatus", b"exec 6\nstatus",
    b"EXEC 6 \nstatus", b"EXEC +6\nstatus", b"EXEC 06\nstatus", b"EXEC 6\r\nstatus",
]


def control_frame(rng):
    if rng.random() < 0.5:
        return rng.choice(CONTROL_FRAMES)
    script = rng.choice(["status", "stasis:verify " + rng.choice(["/", "..", "/dev/zero", "x" * 300, "\\"]),
                         "$(" * rng.choice((33, 200, 5000)) + "x", "{" * rng.choice((33, 5000)),
                         "[" * 5000, "echo " + "a" * 200000, ";" * 20000, "'unterminated", "\\", "${",
                         "stasis:list /proc", "stasis:restartplan -- /dev/zero"])
    body = script.encode()
    n = rng.choice([len(body), len(body) + 10, max(len(body) - 3, 0), 2 ** 31 - 1, 0])
    frame = b"EXEC %d\n" % n + body
    if rng.random() < 0.3:
        frame = frame[:rng.randrange(len(frame) + 1)]
    return frame


HELLO = ("HELLO version=1 agent=0.1 pid={pid} ppid=1 pgid=0 sid=0 restored=0 state=running agent-fd=-1 "
         "exe=/usr/bin/true")


def hello_line(rng):
    base = HELLO.format(pid=rng.choice((2, 2, 0, -1, 2 ** 31 - 1, 2 ** 31, 99999999999999999999)))
    r = rng.random()
    if r < 0.2:
        return base
    if r < 0.3:
        return base.replace("version=1", "version=" + rng.choice(("0", "2", "", "x", "-1")))
    if r < 0.4:
        return base.replace("restored=0", "restored=" + rng.choice(("1", "-1", "x", "2147483648")))
    if r < 0.5:
        return base.replace(" exe=/usr/bin/true", "")
    if r < 0.6:
        return base + "\\" * rng.choice((1, 3)) + rng.choice(("", "n", "x", "\0"))
    if r < 0.7:
        return base.replace("state=running", "state=" + rng.choice(("suspended", "", "zzz")))
    if r < 0.8:
        return "HELLO " + "k=v " * rng.choice((1000, 20000))
    if r < 0.85:
        return base.replace("pgid=0", "pgid=0 join=fork")
    if r < 0.9:
        return base.replace("ppid=1", "ppid") + " hold=" + rng.choice(("zz", "0" * 40, "ffffffffffffffff"))
    return rng.choice(("HELLO", "HELLO ", "", "\0" * 10, "REQUEST", "REQUEST " + "x" * 1000, "GARBAGE",
                       "HELLO version=1 " + "a=" * 3000))


AGENT_REPLIES = {
    "SUSPEND": ["SUSPENDED threads=2", "SUSPENDED threads=-1", "SUSPENDED threads=99999999999",
                "SUSPENDED", "ERROR timeout: fuzz", "SUSPENDED already", ""],
    "FDS": ["FD 0 2 0 /dev/null\nFD 1 1 0 pipe:[12]\nEND", "FD x y z\nEND", "FD 3 2 0 ../../etc/passwd\nEND",
            "FD 2147483648 2 0 /x\nEND", "FD 3 777777777777777777777 -1 /tmp\nEND", "FD 3 2 0 /a\\\nEND",
            "FD 5 2 0 /etc/passwd\nFD 5 2 0 /etc/passwd\nEND", "END", "ERROR fuzz", "FD 3 2 0 " + "a" * 70000 +
            "\nEND", "FD 4 2 0 socket:[99999999999999999999]\nEND", "FD 4 2 0 pipe:[-1]\nEND"],
    "WRITE": ["WRITTEN 1 1 /etc/passwd", "WRITTEN -1 -1 {dir}/image-2.img", "WRITTEN x", "WRITTEN",
              "WRITTEN 9999999999999999999999 2 {dir}/../image.img", "ERROR no space", "WRITTEN 10 1 {dir}/image-2.img"],
    "HELLO": ["{hello}", "HELLO", "GARBAGE"],
    "ZOMBIES": ["ZOMBIE 3 0\nEND", "ZOMBIE -1 x\nEND", "ZOMBIE 2147483648 99999999999\nEND", "END", "ZOMBIE\nEND"],
    "PING": ["PONG", "PING", ""],
    "RESUME": ["RESUMED", "ERROR x"],
}


def agent_reply(rng, request, hello):
    word = request.split(" ", 1)[0]
    choices = AGENT_REPLIES.get(word, ["ERROR unknown request", "", "\\", "END"])
    rep = rng.choice(choices)
    d = request.split(" ", 1)[1] if word == "WRITE" and " " in request else "/nonexistent"
    return rep.replace("{dir}", d).replace("{hello}", hello)


def case_rng(seed, i):
    return random.Random("%s:%d" % (seed, i))


# ---------------- coordinator -> agent requests (the agent's side) ----------------
def agent_request(rng, casedir):
    """one hostile request line for a real agent ({dir}: the case's own directory, the
    only place a WRITE may create anything)"""
    num = lambda: rng.choice(("0", "1", "2", "-1", "3072", "3073", "2147483647", "2147483648",
                              "99999999999999999999", "x", "", "0x10", "1e3", " 1", "+1", "-0"))
    word = rng.choice(("PING", "HELLO", "SUSPEND", "WRITE", "RESUME", "FDS", "DRAIN", "ZOMBIES", "FILL", "GIVE",
                       "TAKE", "EPOLL_ADD", "CTTY", "LOCK", "NOPE", "", "PING\0X", "SUSPEND", "RESUME"))
    if word == "WRITE":
        tail = rng.choice(("{dir}", "{dir}/a/b", "{dir}/" + "d" * 300, "{dir}/x\\n",
                           "", " ", "relative", "/nonexistent/dir"))
        line = "WRITE " + tail
    elif word == "RESUME":
        line = rng.choice(("RESUME", "RESUME 0", "RESUME 1", "RESUME 9 " + "i" * 3000, "RESUME x y z", "RESUMEX"))
    elif word == "FILL":
        line = "FILL %s %s" % (num(), rng.choice(("", "a", "zz", "00" * 3072, "00" * 3073, "ab" * 10000, "0g")))
    elif word in ("DRAIN", "GIVE", "TAKE", "EPOLL_ADD", "CTTY", "LOCK"):
        args = [num() for _ in range(rng.randrange(0, 5))]
        if word == "LOCK":
            args[1:1] = [rng.choice(("posix", "ofd", "flock", "x", "")), rng.choice(("r", "w", "x", ""))]
        if word == "EPOLL_ADD" and args:
            args[-1] = rng.choice(("ffffffffffffffffff", "g", args[-1]))
        line = " ".join([word] + args)
    else:
        line = word
    if rng.random() < 0.05:
        line += "\0" + line
    if rng.random() < 0.03:
        line += "y" * rng.choice((8192, 20000))
    if rng.random() < 0.03:
        line += "\r"
    return line.replace("{dir}", casedir)
