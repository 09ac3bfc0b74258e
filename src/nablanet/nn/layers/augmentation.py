"""Data augmentation as a layer: random translations of images at training time."""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from .._validation import param_error
from ..errors import NablanetError
from ..random import get_rng
from .base import Layer


class RandomTranslation(Layer):
    """Shift each training image by a random whole number of pixels; the identity at inference.

    At training time every image of the batch is moved by its own ``(dy, dx)``, each drawn
    uniformly from ``-max_shift .. max_shift``; pixels moved in from outside are zeros (the
    background of MNIST-like images after scaling). Like Keras' ``RandomTranslation``, it is a
    layer placed first in a model, so the augmentation runs inside ``fit`` and a saved model
    predicts on unshifted images. The layer owns its generator (``seed``, or derived from
    :func:`nablanet.set_seed`), so a run is reproducible and a checkpoint resumes it exactly.

    Shapes: ``(n, H, W, C) -> (n, H, W, C)``. The shift is a gather from a zero-padded copy
    (``sliding_window_view`` of the padded batch, one window per image), so there is no Python
    loop over images; the backward pass scatters the gradient back through the same windows.

    Parameters
    ----------
    max_shift : int
        Largest shift in pixels along each axis (``0`` disables the layer).
    seed : int or None

    >>> import numpy as np
    >>> layer = RandomTranslation(2, seed=0)
    >>> x = np.zeros((3, 5, 5, 1), dtype=np.float32); x[:, 2, 2, 0] = 1.0
    >>> bool((layer.forward(x, training=False) == x).all())
    True
    >>> y = layer.forward(x, training=True)
    >>> y.shape, y.sum(axis=(1, 2, 3)).tolist()      # every dot moved, none lost
    ((3, 5, 5, 1), [1.0, 1.0, 1.0])
    """

    max_shift: int
    seed: int | None
    rng: np.random.Generator
    _shifts: Any

    def __init__(self, max_shift: int = 2, seed: int | None = None) -> None:
        if (
            isinstance(max_shift, bool)
            or not isinstance(max_shift, numbers.Integral)
            or max_shift < 0
        ):
            raise param_error("RandomTranslation", "max_shift", "a non-negative integer", max_shift)
        self.max_shift = int(max_shift)
        self.seed = seed
        self.rng = get_rng(seed)
        self._shifts = None

    def _check_input(self, x: np.ndarray) -> None:
        if x.ndim != 4:
            raise NablanetError(
                "RandomTranslation expected images of shape (n_samples, height, width, "
                f"channels), got array of shape {x.shape}"
            )

    def forward(self, x: np.ndarray, training: bool = False) -> np.ndarray:
        self._check_input(x)
        s = self.max_shift
        if not training or s == 0:
            self._shifts = None
            return x
        n, h, w, _ = x.shape
        # offsets into the padded image: s means no shift, 0 moves the content down/right by s
        shifts = self.rng.integers(0, 2 * s + 1, size=(2, n))
        padded = np.pad(x, ((0, 0), (s, s), (s, s), (0, 0)))
        windows = sliding_window_view(padded, (h, w), axis=(1, 2))  # (n, 2s+1, 2s+1, C, h, w)
        out = windows[np.arange(n), shifts[0], shifts[1]]  # (n, C, h, w), a copy
        self._shifts = (shifts, x.shape)
        return np.ascontiguousarray(out.transpose(0, 2, 3, 1))

    def backward(self, grad: np.ndarray) -> np.ndarray:
        if self._shifts is None:
            return grad
        shifts, shape = self._shifts
        n, h, w, _ = shape
        s = self.max_shift
        padded = np.zeros((n, h + 2 * s, w + 2 * s, shape[3]), dtype=grad.dtype)
        windows = sliding_window_view(padded, (h, w), axis=(1, 2), writeable=True)
        # each image's window lies in its own image: assignment through the view is a scatter
        windows[np.arange(n), shifts[0], shifts[1]] = grad.transpose(0, 3, 1, 2)
        return padded[:, s : s + h, s : s + w, :]

    def compute_output_shape(self, input_shape: tuple[int, ...]) -> tuple[int, ...]:
        if len(input_shape) != 3:
            raise NablanetError(
                "RandomTranslation expected images of shape (height, width, channels), got "
                f"shape {tuple(input_shape)}"
            )
        return tuple(input_shape)

    def get_config(self) -> dict[str, Any]:
        return {"max_shift": self.max_shift, "seed": self.seed}
