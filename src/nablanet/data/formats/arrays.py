"""NumPy files: an ``.npz`` archive of named arrays, or separate ``.npy`` files.

Nothing is ever unpickled (``allow_pickle=False``; :mod:`nablanet.nn.npyfile` reads every
header before its data). A large ``.npy`` feature file is opened memory-mapped, so a dataset
bigger than RAM can be batched from disk.

>>> import tempfile, pathlib
>>> path = pathlib.Path(tempfile.mkdtemp()) / "toy.npz"
>>> np.savez(path, x=np.zeros((4, 3)), y=np.array([0, 1, 0, 1]))
>>> ds = load_npz(path)
>>> ds.task, ds.x.shape, ds.x.dtype
('binary', (4, 3), dtype('float32'))
"""

from __future__ import annotations

import os
import zipfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ...nn.npyfile import ArrayFileError, NpzArchive, read_npy
from ..dataset import Dataset, as_feature_array, check_finite_features, encode_targets
from ..errors import DataError
from .paths import existing_file

__all__ = ["MMAP_THRESHOLD_BYTES", "load_npy", "load_npz"]

#: ``.npy`` files larger than this are opened memory-mapped when ``mmap="auto"``
MMAP_THRESHOLD_BYTES = 256 * 2**20


def _load_npy(path: Path, mmap: bool | str) -> np.ndarray:
    if mmap == "auto":
        mmap = path.stat().st_size > MMAP_THRESHOLD_BYTES
    elif mmap not in (True, False):
        raise DataError(f"{path}: mmap must be true, false or 'auto', got {mmap!r}")
    try:
        return read_npy(path, mmap=bool(mmap))
    except ArrayFileError as err:
        raise DataError(str(err)) from None
    except (OSError, EOFError) as err:
        raise DataError(f"{path}: not a valid .npy file ({err})") from None


def _features(x: np.ndarray, where: str, check_finite: bool) -> np.ndarray:
    if x.dtype.kind not in "biuf":
        raise DataError(f"{where}: features must be numbers, got dtype {x.dtype}")
    if x.ndim < 2:
        raise DataError(f"{where}: features must have shape (n_samples, ...), got {x.shape}")
    x = as_feature_array(x)
    if check_finite:
        check_finite_features(x, where)
    return x


def _dataset_from_arrays(
    x: np.ndarray,
    y: np.ndarray,
    x_test: np.ndarray | None,
    y_test: np.ndarray | None,
    *,
    where: dict[str, str],
    task: str | None,
    class_names: Sequence[str] | None,
    feature_names: Sequence[str] | None,
    name: str,
    source: str,
    check_finite: bool,
) -> Dataset:
    x = _features(x, where["x"], check_finite)
    if len(x) != len(y):
        raise DataError(
            f"{where['x']} and {where['y']}: x has {len(x)} samples but y has {len(y)} "
            f"(shapes {x.shape} and {y.shape})"
        )
    if x_test is not None:
        x_test = _features(x_test, where["x_test"], check_finite)
        if y_test is None:
            raise DataError(f"{where['x_test']}: a test split needs y_test as well")
        if len(x_test) != len(y_test):
            raise DataError(
                f"{where['x_test']} and {where['y_test']}: x_test has {len(x_test)} samples but "
                f"y_test has {len(y_test)} (shapes {x_test.shape} and {y_test.shape})"
            )
        if x_test.shape[1:] != x.shape[1:]:
            raise DataError(
                f"{where['x_test']}: test samples have shape {x_test.shape[1:]}, training "
                f"samples {x.shape[1:]}"
            )
    elif y_test is not None:
        raise DataError(f"{where['y_test']}: a test split needs x_test as well")
    y, y_test, task, class_names = encode_targets(
        np.asarray(y),
        None if y_test is None else np.asarray(y_test),
        task=task,
        class_names=class_names,
        where=where["y"],
    )
    return Dataset(
        x=x,
        y=y,
        task=task,
        name=name,
        class_names=class_names,
        feature_names=None if feature_names is None else [str(f) for f in feature_names],
        x_test=x_test,
        y_test=y_test,
        value_range=(0.0, 255.0) if x.dtype == np.uint8 else None,
        source=source,
    )


