"""Seeded train / validation / test splits, stratified by class for classification.

>>> import numpy as np
>>> y = np.array([0] * 80 + [1] * 20)
>>> parts = train_val_test_split(np.zeros((100, 2)), y, val_fraction=0.1, test_fraction=0.2, seed=0)
>>> [len(a) for a in (parts.x_train, parts.x_val, parts.x_test)]
[70, 10, 20]
>>> int(parts.y_test.sum()), int(parts.y_val.sum())   # 20% and 10% of the 20 ones
(4, 2)
"""

from __future__ import annotations

import numbers
from typing import Any, NamedTuple

import numpy as np

from .errors import DataError


class Split(NamedTuple):
    """Arrays of a train / validation / test split (empty arrays when a fraction is 0).

    Examples
    --------
    >>> parts = Split(*(np.zeros(n) for n in (6, 6, 2, 2, 2, 2)))
    >>> x_train, y_train, x_val, y_val, x_test, y_test = parts
    >>> len(parts.x_train), len(x_val)
    (6, 2)
    """

    x_train: np.ndarray
    y_train: np.ndarray | None
    x_val: np.ndarray
    y_val: np.ndarray | None
    x_test: np.ndarray
    y_test: np.ndarray | None


def _check_fraction(value: Any, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not 0 <= float(value) < 1:
        raise DataError(
            f"The '{name}' parameter of train_val_test_split must be a number in [0, 1). "
            f"Got {value!r} instead."
        )
    return float(value)


def _n_for(n: int, fraction: float) -> int:
    """Samples for a fraction: rounded, and at least 1 when the fraction is positive."""
    if fraction == 0:
        return 0
    return max(1, round(n * fraction))


def _allocate(counts: np.ndarray, total: int, cap: np.ndarray) -> np.ndarray:
    """Split ``total`` over classes in proportion to ``counts`` (largest remainder), at most
    ``cap`` per class."""
    exact = counts * (total / counts.sum())
    alloc = np.minimum(np.floor(exact).astype(np.int64), cap)
    remainder = exact - np.floor(exact)
    # classes by fractional part, largest first; ties to the larger class, then the first one
    order = np.lexsort((np.arange(len(counts)), -counts, -remainder))
    while alloc.sum() < total:
        room = order[alloc[order] < cap[order]]
        if room.size == 0:
            break
        take = room[: total - alloc.sum()]
        alloc[take] += 1
    return alloc


def _is_class_labels(y: np.ndarray) -> bool:
    return y.ndim == 1 and y.dtype.kind in "biuUSO"


def train_val_test_indices(
    n_samples: int,
    y: np.ndarray | None = None,
    val_fraction: float = 0.1,
    test_fraction: float = 0.1,
    seed: int | np.random.Generator | None = 0,
    stratify: bool = True,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Index arrays ``(train, val, test)`` of a seeded split (each in random order).

    Use the indices to split data too big to copy (a memory-mapped ``x``); pass them to
    :class:`~nablanet.data.DataLoader` as ``indices``.

    Parameters
    ----------
    n_samples : int
    y : ndarray of shape (n_samples,), optional
        Class labels to stratify by (integers or strings). Floating-point (regression) targets
        and ``stratify=False`` give a plain random split.
    val_fraction, test_fraction : float
        In [0, 1) with a sum below 1. A positive fraction gets at least one sample.
    seed : int or numpy.random.Generator, optional
    stratify : bool

    Returns
    -------
    train, val, test : ndarray of int64
    """
    val_fraction = _check_fraction(val_fraction, "val_fraction")
    test_fraction = _check_fraction(test_fraction, "test_fraction")
    if val_fraction + test_fraction >= 1:
        raise DataError(
            f"val_fraction + test_fraction must be below 1 to leave training data, got "
            f"{val_fraction} + {test_fraction}"
        )
    n_test, n_val = _n_for(n_samples, test_fraction), _n_for(n_samples, val_fraction)
    if n_samples - n_test - n_val < 1:
        raise DataError(
            f"cannot split {n_samples} samples into {n_val} validation and {n_test} test "
            "samples and still train on some"
        )
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    order = rng.permutation(n_samples)
    if not (stratify and y is not None and _is_class_labels(np.asarray(y))):
        test, val, train = np.split(order, [n_test, n_test + n_val])
        return train, val, test
    y = np.asarray(y)
    if len(y) != n_samples:
        raise DataError(f"y has {len(y)} labels for {n_samples} samples")
    _, cls, counts = np.unique(y, return_inverse=True, return_counts=True)
    cls = cls.reshape(-1)
    # at most count - 1 per class, so that every class keeps a training sample when it can
    test_per_class = _allocate(counts, n_test, counts - 1)
    val_per_class = _allocate(counts, n_val, np.maximum(counts - test_per_class - 1, 0))
    # Shuffled indices grouped by class (stable sort keeps the random order within a class),
    # then each sample's rank within its class decides its split.
    grouped = order[np.argsort(cls[order], kind="stable")]
    g_cls = cls[grouped]
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    rank = np.arange(n_samples) - starts[g_cls]
    in_test = rank < test_per_class[g_cls]
    in_val = ~in_test & (rank < (test_per_class + val_per_class)[g_cls])
    train = grouped[~in_test & ~in_val]
    val = grouped[in_val]
    test = grouped[in_test]
    return rng.permutation(train), rng.permutation(val), rng.permutation(test)


def train_val_test_split(
    x: np.ndarray,
    y: np.ndarray | None,
    val_fraction: float = 0.1,
    test_fraction: float = 0.1,
    seed: int | np.random.Generator | None = 0,
    stratify: bool = True,
) -> Split:
    """Split arrays into train, validation and test sets.

    Parameters
    ----------
    x : ndarray of shape (n_samples, ...)
    y : ndarray of shape (n_samples,) or (n_samples, k), or None
    val_fraction, test_fraction : float
        Fractions of all samples, in [0, 1) with a sum below 1.
    seed : int or numpy.random.Generator, optional
        The same seed gives the same split.
    stratify : bool
        Keep the class proportions of ``y`` in every split (class labels only; ignored for
        floating-point regression targets).

    Returns
    -------
    Split
        ``(x_train, y_train, x_val, y_val, x_test, y_test)``: gathered copies (a memory-mapped
        ``x`` is read into memory; use :func:`train_val_test_indices` to avoid that).
    """
    x = np.asarray(x) if not isinstance(x, np.ndarray) else x
    if y is not None:
        y = np.asarray(y)
        if len(y) != len(x):
            raise DataError(
                f"x has {len(x)} samples but y has {len(y)} (shapes {x.shape} and {y.shape})"
            )
    train, val, test = train_val_test_indices(
        len(x), y, val_fraction, test_fraction, seed=seed, stratify=stratify
    )

    def take(a: np.ndarray | None, idx: np.ndarray) -> np.ndarray | None:
        return None if a is None else np.take(a, idx, axis=0)

    return Split(
        np.take(x, train, axis=0),
        take(y, train),
        np.take(x, val, axis=0),
        take(y, val),
        np.take(x, test, axis=0),
        take(y, test),
    )


def train_test_split(
    x: np.ndarray,
    y: np.ndarray | None = None,
    test_size: float | int = 0.25,
    random_state: int | np.random.Generator | None = None,
    stratify: Any = None,
) -> tuple[Any, ...]:
    """scikit-learn's two-way split: ``x_train, x_test, y_train, y_test`` (in that order).

    ``test_size`` is a fraction of the samples or a number of them; ``random_state`` seeds
    the shuffle (the same seed gives the same split); ``stratify=y`` (or ``True``) keeps the
    class proportions in both parts, as scikit-learn, while the default ``None`` does not.
    Without ``y`` it returns ``x_train, x_test``. For a validation set too, see
    :func:`train_val_test_split`.

    >>> import numpy as np
    >>> x, y = np.arange(20).reshape(10, 2), np.array([0, 1] * 5)
    >>> x_train, x_test, y_train, y_test = train_test_split(x, y, test_size=0.2, random_state=0)
    >>> x_train.shape, x_test.shape, y_test.shape
    ((8, 2), (2, 2), (2,))
    """
    n = len(x)
    if isinstance(test_size, (int, np.integer)) and not isinstance(test_size, bool):
        if not 0 < test_size < n:
            raise DataError(f"test_size={test_size} samples must lie between 1 and {n - 1}")
        test_size = test_size / n
    if isinstance(stratify, bool):
        by_class = stratify
    elif stratify is None:
        by_class = False
    else:
        if y is None or not np.array_equal(np.asarray(stratify), np.asarray(y)):
            raise DataError("train_test_split stratifies by y only: pass stratify=y (or True)")
        by_class = True
    split = train_val_test_split(x, y, 0.0, test_size, seed=random_state, stratify=by_class)
    if y is None:
        return split.x_train, split.x_test
    return split.x_train, split.x_test, split.y_train, split.y_test
