"""CIFAR-10 from its official *binary* version: downloaded, verified, extracted by name, parsed
with NumPy.

The Python version of CIFAR is pickled, and a dataset loader must not unpickle, so only the
binary version (``cifar-10-binary.tar.gz``) is read. Its folder ``cifar-10-batches-bin/`` holds
``data_batch_1.bin`` ... ``data_batch_5.bin`` and ``test_batch.bin``: 10 000 records each of one
label byte and 3072 pixel bytes (1024 red, then green, then blue, each 32 x 32 row-major), so
every file is exactly 30 730 000 bytes, and ``batches.meta.txt`` with the ten class names.

Where the files are looked for, in order (``<root>`` is ``data_dir``, else ``$NABLANET_DATA`` or
``~/.cache/nablanet``):

1. ``<root>/cifar10/cifar-10-batches-bin/`` (the extracted folder as the archive holds it), and
   ``<root>/cifar-10-batches-bin/`` when ``data_dir`` is given;
2. ``<root>/cifar10/cifar-10-binary.tar.gz`` (the archive; its MD5 is checked and the expected
   files are extracted next to it, by name);
3. otherwise the archive is downloaded into ``<root>/cifar10/`` (MD5 checked before it is kept).

An extracted folder is checked by its files' names and exact sizes and by the labels (0-9); a
missing, truncated or corrupt file is refused with a one-line :class:`DataError` naming it.
Extraction never calls ``extractall``: only the expected regular files are read, by name; links,
devices, absolute paths and ``..`` are never written, and an expected name that is not a
regular file of the expected size refuses the archive.

>>> CIFAR10.record_bytes, CIFAR10.file_bytes
(3073, 30730000)
>>> CIFAR10.files[-1]
'test_batch.bin'
"""

from __future__ import annotations

import os
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .dataset import Dataset
from .errors import DataError
from .fetch import DATA_ENV, download_file, resolve_data_dir

__all__ = ["CIFAR10", "CifarSource", "find_cifar", "load_cifar", "parse_cifar_records"]

_SIDE = 32
_PIXELS = 3 * _SIDE * _SIDE
#: the largest ``batches.meta.txt`` read (the real one is 61 bytes)
_META_MAX_BYTES = 1 << 16


@dataclass(frozen=True)
class CifarSource:
    """Where a CIFAR binary dataset lives and how to check it.

    Every field can be replaced (``dataclasses.replace``) to point the loader at small files
    made in tests (``records_per_file``, ``md5``) or at another mirror.

    Parameters
    ----------
    name : str
        Registry name.
    folder : str
        Sub-folder of the data directory (``cifar10``).
    title : str
        Human-readable name for messages.
    archive : str
        File name of the archive.
    member_dir : str
        The folder inside the archive that holds the files.
    urls : tuple of str
        Where the archive is downloaded from, tried in order.
    md5 : str or None
        MD5 of the archive file itself (the publisher's checksum); None skips the check.
    train_files, test_files : tuple of str
    meta_file : str
        Class names, one per line.
    records_per_file : int
        Records in every data file (10 000).
    class_names : tuple of str
        Used when the folder has no ``meta_file``.

    Examples
    --------
    >>> import dataclasses
    >>> tiny = dataclasses.replace(CIFAR10, records_per_file=4, md5=None)
    >>> tiny.file_bytes
    12292
    """

    name: str
    folder: str
    title: str
    archive: str
    member_dir: str
    urls: tuple[str, ...]
    md5: str | None
    train_files: tuple[str, ...]
    test_files: tuple[str, ...]
    meta_file: str
    records_per_file: int = 10_000
    class_names: tuple[str, ...] = ()
    description: str = ""

    @property
    def files(self) -> tuple[str, ...]:
        return (*self.train_files, *self.test_files)

    @property
    def record_bytes(self) -> int:
        return 1 + _PIXELS

    @property
    def file_bytes(self) -> int:
        return self.records_per_file * self.record_bytes


CIFAR10 = CifarSource(
    name="cifar10",
    folder="cifar10",
    title="CIFAR-10",
    archive="cifar-10-binary.tar.gz",
    member_dir="cifar-10-batches-bin",
    urls=("https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz",),
    # from https://www.cs.toronto.edu/~kriz/cifar.html ("CIFAR-10 binary version")
    md5="c32a1d4ab5d03f1284b67883e8d87530",
    train_files=tuple(f"data_batch_{i}.bin" for i in range(1, 6)),
    test_files=("test_batch.bin",),
    meta_file="batches.meta.txt",
    class_names=tuple("airplane automobile bird cat deer dog frog horse ship truck".split()),
    description="Small colour photos in 10 classes (airplane ... truck), 32x32 RGB; "
    "50000 train + 10000 test images.",
)


