"""What every plot shares: the figure size unit, the colours, the axes style and the atomic write.

The figures use matplotlib's object-oriented API (:class:`matplotlib.figure.Figure`), never
``pyplot``: no GUI backend, no global state, safe in a web server's threads.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from matplotlib.axes import Axes
from matplotlib.figure import Figure

__all__ = [
    "BEST_COLOR",
    "DPI",
    "TRAIN_COLOR",
    "VAL_COLOR",
    "PathLike",
    "new_figure",
    "save",
    "style_axes",
]

DPI = 110
TRAIN_COLOR = "#1f77b4"
VAL_COLOR = "#ff7f0e"
BEST_COLOR = "#2ca02c"
PathLike = str | os.PathLike[str]


def new_figure(width: float, height: float) -> Figure:
    return Figure(figsize=(width, height), dpi=DPI, layout="constrained")


def save(fig: Figure, path: PathLike) -> Path:
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


def style_axes(ax: Axes, title: str, xlabel: str, ylabel: str) -> None:
    ax.set_title(title, fontsize=13, fontweight="bold")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.grid(True, alpha=0.3)
