"""Reading and writing the IDX format of MNIST and Fashion-MNIST.

An IDX file is a 4-byte magic number ``00 00 TT DD`` (``TT`` the element type, ``DD`` the number
of dimensions), ``DD`` big-endian ``uint32`` sizes, then the elements in C order, big-endian. The
files are usually gzip-compressed; the reader recognises gzip by its first bytes, not by the name.

>>> import numpy as np
>>> data = idx_bytes(np.arange(6, dtype=np.uint8).reshape(2, 3))
>>> data[:4].hex(), len(data)
('00000802', 18)
>>> parse_idx(data).tolist()
[[0, 1, 2], [3, 4, 5]]
"""

from __future__ import annotations

import gzip
import hashlib
import math
import os
import struct
import zlib
from pathlib import Path

import numpy as np

from .errors import DataError

#: IDX element-type byte -> dtype as stored (big-endian)
IDX_DTYPES: dict[int, np.dtype] = {
    0x08: np.dtype(np.uint8),
    0x09: np.dtype(np.int8),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
_CODES = {dt.newbyteorder("="): code for code, dt in IDX_DTYPES.items()}

GZIP_MAGIC = b"\x1f\x8b"


def decompress_if_gzip(data: bytes, source: str = "<bytes>") -> bytes:
    """``data`` decompressed when it starts with the gzip magic bytes, else unchanged."""
    if not data.startswith(GZIP_MAGIC):
        return data
    try:
        return gzip.decompress(data)
    except (EOFError, OSError, zlib.error) as err:
        raise DataError(f"{source}: corrupt or truncated gzip data ({err})") from None


def md5_hex(data: bytes) -> str:
    """MD5 of ``data`` as 32 hex digits (an integrity check, not a security measure)."""
    return hashlib.md5(data, usedforsecurity=False).hexdigest()


def parse_idx(data: bytes, source: str = "<bytes>") -> np.ndarray:
    """Decode the bytes of an (uncompressed) IDX file.

    Parameters
    ----------
    data : bytes
        The whole file.
    source : str
        Name used in error messages (the file's path).

    Returns
    -------
    ndarray
        A writable native-endian array with the shape from the header, e.g. ``(60000, 28, 28)``
        ``uint8`` for MNIST's training images, ``(60000,)`` for its labels.

    Raises
    ------
    DataError
        For a file shorter than its header, a wrong magic number, an unknown element type, or
        data that is shorter (truncated) or longer than the header's shape says.
    """
    if len(data) < 4:
        raise DataError(
            f"{source}: not an IDX file: {len(data)} bytes, the magic number alone needs 4"
        )
    if data[0] != 0 or data[1] != 0:
        raise DataError(
            f"{source}: not an IDX file: magic number 0x{data[:4].hex()} does not start with 0x0000"
        )
    code, ndim = data[2], data[3]
    if code not in IDX_DTYPES:
        known = ", ".join(f"0x{c:02x}" for c in IDX_DTYPES)
        raise DataError(
            f"{source}: unknown IDX element type 0x{code:02x} in magic number "
            f"0x{data[:4].hex()} (known: {known})"
        )
    if ndim == 0:
        raise DataError(f"{source}: IDX magic number 0x{data[:4].hex()} declares 0 dimensions")
    header = 4 + 4 * ndim
    if len(data) < header:
        raise DataError(
            f"{source}: truncated IDX header: {ndim} dimensions need {header} bytes, the file "
            f"has {len(data)}"
        )
    shape = struct.unpack(f">{ndim}I", data[4:header])
    dtype = IDX_DTYPES[code]
    count = math.prod(shape)
    expected, found = count * dtype.itemsize, len(data) - header
    if found != expected:
        what = "truncated IDX data" if found < expected else "trailing bytes after IDX data"
        raise DataError(
            f"{source}: {what}: shape {shape} of {dtype.newbyteorder('=').name} needs "
            f"{expected} bytes, found {found}"
        )
    flat = np.frombuffer(data, dtype=dtype, count=count, offset=header)
    return flat.astype(dtype.newbyteorder("="), copy=True).reshape(shape)


def read_idx_bytes(path: str | os.PathLike[str], expected_md5: str | None = None) -> bytes:
    """The decompressed content of an IDX file (plain or gzip), checked against
    ``expected_md5`` (the MD5 of the decompressed content) when given."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise DataError(f"{path}: file not found") from None
    except OSError as err:
        raise DataError(f"{path}: cannot read ({err.strerror or err})") from None
    data = decompress_if_gzip(raw, str(path))
    if expected_md5 is not None:
        actual = md5_hex(data)
        if actual != expected_md5.lower():
            raise DataError(
                f"{path}: MD5 of the decompressed content is {actual}, expected {expected_md5} "
                "(corrupted or a different file); delete it to download it again"
            )
    return data


def read_idx(path: str | os.PathLike[str], expected_md5: str | None = None) -> np.ndarray:
    """Read an IDX file (plain or gzip-compressed).

    Parameters
    ----------
    path : str or path-like
    expected_md5 : str, optional
        MD5 of the decompressed content; a mismatch raises :class:`DataError`.

    Returns
    -------
    ndarray
        See :func:`parse_idx`.
    """
    return parse_idx(read_idx_bytes(path, expected_md5), str(path))


def idx_bytes(array: np.ndarray) -> bytes:
    """Encode ``array`` (uint8, int8, int16, int32, float32 or float64) as IDX bytes."""
    array = np.asarray(array)
    native = array.dtype.newbyteorder("=")
    if native not in _CODES:
        names = ", ".join(sorted(dt.name for dt in _CODES))
        raise DataError(f"IDX cannot store dtype {array.dtype} (supported: {names})")
    if array.ndim == 0 or array.ndim > 255:
        raise DataError(f"IDX needs 1 to 255 dimensions, got array of shape {array.shape}")
    code = _CODES[native]
    header = struct.pack(f">4B{array.ndim}I", 0, 0, code, array.ndim, *array.shape)
    return header + np.ascontiguousarray(array, dtype=IDX_DTYPES[code]).tobytes()


def write_idx(
    path: str | os.PathLike[str], array: np.ndarray, compress: bool | None = None
) -> Path:
    """Write ``array`` as an IDX file, gzip-compressed when ``compress`` is True or, by default,
    when the name ends in ``.gz``. Returns the path."""
    path = Path(path)
    data = idx_bytes(array)
    if compress if compress is not None else path.suffix == ".gz":
        data = gzip.compress(data, mtime=0)
    path.write_bytes(data)
    return path
