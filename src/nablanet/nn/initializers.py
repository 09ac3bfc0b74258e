"""Weight initializers.

Each initializer is a callable ``init(shape, rng, dtype) -> ndarray``. Fan-in and fan-out are
read from the shape: ``(n_inputs, n_outputs)`` for dense weights and
``(kh, kw, in_channels, out_channels)`` for convolution kernels.

>>> rng = np.random.default_rng(0)
>>> bool(get("he_normal")((784, 10), rng, np.float32).std() < 0.06)
True
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
import inspect
import math
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
from numpy.typing import DTypeLike

from ._validation import check_positive_float
from .errors import NablanetError

Initializer = Callable[[tuple, np.random.Generator, DTypeLike], np.ndarray]


def _fans(shape: tuple[int, ...]) -> tuple[int, int]:
    if len(shape) == 0:
        return 1, 1
    if len(shape) == 1:
        return shape[0], shape[0]
    receptive = math.prod(shape[:-2]) if len(shape) > 2 else 1
    return shape[-2] * receptive, shape[-1] * receptive


def zeros(
    shape: tuple[int, ...], rng: np.random.Generator, dtype: DTypeLike = np.float32
) -> np.ndarray:
    """All zeros (the usual bias initializer)."""
    return np.zeros(shape, dtype=dtype)


def ones(
    shape: tuple[int, ...], rng: np.random.Generator, dtype: DTypeLike = np.float32
) -> np.ndarray:
    """All ones (batch-normalization scales)."""
    return np.ones(shape, dtype=dtype)


def random_normal(
    shape: tuple[int, ...],
    rng: np.random.Generator,
    dtype: DTypeLike = np.float32,
    stddev: float = 0.05,
) -> np.ndarray:
    """N(0, stddev^2), stddev 0.05 as in Keras."""
    return (rng.standard_normal(shape) * stddev).astype(dtype)


def random_uniform(
    shape: tuple[int, ...],
    rng: np.random.Generator,
    dtype: DTypeLike = np.float32,
    limit: float = 0.05,
) -> np.ndarray:
    """U(-limit, limit), limit 0.05 as in Keras."""
    return rng.uniform(-limit, limit, size=shape).astype(dtype)


def xavier_uniform(
    shape: tuple[int, ...], rng: np.random.Generator, dtype: DTypeLike = np.float32
) -> np.ndarray:
    """Glorot uniform: U(-a, a) with a = sqrt(6 / (fan_in + fan_out))."""
    fan_in, fan_out = _fans(shape)
    limit = math.sqrt(6.0 / (fan_in + fan_out))
    return rng.uniform(-limit, limit, size=shape).astype(dtype)


def xavier_normal(
    shape: tuple[int, ...], rng: np.random.Generator, dtype: DTypeLike = np.float32
) -> np.ndarray:
    """Glorot normal: N(0, 2 / (fan_in + fan_out))."""
    fan_in, fan_out = _fans(shape)
    return (rng.standard_normal(shape) * math.sqrt(2.0 / (fan_in + fan_out))).astype(dtype)


def he_uniform(
    shape: tuple[int, ...], rng: np.random.Generator, dtype: DTypeLike = np.float32
) -> np.ndarray:
    """He (Kaiming) uniform for ReLU: U(-a, a) with a = sqrt(6 / fan_in)."""
    fan_in, _ = _fans(shape)
    limit = math.sqrt(6.0 / fan_in)
    return rng.uniform(-limit, limit, size=shape).astype(dtype)


def he_normal(
    shape: tuple[int, ...], rng: np.random.Generator, dtype: DTypeLike = np.float32
) -> np.ndarray:
    """He (Kaiming) normal for ReLU: N(0, 2 / fan_in)."""
    fan_in, _ = _fans(shape)
    return (rng.standard_normal(shape) * math.sqrt(2.0 / fan_in)).astype(dtype)


def lecun_normal(
    shape: tuple[int, ...], rng: np.random.Generator, dtype: DTypeLike = np.float32
) -> np.ndarray:
    """LeCun normal: N(0, 1 / fan_in)."""
    fan_in, _ = _fans(shape)
    return (rng.standard_normal(shape) * math.sqrt(1.0 / fan_in)).astype(dtype)


def lecun_uniform(
    shape: tuple[int, ...], rng: np.random.Generator, dtype: DTypeLike = np.float32
) -> np.ndarray:
    """LeCun uniform: U(-a, a) with a = sqrt(3 / fan_in)."""
    fan_in, _ = _fans(shape)
    limit = math.sqrt(3.0 / fan_in)
    return rng.uniform(-limit, limit, size=shape).astype(dtype)


INITIALIZERS: dict[str, Initializer] = {
    "zeros": zeros,
    "ones": ones,
    "random_normal": random_normal,
    "random_uniform": random_uniform,
    "xavier_uniform": xavier_uniform,
    "xavier_normal": xavier_normal,
    "glorot_uniform": xavier_uniform,
    "glorot_normal": xavier_normal,
    "he_uniform": he_uniform,
    "he_normal": he_normal,
    "kaiming_uniform": he_uniform,
    "kaiming_normal": he_normal,
    "lecun_normal": lecun_normal,
    "lecun_uniform": lecun_uniform,
}


def get(spec: str | dict | Initializer) -> Initializer:
    """Look an initializer up by its exact name, or bind its arguments from a dict.

    ``{"name": "random_normal", "stddev": 0.01}`` is N(0, 0.01^2), the ``0.01 * randn`` of
    *Neural Networks from Scratch* and CS231n. The dict is what layers store in their config, so
    it survives a saved model.

    >>> w = get({"name": "random_normal", "stddev": 0.01})((400, 300), np.random.default_rng(0))
    >>> round(float(w.std()), 3)
    0.01
    """
    init = _lookup(spec)
    if _BUDGET.get() is None:
        return init

    def reserving(
        shape: tuple[int, ...], rng: np.random.Generator, dtype: DTypeLike = np.float32
    ) -> np.ndarray:
        reserve(shape, dtype)
        return init(shape, rng, dtype)

    return reserving


def _lookup(spec: Any) -> Initializer:
    if isinstance(spec, dict):
        args = dict(spec)
        init = _lookup(args.pop("name", None))
        allowed = [
            p.name
            for p in list(inspect.signature(init).parameters.values())[3:]
            if p.kind is inspect.Parameter.POSITIONAL_OR_KEYWORD
        ]
        for key, value in args.items():
            if key not in allowed:
                options = ", ".join(allowed) or "none"
                raise NablanetError(
                    f"Initializer {spec.get('name')!r} has no argument {key!r}; its arguments: "
                    f"{options}."
                )
            check_positive_float(value, key, f"initializer {spec.get('name')!r}")
        return functools.partial(init, **args)
    try:
        return INITIALIZERS[spec]
    except (KeyError, TypeError):
        options = ", ".join(sorted(INITIALIZERS))
        raise NablanetError(f"Unknown initializer {spec!r}; choose one of: {options}.") from None


# -- a budget for architectures read from files -------------------------------------------------
# A model file's architecture is a stranger's claim too: Dense(10**6, 10**6) would allocate
# 3.6 TiB before the file's weights could be compared with it. While a budget is active (the
# loader sets one from the sizes of the arrays the file really holds), every array a layer
# allocates for its parameters and buffers is counted first, and the first one past the budget
# is refused before it exists.
_BUDGET: contextvars.ContextVar[list | None] = contextvars.ContextVar(
    "nablanet_allocation_budget", default=None
)


@contextlib.contextmanager
def allocation_budget(nbytes: int, what: str) -> Iterator[None]:
    """Refuse (``NablanetError`` naming ``what``) parameter allocations past ``nbytes`` in all."""
    token = _BUDGET.set([int(nbytes), int(nbytes), what])
    try:
        yield
    finally:
        _BUDGET.reset(token)


def reserve(shape: tuple[int, ...], dtype: DTypeLike) -> None:
    """Count an allocation of ``shape`` against the active budget, if any."""
    budget = _BUDGET.get()
    if budget is None:
        return
    budget[0] -= math.prod(int(d) for d in shape) * np.dtype(dtype).itemsize
    if budget[0] < 0:
        raise NablanetError(
            f"{budget[2]}: the architecture needs more than {budget[1]} bytes of parameters, "
            f"more than the file's arrays hold (a layer asks for shape {tuple(shape)}): corrupt "
            "or crafted"
        )
