"""Transformers of class labels: :class:`LabelEncoder` (any labels to indices) and
:class:`OneHotEncoder` (indices to one-hot rows), both reversible. Outputs are ``int64``
indices or ``float32`` rows.

>>> codes = LabelEncoder().fit_transform(np.array(["b", "a", "b"]))
>>> codes.tolist(), OneHotEncoder().fit_transform(codes).tolist()
([1, 0, 1], [[0.0, 1.0], [1.0, 0.0], [0.0, 1.0]])
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..errors import DataError
from .base import Transformer

__all__ = ["LabelEncoder", "OneHotEncoder"]


def _check_labels(y: Any, owner: str) -> np.ndarray:
    y = np.asarray(y)
    if y.ndim != 1:
        raise DataError(f"{owner} expects labels of shape (n,), got shape {y.shape}")
    if y.dtype.kind not in "biu":
        if y.dtype.kind == "f" and np.isfinite(y).all() and (y == np.round(y)).all():
            return y.astype(np.int64)
        raise DataError(
            f"{owner} expects integer class indices, got dtype {y.dtype}; use LabelEncoder first"
        )
    return y.astype(np.int64, copy=False)


class OneHotEncoder(Transformer):
    """Class indices ``(n,)`` to one-hot rows ``(n, n_classes)`` ``float32``, and back
    (``argmax``).

    Parameters
    ----------
    n_classes : int, optional
        Number of classes; learnt as ``max(y) + 1`` by ``fit`` when not given.

    Examples
    --------
    >>> enc = OneHotEncoder(n_classes=3)
    >>> enc.transform(np.array([2, 0])).tolist()
    [[0.0, 0.0, 1.0], [1.0, 0.0, 0.0]]
    >>> enc.inverse_transform(np.array([[0.1, 0.7, 0.2]])).tolist()
    [1]
    """

    params = ("n_classes",)

    def __init__(self, n_classes: int | None = None):
        if n_classes is not None and (
            isinstance(n_classes, bool) or int(n_classes) != n_classes or n_classes < 1
        ):
            raise DataError(
                f"The 'n_classes' parameter of OneHotEncoder must be a positive integer. "
                f"Got {n_classes!r} instead."
            )
        self.n_classes = None if n_classes is None else int(n_classes)

    @property
    def is_fitted(self) -> bool:
        return self.n_classes is not None

    def fit(self, x: np.ndarray, y: np.ndarray | None = None) -> OneHotEncoder:
        labels = _check_labels(x, "OneHotEncoder.fit")
        if labels.size == 0:
            raise DataError("OneHotEncoder.fit: no labels")
        if labels.min() < 0:
            raise DataError(f"OneHotEncoder.fit: negative label {int(labels.min())}")
        if self.n_classes is None:
            self.n_classes = int(labels.max()) + 1
        return self

    def transform(self, x: np.ndarray) -> np.ndarray:
        self._require_fitted()
        assert self.n_classes is not None
        labels = _check_labels(x, "OneHotEncoder.transform")
        if labels.size and (labels.min() < 0 or labels.max() >= self.n_classes):
            bad = labels[(labels < 0) | (labels >= self.n_classes)][0]
            raise DataError(f"OneHotEncoder: label {int(bad)} is outside 0..{self.n_classes - 1}")
        out = np.zeros((len(labels), self.n_classes), dtype=np.float32)
        out[np.arange(len(labels)), labels] = 1.0
        return out

    def inverse_transform(self, x: np.ndarray) -> np.ndarray:
        self._require_fitted()
        x = np.asarray(x)
        if x.ndim != 2 or x.shape[1] != self.n_classes:
            raise DataError(
                f"OneHotEncoder.inverse_transform expects shape (n, {self.n_classes}), got "
                f"{x.shape}"
            )
        return np.argmax(x, axis=1).astype(np.int64)


class LabelEncoder(Transformer):
    """Class labels of any kind (strings, numbers) to indices ``0..n_classes-1`` in sorted order,
    and back.

    Attributes
    ----------
    classes : ndarray of shape (n_classes,); None before ``fit``.

    Examples
    --------
    >>> enc = LabelEncoder().fit(np.array(["dog", "cat", "dog"]))
    >>> enc.classes.tolist(), enc.transform(np.array(["dog", "cat"])).tolist()
    (['cat', 'dog'], [1, 0])
    >>> enc.inverse_transform(np.array([0, 1, 1])).tolist()
    ['cat', 'dog', 'dog']
    """

    state = ("classes",)

    def __init__(self) -> None:
        self.classes: np.ndarray | None = None

    def _state_to_json(self, name: str) -> Any:
        return None if self.classes is None else self.classes.tolist()

    def _state_from_json(self, name: str, value: Any) -> Any:
        return np.asarray(value)

    def fit(self, x: np.ndarray, y: np.ndarray | None = None) -> LabelEncoder:
        labels = np.asarray(x)
        if labels.ndim != 1 or labels.size == 0:
            raise DataError(f"LabelEncoder.fit expects labels of shape (n,), got {labels.shape}")
        self.classes = np.unique(labels)
        return self

    def transform(self, x: np.ndarray) -> np.ndarray:
        self._require_fitted()
        assert self.classes is not None
        labels = np.asarray(x)
        if labels.ndim != 1:
            raise DataError(f"LabelEncoder.transform expects shape (n,), got {labels.shape}")
        if labels.size == 0:
            return np.zeros(0, dtype=np.int64)
        try:
            codes = np.searchsorted(self.classes, labels)
        except TypeError:  # includes numpy's DTypePromotionError
            raise DataError(
                f"LabelEncoder: labels of dtype {labels.dtype} do not match the fitted classes "
                f"of dtype {self.classes.dtype}"
            ) from None
        codes = np.clip(codes, 0, len(self.classes) - 1)
        unknown = self.classes[codes] != labels
        if unknown.any():
            raise DataError(
                f"LabelEncoder: unknown label {labels[unknown][0].item()!r}; known: "
                f"{self.classes.tolist()}"
            )
        return codes.astype(np.int64)

    def inverse_transform(self, x: np.ndarray) -> np.ndarray:
        self._require_fitted()
        assert self.classes is not None
        codes = _check_labels(x, "LabelEncoder.inverse_transform")
        if codes.size and (codes.min() < 0 or codes.max() >= len(self.classes)):
            raise DataError(
                f"LabelEncoder.inverse_transform: index out of 0..{len(self.classes) - 1}"
            )
        return self.classes[codes]
