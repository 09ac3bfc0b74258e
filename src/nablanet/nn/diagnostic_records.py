"""The records behind :class:`nablanet.nn.Diagnostics`: the warning thresholds and the warning
type, the fixed-bin histograms and the per-layer series, and the statistics helpers they use.

The callback (``nn/diagnostics.py``) fills these once per recorded epoch and turns them into
``diagnostics.json``; this module holds the data and the numbers, the callback the schedule and
the rules.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:  # pragma: no cover
    from .layers.base import Layer
    from .parameter import Parameter

__all__ = ["SCHEMA_VERSION", "DiagnosticThresholds", "DiagnosticWarning"]

SCHEMA_VERSION = 1

_RELUS = ("relu",)
_SIGMOIDS = ("sigmoid", "tanh")


@dataclass(frozen=True)
class DiagnosticThresholds:
    """When each warning fires (the defaults are documented in docs/diagnostics.md).

    Attributes
    ----------
    vanishing_ratio : float
        First layer's gradient norm below this fraction of the last layer's (1e-3: three
        orders of magnitude).
    exploding_ratio : float
        First layer's gradient norm above this multiple of the last layer's, or any layer's
        gradient norm grown this many times since the first recorded epoch; a non-finite
        gradient always counts.
    max_grad_norm : float
        A layer's gradient norm above this (the pipeline standardises inputs and regression
        targets, so healthy gradients there have norms around 0.01 to 10).
    dead_fraction : float
        Share of a ReLU layer's units that output 0 for every probe sample.
    saturated_fraction : float
        Share of a hidden sigmoid/tanh layer's outputs where the derivative is below 2 % of its
        peak (sigmoid outside [0.005, 0.995], tanh beyond +-0.99).
    rising_epochs : int
        Training loss rising this many epochs in a row, by more than a tenth of the decrease
        achieved so far and more than 1 % (learning rate too high).
    blowup_factor : float
        Training loss above this multiple of its lowest value so far, the loss of the very
        first batch included, and half the decrease achieved so far lost (learning rate too
        high).
    overfit_epochs : int
        Validation loss this many epochs past its minimum ...
    overfit_margin : float
        ... and more than this fraction above it (and a tenth of its decrease from the first
        epoch given back), while the training loss kept falling.
    """

    vanishing_ratio: float = 1e-3
    exploding_ratio: float = 1e3
    max_grad_norm: float = 1e3
    dead_fraction: float = 0.5
    saturated_fraction: float = 0.5
    rising_epochs: int = 3
    blowup_factor: float = 2.0
    overfit_epochs: int = 10
    overfit_margin: float = 0.1


@dataclass
class DiagnosticWarning:
    """One warning: which rule, where, the numbers behind it and what to try."""

    epoch: int  # counted from 1
    rule: str
    layer: str | None
    message: str
    advice: str
    values: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "epoch": self.epoch,
            "rule": self.rule,
            "layer": self.layer,
            "message": self.message,
            "advice": self.advice,
            "values": {k: _json_float(v) for k, v in self.values.items()},
        }

    def __str__(self) -> str:
        where = f" ({self.layer})" if self.layer else ""
        return f"epoch {self.epoch}: {self.rule}{where}: {self.message}. Try: {self.advice}"


def _json_float(v: Any) -> float | None:
    if v is None:
        return None
    v = float(v)
    return v if math.isfinite(v) else None


def _norm(a: np.ndarray) -> float:
    flat = a.reshape(-1)
    norm = float(np.sqrt(np.dot(flat, flat)))
    if not math.isfinite(norm):  # a float32 sum of squares overflows before the values do
        wide = flat.astype(np.float64)
        norm = float(np.sqrt(np.dot(wide, wide)))
    return norm


#: histograms of larger arrays count an evenly strided sample of this many values (a weight
#: matrix of 100 000 values costs 2 ms to count in full: more than a small epoch)
HISTOGRAM_SAMPLE = 4096


def _sample(a: np.ndarray) -> np.ndarray:
    flat = a.reshape(-1)
    step = -(-flat.size // HISTOGRAM_SAMPLE)
    return flat[::step] if step > 1 else flat


def _activation_name(layer: Layer) -> str | None:
    from .layers.activations import Activation

    if isinstance(layer, Activation):
        return layer.name or None
    act = getattr(layer, "activation", None)
    return act.name if isinstance(act, Activation) and act.name else None


def _main_parameter(layer: Layer) -> Parameter | None:
    """The parameter the norms are about: the first with 2 or more axes (weights, kernels),
    else the first one (batch norm's gamma); None for layers without parameters."""
    params = layer.parameters()
    for p in params:
        if p.value.ndim >= 2:
            return p
    return params[0] if params else None


class _Histogram:
    """Fixed bins, chosen from the first values seen, so that epochs compare bin by bin. The
    end bins also count the values beyond them."""

    __slots__ = ("counts", "edges", "hi", "lo", "n_bins")

    def __init__(self, n_bins: int):
        self.n_bins = n_bins
        self.edges: list[float] | None = None
        self.lo = self.hi = 0.0
        self.counts: list[list[int] | None] = []

    def _choose(self, values: np.ndarray, fixed: tuple[float, float] | None) -> None:
        if fixed is not None:
            lo, hi = fixed
        else:
            lo, hi = (float(values.min()), float(values.max())) if values.size else (-1.0, 1.0)
            span = max(abs(lo), abs(hi), 1e-12)
            # symmetric about 0 with room to grow (x 2), or [0, 2 max] for non-negative values
            lo, hi = (0.0, 2 * span) if lo >= 0 else (-2 * span, 2 * span)
        self.lo, self.hi = lo, hi
        self.edges = np.linspace(lo, hi, self.n_bins + 1).tolist()

    def add(self, values: np.ndarray | None, fixed: tuple[float, float] | None = None) -> None:
        if values is None:
            self.counts.append(None)
            return
        values = _sample(values)
        if not np.isfinite(values).all():
            values = values[np.isfinite(values)]
        if self.edges is None:
            self._choose(values, fixed)
        # uniform bins: the bin index is arithmetic (np.histogram's checks cost more than this)
        scale = self.n_bins / (self.hi - self.lo) if self.hi > self.lo else 0.0
        index = ((values - self.lo) * scale).astype(np.intp)
        np.clip(index, 0, self.n_bins - 1, out=index)
        self.counts.append(np.bincount(index, minlength=self.n_bins).tolist())

    def to_dict(self) -> dict[str, Any] | None:
        if self.edges is None:
            return None
        return {"edges": self.edges, "counts": self.counts}

    @classmethod
    def from_dict(cls, n_bins: int, d: dict | None) -> _Histogram:
        h = cls(n_bins)
        if d:
            h.edges = list(d["edges"])
            h.lo, h.hi = h.edges[0], h.edges[-1]
            h.counts = [None if c is None else list(c) for c in d["counts"]]
        return h


_SERIES = (
    "weight_norm",
    "grad_norm",
    "update_ratio",
    "activation_mean",
    "activation_std",
    "dead_fraction",
    "saturated_fraction",
)


class _LayerRecord:
    def __init__(self, index: int, layer: Layer, n_bins: int) -> None:
        self.index = index
        self.type = type(layer).__name__
        self.name = f"{index}.{self.type.lower()}"
        self.activation = _activation_name(layer)
        p = _main_parameter(layer)
        self.parameter = None if p is None else p.name
        self.series: dict[str, list[float | None]] = {k: [] for k in _SERIES}
        self.hist = {k: _Histogram(n_bins) for k in ("weight", "grad", "activation")}

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {
            "index": self.index,
            "name": self.name,
            "type": self.type,
            "activation": self.activation,
            "parameter": self.parameter,
        }
        for k, values in self.series.items():
            d[k] = None if all(v is None for v in values) else [_json_float(v) for v in values]
        d["histograms"] = {k: h.to_dict() for k, h in self.hist.items()}
        return d


def _last_grad_norm(rec: _LayerRecord) -> float:
    """The gradient norm ``rec`` recorded this epoch (called on the records that have one)."""
    g = rec.series["grad_norm"][-1]
    assert g is not None
    return g
