"""A minimal PEP 517 build backend for the stasis package (used by pyproject.toml).

It needs nothing but the standard library, so ``pip install native/python`` works
offline, even where setuptools has no ``wheel`` package. It is loaded by pip as a
top-level module (``backend-path = ["stasis"]``) and never by the package itself.
"""

import base64
import hashlib
import io
import os
import re
import tarfile
import zipfile

NAME = "stasis"
HERE = os.path.dirname(os.path.abspath(__file__))          # .../native/python/stasis
ROOT = os.path.dirname(HERE)                               # .../native/python
SUMMARY = "Checkpoint and restart Python programs from inside, under Stasis"


def _version():
    with open(os.path.join(HERE, "__init__.py"), encoding="utf-8") as f:
        return re.search(r'^__version__ = "([^"]+)"', f.read(), re.M).group(1)


def _sources():
    """(archive name, path) of the package's files, sorted."""
    found = []
    for name in sorted(os.listdir(HERE)):
        if name.endswith(".py"):
            found.append((NAME + "/" + name, os.path.join(HERE, name)))
    return found


def _metadata(version):
    return ("Metadata-Version: 2.1\nName: %s\nVersion: %s\nSummary: %s\nRequires-Python: >=3.8\n"
            "Classifier: Operating System :: POSIX :: Linux\n\n"
            "Importable anywhere; does something only under `stasis launch`. See doc/python.md.\n"
            % (NAME, version, SUMMARY))


def get_requires_for_build_wheel(config_settings=None):
    return []


def get_requires_for_build_sdist(config_settings=None):
    return []


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    version = _version()
    info = "%s-%s.dist-info" % (NAME, version)
    filename = "%s-%s-py3-none-any.whl" % (NAME, version)
    files = [(arc, open(path, "rb").read()) for arc, path in _sources()]
    files.append((info + "/METADATA", _metadata(version).encode()))
    files.append((info + "/WHEEL", b"Wheel-Version: 1.0\nGenerator: stasis._wheel\n"
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


def build_sdist(sdist_directory, config_settings=None):
    version = _version()
    base = "%s-%s" % (NAME, version)
    filename = base + ".tar.gz"
    with tarfile.open(os.path.join(sdist_directory, filename), "w:gz") as tar:
        tar.add(os.path.join(ROOT, "pyproject.toml"), base + "/pyproject.toml")
        for arc, path in _sources():
            tar.add(path, base + "/" + arc)
        data = _metadata(version).encode()
        entry = tarfile.TarInfo(base + "/PKG-INFO")
        entry.size = len(data)
        tar.addfile(entry, io.BytesIO(data))
    return filename
