"""Curves per epoch of a training history: loss, any metric, the learning rate, and all of them.

A *history* is a mapping like Keras's ``History.history`` (or an object with such a
``.history`` attribute, like :class:`nablanet.nn.History`): ``{"loss": [...], "val_loss": [...],
"accuracy": [...], "val_accuracy": [...], "learning_rate": [...]}``, one value per epoch. Any key
may be missing; ``None``, NaN and infinite values are left out of the curves.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from ...nn.errors import NablanetError
from ._style import BEST_COLOR, TRAIN_COLOR, VAL_COLOR, PathLike, new_figure, save, style_axes

__all__ = ["plot_history", "plot_learning_rate", "plot_loss", "plot_metric"]

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


def _epochs_axis(ax: Axes, n_epochs: int) -> None:
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
    fig = new_figure(7.5, 4.6)
    ax = fig.add_subplot()
    marker = "o" if n_epochs <= 40 else None
    for series, label, color in ((train, "training", TRAIN_COLOR), (val, "validation", VAL_COLOR)):
        if series is not None:
            epochs = np.arange(1, len(series) + 1)
            ax.plot(epochs, series, color=color, marker=marker, ms=4, lw=2, label=label)
    lower_better = bool(_LOWER_IS_BETTER.search(key))
    best_of = val if val is not None else train
    assert best_of is not None  # one of them, checked above
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
    style_axes(
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
    return save(_curves_figure(_as_history(history), "loss", title, log_scale), path)


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
    return save(_curves_figure(_as_history(history), key, title, log_scale), path)


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
    assert lr is not None  # the key is in history
    fig = new_figure(7.5, 4.2)
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
    style_axes(
        ax,
        title or "Learning rate per epoch",
        "Epoch",
        "Learning rate" + (" (log scale)" if log_scale else ""),
    )
    ax.legend(loc="best", framealpha=0.9)
    return save(fig, path)


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
