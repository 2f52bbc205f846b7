#!/usr/bin/env bash
# The issue-11 soak: ipcluster (controller + 4 engines) under one `stasis launch`,
# restart of the whole cluster, then ROUNDS (default 20) checkpoints in a row while a
# load-balanced map runs; every task result must arrive once. Prints the scenario's
# steps, with the mean time per checkpoint. Needs Debian's python3-ipyparallel and
# python3-jupyter-client (system /usr/bin/python3) and a built dist/ (mvn package).
set -euo pipefail
repo="$(cd "$(dirname "$(readlink -f "$0")")/.." && pwd)"
[ -x "$repo/dist/bin/stasis-client" ] || { echo "bench: build first: mvn package" >&2; exit 1; }
uptime
exec /usr/bin/python3 "$repo/python/tests/ipython/cluster_scenario.py" "$repo/dist" "${ROUNDS:-20}"
