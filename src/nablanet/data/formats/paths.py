"""The path of an input file, checked before any reader opens it.

>>> import tempfile, pathlib
>>> folder = pathlib.Path(tempfile.mkdtemp())
>>> existing_file(folder, "CSV")
Traceback (most recent call last):
    ...
nablanet.data.errors.DataError: ...: expected a CSV file, found a folder
"""

from __future__ import annotations

import os
from pathlib import Path

from ..errors import DataError

__all__ = ["existing_file"]


def existing_file(path: str | os.PathLike[str], what: str) -> Path:
    """``path`` (``~`` expanded) when it names an existing file, else a :class:`DataError`
    naming it and ``what`` was expected."""
    path = Path(path).expanduser()
    if not path.exists():
        raise DataError(f"{path}: {what} file not found")
    if not path.is_file():
        raise DataError(f"{path}: expected a {what} file, found a folder")
    return path
