#!/usr/bin/env bash
# Fast/slow checking figures (issue #14): the overflow sample (samples/fastslow), 12
# intervals of N additions each (N=68000000 by default: about 60 s interpreted on
# this machine; N=3000000 for a quick look). Prints: the interpreted time (the .pyx run
# as Python), the compiled time (plain, no Stasis), the fast run under
# `stasis fastslow` (marks + 13 checkpoints) and its overhead, and the total wall time
# with K=2 checkers against the interpreted time. Figures, not assertions.
#
# usage: bench/fastslow_bench.sh [N]        (needs cython3 python3-dev gcc; a built dist/)
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
n="${1:-68000000}"
python="${PYTHON:-/usr/bin/python3}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
sh "$here/samples/fastslow/build.sh" "$work/fast"
mkdir -p "$work/slow"
# the source run as Python, as a checker runs it (its cdef declarations made Python)
PYTHONPATH="$here/python" "$python" -c 'import sys; from stasis.fastslow._pyx import to_python
open(sys.argv[2], "w").write(to_python(open(sys.argv[1]).read()))' \
  "$here/samples/fastslow/overflow.pyx" "$work/slow/overflow.py"
cp "$here/samples/fastslow/main.py" "$work/slow/"

seconds() {   # seconds COMMAND...: wall time of COMMAND, its output discarded
  "$python" -c 'import subprocess, sys, time
t = time.monotonic(); subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
print(time.monotonic() - t)' "$@"
}

export PYTHONPATH="$here/python"
"$python" "$work/slow/main.py" overflow 12 >/dev/null || { echo "the interpreted sample does not run" >&2; exit 1; }
slow="$(seconds "$python" "$work/slow/main.py" overflow "$n")"
fast="$(seconds "$python" "$work/fast/main.py" overflow "$n")"
report="$work/report.json"
STASIS_PYTHON="$python" "$here/bin/stasis" fastslow run --json --checkers 2 -- \
  "$python" "$work/fast/main.py" overflow "$n" >"$report" 2>"$work/stderr" || true
"$python" - "$report" "$slow" "$fast" "$n" <<'PY'
import json, sys
report, slow, fast, n = json.load(open(sys.argv[1])), float(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4])
bad = [i for i in report["intervals"] if i["status"] != "ok"]
print("fastslow bench: overflow sample, 12 intervals x %d additions" % n)
print("  interpreted (the source as Python):       %7.2f s" % slow)
print("  compiled, plain python3:                   %7.2f s" % fast)
print("  fast run under stasis fastslow (13 marks): %7.2f s   overhead %+.2f s (%.0f%% of the compiled run)"
      % (report["fast_seconds"], report["fast_seconds"] - fast, 100.0 * (report["fast_seconds"] - fast) / fast))
print("  total wall, K=2 checkers:                  %7.2f s   = %.2f x the interpreted time"
      % (report["wall_seconds"], report["wall_seconds"] / slow))
print("  verdict: %s" % ", ".join("interval %d %s%s" % (i["interval"], i["status"],
      " (%s)" % i.get("variable", "") if i["status"] == "mismatch" else "") for i in bad) or "all ok")
PY
