#!/usr/bin/env bash
# Prints the median time for `stasis coordinator --daemon` to be ready, for one
# `stasis exec 'stasis:version'` round trip against a running coordinator, and the
# launch overhead of `stasis launch -- python3 -c pass` over plain `python3 -c pass`.
# Targets (issue 10, 2-core machine, quiet): ready <= 0.6 s, round trip <= 0.02 s, launch
# overhead of python3 -c pass <= +0.02 s. Also printed, to tell where the time goes: the
# client's own round trip (no bin/stasis), a plain /bin/true (what starting any process
# costs here), and launch overhead of /bin/true (no Python noise).
# Figures, not assertions. Each comes with the CPU time (user+sys) it took, which other
# programs' load inflates much less than the wall time: of the commands, of their
# children, and of the coordinator JVM (from /proc), and with the load average then.
set -euo pipefail
repo="$(cd "$(dirname "$(readlink -f "$0")")/.." && pwd)"
stasis="$repo/bin/stasis"
runs="${RUNS:-5}"
trips="${TRIPS:-20}"
export STASIS_RUNTIME_DIR="$(mktemp -d)"
chmod 700 "$STASIS_RUNTIME_DIR"
trap 'rm -rf "$STASIS_RUNTIME_DIR"' EXIT
# A private framework cache, filled by an untimed first start (as the first start after a build
# or an upgrade does), which is reported apart; CACHE=off (STASIS_NO_CACHE) starts every time
# from a throwaway one, as before session 18.
export STASIS_CACHE_DIR="$STASIS_RUNTIME_DIR/cache"
[ "${CACHE:-on}" = off ] && export STASIS_NO_CACHE=1
"$stasis" --help >/dev/null   # nothing to build? fail early otherwise
[ -x "$repo/dist/bin/stasis-client" ] || { echo "bench: build first: mvn package" >&2; exit 1; }

# The interpreter itself: a version manager's shim (pyenv) runs dozens of helper processes,
# each of which would be launched and registered as part of the computation.
py="$(python3 -c 'import sys; print(sys.executable)')"
tick="$(getconf CLK_TCK)"

