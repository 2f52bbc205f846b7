#!/usr/bin/env python3
"""Independent reader of the memory image format, written from doc/image-format.md
(not from the C headers): checks that the document is right.
  imagefmt.py IMAGE [--all-crcs]   prints a summary, exit 1 if the image is invalid"""
import struct
import sys

# The layout, named as tests/image_layout.c prints it from the C header; `make` fails
# (tests/check_image_layout.py) when a value here disagrees with the C compiler.
VERSION = 3
VERSION_MIN = 1
VERSION_PLAIN = 2
ZSTD = 1
FRAME_RAW = 4 << 20
FRAME_SIZE = 32
OFF_PROC_COMPRESS = 1192 + 3512
# struct stasis_img_compress at OFF_PROC_COMPRESS; struct stasis_img_frame
COMPRESS_FORMAT = "<IIQQIi"
FRAME_FORMAT = "<QQIIII"
MAX_AREAS = 8192
MAX_THREADS = 256
HEADER_SIZE = 8880
AREA_SIZE = 64
RUN_SIZE = 24
OFF_VERSION = 8
OFF_HEADER_SIZE = 12
OFF_ARCH = 16
ARCH_LEN = 16
OFF_KERNEL = 32
KERNEL_LEN = 72
OFF_PAGE_SIZE = 104
OFF_N_AREAS = 108
OFF_N_RUNS = 112
OFF_N_THREADS = 116
OFF_DATA_OFFSET = 120
OFF_DATA_BYTES = 128
OFF_TABLE_OFFSET = 136
OFF_TABLE_SIZE = 144
OFF_FILE_SIZE = 152
OFF_PID = 160
OFF_PPID = 164
OFF_TIDS = 168
OFF_PROC = 1192
OFF_PROC_ENTRY = OFF_PROC
OFF_PROC_KFLAGS = OFF_PROC + 3232
OFF_PROC_CWD = OFF_PROC + 3584
OFF_PROC_IMAGE_ID = OFF_PROC + 3240
OFF_PROC_PARENT_ID = OFF_PROC + 3248
OFF_PROC_PARENT = OFF_PROC + 3256
PARENT_LEN = 256
RUN_PARENT = 1 << 63
CWD_LEN = 4096
OFF_TABLE_CRC = 8872
OFF_HEADER_CRC = 8876
PROC_CWD_DELETED = 0x1
# struct stasis_img_area and struct stasis_img_run, field by field in order
AREA_FIELDS = (("start", "Q"), ("end", "Q"), ("pgoff", "Q"), ("data_bytes", "Q"), ("prot", "I"),
               ("flags", "I"), ("kind", "I"), ("crc", "I"), ("run_first", "I"), ("run_count", "I"),
               ("name_off", "I"), ("name_len", "I"))
RUN_FIELDS = (("addr", "Q"), ("len", "Q"), ("file_offset", "Q"))
AREA_FORMAT = "<" + "".join(f for _, f in AREA_FIELDS)
RUN_FORMAT = "<" + "".join(f for _, f in RUN_FIELDS)
PROC_OFF = OFF_PROC  # older name, used by the tests
KINDS = {1: "anon", 2: "file-private", 3: "file-shared", 4: "shared-anon", 5: "vdso"}


def _table():
    t = []
    for i in range(256):
        c = i
        for _ in range(8):
            c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
        t.append(c)
    return t


_T = _table()


def crc32c(data, crc=0):
    c = crc ^ 0xFFFFFFFF
    for b in data:
        c = _T[(c ^ b) & 0xFF] ^ (c >> 8)
    return c ^ 0xFFFFFFFF


