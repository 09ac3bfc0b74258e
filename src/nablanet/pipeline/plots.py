"""Plots of a training run and of an evaluation, written as PNG files.

Every function draws one figure, writes it atomically (to a temporary name in the same folder,
then renamed) and returns the :class:`~pathlib.Path` it wrote; missing parent folders are created.

- :func:`plot_history` writes every plot a history supports (``loss.png``, ``accuracy.png``,
  ``mae.png``, ..., ``learning_rate.png``) into a folder;
- :func:`plot_loss`, :func:`plot_metric`, :func:`plot_learning_rate`: curves per epoch;
- :func:`plot_roc`, :func:`plot_roc_curves`: ROC curves with the chance diagonal;
- :func:`plot_confusion_matrix`: a heatmap with the count in every cell;
- :func:`plot_misclassified`: a grid of misclassified images;
- :func:`plot_regression`: predicted against true values, with the identity line.

A *history* is a mapping like Keras's ``History.history`` (or an object with such a
``.history`` attribute, like :class:`nablanet.nn.History`): ``{"loss": [...], "val_loss": [...],
"accuracy": [...], "val_accuracy": [...], "learning_rate": [...]}``, one value per epoch. Any key
may be missing; ``None``, NaN and infinite values are left out of the curves.

The figures use matplotlib's object-oriented API (:class:`matplotlib.figure.Figure`), never
``pyplot``: no GUI backend, no global state, safe in a web server's threads.

>>> import tempfile
>>> history = {"loss": [0.9, 0.5, 0.4], "val_loss": [1.0, 0.6, 0.55], "accuracy": [0.6, 0.8, 0.85]}
>>> with tempfile.TemporaryDirectory() as out:
...     print([p.name for p in plot_history(history, out)])
...     print(plot_roc([0.0, 0.1, 1.0], [0.0, 0.8, 1.0], 0.85, f"{out}/roc.png").read_bytes()[:4])
['loss.png', 'accuracy.png']
b'\\x89PNG'
"""

from __future__ import annotations

import math
import os
import re
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.collections import PatchCollection
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle
from matplotlib.ticker import MaxNLocator

from ..nn.errors import NablanetError
from ..nn.metrics import r2_score, root_mean_squared_error

__all__ = [
    "plot_confusion_matrix",
    "plot_history",
    "plot_learning_rate",
    "plot_loss",
    "plot_metric",
    "plot_misclassified",
    "plot_regression",
    "plot_roc",
    "plot_roc_curves",
]

DPI = 110
TRAIN_COLOR = "#1f77b4"
VAL_COLOR = "#ff7f0e"
BEST_COLOR = "#2ca02c"
PathLike = str | os.PathLike

#: history keys that are not per-epoch metric curves
_NON_METRIC_KEYS = {"loss", "learning_rate", "lr", "epoch", "epochs", "time", "epoch_time"}
#: metrics for which lower is better
_LOWER_IS_BETTER = re.compile(r"loss|error|mse|mae|rmse|mape|msle|crossentropy|hinge", re.I)
_PRETTY = {
    "loss": "Loss",
    "accuracy": "Accuracy",
    "acc": "Accuracy",
    "mae": "Mean absolute error",
    "mse": "Mean squared error",
    "rmse": "Root mean squared error",
    "r2": "R²",
    "auc": "ROC AUC",
    "f1": "F1 score",
    "precision": "Precision",
    "recall": "Recall",
    "learning_rate": "Learning rate",
    "lr": "Learning rate",
}


# --------------------------------------------------------------------------------------------
# shared helpers
# --------------------------------------------------------------------------------------------


def _new_figure(width: float, height: float) -> Figure:
    return Figure(figsize=(width, height), dpi=DPI, layout="constrained")


