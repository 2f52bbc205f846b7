#!/usr/bin/env bash
# Fast/slow checking figures (issue #14): see bench/fastslow_bench.py (this runs it).
# usage: bench/fastslow_bench.sh [--target SECONDS] [--n N] [--checkers K]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
exec "${PYTHON:-/usr/bin/python3}" "$here/fastslow_bench.py" "$@"
