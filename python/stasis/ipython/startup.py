# Run by IPython at start (PYTHONSTARTUP) under `stasis launch`: loads the stasis
# extension (%checkpoint, %sessions, %restore, %stasis), then the user's own
# PYTHONSTARTUP file if there was one (bin/stasis keeps it in STASIS_USER_PYTHONSTARTUP).
# Nothing is written into the user's IPython profile. In a plain python3 REPL it only
# runs the user's file. It leaves no name behind in the user's namespace.


def _stasis_startup() -> None:
    import os
    try:
        shell = get_ipython()  # type: ignore[name-defined]  # noqa: F821  (IPython's builtin)
    except NameError:
        return
    if shell is None or os.environ.get("STASIS_IPYTHON", "1") == "0":
        return
    try:
        shell.extension_manager.load_extension("stasis")
    except Exception as e:  # never stop IPython from starting
        print("stasis: the IPython extension did not load: %s" % e)


def _stasis_user_startup() -> str:
    import os
    return os.environ.get("STASIS_USER_PYTHONSTARTUP", "")


_stasis_startup()
if _stasis_user_startup():
    with open(_stasis_user_startup()) as _stasis_file:
        exec(compile(_stasis_file.read(), _stasis_user_startup(), "exec"))
    del _stasis_file
del _stasis_startup, _stasis_user_startup
