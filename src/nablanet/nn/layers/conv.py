"""2-D convolution in NHWC layout: im2col + one matrix product, or Winograd F(2x2, 3x3).

Memory layout
-------------
Images are ``(n_samples, height, width, channels)`` (NHWC, "channels last") everywhere in
nablanet, and kernels are ``(kernel_height, kernel_width, in_channels, out_channels)``. With
channels last, the patch under a kernel position is a run of ``kernel_width * channels``
contiguous numbers per kernel row, so building the im2col matrix is one strided copy and the
convolution is one GEMM ``(n * out_h * out_w, kh * kw * c_in) @ (kh * kw * c_in, c_out)`` whose
result *is* the NHWC output, no transpose needed. NHWC was measured faster than NCHW here.

im2col
------
The patch matrix is built by :func:`.im2col.im2col` (and its adjoint is
:func:`.im2col.col2im`). ``Conv2D.backward`` computes the input gradient without the matrix of
column gradients: one GEMM per kernel offset, added at that offset's position. The padding and
size arithmetic lives in :mod:`.geometry`.

Winograd
--------
A 3x3, stride-1 layer with at least ``WINOGRAD_MIN_CHANNELS`` input channels (the second and
later layers of the usual CNNs) computes the same convolution with Winograd's F(2x2, 3x3)
algorithm instead (:mod:`.winograd`): 16 GEMMs on transformed 4x4 tiles, 2.25 x fewer
multiplications than im2col and a smaller matrix to build. ``layer.algorithm`` says which is
used and may be set to ``"im2col"`` for any layer (or ``"winograd"`` for any 3x3 stride-1 one).
With a ReLU and a following 2x2 max pooling, :meth:`Conv2D.forward_relu_maxpool` runs the three
in one pass. ``Conv2D.fuse_with_next`` offers it (or, for other max poolings, the ReLU moved after
the pooling) to the execution plan of :class:`~nablanet.nn.Sequential` (:mod:`nablanet.nn.plan`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import DTypeLike

from .. import initializers as inits
from .. import regularizers as regs
from .._validation import check_dtype, check_positive_int, param_error
from ..errors import NablanetError
from ..parameter import Parameter
from ..plan import LogitsLossStep, Step, runs_own_methods
from ..random import get_rng
from . import activations as acts
from . import winograd
from ._parallel import for_each_block
from .base import Layer
from .dense import keras_kernel_names
from .geometry import (
    as_pair,
    check_image_batch,
    check_image_shape,
    conv_output_size,
    json_form,
    normalize_padding,
    pad_nhwc,
    resolve_padding,
)
from .im2col import im2col, im2col_pooled
from .pooling import MaxPool2D

if TYPE_CHECKING:  # pragma: no cover
    from ..losses import Loss
    from ..plan import OutputStep

#: 3x3 stride-1 convolutions with at least this many input channels use Winograd F(2x2, 3x3)
#: (with fewer, its 16 GEMMs are too thin to beat im2col's one)
WINOGRAD_MIN_CHANNELS = 8
#: most bytes of the im2col matrix built at once at inference (training keeps the whole batch's
#: and runs its GEMM in blocks of this many bytes of it). 4 MiB blocks were measured too: 0.6-0.8 x
#: the first CIFAR layer's time alone, 1.08-1.19 x the whole step's and predict's (loaded machine)
_IM2COL_BLOCK_BYTES = 32 << 20
#: bytes of transformed tiles (V, or M) per chunk of images in the Winograd pipeline: small
#: enough that a chunk's V, M and output stay in the cache between the passes, large enough for
#: few BLAS calls (4 and 16 MiB measured the same; the whole batch at once took 2 x as long)
_WINOGRAD_CHUNK_BYTES = 16 << 20
#: most bytes of dL/dcols computed and summed back at once in Conv2D.backward. Large on purpose:
#: smaller (cache-sized) blocks were faster with a single BLAS thread but much slower with
#: several, where every one of the many small GEMM calls wakes and synchronises the threads
#: (for the same reason the input gradient is one GEMM, not one per kernel offset).


def _relu_maxpool_quads(
    z: np.ndarray, y: np.ndarray, right: np.ndarray | None = None, bottom: np.ndarray | None = None
) -> None:
    """``y = relu(max of the four members)`` of 2x2 windows given as ``z[a, b]`` (2, 2, n, ...).

    ``right[:, :, a]`` (n, ph, 2, pw, c) records whether member (a, 1) beat (a, 0) strictly, and
    ``bottom`` whether row 1's maximum beat row 0's: ties keep the first in row-major order.
    """

    def block(s: int, e: int) -> None:
        rows = np.empty((2, *y[s:e].shape), dtype=y.dtype)
        for r in range(2):
            if right is not None:
                np.greater(z[r, 1, s:e], z[r, 0, s:e], out=right[s:e, :, r])
            np.maximum(z[r, 0, s:e], z[r, 1, s:e], out=rows[r])
        if bottom is not None:
            np.greater(rows[1], rows[0], out=bottom[s:e])
        np.maximum(rows[0], rows[1], out=y[s:e])
        np.maximum(y[s:e], 0, out=y[s:e])

    for_each_block(block, y.shape[0], z.nbytes)


def _chunk_images(bytes_per_image: int, n: int) -> int:
    """Images per chunk of the Winograd pipeline: about ``_WINOGRAD_CHUNK_BYTES`` of
    transformed tiles, at least 1."""
    return max(1, min(n, _WINOGRAD_CHUNK_BYTES // max(1, bytes_per_image)))


# -- the layer -------------------------------------------------------------------------------
class Conv2D(Layer):
    """2-D convolution (cross-correlation, as in every framework) over NHWC images.

    ``y[n, i, j, o] = activation(b[o] + sum_{u, v, c} x_pad[n, i*sh + u, j*sw + v, c] * W[u, v, c, o])``

    Three ways to call it, none of which can be read as another:

    - PyTorch order, positionally: ``Conv2D(in_channels, out_channels, kernel_size)`` (three
      numbers) or ``Conv2D(in_channels, out_channels, kernel_size=3)``;
    - by name, PyTorch's or Keras' words: ``Conv2D(in_channels=1, out_channels=32,
      kernel_size=3)``, ``Conv2D(filters=32, kernel_size=3)``;
    - Keras' one positional: ``Conv2D(32, kernel_size=3)`` is 32 filters, and so is
      ``Conv2D(32, (3, 3))`` (a pair can only be a kernel size).

    ``Conv2D(32, 3)`` (two numbers, no ``kernel_size``) is refused: Keras reads it as 32 filters
    of 3x3, PyTorch as 32 input channels and 3 output channels. Without ``in_channels`` the
    layer takes its input channels from ``input_shape=(height, width, channels)`` or from the
    first batch it sees (a deferred build, see :meth:`build`).

    Parameters
    ----------
    in_channels : int, optional
        Channels of the input (1 for grey images); ``None``: from the data at first use.
    out_channels : int
        Number of filters (the output's channels); ``filters`` is its Keras name.
    kernel_size : int or (int, int)
        Default 3 (by name or as the third number; never as the second, see above).
    stride : int or (int, int)
        ``strides`` is its Keras name.
    padding : int, (int, int), "valid" or "same"
        Zeros added on each side of the height and width; ``"same"`` keeps
        ``ceil(size / stride)`` outputs; ``"valid"`` (= 0) adds none.
    activation : str or Activation, optional
        ``None`` means linear.
    use_bias : bool
    weight_initializer, bias_initializer : str
        Names from :mod:`nablanet.nn.initializers` (fans read from the kernel shape).
    weight_regularizer, bias_regularizer : Regularizer, optional
    dtype : {"float32", "float64"}
    seed : int, optional
        As for :class:`~nablanet.nn.Dense`: the generator is drawn when the layer is created,
        so a deferred build gives the weights an eager one would.
    filters, strides, input_shape : optional, keyword only
        Keras' names (``input_shape=(height, width, channels)`` fixes ``in_channels``); not part
        of ``get_config()``.
    kernel_initializer, kernel_regularizer : optional, keyword only
        Keras' names of ``weight_initializer`` and ``weight_regularizer``.

    Attributes
    ----------
    weights : Parameter of shape (kernel_h, kernel_w, in_channels, out_channels)
    biases : Parameter of shape (out_channels,) (absent when ``use_bias=False``)

    Input ``(n_samples, height, width, in_channels)`` (channels last); output
    ``(n_samples, out_h, out_w, out_channels)`` with
    ``out_h = (height + pad_top + pad_bottom - kernel_h) // stride_h + 1`` (same for widths).

    >>> conv = Conv2D(1, 8, kernel_size=3, padding="same", activation="relu", seed=0)
    >>> conv.forward(np.zeros((2, 28, 28, 1), dtype=np.float32)).shape
    (2, 28, 28, 8)
    >>> conv.compute_output_shape((28, 28, 1))
    (28, 28, 8)
    >>> keras_style = Conv2D(filters=8, kernel_size=3, padding="same", seed=0)
    >>> keras_style.built, keras_style.forward(np.zeros((2, 28, 28, 1), np.float32)).shape
    (False, (2, 28, 28, 8))
    """

    def __init__(
        self,
        *args: Any,
        kernel_size: int | Sequence[int] | None = None,
        stride: int | Sequence[int] = 1,
        padding: int | str | Sequence[int] = 0,
        activation: str | dict | acts.Activation | None = None,
        use_bias: bool = True,
        weight_initializer: str = "he_normal",
        bias_initializer: str = "zeros",
        weight_regularizer: regs.Regularizer | dict | None = None,
        bias_regularizer: regs.Regularizer | dict | None = None,
        dtype: DTypeLike = "float32",
        seed: int | None = None,
        in_channels: int | None = None,
        out_channels: int | None = None,
        filters: int | None = None,
        strides: int | Sequence[int] | None = None,
        input_shape: tuple | None = None,
        kernel_initializer: str | dict | None = None,
        kernel_regularizer: Any = None,
    ) -> None:
        in_channels, out_channels, kernel_size = _resolve_conv_args(
            args, in_channels, out_channels, filters, kernel_size, input_shape
        )
        weight_initializer, weight_regularizer = keras_kernel_names(
            "Conv2D", weight_initializer, weight_regularizer, kernel_initializer, kernel_regularizer
        )
        if strides is not None:
            if stride != 1 and stride != strides:
                raise NablanetError(
                    f"Conv2D got stride={stride!r} and strides={strides!r}: the same argument; "
                    "give one"
                )
            stride = strides
        self.in_channels = (
            None
            if in_channels is None
            else check_positive_int(in_channels, "in_channels", "Conv2D")
        )
        self.out_channels = check_positive_int(out_channels, "out_channels", "Conv2D")
        self.kernel_size = as_pair(kernel_size, "kernel_size", "Conv2D")
        self.stride = as_pair(stride, "stride", "Conv2D")
        self.padding = normalize_padding(padding, "Conv2D")
        self._config_forms = {
            "kernel_size": json_form(kernel_size),
            "stride": json_form(stride),
            "padding": json_form(padding),
        }
        self.activation = acts.deserialize(activation)
        self.use_bias = bool(use_bias)
        self.weight_initializer = weight_initializer
        self.bias_initializer = bias_initializer
        inits.get(weight_initializer), inits.get(bias_initializer)  # bad names fail here
        self.weight_regularizer = regs.deserialize(weight_regularizer)
        self.bias_regularizer = regs.deserialize(bias_regularizer)
        self.dtype = check_dtype(dtype, "Conv2D")
        self.seed = seed
        # drawn now even when the weights wait for the build (same weights for the same seed)
        self._rng: Any = get_rng(seed)  # the initializers' generator, until build() uses it
        #: set to False by a model for its first layer: no gradient w.r.t. the input is needed
        self.input_grad = True
        self._algorithm = "im2col"
        self._workspace: dict[str, np.ndarray] = {}
        self._wino: Any = None
        self._pooled: Any = None
        self._relu_out: Any = None
        self._cols: Any = None
        self._padded_shape: Any = None
        self._pads: Any = None
        self._out_size: Any = None
        #: ``input_shape=`` (Keras): lets a model's summary() know its image size
        self._declared_input_shape = None if input_shape is None else tuple(input_shape)
        if self.in_channels is not None:
            self.build((None, None, self.in_channels))

    @property
    def built(self) -> bool:
        return "weights" in vars(self)

    def build(self, input_shape: tuple) -> None:
        """Create the kernel ``(kh, kw, in_channels, out_channels)`` (and biases) for NHWC
        inputs of ``input_shape`` = ``(height, width, channels)`` (batch axis excluded; height
        and width may be None); a no-op once built."""
        if self.built:
            return
        if len(input_shape) != 3:
            raise NablanetError(
                f"Conv2D expects images (n_samples, height, width, channels), got input shape "
                f"{(None, *tuple(input_shape))} (channels last)"
            )
        first, last = input_shape[0], input_shape[2]
        if first in (1, 3, 4) and last not in (1, 3, 4) and input_shape[1] == last:
            # (1, 28, 28) is one grey 28x28 image channels first, not 28 channels of 1 row
            raise NablanetError(
                f"Conv2D got images of shape {(None, *tuple(input_shape))}, which looks channels "
                f"first (NCHW); nablanet images are channels last (n_samples, height, width, "
                f"channels): use x.transpose(0, 2, 3, 1)"
            )
        self.in_channels = check_positive_int(last, "in_channels", "Conv2D")
        rng, self._rng = self._rng, None
        kh, kw = self.kernel_size
        shape = (kh, kw, self.in_channels, self.out_channels)
        self.weights = Parameter(
            inits.get(self.weight_initializer)(shape, rng, self.dtype), "weights"
        )
        if self.use_bias:
            self.biases = Parameter(
                inits.get(self.bias_initializer)((self.out_channels,), rng, self.dtype), "biases"
            )
        self.algorithm = (
            "winograd"
            if self._winograd_fits() and self.in_channels >= WINOGRAD_MIN_CHANNELS
            else "im2col"
        )

    def _check_batch(self, x: np.ndarray) -> None:
        """Build from the first batch if needed, then the one-line NHWC shape check."""
        if self.in_channels is None and x.ndim == 4:
            self.build(x.shape[1:])
        check_image_batch(x, "Conv2D", self.in_channels)

    # -- algorithm ---------------------------------------------------------------------------
    @property
    def algorithm(self) -> str:
        """``"winograd"`` (chosen for 3x3, stride-1 layers with at least WINOGRAD_MIN_CHANNELS
        input channels) or ``"im2col"``. Both compute the same convolution; ``"im2col"`` may be
        set on any layer, ``"winograd"`` on any 3x3 stride-1 one."""
        return self._algorithm

    @algorithm.setter
    def algorithm(self, value: str) -> None:
        if value not in ("im2col", "winograd"):
            raise param_error("Conv2D", "algorithm", "'im2col' or 'winograd'", value)
        if value == "winograd" and not self._winograd_fits():
            raise NablanetError(
                f"Conv2D algorithm 'winograd' needs a 3x3 kernel and stride 1, "
                f"got kernel_size {self.kernel_size} and stride {self.stride}"
            )
        self._algorithm = value

    def _winograd_fits(self) -> bool:
        return self.kernel_size == (3, 3) and self.stride == (1, 1)

    # -- shapes ------------------------------------------------------------------------------
    def _geometry(self, height: int, width: int) -> tuple[tuple[int, int, int, int], int, int]:
        pads = resolve_padding(self.padding, (height, width), self.kernel_size, self.stride)
        (kh, kw), (sh, sw) = self.kernel_size, self.stride
        ho = conv_output_size(height, kh, sh, pads[0] + pads[1])
        wo = conv_output_size(width, kw, sw, pads[2] + pads[3])
        return pads, ho, wo

    def compute_output_shape(self, input_shape: tuple[int, ...]) -> tuple[int, ...]:
        check_image_shape(input_shape, "Conv2D", self.in_channels)
        if input_shape[0] is None or input_shape[1] is None:
            return (None, None, self.out_channels)
        _, ho, wo = self._geometry(input_shape[0], input_shape[1])
        if ho <= 0 or wo <= 0:
            raise NablanetError(
                f"Conv2D kernel {self.kernel_size} does not fit input of shape "
                f"{tuple(input_shape)} with padding {self.padding!r}"
            )
        return (ho, wo, self.out_channels)

    # -- computation -------------------------------------------------------------------------
    def forward_linear(self, x: np.ndarray, training: bool = False) -> np.ndarray:
        """The pre-activation convolution ``z = conv(x, W) + b``, shape (n, out_h, out_w, c_out)."""
        return self._convolve(x, training, relu=False)

    def _convolve(self, x: np.ndarray, training: bool, relu: bool) -> np.ndarray:
        """``z``, or ``relu(z)`` with ``relu``: the ReLU on each block of images right after its
        GEMM, while the block is in the cache."""
        self._check_batch(x)
        n, h, w, _ = x.shape
        pads, ho, wo = self._geometry(h, w)
        if ho <= 0 or wo <= 0:
            raise NablanetError(
                f"Conv2D kernel {self.kernel_size} does not fit input of shape {x.shape} "
                f"with padding {self.padding!r}"
            )
        if self.algorithm == "winograd":
            return self._winograd_forward(x, pads, ho, wo, training, relu=relu)
        # with a bias, cols ends in a column of ones and the kernel matrix in the biases
        kernel = self.weights.value.reshape(-1, self.out_channels)
        if self.use_bias:
            kernel = np.concatenate([kernel, self.biases.value[None, :]])
        z = np.empty((n, ho, wo, self.out_channels), dtype=np.result_type(x, kernel))
        rows = z.reshape(-1, self.out_channels)  # already NHWC
        # blocks of images: at inference the im2col matrix stays small for large batches, and
        # each block's GEMM output is still in the cache for the ReLU
        block = max(1, _IM2COL_BLOCK_BYTES // (ho * wo * kernel.shape[0] * x.itemsize))
        if training:
            self._wino = self._pooled = None
            xp = pad_nhwc(x, pads)
            cols, _ = im2col(xp, self.kernel_size, self.stride, bias_column=self.use_bias)
            self._cols = cols
            self._padded_shape = xp.shape
            self._pads = pads
            self._out_size = (ho, wo)
        for start in range(0, n, block):
            r0, r1 = start * ho * wo, min(n, start + block) * ho * wo
            if training:
                np.matmul(cols[r0:r1], kernel, out=rows[r0:r1])
            else:
                xp = pad_nhwc(x[start : start + block], pads)
                cols, _ = im2col(xp, self.kernel_size, self.stride, bias_column=self.use_bias)
                np.matmul(cols, kernel, out=rows[r0:r1])
            if relu:
                np.maximum(rows[r0:r1], 0, out=rows[r0:r1])
        return z

    def forward(self, x: np.ndarray, training: bool = False) -> np.ndarray:
        if type(self.activation) is not acts.ReLU:
            z = self.forward_linear(x, training)
            self._relu_out = None
            return self.activation.forward(z, training)
        # ReLU, the usual case: in the output transform (Winograd) or after each block's GEMM
        y = self._convolve(x, training, relu=True)
        if training:
            self._relu_out = y
        return y

    def backward_linear(self, grad_z: np.ndarray) -> np.ndarray | None:
        """Backward from ``dL/dz`` (skipping the activation); returns ``dL/dx`` or None."""
        if self._wino is not None:
            return self._winograd_backward(grad_z)
        if self._cols is None:
            raise NablanetError("Conv2D.backward called before forward(..., training=True)")
        g = np.ascontiguousarray(grad_z).reshape(-1, self.out_channels)
        self._add_kernel_gradient(g)
        if not self.input_grad:
            return None
        return self._input_gradient(g, [(0, 0)], self._out_size, self.stride)

    def _add_kernel_gradient(self, g: np.ndarray) -> None:
        """dL/dW (and dL/db: the last row, from the column of ones) = cols^T @ g, plus the
        regularizers' gradients; ``g`` has one row per row of the im2col matrix."""
        cols = self._cols
        # BLAS gets it with more rows than columns: the other orientation was several times
        # slower with multi-threaded OpenBLAS on a busy machine. cols.T is C-contiguous when
        # im2col built the transposed matrix (2.1 -> 1.3 ms for the first layer of the CNN).
        if cols.flags.f_contiguous or cols.shape[1] >= self.out_channels:
            grad_kernel = cols.T @ g
        else:
            grad_kernel = (g.T @ cols).T
        k = self.weights.grad.size // self.out_channels
        grad_biases = grad_kernel[k] if self.use_bias else None
        self._add_gradients(grad_kernel[:k].reshape(self.weights.grad.shape), grad_biases)

    def _add_gradients(self, grad_weights: np.ndarray, grad_biases: np.ndarray | None) -> None:
        """Accumulate dL/dW and dL/db (None without biases), then the regularizers' gradients."""
        self.weights.grad += grad_weights
        if self.use_bias:
            self.biases.grad += grad_biases
        if self.weight_regularizer is not None:
            self.weight_regularizer.add_gradient(self.weights.value, self.weights.grad)
        if self.use_bias and self.bias_regularizer is not None:
            self.bias_regularizer.add_gradient(self.biases.value, self.biases.grad)

    def _input_gradient(
        self, g: np.ndarray, origins: Any, out_size: tuple[int, int], step: Any
    ) -> np.ndarray:
        """dL/dx from ``g``, whose rows are ``len(origins)`` grids of (n, *out_size) outputs:
        grid q's output (i, j) read the padded input from ``origins[q] + (i, j) * step``.

        For each kernel offset (u, v) one GEMM ``g @ W[u, v]^T`` (shape (rows, c_in)), added
        onto the offset's strided window of the padded gradient: col2im of ``g @ W^T`` without
        the (rows, kh*kw*c_in) matrix and its strided reads (15 -> 8.5 ms for the second layer
        of the MNIST CNN at batch 128).
        """
        n = self._padded_shape[0]
        assert self.in_channels is not None  # built before the first forward
        ho, wo = out_size
        (kh, kw), (sh, sw) = self.kernel_size, step
        weights = self.weights.value
        grad_xp = np.zeros(self._padded_shape, dtype=np.result_type(g, weights))
        part = np.empty((g.shape[0], self.in_channels), dtype=grad_xp.dtype)
        parts = part.reshape(len(origins), n, ho, wo, self.in_channels)
        for u in range(kh):
            for v in range(kw):
                np.matmul(g, weights[u, v].T, out=part)
                for q, (dy, dx) in enumerate(origins):
                    y0, x0 = dy + u, dx + v
                    window = grad_xp[
                        :, y0 : y0 + sh * (ho - 1) + 1 : sh, x0 : x0 + sw * (wo - 1) + 1 : sw
                    ]

                    def block(
                        a: int, b: int, window: Any = window, src: np.ndarray = parts[q]
                    ) -> None:
                        window[a:b] += src[a:b]

                    for_each_block(block, n, part.nbytes // len(origins))
        top, bottom, left, right = self._pads
        if top or bottom or left or right:
            h, w = self._padded_shape[1] - top - bottom, self._padded_shape[2] - left - right
            grad_xp = grad_xp[:, top : top + h, left : left + w, :]
        return grad_xp

    # -- Winograd F(2x2, 3x3) (winograd.py) ------------------------------------------------------
    def _buffer(self, name: str, shape: tuple, dtype: DTypeLike) -> np.ndarray:
        """A training-time scratch array, reused from step to step while its shape holds
        (fresh arrays of tens of MiB cost page faults on every step)."""
        buf = self._workspace.get(name)
        if buf is None or buf.shape != shape or buf.dtype != dtype:
            buf = self._workspace[name] = np.empty(shape, dtype=dtype)
        return buf

    def _winograd_forward(
        self,
        x: np.ndarray,
        pads: tuple[int, int, int, int],
        ho: int,
        wo: int,
        training: bool,
        pooled: bool = False,
        relu: bool = False,
    ) -> np.ndarray:
        """The Winograd convolution; with ``pooled``, ``relu(maxpool_2x2(z))`` instead of z, with
        ``relu`` (not pooled) ``relu(z)``.

        The batch runs in chunks of images (:func:`_chunk_images`): each chunk's transformed
        tiles V, their products M and the output transform follow one another while the chunk
        is in the cache, instead of each pass streaming the whole batch's V and M (tens of MiB
        at 32x32) through memory. Training keeps V for the backward pass, never M.
        """
        n = x.shape[0]
        th, tw = winograd.tiles(ho, wo)
        top, bottom, left, right = pads
        # pad up to whole tiles: an odd output gets one more row/column, cropped at the end
        xp = pad_nhwc(x, (top, bottom + 2 * th - ho, left, right + 2 * tw - wo))
        u = winograd.weight_transform(self.weights.value)
        bias = self.biases.value if self.use_bias else None
        c_in, c_out = self.in_channels, self.out_channels
        assert c_in is not None and c_out is not None  # built before the first forward
        dtype = np.result_type(x, u)
        if pooled:
            out = np.empty((n, ho // 2, wo // 2, c_out), dtype=dtype)
        else:
            out = np.empty((n, 2 * th, 2 * tw, c_out), dtype=dtype)
        chunk = _chunk_images(16 * th * tw * max(c_in, c_out) * np.dtype(dtype).itemsize, n)
        if training:
            self._cols = self._pooled = None
            v_all = self._buffer("v", (16, n, th, tw, c_in), dtype)
            m_buf = self._buffer("m", (16, chunk * th * tw, c_out), dtype)
            if pooled:
                right_all = np.empty((n, ho // 2, 2, wo // 2, c_out), dtype=bool)
                bottom_all = np.empty(out.shape, dtype=bool)
                self._pooled = (out, right_all, bottom_all)
            self._wino = (v_all, u, xp.shape, (top, left, *x.shape[1:3]), (ho, wo))
        else:
            m_buf = np.empty((16, chunk * th * tw, c_out), dtype=dtype)
        for a in range(0, n, chunk):
            b = min(n, a + chunk)
            v = winograd.input_transform(xp[a:b], th, tw, v_all[:, a:b] if training else None)
            m = m_buf[:, : (b - a) * th * tw]
            np.matmul(v.reshape(16, -1, c_in), u, out=m)
            m = m.reshape(16, b - a, th, tw, c_out)
            if pooled:
                decisions = (right_all[a:b], bottom_all[a:b]) if training else ()
                winograd.output_transform_relu_maxpool(m, bias, out[a:b], *decisions)
            else:
                winograd.output_transform(m, out[a:b], bias)
                if relu:
                    np.maximum(out[a:b], 0, out=out[a:b])
        if not pooled and (2 * th != ho or 2 * tw != wo):
            out = np.ascontiguousarray(out[:, :ho, :wo])
        return out

    def _winograd_backward(
        self, grad_z: np.ndarray, relu_out: np.ndarray | None = None
    ) -> np.ndarray | None:
        """The gradient from ``dL/dz``, or from ``dL/dy`` with ``y = relu(z) = relu_out``."""
        v, u, _, _, (ho, wo) = self._wino
        th, tw = v.shape[2:4]
        c_out = self.out_channels
        dtype = np.result_type(grad_z, u)
        cropped = 2 * th != ho or 2 * tw != wo

        def dm_of(a: int, b: int, dm: np.ndarray) -> None:
            g = grad_z[a:b]
            if relu_out is not None:
                g = g * (relu_out[a:b] > 0)
            if cropped:  # the cropped outputs get no gradient
                full = np.zeros((b - a, 2 * th, 2 * tw, c_out), dtype=dtype)
                full[:, :ho, :wo] = g
                g = full
            winograd.grad_output_transform(g, dm)

        return self._winograd_backward_chunked(dm_of, dtype)

    def _winograd_backward_chunked(
        self, dm_of: Callable[[int, int, np.ndarray], None], dtype: np.dtype[Any]
    ) -> np.ndarray | None:
        """Weight, bias and input gradients, a chunk of images at a time: ``dm_of(a, b, dm)``
        writes dM = A dY A^T of images a:b into ``dm`` (16, b - a, th, tw, c_out)."""
        v_all, u, padded_shape, (top, left, h, w), _ = self._wino
        _, n, th, tw, c_in = v_all.shape
        c_out = self.out_channels
        chunk = _chunk_images(16 * th * tw * max(c_in, c_out) * np.dtype(dtype).itemsize, n)
        dm_buf = self._buffer("m", (16, chunk * th * tw, c_out), dtype)  # the forward's M
        grad_u = np.zeros((16, c_in, c_out), dtype=dtype)
        part = np.empty_like(grad_u)
        grad_biases = np.zeros(c_out, dtype=dtype) if self.use_bias else None
        if self.input_grad:
            dv_buf = self._buffer("dv", (16, chunk * th * tw, c_in), dtype)
            grad_xp = np.empty(padded_shape, dtype=dtype)
        for a in range(0, n, chunk):
            b = min(n, a + chunk)
            dm = dm_buf[:, : (b - a) * th * tw]
            dm_of(a, b, dm.reshape(16, b - a, th, tw, c_out))
            np.matmul(v_all[:, a:b].reshape(16, -1, c_in).transpose(0, 2, 1), dm, out=part)
            grad_u += part
            if grad_biases is not None:
                # dM at tile position (1, 1) is the sum of the tile's four output gradients
                grad_biases += dm[5].sum(axis=0)
            if self.input_grad:
                dv = dv_buf[:, : (b - a) * th * tw]
                np.matmul(dm, u.transpose(0, 2, 1), out=dv)
                winograd.grad_input_transform(dv.reshape(16, b - a, th, tw, c_in), grad_xp[a:b])
        self._add_gradients(winograd.weight_gradient(grad_u), grad_biases)
        if not self.input_grad:
            return None
        return grad_xp[:, top : top + h, left : left + w]

    # -- fusion hooks (the execution plan of nn/plan.py asks them) ------------------------------
    def fuse_with_next(self, next_layer: Layer) -> Step | None:
        """A ReLU layer followed by a :class:`MaxPool2D` runs as one step: a 2x2, stride-2
        pooling through :meth:`forward_relu_maxpool` (:class:`ConvReLUMaxPoolStep`), any other
        max pooling with the ReLU moved after it, on fewer numbers (:class:`ConvMaxPoolReLUStep`).
        Subclasses that keep ``forward`` / ``backward`` (of both layers) keep the fusion."""
        if (
            type(self.activation) is not acts.ReLU
            or not runs_own_methods(self, Conv2D)
            or not runs_own_methods(
                next_layer, MaxPool2D, ("forward", "backward", "forward_relu", "backward_relu")
            )
        ):
            return None
        assert isinstance(next_layer, MaxPool2D)  # runs_own_methods checked it
        if self.fuses_relu_maxpool(next_layer):
            return ConvReLUMaxPoolStep(self, next_layer)
        return ConvMaxPoolReLUStep(self, next_layer)

    def fuse_with_loss(self, loss: Loss) -> OutputStep | None:
        """An output convolution with softmax (sigmoid) and categorical (binary) cross-entropy:
        the fused loss on the pre-activations from :meth:`forward_linear`."""
        fused = loss.fused_with(self.activation)
        if fused is None or not runs_own_methods(self, Conv2D):
            return None
        return LogitsLossStep(self, fused)

    # -- fused with ReLU and 2x2 max pooling ---------------------------------------------------
    def fuses_relu_maxpool(self, pool: Layer) -> bool:
        """Whether :meth:`forward_relu_maxpool` can stand for this layer followed by ``pool``:
        a ReLU layer, and a 2x2 max pooling of stride 2."""
        return (
            type(self.activation) is acts.ReLU
            and getattr(pool, "pool_size", None) == (2, 2)
            and getattr(pool, "stride", None) == (2, 2)
            and hasattr(pool, "forward_relu")  # max pooling, not average
        )

    def forward_relu_maxpool(self, x: np.ndarray, training: bool = False) -> np.ndarray:
        """``MaxPool2D(2)(self.forward(x))`` for a ReLU layer, in one pass.

        The convolution's outputs are computed grouped by pooling window, and each window's
        maximum (the first one in row-major order, as MaxPool2D picks it) and the ReLU are taken
        from the four members directly; the full-size output is never written in NHWC. With
        Winograd each 2x2 output tile *is* a window; with im2col the rows of the patch matrix
        are ordered by position in the window (:func:`im2col_pooled`).
        Output ``(n, out_h // 2, out_w // 2, out_channels)``.
        """
        self._check_batch(x)
        pads, ho, wo = self._geometry(x.shape[1], x.shape[2])
        if ho < 2 or wo < 2:
            raise NablanetError(
                f"MaxPool2D pool (2, 2) is larger than the input of shape "
                f"{(x.shape[0], max(ho, 0), max(wo, 0), self.out_channels)}"
            )
        if self.algorithm == "winograd":
            return self._winograd_forward(x, pads, ho, wo, training, pooled=True)
        return self._im2col_forward_pooled(x, pads, ho // 2, wo // 2, training)

    def backward_relu_maxpool(self, grad: np.ndarray) -> np.ndarray | None:
        """The gradient of :meth:`forward_relu_maxpool`; returns ``dL/dx`` or None."""
        if self._pooled is None:
            raise NablanetError(
                "Conv2D.backward_relu_maxpool called before forward_relu_maxpool(..., "
                "training=True)"
            )
        y, right, bottom = self._pooled
        if self._wino is None:
            return self._im2col_backward_pooled(grad, y, right, bottom)

        def dm_of(a: int, b: int, dm: np.ndarray) -> None:
            winograd.grad_relu_maxpool(grad[a:b], y[a:b], right[a:b], bottom[a:b], dm)

        return self._winograd_backward_chunked(dm_of, np.result_type(grad, self._wino[1]))

    def _im2col_forward_pooled(
        self, x: np.ndarray, pads: tuple[int, int, int, int], ph: int, pw: int, training: bool
    ) -> np.ndarray:
        n, c_out = x.shape[0], self.out_channels
        kernel = self.weights.value.reshape(-1, c_out)
        if self.use_bias:
            kernel = np.concatenate([kernel, self.biases.value[None, :]])
        y = np.empty((n, ph, pw, c_out), dtype=np.result_type(x, kernel))
        if training:
            xp = pad_nhwc(x, pads)
            cols = im2col_pooled(xp, self.kernel_size, self.stride, (ph, pw), self.use_bias)
            z = (cols @ kernel).reshape(2, 2, n, ph, pw, c_out)
            right = np.empty((n, ph, 2, pw, c_out), dtype=bool)
            bottom = np.empty(y.shape, dtype=bool)
            _relu_maxpool_quads(z, y, right, bottom)
            self._cols, self._wino, self._pooled = cols, None, (y, right, bottom)
            self._padded_shape, self._pads, self._out_size = xp.shape, pads, (ph, pw)
            return y
        block = max(1, _IM2COL_BLOCK_BYTES // (4 * ph * pw * kernel.shape[0] * x.itemsize))
        for a in range(0, n, block):  # blocks of images: the patch matrix stays small
            xp = pad_nhwc(x[a : a + block], pads)
            cols = im2col_pooled(xp, self.kernel_size, self.stride, (ph, pw), self.use_bias)
            z = (cols @ kernel).reshape(2, 2, xp.shape[0], ph, pw, c_out)
            _relu_maxpool_quads(z, y[a : a + block])
        return y

    def _im2col_backward_pooled(
        self, grad: np.ndarray, y: np.ndarray, right: np.ndarray, bottom: np.ndarray
    ) -> np.ndarray | None:
        n, ph, pw, c_out = y.shape
        gz = np.empty((2, 2, n, ph, pw, c_out), dtype=np.result_type(grad, y))

        def block(a: int, b: int) -> None:
            # the window's gradient (zero where the ReLU was off) to its bottom or top row, then
            # within the row to the right or left member
            g = grad[a:b] * (y[a:b] > 0)
            g_bottom = g * bottom[a:b]
            for r, g_row in ((0, np.subtract(g, g_bottom, out=g)), (1, g_bottom)):
                np.multiply(g_row, right[a:b, :, r], out=gz[r, 1, a:b])
                np.subtract(g_row, gz[r, 1, a:b], out=gz[r, 0, a:b])

        for_each_block(block, n, gz.nbytes)
        g2 = gz.reshape(-1, c_out)
        self._add_kernel_gradient(g2)
        if not self.input_grad:
            return None
        sh, sw = self.stride
        origins = [(0, 0), (0, sw), (sh, 0), (sh, sw)]  # (a, b) in the order of the rows
        return self._input_gradient(g2, origins, (ph, pw), (2 * sh, 2 * sw))

    def backward(self, grad: np.ndarray) -> np.ndarray | None:
        y = self._relu_out
        if y is None:
            return self.backward_linear(self.activation.backward(grad))
        if self._wino is not None:  # the ReLU's mask applied chunk by chunk
            return self._winograd_backward(grad, relu_out=y)
        grad_z = np.empty(grad.shape, dtype=np.result_type(grad, y))

        def block(a: int, b: int) -> None:
            np.multiply(grad[a:b], y[a:b] > 0, out=grad_z[a:b])

        for_each_block(block, grad.shape[0], grad_z.nbytes)
        return self.backward_linear(grad_z)

    def regularization_loss(self) -> float:
        total = 0.0
        if self.weight_regularizer is not None:
            total += self.weight_regularizer.penalty(self.weights.value)
        if self.use_bias and self.bias_regularizer is not None:
            total += self.bias_regularizer.penalty(self.biases.value)
        return total

    def get_config(self) -> dict[str, Any]:
        return {
            "in_channels": self.in_channels,
            "out_channels": self.out_channels,
            **self._config_forms,
            "activation": acts.serialize(self.activation),
            "use_bias": self.use_bias,
            "weight_initializer": self.weight_initializer,
            "bias_initializer": self.bias_initializer,
            "weight_regularizer": regs.serialize(self.weight_regularizer),
            "bias_regularizer": regs.serialize(self.bias_regularizer),
            "dtype": self.dtype.name,
            "seed": self.seed,
        }


def _resolve_conv_args(
    args: tuple[Any, ...],
    in_channels: int | None,
    out_channels: int | None,
    filters: int | None,
    kernel_size: Any,
    input_shape: tuple | None,
) -> tuple[Any, Any, Any]:
    """``(in_channels or None, out_channels, kernel_size)`` from Conv2D's positional and keyword
    forms (see the class docstring); one-line errors for the ambiguous or contradictory ones."""
    if len(args) > 3:
        raise NablanetError(
            f"Conv2D takes at most three positional arguments (in_channels, out_channels, "
            f"kernel_size), got {len(args)}: give stride, padding, ... by name"
        )
    named = {"in_channels": in_channels, "out_channels": out_channels, "kernel_size": kernel_size}
    if len(args) == 2 and isinstance(args[1], (tuple, list)) and kernel_size is None:
        # Conv2D(32, (3, 3)): a pair can only be Keras' kernel_size, never out_channels
        args, kernel_size = tuple(args[:1]), args[1]
    if len(args) == 2 and kernel_size is None and out_channels is None and filters is None:
        a, b = args
        raise NablanetError(
            f"Conv2D({a!r}, {b!r}) is ambiguous: write Conv2D(filters={a!r}, kernel_size={b!r}) "
            f"for {a!r} filters of {b!r}x{b!r} (Keras), or Conv2D(in_channels={a!r}, "
            f"out_channels={b!r}, kernel_size=...) (PyTorch)"
        )
    if len(args) == 1 and out_channels is None and filters is None:
        positional = {"out_channels": args[0]}  # Keras: Conv2D(32, kernel_size=3)
    else:
        positional = dict(zip(("in_channels", "out_channels", "kernel_size"), args))
    for name, value in positional.items():
        if named[name] is not None:
            raise NablanetError(f"Conv2D got {name} both by position and by name")
        named[name] = value
    if filters is not None:
        if named["out_channels"] is not None and named["out_channels"] != filters:
            raise NablanetError(
                f"Conv2D got filters={filters!r} and out_channels={named['out_channels']!r}: "
                "the same argument (Keras' and PyTorch's name); give one"
            )
        named["out_channels"] = filters
    if named["out_channels"] is None:
        raise NablanetError(
            "Conv2D needs its number of filters: Conv2D(filters=32, kernel_size=3) or "
            "Conv2D(in_channels, out_channels, kernel_size)"
        )
    if named["kernel_size"] is None:
        named["kernel_size"] = 3  # the documented default (given by name or as a third number)
    if input_shape is not None:
        shape = tuple(input_shape)
        if len(shape) != 3:
            raise NablanetError(
                f"Conv2D input_shape must be (height, width, channels) (channels last), "
                f"got {input_shape!r}"
            )
        if named["in_channels"] is not None and named["in_channels"] != shape[2]:
            raise NablanetError(
                f"Conv2D got in_channels={named['in_channels']!r} and input_shape="
                f"{input_shape!r} (channels last: {shape[2]!r} channels): they disagree"
            )
        named["in_channels"] = shape[2]
    return named["in_channels"], named["out_channels"], named["kernel_size"]


class ConvReLUMaxPoolStep(Step):
    """``Conv2D(activation="relu")`` + ``MaxPool2D(2)`` (2x2, stride 2) in one pass:
    :meth:`Conv2D.forward_relu_maxpool` and :meth:`Conv2D.backward_relu_maxpool`; the pooling
    layer itself does not run."""

    kind = "conv_relu_maxpool"

    def __init__(self, conv: Conv2D, pool: MaxPool2D):
        super().__init__(conv, pool)
        self.conv = conv

    def forward(self, x: np.ndarray, training: bool = False) -> np.ndarray:
        return self.conv.forward_relu_maxpool(x, training)

    def backward(self, grad: np.ndarray) -> np.ndarray | None:
        return self.conv.backward_relu_maxpool(grad)


class ConvMaxPoolReLUStep(Step):
    """``Conv2D(activation="relu")`` + any other ``MaxPool2D``, the ReLU moved after the pooling:
    ``relu(maxpool(z)) == maxpool(relu(z))`` with the same gradients, on fewer numbers
    (:meth:`MaxPool2D.forward_relu`)."""

    kind = "conv_maxpool_relu"

    def __init__(self, conv: Conv2D, pool: MaxPool2D):
        super().__init__(conv, pool)
        self.conv, self.pool = conv, pool

    def forward(self, x: np.ndarray, training: bool = False) -> np.ndarray:
        return self.pool.forward_relu(self.conv.forward_linear(x, training), training)

    def backward(self, grad: np.ndarray) -> np.ndarray | None:
        return self.conv.backward_linear(self.pool.backward_relu(grad))
