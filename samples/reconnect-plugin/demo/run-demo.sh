#!/usr/bin/env bash
# The reconnect plugin at work: a Python client talks to a service that runs outside
# Stasis; it is checkpointed, killed and restarted, and carries on over a new
# connection to the same service instead of finding its connection reset.
# Needs a built dist/ (mvn package); STASIS=/path/to/bin/stasis picks another one.
set -euo pipefail
here="$(cd "$(dirname "$(readlink -f "$0")")" && pwd)"
repo="$(cd "$here/../../.." && pwd)"
stasis="${STASIS:-$repo/bin/stasis}"
dist="$(cd "$(dirname "$(readlink -f "$stasis")")/.." && pwd)"
jar="$dist/samples/org.stasis.samples.reconnect.jar"
[ -f "$jar" ] || jar="$(ls "$here"/../target/org.stasis.samples.reconnect-*.jar 2>/dev/null | head -n 1)"
[ -f "$jar" ] || { echo "build the plugin first: mvn -pl samples/reconnect-plugin package" >&2; exit 1; }

work="$(mktemp -d)"
name="reconnect-$$"
export STASIS_RUNTIME_DIR="$work/run"
mkdir -m 700 "$STASIS_RUNTIME_DIR" "$work/plugins"
service=""
cleanup() {
  "$stasis" kill --name "$name" >/dev/null 2>&1 || true
  "$stasis" shutdown --name "$name" >/dev/null 2>&1 || true
  [ -z "$service" ] || kill "$service" 2>/dev/null || true
  sleep 0.5
  rm -rf "$work"
}
trap cleanup EXIT

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
show() { printf '\033[2m$ %s\033[0m\n' "$*"; "$@"; }
await() { for _ in $(seq 80); do "$@" && return 0; sleep 0.25; done; echo "timed out: $*" >&2; return 1; }

port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
step "Start a service outside Stasis on 127.0.0.1:$port (a database, say)"
python3 "$here/service.py" "$port" >"$work/service.log" 2>&1 &
service=$!
await grep -q listening "$work/service.log"

step "Configure the plugin and start a coordinator that loads it from $work/plugins"
cp "$jar" "$work/plugins/org.stasis.samples.reconnect.jar"
echo "services = 127.0.0.1:$port" | tee "$work/plugins/org.stasis.samples.reconnect.cfg"
show "$stasis" coordinator --daemon --name "$name" --ckpt-dir "$work/checkpoints" --plugins "$work/plugins"
await sh -c "'$stasis' plugins --name '$name' | grep -q reconnect"
show "$stasis" plugins --name "$name"

step "Launch the client under Stasis (its output: $work/out.txt)"
"$stasis" launch --name "$name" -- python3 "$here/client.py" "$port" 100 >>"$work/out.txt" 2>&1 &
sleep 3
tail -n 2 "$work/out.txt"

step "Checkpoint it, then kill it"
show "$stasis" checkpoint --name "$name"
show "$stasis" kill --name "$name"
wait "$!" 2>/dev/null || true
lines=$(wc -l <"$work/out.txt")

step "Restart it: the plugin connects to the service again and hands the socket over"
"$stasis" restart --name "$name" "$work/checkpoints/latest" >/dev/null 2>&1 &
await sh -c "[ \$(wc -l <'$work/out.txt') -gt $((lines + 5)) ]"
sed -n "$((lines + 1)),$((lines + 5))p" "$work/out.txt"
echo "the plugin's entries in the event log:"
"$stasis" events --name "$name" -n 30 | grep -E 'reconnect .*(connected|reconnect)' || true
echo "the service saw:"
cat "$work/service.log"
grep -q "lost\|failed" "$work/out.txt" && { echo "the client lost its connection" >&2; exit 1; }
echo "the client carries on over a new connection"
