"""Regression plots: predicted against true values, with the identity line."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np

from ...nn.errors import NablanetError
from ...nn.metrics import r2_score, root_mean_squared_error
from ._style import TRAIN_COLOR, PathLike, new_figure, save, style_axes

__all__ = ["plot_regression"]


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

    fig = new_figure(6.4, 6.0)
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
    style_axes(ax, title, "True value", "Predicted value")
    ax.legend(loc="upper left", framealpha=0.9, fontsize=9)
    return save(fig, path)
