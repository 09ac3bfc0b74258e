"""Trainable parameters and the flat buffer they may live in."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np


class Parameter:
    """A trainable array and its gradient.

    Parameters
    ----------
    value : ndarray
        The parameter's values; its dtype is the parameter's dtype.
    name : str
        Local name inside its layer (``"weights"``, ``"biases"``); models prefix it
        (``"layers.0.weights"``).

    ``grad`` has the same shape and dtype and is *accumulated* by ``backward`` (``+=``); the
    trainer zeroes it before each step.

    ``fresh`` is True from :meth:`zero_grad` (or an optimizer's ``zero_grad``) until anything
    touches ``grad``: the gradient then holds nothing yet, and a layer may *write* its gradient
    into the private array ``_grad`` (``np.matmul(a, b, out=p._grad)``: no temporary, no extra
    pass) instead of adding it, setting ``fresh`` to False. Reading or assigning ``p.grad`` clears
    the flag, so code that adds into a gradient by hand between ``zero_grad`` and ``backward``
    keeps the ``+=`` semantics. Layers that always add may ignore the flag.

    >>> p = Parameter(np.zeros((2, 3), dtype=np.float32), "weights")
    >>> p.shape, p.grad.dtype
    ((2, 3), dtype('float32'))
    """

    __slots__ = ("_grad", "fresh", "name", "value")

    def __init__(self, value: np.ndarray, name: str = "param"):
        self.value = value
        self._grad = np.zeros_like(value)
        self.name = name
        self.fresh = True

    @property
    def grad(self) -> np.ndarray:
        """``dL/dvalue``, same shape and dtype as ``value`` (accessing it clears ``fresh``)."""
        self.fresh = False
        return self._grad

    @grad.setter
    def grad(self, array: np.ndarray) -> None:
        self.fresh = False
        self._grad = array

    @property
    def shape(self) -> tuple[int, ...]:
        return self.value.shape

    @property
    def size(self) -> int:
        return self.value.size

    @property
    def dtype(self) -> np.dtype:
        return self.value.dtype

    def zero_grad(self) -> None:
        self._grad.fill(0)
        self.fresh = True

    def __repr__(self) -> str:
        return f"Parameter(name={self.name!r}, shape={self.shape}, dtype={self.dtype})"


def flatten_parameters(params: Iterable[Parameter]) -> tuple[np.ndarray, np.ndarray]:
    """Move every parameter (value and grad) into one contiguous buffer, keeping values.

    Each ``p.value`` / ``p.grad`` becomes a view into the returned flat arrays, so an optimizer
    can update all parameters with a handful of vectorised calls. All parameters must share a
    dtype. Returns ``(flat_values, flat_grads)``.
    """
    params = list(params)
    if not params:
        return np.zeros(0, np.float32), np.zeros(0, np.float32)
    dtypes = {p.dtype for p in params}
    if len(dtypes) != 1:
        raise ValueError(f"cannot flatten parameters of mixed dtypes {sorted(map(str, dtypes))}")
    dtype = dtypes.pop()
    total = sum(p.size for p in params)
    flat_v = np.empty(total, dtype=dtype)
    flat_g = np.zeros(total, dtype=dtype)
    offset = 0
    for p in params:
        n = p.size
        view_v = flat_v[offset : offset + n].reshape(p.shape)
        view_v[...] = p.value
        view_g = flat_g[offset : offset + n].reshape(p.shape)
        view_g[...] = p._grad
        p.value, p._grad = view_v, view_g  # same values: ``fresh`` still holds
        offset += n
    return flat_v, flat_g


def flat_buffers(params: list[Parameter]) -> tuple[np.ndarray, np.ndarray] | None:
    """If ``params`` are consecutive views of one flat buffer, return that (values, grads)."""
    if not params:
        return None
    base_v, base_g = params[0].value.base, params[0]._grad.base
    if base_v is None or base_g is None or base_v.ndim != 1:
        return None
    expected_v = base_v.ctypes.data
    expected_g = base_g.ctypes.data
    itemsize = base_v.itemsize
    for p in params:
        if p.value.base is not base_v or p._grad.base is not base_g:
            return None
        if p.value.ctypes.data != expected_v or p._grad.ctypes.data != expected_g:
            return None
        if not (p.value.flags.c_contiguous and p._grad.flags.c_contiguous):
            return None
        expected_v += p.size * itemsize
        expected_g += p.size * itemsize
    if expected_v != base_v.ctypes.data + base_v.nbytes:
        return None
    return base_v, base_g
