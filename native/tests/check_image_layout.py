#!/usr/bin/env python3
"""Holds the image readers written in other languages to the C header's layout:
  check_image_layout.py LAYOUT_FILE JAVA_SOURCE
LAYOUT_FILE is what tests/image_layout.c prints ("NAME VALUE" lines, from the C
compiler's sizeof/offsetof); every name tests/imagefmt.py defines must match it, and
every `static final int NAME = value;` of the Java ImageLayout class too. Exit 1 with
one line per disagreement, so the build fails instead of a restart."""
import os
import re
import struct
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import imagefmt  # noqa: E402


def read_layout(path):
    with open(path) as f:
        return {name: int(value) for name, value in (line.split() for line in f if line.strip())}


def python_problems(c):
    problems = ["tests/imagefmt.py: %s = %r, the C header says %d" % (n, getattr(imagefmt, n, None), v)
                for n, v in c.items()
                if not n.startswith(("AREA_OFF_", "RUN_OFF_")) and getattr(imagefmt, n, None) != v]
    # area and run fields: imagefmt reads them with one struct format each, field by field
    for fields, fmt, prefix, size in ((imagefmt.AREA_FIELDS, imagefmt.AREA_FORMAT, "AREA_OFF_", "AREA_SIZE"),
                                      (imagefmt.RUN_FIELDS, imagefmt.RUN_FORMAT, "RUN_OFF_", "RUN_SIZE")):
        if struct.calcsize(fmt) != c[size]:
            problems.append("tests/imagefmt.py: %s is %d bytes, the C header says %d" % (fmt, struct.calcsize(fmt), c[size]))
        offsets = [struct.calcsize("<" + fmt[1:1 + i]) for i in range(len(fields))]
        c_offsets = sorted(v for n, v in c.items() if n.startswith(prefix))
        if offsets != c_offsets:
            problems.append("tests/imagefmt.py: %s fields at %s, the C header has them at %s" % (prefix, offsets, c_offsets))
    return problems


def java_problems(c, source):
    with open(source) as f:
        text = f.read()
    found = re.findall(r"static final int (\w+) = (\d+);", text)
    if not found:
        return ["%s: no `static final int NAME = value;` constants found" % source]
    return ["%s: %s = %s, the C header says %s" % (os.path.basename(source), n, v, c.get(n, "nothing of that name"))
            for n, v in found if c.get(n) != int(v)]


def main():
    if len(sys.argv) != 3:
        print(__doc__)
        return 2
    c = read_layout(sys.argv[1])
    problems = python_problems(c) + java_problems(c, sys.argv[2])
    for p in problems:
        print("image layout mismatch: %s (make every reader follow include/stasis/image.h)" % p)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
