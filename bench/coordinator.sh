#!/usr/bin/env bash
# Prints the median time for `stasis coordinator --daemon` to be ready, for one
# `stasis exec 'stasis:version'` round trip against a running coordinator, and the
# launch overhead of `stasis launch -- python3 -c pass` over plain `python3 -c pass`.
# Targets (issue 10, 2-core machine, quiet): ready <= 0.6 s, round trip <= 0.02 s, launch
# overhead of python3 -c pass <= +0.02 s. Also printed, to tell where the time goes: the
# client's own round trip (no bin/stasis), and launch overhead of /bin/true (no Python noise).
# Figures, not assertions; `uptime` first, since a loaded machine inflates all of them.
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

# The interpreter itself: a version manager's shim (pyenv) runs dozens of helper processes,
# each of which would be launched and registered as part of the computation.
py="$(python3 -c 'import sys; print(sys.executable)')"

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

trip=(); client=()
for _ in $(seq "$trips"); do
  t0=$(now)
  "$stasis" exec --name bench 'stasis:version' >/dev/null
  t1=$(now)
  "$repo/dist/bin/stasis-client" exec --name bench 'stasis:version' >/dev/null
  t2=$(now)
  trip+=($((t1 - t0))); client+=($((t2 - t1)))
done
truep=(); truel=()
for _ in $(seq "$runs"); do
  t0=$(now); /bin/true; t1=$(now); truep+=($((t1 - t0)))
  t0=$(now); "$stasis" launch --name bench -- /bin/true; t1=$(now); truel+=($((t1 - t0)))
done
plain=(); launched=()
for _ in $(seq "$runs"); do
  t0=$(now); "$py" -c pass; t1=$(now); plain+=($((t1 - t0)))
  t0=$(now); "$stasis" launch --name bench -- "$py" -c pass; t1=$(now); launched+=($((t1 - t0)))
done
"$stasis" shutdown --name bench >/dev/null
while "$stasis" ping -q --name bench 2>/dev/null; do sleep 0.05; done

echo "load: $(uptime)"
printf 'coordinator --daemon ready    median %s s over %d runs (target <= 0.6 s)\n' "$(printf '%s\n' "${ready[@]}" | median)" "$runs"
printf "exec 'stasis:version' trip    median %s s over %d runs (target <= 0.02 s)\n" "$(printf '%s\n' "${trip[@]}" | median)" "$trips"
printf "  of which stasis-client      median %s s (the rest is bin/stasis)\n" "$(printf '%s\n' "${client[@]}" | median)"
p=$(printf '%s\n' "${plain[@]}" | median); l=$(printf '%s\n' "${launched[@]}" | median)
printf 'launch overhead               %s s - %s s = +%.3f s (%s -c pass; target <= +0.02 s)\n' "$l" "$p" "$(awk "BEGIN{print $l-$p}")" "$py"
p=$(printf '%s\n' "${truep[@]}" | median); l=$(printf '%s\n' "${truel[@]}" | median)
printf 'launch overhead               %s s - %s s = +%.3f s (/bin/true)\n' "$l" "$p" "$(awk "BEGIN{print $l-$p}")"
