"""Image grids: the misclassified images of a classifier, titled with their true and predicted
labels."""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.collections import PatchCollection
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from ...nn.errors import NablanetError
from ._style import DPI, PathLike, new_figure, save

__all__ = ["plot_misclassified"]


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
    value_range: tuple[float, float] | None = None,
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
    value_range : (low, high), default=None
        The pixels' range (``(0, 255)`` for raw images): colour and grey images are shown on
        it, so their colours and brightness are the data's. Default: each image stretched to
        its own minimum and maximum.

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
        fig = new_figure(5.0, 2.2)
        fig.text(
            0.5,
            0.5,
            f"No misclassified images\n(all {n} predictions are correct)",
            ha="center",
            va="center",
            fontsize=14,
        )
        return save(fig, path)

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
        lo, hi = value_range if value_range is not None else (img.min(), img.max())
        if img.ndim == 3:  # colour: scale into [0, 1]
            img = np.clip((img - lo) / (hi - lo), 0.0, 1.0) if hi > lo else np.zeros_like(img)
            ax.imshow(img, interpolation="nearest", aspect="auto", extent=extent)
        else:
            ax.imshow(
                img, cmap=cmap, vmin=lo, vmax=hi, interpolation="nearest", aspect="auto",
                extent=extent,
            )  # fmt: skip
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
    return save(fig, path)
