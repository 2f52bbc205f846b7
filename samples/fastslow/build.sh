#!/bin/sh
# Compiles the sample modules with Cython into DIR (default: build/ here), each .so
# next to a copy of its source (what stasis fastslow switches to). Needs cython3, a C
# compiler and python3-dev (Debian: cython3 python3-dev gcc).
# main.py is copied too: run DIR/main.py, so that DIR (with the .so files) comes first on sys.path.
set -eu
here="$(cd "$(dirname "$0")" && pwd)"
out="${1:-$here/build}"
python="${PYTHON:-/usr/bin/python3}"
mkdir -p "$out"
cp "$here"/overflow.pyx "$here"/overflow_fixed.pyx "$here"/floatsum.pyx "$here"/behave.py "$here"/main.py "$out"/
cd "$out"
"$python" - >build.log 2>&1 <<'PY' || { cat build.log >&2; exit 1; }
from setuptools import setup
from Cython.Build import cythonize
setup(name="fastslow-samples", script_args=["build_ext", "--inplace", "-q"],
      ext_modules=cythonize(["overflow.pyx", "overflow_fixed.pyx", "floatsum.pyx", "behave.py"],
                            language_level=3, quiet=True))
PY
