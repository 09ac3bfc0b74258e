"""Raw inputs for ``predict``: ``.npy``, ``.npz``, ``.csv`` files, images (PNG, JPEG, ...) and
folders of images, turned into a batch of raw samples of the model's input shape.

Images go through :func:`nablanet.pipeline.images.image_to_sample`, the one path the UI and
the Python API use too: converted to the model's colour mode, resized to its image size, and
reframed like MNIST for a digit model (see :mod:`nablanet.pipeline.images`).
"""

from __future__ import annotations

import csv
import logging
import zipfile
from pathlib import Path

import numpy as np

from ..data.formats.images import IMAGE_EXTENSIONS
from ..data.formats.table import first_row_kind
from ..data.limits import check_text_file
from ..nn.npyfile import ArrayFileError, NpzArchive, read_npy
from .errors import InputError
from .images import image_to_sample
from .trained import TrainedModel

__all__ = ["read_csv_features", "read_image", "read_inputs"]

logger = logging.getLogger("nablanet.pipeline")

TABLE_EXTENSIONS = (".csv", ".tsv", ".txt")


def read_inputs(
    path: str | Path, model: TrainedModel, *, by_position: bool = False
) -> tuple[np.ndarray, list[str]]:
    """Read raw samples for ``model`` from ``path`` (``by_position``: a CSV header whose names
    differ from the model's columns is taken in order, see :func:`read_csv_features`).

    Returns
    -------
    x : ndarray of shape (n, *model.input_shape)
    ids : list of str
        One label per sample (row number, or image file name).

    Raises
    ------
    InputError
        Missing/unreadable file, unsupported format, wrong feature count or shape, NaN.
    """
    path = Path(path)
    if not path.exists():
        raise InputError(f"{path}: no such file or folder")
    suffix = path.suffix.lower()
    if path.is_dir():
        files = sorted(
            p
            for p in path.iterdir()
            if p.is_file() and p.suffix.lower() in IMAGE_EXTENSIONS and not p.name.startswith(".")
        )
        if not files:
            raise InputError(f"{path}: no images ({', '.join(IMAGE_EXTENSIONS)}) in this folder")
        x = np.stack([read_image(f, model) for f in files])
        return model.check_inputs(x, str(path)), [f.name for f in files]
    if suffix in IMAGE_EXTENSIONS:
        x = read_image(path, model)[np.newaxis]
        return model.check_inputs(x, str(path)), [path.name]
    if suffix == ".npy":
        x = _load_npy(path)
    elif suffix == ".npz":
        x = _load_npz(path)
    elif suffix in TABLE_EXTENSIONS:
        x = read_csv_features(path, model, by_position=by_position)
    else:
        raise InputError(
            f"{path}: unsupported input format {suffix or '(no extension)'!r}; use .npy, .npz, "
            f".csv or an image ({', '.join(IMAGE_EXTENSIONS)})"
        )
    x = model.check_inputs(x, str(path))
    return x, [str(i) for i in range(len(x))]


def _load_npy(path: Path) -> np.ndarray:
    try:
        return read_npy(path)
    except ArrayFileError as e:
        raise InputError(str(e)) from None
    except (OSError, EOFError) as e:
        raise InputError(f"{path}: not a readable .npy file ({e})") from None


def _load_npz(path: Path) -> np.ndarray:
    if not zipfile.is_zipfile(path):
        raise InputError(f"{path}: not a readable .npz file (not a zip archive)")
    try:
        with NpzArchive(path) as archive:
            keys = list(archive.headers)
            key = "x" if "x" in keys else (keys[0] if len(keys) == 1 else None)
            if key is None:
                raise InputError(
                    f"{path}: expected an array 'x' in the archive, found {', '.join(keys) or 'none'}"
                )
            return archive.read(key)
    except ArrayFileError as e:
        raise InputError(str(e)) from None


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _decide_header(
    path: Path, first: list[str], model: TrainedModel, by_position: bool
) -> tuple[list[str] | None, list[int] | None]:
    """``(header or None, column indices by name or None for "in order")`` for a CSV file whose
    first row is ``first``; logs the decision (see :func:`read_csv_features`)."""
    names = model.feature_names
    cells = [c.strip() for c in first]
    kind = first_row_kind(cells)
    if kind == "data":
        logger.info("%s: the first row is numbers: data, no header", path)
        return None, None
    known = set(names or ())
    if kind == "mixed" and not known & set(cells):
        bad = next(c for c in cells if c and not _is_number(c))
        raise InputError(
            f"{path}: the first row mixes numbers and text ({bad!r} in column "
            f"{cells.index(bad) + 1}), so it is data with a non-numeric value, not a header; "
            "fix that value"
        )
    if names and known <= set(cells):
        ignored = [c for c in cells if c not in known]
        logger.info(
            "%s: the first row is a header naming the model's %d columns%s",
            path,
            len(names),
            f"; ignoring column(s) {', '.join(ignored)}" if ignored else "",
        )
        return cells, [cells.index(n) for n in names]
    if not names:
        logger.info(
            "%s: the first row is a header; the model has no feature names, so the columns "
            "are taken in order",
            path,
        )
        return cells, None
    missing = [n for n in names if n not in cells]
    unknown = [c for c in cells if c not in known]
    counts_match = len(cells) == len(names)
    if by_position and counts_match:
        logger.info(
            "%s: the header's names differ from the model's columns; taking the %d columns in "
            "order, as asked (--by-position)",
            path,
            len(names),
        )
        return cells, None
    what = f"missing {', '.join(repr(n) for n in missing[:3])}{', ...' if len(missing) > 3 else ''}"
    if unknown:
        what += f"; not the model's: {', '.join(repr(c) for c in unknown[:3])}"
        what += ", ..." if len(unknown) > 3 else ""
    if not counts_match:
        raise InputError(
            f"{path}: wrong feature count: the model expects {model.describe_inputs()}, the file "
            f"has {len(cells)} column(s), and its header does not name the model's ({what})"
        )
    raise InputError(
        f"{path}: the header does not name the model's columns ({what}); rename the columns, "
        "or pass --by-position to take them in order"
    )


