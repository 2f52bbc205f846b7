"""restore() under `stasis launch`: the launched process is replaced by the restored
checkpoint; its output goes where launch's went and its exit status becomes
launch's. Prints "OK restore_exit <id>" in the restored copy and exits 7."""

import sys

import stasis

ckpt = stasis.checkpoint()
if stasis.is_resume():
    print("original took", ckpt, flush=True)
    stasis.restore(ckpt)
    print("FAIL restore() returned", flush=True)
    sys.exit(1)
if not stasis.is_restart() or stasis.last_checkpoint_id() != ckpt:
    print("FAIL restored copy", stasis.is_restart(), stasis.last_checkpoint_id(), ckpt, flush=True)
    sys.exit(1)
print("OK restore_exit", ckpt, flush=True)
sys.exit(7)
