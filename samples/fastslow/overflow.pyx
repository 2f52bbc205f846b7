# The accumulator is a C int (`cdef int`): compiled, it wraps around past 2**31-1;
# interpreted (stasis fastslow runs this source as Python, its `cdef` declarations
# made plain assignments), it is a Python int that grows.


def chunk(int acc0, int step, int n):
    """acc0 + step * n, added one step at a time in a C int."""
    cdef int acc = acc0
    cdef int j
    for j in range(n):
        acc += step
    return acc
