"""Per-channel standardization of images: one mean and one standard deviation per colour
channel, fitted on the training split only and saved with the model.

It is the usual input normalization of CIFAR models (torchvision's ``Normalize(mean, std)``,
Keras' ``Normalization(axis=-1)``), fitted on the raw pixels, so a saved model takes raw
``0..255`` pixels and applies the same numbers at prediction time.

>>> import numpy as np
>>> x = np.zeros((2, 2, 2, 3), np.uint8); x[..., 0] = [[[0], [255]], [[0], [255]]]
>>> s = ChannelStandardizer().fit(x)
>>> s.mean.tolist(), s.scale.tolist()       # the constant channels keep std 1 (no NaN)
([127.5, 0.0, 0.0], [127.5, 1.0, 1.0])
>>> s.transform(x)[0, 1, 0].tolist()
[1.0, 0.0, 0.0]
"""

from __future__ import annotations

import numpy as np

from .errors import DataError
from .preprocessing import Transformer, _blocks, _check_samples

__all__ = ["ChannelStandardizer"]


class ChannelStandardizer(Transformer):
    """``(x - mean[c]) / std[c]`` for each channel ``c`` (the last axis of NHWC images).

    The statistics run over every sample and pixel of the training images, block by block in
    float64 (a memory-mapped array is streamed); a channel with zero variance gets ``std = 1``.

    Attributes
    ----------
    mean, scale : ndarray of shape (n_channels,), float32; None before ``fit``.
    """

    state = ("mean", "scale")

    def __init__(self) -> None:
        self.mean: np.ndarray | None = None
        self.scale: np.ndarray | None = None

    def fit(self, x: np.ndarray, y: np.ndarray | None = None) -> ChannelStandardizer:
        x = _check_samples(x, "ChannelStandardizer.fit", min_ndim=4)
        total = np.zeros(x.shape[-1])
        count = 0
        for block in _blocks(x):
            if not np.isfinite(block).all():
                raise DataError(f"ChannelStandardizer.fit: the images (shape {x.shape}) hold NaN")
            total += block.reshape(-1, x.shape[-1]).sum(axis=0)
            count += block.size // x.shape[-1]
        mean = total / count
        m2 = np.zeros_like(mean)
        for block in _blocks(x):  # a second pass: exact, and float64 keeps it stable
            m2 += ((block.reshape(-1, x.shape[-1]) - mean) ** 2).sum(axis=0)
        std = np.sqrt(m2 / count)
        std[std < 1e-12 * np.maximum(1.0, np.abs(mean))] = 1.0
        self.mean, self.scale = mean.astype(np.float32), std.astype(np.float32)
        return self

    def _check(self, x: np.ndarray) -> np.ndarray:
        self._require_fitted()
        x = np.asarray(x, dtype=np.float32)
        if x.ndim < 2 or x.shape[-1] != len(self.mean):
            raise DataError(
                f"ChannelStandardizer was fitted on images with {len(self.mean)} channel(s), "
                f"got an array of shape {x.shape}"
            )
        return x

    def transform(self, x: np.ndarray) -> np.ndarray:
        return (self._check(x) - self.mean) / self.scale

    def inverse_transform(self, x: np.ndarray) -> np.ndarray:
        return self._check(x) * self.scale + self.mean
