#!/usr/bin/env python3
"""Cost of path redirection (issue #11: <= 5% on 100 000 os.stat calls outside the
redirected paths). Runs a Python loop of N os.stat calls on a file that is not
redirected, in a fresh interpreter each time, three ways: without the agent, with
the agent and no redirect, with the agent and 8 redirects (STASIS_REDIRECT, as an
exec'd child of a restored computation gets them; no coordinator listens, so the
agent only serves paths). Prints the best CPU time (process_time: the machine's
load counts less than in wall time) of RUNS of each and the overheads, for
an absolute path and a relative one (a relative path is looked at more closely only
when its first component could lead into a redirected directory: here it cannot).
Figures, not assertions.

With --instructions it counts instructions instead (valgrind's callgrind: user space
only, the same on a loaded machine; the system call itself is not counted) and prints
what the agent adds per call.

usage: bench/redirect.py [--instructions] [N]   (default 100000; RUNS=7; AGENT=path of libstasis-agent.so)"""
import os
import re
import subprocess
import sys
import tempfile

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
AGENT = os.environ.get("AGENT", os.path.join(REPO, "native", "target", "lib", "libstasis-agent.so"))
RUNS = int(os.environ.get("RUNS", "7"))
LOOP = r"""
import os, sys, time
path, n = sys.argv[1], int(sys.argv[2])
st = os.stat
t0 = time.process_time()
for _ in range(n):
    st(path)
print(time.process_time() - t0)
"""


def once(env, path, n):
    out = subprocess.run(["/usr/bin/python3", "-c", LOOP, path, str(n)], env=env, capture_output=True, text=True,
                         check=True)
    return float(out.stdout.split()[-1])


def instructions(env, path, n):
    """user-space instructions of the whole interpreter run (callgrind's total)"""
    out = subprocess.run(["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", "/usr/bin/python3", "-c",
                          LOOP, path, str(n)], env=env, capture_output=True, text=True, check=True)
    return int(re.search(r"Collected : (\d+)", out.stderr).group(1))


def per_call(env, path, n):
    return (instructions(env, path, n) - instructions(env, path, 0)) / n


def best(env, path, n):
    return min(once(env, path, n) for _ in range(RUNS))


def main():
    args = sys.argv[1:]
    count = "--instructions" in args
    args = [a for a in args if a != "--instructions"]
    n = int(args[0]) if args else 100000
    if not os.path.exists(AGENT):
        sys.exit("bench/redirect.py: %s is missing: build it with make -C native" % AGENT)
    with tempfile.TemporaryDirectory(prefix="stasis-bench-redirect-") as d:
        target = os.path.join(d, "plain.txt")
        with open(target, "w") as f:
            f.write("x")
        base = {k: v for k, v in os.environ.items() if not k.startswith(("STASIS_", "LD_PRELOAD"))}
        agent = dict(base, LD_PRELOAD=AGENT, STASIS_AGENT_SOCKET=os.path.join(d, "nobody.sock"))
        rules = "\n".join("%s/redir%d\t%s/moved%d" % (d, i, d, i) for i in range(8))
        redirected = dict(agent, STASIS_REDIRECT=rules)
        if count:
            print("instructions per os.stat iteration (user space, callgrind), N = %d:" % n)
            for label, path, cwd in (("absolute", target, None), ("relative", "plain.txt", d)):
                os.chdir(cwd or REPO)
                plain, quiet, busy = (per_call(e, path, n) for e in (base, agent, redirected))
                print("  %-8s no agent %.0f | agent, no redirect %+.1f | agent, 8 redirects %+.1f"
                      % (label, plain, quiet - plain, busy - plain))
            return
        print("os.stat x %d, CPU time of the loop, best of %d runs (s):" % (n, RUNS))
        for label, path, cwd in (("absolute", target, None), ("relative", "plain.txt", d)):
            os.chdir(cwd or REPO)
            plain, quiet, busy = (best(e, path, n) for e in (base, agent, redirected))
            print("  %-8s no agent %.4f | agent, no redirect %.4f (%+.1f%%) | agent, 8 redirects %.4f (%+.1f%%)"
                  % (label, plain, quiet, 100 * (quiet / plain - 1), busy, 100 * (busy / plain - 1)))


main()
