"""Inverted dropout."""

from __future__ import annotations

from typing import Any

import numpy as np

from .._validation import check_interval
from ..random import get_rng
from .base import Layer


class Dropout(Layer):
    """Inverted dropout: at training, zero each input with probability ``rate`` and scale the
    survivors by ``1 / (1 - rate)``; at inference, the identity.

    The layer owns its generator (from ``seed``, or derived from :func:`nablanet.set_seed`), so a
    run is reproducible.

    >>> d = Dropout(0.5, seed=0)
    >>> x = np.ones((2, 4), dtype=np.float32)
    >>> bool((d.forward(x, training=False) == x).all())
    True
    >>> sorted(set(d.forward(x, training=True).ravel().tolist()))
    [0.0, 2.0]
    """

    def __init__(self, rate: float = 0.5, seed: int | None = None):
        self.rate = check_interval(rate, "rate", "Dropout", 0.0, 1.0, closed="left")
        self.seed = seed
        self.rng = get_rng(seed)
        self._mask: Any = None

    def forward(self, x: np.ndarray, training: bool = False) -> np.ndarray:
        if not training or self.rate == 0.0:
            self._mask = None
            return x
        keep = 1.0 - self.rate
        mask = self.rng.random(x.shape, dtype=np.float32 if x.dtype == np.float32 else np.float64)
        mask = (mask < keep).astype(x.dtype)
        mask *= x.dtype.type(1.0 / keep)
        self._mask = mask
        return x * mask

    def backward(self, grad: np.ndarray) -> np.ndarray:
        if self._mask is None:
            return grad
        return grad * self._mask

    def get_config(self) -> dict[str, Any]:
        return {"rate": self.rate, "seed": self.seed}
