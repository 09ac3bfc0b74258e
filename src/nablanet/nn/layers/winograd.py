"""Winograd's minimal filtering F(2x2, 3x3): a 3x3 stride-1 convolution in 16 small GEMMs.

Why
---
A 3x3 convolution computes every output pixel from 9 inputs per channel. Winograd (Lavin &
Gray, "Fast Algorithms for Convolutional Neural Networks", 2016) computes a 2x2 block of outputs
from the 4x4 block of inputs under it with 16 multiplications per channel pair instead of
4 * 9 = 36, by moving both to a transformed space where the convolution is an element-wise
product::

    Y = A^T [ (G g G^T) * (B^T d B) ] A          (* element-wise; d 4x4 input tile, g 3x3 kernel)

Over the batch the element-wise product summed over input channels is, for each of the 16
positions xi of the 4x4 transformed tile, one matrix product ``M[xi] = V[xi] @ U[xi]`` of
``(tiles, C_in) @ (C_in, C_out)``: 2.25 x fewer multiplications than im2col's one big GEMM, and
no ``(n * H * W, 9 * C_in)`` patch matrix (V is 16 / 4 = 4 numbers per output pixel and input
channel, im2col's matrix 9).

The transforms are additions and subtractions of shifted views of the batch (a few vectorised
NumPy operations each, threaded over blocks of images); the matrices, with ``B^T``, ``G`` and
``A^T`` of the paper, are::

    B^T = [[1, 0, -1, 0], [0, 1, 1, 0], [0, -1, 1, 0], [0, 1, 0, -1]]
    G   = [[1, 0, 0], [1/2, 1/2, 1/2], [1/2, -1/2, 1/2], [0, 0, 1]]
    A^T = [[1, 1, 1, 0], [0, 1, -1, -1]]

The backward pass is the adjoint of each step: ``dM = A dY A^T`` (per tile), then
``dU[xi] = V[xi]^T @ dM[xi]`` and ``dV[xi] = dM[xi] @ U[xi]^T`` (16 GEMMs each),
``dW = G^T dU G`` and ``dx = B dV B^T`` summed over the overlapping input tiles. Every step is
exact linear algebra, so the gradients are the exact gradients of the computed outputs (the
tests check them numerically and against PyTorch); in float32 the outputs differ from im2col's
by rounding only (relative 1e-6).

Layout: a tiled array is ``(16, n, tiles_h, tiles_w, channels)``, position ``xi = 4 * k + l``
for row ``k`` and column ``l`` of the transformed tile; reshaped to ``(16, n * tiles, channels)``
it is the stack of GEMM operands.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from ._parallel import for_each_block

_G = np.array([[1, 0, 0], [0.5, 0.5, 0.5], [0.5, -0.5, 0.5], [0, 0, 1]])


def tiles(out_h: int, out_w: int) -> tuple[int, int]:
    """The number of 2x2 output tiles covering an ``out_h x out_w`` output (rounded up)."""
    return -(-out_h // 2), -(-out_w // 2)


def weight_transform(weights: np.ndarray) -> np.ndarray:
    """``U = G g G^T`` for each channel pair: (3, 3, C_in, C_out) -> (16, C_in, C_out)."""
    g = _G.astype(weights.dtype)
    t = np.tensordot(g, weights, axes=(1, 0))  # (4 k, 3 v, C_in, C_out)
    u = np.tensordot(g, t, axes=(1, 1))  # (4 l, 4 k, C_in, C_out)
    return np.ascontiguousarray(u.transpose(1, 0, 2, 3)).reshape(16, *weights.shape[2:])


def weight_gradient(grad_u: np.ndarray) -> np.ndarray:
    """The adjoint of :func:`weight_transform`: (16, C_in, C_out) -> (3, 3, C_in, C_out)."""
    g = _G.astype(grad_u.dtype)
    du = grad_u.reshape(4, 4, *grad_u.shape[1:])
    t = np.tensordot(g, du, axes=(0, 0))  # (3 u, 4 l, C_in, C_out)
    return np.tensordot(g, t, axes=(0, 1)).transpose(1, 0, 2, 3)  # (3 u, 3 v, C_in, C_out)


def input_transform(xp: np.ndarray, th: int, tw: int, out: np.ndarray | None = None) -> np.ndarray:
    """``V = B^T d B`` for every 4x4 tile of a padded batch.

    Parameters
    ----------
    xp : ndarray of shape (n, 2 * th + 2, 2 * tw + 2, C)
        The padded input; tile ``(i, j)`` is ``xp[:, 2i : 2i + 4, 2j : 2j + 4]``.
    th, tw : int
        Tiles along the height and the width.
    out : ndarray of shape (16, n, th, tw, C), optional

    Returns
    -------
    ndarray of shape (16, n, th, tw, C)
    """
    n, _, wp, c = xp.shape
    v = np.empty((16, n, th, tw, c), dtype=xp.dtype) if out is None else out

    def block(a: int, b: int) -> None:
        x = xp[a:b]
        rows = [x[:, r : r + 2 * th - 1 : 2] for r in range(4)]  # (b - a, th, wp, c) each
        t = np.empty((4, b - a, th, wp, c), dtype=xp.dtype)
        _bt(rows, t)  # B^T along the height
        for k in range(4):
            cols = [t[k][:, :, s : s + 2 * tw - 1 : 2] for s in range(4)]
            _bt(cols, v[4 * k : 4 * k + 4, a:b])  # then along the width

    for_each_block(block, n, v.nbytes)
    return v


def _bt(d: Sequence[np.ndarray] | np.ndarray, out: np.ndarray) -> None:
    """``out[k] = sum_r B^T[k, r] d[r]`` for the four rows ``d[0..3]``."""
    np.subtract(d[0], d[2], out=out[0])
    np.add(d[1], d[2], out=out[1])
    np.subtract(d[2], d[1], out=out[2])
    np.subtract(d[1], d[3], out=out[3])


def output_transform(m: np.ndarray, out: np.ndarray, bias: np.ndarray | None = None) -> None:
    """``Y = A^T M A`` (+ bias) for every tile, written into ``out``.

    Parameters
    ----------
    m : ndarray of shape (16, n, th, tw, C_out)
    out : ndarray of shape (n, 2 * th, 2 * tw, C_out)
    bias : ndarray of shape (C_out,), optional
    """
    n = m.shape[1]

    def block(a: int, b: int) -> None:
        mb = m[:, a:b]
        p = np.empty((2, 4, *mb.shape[1:]), dtype=m.dtype)
        for col in range(4):  # A^T along the tile's rows, for each of its columns
            _at([mb[col], mb[4 + col], mb[8 + col], mb[12 + col]], p[:, col])
        for r in range(2):  # then along the columns, into output row r of each tile
            y = out[a:b, r::2]
            _at(p[r], [y[:, :, 0::2], y[:, :, 1::2]])
            if bias is not None:
                y += bias

    for_each_block(block, n, m.nbytes)


def _at(m: Sequence[np.ndarray] | np.ndarray, out: Any) -> None:
    """``out[0] = m0 + m1 + m2``, ``out[1] = m1 - m2 - m3`` (A^T applied to four rows)."""
    np.add(m[0], m[1], out=out[0])
    out[0] += m[2]
    np.subtract(m[1], m[2], out=out[1])
    out[1] -= m[3]


def grad_output_transform(grad: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """``dM = A dY A^T`` per tile, the adjoint of :func:`output_transform`.

    Parameters
    ----------
    grad : ndarray of shape (n, 2 * th, 2 * tw, C_out)
    out : ndarray of shape (16, n, th, tw, C_out), optional

    Returns
    -------
    ndarray of shape (16, n, th, tw, C_out)
    """
    n, h2, w2, c = grad.shape
    th, tw = h2 // 2, w2 // 2
    dm = np.empty((16, n, th, tw, c), dtype=grad.dtype) if out is None else out

    def block(a: int, b: int) -> None:
        g = grad[a:b]
        q = np.empty((4, b - a, th, w2, c), dtype=grad.dtype)
        _a(g[:, 0::2], g[:, 1::2], q)  # along the tile's rows
        for k in range(4):
            _a(q[k][:, :, 0::2], q[k][:, :, 1::2], dm[4 * k : 4 * k + 4, a:b])

    for_each_block(block, n, dm.nbytes)
    return dm


def _a(d0: np.ndarray, d1: np.ndarray, out: np.ndarray) -> None:
    """``out[k] = sum_a A^T[a, k] d_a``: ``d0, d0 + d1, d0 - d1, -d1``."""
    np.copyto(out[0], d0)
    np.add(d0, d1, out=out[1])
    np.subtract(d0, d1, out=out[2])
    np.negative(d1, out=out[3])


def grad_input_transform(grad_v: np.ndarray, grad_xp: np.ndarray) -> None:
    """Sum ``B dV B^T`` of every tile over its 4x4 window (tiles overlap by 2) into ``grad_xp``.

    Parameters
    ----------
    grad_v : ndarray of shape (16, n, th, tw, C)
    grad_xp : ndarray of shape (n, 2 * th + 2, 2 * tw + 2, C), overwritten (every element is
        under some tile, so it need not be zeroed first)
    """
    _, n, th, tw, c = grad_v.shape
    wp = grad_xp.shape[2]

    def block(a: int, b: int) -> None:
        v = grad_v[:, a:b]
        t = np.empty((4, b - a, th, wp, c), dtype=grad_v.dtype)
        for k in range(4):  # B along the tile's columns, onto full-width rows

            def columns(sl: slice, tk: np.ndarray = t[k]) -> np.ndarray:
                return tk[:, :, sl]

            _b_sum(v[4 * k : 4 * k + 4], columns, tw)
        d = grad_xp[a:b]
        _b_sum(t, lambda sl: d[:, sl], th)  # then along the rows

    for_each_block(block, n, grad_v.nbytes)


def _b_sum(v: np.ndarray, view: Callable[[slice], np.ndarray], tiles: int) -> None:
    """Write ``sum_k B^T[k, r] v[k]`` of every tile at position ``2 * tile + r`` of an axis.

    ``view(slice)`` selects positions on that axis (of length ``2 * tiles + 2``). Position ``r``
    of a tile gets ``v0``, ``v1 - v2 + v3``, ``v1 + v2 - v0``, ``-v3`` for ``r = 0..3``: an even
    position ``2j`` sums ``r = 0`` of tile j and ``r = 2`` of tile j - 1, an odd one ``r = 1``
    and ``r = 3``.
    """
    end = 2 * tiles
    even = view(slice(0, end - 1, 2))  # r = 0 of every tile
    np.copyto(even, v[0])
    view(slice(end, end + 1))[...] = 0
    s = np.add(v[1], v[2])
    s -= v[0]
    view(slice(2, end + 1, 2))[...] += s  # r = 2
    odd = view(slice(1, end, 2))  # r = 1
    np.subtract(v[1], v[2], out=odd)
    odd += v[3]
    view(slice(end + 1, end + 2))[...] = 0
    view(slice(3, end + 2, 2))[...] -= v[3]  # r = 3


# -- fused with ReLU and 2x2 max pooling -----------------------------------------------------
# Tile (i, j) of the output is exactly window (i, j) of a 2x2, stride-2 max pooling, so the
# pooling can run on the tile's four outputs as the output transform makes them, without
# writing the convolution's output; its gradient, one number per window, goes straight back
# into dM. Used by Sequential for Conv2D(activation="relu") + MaxPool2D(2).
def output_transform_relu_maxpool(
    m: np.ndarray,
    bias: np.ndarray | None,
    y: np.ndarray,
    right: np.ndarray | None = None,
    bottom: np.ndarray | None = None,
) -> None:
    """``y = relu(maxpool_2x2(A^T M A + bias))``, with the pooling's decisions.

    Parameters
    ----------
    m : ndarray of shape (16, n, th, tw, C_out)
    bias : ndarray of shape (C_out,) or None
    y : ndarray of shape (n, ph, pw, C_out), written; ``ph <= th``, ``pw <= tw`` (a last,
        incomplete window is dropped, as MaxPool2D does)
    right : bool ndarray of shape (n, ph, 2, pw, C_out), optional
        Written: in each of the window's two rows, whether the right output is the larger
        (strictly: a tie keeps the left, the first maximum in row-major order).
    bottom : bool ndarray of shape (n, ph, pw, C_out), optional
        Written: whether the bottom row's maximum is the larger (strictly).
    """
    n, ph, pw, c = y.shape

    def block(a: int, b: int) -> None:
        mb = m[:, a:b, :ph, :pw]
        p = np.empty((2, 4, b - a, ph, pw, c), dtype=m.dtype)
        for col in range(4):
            _at([mb[col], mb[4 + col], mb[8 + col], mb[12 + col]], p[:, col])
        t = np.empty((2, b - a, ph, pw, c), dtype=m.dtype)
        rows = np.empty((2, b - a, ph, pw, c), dtype=m.dtype)
        for r in range(2):
            _at(p[r], t)  # the two outputs of the window's row r
            if bias is not None:
                t += bias  # before comparing: the same numbers as the unfused output
            if right is not None:
                np.greater(t[1], t[0], out=right[a:b, :, r])
            np.maximum(t[0], t[1], out=rows[r])
        if bottom is not None:
            np.greater(rows[1], rows[0], out=bottom[a:b])
        yb = y[a:b]
        np.maximum(rows[0], rows[1], out=yb)
        np.maximum(yb, 0, out=yb)

    for_each_block(block, n, m.nbytes)


def grad_relu_maxpool(
    grad: np.ndarray, y: np.ndarray, right: np.ndarray, bottom: np.ndarray, dm: np.ndarray
) -> None:
    """dM for :func:`output_transform_relu_maxpool`: ``A dY A^T`` where dY holds each window's
    gradient (zero where the ReLU was off) at its first maximum and zeros elsewhere.

    Parameters
    ----------
    grad, y : ndarrays of shape (n, ph, pw, C_out): the gradient and the pooled output
    right, bottom : the decisions written by the forward pass
    dm : ndarray of shape (16, n, th, tw, C_out), written (zeros for tiles no window covers)
    """
    n, ph, pw, _ = grad.shape
    th, tw = dm.shape[2:4]

    def block(a: int, b: int) -> None:
        if ph < th:
            dm[:, a:b, ph:] = 0
        if pw < tw:
            dm[:, a:b, :, pw:] = 0
        d = dm[:, a:b, :ph, :pw]
        g = grad[a:b] * (y[a:b] > 0)
        # along each window row a: the gradient g_a of the row at column 0 or 1, then the row's
        # four values H_a[l] = sum_b A^T[b, l] dY[a, b] = (G0, g_a, G0 - G1, -G1)
        g_bottom = g * bottom[a:b]
        g_top = np.subtract(g, g_bottom, out=g)
        h = []
        for r, g_row in ((0, g_top), (1, g_bottom)):
            g1 = g_row * right[a:b, :, r]
            g0 = g_row - g1
            h.append((g0, g_row, g0 - g1, np.negative(g1, out=g1)))
        # then across the rows: dM[k, l] = sum_a A^T[a, k] H_a[l] = (H0, H0 + H1, H0 - H1, -H1)
        for col in range(4):
            h0, h1 = h[0][col], h[1][col]
            np.copyto(d[col], h0)
            np.add(h0, h1, out=d[4 + col])
            np.subtract(h0, h1, out=d[8 + col])
            np.negative(h1, out=d[12 + col])

    for_each_block(block, n, dm.nbytes)