def load_npz(
    path: str | os.PathLike[str],
    *,
    task: str | None = None,
    class_names: Sequence[str] | None = None,
    feature_names: Sequence[str] | None = None,
    name: str | None = None,
    check_finite: bool = True,
) -> Dataset:
    """Load an ``.npz`` archive holding arrays ``x`` and ``y``.

    Optional members: ``x_test`` and ``y_test`` (a predefined test split), ``class_names`` and
    ``feature_names`` (string arrays; the arguments of the same names take precedence).

    Parameters
    ----------
    path : str or path-like
    task : {"binary", "multiclass", "regression"}, optional
        Inferred from ``y`` when not given.
    class_names, feature_names : list of str, optional
    name : str, optional
        Dataset name (default: the file's stem).
    check_finite : bool
        Reject NaN or inf in the features.

    Returns
    -------
    Dataset
        ``x`` of shape ``(n, ...)``: ``uint8`` kept as is, other numbers as ``float32``;
        an ``(n, H, W)`` stack becomes ``(n, H, W, 1)``.
    """
    path = existing_file(path, ".npz")
    if not zipfile.is_zipfile(path):
        raise DataError(f"{path}: not a valid .npz file (not a zip archive; a single .npy?)")
    try:
        archive = NpzArchive(path)
    except ArrayFileError as err:
        raise DataError(str(err)) from None
    with archive:
        keys = set(archive.headers)
        missing = [k for k in ("x", "y") if k not in keys]
        if missing:
            raise DataError(
                f"{path}: no array {missing[0]!r} in the archive; it holds "
                f"{', '.join(sorted(keys)) or 'nothing'}"
            )

        def get(key: str) -> np.ndarray | None:
            if key not in keys:
                return None
            try:
                return archive.read(key)
            except ArrayFileError as err:
                raise DataError(str(err)) from None

        arrays = {k: get(k) for k in ("x", "y", "x_test", "y_test")}
        if class_names is None and "class_names" in keys:
            class_names = [str(c) for c in np.asarray(get("class_names")).tolist()]
        if feature_names is None and "feature_names" in keys:
            feature_names = [str(f) for f in np.asarray(get("feature_names")).tolist()]
    where = {k: f"{path}[{k!r}]" for k in arrays}
    x, y = arrays["x"], arrays["y"]
    assert x is not None and y is not None  # both in the archive, checked above
    return _dataset_from_arrays(
        x,
        y,
        arrays["x_test"],
        arrays["y_test"],
        where=where,
        task=task,
        class_names=class_names,
        feature_names=feature_names,
        name=name or path.stem,
        source=str(path),
        check_finite=check_finite,
    )


def load_npy(
    x: str | os.PathLike[str],
    y: str | os.PathLike[str],
    *,
    x_test: str | os.PathLike[str] | None = None,
    y_test: str | os.PathLike[str] | None = None,
    mmap: bool | str = "auto",
    task: str | None = None,
    class_names: Sequence[str] | None = None,
    feature_names: Sequence[str] | None = None,
    name: str | None = None,
    check_finite: bool = True,
) -> Dataset:
    """Load features and targets from separate ``.npy`` files.

    Large feature files are opened memory-mapped (read-only), so a dataset bigger than RAM can be
    batched from disk with :class:`~nablanet.data.DataLoader`; such an ``x`` keeps its stored
    dtype. Targets are always read into memory.

    Parameters
    ----------
    x, y : str or path-like
        ``x`` of shape ``(n, ...)``, ``y`` of shape ``(n,)`` (or ``(n, k)``).
    x_test, y_test : str or path-like, optional
        A predefined test split.
    mmap : bool or "auto"
        Memory-map the feature files: always, never, or when larger than
        ``MMAP_THRESHOLD_BYTES`` (256 MiB).
    task, class_names, feature_names, name, check_finite
        As in :func:`load_npz`. The finiteness check streams a memory-mapped file once; pass
        ``check_finite=False`` to skip it for very large files.

    Returns
    -------
    Dataset
    """
    paths = {"x": x, "y": y, "x_test": x_test, "y_test": y_test}
    files = {k: None if p is None else existing_file(p, ".npy") for k, p in paths.items()}
    arrays = {
        k: None if p is None else _load_npy(p, mmap if k.startswith("x") else False)
        for k, p in files.items()
    }
    where = {k: str(p) if p is not None else k for k, p in files.items()}
    x_file, x_array, y_array = files["x"], arrays["x"], arrays["y"]
    assert x_file is not None and x_array is not None and y_array is not None  # required
    return _dataset_from_arrays(
        x_array,
        y_array,
        arrays["x_test"],
        arrays["y_test"],
        where=where,
        task=task,
        class_names=class_names,
        feature_names=feature_names,
        name=name or x_file.stem,
        source=str(x_file),
        check_finite=check_finite,
    )
