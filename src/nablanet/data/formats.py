"""User data: CSV files, NumPy ``.npy`` / ``.npz`` files and folders of images.

Every loader returns a :class:`~nablanet.data.Dataset` and raises a one-line
:class:`~nablanet.data.DataError` naming the file, the column or the shape when the data is not
usable. Nothing is ever unpickled (``allow_pickle=False``).

>>> import tempfile, pathlib
>>> path = pathlib.Path(tempfile.mkdtemp()) / "toy.csv"
>>> _ = path.write_text("height,weight,kind\\n1.0,2.0,cat\\n3.0,4.5,dog\\n2.0,2.5,cat\\n")
>>> ds = load_csv(path, target="kind")
>>> ds.task, ds.class_names, ds.feature_names, ds.y.tolist()
('binary', ['cat', 'dog'], ['height', 'weight'], [0, 1, 0])
"""

from __future__ import annotations

import csv
import os
import zipfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..nn.npyfile import ArrayFileError, NpzArchive, read_npy
from .dataset import Dataset, as_feature_array, check_finite_features, encode_targets
from .errors import DataError
from .limits import check_text_file, open_image

#: ``.npy`` files larger than this are opened memory-mapped when ``mmap="auto"``
MMAP_THRESHOLD_BYTES = 256 * 2**20

#: image file extensions read from image folders
IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp")

_MISSING = ("", "na", "nan", "n/a", "null", "none", "?")


def _existing_file(path: str | os.PathLike, what: str) -> Path:
    path = Path(path).expanduser()
    if not path.exists():
        raise DataError(f"{path}: {what} file not found")
    if not path.is_file():
        raise DataError(f"{path}: expected a {what} file, found a folder")
    return path


# -- CSV -----------------------------------------------------------------------------------------
def _read_csv_table(path: Path, delimiter: str) -> tuple[list[str], np.ndarray]:
    """Header and the data as a 2-D array of stripped strings."""
    check_text_file(path)
    try:
        with path.open(newline="", encoding="utf-8-sig") as f:
            header = next(csv.reader(f, delimiter=delimiter), None)
    except UnicodeDecodeError as err:
        raise DataError(
            f"{path}: not a UTF-8 text file, is it really CSV? ({err.reason})"
        ) from None
    if not header or all(not h.strip() for h in header):
        raise DataError(f"{path}: empty CSV file (expected a header row of column names)")
    header = [h.strip() for h in header]
    dupes = sorted({h for h in header if header.count(h) > 1})
    if dupes:
        raise DataError(f"{path}: duplicate column names {dupes}")
    try:
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # "input contained no data"
            table = np.loadtxt(
                path,
                dtype=str,
                delimiter=delimiter,
                skiprows=1,
                ndmin=2,
                comments=None,
                quotechar='"',
                encoding="utf-8-sig",
            )
    except ValueError as err:
        raise DataError(f"{path}: malformed CSV ({str(err).splitlines()[0]})") from None
    except MemoryError:
        raise DataError(f"{path}: too large to read as a table of text in memory") from None
    if table.size == 0:
        raise DataError(f"{path}: the CSV file has a header but no data rows")
    if table.shape[1] != len(header):
        raise DataError(
            f"{path}: the header has {len(header)} columns but the rows have {table.shape[1]}"
        )
    return header, np.char.strip(table)


def _numeric_column(values: np.ndarray, path: Path, column: str) -> np.ndarray:
    """A column of strings as float64, naming the first missing or non-numeric value."""
    missing = np.isin(np.char.lower(values), _MISSING)
    if missing.any():
        row = int(np.argmax(missing))
        raise DataError(
            f"{path}: column {column!r} has a missing value {str(values[row])!r} on line {row + 2}; "
            "fill or drop missing values first"
        )
    try:
        return values.astype(np.float64)
    except ValueError:
        pass
    for row, value in enumerate(values.tolist()):  # error path only: find the culprit
        try:
            float(value)
        except ValueError:
            raise DataError(
                f"{path}: column {column!r} is not numeric (value {value!r} on line {row + 2}); "
                "encode it as numbers or leave it out with features=[...]"
            ) from None
    raise DataError(f"{path}: column {column!r} is not numeric")  # pragma: no cover


