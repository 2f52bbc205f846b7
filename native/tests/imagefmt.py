#!/usr/bin/env python3
"""Independent reader of the memory image format, written from doc/image-format.md
(not from the C headers): checks that the document is right.
  imagefmt.py IMAGE [--all-crcs]   prints a summary, exit 1 if the image is invalid"""
import struct
import sys

HEADER_SIZE = 8880
PROC_OFF = 1192
AREA_SIZE = 64
RUN_SIZE = 24
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
    version, header_size = struct.unpack_from("<II", h, 8)
    if version != 1 or header_size != HEADER_SIZE:
        raise ValueError("version/header size")
    stored = struct.unpack_from("<I", h, 8876)[0]
    if crc32c(h[:8876] + b"\0\0\0\0") != stored:
        raise ValueError("header crc")
    arch = h[16:32].rstrip(b"\0").decode()
    kernel = h[32:104].rstrip(b"\0").decode()
    page, n_areas, n_runs, n_threads = struct.unpack_from("<IIII", h, 104)
    data_off, data_bytes, tab_off, tab_size, file_size = struct.unpack_from("<QQQQQ", h, 120)
    pid, ppid = struct.unpack_from("<ii", h, 160)
    tids = struct.unpack_from("<%di" % n_threads, h, 168)
    if len(blob) < file_size:
        raise ValueError("truncated")
    tab = blob[tab_off:tab_off + tab_size]
    if crc32c(tab) != struct.unpack_from("<I", h, 8872)[0]:
        raise ValueError("table crc")
    cwd = h[PROC_OFF + 3584:PROC_OFF + 3584 + 4096].split(b"\0")[0].decode()
    kflags = struct.unpack_from("<I", h, PROC_OFF + 3232)[0]
    names = tab[n_areas * AREA_SIZE + n_runs * RUN_SIZE:]
    areas = []
    for i in range(n_areas):
        (start, end, pgoff, nbytes, prot, flags, kind, crc, rfirst, rcount, noff, nlen) = \
            struct.unpack_from("<QQQQIIIIIIII", tab, i * AREA_SIZE)
        name = names[noff:noff + nlen].decode(errors="replace") if nlen else ""
        runs = [struct.unpack_from("<QQQ", tab, n_areas * AREA_SIZE + r * RUN_SIZE)
                for r in range(rfirst, rfirst + rcount)]
        if sum(r[1] for r in runs) != nbytes:
            raise ValueError("area %x: run bytes" % start)
        if all_crcs or nbytes <= 256 * 1024:
            c = 0
            for (_, ln, off) in runs:
                c = crc32c(blob[off:off + ln], c)
            if c != crc:
                raise ValueError("area %x-%x (%s): data crc" % (start, end, name))
        areas.append({"start": start, "end": end, "kind": KINDS.get(kind, kind), "prot": prot,
                      "flags": flags, "bytes": nbytes, "name": name})
    return {"arch": arch, "kernel": kernel, "page": page, "pid": pid, "ppid": ppid, "tids": tids,
            "cwd": cwd, "cwd_deleted": bool(kflags & 1), "areas": areas, "data_offset": data_off, "data_bytes": data_bytes,
            "file_size": file_size}


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
