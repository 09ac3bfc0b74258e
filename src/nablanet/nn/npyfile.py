"""Reading ``.npy`` and ``.npz`` files from strangers without trusting them.

``numpy.load`` allocates whatever a file's header claims and inflates a compressed member whole
before anyone can look at its shape: a 3 MB file can ask for 3.6 TiB, or inflate to 3 GB of zeros.
This module reads every header first (magic, dtype, shape, order), refuses object dtypes (they
would need pickle), refuses a claim larger than a limit or than the bytes the file can hold, and
then reads exactly the bytes the header promises into an array of that size, never more: a
compressed member that inflates further is refused after one extra byte.

The limit is :func:`max_array_bytes`: ``NABLANET_MAX_ARRAY_BYTES`` in the environment (bytes, or
with a ``K``/``M``/``G`` suffix), 4 GiB by default. Errors are :class:`ArrayFileError` with a
message that names the file and the member; callers may re-raise them as their own error type.

>>> import io, tempfile, pathlib
>>> path = pathlib.Path(tempfile.mkdtemp()) / "a.npz"
>>> np.savez(path, x=np.arange(6, dtype=np.float32).reshape(2, 3))
>>> with NpzArchive(path) as archive:
...     archive.headers["x"].shape, archive.read("x").sum().item()
((2, 3), 15.0)
"""

from __future__ import annotations

import ast
import math
import os
import struct
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Literal

import numpy as np

from .errors import NablanetError

ENV_LIMIT = "NABLANET_MAX_ARRAY_BYTES"
DEFAULT_MAX_ARRAY_BYTES = 4 * 2**30
MAX_HEADER_BYTES = 1 << 16  # numpy's own writers never need more than a few hundred bytes
_MAGIC = b"\x93NUMPY"
_CHUNK = 1 << 24
# what the zipfile module raises on a damaged archive (a flipped byte in a header field can
# name an unknown compression method or zip version, or break the structure's decoding)
_ZIP_ERRORS = (
    zipfile.BadZipFile,
    zipfile.LargeZipFile,
    EOFError,
    OSError,
    ValueError,
    NotImplementedError,
    OverflowError,
    UnicodeDecodeError,
    struct.error,
    RuntimeError,  # "File ... is encrypted, password required"
)


class ArrayFileError(NablanetError):
    """An ``.npy``/``.npz`` file (or one of its members) that is refused before it is read."""


def _parse_size(text: str) -> int:
    text = text.strip().upper().removesuffix("B").removesuffix("I")
    scale = {"K": 2**10, "M": 2**20, "G": 2**30, "T": 2**40}.get(text[-1:], 1)
    number = text[:-1] if scale != 1 else text
    value = float(number)
    if not math.isfinite(value) or value <= 0:
        raise ValueError(text)
    return int(value * scale)


def max_array_bytes() -> int:
    """The most bytes one file's arrays may claim (``NABLANET_MAX_ARRAY_BYTES``, default 4 GiB)."""
    raw = os.environ.get(ENV_LIMIT)
    if not raw:
        return DEFAULT_MAX_ARRAY_BYTES
    try:
        return _parse_size(raw)
    except (ValueError, IndexError):
        raise NablanetError(
            f"{ENV_LIMIT}={raw!r}: expected a positive size such as 4G, 512M or 1000000"
        ) from None


def format_bytes(n: int | float) -> str:
    """``3.64 TiB``-style sizes for messages."""
    for unit in ("bytes", "KiB", "MiB", "GiB", "TiB", "PiB"):
        if abs(n) < 1024 or unit == "PiB":
            return f"{n:.0f} {unit}" if unit == "bytes" else f"{n:.2f} {unit}"
        n /= 1024
    raise AssertionError("unreachable")  # pragma: no cover


@dataclass(frozen=True)
class NpyHeader:
    """What an ``.npy`` header promises: ``dtype``, ``shape``, ``fortran_order``; ``offset`` is
    where the data starts and ``nbytes`` how many bytes of data follow."""

    dtype: np.dtype
    shape: tuple[int, ...]
    fortran_order: bool
    offset: int

    @property
    def nbytes(self) -> int:
        return math.prod(self.shape) * self.dtype.itemsize