def _raw_target(values: np.ndarray, path: Path, column: str) -> np.ndarray:
    """Target strings as numbers when they all are, else kept as strings."""
    missing = np.isin(np.char.lower(values), _MISSING)
    if missing.any():
        row = int(np.argmax(missing))
        raise DataError(
            f"{path}: target column {column!r} has a missing value {str(values[row])!r} on line "
            f"{row + 2}"
        )
    try:
        return values.astype(np.float64)
    except ValueError:
        return values


def _csv_columns(
    path: Path, target: str, features: Sequence[str] | None, delimiter: str
) -> tuple[np.ndarray, np.ndarray, list[str]]:
    header, table = _read_csv_table(path, delimiter)
    if target not in header:
        raise DataError(f"{path}: no target column {target!r}; the columns are {', '.join(header)}")
    if features is None:
        features = [h for h in header if h != target]
    else:
        features = [str(f) for f in features]
        unknown = [f for f in features if f not in header]
        if unknown:
            raise DataError(
                f"{path}: no feature column {unknown[0]!r}; the columns are {', '.join(header)}"
            )
        if target in features:
            raise DataError(f"{path}: the target column {target!r} is also listed in features")
    if not features:
        raise DataError(f"{path}: no feature columns besides the target {target!r}")
    cols = [_numeric_column(table[:, header.index(f)], path, f) for f in features]
    x = np.stack(cols, axis=1).astype(np.float32)
    check_finite_features(x, str(path), features)
    y = _raw_target(table[:, header.index(target)], path, target)
    return x, y, features


def load_csv(
    path: str | os.PathLike,
    target: str,
    *,
    features: Sequence[str] | None = None,
    task: str | None = None,
    delimiter: str = ",",
    test: str | os.PathLike | None = None,
    name: str | None = None,
) -> Dataset:
    """Load a CSV file with a header row and a named target column.

    Parameters
    ----------
    path : str or path-like
    target : str
        Name of the target column. Strings are class labels; numbers are class labels or
        regression targets as :func:`~nablanet.data.dataset.infer_task` decides, unless
        ``task`` says.
    features : list of str, optional
        Feature columns (default: every column but the target). They must be numeric.
    task : {"binary", "multiclass", "regression"}, optional
    delimiter : str
    test : str or path-like, optional
        A second CSV with the same columns, used as the predefined test split.
    name : str, optional
        Dataset name (default: the file's stem).

    Returns
    -------
    Dataset
        ``x`` ``float32`` of shape ``(n_rows, n_features)``; ``feature_names`` the columns.
    """
    path = _existing_file(path, "CSV")
    x, y_raw, feature_names = _csv_columns(path, target, features, delimiter)
    x_test = y_test_raw = None
    if test is not None:
        test_path = _existing_file(test, "CSV")
        x_test, y_test_raw, _ = _csv_columns(test_path, target, feature_names, delimiter)
        if (y_raw.dtype.kind == "U") != (y_test_raw.dtype.kind == "U"):
            y_raw, y_test_raw = y_raw.astype(str), y_test_raw.astype(str)
    y, y_test, task, class_names = encode_targets(
        y_raw, y_test_raw, task=task, where=f"{path}: target column {target!r}"
    )
    return Dataset(
        x=x,
        y=y,
        task=task,
        name=name or path.stem,
        class_names=class_names,
        feature_names=feature_names,
        x_test=x_test,
        y_test=y_test,
        source=str(path),
    )


