"""What the Data tab shows about a dataset: a summary, the class balance, samples.

Pure functions of a :class:`nablanet.data.Dataset` (no Gradio), so they are tested without a
browser.

>>> import numpy as np
>>> from nablanet.data import Dataset
>>> ds = Dataset(x=np.zeros((5, 2), np.float32), y=np.array([0, 1, 1, 0, 1]), task="binary",
...              name="toy", class_names=["no", "yes"], feature_names=["a", "b"])
>>> class_balance(ds)
  class  count  share
0    no      2    0.4
1   yes      3    0.6
"""

from __future__ import annotations

import csv
import itertools
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from . import pipeline_api as api
from .errors import UIError

#: the registry names the Data tab offers, in this order, with a friendly label
BUILTIN_LABELS = {
    "breast_cancer": "Breast cancer (binary classification, tabular)",
    "mnist": "MNIST (handwritten digits, 28x28 images)",
    "fashion_mnist": "Fashion-MNIST (clothing, 28x28 images)",
    "diabetes": "Diabetes (regression, tabular)",
    "digits": "Digits (handwritten digits, 8x8 images)",
    "cifar10": "CIFAR-10 (colour photos in 10 classes, 32x32 RGB)",
    "spiral": "Spiral (toy 2-D, 3 classes)",
    "circles": "Circles (toy 2-D, 2 classes)",
    "moons": "Moons (toy 2-D, 2 classes)",
    "xor": "XOR (toy 2-D, 2 classes)",
    "gaussians": "Gaussians (toy 2-D blobs, 2 classes)",
}
UPLOAD = "upload"
UPLOAD_LABEL = "Upload a CSV or NPZ file…"


def dataset_choices(names: list[str] | None = None) -> list[tuple[str, str]]:
    """(label, value) pairs for the dataset dropdown: built-in datasets, then "upload"."""
    names = list(BUILTIN_LABELS) if names is None else names
    ordered = [n for n in BUILTIN_LABELS if n in names] + [
        n for n in names if n not in BUILTIN_LABELS
    ]
    return [(BUILTIN_LABELS.get(n, n), n) for n in ordered] + [(UPLOAD_LABEL, UPLOAD)]


def _fmt_shape(shape: Any) -> str:
    return " × ".join(str(int(s)) for s in shape)


_TASK_TEXT = {
    "binary": "binary classification",
    "multiclass": "multi-class classification",
    "regression": "regression",
}


def describe(ds: Any) -> str:
    """A Markdown summary: task, sizes, input shape, classes or target range, features."""
    n_test = None if ds.x_test is None else len(ds.x_test)
    sizes = f"{ds.n_samples:,}" + (
        f" + {n_test:,} in its own test set"
        if n_test
        else " (a test split is held out when training)"
    )
    kind = "images" if ds.is_image else "rows of features"
    lines = [
        f"### {ds.name}",
        ds.description or "",
        "",
        f"- **Task:** {_TASK_TEXT.get(ds.task, ds.task)}",
        f"- **Samples:** {sizes}",
        f"- **Input:** {kind}, shape {_fmt_shape(ds.input_shape)}",
    ]
    if ds.class_names is not None:
        names = ", ".join(ds.class_names[:12]) + (" …" if len(ds.class_names) > 12 else "")
        lines.append(f"- **Classes:** {len(ds.class_names)} — {names}")
    else:
        y = np.asarray(ds.y, dtype=np.float64)
        lines.append(
            f"- **Target:** mean {y.mean():.4g}, std {y.std():.4g}, "
            f"range {y.min():.4g} … {y.max():.4g}"
        )
    if ds.feature_names is not None:
        names = ", ".join(ds.feature_names[:8]) + (" …" if len(ds.feature_names) > 8 else "")
        lines.append(f"- **Features:** {len(ds.feature_names)} — {names}")
    return "\n".join(lines)


def class_balance(ds: Any) -> pd.DataFrame:
    """Classification: one row per class (``class``, ``count``, ``share``) of the training
    samples. Regression: a 12-bin histogram of the target (``class`` is the bin's range)."""
    y = np.asarray(ds.y)
    if ds.class_names is not None:
        counts = np.bincount(y.astype(np.int64), minlength=len(ds.class_names))
        return pd.DataFrame(
            {
                "class": list(ds.class_names),
                "count": counts.astype(np.int64),
                "share": np.round(counts / max(1, counts.sum()), 4),
            }
        )
    values = y.reshape(len(y), -1)[:, 0].astype(np.float64)
    counts, edges = np.histogram(values, bins=12)
    labels = [f"{a:.3g}–{b:.3g}" for a, b in itertools.pairwise(edges)]
    return pd.DataFrame(
        {"class": labels, "count": counts, "share": np.round(counts / max(1, counts.sum()), 4)}
    )


def balance_titles(ds: Any) -> dict[str, str]:
    """The title and x-axis title of :func:`class_balance`'s plot: "Class balance" over the
    classes, or a histogram of a regression target over its values.

    >>> from nablanet.data import Dataset
    >>> ds = Dataset(x=np.zeros((3, 1), np.float32), y=np.array([1.5, 2.0, 7.0], np.float32),
    ...              task="regression", name="toy")
    >>> balance_titles(ds)
    {'title': 'Target histogram (training samples)', 'x_title': 'target value (12 bins)'}
    """
    if ds.class_names is not None:
        return {"title": "Class balance (training samples)", "x_title": "class"}
    return {"title": "Target histogram (training samples)", "x_title": "target value (12 bins)"}


