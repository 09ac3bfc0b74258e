"""CSV files: a header row of column names (or none), a named target column, numeric features.

The header is decided the way people expect (:func:`csv_columns`): a first row of numbers is
data, and the file has no header, its columns being named ``column_1``, ``column_2``, ...; a
first row of names is the header. A first row that mixes names and numbers is data when the
second row has text in the same columns (class labels in a headerless file), and is refused
otherwise (``abc,10.38,...`` above numeric rows: a typo in a data row, or a header with a number
for a name), never silently dropped or taken for names. A headerless file says so in one line of
the log.

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
>>> _ = path.write_text("1.0,2.0,0\\n3.0,4.5,1\\n2.0,2.5,0\\n")   # no header: numbers are data
>>> csv_columns(path)
(['column_1', 'column_2', 'column_3'], False)
>>> load_csv(path, target="column_3").x.shape
(3, 2)
"""

from __future__ import annotations

import csv
import logging
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ..dataset import Dataset, check_finite_features, encode_targets
from ..errors import DataError
from ..limits import check_text_file
from .paths import existing_file

__all__ = ["csv_columns", "default_column_names", "first_row_kind", "load_csv"]

logger = logging.getLogger("nablanet.data")

_MISSING = ("", "na", "nan", "n/a", "null", "none", "?")
#: the names of the columns of a CSV file without a header row: column_1, column_2, ...
HEADERLESS_PREFIX = "column_"


def default_column_names(n: int) -> list[str]:
    """``["column_1", ..., "column_<n>"]``: the columns of a file without a header."""
    return [f"{HEADERLESS_PREFIX}{i + 1}" for i in range(n)]


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def first_row_kind(row: Sequence[str]) -> str:
    """What the first row of a CSV file is: ``"data"`` (every filled cell is a number),
    ``"header"`` (no cell is a number) or ``"mixed"`` (both: a data row with a typo, or a header
    with a number for a name; the caller decides, with what it knows about the columns).

    >>> first_row_kind(["17.99", "10.38", "1"]), first_row_kind(["radius", "texture", "y"])
    ('data', 'header')
    >>> first_row_kind(["abc", "10.38", "1"])
    'mixed'
    """
    cells = [c.strip() for c in row]
    filled = [c for c in cells if c]
    numbers = [c for c in filled if _is_number(c)]
    if filled and len(numbers) == len(filled):
        return "data"
    return "mixed" if numbers else "header"


def _text_columns(row: Sequence[str]) -> set[int]:
    """The positions of the filled cells of ``row`` that are not numbers."""
    return {i for i, c in enumerate(row) if c.strip() and not _is_number(c.strip())}


def _mixed_row_error(path: Path, row: Sequence[str]) -> DataError:
    names = [c.strip() for c in row if c.strip() and not _is_number(c.strip())]
    shown = ", ".join(repr(c.strip()) for c in row[:4]) + (", ..." if len(row) > 4 else "")
    return DataError(
        f"{path}: the first row ({shown}) mixes names and numbers, unlike the next row: if it "
        f"is data, {names[0]!r} looks like a typo; if it is a header, give every column a name "
        "that is not a number"
    )


def csv_columns(path: str | os.PathLike[str], delimiter: str = ",") -> tuple[list[str], bool]:
    """The column names of a CSV file, and whether its first row is a header.

    A first row of numbers is data: the columns are then ``column_1``, ``column_2``, ...

    Raises
    ------
    DataError
        An empty or unreadable file, duplicate names, a first row that mixes names and numbers.
    """
    path = Path(path)
    check_text_file(path)
    try:
        with path.open(newline="", encoding="utf-8-sig") as f:
            reader = csv.reader(f, delimiter=delimiter)
            first = next(reader, None)
            second = next((row for row in reader if any(c.strip() for c in row)), None)
    except UnicodeDecodeError as err:
        raise DataError(
            f"{path}: not a UTF-8 text file, is it really CSV? ({err.reason})"
        ) from None
    except csv.Error as err:
        raise DataError(f"{path}: malformed CSV ({err})") from None
    if not first or all(not h.strip() for h in first):
        raise DataError(f"{path}: empty CSV file (expected a header row of column names)")
    kind = first_row_kind(first)
    if kind == "mixed" and second is not None and _text_columns(second) == _text_columns(first):
        kind = "data"  # text in the same columns on the next row too: labels, not names
    if kind == "data":
        return default_column_names(len(first)), False
    if kind == "mixed":
        raise _mixed_row_error(path, first)
    header = [h.strip() for h in first]
    dupes = sorted({h for h in header if header.count(h) > 1})
    if dupes:
        raise DataError(f"{path}: duplicate column names {dupes}")
    return header, True


def _read_csv_table(path: Path, delimiter: str) -> tuple[list[str], np.ndarray, bool]:
    """Column names, the data as a 2-D array of stripped strings, and whether the file had a
    header row (see :func:`csv_columns`)."""
    header, has_header = csv_columns(path, delimiter)
    if not has_header:
        logger.info(
            "%s: the first row is numbers, so it is data and the file has no header; its "
            "columns are named %s..%s",
            path,
            header[0],
            header[-1],
        )
    try:
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # "input contained no data"
            table = np.loadtxt(
                path,
                dtype=str,
                delimiter=delimiter,
                skiprows=1 if has_header else 0,
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
    return header, np.char.strip(table), has_header


def _numeric_column(values: np.ndarray, path: Path, column: str, first_line: int = 2) -> np.ndarray:
    """A column of strings as float64, naming the first missing or non-numeric value."""
    missing = np.isin(np.char.lower(values), _MISSING)
    if missing.any():
        row = int(np.argmax(missing))
        raise DataError(
            f"{path}: column {column!r} has a missing value {str(values[row])!r} on line "
            f"{row + first_line}; "
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
                f"{path}: column {column!r} is not numeric (value {value!r} on line "
                f"{row + first_line}); "
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
    header, table, has_header = _read_csv_table(path, delimiter)
    if target not in header:
        hint = "" if has_header else " (the file has no header row: name a column_<n>)"
        raise DataError(
            f"{path}: no target column {target!r}; the columns are {', '.join(header)}{hint}"
        )
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
    first_line = 2 if has_header else 1
    cols = [_numeric_column(table[:, header.index(f)], path, f, first_line) for f in features]
    x = np.stack(cols, axis=1).astype(np.float32)
    check_finite_features(x, str(path), features)
    y = _raw_target(table[:, header.index(target)], path, target)
    return x, y, features


def load_csv(
    path: str | os.PathLike[str],
    target: str,
    *,
    features: Sequence[str] | None = None,
    task: str | None = None,
    delimiter: str = ",",
    test: str | os.PathLike[str] | None = None,
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
