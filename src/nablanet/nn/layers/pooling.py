"""Pooling over NHWC images: ``MaxPool2D``, ``AvgPool2D``, ``GlobalAveragePooling2D``.

The windows are visited one *offset* at a time: for a ``ph x pw`` pool there are ``ph * pw``
strided views of the input (``x[:, u::sh, v::sw, :]`` cropped to the output size), and the pooled
value is their element-wise maximum (or mean). That is ``ph * pw`` vectorised operations over the
whole batch, never a loop over pixels, and it needs no copy of the windows.

Max pooling routes each output's gradient to exactly **one** input: the first maximum of its
window in row-major order (the rule of PyTorch's CPU kernel). A mask ``x == max`` would send it to
every tied input; on MNIST's black backgrounds most windows are ties of zeros, and the gradient
would be multiplied by up to four.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.lib.stride_tricks import as_strided

from ..errors import NablanetError
from ._parallel import for_each_block
from .base import Layer
from .geometry import as_pair, check_image_batch, check_image_shape, json_form


def _offset_view(
    x: np.ndarray, u: int, v: int, stride: tuple[int, int], out_size: tuple[int, int]
) -> np.ndarray:
    """``x[:, u + i*sh, v + j*sw, :]`` for all output positions ``(i, j)`` (a view)."""
    sh, sw = stride
    ho, wo = out_size
    return x[:, u : u + sh * (ho - 1) + 1 : sh, v : v + sw * (wo - 1) + 1 : sw, :]


class _PoolGeometry:
    """Shared geometry of the windowed pooling layers (``padding="valid"``).

    A mixin, not a ``Layer``, so it stays out of the layer registry.
    """

    _owner = "Pool2D"

    def __init__(
        self,
        pool_size: int | Sequence[int] = 2,
        stride: int | Sequence[int] | None = None,
        *,
        strides: int | Sequence[int] | None = None,
        padding: str = "valid",
    ) -> None:
        # Keras' names: strides= is stride=, padding="valid" is the only padding here
        if strides is not None:
            if stride is not None and stride != strides:
                raise NablanetError(
                    f"{self._owner} got stride={stride!r} and strides={strides!r}: the same "
                    "argument; give one"
                )
            stride = strides
        if padding != "valid":
            raise NablanetError(
                f"{self._owner} pools without padding (padding='valid'), got padding={padding!r}; "
                "pad with the convolution before it (Conv2D(..., padding='same'))"
            )
        self.pool_size = as_pair(pool_size, "pool_size", self._owner)
        self.stride = self.pool_size if stride is None else as_pair(stride, "stride", self._owner)
        self._config_forms = {"pool_size": json_form(pool_size), "stride": json_form(stride)}
        self._x_shape: Any = None

    def _out_size(self, height: int, width: int) -> tuple[int, int]:
        (ph, pw), (sh, sw) = self.pool_size, self.stride
        return (height - ph) // sh + 1, (width - pw) // sw + 1

    def _check(self, shape: tuple, what: str) -> tuple[int, int]:
        ho, wo = self._out_size(shape[-3], shape[-2])
        if shape[-3] < self.pool_size[0] or shape[-2] < self.pool_size[1]:
            raise NablanetError(
                f"{self._owner} pool {self.pool_size} is larger than the input {what} {shape}"
            )
        return ho, wo

    def compute_output_shape(self, input_shape: tuple[int, ...]) -> tuple[int, ...]:
        check_image_shape(input_shape, self._owner)
        ho, wo = self._check(tuple(input_shape), "shape")
        return (ho, wo, input_shape[2])

    def get_config(self) -> dict[str, Any]:
        return dict(self._config_forms)


class MaxPool2D(_PoolGeometry, Layer):
    """Maximum over ``pool_size`` windows moved by ``stride`` (default: ``pool_size``).

    Parameters
    ----------
    pool_size : int or (int, int)
    stride : int or (int, int), optional
        Defaults to ``pool_size`` (non-overlapping windows). Trailing rows/columns that do not
        fill a window are dropped ("valid" pooling).

    Input ``(n_samples, height, width, channels)``; output
    ``(n_samples, (height - ph) // sh + 1, (width - pw) // sw + 1, channels)``.

    The gradient of each output goes to exactly one input, the first maximum of its window.

    >>> pool = MaxPool2D(2)
    >>> x = np.zeros((1, 2, 2, 1), dtype=np.float32)  # four tied maxima
    >>> pool.forward(x, training=True).shape
    (1, 1, 1, 1)
    >>> pool.backward(np.ones((1, 1, 1, 1), dtype=np.float32))[0, :, :, 0].tolist()
    [[1.0, 0.0], [0.0, 0.0]]
    """

    _owner = "MaxPool2D"

    def __init__(
        self,
        pool_size: int | Sequence[int] = 2,
        stride: int | Sequence[int] | None = None,
        *,
        strides: int | Sequence[int] | None = None,
        padding: str = "valid",
    ) -> None:
        super().__init__(pool_size, stride, strides=strides, padding=padding)
        self._relu_out: Any = None
        self._argmax: Any = None
        self._right: Any = None
        self._bottom: Any = None

    def forward(self, x: np.ndarray, training: bool = False) -> np.ndarray:
        check_image_batch(x, "MaxPool2D")
        out_size = self._check(x.shape, "of shape")
        if training:
            self._argmax = self._right = self._bottom = None
        if self.pool_size == (2, 2) and self.stride == (2, 2):
            y = self._forward_2x2(x, out_size, training)
        else:
            y = self._forward_general(x, out_size, training)
        if training:
            self._x_shape = x.shape
        return y

    def _forward_general(
        self, x: np.ndarray, out_size: tuple[int, int], training: bool
    ) -> np.ndarray:
        ph, pw = self.pool_size
        n, c = x.shape[0], x.shape[3]
        y = np.empty((n, *out_size, c), dtype=x.dtype)
        argmax = np.zeros(y.shape, dtype=np.uint8 if ph * pw <= 256 else np.int32)

        def block(a: int, b: int) -> None:
            xb, yb, ab = x[a:b], y[a:b], argmax[a:b]
            yb[...] = _offset_view(xb, 0, 0, self.stride, out_size)
            for k in range(1, ph * pw):
                view = _offset_view(xb, k // pw, k % pw, self.stride, out_size)
                if training:
                    # strictly greater: a tie keeps the earlier offset, one winner per window
                    np.copyto(ab, k, where=view > yb)
                np.maximum(yb, view, out=yb)

        for_each_block(block, n, x.nbytes)
        if training:
            self._argmax = argmax
        return y

    def _forward_2x2(self, x: np.ndarray, out_size: tuple[int, int], training: bool) -> np.ndarray:
        # the common case as a tournament: the larger of each horizontal pair, then the larger
        # of the two rows; a tie keeps the left / the top, i.e. the first maximum in row-major
        # order, and the two decisions are all the backward needs.
        n, c = x.shape[0], x.shape[3]
        ho, wo = out_size
        w6 = _windows_2x2(x, out_size)  # (n, ho, 2, wo, 2, c) view
        y = np.empty((n, ho, wo, c), dtype=x.dtype)
        if training:
            self._right = np.empty((n, ho, 2, wo, c), dtype=bool)
            self._bottom = np.empty((n, ho, wo, c), dtype=bool)

        def block(a: int, b: int) -> None:
            left, right = w6[a:b, :, :, :, 0], w6[a:b, :, :, :, 1]
            rows = np.maximum(left, right)  # (b - a, ho, 2, wo, c)
            top, bottom = rows[:, :, 0], rows[:, :, 1]
            if training:
                np.greater(right, left, out=self._right[a:b])
                np.greater(bottom, top, out=self._bottom[a:b])
            np.maximum(top, bottom, out=y[a:b])

        for_each_block(block, n, x.nbytes)
        return y

    # -- ReLU moved after the pooling (Conv2D.fuse_with_next: Conv2D(relu) + MaxPool2D) -------
    def forward_relu(self, x: np.ndarray, training: bool = False) -> np.ndarray:
        """``relu(maxpool(x))``, which equals ``maxpool(relu(x))``: the maximum is monotonic.

        A model runs ``Conv2D(activation="relu")`` followed by ``MaxPool2D`` this way: the
        ReLU and its gradient mask then touch the pooled output, a quarter of the convolution's
        (2x2 pools), and the gradients are the same: where the window's maximum is positive the
        first maximum of ``x`` is the first maximum of ``relu(x)``; elsewhere both are zero.
        """
        y = self.forward(x, training)

        def block(a: int, b: int) -> None:
            np.maximum(y[a:b], 0, out=y[a:b])

        for_each_block(block, y.shape[0], y.nbytes)
        self._relu_out = y if training else None
        return y

    def backward_relu(self, grad: np.ndarray) -> np.ndarray:
        """The gradient of :meth:`forward_relu`: the ReLU's mask, then :meth:`backward`."""
        y = self._relu_out
        if y is None:
            raise NablanetError(
                "MaxPool2D.backward_relu called before forward_relu(..., training=True)"
            )
        masked = np.empty(grad.shape, dtype=np.result_type(grad, y))

        def block(a: int, b: int) -> None:
            np.multiply(grad[a:b], y[a:b] > 0, out=masked[a:b])

        for_each_block(block, grad.shape[0], masked.nbytes)
        return self.backward(masked)

    def backward(self, grad: np.ndarray) -> np.ndarray:
        if self._x_shape is None or (self._argmax is None and self._right is None):
            raise NablanetError("MaxPool2D.backward called before forward(..., training=True)")
        if self._right is not None:
            return self._backward_2x2(grad)
        ph, pw = self.pool_size
        sh, sw = self.stride
        out_size = self._argmax.shape[1:3]
        grad_x = np.zeros(self._x_shape, dtype=grad.dtype)
        overlapping = sh < ph or sw < pw

        def block(a: int, b: int) -> None:
            gb, ab = grad[a:b], self._argmax[a:b]
            for k in range(ph * pw):
                view = _offset_view(grad_x[a:b], k // pw, k % pw, self.stride, out_size)
                if overlapping:
                    view += gb * (ab == k)
                else:
                    np.multiply(gb, ab == k, out=view)  # no overlap: one write per input

        for_each_block(block, grad.shape[0], grad_x.nbytes)
        return grad_x

    def _backward_2x2(self, grad: np.ndarray) -> np.ndarray:
        _, h, w, _ = self._x_shape
        out_size = grad.shape[1:3]
        ho, wo = out_size
        cropped = h != 2 * ho or w != 2 * wo
        grad_x = (np.zeros if cropped else np.empty)(self._x_shape, dtype=grad.dtype)
        g6 = _windows_2x2(grad_x, out_size, writeable=True)

        def block(a: int, b: int) -> None:
            # route to a row, then within the row to a column: multiplications by the boolean
            # decisions and exact subtractions (g - g * 1 == 0, g - g * 0 == g)
            g = grad[a:b]
            to_bottom = g * self._bottom[a:b]
            for r, g_row in ((0, g - to_bottom), (1, to_bottom)):
                right = g6[a:b, :, r, :, 1]
                np.multiply(g_row, self._right[a:b, :, r], out=right)
                np.subtract(g_row, right, out=g6[a:b, :, r, :, 0])

        for_each_block(block, grad.shape[0], grad_x.nbytes)
        return grad_x


def _windows_2x2(x: np.ndarray, out_size: tuple[int, int], writeable: bool = False) -> np.ndarray:
    """The 2x2 windows of ``x`` (n, h, w, c) as a view of shape (n, ho, 2, wo, 2, c)."""
    n, _, _, c = x.shape
    ho, wo = out_size
    s0, s1, s2, s3 = x.strides
    return as_strided(
        x,
        shape=(n, ho, 2, wo, 2, c),
        strides=(s0, 2 * s1, s1, 2 * s2, s2, s3),
        writeable=writeable,
    )


class AvgPool2D(_PoolGeometry, Layer):
    """Mean over ``pool_size`` windows moved by ``stride`` (default: ``pool_size``).

    Parameters
    ----------
    pool_size : int or (int, int)
    stride : int or (int, int), optional

    Input ``(n_samples, height, width, channels)``; output as for :class:`MaxPool2D`.

    >>> x = np.arange(4.0).reshape(1, 2, 2, 1)
    >>> AvgPool2D(2).forward(x).ravel().tolist()
    [1.5]
    """

    _owner = "AvgPool2D"

    def forward(self, x: np.ndarray, training: bool = False) -> np.ndarray:
        check_image_batch(x, "AvgPool2D")
        out_size = self._check(x.shape, "of shape")
        ph, pw = self.pool_size
        n, c = x.shape[0], x.shape[3]
        y = np.empty((n, *out_size, c), dtype=x.dtype)

        def block(a: int, b: int) -> None:
            xb, yb = x[a:b], y[a:b]
            yb[...] = _offset_view(xb, 0, 0, self.stride, out_size)
            for k in range(1, ph * pw):
                yb += _offset_view(xb, k // pw, k % pw, self.stride, out_size)
            yb *= yb.dtype.type(1.0 / (ph * pw))

        for_each_block(block, n, x.nbytes)
        if training:
            self._x_shape = x.shape
        return y

    def backward(self, grad: np.ndarray) -> np.ndarray:
        if self._x_shape is None:
            raise NablanetError("AvgPool2D.backward called before forward(..., training=True)")
        ph, pw = self.pool_size
        grad_x = np.zeros(self._x_shape, dtype=grad.dtype)

        def block(a: int, b: int) -> None:
            share = grad[a:b] * grad.dtype.type(1.0 / (ph * pw))
            for k in range(ph * pw):
                view = _offset_view(grad_x[a:b], k // pw, k % pw, self.stride, share.shape[1:3])
                view += share

        for_each_block(block, grad.shape[0], grad_x.nbytes)
        return grad_x


class GlobalAveragePooling2D(Layer):
    """Mean over the spatial axes: ``(n, height, width, channels) -> (n, channels)``.

    >>> x = np.ones((2, 5, 5, 3), dtype=np.float32)
    >>> GlobalAveragePooling2D().forward(x).shape
    (2, 3)
    """

    def __init__(self) -> None:
        self._x_shape: Any = None

    def forward(self, x: np.ndarray, training: bool = False) -> np.ndarray:
        check_image_batch(x, "GlobalAveragePooling2D")
        if training:
            self._x_shape = x.shape
        return x.mean(axis=(1, 2), dtype=x.dtype)

    def backward(self, grad: np.ndarray) -> np.ndarray:
        if self._x_shape is None:
            raise NablanetError(
                "GlobalAveragePooling2D.backward called before forward(..., training=True)"
            )
        _, h, w, _ = self._x_shape
        share = grad * grad.dtype.type(1.0 / (h * w))
        return np.broadcast_to(share[:, None, None, :], self._x_shape).copy()

    def compute_output_shape(self, input_shape: tuple[int, ...]) -> tuple[int, ...]:
        check_image_shape(input_shape, "GlobalAveragePooling2D")
        return (input_shape[2],)
