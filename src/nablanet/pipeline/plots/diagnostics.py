"""Plots of a run's diagnostics (``diagnostics.json``) and of a 2-D model's decision regions.

- :func:`plot_gradient_norms`: the gradient norm of every layer over the epochs (log scale), with
  the update/weight ratio beside it;
- :func:`plot_histograms`: weights, gradients and activations of every layer, first recorded
  epoch against the last;
- :func:`plot_decision_boundary`: the predicted class over the plane with the data points, for
  models of 2 input features;
- :func:`diagnostics_plots`: every plot a record supports, into a folder.

Like the rest of :mod:`nablanet.pipeline.plots`, the figures use matplotlib's object-oriented API (no
``pyplot``) and are written atomically.

>>> import tempfile
>>> record = {"epochs": [1, 2], "layers": [
...     {"name": "0.dense", "grad_norm": [0.5, 0.3], "update_ratio": [1e-3, 8e-4],
...      "histograms": {"weight": {"edges": [-1, 0, 1], "counts": [[3, 5], [4, 4]]}}}]}
>>> with tempfile.TemporaryDirectory() as out:
...     print([p.name for p in diagnostics_plots(record, out)])
['gradient_norms.png', 'histograms.png']
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..playground import CLASS_COLORS
from ._style import new_figure, save, style_axes

__all__ = [
    "CLASS_COLORS",
    "decision_grid",
    "diagnostics_plots",
    "plot_decision_boundary",
    "plot_gradient_norms",
    "plot_histograms",
]


def _values(series: Sequence[Any] | None) -> np.ndarray | None:
    if series is None:
        return None
    arr = np.array([np.nan if v is None else v for v in series], dtype=np.float64)
    arr[~np.isfinite(arr) | (arr <= 0)] = np.nan  # a log axis: zeros and non-finite are gaps
    return None if np.isnan(arr).all() else arr


def plot_gradient_norms(record: Mapping[str, Any], path) -> Path | None:
    """Gradient norm per layer over epochs (left) and the update/weight ratio (right), both on
    log scales; None when no layer has gradients."""
    epochs = np.asarray(record["epochs"])
    rows = [
        (layer["name"], _values(layer.get("grad_norm")), _values(layer.get("update_ratio")))
        for layer in record["layers"]
    ]
    rows = [r for r in rows if r[1] is not None]
    if not rows or len(epochs) == 0:
        return None
    fig = new_figure(12, 4.2)
    ax_g, ax_u = fig.subplots(1, 2)
    cmap = _layer_colors(len(rows))
    for (name, grad, ratio), color in zip(rows, cmap):
        marker = "o" if len(epochs) <= 30 else None
        ax_g.plot(epochs, grad, marker=marker, ms=3, color=color, label=name)
        if ratio is not None:
            ax_u.plot(epochs, ratio, marker=marker, ms=3, color=color, label=name)
    ax_g.set_yscale("log")
    ax_u.set_yscale("log")
    style_axes(ax_g, "Gradient norm per layer", "epoch", "‖∂L/∂W‖ (first batch of the epoch)")
    style_axes(ax_u, "Update / weight ratio", "epoch", "‖ΔW‖ / ‖W‖ (one step)")
    ax_u.axhline(1e-3, color="0.4", ls="--", lw=1)
    ax_u.annotate("1e-3 (a common healthy size)", (epochs[0], 1e-3), fontsize=8, color="0.3",
                  xytext=(0, 3), textcoords="offset points")  # fmt: skip
    from matplotlib.ticker import MaxNLocator

    for ax in (ax_g, ax_u):
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    # one legend for both, outside the curves
    ax_u.legend(fontsize=8, loc="center left", bbox_to_anchor=(1.01, 0.5), frameon=False)
    return save(fig, path)


def _layer_colors(n: int) -> list:
    from matplotlib import colormaps

    cmap = colormaps["viridis"]
    return [cmap(i / max(n - 1, 1) * 0.9) for i in range(n)]


def plot_histograms(record: Mapping[str, Any], path) -> Path | None:
    """One row per layer, one column per kind (weights, gradients, activations): the first
    recorded epoch's histogram against the last's, on the same fixed bins."""
    kinds = [("weight", "weights"), ("grad", "gradients"), ("activation", "activations")]
    layers = [
        layer
        for layer in record["layers"]
        if any((layer.get("histograms") or {}).get(k) for k, _ in kinds)
    ]
    if not layers:
        return None
    epochs = record["epochs"]
    fig = new_figure(11, 1.9 * len(layers) + 0.8)
    axes = np.atleast_2d(fig.subplots(len(layers), 3, squeeze=False))
    legend_ax = None  # the first panel with bars (a layer without weights draws none)
    for row, layer in zip(axes, layers):
        hists = layer.get("histograms") or {}
        for ax, (kind, title) in zip(row, kinds):
            h = hists.get(kind)
            counts = [c for c in (h or {}).get("counts", []) if c is not None]
            if not counts:
                ax.set_axis_off()
                continue
            edges = np.asarray(h["edges"], dtype=np.float64)
            centres, widths = (edges[:-1] + edges[1:]) / 2, np.diff(edges)
            first, last = np.asarray(counts[0]), np.asarray(counts[-1])
            ax.bar(centres, first / max(first.sum(), 1), widths, color="#1f77b4", alpha=0.5,
                   label=f"epoch {epochs[0]}")  # fmt: skip
            ax.bar(centres, last / max(last.sum(), 1), widths, color="#ff7f0e", alpha=0.5,
                   label=f"epoch {epochs[-1]}")  # fmt: skip
            legend_ax = legend_ax or ax
            ax.set_title(f"{layer['name']}: {title}", fontsize=10)
            ax.tick_params(labelsize=8)
            ax.grid(True, alpha=0.3)
        row[0].set_ylabel("share", fontsize=9)
    if legend_ax is not None:
        legend_ax.legend(fontsize=8)
    fig.suptitle("Histograms per layer, first vs last epoch", fontsize=13, fontweight="bold")
    return save(fig, path)


def decision_grid(
    predict_proba: Callable[[np.ndarray], np.ndarray],
    x: np.ndarray,
    resolution: int = 200,
    margin: float = 0.15,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The plane around the points ``x`` (n, 2): ``(xs, ys, proba)`` with ``proba`` of shape
    ``(resolution, resolution, n_classes)`` (a single column of probabilities is class 1 of a
    binary model)."""
    lo, hi = x.min(axis=0), x.max(axis=0)
    pad = (hi - lo) * margin + 1e-6
    xs = np.linspace(lo[0] - pad[0], hi[0] + pad[0], resolution, dtype=np.float32)
    ys = np.linspace(lo[1] - pad[1], hi[1] + pad[1], resolution, dtype=np.float32)
    gx, gy = np.meshgrid(xs, ys)
    p = np.asarray(predict_proba(np.c_[gx.ravel(), gy.ravel()]), dtype=np.float64)
    if p.ndim == 1:
        p = p[:, None]
    if p.shape[1] == 1:
        p = np.c_[1 - p, p]
    return xs, ys, p.reshape(resolution, resolution, -1)


