#!/usr/bin/env bash
# Usage: ROUNDS=N bash bench/start_pairs.sh CHECKOUT...
# Compares the coordinator's start-up of several built checkouts (each with its bin/stasis and
# dist/) start by start: each round starts and stops one coordinator of each checkout in turn,
# so that the machine's load weighs on all alike. Prints per checkout the median time for
# `stasis coordinator --daemon` to be ready and the median CPU time (user+sys) the JVM had used by
# then, with the load average before and after. Each checkout keeps a private framework cache,
# filled by one untimed start first. Figures, not assertions.
set -euo pipefail
rounds="${ROUNDS:-15}"
[ "$#" -ge 1 ] || { echo "usage: ROUNDS=N bash bench/start_pairs.sh CHECKOUT..." >&2; exit 2; }
work="$(mktemp -d)"
chmod 700 "$work"
trap 'rm -rf "$work"' EXIT
tick="$(getconf CLK_TCK)"
cpu_of() {
  local line f
  read -r line <"/proc/$2/stat"
  read -ra f <<<"${line##*) }"
  printf -v "$1" '%d' $(((f[11] + f[12]) * 1000 / tick))
}
median() { sort -n | awk '{a[NR]=$1} END {m=(NR%2)?a[(NR+1)/2]:(a[NR/2]+a[NR/2+1])/2; printf "%.3f", m}'; }
# one start and stop of checkout $1 (index $2); appends "wall_s cpu_s" to its file
start_one() {
  local t0 t1 said pid cpu
  t0=${EPOCHREALTIME/./}
  said="$(STASIS_RUNTIME_DIR="$work/run$2" STASIS_CACHE_DIR="$work/cache$2" "$1/bin/stasis" coordinator --daemon --name pairs)"
  t1=${EPOCHREALTIME/./}
  pid="$(sed -n 's/.*(pid \([0-9]*\),.*/\1/p' <<<"$said")"
  cpu_of cpu "$pid"
  STASIS_RUNTIME_DIR="$work/run$2" "$1/bin/stasis" shutdown --name pairs >/dev/null
  echo "$(((t1 - t0) / 1000)) $cpu" >>"$work/times$2"
}
for i in $(seq "$#"); do
  mkdir -m 700 "$work/run$i"
  c="${!i}"
  [ -x "$c/dist/bin/stasis-client" ] || { echo "start_pairs: $c is not built: mvn package there" >&2; exit 1; }
  start_one "$c" "$i" && : >"$work/times$i"   # fills its cache; not counted
done
before="$(cut -d' ' -f1-3 /proc/loadavg)"
for _ in $(seq "$rounds"); do
  for i in $(seq "$#"); do start_one "${!i}" "$i"; done
done
echo "load before $before, after $(cut -d' ' -f1-3 /proc/loadavg); $rounds rounds"
for i in $(seq "$#"); do
  printf '%-40s ready median %s s, JVM CPU to ready median %s s\n' "${!i}" \
    "$(awk '{print $1 / 1000}' "$work/times$i" | median)" "$(awk '{print $2 / 1000}' "$work/times$i" | median)"
done