median() { sort -n | awk '{a[NR]=$1} END {m=(NR%2)?a[(NR+1)/2]:(a[NR/2]+a[NR/2+1])/2; printf "%.3f", m/1e9}'; }
load() { cut -d' ' -f1-3 /proc/loadavg; }
# The CPU counters are read with builtins only: a helper process would count itself.
# CPU milliseconds (user+sys) of process $2 so far, into variable $1 (/proc/PID/stat: fields 14, 15)
cpu_of() {
  local line f
  read -r line <"/proc/$2/stat"
  read -ra f <<<"${line##*) }"
  printf -v "$1" '%d' $(((f[11] + f[12]) * 1000 / tick))
}
# CPU milliseconds of this shell's children so far (the commands run and their children), into $1
children_cpu() {
  local lines
  times >"$STASIS_RUNTIME_DIR/times"
  mapfile -t lines <"$STASIS_RUNTIME_DIR/times"
  local a b
  to_ms a "${lines[1]%% *}"
  to_ms b "${lines[1]#* }"
  printf -v "$1" '%d' $((a + b))
}
# "XmY.YYYs" (as times prints it) in milliseconds, into $1
to_ms() { local t="${2#*m}"; t="${t%s}"; printf -v "$1" '%d' $((${2%%m*} * 60000 + 10#${t/./})); }
# seconds per run from two millisecond counters
per() { awk -v a="$1" -v b="$2" -v n="$3" 'BEGIN {printf "%.4f", (b - a) / n / 1000}'; }

t0=${EPOCHREALTIME/./}000
said="$("$stasis" coordinator --daemon --name bench)"
t1=${EPOCHREALTIME/./}000
cpu_of first_cpu "$(sed -n 's/.*(pid \([0-9]*\),.*/\1/p' <<<"$said")"
first=$((t1 - t0))
"$stasis" shutdown --name bench >/dev/null

ready=(); ready_cpu=()
for i in $(seq "$runs"); do
  t0=${EPOCHREALTIME/./}000
  said="$("$stasis" coordinator --daemon --name bench)"
  t1=${EPOCHREALTIME/./}000
  ready+=($((t1 - t0)))
  pid="$(sed -n 's/.*(pid \([0-9]*\),.*/\1/p' <<<"$said")"
  cpu_of jvm "$pid"
  ready_cpu+=("$jvm")
  if [ "$i" -lt "$runs" ]; then
    "$stasis" shutdown --name bench >/dev/null
  fi
done
ready_load="$(load)"

trip=(); client=(); truep=()
children_cpu c0; cpu_of k0 "$pid"
for _ in $(seq "$trips"); do
  t0=${EPOCHREALTIME/./}000
  "$stasis" exec --name bench 'stasis:version' >/dev/null
  t1=${EPOCHREALTIME/./}000
  trip+=($((t1 - t0)))
done
children_cpu c1; cpu_of k1 "$pid"
for _ in $(seq "$trips"); do
  t1=${EPOCHREALTIME/./}000
  "$repo/dist/bin/stasis-client" exec --name bench 'stasis:version' >/dev/null
  t2=${EPOCHREALTIME/./}000
  client+=($((t2 - t1)))
done
children_cpu c2; cpu_of k2 "$pid"
for _ in $(seq "$trips"); do
  t0=${EPOCHREALTIME/./}000; /bin/true; t1=${EPOCHREALTIME/./}000; truep+=($((t1 - t0)))
done
children_cpu c3
trip_load="$(load)"

truel=()
children_cpu c4; cpu_of k4 "$pid"
for _ in $(seq "$runs"); do
  t0=${EPOCHREALTIME/./}000; "$stasis" launch --name bench -- /bin/true; t1=${EPOCHREALTIME/./}000; truel+=($((t1 - t0)))
done
children_cpu c5; cpu_of k5 "$pid"
plain=(); launched=()
for _ in $(seq "$runs"); do
  t0=${EPOCHREALTIME/./}000; "$py" -c pass; t1=${EPOCHREALTIME/./}000; plain+=($((t1 - t0)))
done
for _ in $(seq "$runs"); do
  t0=${EPOCHREALTIME/./}000; "$stasis" launch --name bench -- "$py" -c pass; t1=${EPOCHREALTIME/./}000; launched+=($((t1 - t0)))
done
children_cpu c7; cpu_of k7 "$pid"
launch_load="$(load)"
"$stasis" shutdown --name bench >/dev/null

echo "load: $(uptime)"
printf 'coordinator --daemon ready    median %s s over %d runs (target <= 0.6 s); JVM CPU to ready median %s s; load %s\n' \
  "$(printf '%s\n' "${ready[@]}" | median)" "$runs" "$(printf '%s\n' "${ready_cpu[@]}" | awk '{print $1 * 1e6}' | median)" "$ready_load"
printf '  the first start, which fills the framework cache: %s s, JVM CPU %s s (CACHE=%s)\n' \
  "$(echo "$first" | median)" "$(awk -v c="$first_cpu" 'BEGIN {printf "%.3f", c / 1000}')" "${CACHE:-on}"
printf "exec 'stasis:version' trip    median %s s over %d runs (target <= 0.02 s); CPU %s s each + coordinator %s s; load %s\n" \
  "$(printf '%s\n' "${trip[@]}" | median)" "$trips" "$(per "$c0" "$c1" "$trips")" "$(per "$k0" "$k1" "$trips")" "$trip_load"
printf "  of which stasis-client      median %s s (the rest is bin/stasis); CPU %s s each + coordinator %s s\n" \
  "$(printf '%s\n' "${client[@]}" | median)" "$(per "$c1" "$c2" "$trips")" "$(per "$k1" "$k2" "$trips")"
printf "  starting /bin/true          median %s s; CPU %s s each (what any process costs here)\n" \
  "$(printf '%s\n' "${truep[@]}" | median)" "$(per "$c2" "$c3" "$trips")"
p=$(printf '%s\n' "${plain[@]}" | median); l=$(printf '%s\n' "${launched[@]}" | median)
printf 'launch overhead               %s s - %s s = +%.3f s (%s -c pass; target <= +0.02 s); coordinator CPU %s s; load %s\n' \
  "$l" "$p" "$(awk "BEGIN{print $l-$p}")" "$py" "$(per "$k5" "$k7" "$runs")" "$launch_load"
p=$(printf '%s\n' "${truep[@]}" | median); l=$(printf '%s\n' "${truel[@]}" | median)
# (the program's own CPU time is not in the children's: it is reaped inside its PID namespace)
printf 'launch overhead               %s s - %s s = +%.3f s (/bin/true); CPU of bin/stasis, client, stasis-launch %s s + coordinator %s s\n' \
  "$l" "$p" "$(awk "BEGIN{print $l-$p}")" "$(per "$c4" "$c5" "$runs")" "$(per "$k4" "$k5" "$runs")"
