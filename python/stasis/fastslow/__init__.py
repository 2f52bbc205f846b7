"""Fast/slow checking: is a Cython-compiled computation faithful to its Python source?

The program marks points of its computation with the state to compare there::

    import stasis.fastslow as fs
    import work                      # compiled by Cython from work.pyx (pure-Python syntax)

    acc = 0
    fs.mark(i=0, acc=acc)
    for i in range(1, 13):
        acc = work.chunk(acc, i)
        fs.mark(i=i, acc=acc)

and runs under ``stasis fastslow run -- python3 prog.py``. In that *fast* run, every
mark records the state (pickled) and checkpoints the computation. Each interval
between two marks is then checked by a *checker*: the checkpoint at the interval's
start restarted with the compiled functions switched to interpreted versions of
their source, run to the next mark, where its state is compared with the fast run's
and the checker ends. Outside ``stasis fastslow`` (plain ``python3``, ``stasis
launch``) :func:`mark` does nothing. See doc/fastslow.md.
"""

import os
import pickle
import sys
import time
from typing import Any, Dict, Optional

from . import _compare, _files

__all__ = ["mark", "every", "interpreted", "FastSlowError"]


class FastSlowError(RuntimeError):
    """A mark could not be recorded (state that cannot be pickled...)."""


_RUN: Optional[str] = os.environ.get(_files.ENV) or None
_mode = "fast" if _RUN else "off"      # "off", "fast" or "checker"
_every = 1
_calls = 0
_marks = 0
_target = -1                          # the mark that ends the checker's current interval
_tolerance = 0.0
_interval = 0                         # the checker's current interval
_owner = 0                            # its first interval (what its claims say)
_go_on = False                        # may it go on to the next interval (the driver's role)
_info: Dict[str, Any] = {}            # what was switched (written with each interval's start)


def every(n: int) -> None:
    """Makes only every ``n``-th call of :func:`mark` a mark (the first call is one):
    call mark() from a frequently called function and keep checkpoints rare."""
    global _every
    if int(n) < 1:
        raise ValueError("stasis.fastslow.every(n) needs n >= 1, not %r" % (n,))
    _every = int(n)


def interpreted() -> bool:
    """True in a checker once the compiled functions were switched to interpreted
    ones; False in the fast run and outside ``stasis fastslow``."""
    return _mode == "checker"


def mark(**state: Any) -> None:
    """A mark: in the fast run, records ``state`` (picklable values) and checkpoints;
    in a checker, the end of its interval: compares ``state`` with the fast run's
    and ends the process. Outside ``stasis fastslow``: does nothing.

    :raises FastSlowError: a value cannot be pickled (the message names it)
    """
    global _calls, _marks
    if _mode == "off":
        return
    call = _calls
    _calls += 1
    if call % _every:
        return
    number = _marks
    _marks += 1
    if _mode == "checker":
        if number >= _target:
            _finish(number, state)
        return
    _fast_mark(number, state)


def _pickled(state: Dict[str, Any]) -> bytes:
    try:
        return pickle.dumps(state, protocol=pickle.HIGHEST_PROTOCOL)
    except Exception:
        pass
    for name, value in state.items():
        try:
            pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
        except Exception as e:
            message = "variable '%s' given to stasis.fastslow.mark() cannot be pickled: %s: %s" % (
                name, type(e).__name__, e)
            break
    else:
        message = "the state given to stasis.fastslow.mark() cannot be pickled"
    assert _RUN is not None
    _files.write_json(_files.error(_RUN), {"error": message})
    raise FastSlowError(message)


def _fast_mark(number: int, state: Dict[str, Any]) -> None:
    import stasis
    assert _RUN is not None
    began = time.monotonic()
    _files.write_bytes(_files.mark_state(_RUN, number), _pickled(state))
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except Exception:
            pass
    ckpt_id = _checkpoint(stasis)
    if ckpt_id is None:
        _files.write_json(_files.error(_RUN), {"error": "mark %d: stasis.checkpoint() did nothing: the program "
                                               "does not run under Stasis" % number})
        return
    if stasis.is_restart():
        _become_checker(ckpt_id)
        return
    # the driver waits for the checkpoint's publication (its directory) before it uses it
    _files.write_json(_files.mark_info(_RUN, number), {"mark": number, "checkpoint": ckpt_id,
                                                       "paused": round(time.monotonic() - began, 4)})


