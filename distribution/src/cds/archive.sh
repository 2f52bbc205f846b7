#!/usr/bin/env bash
# Usage: archive.sh DIST
# Writes DIST/lib/stasis.jsa, a class-data sharing archive of what a coordinator loads while it
# starts and serves its first requests (the launcher, Felix, every bundle's classes, the JDK
# classes the default archive lacks). bin/stasis hands it to the coordinator's JVM while it is
# newer than the launcher's jars: parsed and verified classes are mapped instead of loaded,
# which cuts the start-up's CPU time. The packaging runs this once per build; the archive is
# only read afterwards, so coordinators starting at the same moment share it safely. Any
# failure here leaves no archive (start-up is then only slower) and says so on stderr.
set -uo pipefail
dist="$(cd "${1:?usage: archive.sh DIST}" && pwd)"
out="$dist/lib/stasis.jsa"
rm -f -- "$out"
run="$(mktemp -d)"
chmod 700 "$run"
trap 'rm -rf -- "$run"' EXIT
export STASIS_RUNTIME_DIR="$run"
# A private framework cache (never the user's), filled by a first start: the archive is made of a
# start from a kept cache, what a coordinator's start is but the first after a build.
export STASIS_CACHE_DIR="$run/cache"
stasis="$dist/bin/stasis"
# First the system bundle's package list for this JVM, which the coordinator then reads instead
# of having Felix build it at each start (SystemPackages.java says how); without it, it starts
# all the same.
java="${JAVA_HOME:+$JAVA_HOME/bin/}java"
javac="${JAVA_HOME:+$JAVA_HOME/bin/}javac"
here="$(cd "$(dirname "$0")" && pwd)"
rm -f -- "$dist/lib/system-packages"
if ! { "$javac" -nowarn -d "$run/classes" -cp "$dist/lib/org.apache.felix.framework.jar" "$here/SystemPackages.java" &&
       "$java" -cp "$dist/lib/org.apache.felix.framework.jar:$run/classes" SystemPackages "$run/system-packages" \
         "$dist/lib/org.apache.felix.framework.jar" &&
       mv -f -- "$run/system-packages" "$dist/lib/system-packages"; }; then
  echo "archive.sh: no system package list: Felix builds it at each start" >&2
fi
if "$stasis" coordinator --daemon --name cds --plugins "$run/plugins" --ckpt-dir "$run/ckpt" >/dev/null 2>&1; then
  "$stasis" shutdown --name cds >/dev/null 2>&1
fi
# The JVM writes the archive as it exits; the file is put in place only once complete.
export STASIS_JAVA_OPTS="-XX:ArchiveClassesAtExit=$run/stasis.jsa"
said="$("$stasis" coordinator --daemon --name cds --plugins "$run/plugins" --ckpt-dir "$run/ckpt")" || {
  echo "archive.sh: no class-data archive: the coordinator did not start; its log:" >&2
  tail -n 20 -- "$run/cds.log" >&2
  exit 1
}
pid="$(sed -n 's/.*(pid \([0-9]*\),.*/\1/p' <<<"$said")"
unset STASIS_JAVA_OPTS
# A launch, a checkpoint and the everyday commands: their classes are in the archive too.
"$stasis" version --name cds >/dev/null
"$stasis" launch --name cds -- sh -c 'sleep 1' >/dev/null 2>&1 &
launch=$!
sleep 0.5
"$stasis" checkpoint --name cds >/dev/null 2>&1
"$stasis" status --name cds >/dev/null 2>&1
wait "$launch"
"$stasis" shutdown --name cds >/dev/null
for _ in $(seq 300); do
  [ -d "/proc/$pid" ] || break
  sleep 0.1
done
if [ -d "/proc/$pid" ] || [ ! -s "$run/stasis.jsa" ]; then
  [ -n "$pid" ] && [ -d "/proc/$pid" ] && kill -9 "$pid" 2>/dev/null   # never leave it behind
  echo "archive.sh: no class-data archive: the coordinator (pid $pid) did not write one; its log:" >&2
  tail -n 20 -- "$run/cds.log" >&2
  exit 1
fi
mv -f -- "$run/stasis.jsa" "$out"
