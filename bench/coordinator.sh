#!/usr/bin/env bash
# Prints the median time for `stasis coordinator --daemon` to be ready, for one
# `stasis exec 'stasis:version'` round trip against a running coordinator, and the
# launch overhead of `stasis launch -- python3 -c pass` over plain `python3 -c pass`.
# Targets (2-core machine): ready < 2 s, round trip < 0.3 s, launch overhead <= 0.05 s.
# Figures, not assertions.
set -euo pipefail
repo="$(cd "$(dirname "$(readlink -f "$0")")/.." && pwd)"
stasis="$repo/bin/stasis"
runs="${RUNS:-5}"
trips="${TRIPS:-20}"
export STASIS_RUNTIME_DIR="$(mktemp -d)"
chmod 700 "$STASIS_RUNTIME_DIR"
trap 'rm -rf "$STASIS_RUNTIME_DIR"' EXIT
"$stasis" --help >/dev/null   # nothing to build? fail early otherwise
[ -x "$repo/dist/bin/stasis-client" ] || { echo "bench: build first: mvn package" >&2; exit 1; }

now() { date +%s%N; }
median() { sort -n | awk '{a[NR]=$1} END {m=(NR%2)?a[(NR+1)/2]:(a[NR/2]+a[NR/2+1])/2; printf "%.3f", m/1e9}'; }

ready=()
for i in $(seq "$runs"); do
  t0=$(now)
  "$stasis" coordinator --daemon --name bench >/dev/null
  t1=$(now)
  ready+=($((t1 - t0)))
  if [ "$i" -lt "$runs" ]; then
    "$stasis" shutdown --name bench >/dev/null
    while "$stasis" ping -q --name bench 2>/dev/null; do sleep 0.05; done
  fi
done

trip=()
for _ in $(seq "$trips"); do
  t0=$(now)
  "$stasis" exec --name bench 'stasis:version' >/dev/null
  t1=$(now)
  trip+=($((t1 - t0)))
done
plain=(); launched=()
for _ in $(seq "$runs"); do
  t0=$(now); python3 -c pass; t1=$(now); plain+=($((t1 - t0)))
  t0=$(now); "$stasis" launch --name bench -- python3 -c pass; t1=$(now); launched+=($((t1 - t0)))
done
"$stasis" shutdown --name bench >/dev/null
while "$stasis" ping -q --name bench 2>/dev/null; do sleep 0.05; done

printf 'coordinator --daemon ready    median %s s over %d runs (target < 2 s)\n' "$(printf '%s\n' "${ready[@]}" | median)" "$runs"
printf "exec 'stasis:version' trip    median %s s over %d runs (target < 0.3 s)\n" "$(printf '%s\n' "${trip[@]}" | median)" "$trips"
p=$(printf '%s\n' "${plain[@]}" | median); l=$(printf '%s\n' "${launched[@]}" | median)
printf 'launch overhead               %s s - %s s = +%.3f s (python3 -c pass; target <= +0.05 s)\n' "$l" "$p" "$(awk "BEGIN{print $l-$p}")"
