"""The confusion matrix (one ``np.bincount``), which precision, recall and F-scores count from."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..errors import NablanetError
from ._checks import _check_targets, _index_in

__all__ = ["confusion_matrix"]


def confusion_matrix(
    y_true: Any, y_pred: Any, *, labels: Any = None, normalize: str | None = None
) -> np.ndarray:
    """Confusion matrix: entry ``[i, j]`` counts samples of true class ``i`` predicted as ``j``.

    Parameters
    ----------
    y_true, y_pred : array-like of shape (n_samples,)
        True and predicted class labels.
    labels : array-like of shape (n_classes,), default=None
        The labels indexing the rows and columns, in this order. Samples whose true or predicted
        label is not among them are ignored. Default: the sorted union of both arrays' labels.
    normalize : {"true", "pred", "all"}, default=None
        Divide by the row sums (``"true"``), the column sums (``"pred"``) or the total; an empty
        row or column gives zeros.

    Returns
    -------
    ndarray of shape (n_classes, n_classes)
        int64 counts, or float64 fractions when ``normalize`` is given.

    Examples
    --------
    >>> confusion_matrix(["cat", "dog", "dog"], ["cat", "cat", "dog"])
    array([[1, 0],
           [1, 1]])
    >>> confusion_matrix([2, 0, 2], [2, 0, 0], labels=[2, 0])
    array([[1, 1],
           [0, 1]])
    """
    _, present, y_true, y_pred = _check_targets(y_true, y_pred)
    if normalize not in (None, "true", "pred", "all"):
        raise NablanetError(
            f"The 'normalize' parameter of confusion_matrix must be one of None, 'true', 'pred', "
            f"'all'. Got {normalize!r} instead."
        )
    if labels is None:
        labels = present
        t = np.searchsorted(labels, y_true)
        p = np.searchsorted(labels, y_pred)
    else:
        labels = np.asarray(labels)
        if labels.ndim != 1 or labels.size == 0:
            raise NablanetError(
                f"'labels' must be a non-empty 1-D array of labels, got shape {labels.shape}"
            )
        if np.unique(labels).size != labels.size:
            raise NablanetError(f"'labels' must be unique, got {labels.tolist()}")
        t, t_found = _index_in(y_true, labels)
        p, p_found = _index_in(y_pred, labels)
        if not t_found.any():
            raise NablanetError("At least one label specified in 'labels' must be in y_true")
        keep = t_found & p_found
        t, p = t[keep], p[keep]
    k = labels.shape[0]
    cm = np.bincount(t * k + p, minlength=k * k).reshape(k, k).astype(np.int64)
    if normalize is None:
        return cm
    with np.errstate(divide="ignore", invalid="ignore"):
        if normalize == "true":
            out = cm / cm.sum(axis=1, keepdims=True)
        elif normalize == "pred":
            out = cm / cm.sum(axis=0, keepdims=True)
        else:
            out = cm / cm.sum()
    return np.nan_to_num(out)
