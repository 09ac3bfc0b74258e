"""Input checks shared by the metrics, and the warning of an ill-defined metric."""

from __future__ import annotations

import math
import numbers
from typing import Any

import numpy as np

from ..errors import NablanetError

__all__ = ["UndefinedMetricWarning"]


class UndefinedMetricWarning(UserWarning):
    """A metric is ill-defined for the given input (e.g. precision of a never-predicted class)."""


def _column_or_1d(y: Any, name: str) -> np.ndarray:
    """``y`` as a 1-D array; an ``(n, 1)`` column is flattened."""
    y = np.asarray(y)
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    if y.ndim != 1:
        raise NablanetError(
            f"{name} must be a 1-D array of shape (n_samples,), got shape {y.shape}"
        )
    return y


def _is_string_kind(y: np.ndarray) -> bool:
    if y.dtype.kind in "US":
        return True
    return y.dtype.kind == "O" and y.size > 0 and isinstance(y.flat[0], str)


def _check_consistent_length(*pairs: tuple[str, np.ndarray]) -> None:
    lengths = [len(a) for _, a in pairs]
    if len(set(lengths)) > 1:
        names = ", ".join(n for n, _ in pairs)
        raise NablanetError(
            f"Found input variables with inconsistent numbers of samples: {lengths} ({names})"
        )


def _check_labels_array(y: np.ndarray, name: str) -> None:
    """Reject continuous values and NaN in an array of class labels."""
    if y.dtype.kind == "f":
        if not np.all(np.isfinite(y)):
            raise NablanetError(f"{name} contains NaN or infinity; class labels must be finite")
        frac = y[y != np.round(y)]
        if frac.size:
            raise NablanetError(
                f"{name} must hold class labels, got continuous values (e.g. {frac[0]!r}); "
                "threshold or argmax the probabilities first"
            )
    elif y.dtype.kind == "c":
        raise NablanetError(f"{name} must hold class labels, got complex values")


def _check_label_pair(y_true: Any, y_pred: Any) -> tuple[np.ndarray, np.ndarray]:
    """Validate a pair of label arrays: ``(y_true, y_pred)``, both of shape (n_samples,)."""
    y_true = _column_or_1d(y_true, "y_true")
    y_pred = _column_or_1d(y_pred, "y_pred")
    _check_consistent_length(("y_true", y_true), ("y_pred", y_pred))
    if y_true.shape[0] == 0:
        raise NablanetError("Found empty input array (y_true, y_pred): at least 1 sample is needed")
    if _is_string_kind(y_true) != _is_string_kind(y_pred):
        raise NablanetError("Mix of label input types (string and number) in y_true and y_pred")
    _check_labels_array(y_true, "y_true")
    _check_labels_array(y_pred, "y_pred")
    return y_true, y_pred


def _check_targets(y_true: Any, y_pred: Any) -> tuple[str, np.ndarray, np.ndarray, np.ndarray]:
    """Validate a pair of label arrays (:func:`_check_label_pair`) and find their labels.

    Returns
    -------
    y_type : {"binary", "multiclass"}
        "binary" when at most two distinct labels occur in ``y_true`` and ``y_pred`` together.
    labels : ndarray of shape (n_labels,)
        The sorted union of the labels.
    y_true, y_pred : ndarray of shape (n_samples,)
    """
    y_true, y_pred = _check_label_pair(y_true, y_pred)
    labels = np.unique(np.concatenate([y_true, y_pred]))
    y_type = "binary" if labels.shape[0] <= 2 else "multiclass"
    return y_type, labels, y_true, y_pred


def _check_zero_division(zero_division: Any) -> float:
    if isinstance(zero_division, str) and zero_division == "warn":
        return 0.0
    if (
        isinstance(zero_division, numbers.Real)
        and not isinstance(zero_division, bool)
        and (zero_division in (0, 1) or math.isnan(zero_division))
    ):
        return float(zero_division)
    raise NablanetError(
        f"The 'zero_division' parameter must be 'warn', 0.0, 1.0 or np.nan. Got {zero_division!r}"
        " instead."
    )


def _index_in(values: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Positions of ``values`` in the (unsorted, unique) ``labels`` and a mask of found ones."""
    if _is_string_kind(values) != _is_string_kind(labels) and values.size and labels.size:
        raise NablanetError("Mix of label input types (string and number) in labels and targets")
    sorter = np.argsort(labels, kind="stable")
    sorted_labels = labels[sorter]
    pos = np.searchsorted(sorted_labels, values)
    pos_clipped = np.minimum(pos, max(labels.shape[0] - 1, 0))
    found = (pos < labels.shape[0]) & (sorted_labels[pos_clipped] == values)
    return sorter[pos_clipped], found