def read_csv_features(
    path: str | Path, model: TrainedModel, *, by_position: bool = False
) -> np.ndarray:
    """Feature rows from a CSV file, in the model's feature order.

    The first row is decided against the model's training columns, and the decision is logged
    in one line:

    - every cell a number: data (the file has no header); the columns are taken in order and
      their number must match;
    - it names every column the model was trained on: the header; columns are picked by name
      (extra columns such as the target or an id are ignored);
    - names and numbers mixed, none of them a training column (``abc,10.38,...``): data with a
      typo, refused with the cell named (never dropped as a "header");
    - other names: refused, naming the missing and unknown columns, unless ``by_position``
      (``nablanet predict --by-position``) and the counts match: then the columns are taken in
      order, as named in the log. A model without feature names takes the columns in order.

    Empty cells and ``nan`` are rejected.
    """
    path = Path(path)
    delimiter = "\t" if path.suffix.lower() == ".tsv" else ","
    check_text_file(path, InputError)
    try:
        with path.open(newline="", encoding="utf-8-sig") as f:
            rows = [row for row in csv.reader(f, delimiter=delimiter) if row]
    except (OSError, UnicodeDecodeError, csv.Error) as e:
        raise InputError(f"{path}: cannot read the CSV file ({e})") from None
    if not rows:
        raise InputError(f"{path}: the file is empty")
    names = model.feature_names
    header, columns = _decide_header(path, rows[0], model, by_position)
    if header is not None:
        rows = rows[1:]
    if not rows:
        raise InputError(f"{path}: no data rows after the header")
    width = len(rows[0])
    for i, row in enumerate(rows):
        if len(row) != width:
            raise InputError(
                f"{path}: row {i + 1 + (header is not None)} has {len(row)} columns, the first "
                f"row has {width}"
            )
    table = np.array(rows, dtype=object)
    if columns is None:  # in order
        columns = list(range(width))
        if len(model.input_shape) == 1 and width != model.n_features:
            extra = ""
            if header is not None and names:
                missing = [n for n in names if n not in header]
                extra = f"; missing column(s): {', '.join(missing[:5])}" if missing else ""
            raise InputError(
                f"{path}: wrong feature count: the model expects {model.describe_inputs()}, the "
                f"file has {width} column(s){extra}"
            )
    x = np.empty((len(table), len(columns)), dtype=np.float32)
    for j, col in enumerate(columns):
        cells = table[:, col]
        try:
            x[:, j] = np.array([c.strip() or "nan" for c in cells], dtype=np.float64)
        except ValueError:
            bad = next(i for i, c in enumerate(cells) if c.strip() and not _is_number(c))
            label = header[col] if header is not None else f"column {col + 1}"
            raise InputError(
                f"{path}: non-numeric value {cells[bad]!r} in {label!r} (row "
                f"{bad + 1 + (header is not None)})"
            ) from None
    return x


def read_image(path: str | Path, model: TrainedModel) -> np.ndarray:
    """One image file as a raw sample of ``model.input_shape`` ``(H, W, C)``, through
    :func:`nablanet.pipeline.images.image_to_sample` (the path the UI and the Python API take
    too); each conversion it makes is logged."""
    path = Path(path)
    if not model.is_image:
        raise InputError(
            f"{path}: this model takes {model.describe_inputs()}, not images; give a .csv or .npy"
        )
    sample = image_to_sample(path, model)
    for note in sample.notes:
        logger.info("%s: %s", path.name, note)
    return sample.x
