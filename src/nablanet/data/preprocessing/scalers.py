"""Scalers fitted on the training features: :class:`StandardScaler` and :class:`MinMaxScaler`.

Reductions in ``fit`` run block by block in float64, so fitting on a memory-mapped array bigger
than RAM streams it from disk. Outputs are ``float32``; a constant feature never gives NaN.

>>> x_train = np.array([[1.0, 10.0], [3.0, 10.0]], dtype=np.float32)
>>> scaler = StandardScaler().fit(x_train)
>>> scaler.transform(x_train).tolist()   # the constant column stays finite
[[-1.0, 0.0], [1.0, 0.0]]
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import numpy as np

from ..dataset import CHUNK_BYTES
from ..errors import DataError
from .base import Transformer, check_samples

__all__ = ["ChannelStandardizer", "MinMaxScaler", "StandardScaler"]


def _blocks(x: np.ndarray) -> Iterator[np.ndarray]:
    """Row blocks of ``x`` as float64, about ``CHUNK_BYTES`` each."""
    row_bytes = max(1, int(np.prod(x.shape[1:], dtype=np.int64)) * 8)
    rows = max(1, CHUNK_BYTES // row_bytes)
    for start in range(0, len(x), rows):
        yield np.asarray(x[start : start + rows], dtype=np.float64)


class _FeatureTransformer(Transformer):
    """Per-feature statistics over axis 0, checked against the feature shape at transform."""

    def _check_shape(self, x: np.ndarray, reference: np.ndarray) -> None:
        if reference.ndim and x.shape[1:] != reference.shape:
            raise DataError(
                f"{type(self).__name__} was fitted on samples of shape {reference.shape}, got an "
                f"array of shape {x.shape}"
            )


class StandardScaler(_FeatureTransformer):
    """Standardization ``(x - mean) / std``, per feature or over all values.

    A feature with zero variance gets ``std = 1`` (it maps to 0, never NaN).

    Parameters
    ----------
    per_feature : bool
        One mean and std per feature (position ``x.shape[1:]``), or one for the whole array.

    Attributes
    ----------
    mean, scale : ndarray of shape x.shape[1:] (or scalars), float32; None before ``fit``.

    Examples
    --------
    >>> s = StandardScaler().fit(np.array([[0.0], [2.0], [4.0]]))
    >>> s.mean, s.scale
    (array([2.], dtype=float32), array([1.6329932], dtype=float32))
    >>> s.inverse_transform(s.transform(np.array([[4.0]]))).tolist()
    [[4.0]]
    """

    params = ("per_feature",)
    state = ("mean", "scale")

    def __init__(self, per_feature: bool = True) -> None:
        self.per_feature = bool(per_feature)
        self.mean: np.ndarray | None = None
        self.scale: np.ndarray | None = None

    def fit(self, x: np.ndarray, y: np.ndarray | None = None) -> StandardScaler:
        x = check_samples(x, "StandardScaler.fit")
        # Chan et al.'s pairwise merge of per-block means and sums of squared deviations.
        count, mean, m2 = 0, None, None
        for block in _blocks(x):
            if not np.isfinite(block).all():
                raise DataError(
                    f"StandardScaler.fit: the data (shape {x.shape}) contains NaN or inf"
                )
            if not self.per_feature:
                block = block.reshape(-1, 1)
            n_b = len(block)
            mean_b = block.mean(axis=0)
            m2_b = ((block - mean_b) ** 2).sum(axis=0)
            if mean is None:
                count, mean, m2 = n_b, mean_b, m2_b
                continue
            total = count + n_b
            delta = mean_b - mean
            mean = mean + delta * (n_b / total)
            m2 = m2 + m2_b + delta**2 * (count * n_b / total)
            count = total
        assert mean is not None and m2 is not None  # check_samples: at least one block
        std = np.sqrt(m2 / count)
        std[std < 1e-12 * np.maximum(1.0, np.abs(mean))] = 1.0
        if not self.per_feature:
            mean, std = mean[0], std[0]
        self.mean, self.scale = mean.astype(np.float32), std.astype(np.float32)
        return self

    def transform(self, x: np.ndarray) -> np.ndarray:
        self._require_fitted()
        assert self.mean is not None and self.scale is not None
        x = np.asarray(x, dtype=np.float32)
        self._check_shape(x, self.mean)
        return (x - self.mean) / self.scale

    def inverse_transform(self, x: np.ndarray) -> np.ndarray:
        self._require_fitted()
        assert self.mean is not None and self.scale is not None
        x = np.asarray(x, dtype=np.float32)
        self._check_shape(x, self.mean)
        return x * self.scale + self.mean


class MinMaxScaler(_FeatureTransformer):
    """Min-max normalization of each feature to ``feature_range``.

    A constant feature maps to the lower end of the range (never NaN), and back.

    Parameters
    ----------
    feature_range : (float, float)
        ``(low, high)`` with ``low < high``.

    Attributes
    ----------
    data_min, data_max : ndarray of shape x.shape[1:], float32; None before ``fit``.

    Examples
    --------
    >>> m = MinMaxScaler().fit(np.array([[0.0, 5.0], [10.0, 5.0]]))
    >>> m.transform(np.array([[2.5, 5.0]])).tolist()
    [[0.25, 0.0]]
    """

    params = ("feature_range",)
    state = ("data_min", "data_max")

    def __init__(self, feature_range: Sequence[float] = (0.0, 1.0)) -> None:
        if len(feature_range) != 2 or not float(feature_range[0]) < float(feature_range[1]):
            raise DataError(
                f"The 'feature_range' parameter of MinMaxScaler must be (low, high) with "
                f"low < high. Got {feature_range!r} instead."
            )
        self.feature_range = [float(feature_range[0]), float(feature_range[1])]
        self.data_min: np.ndarray | None = None
        self.data_max: np.ndarray | None = None

    def fit(self, x: np.ndarray, y: np.ndarray | None = None) -> MinMaxScaler:
        x = check_samples(x, "MinMaxScaler.fit")
        lo = hi = None
        for block in _blocks(x):
            if not np.isfinite(block).all():
                raise DataError(f"MinMaxScaler.fit: the data (shape {x.shape}) contains NaN or inf")
            b_lo, b_hi = block.min(axis=0), block.max(axis=0)
            lo = b_lo if lo is None else np.minimum(lo, b_lo)
            hi = b_hi if hi is None else np.maximum(hi, b_hi)
        assert lo is not None and hi is not None  # check_samples: at least one block
        self.data_min, self.data_max = lo.astype(np.float32), hi.astype(np.float32)
        return self

    def _ratio(self) -> np.ndarray:
        assert self.data_min is not None and self.data_max is not None
        span = (self.data_max - self.data_min).astype(np.float32)
        span[span == 0] = 1.0
        low, high = self.feature_range
        return np.float32(high - low) / span

    def transform(self, x: np.ndarray) -> np.ndarray:
        self._require_fitted()
        assert self.data_min is not None
        x = np.asarray(x, dtype=np.float32)
        self._check_shape(x, self.data_min)
        return (x - self.data_min) * self._ratio() + np.float32(self.feature_range[0])

    def inverse_transform(self, x: np.ndarray) -> np.ndarray:
        self._require_fitted()
        assert self.data_min is not None
        x = np.asarray(x, dtype=np.float32)
        self._check_shape(x, self.data_min)
        return (x - np.float32(self.feature_range[0])) / self._ratio() + self.data_min


class ChannelStandardizer(Transformer):
    """``(x - mean[c]) / std[c]`` for each channel ``c`` (the last axis of NHWC images).

    The statistics run over every sample and pixel of the training images, block by block in
    float64 (a memory-mapped array is streamed); a channel with zero variance gets ``std = 1``.

    It is the usual input normalization of CIFAR models (torchvision's ``Normalize(mean, std)``,
    Keras' ``Normalization(axis=-1)``) fitted on the raw pixels, so a saved model takes raw
    ``0..255`` pixels and applies the same numbers at prediction time.

    Attributes
    ----------
    mean, scale : ndarray of shape (n_channels,), float32; None before ``fit``.

    Examples
    --------
    >>> import numpy as np
    >>> x = np.zeros((2, 2, 2, 3), np.uint8); x[..., 0] = [[[0], [255]], [[0], [255]]]
    >>> s = ChannelStandardizer().fit(x)
    >>> s.mean.tolist(), s.scale.tolist()       # the constant channels keep std 1 (no NaN)
    ([127.5, 0.0, 0.0], [127.5, 1.0, 1.0])
    >>> s.transform(x)[0, 1, 0].tolist()
    [1.0, 0.0, 0.0]
    """

    state = ("mean", "scale")

    def __init__(self) -> None:
        self.mean: np.ndarray | None = None
        self.scale: np.ndarray | None = None

    def fit(self, x: np.ndarray, y: np.ndarray | None = None) -> ChannelStandardizer:
        x = check_samples(x, "ChannelStandardizer.fit", min_ndim=4)
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
        assert self.mean is not None
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