# -- NumPy files ---------------------------------------------------------------------------------
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
    path: str | os.PathLike,
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
    path = _existing_file(path, ".npz")
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
            class_names = [str(c) for c in get("class_names").tolist()]
        if feature_names is None and "feature_names" in keys:
            feature_names = [str(f) for f in get("feature_names").tolist()]
    where = {k: f"{path}[{k!r}]" for k in arrays}
    return _dataset_from_arrays(
        arrays["x"],
        arrays["y"],
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
    x: str | os.PathLike,
    y: str | os.PathLike,
    *,
    x_test: str | os.PathLike | None = None,
    y_test: str | os.PathLike | None = None,
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
    files = {k: None if p is None else _existing_file(p, ".npy") for k, p in paths.items()}
    arrays = {
        k: None if p is None else _load_npy(p, mmap if k.startswith("x") else False)
        for k, p in files.items()
    }
    where = {k: str(p) if p is not None else k for k, p in files.items()}
    return _dataset_from_arrays(
        arrays["x"],
        arrays["y"],
        arrays["x_test"],
        arrays["y_test"],
        where=where,
        task=task,
        class_names=class_names,
        feature_names=feature_names,
        name=name or files["x"].stem,
        source=str(files["x"]),
        check_finite=check_finite,
    )


# -- image folders -------------------------------------------------------------------------------
def _class_folders(root: Path) -> list[Path]:
    return sorted(
        (p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")),
        key=lambda p: p.name,
    )


def _image_files(folder: Path) -> list[Path]:
    return sorted(
        p
        for p in folder.iterdir()
        if p.is_file() and p.suffix.lower() in IMAGE_EXTENSIONS and not p.name.startswith(".")
    )


def _read_images(files: list[Path], size: tuple[int, int] | None, mode: str) -> np.ndarray:
    from PIL import Image, UnidentifiedImageError

    arrays = []
    expected, first = size, files[0]
    for f in files:  # one file at a time: reading is I/O, not arithmetic
        try:
            with open_image(f) as img:
                img = img.convert(mode)
                if size is not None and img.size != (size[1], size[0]):
                    img = img.resize((size[1], size[0]), Image.Resampling.BILINEAR)
                arr = np.asarray(img, dtype=np.uint8)
        except (UnidentifiedImageError, OSError) as err:
            raise DataError(f"{f}: cannot read the image ({err})") from None
        if expected is None:
            expected = arr.shape[:2]
        if arr.shape[:2] != tuple(expected):
            raise DataError(
                f"{f}: image is {arr.shape[1]}x{arr.shape[0]} but {first.name} is "
                f"{expected[1]}x{expected[0]}; give size: [height, width] to resize them all"
            )
        arrays.append(arr.reshape(arr.shape[0], arr.shape[1], -1))
    return np.stack(arrays)


def _scan_image_root(root: Path) -> tuple[list[str], list[Path], np.ndarray]:
    classes = _class_folders(root)
    if not classes:
        raise DataError(
            f"{root}: no class folders; expected {root}/<class_name>/<image>.png for each class"
        )
    files, labels = [], []
    for i, folder in enumerate(classes):
        found = _image_files(folder)
        files.extend(found)
        labels.extend([i] * len(found))
    if not files:
        raise DataError(
            f"{root}: no images ({', '.join(IMAGE_EXTENSIONS)}) in the class folders "
            f"{', '.join(c.name for c in classes)}"
        )
    return [c.name for c in classes], files, np.asarray(labels, dtype=np.int64)


def load_image_folder(
    path: str | os.PathLike,
    *,
    size: Sequence[int] | None = None,
    color: str = "auto",
    name: str | None = None,
) -> Dataset:
    """Load a folder of images sorted into one sub-folder per class.

    Layout: ``path/<class_name>/*.png`` (also JPEG, BMP, GIF, TIFF, WebP). When ``path`` holds
    exactly ``train/`` and ``test/``, each laid out that way, ``test/`` becomes the predefined
    test split. Class names are the sorted folder names.

    Parameters
    ----------
    path : str or path-like
    size : (height, width), optional
        Resize every image to this size; without it all images must share one size.
    color : {"auto", "grayscale", "rgb"}
        "auto" reads grayscale when every image is grayscale, else RGB.
    name : str, optional
        Dataset name (default: the folder's name).

    Returns
    -------
    Dataset
        ``x`` ``uint8`` of shape ``(n, H, W, C)`` with ``C`` 1 (grayscale) or 3 (RGB).
    """
    from PIL import UnidentifiedImageError

    root = Path(path).expanduser()
    if not root.is_dir():
        raise DataError(f"{root}: image folder not found")
    if color not in ("auto", "grayscale", "rgb"):
        raise DataError(f"{root}: color must be 'auto', 'grayscale' or 'rgb', got {color!r}")
    if size is not None:
        if len(size) != 2 or not all(isinstance(s, int) and s > 0 for s in size):
            raise DataError(f"{root}: size must be [height, width] in pixels, got {size!r}")
        size = (int(size[0]), int(size[1]))
    subdirs = {p.name for p in _class_folders(root)}
    split_layout = subdirs == {"train", "test"}
    class_names, files, labels = _scan_image_root(root / "train" if split_layout else root)
    test_files, test_labels = [], np.zeros(0, np.int64)
    if split_layout:
        test_names, test_files, test_labels = _scan_image_root(root / "test")
        unknown = sorted(set(test_names) - set(class_names))
        if unknown:
            raise DataError(f"{root / 'test'}: class folder {unknown[0]!r} is not in train/")
        remap = np.asarray([class_names.index(n) for n in test_names], dtype=np.int64)
        test_labels = remap[test_labels]
    if len(class_names) < 2:
        raise DataError(f"{root}: found only one class folder ({class_names[0]}); need two or more")
    if color == "auto":
        gray = True
        for f in [*files, *test_files]:
            try:
                with open_image(f) as img:  # reads the header only
                    gray = gray and img.mode in ("1", "L", "LA", "I", "I;16", "F")
            except (UnidentifiedImageError, OSError) as err:
                raise DataError(f"{f}: cannot read the image ({err})") from None
            if not gray:
                break
        color = "grayscale" if gray else "rgb"
    mode = "L" if color == "grayscale" else "RGB"
    x = _read_images(files, size, mode)
    x_test = None
    if split_layout:
        x_test = _read_images(test_files, size, mode)
        if x_test.shape[1:] != x.shape[1:]:
            raise DataError(
                f"{root / 'test'}: test images are {x_test.shape[2]}x{x_test.shape[1]}, training "
                f"images {x.shape[2]}x{x.shape[1]}; give size: [height, width] to resize them all"
            )
    return Dataset(
        x=x,
        y=labels,
        task="binary" if len(class_names) == 2 else "multiclass",
        name=name or root.name,
        class_names=class_names,
        x_test=x_test,
        y_test=test_labels if split_layout else None,
        value_range=(0.0, 255.0),
        source=str(root),
    )


def _spec_option_names() -> dict[str, tuple[str, ...]]:
    return {
        "csv": ("target", "features", "task", "delimiter", "test", "name"),
        "npz": ("task", "class_names", "feature_names", "name", "check_finite"),
        "npy": ("mmap", "task", "class_names", "feature_names", "name", "check_finite"),
        "images": ("size", "color", "name"),
    }


def load_from_spec(spec: dict[str, Any]) -> Dataset:
    """Load user data described by a dict, as written in a config file.

    ``{"csv": path, "target": column, ...}``, ``{"npz": path, ...}``,
    ``{"npy": {"x": path, "y": path, "x_test": ..., "y_test": ...}, "mmap": "auto", ...}`` or
    ``{"images": folder, "size": [h, w], "color": "auto"}``; the other keys are the keyword
    arguments of :func:`load_csv`, :func:`load_npz`, :func:`load_npy` and
    :func:`load_image_folder`.
    """
    options = _spec_option_names()
    kinds = [k for k in options if k in spec]
    if len(kinds) != 1:
        raise DataError(
            "a data spec needs exactly one of the keys csv, npz, npy, images; got keys "
            f"{', '.join(map(str, spec)) or 'none'}"
        )
    kind = kinds[0]
    kwargs = {k: v for k, v in spec.items() if k != kind}
    unknown = [k for k in kwargs if k not in options[kind]]
    if unknown:
        raise DataError(
            f"{kind} data spec: unknown option {unknown[0]!r}; allowed: {', '.join(options[kind])}"
        )
    if kind == "csv":
        if "target" not in kwargs:
            raise DataError(f"csv data spec for {spec['csv']}: missing 'target' (the label column)")
        return load_csv(spec["csv"], **kwargs)
    if kind == "npz":
        return load_npz(spec["npz"], **kwargs)
    if kind == "images":
        return load_image_folder(spec["images"], **kwargs)
    files = spec["npy"]
    if not isinstance(files, dict) or "x" not in files or "y" not in files:
        raise DataError(
            "npy data spec: expected {'npy': {'x': path, 'y': path}} (optionally x_test, y_test)"
        )
    bad = [k for k in files if k not in ("x", "y", "x_test", "y_test")]
    if bad:
        raise DataError(
            f"npy data spec: unknown file key {bad[0]!r}; allowed: x, y, x_test, y_test"
        )
    return load_npy(**files, **kwargs)
