r"""What a file from a stranger may cost: limits on images and text tables read as input.

Arrays (``.npy``/``.npz``) are checked by :mod:`nablanet.nn.npyfile` (every header before its
data, ``NABLANET_MAX_ARRAY_BYTES``). This module does the same for the two other kinds of input:

- images: Pillow's decompression-bomb check (an image whose header claims more pixels than
  ``NABLANET_MAX_IMAGE_PIXELS``, 50 million by default), turned into our one-line error;
- CSV files: a file larger than ``NABLANET_MAX_CSV_BYTES`` (1 GiB by default) or with a line
  longer than ``NABLANET_MAX_CSV_LINE_BYTES`` (1 MiB) is refused before it is parsed, so no
  single line is ever held whole in memory.

Each limit is read from the environment when it is used, so a server can set it once.

>>> import pathlib, tempfile
>>> path = pathlib.Path(tempfile.mkdtemp()) / "t.csv"
>>> _ = path.write_text("a,y\n1,0\n2,1\n")
>>> check_text_file(path)  # the number of lines
3
"""

from __future__ import annotations

import contextlib
import os
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ..nn.npyfile import ENV_LIMIT, format_bytes, max_array_bytes
from .errors import DataError

__all__ = [
    "ENV_LIMIT",
    "check_text_file",
    "max_array_bytes",
    "max_csv_bytes",
    "max_csv_line_bytes",
    "max_image_pixels",
    "open_image",
]

ENV_IMAGE_PIXELS = "NABLANET_MAX_IMAGE_PIXELS"
ENV_CSV_BYTES = "NABLANET_MAX_CSV_BYTES"
ENV_CSV_LINE_BYTES = "NABLANET_MAX_CSV_LINE_BYTES"
DEFAULT_MAX_IMAGE_PIXELS = 50_000_000
DEFAULT_MAX_CSV_BYTES = 2**30
DEFAULT_MAX_CSV_LINE_BYTES = 2**20


def _positive_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if not raw:
        return default
    try:
        value = int(float(raw))
    except ValueError:
        value = 0
    if value <= 0:
        raise DataError(f"{name}={raw!r}: expected a positive whole number")
    return value


def max_image_pixels() -> int:
    """The most pixels an image file may claim (``NABLANET_MAX_IMAGE_PIXELS``)."""
    return _positive_int(ENV_IMAGE_PIXELS, DEFAULT_MAX_IMAGE_PIXELS)


def max_csv_bytes() -> int:
    """The largest CSV file read (``NABLANET_MAX_CSV_BYTES``, default 1 GiB)."""
    return _positive_int(ENV_CSV_BYTES, DEFAULT_MAX_CSV_BYTES)


def max_csv_line_bytes() -> int:
    """The longest line a CSV file may have (``NABLANET_MAX_CSV_LINE_BYTES``, default 1 MiB)."""
    return _positive_int(ENV_CSV_LINE_BYTES, DEFAULT_MAX_CSV_LINE_BYTES)


@contextlib.contextmanager
def open_image(path: str | os.PathLike[str], error: type[Exception] = DataError) -> Iterator[Any]:
    """``PIL.Image.open`` with the pixel limit enforced (a bomb raises ``error``, one line).

    Pillow only warns between its limit and twice its limit; here anything past the limit is
    refused, before the pixels are decoded.
    """
    from PIL import Image

    path = Path(path)
    limit = max_image_pixels()
    previous = Image.MAX_IMAGE_PIXELS
    Image.MAX_IMAGE_PIXELS = limit
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            try:
                img = Image.open(path)
            except (Image.DecompressionBombWarning, Image.DecompressionBombError):
                raise error(
                    f"{path.name}: the image claims more than {limit} pixels (a decompression "
                    f"bomb?); refused (set {ENV_IMAGE_PIXELS} to raise the limit)"
                ) from None
            with img:
                width, height = img.size
                if width * height > limit:
                    raise error(
                        f"{path.name}: the image is {width} x {height} pixels, more than "
                        f"{limit}; refused (set {ENV_IMAGE_PIXELS} to raise the limit)"
                    )
                yield img
    finally:
        Image.MAX_IMAGE_PIXELS = previous


def check_text_file(path: str | os.PathLike[str], error: type[Exception] = DataError) -> int:
    """Refuse a text table that is too large or has a line too long; returns its line count.

    Reads the file once in bounded pieces (never a whole line past the limit).
    """
    path = Path(path)
    size = path.stat().st_size
    limit = max_csv_bytes()
    if size > limit:
        raise error(
            f"{path}: {format_bytes(size)}, more than the {format_bytes(limit)} a CSV file may "
            f"take (set {ENV_CSV_BYTES} to raise the limit)"
        )
    line_limit = max_csv_line_bytes()
    lines = 0
    with path.open("rb") as f:
        while True:
            line = f.readline(line_limit + 1)
            if not line:
                break
            lines += 1
            if len(line) > line_limit and not (len(line) == line_limit + 1 and line[-1:] == b"\n"):
                raise error(
                    f"{path}: line {lines} is longer than {format_bytes(line_limit)}; refused "
                    f"(set {ENV_CSV_LINE_BYTES} to raise the limit)"
                )
    return lines