def _read_exactly(f: IO[bytes], n: int, what: str) -> bytes:
    data = f.read(n)
    if len(data) != n:
        raise ArrayFileError(f"{what}: truncated (header cut short)")
    return data


def read_header(f: IO[bytes], what: str) -> NpyHeader:
    """Read and check the header of the ``.npy`` stream ``f`` (positioned at its start)."""
    magic = f.read(8)
    if len(magic) != 8 or magic[:6] != _MAGIC:
        raise ArrayFileError(f"{what}: not a .npy array (bad magic bytes)")
    major = magic[6]
    if major == 1:
        size = int.from_bytes(_read_exactly(f, 2, what), "little")
        start = 10
    elif major in (2, 3):
        size = int.from_bytes(_read_exactly(f, 4, what), "little")
        start = 12
    else:
        raise ArrayFileError(f"{what}: unsupported .npy format version {major}")
    if size > MAX_HEADER_BYTES:
        raise ArrayFileError(f"{what}: .npy header of {size} bytes (at most {MAX_HEADER_BYTES})")
    raw = _read_exactly(f, size, what)
    try:
        text = raw.decode("utf-8" if major == 3 else "latin1")
        doc = ast.literal_eval(text)  # literals only: never runs code
    except (UnicodeDecodeError, ValueError, SyntaxError, MemoryError, RecursionError):
        raise ArrayFileError(f"{what}: corrupt .npy header") from None
    if not isinstance(doc, dict) or set(doc) != {"descr", "fortran_order", "shape"}:
        raise ArrayFileError(f"{what}: corrupt .npy header (keys {sorted(map(str, doc))})")
    shape, fortran = doc["shape"], doc["fortran_order"]
    if not isinstance(fortran, bool):
        raise ArrayFileError(f"{what}: corrupt .npy header (fortran_order {fortran!r})")
    if not isinstance(shape, tuple) or not all(
        isinstance(d, int) and not isinstance(d, bool) and d >= 0 for d in shape
    ):
        raise ArrayFileError(f"{what}: corrupt .npy header (shape {shape!r})")
    if len(shape) > 32:
        raise ArrayFileError(f"{what}: {len(shape)} dimensions (at most 32)")
    try:
        dtype = np.dtype(np.lib.format.descr_to_dtype(doc["descr"]))
    except (TypeError, ValueError, KeyError):
        raise ArrayFileError(f"{what}: unknown dtype {doc['descr']!r}") from None
    if dtype.hasobject:
        raise ArrayFileError(
            f"{what} holds Python objects (dtype {dtype}), refused to load: they would need "
            "pickle; only plain numeric and text arrays are read"
        )
    if dtype.itemsize == 0 and dtype.kind not in "SUV":
        raise ArrayFileError(f"{what}: dtype {dtype} has no size")
    return NpyHeader(dtype, tuple(shape), fortran, start + size)


def _check_size(header: NpyHeader, what: str, limit: int) -> None:
    if header.nbytes > limit:
        raise ArrayFileError(
            f"{what}: its header claims shape {header.shape} of {header.dtype} "
            f"({format_bytes(header.nbytes)}), more than the limit of {format_bytes(limit)} "
            f"(set {ENV_LIMIT} to raise it)"
        )


def read_data(f: IO[bytes], header: NpyHeader, what: str) -> np.ndarray:
    """Read exactly the ``header.nbytes`` bytes of data that follow the header in ``f``.

    The array is allocated at the promised size only, filled in chunks, and a stream that ends
    early or goes on after it is refused.
    """
    nbytes = header.nbytes
    flat = np.empty(nbytes, dtype=np.uint8)
    # ndarray is a buffer; NumPy's stubs declare __buffer__ only for Python >= 3.12
    view = memoryview(flat)  # type: ignore[arg-type]
    done = 0
    while done < nbytes:
        n = f.readinto(view[done : done + _CHUNK]) if hasattr(f, "readinto") else None
        if n is None:  # a stream without readinto
            chunk = f.read(min(_CHUNK, nbytes - done))
            n = len(chunk)
            view[done : done + n] = chunk
        if n == 0:
            raise ArrayFileError(
                f"{what}: truncated (the header promises {nbytes} bytes of data, "
                f"the file holds {done})"
            )
        done += n
    if f.read(1):
        raise ArrayFileError(
            f"{what}: holds more data than its header promises ({nbytes} bytes); refused"
        )
    array = flat.view(header.dtype)
    order: Literal["C", "F"] = "F" if header.fortran_order else "C"
    return array.reshape(header.shape, order=order)


