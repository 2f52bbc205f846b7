#!/usr/bin/env bash
# The Stasis tour: start a coordinator, drop a third-party plugin into it, watch the
# plugin take part in a rehearsed checkpoint and restart, then take it out again.
set -euo pipefail
repo="$(cd "$(dirname "$(readlink -f "$0")")/../.." && pwd)"
stasis="$repo/bin/stasis"
name="demo-$$"
plugins="$(mktemp -d)"
trap '"$stasis" shutdown --name "$name" >/dev/null 2>&1 || true; rm -rf "$plugins"' EXIT

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

step "Start a coordinator in the background (builds Stasis first if needed)"
"$stasis" coordinator --daemon --name "$name" --plugins "$plugins"
"$stasis" version --name "$name"

step "Plugins before the drop-in"
"$stasis" plugins --name "$name"

step "Drop the sample plugin's jar into the watched folder"
cp "$repo/dist/samples/org.stasis.samples.hello.jar" "$plugins/"
for _ in $(seq 40); do
  "$stasis" plugins --name "$name" | grep -q hello && break
  sleep 0.25
done
"$stasis" plugins --name "$name"

step "Rehearse a checkpoint and a restart through every plugin"
"$stasis" dryrun --name "$name"

step "What the plugin itself saw (its own shell command)"
"$stasis" exec --name "$name" 'hello:events'

step "Remove the jar: the plugin leaves"
rm "$plugins/org.stasis.samples.hello.jar"
for _ in $(seq 40); do
  "$stasis" plugins --name "$name" | grep -q hello || break
  sleep 0.25
done
"$stasis" plugins --name "$name"

step "Stop the coordinator"
"$stasis" shutdown --name "$name"
