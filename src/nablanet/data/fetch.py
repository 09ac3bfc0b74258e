"""Downloading dataset files into the cache, safely.

A file is streamed to a hidden temporary name next to its destination, with a progress bar; only
when it is complete (as many bytes as the server announced) and its content matches the expected
MD5 is it renamed into place. Any failure removes the temporary file, so the cache never holds a
half-written or corrupted file.

>>> str(resolve_data_dir("/tmp/datasets"))
'/tmp/datasets'
"""

from __future__ import annotations

import http.client
import os
import tempfile
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from .._version import __version__
from .errors import DataError
from .idx import decompress_if_gzip, md5_hex

#: environment variable naming the data directory
DATA_ENV = "NABLANET_DATA"

_CHUNK = 1 << 16


def default_data_dir() -> Path:
    """``$NABLANET_DATA`` when set, else ``~/.cache/nablanet``."""
    env = os.environ.get(DATA_ENV, "").strip()
    if env:
        return Path(env).expanduser()
    return Path.home() / ".cache" / "nablanet"


def resolve_data_dir(data_dir: str | os.PathLike[str] | None) -> Path:
    """``data_dir`` as a path, or :func:`default_data_dir` when it is None."""
    return default_data_dir() if data_dir is None else Path(data_dir).expanduser()


def _user_agent() -> str:
    return f"nablanet/{__version__} (+https://github.com/nablanet)"


def _progress_bar(total: int | None, desc: str, enabled: bool) -> Any:
    from tqdm.auto import tqdm

    return tqdm(
        total=total, desc=desc, unit="B", unit_scale=True, unit_divisor=1024, disable=not enabled
    )


def download_file(
    url: str,
    dest: str | os.PathLike[str],
    *,
    expected_md5: str | None = None,
    progress: bool = True,
    timeout: float = 30.0,
) -> Path:
    """Download ``url`` to ``dest`` atomically.

    Parameters
    ----------
    url : str
    dest : str or path-like
        Final path; its folder is created. An existing file is replaced only on success.
    expected_md5 : str, optional
        MD5 of the *decompressed* content (gzip data is decompressed before hashing, so a
        recompressed copy of the same file still matches).
    progress : bool
        Show a tqdm progress bar on stderr.
    timeout : float
        Seconds to wait for the server before giving up.

    Returns
    -------
    Path
        ``dest``.

    Raises
    ------
    DataError
        One line naming the URL and the reason: the server's error, a transfer cut short, or a
        checksum mismatch. Nothing is left behind in ``dest``'s folder.
    """
    dest = Path(dest)
    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(dir=dest.parent, prefix=f".{dest.name}.", suffix=".part")
    except OSError as err:
        raise DataError(f"{dest.parent}: cannot write to the data directory ({err})") from None
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as out:
            request = urllib.request.Request(url, headers={"User-Agent": _user_agent()})
            with urllib.request.urlopen(request, timeout=timeout) as response:
                length = response.headers.get("Content-Length")
                total = int(length) if length and length.strip().isdigit() else None
                received = 0
                with _progress_bar(total, dest.name, progress) as bar:
                    while chunk := response.read(_CHUNK):
                        out.write(chunk)
                        received += len(chunk)
                        bar.update(len(chunk))
        if total is not None and received != total:
            raise DataError(
                f"{url}: download interrupted after {received} of {total} bytes; nothing was saved"
            )
        if expected_md5 is not None:
            content = decompress_if_gzip(tmp.read_bytes(), url)
            actual = md5_hex(content)
            if actual != expected_md5.lower():
                raise DataError(
                    f"{url}: checksum mismatch, MD5 of the decompressed content is {actual}, "
                    f"expected {expected_md5}; nothing was saved"
                )
        os.replace(tmp, dest)
    except DataError:
        raise
    except urllib.error.HTTPError as err:
        raise DataError(f"{url}: HTTP error {err.code} {err.reason}") from None
    except urllib.error.URLError as err:
        raise DataError(f"{url}: cannot connect ({err.reason})") from None
    except (http.client.HTTPException, TimeoutError, ConnectionError) as err:
        raise DataError(
            f"{url}: download failed ({type(err).__name__}: {err}); nothing was saved"
        ) from None
    except OSError as err:
        raise DataError(f"{url}: download failed ({err}); nothing was saved") from None
    finally:
        tmp.unlink(missing_ok=True)
    return dest