def sample_indices(ds: Any, n: int, seed: int = 0) -> np.ndarray:
    """``n`` sample indices, spread over the classes (round-robin) when there are classes."""
    rng = np.random.default_rng(seed)
    n = min(n, ds.n_samples)
    if ds.class_names is None:
        return np.sort(rng.choice(ds.n_samples, size=n, replace=False))
    y = np.asarray(ds.y)
    per_class = [rng.permutation(np.flatnonzero(y == c)) for c in range(len(ds.class_names))]
    picked: list[int] = []
    depth = 0
    while len(picked) < n and any(depth < len(p) for p in per_class):
        picked.extend(int(p[depth]) for p in per_class if depth < len(p))
        depth += 1
    return np.asarray(picked[:n], dtype=np.int64)


def sample_grid(ds: Any, n: int = 30, columns: int = 10, seed: int = 0):
    """A matplotlib Figure of ``n`` sample images with their class names (image datasets)."""
    from matplotlib.figure import Figure

    idx = sample_indices(ds, n, seed)
    rows = int(np.ceil(len(idx) / columns))
    fig = Figure(figsize=(columns * 1.0, rows * 1.18), dpi=100)
    lo, hi = ds.value_range if ds.value_range is not None else (0.0, 255.0)
    for k, i in enumerate(idx):
        ax = fig.add_subplot(rows, columns, k + 1)
        img = np.asarray(ds.x[i], dtype=np.float32)
        if img.shape[-1] == 1:
            ax.imshow(img[..., 0], cmap="gray", vmin=lo, vmax=hi, interpolation="nearest")
        else:
            ax.imshow(np.clip((img - lo) / max(hi - lo, 1e-12), 0, 1), interpolation="nearest")
        label = ds.class_names[int(ds.y[i])] if ds.class_names is not None else f"{ds.y[i]:.3g}"
        ax.set_title(label, fontsize=8, pad=2)
        ax.set_axis_off()
    # no label badge over the grid (show_label=False in the tab): the title is in the figure
    fig.suptitle(f"Samples of {ds.name}", fontsize=10, y=0.995)
    top = 1.0 - 0.36 / fig.get_figheight()
    fig.subplots_adjust(left=0.01, right=0.99, top=top, bottom=0.01, wspace=0.08, hspace=0.3)
    return fig


def sample_table(ds: Any, n: int = 12, seed: int = 0) -> pd.DataFrame:
    """The first columns of ``n`` sample rows (tabular datasets), with the target last."""
    idx = sample_indices(ds, n, seed)
    x = np.asarray(ds.x[idx], dtype=np.float64).reshape(len(idx), -1)
    names = ds.feature_names or [f"x{j}" for j in range(x.shape[1])]
    frame = pd.DataFrame(np.round(x, 4), columns=names)
    if ds.class_names is not None:
        frame["target"] = [ds.class_names[int(v)] for v in np.asarray(ds.y)[idx]]
    else:
        frame["target"] = np.round(np.asarray(ds.y, np.float64).reshape(len(ds.y), -1)[idx, 0], 4)
    return frame


# -- uploaded files ----------------------------------------------------------------------------
def csv_columns(path: str | Path) -> list[str]:
    """The columns of a CSV file (comma, semicolon or tab separated): its header row, or
    ``column_1``, ``column_2``, ... when the first row is numbers."""
    path = Path(path)
    try:
        with path.open(newline="", encoding="utf-8-sig") as f:
            head = f.read(64 * 1024)
    except (OSError, UnicodeDecodeError) as e:
        raise UIError(f"{path.name}: cannot read this file as text ({e}).") from None
    if not head.strip():
        raise UIError(f"{path.name}: the file is empty.")
    try:
        dialect = csv.Sniffer().sniff(head.splitlines()[0], delimiters=",;\t")
        delimiter = dialect.delimiter
    except csv.Error:
        delimiter = ","
    # the data side decides what the first row is: a row of numbers is data, not names
    columns = api.csv_columns(path, delimiter)
    if len(columns) < 2:
        raise UIError(
            f"{path.name}: expected a header row with at least 2 columns (features and a "
            f"target), found {columns}."
        )
    return columns


def upload_spec(path: str | Path, target: str | None = None) -> dict[str, Any]:
    """The ``data.dataset`` spec of an uploaded file: ``{csv, target}`` or ``{npz}``."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".csv":
        if not target:
            raise UIError(f"{path.name}: choose the target column.")
        return {"csv": str(path), "target": target}
    if suffix == ".npz":
        return {"npz": str(path)}
    raise UIError(f"{path.name}: upload a .csv (with a header row) or an .npz (arrays x and y).")


def spec_label(spec: str | Mapping[str, Any]) -> str:
    """A short name of a dataset spec for titles."""
    if isinstance(spec, str):
        return spec
    for key in ("csv", "npz"):
        if key in spec:
            return Path(str(spec[key])).name
    return str(spec)
