"""Weight penalties: ``L1``, ``L2`` and ``L1L2``.

A regularizer adds ``penalty(w)`` to the reported loss and ``gradient(w)`` to ``w.grad``:

* L1: ``l1 * sum(|w|)``, gradient ``l1 * sign(w)``
* L2: ``l2 * sum(w**2)``, gradient ``2 * l2 * w`` (Keras' convention)

>>> r = L2(0.1)
>>> float(r.penalty(np.array([1.0, -2.0])))
0.5
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ._validation import check_nonnegative_float
from .errors import NablanetError


class Regularizer:
    """Base class: ``penalty(w) -> float`` added to the loss, ``add_gradient(w, grad)`` adds its
    gradient into ``grad`` in place (``w`` and ``grad`` of any one shape).

    >>> isinstance(L2(0.1), Regularizer), L2(0.1).gradient(np.array([1.0, -2.0])).tolist()
    (True, [0.2, -0.4])
    """

    def penalty(self, w: np.ndarray) -> float:
        raise NotImplementedError

    def add_gradient(self, w: np.ndarray, grad: np.ndarray) -> None:
        """Accumulate the penalty's gradient into ``grad`` in place."""
        raise NotImplementedError

    def gradient(self, w: np.ndarray) -> np.ndarray:
        g = np.zeros_like(w)
        self.add_gradient(w, g)
        return g

    def get_config(self) -> dict:
        raise NotImplementedError

    @classmethod
    def from_config(cls, config: dict) -> Regularizer:
        return cls(**config)

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"


class L1L2(Regularizer):
    """Both penalties: ``l1 * sum|w| + l2 * sum(w^2)``.

    >>> r = L1L2(l1=0.1, l2=0.1)
    >>> round(r.penalty(np.array([1.0, -2.0])), 6), r.gradient(np.array([1.0, -2.0])).tolist()
    (0.8, [0.30000000000000004, -0.5])
    """

    def __init__(self, l1: float = 0.0, l2: float = 0.0):
        self.l1 = check_nonnegative_float(l1, "l1", type(self).__name__)
        self.l2 = check_nonnegative_float(l2, "l2", type(self).__name__)

    def penalty(self, w: np.ndarray) -> float:
        total = 0.0
        if self.l1:
            total += self.l1 * float(np.abs(w).sum())
        if self.l2:
            total += self.l2 * float(np.square(w).sum())
        return total

    def add_gradient(self, w: np.ndarray, grad: np.ndarray) -> None:
        if self.l1:
            grad += self.l1 * np.sign(w)
        if self.l2:
            grad += (2.0 * self.l2) * w

    def get_config(self) -> dict[str, Any]:
        return {"l1": self.l1, "l2": self.l2}


class L1(L1L2):
    """``l1 * sum(|w|)``; gradient ``l1 * sign(w)``.

    >>> round(L1(0.1).penalty(np.array([1.0, -2.0])), 6), L1(0.1).gradient(np.array([1.0, -2.0])).tolist()
    (0.3, [0.1, -0.1])
    """

    def __init__(self, l1: float = 0.01):
        super().__init__(l1=l1, l2=0.0)

    def get_config(self) -> dict[str, Any]:
        return {"l1": self.l1}


class L2(L1L2):
    """``l2 * sum(w ** 2)``; gradient ``2 * l2 * w`` (no factor 1/2, as in Keras).

    >>> L2(0.1).penalty(np.array([1.0, -2.0])), L2(0.1).gradient(np.array([1.0, -2.0])).tolist()
    (0.5, [0.2, -0.4])
    """

    def __init__(self, l2: float = 0.01):
        super().__init__(l1=0.0, l2=l2)

    def get_config(self) -> dict[str, Any]:
        return {"l2": self.l2}


REGULARIZERS = {"L1": L1, "L2": L2, "L1L2": L1L2}


def serialize(reg: Regularizer | None) -> dict | None:
    if reg is None:
        return None
    return {"class_name": type(reg).__name__, "config": reg.get_config()}


def deserialize(spec: Regularizer | dict | None) -> Regularizer | None:
    """Accept ``None``, a Regularizer, or ``{"class_name": ..., "config": ...}``."""
    if spec is None or isinstance(spec, Regularizer):
        return spec
    if isinstance(spec, dict) and spec.get("class_name") in REGULARIZERS:
        return REGULARIZERS[spec["class_name"]](**spec.get("config", {}))
    raise NablanetError(f"Cannot build a regularizer from {spec!r}; expected L1, L2 or L1L2.")
