#!/usr/bin/env python3
"""Benchmark (not part of make check): bench_python.py OUT_DIR MIB [MIB...]
Checkpoint and restart times of scenarios/python_memory.py holding MIB MiB."""
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import run_tests as rt  # noqa: E402


def bench(mib):
    env = rt.Env("bench%d" % mib)
    try:
        proc, agent, path = env.launch([sys.executable, rt.SCEN + "/python_memory.py", str(mib), "100000", "0.01"])
        deadline = time.time() + 120
        while not any(l.startswith("ready") for l in rt.lines(path)):
            if time.time() > deadline or proc.poll() is not None:
                raise RuntimeError("python did not start")
            time.sleep(0.05)
        rt.wait_lines(path, len(rt.lines(path)) + 3, proc)
        ck = os.path.join(env.dir, "ck")
        t = env.coord.checkpoint(agent, ck)
        rt.kill_agent_process(agent, proc)
        log_path, f = env.log()
        t0 = time.time()
        p2, a2, _ = env.coord.restart(rt.RESTORE, ck, f)
        t_resumed = time.time() - t0
        env.procs.append(p2)
        while not rt.lines(log_path):
            if p2.poll() is not None:
                raise RuntimeError("restarted python exited %s" % p2.returncode)
            time.sleep(0.001)
        t_first = time.time() - t0
        print("python %5d MiB: checkpoint %.3fs (suspend %.4fs, write %.3fs, %.0f MB image, %.2f GB/s); "
              "restart to RESUMED %.3fs, to first output %.3fs"
              % (mib, t["total"], t["suspend"], t["write"], t["bytes"] / 1e6,
                 t["bytes"] / max(t["write"], 1e-9) / 1e9, t_resumed, t_first), flush=True)
    finally:
        env.cleanup()


if __name__ == "__main__":
    for m in sys.argv[2:] or ["100"]:
        bench(int(m))
