"""Where the next checker starts (internal).

A checker restarted at interval k checks k, then goes on to k+1, k+2, ... as long as
nobody else took the next one: one restart can check many intervals. A new checker
therefore starts at the beginning of a run of intervals nobody has taken yet if no
checker is working right before that run, else halfway into it (the checker before
it takes the first half on its own): the runs are split in two until every slot is
busy, and restarts stay few. Once no more marks will come, a single interval right
after a busy checker is started too: that checker may not go on into it (a mismatch
ends it) and would leave the slot idle until then; if it could, it finds the interval
taken and ends, having lost nothing.
"""

from typing import Callable, Iterable, List, Optional, Tuple


def runs(free: Iterable[int]) -> List[Tuple[int, int]]:
    """The runs of consecutive numbers in ``free``: [(first, last), ...]."""
    found: List[Tuple[int, int]] = []
    for n in sorted(free):
        if found and found[-1][1] == n - 1:
            found[-1] = (found[-1][0], n)
        else:
            found.append((n, n))
    return found


def next_start(free: Iterable[int], busy_before: Callable[[int], bool],
               startable: Callable[[int], bool], final: bool = False) -> Optional[int]:
    """The interval a new checker should start at, or None.

    ``free``: the intervals nobody took; ``busy_before(n)``: a running checker works on
    interval n-1 (and may go on into n); ``startable(n)``: the checkpoint at the start
    of interval n is published; ``final``: no more intervals will come (the fast run
    ended). Prefers the start that leaves the new checker the longest stretch of work."""
    best: Optional[Tuple[int, int]] = None          # (its stretch, -start)
    for first, last in runs(free):
        start = first + (last - first + 2) // 2 if busy_before(first) else first
        if start > last and final:
            start = first
        while start <= last and not startable(start):
            start += 1
        if start > last:
            continue
        key = (last - start + 1, -start)
        if best is None or key > best:
            best = key
    return None if best is None else -best[1]
