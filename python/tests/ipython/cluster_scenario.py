"""Parallel IPython under Stasis (IPythonClusterIT): `ipcluster start -n 4` (controller
and 4 engines, all under one `stasis launch`), an ipyparallel.Client outside.

1. Push data to every engine, `stasis checkpoint` the whole cluster as one unit, kill
   it, `stasis restart` it; a new Client (from the restored ipcontroller-client.json)
   pulls the same data from all 4 engines and runs a new map.
2. N checkpoints in a row while a map runs: every task result arrives, once.

Usage: /usr/bin/python3 cluster_scenario.py [DIST] [N]   (N: checkpoints during the map, default 5)
"""

import os
import sys
import time

import ipyparallel

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import Stasis, check, main, step, wait_for  # noqa: E402

ENGINES = 4


def connect(url_file: str, limit: float = 120) -> ipyparallel.Client:
    deadline = time.monotonic() + limit
    wait_for(lambda: os.path.exists(url_file), url_file, limit)
    while True:
        try:
            rc = ipyparallel.Client(url_file, timeout=30)
            rc.wait_for_engines(ENGINES, timeout=max(1.0, deadline - time.monotonic()))
            return rc
        except (TimeoutError, OSError, ipyparallel.error.TimeoutError):
            if time.monotonic() > deadline:
                raise
            time.sleep(1.0)


def scenario() -> None:
    dist = sys.argv[1] if len(sys.argv) > 1 and sys.argv[1] else None
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 5
    with Stasis("ipycluster", dist=dist) as stasis:
        ipdir = os.path.join(stasis.temp, "ipythondir")
        stasis.env.update(IPYTHONDIR=ipdir, JUPYTER_RUNTIME_DIR=os.path.join(stasis.temp, "jupyter-runtime"))
        log = open(os.path.join(stasis.temp, "cluster.log"), "a")
        try:
            run(stasis, ipdir, log, rounds)
        except Exception:
            log.flush()
            with open(log.name, errors="replace") as f:
                sys.stdout.write("---- ipcluster output (last 4000 chars):\n" + f.read()[-4000:] + "\n")
            raise


def run(stasis: Stasis, ipdir: str, log: object, rounds: int) -> None:
    url_file = os.path.join(ipdir, "profile_default", "security", "ipcontroller-client.json")
    cluster = stasis.popen(stasis.launch_argv("/usr/bin/ipcluster", "start", "-n", str(ENGINES)),
                           stdout=log, stderr=log, stdin=open(os.devnull))
    rc = connect(url_file)
    step("cluster up: %d engines" % len(rc.ids))
    dview = rc[:]
    dview.push({"data": list(range(100)), "tag": "pushed"}, block=True)
    dview.execute("import os; me = os.getpid()", block=True)
    pids = dview.pull("me", block=True)
    checkpoint = stasis.checkpoint()
    step("checkpoint " + os.path.basename(checkpoint))
    rc.close()
    stasis.kill()
    cluster.wait(timeout=60)
    cluster = stasis.popen(stasis.restart_argv(checkpoint), stdout=log, stderr=log, stdin=open(os.devnull))
    rc = connect(url_file)
    dview = rc[:]
    check(dview.pull("data", block=True) == [list(range(100))] * ENGINES, "data after restart")
    check(dview.pull("tag", block=True) == ["pushed"] * ENGINES, "tag after restart")
    check(dview.pull("me", block=True) == pids, "engine pids after restart")
    check(dview.map_sync(lambda v: v * v, range(32)) == [v * v for v in range(32)], "a new map after restart")
    step("restarted cluster: same data on all %d engines, a new map runs" % ENGINES)

    lview = rc.load_balanced_view()
    tasks = 60 * rounds                    # 0.1 s each on 4 engines: the map outlasts the checkpoints

    def work(v: int) -> int:
        import time
        time.sleep(0.1)
        return v * 3

    result = lview.map_async(work, range(tasks))
    started = time.monotonic()
    for _ in range(rounds):
        stasis.checkpoint()
    took = time.monotonic() - started
    overlapped = not result.ready()
    values = result.get(timeout=300)
    check(values == [v * 3 for v in range(tasks)], "map results across %d checkpoints: %r" % (rounds, values))
    check(len(result.msg_ids) == tasks and len(set(result.msg_ids)) == tasks, "one result per task")
    check(overlapped, "the map ended before the last checkpoint: nothing was checked")
    step("%d checkpoints (%.2f s each) while a map of %d tasks ran: every result once"
         % (rounds, took / rounds, tasks))
    rc.close()


if __name__ == "__main__":
    main(scenario, "ipython_cluster")
