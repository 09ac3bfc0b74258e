"""CSV files: a header row of column names, a named target column, numeric features.

A missing or non-numeric value is refused with the column and the line it is on; target strings
are class labels, target numbers class labels or regression values (see
:func:`~nablanet.data.dataset.infer_task`). The file's size and line lengths are checked first
(:func:`~nablanet.data.limits.check_text_file`).

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
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ..dataset import Dataset, check_finite_features, encode_targets
from ..errors import DataError
from ..limits import check_text_file
from .paths import existing_file

__all__ = ["load_csv"]

_MISSING = ("", "na", "nan", "n/a", "null", "none", "?")


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
    path = existing_file(path, "CSV")
    x, y_raw, feature_names = _csv_columns(path, target, features, delimiter)
    x_test = y_test_raw = None
    if test is not None:
        test_path = existing_file(test, "CSV")
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
