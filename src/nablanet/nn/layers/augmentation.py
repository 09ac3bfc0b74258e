"""Data augmentation as layers: random translations, crops with padding and flips of images at
training time; every one is the identity at inference, so a saved model predicts on the images
as they are."""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from numpy.typing import DTypeLike

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

    def _pad(self, x: np.ndarray, s: int) -> np.ndarray:
        return np.pad(x, ((0, 0), (s, s), (s, s), (0, 0)))

    def _unpad(self, padded: np.ndarray, s: int, h: int, w: int) -> np.ndarray:
        """The adjoint of :meth:`_pad`: the gradient of the padded batch, back on the images."""
        return padded[:, s : s + h, s : s + w, :]

    def _check_input(self, x: np.ndarray) -> None:
        if x.ndim != 4:
            raise NablanetError(
                f"{type(self).__name__} expected images of shape (n_samples, height, width, "
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
        padded = self._pad(x, s)
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
        return self._unpad(padded, s, h, w)

    def compute_output_shape(self, input_shape: tuple[int, ...]) -> tuple[int, ...]:
        if len(input_shape) != 3:
            raise NablanetError(
                f"{type(self).__name__} expected images of shape (height, width, channels), got "
                f"shape {tuple(input_shape)}"
            )
        return tuple(input_shape)

    def get_config(self) -> dict[str, Any]:
        return {"max_shift": self.max_shift, "seed": self.seed}


def _reflect_matrix(n: int, s: int, dtype: DTypeLike) -> np.ndarray:
    """``(n + 2s, n)`` one-hot rows: padded position -> source pixel of ``np.pad(mode="reflect")``."""
    source = np.pad(np.arange(n), s, mode="reflect") if n > 1 else np.zeros(n + 2 * s, int)
    out = np.zeros((n + 2 * s, n), dtype=dtype)
    out[np.arange(n + 2 * s), source] = 1
    return out


class RandomCrop(RandomTranslation):
    """Pad each training image by ``padding`` pixels and crop a random window of its own size
    (the CIFAR recipe, ``torchvision``'s ``RandomCrop(32, padding=4)``); the identity at
    inference.

    With ``padding_mode="constant"`` (zeros) this is exactly :class:`RandomTranslation` with
    ``max_shift=padding``; ``"reflect"`` fills the border with the mirrored image instead of
    black, which suits photos. Each image draws its own window offset ``0 .. 2 * padding`` on
    each axis from the layer's generator. The backward pass scatters the gradient through the
    same windows and, for ``"reflect"``, folds the mirrored border back onto the pixels it
    copies (the exact adjoint, checked numerically with every layer).

    Shapes: ``(n, H, W, C) -> (n, H, W, C)``.

    Parameters
    ----------
    padding : int
        Pixels added on each side before cropping (``0`` disables the layer).
    padding_mode : {"constant", "reflect"}
    seed : int or None

    >>> import numpy as np
    >>> x = np.arange(2 * 4 * 4, dtype=np.float32).reshape(2, 4, 4, 1)
    >>> layer = RandomCrop(1, padding_mode="reflect", seed=0)
    >>> layer.forward(x, training=False) is x, layer.forward(x, training=True).shape
    (True, (2, 4, 4, 1))
    """

    padding: int
    padding_mode: str

    def __init__(
        self, padding: int = 4, padding_mode: str = "constant", seed: int | None = None
    ) -> None:
        if isinstance(padding, bool) or not isinstance(padding, numbers.Integral) or padding < 0:
            raise param_error("RandomCrop", "padding", "a non-negative integer", padding)
        if padding_mode not in ("constant", "reflect"):
            raise param_error("RandomCrop", "padding_mode", "'constant' or 'reflect'", padding_mode)
        super().__init__(int(padding), seed=seed)
        self.padding = int(padding)
        self.padding_mode = padding_mode

    def _pad(self, x: np.ndarray, s: int) -> np.ndarray:
        if self.padding_mode == "constant":
            return super()._pad(x, s)
        return np.pad(x, ((0, 0), (s, s), (s, s), (0, 0)), mode="reflect")

    def _unpad(self, padded: np.ndarray, s: int, h: int, w: int) -> np.ndarray:
        if self.padding_mode == "constant":
            return super()._unpad(padded, s, h, w)
        rows = _reflect_matrix(h, s, padded.dtype)
        cols = _reflect_matrix(w, s, padded.dtype)
        return np.einsum("nabc,ah,bw->nhwc", padded, rows, cols, optimize=True)

    def get_config(self) -> dict[str, Any]:
        return {"padding": self.padding, "padding_mode": self.padding_mode, "seed": self.seed}


class RandomFlip(Layer):
    """Mirror each training image with probability 1/2 (left-right for ``"horizontal"``); the
    identity at inference. Like Keras' ``RandomFlip("horizontal")``.

    Each image of the batch draws its own flips from the layer's generator (``seed``, or derived
    from :func:`nablanet.set_seed`). The backward pass mirrors the gradient of the same images.

    Shapes: ``(n, H, W, C) -> (n, H, W, C)``.

    Parameters
    ----------
    mode : {"horizontal", "vertical", "horizontal_and_vertical"}
    seed : int or None

    >>> import numpy as np
    >>> x = np.arange(3, dtype=np.float32).reshape(1, 1, 3, 1).repeat(64, axis=0)
    >>> y = RandomFlip(seed=0).forward(x, training=True)
    >>> sorted({tuple(row) for row in y[:, 0, :, 0].tolist()})   # as is, or mirrored
    [(0.0, 1.0, 2.0), (2.0, 1.0, 0.0)]
    """

    MODES = ("horizontal", "vertical", "horizontal_and_vertical")

    def __init__(self, mode: str = "horizontal", seed: int | None = None):
        if mode not in self.MODES:
            raise param_error("RandomFlip", "mode", " or ".join(map(repr, self.MODES)), mode)
        self.mode = mode
        self.seed = seed
        self.rng = get_rng(seed)
        self._flips: Any = None

    def _axes(self) -> tuple[int, ...]:
        return {"horizontal": (2,), "vertical": (1,), "horizontal_and_vertical": (2, 1)}[self.mode]

    def _apply(self, x: np.ndarray, flips: np.ndarray) -> np.ndarray:
        out = x
        for axis, chosen in zip(self._axes(), flips, strict=True):
            flipped = np.flip(out, axis=axis)
            out = np.where(chosen[:, None, None, None], flipped, out)
        return out

    def forward(self, x: np.ndarray, training: bool = False) -> np.ndarray:
        if x.ndim != 4:
            raise NablanetError(
                "RandomFlip expected images of shape (n_samples, height, width, channels), got "
                f"array of shape {x.shape}"
            )
        if not training:
            self._flips = None
            return x
        flips = self.rng.random((len(self._axes()), len(x))) < 0.5
        self._flips = flips
        return self._apply(x, flips)

    def backward(self, grad: np.ndarray) -> np.ndarray:
        if self._flips is None:
            return grad
        out = grad
        # the adjoint undoes the flips in reverse order (each flip is its own inverse)
        for axis, chosen in reversed(list(zip(self._axes(), self._flips, strict=True))):
            out = np.where(chosen[:, None, None, None], np.flip(out, axis=axis), out)
        return out

    def compute_output_shape(self, input_shape: tuple[int, ...]) -> tuple[int, ...]:
        if len(input_shape) != 3:
            raise NablanetError(
                "RandomFlip expected images of shape (height, width, channels), got "
                f"shape {tuple(input_shape)}"
            )
        return tuple(input_shape)

    def get_config(self) -> dict[str, Any]:
        return {"mode": self.mode, "seed": self.seed}
