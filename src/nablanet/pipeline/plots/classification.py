"""Classification plots: ROC curves (one or several, with the chance diagonal) and the
confusion-matrix heatmap."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.colors import Colormap
from matplotlib.figure import Figure

from ...nn.errors import NablanetError
from ._style import TRAIN_COLOR, PathLike, new_figure, save, style_axes

__all__ = ["plot_confusion_matrix", "plot_roc", "plot_roc_curves"]


def _to_vector(x: Any, name: str) -> np.ndarray:
    arr = np.asarray(x, dtype=np.float64)
    if arr.ndim != 1:
        raise NablanetError(f"{name} must be 1-D, got shape {arr.shape}")
    return arr


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
    fig = new_figure(6.4, 6.0)
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
    style_axes(ax, title, "False positive rate", "True positive rate")
    ax.legend(loc="lower right", framealpha=0.9, fontsize=9 if len(curves) > 6 else 10)
    return save(fig, path)


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


# -- confusion matrix ------------------------------------------------------------------------------
def _text_colors(cmap: Colormap, normed: np.ndarray) -> np.ndarray:
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
    fig = new_figure(width, height)
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
    return save(_confusion_figure(cm, class_names, normalize, title), path)
