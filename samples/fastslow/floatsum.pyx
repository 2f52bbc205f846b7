# A float computation whose compiled and interpreted versions agree only within a
# tolerance: compiled, the partial sum is a C float (single precision, `cdef float`);
# interpreted, a Python float (double precision).
import cython


def chunk(total0, start, n):
    """total0 + sum of 1/k**2 for k in start+1 .. start+n."""
    total = cython.declare(cython.float, total0)
    k = cython.declare(cython.double)
    j = cython.declare(cython.int)
    for j in range(start, start + n):
        k = j + 1.0
        total += 1.0 / (k * k)
    return total
