"""Shape-only layers: ``Flatten`` and ``Reshape`` (the batch axis is never touched)."""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence
from typing import Any

import numpy as np

from .._validation import param_error
from ..errors import NablanetError
from .base import Layer


class Flatten(Layer):
    """``(n_samples, d1, d2, ...) -> (n_samples, d1 * d2 * ...)`` in C order.

    For NHWC images the features are ordered ``(row, column, channel)``.

    >>> import numpy as np
    >>> Flatten().forward(np.zeros((4, 7, 7, 64), dtype=np.float32)).shape
    (4, 3136)
    """

    def __init__(self) -> None:
        self._x_shape: Any = None

    def forward(self, x: np.ndarray, training: bool = False) -> np.ndarray:
        if x.ndim < 2:
            raise NablanetError(
                f"Flatten expected input with a batch axis and features, got shape {x.shape}"
            )
        if training:
            self._x_shape = x.shape
        return x.reshape(x.shape[0], -1)

    def backward(self, grad: np.ndarray) -> np.ndarray:
        if self._x_shape is None:
            raise NablanetError("Flatten.backward called before forward(..., training=True)")
        return grad.reshape(self._x_shape)

    def compute_output_shape(self, input_shape: tuple[int, ...]) -> tuple[int, ...]:
        return (math.prod(input_shape),)


class Reshape(Layer):
    """Reshape each sample to ``target_shape`` (batch axis excluded; one entry may be -1).

    Parameters
    ----------
    target_shape : tuple of int
        E.g. ``(28, 28, 1)`` to turn flat MNIST rows into NHWC images.

    >>> import numpy as np
    >>> Reshape((28, 28, 1)).forward(np.zeros((5, 784), dtype=np.float32)).shape
    (5, 28, 28, 1)
    """

    def __init__(self, target_shape: int | Sequence[int]) -> None:
        dims: Any = target_shape  # checked below
        if isinstance(dims, numbers.Integral) and not isinstance(dims, bool):
            dims = (dims,)
        bad = not isinstance(dims, (tuple, list)) or not dims
        if not bad:
            bad = (
                any(
                    isinstance(d, bool)
                    or not isinstance(d, numbers.Integral)
                    or (d <= 0 and d != -1)
                    for d in dims
                )
                or sum(d == -1 for d in dims) > 1
            )
        if bad:
            raise param_error(
                "Reshape",
                "target_shape",
                "a non-empty tuple of positive integers (at most one -1)",
                dims,
            )
        self.target_shape = tuple(int(d) for d in dims)
        self._x_shape: Any = None

    def compute_output_shape(self, input_shape: tuple[int, ...]) -> tuple[int, ...]:
        size = math.prod(input_shape)
        known = math.prod(d for d in self.target_shape if d != -1)
        if -1 in self.target_shape:
            if size % known:
                raise NablanetError(
                    f"Reshape cannot reshape input of shape {tuple(input_shape)} "
                    f"to {self.target_shape}"
                )
            return tuple(size // known if d == -1 else d for d in self.target_shape)
        if known != size:
            raise NablanetError(
                f"Reshape cannot reshape input of shape {tuple(input_shape)} to {self.target_shape}"
            )
        return self.target_shape

    def forward(self, x: np.ndarray, training: bool = False) -> np.ndarray:
        if x.ndim < 1:
            raise NablanetError(f"Reshape expected input with a batch axis, got shape {x.shape}")
        shape = self.compute_output_shape(x.shape[1:])
        if training:
            self._x_shape = x.shape
        return x.reshape((x.shape[0], *shape))

    def backward(self, grad: np.ndarray) -> np.ndarray:
        if self._x_shape is None:
            raise NablanetError("Reshape.backward called before forward(..., training=True)")
        return grad.reshape(self._x_shape)

    def get_config(self) -> dict[str, Any]:
        return {"target_shape": list(self.target_shape)}