def _save(fig: Figure, path: PathLike) -> Path:
    """Write ``fig`` as a PNG to ``path`` atomically (temporary file + rename)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            fig.savefig(f, format="png", dpi=DPI, facecolor="white")
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def _pretty(name: str) -> str:
    return _PRETTY.get(name, name.replace("_", " ").capitalize())


def _as_history(history: Any) -> Mapping[str, Any]:
    """The per-epoch mapping of a history dict or of an object with a ``.history`` dict."""
    inner = getattr(history, "history", None)
    if isinstance(inner, Mapping):
        return inner
    if isinstance(history, Mapping):
        return history
    raise NablanetError(
        f"history must be a dict of per-epoch lists (like History.history), got "
        f"{type(history).__name__}"
    )


def _series(history: Mapping[str, Any], key: str) -> np.ndarray | None:
    """``history[key]`` as float64 with NaN for None/inf, or None if absent or all undefined."""
    values = history.get(key)
    if values is None or isinstance(values, (str, bytes)) or np.ndim(values) != 1:
        return None
    arr = np.array([np.nan if v is None else v for v in values], dtype=np.float64)
    arr[~np.isfinite(arr)] = np.nan
    if arr.size == 0 or np.isnan(arr).all():
        return None
    return arr


def _style_axes(ax, title: str, xlabel: str, ylabel: str) -> None:
    ax.set_title(title, fontsize=13, fontweight="bold")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.grid(True, alpha=0.3)


def _epochs_axis(ax, n_epochs: int) -> None:
    """Whole-number epoch ticks (every epoch when there are few) and a symmetric margin."""
    if n_epochs <= 12:
        ax.set_xticks(np.arange(1, n_epochs + 1))
    else:
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    pad = 0.5 if n_epochs == 1 else max(0.25, 0.025 * n_epochs)
    ax.set_xlim(1 - pad, n_epochs + pad)


def _wants_log_scale(values: Sequence[np.ndarray], ratio: float) -> bool:
    finite = np.concatenate([v[np.isfinite(v)] for v in values])
    return finite.size > 1 and bool(finite.min() > 0) and finite.max() / finite.min() > ratio


def _to_vector(x: Any, name: str) -> np.ndarray:
    arr = np.asarray(x, dtype=np.float64)
    if arr.ndim != 1:
        raise NablanetError(f"{name} must be 1-D, got shape {arr.shape}")
    return arr


# --------------------------------------------------------------------------------------------
# history curves
# --------------------------------------------------------------------------------------------


def _curves_figure(
    history: Mapping[str, Any], key: str, title: str | None, log_scale: bool | None
) -> Figure:
    train = _series(history, key)
    val = _series(history, f"val_{key}")
    if train is None and val is None:
        raise NablanetError(
            f"history has no values for {key!r} or 'val_{key}'; keys present: {sorted(history)}"
        )
    pretty = _pretty(key)
    n_epochs = max(len(s) for s in (train, val) if s is not None)
    fig = _new_figure(7.5, 4.6)
    ax = fig.add_subplot()
    marker = "o" if n_epochs <= 40 else None
    for series, label, color in ((train, "training", TRAIN_COLOR), (val, "validation", VAL_COLOR)):
        if series is not None:
            epochs = np.arange(1, len(series) + 1)
            ax.plot(epochs, series, color=color, marker=marker, ms=4, lw=2, label=label)
    lower_better = bool(_LOWER_IS_BETTER.search(key))
    best_of = val if val is not None else train
    best = int(np.nanargmin(best_of) if lower_better else np.nanargmax(best_of))
    which = "validation" if val is not None else "training"
    ax.plot(
        best + 1,
        best_of[best],
        marker="*",
        ms=16,
        color=BEST_COLOR,
        ls="none",
        zorder=5,
        label=f"best {which}: {best_of[best]:.4g} (epoch {best + 1})",
    )
    if log_scale is None:
        log_scale = key == "loss" and _wants_log_scale(
            [s for s in (train, val) if s is not None], 50
        )
    if log_scale:
        ax.set_yscale("log")
    _epochs_axis(ax, n_epochs)
    _style_axes(
        ax, title or f"{pretty} per epoch", "Epoch", pretty + (" (log scale)" if log_scale else "")
    )
    ax.legend(loc="best", framealpha=0.9)
    return fig


def plot_loss(
    history: Any, path: PathLike, *, title: str | None = None, log_scale: bool | None = None
) -> Path:
    """Training and validation loss per epoch.

    Parameters
    ----------
    history : dict or History
        Per-epoch lists; uses ``"loss"`` and ``"val_loss"`` (either may be missing, not both).
    path : str or Path
        Where to write the PNG.
    title : str, default=None
        Default "Loss per epoch".
    log_scale : bool, default=None
        Logarithmic y axis; by default when the loss spans more than a factor of 50.

    Returns
    -------
    Path
        ``path``.
    """
    return _save(_curves_figure(_as_history(history), "loss", title, log_scale), path)


def plot_metric(
    history: Any,
    metric: str,
    path: PathLike,
    *,
    title: str | None = None,
    log_scale: bool = False,
) -> Path:
    """Training and validation values of one metric per epoch (``metric`` and ``val_<metric>``).

    The best epoch (of validation if present, else training) is starred: lowest for losses and
    errors (names containing "loss", "error", "mse", "mae", ...), highest otherwise.

    Parameters
    ----------
    history : dict or History
        Per-epoch lists.
    metric : str
        The metric's key, e.g. ``"accuracy"``, ``"mae"`` (a ``"val_"`` prefix is dropped).
    path : str or Path
        Where to write the PNG.
    title : str, default=None
        Default "<Metric> per epoch".
    log_scale : bool, default=False
        Logarithmic y axis.

    Returns
    -------
    Path
    """
    key = metric[4:] if metric.startswith("val_") else metric
    return _save(_curves_figure(_as_history(history), key, title, log_scale), path)


def _learning_rate_key(history: Mapping[str, Any]) -> str | None:
    for key in ("learning_rate", "lr"):
        if _series(history, key) is not None:
            return key
    return None


def plot_learning_rate(history: Any, path: PathLike, *, title: str | None = None) -> Path:
    """The learning rate per epoch (``"learning_rate"``, or Keras's older ``"lr"``).

    The y axis is logarithmic when the rate spans more than a factor of 10.

    Parameters
    ----------
    history : dict or History
    path : str or Path
    title : str, default=None
        Default "Learning rate per epoch".

    Returns
    -------
    Path
    """
    history = _as_history(history)
    key = _learning_rate_key(history)
    if key is None:
        raise NablanetError(
            f"history has no 'learning_rate' (or 'lr') values; keys present: {sorted(history)}"
        )
    lr = _series(history, key)
    fig = _new_figure(7.5, 4.2)
    ax = fig.add_subplot()
    epochs = np.arange(1, len(lr) + 1)
    ax.plot(
        epochs,
        lr,
        color="#9467bd",
        lw=2,
        marker="o" if len(lr) <= 40 else None,
        ms=4,
        drawstyle="steps-mid",
        label="learning rate",
    )
    log_scale = _wants_log_scale([lr], 10)
    if log_scale:
        ax.set_yscale("log")
    else:
        ax.ticklabel_format(axis="y", style="sci", scilimits=(-3, 4))
        ax.set_ylim(bottom=0)
    _epochs_axis(ax, len(lr))
    _style_axes(
        ax,
        title or "Learning rate per epoch",
        "Epoch",
        "Learning rate" + (" (log scale)" if log_scale else ""),
    )
    ax.legend(loc="best", framealpha=0.9)
    return _save(fig, path)


def _safe_filename(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name).strip("._") or "metric"


def plot_history(history: Any, out_dir: PathLike) -> list[Path]:
    """Write every plot a history supports into ``out_dir``.

    ``loss.png`` (from ``loss`` / ``val_loss``), one ``<metric>.png`` per other metric (from
    ``<metric>`` / ``val_<metric>``, in the history's order) and ``learning_rate.png``. Keys
    without any finite value are skipped; an empty history writes nothing.

    Parameters
    ----------
    history : dict or History
    out_dir : str or Path
        Created if missing.

    Returns
    -------
    list of Path
        The files written, in the order above.
    """
    history = _as_history(history)
    out_dir = Path(out_dir)
    written: list[Path] = []
    if _series(history, "loss") is not None or _series(history, "val_loss") is not None:
        written.append(plot_loss(history, out_dir / "loss.png"))
    seen: set[str] = set()
    for key in history:
        base = key[4:] if key.startswith("val_") else key
        if base in _NON_METRIC_KEYS or base in seen:
            continue
        seen.add(base)
        if _series(history, base) is None and _series(history, f"val_{base}") is None:
            continue
        written.append(plot_metric(history, base, out_dir / f"{_safe_filename(base)}.png"))
    if _learning_rate_key(history) is not None:
        written.append(plot_learning_rate(history, out_dir / "learning_rate.png"))
    return written


# --------------------------------------------------------------------------------------------
# ROC
# --------------------------------------------------------------------------------------------


def plot_roc_curves(
    curves: Mapping[str, tuple[Any, Any, float | None]],
    path: PathLike,
    *,
    title: str = "ROC curve",
) -> Path:
    """Several ROC curves on one chart (e.g. one-vs-rest, one per class).

    Parameters
    ----------
    curves : mapping of str to (fpr, tpr, auc)
        Legend name to the curve: ``fpr`` and ``tpr`` of shape (n_points,) (as returned by
        :func:`nablanet.nn.metrics.roc_curve`), and its AUC or None.
    path : str or Path
    title : str, default="ROC curve"

    Returns
    -------
    Path
    """
    if not curves:
        raise NablanetError("plot_roc_curves needs at least one curve")
    fig = _new_figure(6.4, 6.0)
    ax = fig.add_subplot()
    ax.plot([0, 1], [0, 1], ls="--", lw=1.2, color="gray", label="chance (AUC = 0.5)")
    single = len(curves) == 1
    for i, (name, (fpr, tpr, auc)) in enumerate(curves.items()):
        fpr = _to_vector(fpr, "fpr")
        tpr = _to_vector(tpr, "tpr")
        if fpr.shape != tpr.shape or fpr.size < 2:
            raise NablanetError(
                f"ROC curve {name!r}: fpr and tpr must have the same length >= 2, got "
                f"{fpr.shape} and {tpr.shape}"
            )
        if not (np.all(np.isfinite(fpr)) and np.all(np.isfinite(tpr))):
            raise NablanetError(
                f"ROC curve {name!r} contains NaN: y_true had a single class, so the curve is "
                "undefined"
            )
        label = name if auc is None or not math.isfinite(auc) else f"{name} (AUC = {auc:.3f})"
        color = TRAIN_COLOR if single else f"C{i % 10}"
        ax.plot(fpr, tpr, lw=2.2 if single else 1.6, color=color, label=label)
        if single:
            ax.fill_between(fpr, tpr, alpha=0.12, color=color)
    ax.set_xlim(-0.01, 1.01)
    ax.set_ylim(-0.01, 1.01)
    ax.set_aspect("equal")
    _style_axes(ax, title, "False positive rate", "True positive rate")
    ax.legend(loc="lower right", framealpha=0.9, fontsize=9 if len(curves) > 6 else 10)
    return _save(fig, path)


def plot_roc(
    fpr: Any,
    tpr: Any,
    auc: float | None,
    path: PathLike,
    *,
    title: str = "ROC curve",
    label: str = "model",
) -> Path:
    """A ROC curve with the chance diagonal; its AUC in the legend.

    Parameters
    ----------
    fpr, tpr : array-like of shape (n_points,)
        False and true positive rates, as returned by :func:`nablanet.nn.metrics.roc_curve`.
    auc : float or None
        Area under the curve, shown in the legend.
    path : str or Path
    title : str, default="ROC curve"
    label : str, default="model"
        Legend name of the curve.

    Returns
    -------
    Path
    """
    return plot_roc_curves({label: (fpr, tpr, auc)}, path, title=title)


# --------------------------------------------------------------------------------------------
# confusion matrix
# --------------------------------------------------------------------------------------------


def _text_colors(cmap, normed: np.ndarray) -> np.ndarray:
    """Black or white for each cell, whichever contrasts with the cell's colour."""
    rgba = cmap(normed)
    luminance = 0.2126 * rgba[..., 0] + 0.7152 * rgba[..., 1] + 0.0722 * rgba[..., 2]
    return np.where(luminance < 0.5, "white", "black")


def _confusion_figure(
    cm: Any, class_names: Sequence[Any] | None, normalize: bool, title: str | None
) -> Figure:
    counts = np.asarray(cm)
    if counts.ndim != 2 or counts.shape[0] != counts.shape[1] or counts.shape[0] == 0:
        raise NablanetError(f"cm must be a square (n_classes, n_classes) array, got {counts.shape}")
    if counts.dtype.kind not in "iuf" or not np.all(np.isfinite(counts)) or (counts < 0).any():
        raise NablanetError("cm must hold non-negative finite numbers")
    k = counts.shape[0]
    names = [str(i) for i in range(k)] if class_names is None else [str(c) for c in class_names]
    if len(names) != k:
        raise NablanetError(f"{len(names)} class_names given for a {k}x{k} confusion matrix")
    if normalize:
        rows = counts.sum(axis=1, keepdims=True).astype(np.float64)
        values = np.divide(counts, rows, out=np.zeros((k, k)), where=rows > 0)
        vmax = 1.0
    else:
        values = counts.astype(np.float64)
        vmax = max(float(values.max()), 1.0)

    default = "Confusion matrix (normalized by true class)" if normalize else "Confusion matrix"
    total = counts.sum()
    if not normalize and total > 0:
        default += f" (accuracy {np.trace(counts) / total:.1%})"
    title = title or default

    # size the figure for the matrix, the class names and the title
    side = min(max(4.8, 0.6 * k + 2.8), 13.0)
    tick_fontsize = 11 if k <= 12 else 8 if k <= 25 else 6
    label_points = max(len(n) for n in names) * 0.62 * tick_fontsize if k <= 60 else 0.0
    rotate = label_points > 0.9 * side * 72 / (k + 1)
    label_in = label_points / 72
    width = max(side + 1.2 + max(0.0, label_in - 0.4), len(title) * 13 * 0.62 / 72 + 0.6)
    height = side + (max(0.0, 0.71 * label_in - 0.3) if rotate else 0.0)
    fig = _new_figure(width, height)
    ax = fig.add_subplot()
    image = ax.imshow(values, cmap="Blues", vmin=0, vmax=vmax, interpolation="nearest")
    colorbar = fig.colorbar(image, ax=ax, shrink=0.8)
    colorbar.set_label("fraction of the true class" if normalize else "number of samples")

    if k <= 30:
        if normalize:
            texts = [f"{v:.2f}" for v in values.ravel()]
        elif counts.dtype.kind == "f" and not np.all(counts == np.round(counts)):
            texts = [f"{v:.3g}" for v in counts.ravel()]
        else:
            texts = [str(int(v)) for v in counts.ravel()]
        longest = max(len(t) for t in texts)
        cell_points = side * 72 / (k + 2)  # roughly one cell's width in points
        fontsize = float(np.clip(cell_points / max(longest, 2) * 1.1, 5, 16))
        colors = _text_colors(image.cmap, values / vmax)
        for idx, text in enumerate(texts):
            i, j = divmod(idx, k)
            ax.text(
                j,
                i,
                text,
                ha="center",
                va="center",
                fontsize=fontsize,
                color=colors[i, j],
                fontweight="bold" if i == j else "normal",
            )

    if k <= 60:
        ax.set_xticks(np.arange(k), labels=names, fontsize=tick_fontsize)
        ax.set_yticks(np.arange(k), labels=names, fontsize=tick_fontsize)
        if rotate:  # the column names would not fit side by side
            ax.tick_params(axis="x", labelrotation=45)
            for label in ax.get_xticklabels():
                label.set_horizontalalignment("right")
                label.set_rotation_mode("anchor")
    else:
        ax.set_xticks([])
        ax.set_yticks([])
    # a white grid between the cells
    edges = np.arange(k + 1) - 0.5
    width = 1.5 if k <= 30 else 0.5
    ax.hlines(edges, -0.5, k - 0.5, colors="white", linewidth=width)
    ax.vlines(edges, -0.5, k - 0.5, colors="white", linewidth=width)
    ax.set_title(title, fontsize=13, fontweight="bold")
    ax.set_xlabel("Predicted", fontsize=11)
    ax.set_ylabel("True", fontsize=11)
    return fig


def plot_confusion_matrix(
    cm: Any,
    class_names: Sequence[Any] | None,
    path: PathLike,
    normalize: bool = False,
    *,
    title: str | None = None,
) -> Path:
    """A confusion-matrix heatmap with the value written in every cell.

    Rows are the true classes, columns the predicted ones. Each cell's text is black or white,
    whichever contrasts with the cell; the diagonal is bold. Beyond 30 classes the cells are
    too small for text and only the colours remain.

    Parameters
    ----------
    cm : array-like of shape (n_classes, n_classes)
        Counts, ``cm[true, predicted]`` (e.g. from :func:`nablanet.nn.metrics.confusion_matrix`
        or a nested list from ``pipeline.reports.classification_metrics(...)["confusion_matrix"]``).
    class_names : sequence of str or None
        Tick labels, in index order (default ``"0"``, ``"1"``, ...).
    path : str or Path
    normalize : bool, default=False
        Show each row as fractions of its true class (0 to 1) instead of counts.
    title : str, default=None
        Default "Confusion matrix (accuracy xx.x%)".

    Returns
    -------
    Path
    """
    return _save(_confusion_figure(cm, class_names, normalize, title), path)


# --------------------------------------------------------------------------------------------
# images
# --------------------------------------------------------------------------------------------


def _as_images(images: Any, image_shape: Sequence[int] | None) -> np.ndarray:
    """Images as (n, H, W) or (n, H, W, 3|4)."""
    arr = np.asarray(images)
    if arr.dtype.kind not in "iufb":
        raise NablanetError(f"images must be numeric, got dtype {arr.dtype}")
    if image_shape is not None:
        shape = tuple(int(s) for s in image_shape)
        if int(np.prod(shape)) != int(np.prod(arr.shape[1:])):
            raise NablanetError(
                f"image_shape {shape} does not fit images of shape {arr.shape} "
                f"({int(np.prod(arr.shape[1:]))} values per image)"
            )
        arr = arr.reshape((arr.shape[0], *shape))
    elif arr.ndim == 2:
        side = math.isqrt(arr.shape[1])
        if side * side != arr.shape[1]:
            raise NablanetError(
                f"images of shape {arr.shape} are flattened but not square; pass image_shape="
                "(height, width)"
            )
        arr = arr.reshape(arr.shape[0], side, side)
    if arr.ndim == 4 and arr.shape[-1] == 1:
        arr = arr[..., 0]
    if not (arr.ndim == 3 or (arr.ndim == 4 and arr.shape[-1] in (3, 4))):
        raise NablanetError(
            "images must have shape (n, H, W), (n, H, W, 1), (n, H, W, 3) or flattened "
            f"(n, H*W) with image_shape; got {np.asarray(images).shape}"
        )
    return arr


def _as_labels(y: Any, name: str) -> np.ndarray:
    y = np.asarray(y)
    if y.ndim == 2 and y.shape[1] > 1:
        return np.argmax(y, axis=1)
    if y.ndim == 2:
        y = y[:, 0]
    if y.ndim != 1:
        raise NablanetError(f"{name} must have shape (n,) or (n, n_classes), got {y.shape}")
    return y


def _label_name(label: Any, class_names: Sequence[Any] | None) -> str:
    if class_names is not None and isinstance(label, (int, np.integer)):
        if 0 <= int(label) < len(class_names):
            return str(class_names[int(label)])
    if isinstance(label, (float, np.floating)) and float(label).is_integer():
        label = int(label)
        if class_names is not None and 0 <= label < len(class_names):
            return str(class_names[label])
    return str(label)


def plot_misclassified(
    images: Any,
    y_true: Any,
    y_pred: Any,
    class_names: Sequence[Any] | None,
    path: PathLike,
    max_images: int = 25,
    *,
    image_shape: Sequence[int] | None = None,
    cmap: str = "gray",
    title: str | None = None,
) -> Path:
    """A grid of the first ``max_images`` misclassified images, titled "true: x / pred: y".

    Parameters
    ----------
    images : array-like of shape (n, H, W), (n, H, W, 1), (n, H, W, 3) or (n, H*W)
        The images, in the order of the labels. Flattened rows need ``image_shape`` unless they
        are square.
    y_true, y_pred : array-like of shape (n,) or (n, n_classes)
        Labels (class indices, or names), or one-hot / probability rows (argmax is taken).
    class_names : sequence of str or None
        Names of the class indices (default: the labels themselves).
    path : str or Path
    max_images : int, default=25
        At most this many images, in dataset order.
    image_shape : tuple of int, default=None
        ``(H, W)`` or ``(H, W, C)`` to unflatten the rows of ``images``.
    cmap : str, default="gray"
        Colour map of single-channel images (e.g. ``"gray_r"`` for dark ink on white).
    title : str, default=None
        Default "Misclassified: k of n shown (...)".

    Returns
    -------
    Path
        A PNG saying "No misclassified images" when every prediction is right.
    """
    if isinstance(max_images, bool) or not isinstance(max_images, int) or max_images < 1:
        raise NablanetError(f"max_images must be a positive integer, got {max_images!r}")
    imgs = _as_images(images, image_shape)
    y_true = _as_labels(y_true, "y_true")
    y_pred = _as_labels(y_pred, "y_pred")
    if not (imgs.shape[0] == y_true.shape[0] == y_pred.shape[0]):
        raise NablanetError(
            f"images, y_true and y_pred must have the same length, got {imgs.shape[0]}, "
            f"{y_true.shape[0]} and {y_pred.shape[0]}"
        )
    wrong = np.flatnonzero(y_true != y_pred)
    shown = wrong[:max_images]
    n = imgs.shape[0]

    if shown.size == 0:
        fig = _new_figure(5.0, 2.2)
        fig.text(
            0.5,
            0.5,
            f"No misclassified images\n(all {n} predictions are correct)",
            ha="center",
            va="center",
            fontsize=14,
        )
        return _save(fig, path)

    m = shown.size
    titles = []
    for i in shown:
        t = _label_name(y_true[i], class_names)
        p = _label_name(y_pred[i], class_names)
        text = f"true: {t} / pred: {p}"
        titles.append(text if len(text) <= 22 else f"true: {t}\npred: {p}")
    if title is None:
        title = f"Misclassified images: {wrong.size} of {n} ({wrong.size / n:.1%})"
        if m < wrong.size:
            title += f", first {m} shown"

    # One axes spanning the figure, in inches; every image is placed with `extent`. Far faster
    # than one axes per image (each axes builds its ticks) or a layout engine.
    ncols = math.ceil(math.sqrt(m))
    nrows = math.ceil(m / ncols)
    aspect = imgs.shape[1] / imgs.shape[2]  # height / width
    img_w = 1.45 if aspect <= 1 else 1.45 / min(aspect, 1.6)
    img_h = img_w * min(max(aspect, 0.5), 1.6)
    cell_w = max(img_w, 1.45) + 0.3
    line_h = 0.17
    title_h = (2 if any("\n" in t for t in titles) else 1) * line_h + 0.06
    cell_h = img_h + title_h + 0.12
    head_h = 0.5
    fig_w = max(ncols * cell_w + 0.2, 4.6)
    fig_h = nrows * cell_h + head_h + 0.05
    x0 = (fig_w - ncols * cell_w) / 2
    fig = Figure(figsize=(fig_w, fig_h), dpi=DPI)
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_axis_off()
    frames = []
    for slot, (i, text) in enumerate(zip(shown, titles)):
        row, col = divmod(slot, ncols)
        left = x0 + col * cell_w + (cell_w - img_w) / 2
        bottom = fig_h - head_h - (row + 1) * cell_h + 0.1
        img = imgs[i].astype(np.float64)
        extent = (left, left + img_w, bottom, bottom + img_h)
        if img.ndim == 3:  # colour: scale into [0, 1]
            lo, hi = img.min(), img.max()
            img = (img - lo) / (hi - lo) if hi > lo else np.zeros_like(img)
            ax.imshow(img, interpolation="nearest", aspect="auto", extent=extent)
        else:
            ax.imshow(img, cmap=cmap, interpolation="nearest", aspect="auto", extent=extent)
        frames.append(Rectangle((left, bottom), img_w, img_h))
        ax.text(
            left + img_w / 2,
            bottom + img_h + 0.05,
            text,
            ha="center",
            va="bottom",
            fontsize=9,
            color="#b22222",
            linespacing=1.15,
        )
    ax.add_collection(PatchCollection(frames, facecolor="none", edgecolor="#999999", linewidth=0.8))
    wrap = len(title) * 12 * 0.6 / 72 > fig_w - 0.3
    if wrap and ", first" in title:
        title = title.replace(", first", "\nfirst")
    ax.text(
        fig_w / 2,
        fig_h - 0.12,
        title,
        ha="center",
        va="top",
        fontsize=11 if wrap else 12,
        fontweight="bold",
    )
    ax.set_xlim(0, fig_w)
    ax.set_ylim(0, fig_h)
    return _save(fig, path)


# --------------------------------------------------------------------------------------------
# regression
# --------------------------------------------------------------------------------------------


def plot_regression(
    y_true: Any,
    y_pred: Any,
    path: PathLike,
    *,
    title: str = "Predicted vs true values",
    max_points: int = 20_000,
) -> Path:
    """Predicted against true values, with the identity line; R² and RMSE in the legend.

    Parameters
    ----------
    y_true, y_pred : array-like of shape (n_samples,) or (n_samples, n_outputs)
        Several outputs are pooled into one scatter.
    path : str or Path
    title : str, default="Predicted vs true values"
    max_points : int, default=20000
        Above this many points a fixed random subset is drawn (the metrics use all points).

    Returns
    -------
    Path
    """
    t = np.asarray(y_true, dtype=np.float64)
    p = np.asarray(y_pred, dtype=np.float64)
    if t.size != p.size or t.size == 0:
        raise NablanetError(
            f"y_true and y_pred must have the same non-zero size, got shapes {t.shape} and "
            f"{p.shape}"
        )
    t = t.reshape(-1)
    p = p.reshape(-1)
    if not (np.all(np.isfinite(t)) and np.all(np.isfinite(p))):
        raise NablanetError("y_true and y_pred must be finite (no NaN or infinity)")
    rmse = root_mean_squared_error(t, p)
    r2 = r2_score(t, p) if t.size >= 2 else float("nan")
    n = t.size
    if n > max_points:
        keep = np.random.default_rng(0).choice(n, size=max_points, replace=False)
        t_shown, p_shown = t[keep], p[keep]
    else:
        t_shown, p_shown = t, p

    fig = _new_figure(6.4, 6.0)
    ax = fig.add_subplot()
    lo = float(min(t.min(), p.min()))
    hi = float(max(t.max(), p.max()))
    pad = 0.05 * (hi - lo) if hi > lo else 1.0
    lo, hi = lo - pad, hi + pad
    ax.plot([lo, hi], [lo, hi], ls="--", lw=1.5, color="gray", label="ideal (predicted = true)")
    stats = f"RMSE = {rmse:.4g}" + (f", R² = {r2:.3f}" if math.isfinite(r2) else "")
    shown_note = f", {t_shown.size} shown" if t_shown.size < n else ""
    ax.scatter(
        t_shown,
        p_shown,
        s=14 if n <= 1000 else 5,
        alpha=float(np.clip(1000 / t_shown.size, 0.15, 0.8)),
        color=TRAIN_COLOR,
        edgecolors="none",
        label=f"{n} samples{shown_note} ({stats})",
    )
    ax.set_xlim(lo, hi)
    ax.set_ylim(lo, hi)
    ax.set_aspect("equal")
    _style_axes(ax, title, "True value", "Predicted value")
    ax.legend(loc="upper left", framealpha=0.9, fontsize=9)
    return _save(fig, path)
