# The accumulator is a C int: `acc = cython.declare(cython.int, ...)` is Cython's
# pure-Python spelling of `cdef int acc = ...` (a bare `cdef` line is not Python, and
# stasis fastslow runs this very source interpreted to check the compiled module).
# Compiled, acc wraps around past 2**31-1; interpreted, it is a Python int that grows.
import cython


def chunk(acc0, step, n):
    """acc0 + step * n, added one step at a time in a C int."""
    acc = cython.declare(cython.int, acc0)
    s = cython.declare(cython.int, step)
    j = cython.declare(cython.int)
    for j in range(n):
        acc += s
    return acc
