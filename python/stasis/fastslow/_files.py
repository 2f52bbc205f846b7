"""The run directory of a fast/slow check (internal): the files the fast run, the
checkers and the driver share. Every file is written whole under a temporary name
and renamed, so a reader never sees half of one.

``RUN/ckpt/``               the fast run's checkpoints (``stasis launch --ckpt-dir``)
``RUN/marks/K.pkl``         the state the fast run recorded at mark K (pickled dict)
``RUN/marks/K.json``        mark K's checkpoint id, once the fast run goes on after it
                            (published when ``RUN/ckpt/*/ID`` exists)
``RUN/roles/ID.json``       written by the driver before it restarts checkpoint ID as a
                            checker: the interval to check and the tolerance
``RUN/claims/N``            interval N is taken by a checker (created exclusively: by the
                            driver when it starts a checker there, or by a checker that
                            goes on from interval N-1); holds the first interval of that checker
``RUN/checkers/N.started``  interval N's checker runs (interpreted) from its first mark
``RUN/results/N.json``      interval N's verdict, written by its checker
``RUN/error.json``          the fast run could not record a mark (unpicklable state...)
"""

import json
import os
from typing import Any, Dict, Optional

ENV = "STASIS_FASTSLOW_DIR"
"""The environment variable that names the run directory of the fast run."""


def path(run: str, *parts: str) -> str:
    return os.path.join(run, *parts)


def write_bytes(target: str, data: bytes) -> None:
    """Writes ``target`` atomically (temporary file, then rename)."""
    os.makedirs(os.path.dirname(target), exist_ok=True)
    tmp = "%s.tmp%d" % (target, os.getpid())
    with open(tmp, "wb") as f:
        f.write(data)
    os.replace(tmp, target)


def write_json(target: str, value: Dict[str, Any]) -> None:
    write_bytes(target, (json.dumps(value, indent=1) + "\n").encode("utf-8"))


def read_json(source: str) -> Optional[Dict[str, Any]]:
    """The JSON object in ``source``, or None if there is none (yet)."""
    try:
        with open(source, "rb") as f:
            value = json.loads(f.read().decode("utf-8"))
    except (OSError, ValueError):
        return None
    return value if isinstance(value, dict) else None


def mark_state(run: str, mark: int) -> str:
    return path(run, "marks", "%d.pkl" % mark)


def mark_info(run: str, mark: int) -> str:
    return path(run, "marks", "%d.json" % mark)


def role(run: str, ckpt_id: str) -> str:
    return path(run, "roles", ckpt_id + ".json")


def started(run: str, interval: int) -> str:
    return path(run, "checkers", "%d.started" % interval)


def result(run: str, interval: int) -> str:
    return path(run, "results", "%d.json" % interval)


def error(run: str) -> str:
    return path(run, "error.json")


def claim_path(run: str, interval: int) -> str:
    return path(run, "claims", "%d" % interval)


def claim(run: str, interval: int, owner: int) -> bool:
    """Takes interval ``interval`` for the checker that began at interval ``owner``;
    False if it was taken already (by another checker, or by the driver)."""
    target = claim_path(run, interval)
    tmp = "%s.tmp%d" % (target, os.getpid())
    write_bytes(tmp, b"%d\n" % owner)
    try:
        os.link(tmp, target)                  # atomic, whole, and only once
    except FileExistsError:
        return False
    finally:
        os.unlink(tmp)
    return True


def claim_owner(run: str, interval: int) -> Optional[int]:
    """The first interval of the checker that took ``interval``; None if nobody did
    (or the claim is being written)."""
    try:
        with open(claim_path(run, interval), "rb") as f:
            return int(f.read().decode("ascii").strip())
    except (OSError, ValueError):
        return None