def read_npy(
    path: str | os.PathLike[str], *, mmap: bool = False, limit: int | None = None
) -> np.ndarray:
    """An ``.npy`` file's array, checked as above (``mmap=True`` maps it read-only instead)."""
    path = Path(path)
    limit = max_array_bytes() if limit is None else limit
    what = str(path)
    with path.open("rb") as f:
        header = read_header(f, what)
        size = path.stat().st_size
        if header.offset + header.nbytes > size:
            raise ArrayFileError(
                f"{what}: truncated (its header claims shape {header.shape} of {header.dtype}, "
                f"{format_bytes(header.nbytes)}, the file holds "
                f"{format_bytes(max(size - header.offset, 0))} of data)"
            )
        if mmap:
            if header.nbytes == 0:
                return np.empty(header.shape, dtype=header.dtype)
            return np.memmap(
                path,
                dtype=header.dtype,
                mode="r",
                shape=header.shape,
                order="F" if header.fortran_order else "C",
                offset=header.offset,
            )
        _check_size(header, what, limit)
        return read_data(f, header, what)


class NpzArchive:
    """An ``.npz`` archive whose members' headers are read, and checked, before any data.

    ``headers`` maps each member's name (without ``.npy``) to its :class:`NpyHeader`. The total
    the headers claim must fit ``limit``; a member's size in the zip directory must equal its
    header plus the data it promises; duplicated names and members that are not ``.npy`` are
    refused. :meth:`read` then reads one member, never inflating more than it promised.
    """

    def __init__(self, path: str | os.PathLike[str], *, limit: int | None = None):
        self.path = Path(path)
        self.limit = max_array_bytes() if limit is None else limit
        try:
            self._zip = zipfile.ZipFile(self.path)
        except _ZIP_ERRORS as e:
            raise ArrayFileError(
                f"{self.path}: not a readable .npz file (truncated, corrupt or another format: {e})"
            ) from None
        try:
            self.headers = self._read_headers()
        except BaseException:
            self._zip.close()
            raise

    def _where(self, name: str) -> str:
        return f"{self.path}: array {name!r}"

    def _read_headers(self) -> dict[str, NpyHeader]:
        headers: dict[str, NpyHeader] = {}
        self._infos: dict[str, zipfile.ZipInfo] = {}
        total = 0
        for info in self._zip.infolist():
            name = info.filename
            if not name.endswith(".npy"):
                raise ArrayFileError(f"{self._where(name)}: not an .npy member")
            key = name[: -len(".npy")]
            if key in headers:
                raise ArrayFileError(f"{self._where(key)}: appears twice in the archive")
            what = self._where(key)
            try:
                with self._zip.open(info) as f:
                    header = read_header(f, what)
            except _ZIP_ERRORS as e:
                raise ArrayFileError(f"{what}: unreadable ({e})") from None
            if info.file_size != header.offset + header.nbytes:
                raise ArrayFileError(
                    f"{what}: its header claims shape {header.shape} of {header.dtype} "
                    f"({format_bytes(header.nbytes)}) but the archive says it holds "
                    f"{format_bytes(max(info.file_size - header.offset, 0))}: corrupt or "
                    "crafted"
                )
            _check_size(header, what, self.limit)
            total += header.nbytes
            if total > self.limit:
                raise ArrayFileError(
                    f"{self.path}: its members claim {format_bytes(total)} or more in all, "
                    f"more than the limit of {format_bytes(self.limit)} (set {ENV_LIMIT} to "
                    "raise it)"
                )
            headers[key] = header
            self._infos[key] = info
        return headers

    def read(self, name: str) -> np.ndarray:
        """The member ``name``'s array (``KeyError`` when there is none)."""
        header = self.headers[name]
        what = self._where(name)
        try:
            with self._zip.open(self._infos[name]) as f:
                f.read(header.offset)
                return read_data(f, header, what)
        except _ZIP_ERRORS as e:
            raise ArrayFileError(f"{what}: corrupt ({e})") from None

    def close(self) -> None:
        self._zip.close()

    def __enter__(self) -> NpzArchive:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
