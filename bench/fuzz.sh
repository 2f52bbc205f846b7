#!/bin/sh
# Long fuzzing run (issue 18): bench/fuzz.sh [SECONDS] [SEED] [restorer|coordinator|both]
# Needs native/target (make -C native) and, for the coordinator, dist/ (the distribution).
# Prints runs, runs/s and crashes per target; new crashers are minimised and written to
# native/tests/fuzz-crashers/ (commit them: every bounded run in mvn verify replays them).
set -u
here="$(cd "$(dirname "$0")/.." && pwd)"
secs="${1:-600}"; seed="${2:-$(date +%s)}"; what="${3:-both}"
status=0
if [ "$what" != coordinator ]; then
  echo "restorer, seed $seed, $secs s"
  python3 "$here/native/tests/fuzz.py" restorer "$here/native/target" --seed "$seed" --seconds "$secs" --save || status=1
fi
if [ "$what" != restorer ]; then
  echo "coordinator, seed $seed, $secs s"
  python3 "$here/native/tests/fuzz.py" coordinator "$here/dist" --seed "$seed" --seconds "$secs" --save || status=1
fi
exit $status
