"""A program that only imports stasis (no hooks, no checkpoint() call): after
`stasis checkpoint` it sees is_resume(), and a copy brought back with
`stasis restart` sees is_restart() and the checkpoint's id, then prints
"OK cli_restart <id>" and exits 0."""

import sys
import time

import stasis

deadline = time.monotonic() + 120
seen_resume = False
while time.monotonic() < deadline:
    if stasis.is_resume() and not seen_resume:
        seen_resume = True
        print("resumed after", stasis.last_checkpoint_id(), flush=True)
    if stasis.is_restart():
        print("OK cli_restart", stasis.last_checkpoint_id(), flush=True)
        sys.exit(0)
    print("tick", flush=True)
    time.sleep(0.1)
print("FAIL never restarted", flush=True)
sys.exit(1)
