"""Mini-batches over arrays in memory or memory-mapped on disk.

>>> import numpy as np
>>> x, y = np.arange(10).reshape(5, 2), np.arange(5)
>>> [yb.tolist() for _, yb in DataLoader(x, y, batch_size=2, shuffle=False)]
[[0, 1], [2, 3], [4]]
>>> len(DataLoader(x, y, batch_size=2, drop_last=True))
2
"""

from __future__ import annotations

import numbers
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from .errors import DataError


class DataLoader:
    """Iterate over ``(x_batch, y_batch)`` pairs, one epoch per ``for`` loop.

    Without shuffling (and without ``indices``) batches are slices of the arrays: views, no copy.
    With shuffling each batch is gathered from a fresh permutation of the sample indices, so one
    epoch copies one batch at a time, never the whole dataset. The indices of a batch are sorted
    before gathering, which reads a memory-mapped array from disk in order (the order of samples
    within a batch does not change a mini-batch gradient).

    Parameters
    ----------
    x : ndarray of shape (n_samples, ...)
        May be a ``numpy.memmap``.
    y : ndarray of shape (n_samples, ...), optional
        When None the loader yields ``x`` batches alone.
    batch_size : int
    shuffle : bool
        Reshuffle at the start of every epoch.
    drop_last : bool
        Skip the last batch when it is smaller than ``batch_size``.
    seed : int or numpy.random.Generator, optional
        Seeds the shuffling; successive epochs differ but the sequence is reproducible.
    indices : ndarray of int, optional
        Iterate over these samples only (e.g. the training indices of
        :func:`~nablanet.data.split.train_val_test_indices`), without copying ``x``.
    transform, target_transform : callable, optional
        Applied to each batch of ``x`` / ``y`` (e.g. a fitted preprocessing pipeline), so raw
        ``uint8`` data on disk is scaled one batch at a time.

    Examples
    --------
    >>> loader = DataLoader(np.zeros((100, 3)), np.zeros(100), batch_size=32, seed=0)
    >>> [len(xb) for xb, yb in loader]
    [32, 32, 32, 4]
    """

    x: np.ndarray
    y: np.ndarray | None
    batch_size: int
    shuffle: bool
    drop_last: bool
    indices: np.ndarray | None
    transform: Callable[[np.ndarray], np.ndarray] | None
    target_transform: Callable[[np.ndarray], np.ndarray] | None
    rng: np.random.Generator

    def __init__(
        self,
        x: np.ndarray,
        y: np.ndarray | None = None,
        batch_size: int = 32,
        shuffle: bool = True,
        drop_last: bool = False,
        seed: int | np.random.Generator | None = None,
        *,
        indices: np.ndarray | None = None,
        transform: Callable[[np.ndarray], np.ndarray] | None = None,
        target_transform: Callable[[np.ndarray], np.ndarray] | None = None,
    ) -> None:
        if not isinstance(x, np.ndarray):
            x = np.asarray(x)
        if x.ndim == 0:
            raise DataError(f"DataLoader expects x of shape (n_samples, ...), got shape {x.shape}")
        if y is not None:
            if not isinstance(y, np.ndarray):
                y = np.asarray(y)
            if y.ndim == 0 or len(y) != len(x):
                raise DataError(
                    f"DataLoader: x has {len(x)} samples but y has "
                    f"{len(y) if y.ndim else 0} (shapes {x.shape} and {y.shape})"
                )
        if (
            isinstance(batch_size, bool)
            or not isinstance(batch_size, numbers.Integral)
            or (batch_size <= 0)
        ):
            raise DataError(
                f"The 'batch_size' parameter of DataLoader must be a positive integer. "
                f"Got {batch_size!r} instead."
            )
        if indices is not None:
            indices = np.asarray(indices)
            if indices.ndim != 1 or indices.dtype.kind not in "iu":
                raise DataError(
                    f"DataLoader: indices must be a 1-D integer array, got {indices.dtype} "
                    f"of shape {indices.shape}"
                )
            if indices.size and (indices.min() < 0 or indices.max() >= len(x)):
                raise DataError(
                    f"DataLoader: indices must lie in 0..{len(x) - 1}, found "
                    f"{int(indices.min())}..{int(indices.max())}"
                )
            indices = indices.astype(np.int64, copy=False)
        self.x, self.y = x, y
        self.batch_size = int(batch_size)
        self.shuffle = bool(shuffle)
        self.drop_last = bool(drop_last)
        self.indices = indices
        self.transform, self.target_transform = transform, target_transform
        self.rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)

    @property
    def n_samples(self) -> int:
        """Samples per epoch (before ``drop_last``)."""
        return len(self.x) if self.indices is None else len(self.indices)

    def __len__(self) -> int:
        """Batches per epoch."""
        full, rest = divmod(self.n_samples, self.batch_size)
        return full + (1 if rest and not self.drop_last else 0)

    def _batch(self, sel: slice | np.ndarray) -> Any:
        if isinstance(sel, slice):
            xb = self.x[sel]
            yb = None if self.y is None else self.y[sel]
        else:  # a plain in-memory copy of the batch, also when x is a numpy.memmap
            xb = np.take(np.asarray(self.x), sel, axis=0)
            yb = None if self.y is None else np.take(np.asarray(self.y), sel, axis=0)
        if self.transform is not None:
            xb = self.transform(xb)
        if yb is not None and self.target_transform is not None:
            yb = self.target_transform(yb)
        return xb if self.y is None else (xb, yb)

    def __iter__(self) -> Iterator[Any]:
        n, bs = self.n_samples, self.batch_size
        stop = n - n % bs if self.drop_last else n
        if not self.shuffle and self.indices is None:
            for start in range(0, stop, bs):
                yield self._batch(slice(start, start + bs))
            return
        if self.shuffle:
            order = (
                self.rng.permutation(n)
                if self.indices is None
                else (self.rng.permutation(self.indices))
            )
        else:
            assert self.indices is not None  # neither shuffled nor indexed: returned above
            order = self.indices
        for start in range(0, stop, bs):
            yield self._batch(np.sort(order[start : start + bs]))

    # -- reproducible resumption -------------------------------------------------------------
    def get_state(self) -> dict[str, Any]:
        """JSON-able state of the shuffling generator (for checkpoints)."""
        return dict(self.rng.bit_generator.state)

    def set_state(self, state: dict[str, Any]) -> None:
        """Restore :meth:`get_state`'s output, so the next epochs repeat exactly."""
        self.rng.bit_generator.state = state

    def __repr__(self) -> str:
        return (
            f"DataLoader(n_samples={self.n_samples}, batch_size={self.batch_size}, "
            f"shuffle={self.shuffle}, drop_last={self.drop_last}, batches={len(self)})"
        )
