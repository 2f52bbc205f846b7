"""Switching a restarted process from Cython-compiled functions to interpreted ones
(internal; doc/fastslow.md says exactly what is switched).

A compiled module is an extension module (``mod.so``) with its source next to it
(``mod.pyx`` or ``mod.py``). Its source (a .pyx's simple C declarations made Python
first, see :mod:`._pyx`) is compiled by Python into a fresh namespace
(the module's current data globals copied in), and every function defined there
replaces the compiled function of the same name: in the compiled module, and in the
globals of every loaded module that refers to the compiled function (``from mod
import f``). Classes, methods, and calls that compiled code makes to compiled code are
not switched.
"""

import importlib.machinery
import os
import sys
import types
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional


@dataclass
class Switched:
    """What :func:`switch_all` did: the modules and functions now interpreted, and the
    compiled modules it could not switch with the reason."""
    modules: List[str] = field(default_factory=list)
    functions: List[str] = field(default_factory=list)
    refused: List[str] = field(default_factory=list)


def _source_of(module: types.ModuleType) -> Optional[str]:
    """The .pyx or .py source next to an extension module, or None."""
    filename = getattr(module, "__file__", None)
    if not isinstance(filename, str):
        return None
    if not any(filename.endswith(s) for s in importlib.machinery.EXTENSION_SUFFIXES):
        return None
    base = os.path.join(os.path.dirname(filename), module.__name__.rpartition(".")[2])
    for suffix in (".pyx", ".py"):
        if os.path.isfile(base + suffix):
            return base + suffix
    return None


def _compiled_by_cython(module: types.ModuleType) -> bool:
    """Cython modules carry ``__test__`` or cython functions; other extension modules
    with a .py twin (a C accelerator of the standard library) are left alone."""
    if "__pyx_capi__" in vars(module) or "__test__" in vars(module):
        return True
    return any(type(v).__name__ == "cython_function_or_method" for v in vars(module).values())


def _interpreted_namespace(module: types.ModuleType, source: str) -> Dict[str, Any]:
    with open(source, "rb") as f:
        text = f.read().decode("utf-8")
    try:
        code = compile(text, source, "exec", dont_inherit=True)
    except SyntaxError:
        if not source.endswith(".pyx"):
            raise
        from ._pyx import to_python          # C declarations (cdef int x = ...) made Python
        code = compile(to_python(text), source, "exec", dont_inherit=True)
    namespace: Dict[str, Any] = {"__name__": module.__name__, "__file__": source,
                                 "__builtins__": __builtins__, "__package__": module.__package__}
    exec(code, namespace)
    return namespace


def _is_own_function(value: Any, namespace: Dict[str, Any]) -> bool:
    return isinstance(value, types.FunctionType) and value.__globals__ is namespace


def switch_module(module: types.ModuleType, source: str, done: Switched) -> None:
    """Re-binds ``module``'s functions to interpreted versions compiled from ``source``."""
    try:
        namespace = _interpreted_namespace(module, source)
    except SyntaxError as e:
        done.refused.append("%s: %s is not Python (line %s: %s); write it in Cython's pure-Python "
                            "syntax or with only the C declarations doc/fastslow.md lists" % (module.__name__, source, e.lineno, e.msg))
        return
    except Exception as e:
        done.refused.append("%s: running %s failed: %s: %s" % (module.__name__, source, type(e).__name__, e))
        return
    replaced: Dict[int, Any] = {}
    for name, value in list(namespace.items()):
        if _is_own_function(value, namespace):
            old = getattr(module, name, None)
            if old is not None and callable(old) and not isinstance(old, (type, types.FunctionType)):
                replaced[id(old)] = value
                setattr(module, name, value)
                done.functions.append("%s.%s" % (module.__name__, name))
        elif not name.startswith("__") and name in vars(module) and not callable(value):
            namespace[name] = getattr(module, name)   # the data as it is now, not as initialised
    if replaced:
        _rebind_references(replaced)
        done.modules.append(module.__name__)
    else:
        done.refused.append("%s: no function of %s replaces a compiled one" % (module.__name__, source))


def _rebind_references(replaced: Dict[int, Any]) -> None:
    """``from mod import f`` copies made before the switch point at the new functions."""
    for other in list(sys.modules.values()):
        names = getattr(other, "__dict__", None)
        if not isinstance(names, dict):
            continue
        for name, value in list(names.items()):
            new = replaced.get(id(value))
            if new is not None:
                names[name] = new


def switch_all() -> Switched:
    """Switches every loaded Cython-compiled module whose source is next to it."""
    done = Switched()
    for module in list(sys.modules.values()):
        source = _source_of(module)
        if source is not None and _compiled_by_cython(module):
            switch_module(module, source, done)
    return done
