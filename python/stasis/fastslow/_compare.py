"""Comparing the fast run's state at a mark with the checker's (internal)."""

import math
from typing import Any, Dict, Optional, Tuple

Difference = Tuple[str, str, str]
"""(variable, fast value, interpreted value), values as repr() text."""

_LIMIT = 200


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= _LIMIT else text[:_LIMIT] + "..."


def _numbers_differ(a: Any, b: Any, tolerance: float) -> bool:
    if isinstance(a, bool) or isinstance(b, bool) or tolerance <= 0:
        return bool(a != b)
    if isinstance(a, complex) or isinstance(b, complex):
        return abs(complex(a) - complex(b)) > tolerance * max(1.0, abs(complex(a)), abs(complex(b)))
    fa, fb = float(a), float(b)
    if math.isnan(fa) or math.isnan(fb):
        return not (math.isnan(fa) and math.isnan(fb))
    return not math.isclose(fa, fb, rel_tol=tolerance, abs_tol=tolerance)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float, complex))


def first_difference(name: str, fast: Any, slow: Any, tolerance: float) -> Optional[Difference]:
    """The first place where ``slow`` differs from ``fast`` (None if they agree):
    numbers within ``tolerance`` (relative, or absolute near zero; 0 = exact), lists,
    tuples and dicts element by element (the variable named like ``x[3]``), anything
    else with ``==``."""
    if _is_number(fast) and _is_number(slow):
        return (name, _show(fast), _show(slow)) if _numbers_differ(fast, slow, tolerance) else None
    if isinstance(fast, (list, tuple)) and type(fast) is type(slow):
        if len(fast) != len(slow):
            return ("len(%s)" % name, str(len(fast)), str(len(slow)))
        for i, (a, b) in enumerate(zip(fast, slow)):
            found = first_difference("%s[%d]" % (name, i), a, b, tolerance)
            if found:
                return found
        return None
    if isinstance(fast, dict) and isinstance(slow, dict):
        return compare_states(fast, slow, tolerance, prefix=name)
    try:
        same = fast == slow
        equal = bool(same) if isinstance(same, bool) else bool(getattr(same, "all", lambda: same)())
    except Exception:                       # an == that cannot answer: compare the texts
        equal = _show(fast) == _show(slow)
    return None if equal else (name, _show(fast), _show(slow))


def compare_states(fast: Dict[Any, Any], slow: Dict[Any, Any], tolerance: float,
                   prefix: str = "") -> Optional[Difference]:
    """The first variable of ``fast`` (in the order the program gave them) whose value
    differs in ``slow``; a variable missing on one side is a difference."""
    def key_name(key: Any) -> str:
        return "%s[%r]" % (prefix, key) if prefix else str(key)
    for key, value in fast.items():
        if key not in slow:
            return (key_name(key), _show(value), "(missing)")
        found = first_difference(key_name(key), value, slow[key], tolerance)
        if found:
            return found
    for key, value in slow.items():
        if key not in fast:
            return (key_name(key), "(missing)", _show(value))
    return None


def first_difference_in(fast: Any, slow: Any, tolerance: float) -> Optional[Difference]:
    """Two recorded states (dicts of the variables given to mark())."""
    if isinstance(fast, dict) and isinstance(slow, dict):
        return compare_states(fast, slow, tolerance)
    return first_difference("state", fast, slow, tolerance)
