"""im2col and col2im over NHWC batches: the patches under a kernel as one matrix, and its adjoint.

:func:`im2col` reads the windows with :func:`numpy.lib.stride_tricks.sliding_window_view` (a
view, no copy) and copies them once into a contiguous matrix. For inputs with few channels (the
first layer on grey images, ``c_in = 1``) that copy would move runs of 1 number; there it builds
the transposed matrix ``(kh * kw * c_in, n * out_h * out_w)`` instead, one shifted image per row,
and hands back its transpose: BLAS multiplies either layout without a copy.
:func:`im2col_pooled` orders the rows by position in a 2x2 pooling window (for the fused
convolution + ReLU + max pooling). :func:`col2im` is the adjoint: it sums the column gradients
back onto the (padded) image, one vectorised strided addition per kernel offset (``kh * kw`` of
them, never a loop over pixels).
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from ._parallel import for_each_block

#: below this many input channels, im2col builds the transposed (row-per-offset) matrix
_TRANSPOSED_IM2COL_MAX_CHANNELS = 4


def im2col(
    xp: np.ndarray,
    kernel: tuple[int, int],
    stride: tuple[int, int],
    bias_column: bool = False,
    out: np.ndarray | None = None,
) -> tuple[np.ndarray, tuple[int, int]]:
    """Patches of an (already padded) NHWC batch as a matrix.

    Parameters
    ----------
    xp : ndarray of shape (n, height, width, channels)
    kernel, stride : (int, int)
    bias_column : bool
        Append a column of ones, so that one GEMM with the kernel matrix stacked on the biases
        adds the biases, and one GEMM ``cols.T @ grad`` also sums the bias gradient.
    out : ndarray, optional
        Written instead of a new array: shape ``(rows, width)``, or ``(width, rows)`` when the
        transposed matrix is built (few channels); its last axis must be contiguous.

    Returns
    -------
    cols : ndarray of shape (n * out_h * out_w, kh * kw * channels [+ 1])
        Row ``(i, y, x)`` holds the patch of image ``i`` under output pixel ``(y, x)``, ordered
        ``(kernel row, kernel column, channel)`` like a ``(kh, kw, c_in, c_out)`` kernel
        reshaped to ``(kh * kw * c_in, c_out)``. C-contiguous, or the transpose of a
        C-contiguous matrix when ``channels`` is small; either goes to BLAS without a copy.
    (out_h, out_w) : the output's spatial size.

    >>> x = np.arange(9.0).reshape(1, 3, 3, 1)
    >>> cols, size = im2col(x, (2, 2), (1, 1))
    >>> size, cols[0].tolist()
    ((2, 2), [0.0, 1.0, 3.0, 4.0])
    >>> im2col(x, (2, 2), (1, 1), bias_column=True)[0][0].tolist()
    [0.0, 1.0, 3.0, 4.0, 1.0]
    """
    n, hp, wp, c = xp.shape
    kh, kw = kernel
    sh, sw = stride
    ho = (hp - kh) // sh + 1
    wo = (wp - kw) // sw + 1
    k = kh * kw * c
    m = n * ho * wo
    width = k + 1 if bias_column else k
    if c <= _TRANSPOSED_IM2COL_MAX_CHANNELS:
        # one shifted (strided) copy of the images per kernel offset: long contiguous runs
        cols_t = np.empty((width, m), dtype=xp.dtype) if out is None else out
        rows = cols_t[:k].view()
        rows.shape = (kh, kw, c, n, ho, wo)  # a view, or an error (never a silent copy)

        def block_t(a: int, b: int) -> None:
            for i in range(kh):
                for j in range(kw):
                    window = xp[a:b, i : i + sh * (ho - 1) + 1 : sh, j : j + sw * (wo - 1) + 1 : sw]
                    rows[i, j, :, a:b] = window.transpose(3, 0, 1, 2)

        for_each_block(block_t, n, cols_t.nbytes)
        if bias_column:
            cols_t[k] = 1
        return cols_t.T, (ho, wo)
    windows = sliding_window_view(xp, (kh, kw), axis=(1, 2))  # (n, hp-kh+1, wp-kw+1, c, kh, kw)
    windows = windows[:, ::sh, ::sw].transpose(0, 1, 2, 4, 5, 3)  # (n, ho, wo, kh, kw, c)
    cols = np.empty((m, width), dtype=xp.dtype) if out is None else out
    patches = cols[:, :k].view()
    patches.shape = (n, ho, wo, kh, kw, c)

    def block(a: int, b: int) -> None:
        np.copyto(patches[a:b], windows[a:b])

    for_each_block(block, n, cols.nbytes)
    if bias_column:
        cols[:, k] = 1
    return cols, (ho, wo)


def im2col_pooled(
    xp: np.ndarray,
    kernel: tuple[int, int],
    stride: tuple[int, int],
    pooled_size: tuple[int, int],
    bias_column: bool = False,
) -> np.ndarray:
    """:func:`im2col` for the outputs under a 2x2, stride-2 max pooling, grouped by window position.

    Rows are ordered ``(a, b, image, i, j)`` for output pixel ``(2i + a, 2j + b)``, so that
    ``cols @ kernel`` reshaped to ``(2, 2, n, ph, pw, c_out)`` holds the four members of every
    pooling window as four contiguous arrays. Outputs outside a complete window (the last row or
    column of an odd-sized output) are left out. Same layouts as :func:`im2col`.

    >>> x = np.arange(16.0).reshape(1, 4, 4, 1)
    >>> cols = im2col_pooled(x, (1, 1), (1, 1), (2, 2))
    >>> cols[:, 0].reshape(2, 2, 2, 2).tolist()[0][1]  # a = 0, b = 1: pixels (0, 1), (0, 3), (2, 1), (2, 3)
    [[1.0, 3.0], [9.0, 11.0]]
    """
    n, _, _, c = xp.shape
    (kh, kw), (sh, sw) = kernel, stride
    ph, pw = pooled_size
    width = kh * kw * c + (1 if bias_column else 0)
    m = n * ph * pw
    transposed = c <= _TRANSPOSED_IM2COL_MAX_CHANNELS
    buf = np.empty((width, 4, m) if transposed else (4, m, width), dtype=xp.dtype)
    for a in range(2):
        for b in range(2):
            # output (2i + a, 2j + b) reads rows (2i + a) * sh + u: stride 2 sh from a * sh
            sub = xp[
                :,
                a * sh : a * sh + 2 * sh * (ph - 1) + kh,
                b * sw : b * sw + 2 * sw * (pw - 1) + kw,
            ]
            out = buf[:, 2 * a + b] if transposed else buf[2 * a + b]
            im2col(sub, kernel, (2 * sh, 2 * sw), bias_column, out=out)
    return buf.reshape(width, 4 * m).T if transposed else buf.reshape(4 * m, width)


def col2im(
    cols: np.ndarray,
    padded_shape: tuple[int, int, int, int],
    kernel: tuple[int, int],
    stride: tuple[int, int],
    out_size: tuple[int, int],
    out: np.ndarray | None = None,
) -> np.ndarray:
    """The adjoint of :func:`im2col`: sum patch gradients back onto the padded image.

    Parameters
    ----------
    cols : ndarray of shape (n * out_h * out_w, kh * kw * channels)
    padded_shape : (n, height, width, channels) of the padded input
    kernel, stride, out_size : (int, int)
    out : ndarray of shape ``padded_shape``, optional
        Added into (instead of a fresh array of zeros).

    Returns
    -------
    ndarray of shape ``padded_shape``

    >>> x = np.arange(9.0).reshape(1, 3, 3, 1)
    >>> cols, size = im2col(x, (2, 2), (1, 1))
    >>> col2im(np.ones_like(cols), x.shape, (2, 2), (1, 1), size)[0, :, :, 0].tolist()
    [[1.0, 2.0, 1.0], [2.0, 4.0, 2.0], [1.0, 2.0, 1.0]]
    """
    n, _, _, c = padded_shape
    kh, kw = kernel
    sh, sw = stride
    ho, wo = out_size
    cols = cols.reshape(n, ho, wo, kh, kw, c)
    if out is None:
        out = np.zeros(padded_shape, dtype=cols.dtype)

    def block(a: int, b: int) -> None:
        for i in range(kh):
            for j in range(kw):
                view = out[a:b, i : i + sh * (ho - 1) + 1 : sh, j : j + sw * (wo - 1) + 1 : sw]
                view += cols[a:b, :, :, i, j, :]

    for_each_block(block, n, cols.nbytes)
    return out
