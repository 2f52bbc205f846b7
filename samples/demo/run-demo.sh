#!/usr/bin/env bash
# The Stasis tour: run a Python program under Stasis, checkpoint it, kill it, and
# restart it from the checkpoint; then drop a third-party plugin into the running
# coordinator and watch it take part. Builds Stasis first if needed.
set -euo pipefail
repo="$(cd "$(dirname "$(readlink -f "$0")")/../.." && pwd)"
stasis="$repo/bin/stasis"
work="$(mktemp -d)"
name="demo-$$"
export STASIS_RUNTIME_DIR="$work/run"
mkdir -m 700 "$STASIS_RUNTIME_DIR"
cleanup() {
  "$stasis" kill --name "$name" >/dev/null 2>&1 || true
  "$stasis" shutdown --name "$name" >/dev/null 2>&1 || true
  sleep 0.5
  rm -rf "$work"
}
trap cleanup EXIT

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
show() { printf '\033[2m$ %s\033[0m\n' "$*"; "$@"; }

step "Start a coordinator (checkpoints go to $work/checkpoints)"
show "$stasis" coordinator --daemon --name "$name" --ckpt-dir "$work/checkpoints"

step "Launch a Python program under Stasis (its output: $work/out.txt)"
"$stasis" launch --name "$name" -- python3 "$repo/samples/python/counter.py" 40 0.2 >"$work/out.txt" 2>&1 &
sleep 3
tail -n 3 "$work/out.txt"
show "$stasis" status --name "$name"

step "Checkpoint it while it runs"
show "$stasis" checkpoint --name "$name"
checkpoint="$work/checkpoints/latest"
at="$(tail -n 1 "$work/out.txt")"

step "Kill it (a crash, a reboot...)"
sleep 1
show "$stasis" kill --name "$name"
wait || true
echo "last line before the kill: $(tail -n 1 "$work/out.txt")"

step "Restart it from the checkpoint: it goes on from there (same pid, same state)"
show "$stasis" verify --name "$name" "$checkpoint"
echo "at the checkpoint it had printed: $at"
lines=$(wc -l < "$work/out.txt")
show "$stasis" restart --name "$name" "$checkpoint"
echo "after the restart it printed:"
sed -n "$((lines + 1)),$((lines + 3))p" "$work/out.txt"
echo "   ..."
tail -n 2 "$work/out.txt"

step "Drop a third-party plugin into the running coordinator"
cp "$repo/dist/samples/org.stasis.samples.hello.jar" "$repo/dist/plugins/" 2>/dev/null || true
plugins="$repo/dist/plugins"
for _ in $(seq 40); do "$stasis" plugins --name "$name" | grep -q hello && break; sleep 0.25; done
show "$stasis" plugins --name "$name"
show "$stasis" dryrun --name "$name"
show "$stasis" exec --name "$name" 'hello:events'
rm -f "$plugins/org.stasis.samples.hello.jar"
for _ in $(seq 40); do "$stasis" plugins --name "$name" | grep -q hello || break; sleep 0.25; done
echo "(plugin removed again)"
