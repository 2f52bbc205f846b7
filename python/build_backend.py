"""A minimal PEP 517 build backend for the stasis package (used by pyproject.toml).

It needs nothing but the standard library, so ``pip install python`` works
offline, even where setuptools has no ``wheel`` package. It lives beside the package,
not in it (``backend-path = ["."]``): pip loads it, the installed package never has it.
The version is the package's ``__version__`` (the one place it is written).
"""

import base64
import hashlib
import io
import os
import re
import tarfile
import zipfile
from typing import Any, Dict, List, Optional, Tuple

NAME = "stasis"
ROOT = os.path.dirname(os.path.abspath(__file__))          # .../python
HERE = os.path.join(ROOT, NAME)                            # .../python/stasis
SUMMARY = "Checkpoint and restart Python programs from inside, under Stasis"


def _version() -> str:
    with open(os.path.join(HERE, "__init__.py"), encoding="utf-8") as f:
        found = re.search(r'^__version__ = "([^"]+)"', f.read(), re.M)
    if found is None:
        raise RuntimeError("stasis/__init__.py has no __version__ line")
    return found.group(1)


def _sources() -> List[Tuple[str, str]]:
    """(archive name, path) of the package's files (every subpackage, the py.typed
    marker), sorted."""
    found = []
    for directory, subdirs, names in os.walk(HERE):
        subdirs[:] = sorted(d for d in subdirs if d != "__pycache__")
        for name in sorted(names):
            if name.endswith(".py") or name == "py.typed":
                path = os.path.join(directory, name)
                found.append((NAME + "/" + os.path.relpath(path, HERE).replace(os.sep, "/"), path))
    return sorted(found)


def _metadata(version: str) -> str:
    return ("Metadata-Version: 2.1\nName: %s\nVersion: %s\nSummary: %s\nRequires-Python: >=3.8\n"
            "Classifier: Operating System :: POSIX :: Linux\n\n"
            "Importable anywhere; does something only under `stasis launch`. See doc/python.md.\n"
            % (NAME, version, SUMMARY))


def get_requires_for_build_wheel(config_settings: Optional[Dict[str, Any]] = None) -> List[str]:
    return []


def get_requires_for_build_sdist(config_settings: Optional[Dict[str, Any]] = None) -> List[str]:
    return []


def build_wheel(wheel_directory: str, config_settings: Optional[Dict[str, Any]] = None,
                metadata_directory: Optional[str] = None) -> str:
    version = _version()
    info = "%s-%s.dist-info" % (NAME, version)
    filename = "%s-%s-py3-none-any.whl" % (NAME, version)
    files = []
    for arc, path in _sources():
        with open(path, "rb") as f:
            files.append((arc, f.read()))
    files.append((info + "/METADATA", _metadata(version).encode()))
    files.append((info + "/WHEEL", b"Wheel-Version: 1.0\nGenerator: stasis build_backend\n"
                  b"Root-Is-Purelib: true\nTag: py3-none-any\n"))
    files.append((info + "/top_level.txt", (NAME + "\n").encode()))
    record = []
    for arc, data in files:
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        record.append("%s,sha256=%s,%d" % (arc, digest, len(data)))
    record.append(info + "/RECORD,,")
    files.append((info + "/RECORD", ("\n".join(record) + "\n").encode()))
    with zipfile.ZipFile(os.path.join(wheel_directory, filename), "w", zipfile.ZIP_DEFLATED) as whl:
        for arc, data in files:
            entry = zipfile.ZipInfo(arc, date_time=(1980, 1, 1, 0, 0, 0))
            entry.external_attr = 0o644 << 16
            whl.writestr(entry, data, zipfile.ZIP_DEFLATED)
    return filename


def build_sdist(sdist_directory: str, config_settings: Optional[Dict[str, Any]] = None) -> str:
    version = _version()
    base = "%s-%s" % (NAME, version)
    filename = base + ".tar.gz"
    with tarfile.open(os.path.join(sdist_directory, filename), "w:gz") as tar:
        tar.add(os.path.join(ROOT, "pyproject.toml"), base + "/pyproject.toml")
        tar.add(os.path.abspath(__file__), base + "/build_backend.py")
        for arc, path in _sources():
            tar.add(path, base + "/" + arc)
        data = _metadata(version).encode()
        entry = tarfile.TarInfo(base + "/PKG-INFO")
        entry.size = len(data)
        tar.addfile(entry, io.BytesIO(data))
    return filename