def _search_roots(source: CifarSource, data_dir: str | os.PathLike[str] | None) -> list[Path]:
    root = resolve_data_dir(data_dir)
    roots = [root / source.folder]
    if data_dir is not None:
        roots.append(root)
    return roots


def find_cifar(
    source: CifarSource = CIFAR10, data_dir: str | os.PathLike[str] | None = None
) -> tuple[str, Path] | None:
    """``("folder", path)`` of the first extracted folder, else ``("archive", path)`` of the
    first archive, else None (nothing is read or checked)."""
    roots = _search_roots(source, data_dir)
    for root in roots:
        folder = root / source.member_dir
        if folder.is_dir():
            return "folder", folder
    for root in roots:
        archive = root / source.archive
        if archive.is_file():
            return "archive", archive
    return None


def parse_cifar_records(
    data: bytes | np.ndarray, source: str, records: int | None = None, n_classes: int = 10
) -> tuple[np.ndarray, np.ndarray]:
    """Decode CIFAR binary records: one label byte, then 3072 channel-major pixel bytes.

    Parameters
    ----------
    data : bytes or uint8 ndarray
        A whole file.
    source : str
        File name for error messages.
    records : int, optional
        The exact number of records the file must hold.
    n_classes : int
        Labels must lie in ``0 .. n_classes - 1``.

    Returns
    -------
    images : ndarray of shape (n, 32, 32, 3), uint8 (NHWC)
    labels : ndarray of shape (n,), int64

    Raises
    ------
    DataError
        A size that is not a whole number of records (or not ``records`` of them), or a label
        out of range, naming ``source``.

    >>> record = bytes([3]) + bytes(range(256)) * 12
    >>> x, y = parse_cifar_records(record * 2, "tiny.bin")
    >>> x.shape, y.tolist(), int(x[0, 0, 1, 0]), int(x[0, 0, 0, 1])   # red (0,1), green (0,0)
    ((2, 32, 32, 3), [3, 3], 1, 0)
    """
    flat = np.frombuffer(data, dtype=np.uint8) if isinstance(data, bytes) else data.ravel()
    record = 1 + _PIXELS
    size = flat.size
    expected = None if records is None else records * record
    if (expected is not None and size != expected) or size % record or size == 0:
        want = (
            f"{expected} bytes ({records} records of {record})"
            if expected
            else (f"a whole number of {record}-byte records")
        )
        what = "truncated" if expected is not None and size < expected else "wrong size"
        raise DataError(f"{source}: {what}: {size} bytes, expected {want}")
    table = flat.reshape(-1, record)
    labels = table[:, 0].astype(np.int64)
    bad = np.flatnonzero(labels >= n_classes)
    if bad.size:
        raise DataError(
            f"{source}: record {int(bad[0])} has label {int(labels[bad[0]])}, expected 0-"
            f"{n_classes - 1} (corrupt file?)"
        )
    images = table[:, 1:].reshape(-1, 3, _SIDE, _SIDE).transpose(0, 2, 3, 1)
    return np.ascontiguousarray(images), labels


def _read_meta(text: bytes, source: str, n_classes: int) -> list[str]:
    try:
        names = [line.strip() for line in text.decode("utf-8").splitlines() if line.strip()]
    except UnicodeDecodeError:
        raise DataError(f"{source}: not a text file of class names") from None
    if len(names) != n_classes:
        raise DataError(
            f"{source}: expected {n_classes} class names, one per line, got {len(names)}"
        )
    return names


def _check_folder(source: CifarSource, folder: Path) -> dict[str, Path]:
    paths = {}
    for name in source.files:
        path = folder / name
        if not path.is_file():
            raise DataError(
                f"{path}: missing; {folder} must hold {', '.join(source.files)} as in "
                f"{source.archive}"
            )
        size = path.stat().st_size
        if size != source.file_bytes:
            what = "truncated" if size < source.file_bytes else "wrong size"
            raise DataError(
                f"{path}: {what}: {size} bytes, expected {source.file_bytes} "
                f"({source.records_per_file} records of {source.record_bytes}); delete it and "
                f"extract {source.archive} again"
            )
        paths[name] = path
    return paths


def _load_folder(source: CifarSource, folder: Path) -> tuple[dict[str, bytes | np.ndarray], Path]:
    paths = _check_folder(source, folder)
    arrays: dict[str, bytes | np.ndarray] = {}
    for name, path in paths.items():
        try:
            arrays[name] = np.fromfile(path, dtype=np.uint8)
        except OSError as err:
            raise DataError(f"{path}: cannot read ({err.strerror or err})") from None
    meta = folder / source.meta_file
    if meta.is_file():
        if meta.stat().st_size > _META_MAX_BYTES:
            raise DataError(f"{meta}: {meta.stat().st_size} bytes, too large for class names")
        arrays[source.meta_file] = meta.read_bytes()
    return arrays, folder


