"""A .pyx with C declarations, made Python (internal; doc/fastslow.md lists the subset).

Only used when a module's source is not Python as it is. Line by line, keeping the line
numbers (so tracebacks point at the .pyx):

- ``cdef TYPE name = expr``  ->  ``name = expr``;  ``cdef TYPE a, b``  ->  ``pass``
- ``cdef``/``cpdef`` functions (``cpdef int f(int a, double b=1):``) -> ``def f(a, b=1):``
- C types before the parameters of a ``def``: ``def f(int a, b)`` -> ``def f(a, b)``

Anything else that is not Python (cdef classes, structs, pointers, ``<type>`` casts,
``nogil``, ``with cython.boundscheck``...) stays as it is, and compiling it fails with the
line: the module is then not switched and the interval is "not checked" with that reason.
"""

import re
from typing import List

_TYPE = (r"(?:(?:unsigned|signed|long|short|const)\s+)*"
         r"(?:int|long|short|char|float|double|bint|size_t|Py_ssize_t|object|list|dict|tuple|str|bytes|"
         r"(?:np\.)?u?int(?:8|16|32|64)_t|float(?:32|64)_t)")
_DECLARE = re.compile(r"^(\s*)cdef\s+" + _TYPE + r"\s+(.*?)\s*(#.*)?$")
_FUNCTION = re.compile(r"^(\s*)c?p?def\s+(?:" + _TYPE + r"\s+)?(\w+)\s*\((.*)$")
_PARAM_TYPE = re.compile(r"(^|[(,])(\s*)" + _TYPE + r"\s+(?=[A-Za-z_]\w*\s*(?:[=,):]|$))")
_NAME = re.compile(r"^[A-Za-z_]\w*$")


def _declaration(indent: str, rest: str) -> str:
    """``name = expr`` for one initialised name; ``pass`` for bare names."""
    name, eq, value = rest.partition("=")
    if eq and _NAME.match(name.strip()) and value.strip():
        return "%s%s = %s" % (indent, name.strip(), value.strip())
    if not eq and all(_NAME.match(part.strip()) for part in rest.split(",")):
        return indent + "pass"
    return ""


def to_python(source: str) -> str:
    """The .pyx ``source`` with the C declarations above turned into Python."""
    out: List[str] = []
    for line in source.split("\n"):
        declared = _DECLARE.match(line)
        if declared and not line.lstrip().startswith(("cdef class", "cdef struct", "cdef extern")):
            replaced = _declaration(declared.group(1), declared.group(2))
            if replaced:
                out.append(replaced)
                continue
        function = _FUNCTION.match(line)
        if function and line.lstrip().startswith(("def ", "cdef ", "cpdef ")):
            params = _PARAM_TYPE.sub(r"\1\2", function.group(3))
            line = "%sdef %s(%s" % (function.group(1), function.group(2), params)
            line = re.sub(r"\)\s*(?:except\s+[^:]+|nogil)\s*:", "):", line)
        out.append(line)
    return "\n".join(out)
