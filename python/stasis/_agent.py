"""The in-process agent, seen through ctypes (internal).

The agent (libstasis-agent.so, preloaded by ``stasis launch``) exports a few C
functions; they are looked up in the process's global symbol scope
(``ctypes.CDLL(None)``, i.e. ``dlsym(RTLD_DEFAULT, ...)``). Without the agent every
lookup fails and :data:`AGENT` is ``None``.
"""

import ctypes
from typing import Any, Optional

BEFORE_HOOK = ctypes.CFUNCTYPE(None)
AFTER_HOOK = ctypes.CFUNCTYPE(None, ctypes.c_int)
NO_BEFORE_HOOK = ctypes.cast(0, BEFORE_HOOK)     # NULL: no callback
NO_AFTER_HOOK = ctypes.cast(0, AFTER_HOOK)


class Agent:
    """The exported functions of a loaded agent."""

    def __init__(self, lib: ctypes.CDLL) -> None:
        self.checkpoint = lib.stasis_checkpoint
        self.checkpoint.restype = ctypes.c_int
        self.checkpoint.argtypes = []
        self.restart_count = lib.stasis_restart_count
        self.restart_count.restype = ctypes.c_int
        self.restart_count.argtypes = []
        self.active = lib.stasis_agent_active
        self.active.restype = ctypes.c_int
        self.active.argtypes = []
        # newer agents only: id of the last checkpoint, program hooks, nowait checkpoint
        self.checkpoint_nowait: Optional[Any] = getattr(lib, "stasis_checkpoint_nowait", None)
        if self.checkpoint_nowait is not None:
            self.checkpoint_nowait.restype = ctypes.c_int
            self.checkpoint_nowait.argtypes = []
        self.last_id: Optional[Any] = getattr(lib, "stasis_last_checkpoint_id", None)
        if self.last_id is not None:
            self.last_id.restype = ctypes.c_char_p
            self.last_id.argtypes = []
        self.set_hooks: Optional[Any] = getattr(lib, "stasis_set_hooks", None)
        if self.set_hooks is not None:
            self.set_hooks.restype = ctypes.c_int
            self.set_hooks.argtypes = [BEFORE_HOOK, AFTER_HOOK]

    def checkpoint_id(self) -> Optional[str]:
        """The id of the last checkpoint this process took part in, or None."""
        if self.last_id is None:
            return None
        raw = self.last_id()
        return bytes(raw).decode("utf-8", "replace") if raw else None


def _load() -> Optional[Agent]:
    try:
        lib = ctypes.CDLL(None)
        lib.stasis_checkpoint  # noqa: B018 - raises AttributeError without agent
        lib.stasis_agent_active  # noqa: B018
        lib.stasis_restart_count  # noqa: B018
    except (OSError, AttributeError):
        return None
    return Agent(lib)


AGENT = _load()
