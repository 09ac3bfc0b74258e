"""Transformers of images: :class:`PixelScaler` (pixel values to [0, 1]) and
:class:`ImageFlattener` (images to vectors, and back).

>>> images = np.full((2, 4, 4, 1), 255, dtype=np.uint8)
>>> x = ImageFlattener().fit_transform(PixelScaler().transform(images))
>>> x.shape, float(x.max())
((2, 16), 1.0)
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..errors import DataError
from .base import Transformer, check_samples

__all__ = ["ImageFlattener", "PixelScaler"]


class PixelScaler(Transformer):
    """Pixel values ``0..max_value`` (``uint8`` images) to ``float32`` in [0, 1].

    Nothing is learnt; ``fit`` is there for the common interface. Use the dataset's
    ``value_range[1]`` as ``max_value`` (255 for MNIST, 16 for scikit-learn's digits).

    Examples
    --------
    >>> PixelScaler().transform(np.array([[0, 51, 255]], dtype=np.uint8))
    array([[0. , 0.2, 1. ]], dtype=float32)
    """

    params = ("max_value",)

    def __init__(self, max_value: float = 255.0):
        if isinstance(max_value, bool) or not float(max_value) > 0:
            raise DataError(
                f"The 'max_value' parameter of PixelScaler must be a positive number. "
                f"Got {max_value!r} instead."
            )
        self.max_value = float(max_value)

    def transform(self, x: np.ndarray) -> np.ndarray:
        return np.asarray(x, dtype=np.float32) / np.float32(self.max_value)

    def inverse_transform(self, x: np.ndarray) -> np.ndarray:
        """Back to the pixel range as ``float32`` (round and cast to ``uint8`` for display)."""
        return np.asarray(x, dtype=np.float32) * np.float32(self.max_value)


class ImageFlattener(Transformer):
    """Flatten samples ``(n, H, W, C)`` to ``(n, H*W*C)`` (a view when possible), and back.

    The data-side twin of the layer :class:`nablanet.nn.Flatten`: it runs once on the dataset
    (so a ``dense`` model receives vectors) and restores image shapes for display.

    Examples
    --------
    >>> f = ImageFlattener().fit(np.zeros((2, 28, 28, 1), np.uint8))
    >>> f.transform(np.zeros((5, 28, 28, 1))).shape, f.inverse_transform(np.zeros((5, 784))).shape
    ((5, 784), (5, 28, 28, 1))
    """

    state = ("input_shape",)

    def __init__(self) -> None:
        self.input_shape: tuple[int, ...] | None = None

    def _state_to_json(self, name: str) -> Any:
        return None if self.input_shape is None else list(self.input_shape)

    def _state_from_json(self, name: str, value: Any) -> Any:
        return tuple(int(v) for v in value)

    def fit(self, x: np.ndarray, y: np.ndarray | None = None) -> ImageFlattener:
        x = check_samples(x, "ImageFlattener.fit")
        self.input_shape = tuple(int(s) for s in x.shape[1:])
        return self

    def transform(self, x: np.ndarray) -> np.ndarray:
        self._require_fitted()
        if not isinstance(x, np.ndarray):
            x = np.asarray(x)
        if x.shape[1:] != self.input_shape:
            raise DataError(
                f"ImageFlattener was fitted on samples of shape {self.input_shape}, got an array of "
                f"shape {x.shape}"
            )
        return x.reshape(len(x), -1)

    def inverse_transform(self, x: np.ndarray) -> np.ndarray:
        self._require_fitted()
        assert self.input_shape is not None
        x = np.asarray(x)
        size = int(np.prod(self.input_shape))
        if x.ndim != 2 or x.shape[1] != size:
            raise DataError(
                f"ImageFlattener.inverse_transform expects shape (n, {size}) to restore samples of shape "
                f"{self.input_shape}, got {x.shape}"
            )
        return x.reshape(len(x), *self.input_shape)