def _file_md5(path: Path) -> str:
    import hashlib

    digest = hashlib.md5(usedforsecurity=False)
    with path.open("rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def read_cifar_archive(source: CifarSource, archive: Path) -> dict[str, bytes]:
    """The expected files of a CIFAR archive, read by name (never ``extractall``).

    Checks the archive's MD5 (``source.md5``), then reads only the members named
    ``<member_dir>/<file>`` for the data files and the meta file; every other member (the
    archive's ``readme.html``, or a crafted ``../x`` or ``/etc/x``) is skipped without being
    read. An expected member that is a link or any other non-regular file, is duplicated, has
    the wrong size, or is missing refuses the whole archive.
    """
    if source.md5 is not None:
        actual = _file_md5(archive)
        if actual != source.md5.lower():
            raise DataError(
                f"{archive}: MD5 is {actual}, expected {source.md5} (corrupt, truncated or a "
                f"different file); delete it to download it again"
            )
    wanted = {f"{source.member_dir}/{name}": name for name in (*source.files, source.meta_file)}
    found: dict[str, bytes] = {}
    try:
        with tarfile.open(archive, "r:*") as tar:
            for member in tar:
                name = wanted.get(member.name.removeprefix("./"))
                if name is None:
                    continue
                if not member.isreg():
                    kind = "a link" if member.issym() or member.islnk() else "not a regular file"
                    raise DataError(f"{archive}: member {member.name} is {kind}; refused")
                if name in found:
                    raise DataError(f"{archive}: member {member.name} appears twice; refused")
                limit = _META_MAX_BYTES if name == source.meta_file else source.file_bytes
                if name != source.meta_file and member.size != source.file_bytes:
                    raise DataError(
                        f"{archive}: member {member.name} is {member.size} bytes, expected "
                        f"{source.file_bytes}; refused"
                    )
                if member.size > limit:
                    raise DataError(f"{archive}: member {member.name} is too large; refused")
                handle = tar.extractfile(member)
                data = handle.read(limit + 1) if handle is not None else b""
                if len(data) != member.size:
                    raise DataError(f"{archive}: member {member.name} is truncated")
                found[name] = data
    except (tarfile.TarError, EOFError, OSError) as err:
        raise DataError(f"{archive}: not a readable tar.gz archive ({err})") from None
    missing = [n for n in source.files if n not in found]
    if missing:
        raise DataError(f"{archive}: no member {source.member_dir}/{missing[0]}; refused")
    return found


def _extract(source: CifarSource, archive: Path, files: dict[str, bytes]) -> Path | None:
    """Write the files read from ``archive`` to ``<its folder>/<member_dir>/`` atomically (a
    temporary folder renamed into place); None when the folder is not writable."""
    target = archive.parent / source.member_dir
    try:
        tmp = Path(tempfile.mkdtemp(dir=archive.parent, prefix=f".{source.member_dir}."))
    except OSError:
        return None
    try:
        for name, data in files.items():  # names come from our own list, never the archive
            (tmp / name).write_bytes(data)
        os.replace(tmp, target)
    except OSError:
        for child in tmp.glob("*"):
            child.unlink(missing_ok=True)
        tmp.rmdir()
        return None
    return target


def _where_to_put(source: CifarSource, data_dir: str | os.PathLike[str] | None) -> str:
    target = _search_roots(source, data_dir)[0]
    return (
        f"put {source.archive} (from {source.urls[0]}) or its extracted {source.member_dir}/ "
        f"folder in {target}, or set {DATA_ENV} to a folder that holds {source.folder}/"
    )


def _download(source: CifarSource, data_dir: str | os.PathLike[str] | None, progress: bool) -> Path:
    target = _search_roots(source, data_dir)[0] / source.archive
    reasons = []
    for url in source.urls:
        # The published MD5 is of the archive file itself (download_file's check would hash
        # the decompressed tar), so it is checked on an unverified name before renaming.
        pending = target.with_name(f".{source.archive}.unverified")
        try:
            download_file(url, pending, progress=progress)
            if source.md5 is not None and _file_md5(pending) != source.md5.lower():
                raise DataError(f"{url}: checksum mismatch; nothing was saved")
            os.replace(pending, target)
            return target
        except DataError as err:
            reasons.append(str(err))
        finally:
            pending.unlink(missing_ok=True)
    raise DataError(
        f"{source.title}: could not download {source.archive} ({'; '.join(reasons)}); "
        + _where_to_put(source, data_dir)
    )


def load_cifar(
    source: CifarSource = CIFAR10,
    data_dir: str | os.PathLike[str] | None = None,
    *,
    download: bool = True,
    progress: bool = True,
) -> Dataset:
    """Load CIFAR-10 (binary version), downloading and extracting it first when needed.

    Parameters
    ----------
    source : CifarSource
    data_dir : str or path-like, optional
        See the module's search order.
    download : bool
        Download a missing archive; when False a missing dataset raises a :class:`DataError`
        that says where to put the files.
    progress : bool

    Returns
    -------
    Dataset
        ``x`` of shape ``(50000, 32, 32, 3)`` ``uint8`` (NHWC, raw pixels 0..255), ``y``
        ``int64``, the predefined test split in ``x_test``, ``y_test`` (10000), class names
        from ``batches.meta.txt``.
    """
    found = find_cifar(source, data_dir)
    if found is None:
        if not download:
            raise DataError(
                f"{source.title} is not in {_search_roots(source, data_dir)[0]} and downloading "
                "is off: " + _where_to_put(source, data_dir)
            )
        found = ("archive", _download(source, data_dir, progress))
    kind, path = found
    arrays: dict[str, Any]
    if kind == "folder":
        arrays, where = _load_folder(source, path)
    else:
        files = read_cifar_archive(source, path)
        extracted = _extract(source, path, files)
        arrays, where = _load_folder(source, extracted) if extracted else (dict(files), path)
    n_classes = len(source.class_names)
    meta = arrays.get(source.meta_file)
    class_names = (
        _read_meta(meta, str(where / source.meta_file), n_classes)
        if isinstance(meta, bytes)
        else list(source.class_names)
    )
    parts = []
    for group in (source.train_files, source.test_files):
        decoded = [
            parse_cifar_records(arrays[name], str(where / name), source.records_per_file, n_classes)
            for name in group
        ]
        parts.append(
            (np.concatenate([d[0] for d in decoded]), np.concatenate([d[1] for d in decoded]))
        )
    (x, y), (x_test, y_test) = parts
    return Dataset(
        x=x,
        y=y,
        task="multiclass",
        name=source.name,
        class_names=class_names,
        x_test=x_test,
        y_test=y_test,
        value_range=(0.0, 255.0),
        description=source.description,
        source=str(where),
    )


def synthetic_cifar_bytes(
    n: int, seed: int = 0, n_classes: int = 10, noise: float = 60.0
) -> tuple[bytes, np.ndarray, np.ndarray]:
    """``n`` records in the exact CIFAR binary format with a learnable signal (for tests and
    for timing on data of CIFAR's size; it is *not* CIFAR).

    Class ``k`` is a colour tint (its own mix of red, green and blue) and a bright square whose
    position depends on ``k``, under uniform noise of amplitude ``noise``.

    Returns
    -------
    data : bytes
    images : ndarray of shape (n, 32, 32, 3), uint8
    labels : ndarray of shape (n,), int64

    >>> data, x, y = synthetic_cifar_bytes(3)
    >>> len(data), x.shape, y.tolist()
    (9219, (3, 32, 32, 3), [0, 1, 2])
    """
    rng = np.random.default_rng(seed)
    labels = (np.arange(n) % n_classes).astype(np.int64)
    hues = np.random.default_rng(12345).integers(40, 200, size=(n_classes, 3))
    images = rng.uniform(0, noise, size=(n, _SIDE, _SIDE, 3)) + hues[labels][:, None, None, :]
    for k in range(n_classes):  # one slice per class, not per image
        r, c = (k % 4) * 7 + 2, (k // 4 % 3) * 9 + 3
        images[labels == k, r : r + 6, c : c + 6, :] += 60
    images = np.clip(images, 0, 255).astype(np.uint8)
    table = np.empty((n, 1 + _PIXELS), dtype=np.uint8)
    table[:, 0] = labels
    table[:, 1:] = images.transpose(0, 3, 1, 2).reshape(n, -1)
    return table.tobytes(), images, labels


def write_synthetic_cifar(
    folder: str | os.PathLike[str],
    source: CifarSource = CIFAR10,
    *,
    seed: int = 0,
    archive: bool = False,
) -> Path:
    """Write a synthetic dataset in ``source``'s exact layout (``source.records_per_file``
    records per file): the extracted ``<member_dir>/`` folder under ``folder``, or the
    ``.tar.gz`` archive when ``archive`` is True. Returns the folder or archive path."""
    import io

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    files = {}
    for i, name in enumerate(source.files):
        files[name] = synthetic_cifar_bytes(source.records_per_file, seed + i)[0]
    files[source.meta_file] = ("\n".join(source.class_names) + "\n\n").encode()
    if not archive:
        target = folder / source.member_dir
        target.mkdir(exist_ok=True)
        for name, data in files.items():
            (target / name).write_bytes(data)
        return target
    path = folder / source.archive
    with tarfile.open(path, "w:gz") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(f"{source.member_dir}/{name}")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return path