def read_image(path, all_crcs=False):
    with open(path, "rb") as f:
        blob = f.read()
    h = blob[:HEADER_SIZE]
    if len(h) < HEADER_SIZE:
        raise ValueError("truncated header")
    if h[0:8] != b"STASISIM":
        raise ValueError("bad magic")
    version = struct.unpack_from("<I", h, OFF_VERSION)[0]
    header_size = struct.unpack_from("<I", h, OFF_HEADER_SIZE)[0]
    if not VERSION_MIN <= version <= VERSION or header_size != HEADER_SIZE:
        raise ValueError("version/header size")
    stored = struct.unpack_from("<I", h, OFF_HEADER_CRC)[0]
    if crc32c(h[:OFF_HEADER_CRC] + b"\0\0\0\0" + h[OFF_HEADER_CRC + 4:]) != stored:
        raise ValueError("header crc")
    arch = h[OFF_ARCH:OFF_ARCH + ARCH_LEN].split(b"\0")[0].decode()
    kernel = h[OFF_KERNEL:OFF_KERNEL + KERNEL_LEN].split(b"\0")[0].decode()
    page, n_areas, n_runs, n_threads = (struct.unpack_from("<I", h, o)[0] for o in
                                        (OFF_PAGE_SIZE, OFF_N_AREAS, OFF_N_RUNS, OFF_N_THREADS))
    data_off, data_bytes, tab_off, tab_size, file_size = (struct.unpack_from("<Q", h, o)[0] for o in
                                                          (OFF_DATA_OFFSET, OFF_DATA_BYTES, OFF_TABLE_OFFSET,
                                                           OFF_TABLE_SIZE, OFF_FILE_SIZE))
    pid, ppid = struct.unpack_from("<i", h, OFF_PID)[0], struct.unpack_from("<i", h, OFF_PPID)[0]
    if n_areas > MAX_AREAS or n_threads > MAX_THREADS:
        raise ValueError("area/thread count")
    tids = struct.unpack_from("<%di" % n_threads, h, OFF_TIDS)
    if len(blob) < file_size:
        raise ValueError("truncated")
    tab = blob[tab_off:tab_off + tab_size]
    if crc32c(tab) != struct.unpack_from("<I", h, OFF_TABLE_CRC)[0]:
        raise ValueError("table crc")
    cwd = h[OFF_PROC_CWD:OFF_PROC_CWD + CWD_LEN].split(b"\0")[0].decode()
    kflags = struct.unpack_from("<I", h, OFF_PROC_KFLAGS)[0]
    image_id, parent_id = struct.unpack_from("<QQ", h, OFF_PROC_IMAGE_ID)
    parent = h[OFF_PROC_PARENT:OFF_PROC_PARENT + PARENT_LEN].split(b"\0")[0].decode() if version >= 2 else ""
    names = tab[n_areas * AREA_SIZE + n_runs * RUN_SIZE:]
    algo, n_frames, frames_off, raw_bytes, frames_crc, level = struct.unpack_from(COMPRESS_FORMAT, h, OFF_PROC_COMPRESS)
    frames = []
    if algo:
        if version < 3 or algo != ZSTD:
            raise ValueError("compression %d in a version %d image" % (algo, version))
        ftab = blob[frames_off:frames_off + n_frames * FRAME_SIZE]
        if len(ftab) != n_frames * FRAME_SIZE or crc32c(ftab) != frames_crc:
            raise ValueError("frame table crc")
        raw = data_off
        for i in range(n_frames):
            f = dict(zip(("raw_offset", "file_offset", "raw_len", "comp_len", "area", "crc"),
                         struct.unpack_from(FRAME_FORMAT, ftab, i * FRAME_SIZE)))
            if f["raw_offset"] != raw or f["raw_len"] > FRAME_RAW or f["area"] >= n_areas:
                raise ValueError("frame %d out of order" % i)
            if f["file_offset"] < data_off or f["file_offset"] + f["comp_len"] > data_off + data_bytes:
                raise ValueError("frame %d outside the page data" % i)
            raw += f["raw_len"]
            frames.append(f)
        if raw != data_off + raw_bytes:
            raise ValueError("frames do not add up to the raw data")
        if all_crcs:
            blob = _inflate(blob, frames, data_off, raw_bytes)
    areas = []
    for i in range(n_areas):
        (start, end, pgoff, nbytes, prot, flags, kind, crc, rfirst, rcount, noff, nlen) = \
            struct.unpack_from(AREA_FORMAT, tab, i * AREA_SIZE)
        name = names[noff:noff + nlen].decode(errors="replace") if nlen else ""
        runs = [struct.unpack_from(RUN_FORMAT, tab, n_areas * AREA_SIZE + r * RUN_SIZE)
                for r in range(rfirst, rfirst + rcount)]
        parent_runs = [r for r in runs if r[2] == RUN_PARENT]
        if parent_runs and not parent:
            raise ValueError("area %x: parent runs without a parent" % start)
        runs = [r for r in runs if r[2] != RUN_PARENT]
        if sum(r[1] for r in runs) != nbytes:
            raise ValueError("area %x: run bytes" % start)
        if all_crcs or (nbytes <= 256 * 1024 and not algo):
            c = 0
            for (_, ln, off) in runs:
                c = crc32c(blob[off:off + ln], c)
            if c != crc:
                raise ValueError("area %x-%x (%s): data crc" % (start, end, name))
        areas.append({"start": start, "end": end, "kind": KINDS.get(kind, kind), "prot": prot,
                      "flags": flags, "bytes": nbytes, "name": name,
                      "parent_bytes": sum(r[1] for r in parent_runs)})
    return {"arch": arch, "kernel": kernel, "page": page, "pid": pid, "ppid": ppid, "tids": tids,
            "cwd": cwd, "cwd_deleted": bool(kflags & PROC_CWD_DELETED), "areas": areas, "data_offset": data_off, "data_bytes": data_bytes,
            "file_size": file_size,
            "version": version, "image_id": image_id, "parent_id": parent_id, "parent": parent,
            "compress": algo, "level": level, "raw_bytes": raw_bytes if algo else data_bytes, "frames": frames}


def _inflate(blob, frames, data_off, raw_bytes):
    """the image as an uncompressed one would hold its page data (frame CRCs checked;
    decompressed by the zstd command)"""
    import subprocess
    out = bytearray(blob[:data_off]) + bytearray(raw_bytes)
    for i, f in enumerate(frames):
        comp = blob[f["file_offset"]:f["file_offset"] + f["comp_len"]]
        if crc32c(comp) != f["crc"]:
            raise ValueError("frame %d (area %d): data crc" % (i, f["area"]))
        if f["comp_len"] == f["raw_len"]:     # stored as it is: it did not compress
            raw = comp
        else:
            raw = subprocess.run(["zstd", "-d", "-c"], input=comp, capture_output=True, check=True).stdout
        if len(raw) != f["raw_len"]:
            raise ValueError("frame %d: %d bytes decompressed, %d expected" % (i, len(raw), f["raw_len"]))
        out[f["raw_offset"]:f["raw_offset"] + f["raw_len"]] = raw
    return bytes(out)


def main():
    if len(sys.argv) < 2:
        print(__doc__)
        return 2
    try:
        img = read_image(sys.argv[1], "--all-crcs" in sys.argv)
    except (ValueError, OSError) as e:
        print("invalid image: %s" % e)
        return 1
    print("pid %d ppid %d threads %s arch %s kernel %s cwd %s data %d bytes" %
          (img["pid"], img["ppid"], list(img["tids"]), img["arch"], img["kernel"], img["cwd"], img["data_bytes"]))
    for a in img["areas"]:
        print("%012x-%012x %-12s prot %d flags %d %10d %s" %
              (a["start"], a["end"], a["kind"], a["prot"], a["flags"], a["bytes"], a["name"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