def _checkpoint(stasis: Any) -> Optional[str]:
    """stasis.checkpoint() without waiting for the publication (the program pauses only
    while its memory is written), tried again for a while if the coordinator is busy
    (publishing the previous mark's checkpoint, say)."""
    deadline = time.monotonic() + 60.0
    pause = 0.01
    while True:
        try:
            result: Optional[str] = stasis.checkpoint(wait=False)
            return result
        except stasis.CheckpointError:
            if time.monotonic() > deadline:
                raise
            time.sleep(pause)
            pause = min(pause * 2, 0.2)


def _become_checker(ckpt_id: str) -> None:
    """Restarted from a mark's checkpoint: a checker if the driver said so, else a plain
    restart that goes on without marks."""
    global _mode, _target, _tolerance, _interval, _owner, _go_on, _info
    assert _RUN is not None
    role = _files.read_json(_files.role(_RUN, ckpt_id))
    if role is None:
        _mode = "off"
        return
    from . import _switch
    _interval = _owner = int(role["interval"])
    _target = _marks                      # the mark at the end of this interval
    _tolerance = float(role.get("tolerance", 0.0))
    _go_on = bool(role.get("continue", False))
    done = _switch.switch_all()
    _info = {"interval": _interval, "pid": os.getpid(), "modules": done.modules,
             "functions": done.functions, "refused": done.refused}
    if not done.modules:
        _write_result("not checked", reason="no compiled module could be switched to interpreted: "
                      + ("; ".join(done.refused) or "no Cython module with its .pyx/.py source next to it "
                                                   "is loaded"), switched=_info)
        os._exit(0)
    _mode = "checker"
    _files.write_json(_files.started(_RUN, _interval), _info)


def _take_next(number: int) -> bool:
    """After an ok interval ending at mark ``number``: goes on checking the next interval
    if the driver allows it, the fast run recorded its end already, and no other
    checker has taken it."""
    global _interval, _target
    assert _RUN is not None
    if not _go_on or not os.path.exists(_files.mark_state(_RUN, number + 1)):
        return False
    if not _files.claim(_RUN, _interval + 1, _owner):
        return False
    _interval += 1
    _target = number + 1
    _files.write_json(_files.started(_RUN, _interval), dict(_info, interval=_interval, first=_owner))
    return True


def _write_result(status: str, **fields: Any) -> None:
    assert _RUN is not None
    _files.write_json(_files.result(_RUN, _interval), dict(fields, interval=_interval, status=status))


def _finish(number: int, state: Dict[str, Any]) -> None:
    """The end of the checker's interval: compare with the fast run's state at this mark,
    record; then go on with the next interval (:func:`_take_next`) or end the process."""
    assert _RUN is not None
    info = _files.read_json(_files.started(_RUN, _interval)) or {}
    try:
        with open(_files.mark_state(_RUN, number), "rb") as f:
            fast = pickle.load(f)
    except (OSError, pickle.UnpicklingError, EOFError) as e:
        _write_result("not checked", reason="the fast run's state at mark %d cannot be read: %s" % (number, e))
        os._exit(0)
    try:
        slow = pickle.loads(_pickled(state))
    except FastSlowError as e:
        _write_result("not checked", reason=str(e))
        os._exit(0)
    found = _compare.first_difference_in(fast, slow, _tolerance)
    if found is None:
        _write_result("ok", functions=info.get("functions", []))
        if _take_next(number):
            return
    else:
        variable, fast_text, slow_text = found
        _write_result("mismatch", variable=variable, fast=fast_text, interpreted=slow_text,
                      functions=info.get("functions", []))
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except Exception:
            pass
    os._exit(0)