def plot_decision_boundary(
    predict_proba: Callable[[np.ndarray], np.ndarray],
    x: np.ndarray,
    y: np.ndarray,
    path,
    *,
    class_names: Sequence[str] | None = None,
    feature_names: Sequence[str] | None = None,
    title: str = "Decision regions",
    resolution: int = 200,
) -> Path:
    """The predicted class over the plane (colour) and its probability (shade), with the points
    ``x`` (n, 2) coloured by their true class ``y``."""
    from matplotlib.colors import ListedColormap

    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y).astype(int)
    xs, ys, proba = decision_grid(predict_proba, x, resolution)
    n_classes = proba.shape[-1]
    colors = [CLASS_COLORS[i % len(CLASS_COLORS)] for i in range(n_classes)]
    fig = new_figure(6.2, 5.6)
    ax = fig.subplots()
    pred = proba.argmax(axis=-1)
    ax.contourf(xs, ys, pred, levels=np.arange(n_classes + 1) - 0.5, cmap=ListedColormap(colors),
                alpha=0.28)  # fmt: skip
    ax.contour(xs, ys, pred, levels=np.arange(n_classes) + 0.5, colors="k", linewidths=0.8)
    names = list(class_names) if class_names is not None else [str(i) for i in range(n_classes)]
    for c in range(n_classes):
        pts = x[y == c]
        if len(pts):
            ax.scatter(pts[:, 0], pts[:, 1], s=14, color=colors[c], edgecolors="k",
                       linewidths=0.3, label=names[c] if c < len(names) else str(c))  # fmt: skip
    fx, fy = [*feature_names, "x1", "x2"][:2] if feature_names else ("x1", "x2")
    style_axes(ax, title, fx, fy)
    ax.set_xlim(xs[0], xs[-1])
    ax.set_ylim(ys[0], ys[-1])
    ax.legend(fontsize=8, loc="upper right", framealpha=0.8)
    return save(fig, path)


def diagnostics_plots(record: Mapping[str, Any], out_dir) -> list[Path]:
    """``gradient_norms.png`` and ``histograms.png`` into ``out_dir`` (those the record supports)."""
    out_dir = Path(out_dir)
    written = [
        plot_gradient_norms(record, out_dir / "gradient_norms.png"),
        plot_histograms(record, out_dir / "histograms.png"),
    ]
    return [p for p in written if p is not None]
