# The correct twin of overflow.pyx: the accumulator is a 64-bit C integer, so the
# compiled module agrees with its source. Written in Cython's pure-Python syntax
# (`cython.declare(cython.longlong, ...)` is `cdef long long`): this source is Python
# as it is.
import cython


def chunk(acc0, step, n):
    """acc0 + step * n, added one step at a time in a C long long."""
    acc = cython.declare(cython.longlong, acc0)
    s = cython.declare(cython.longlong, step)
    j = cython.declare(cython.longlong)
    for j in range(n):
        acc += s
    return acc
