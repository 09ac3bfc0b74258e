"""Ranking metrics of scores: ROC curves and the area under them."""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np

from ..errors import NablanetError
from ._checks import (
    UndefinedMetricWarning,
    _check_consistent_length,
    _check_labels_array,
    _column_or_1d,
    _is_string_kind,
)

__all__ = ["auc", "roc_auc_score", "roc_curve"]


def _check_score(y_score: Any, name: str = "y_score") -> np.ndarray:
    y_score = np.asarray(y_score)
    if y_score.dtype.kind not in "fiub":
        raise NablanetError(f"{name} must be numeric, got dtype {y_score.dtype}")
    y_score = y_score.astype(np.float64, copy=False)
    if not np.all(np.isfinite(y_score)):
        raise NablanetError(f"{name} contains NaN or infinity")
    return y_score


def _binary_clf_curve(is_pos: np.ndarray, y_score: np.ndarray) -> tuple[np.ndarray, ...]:
    """False and true positive counts at each distinct score, highest score first.

    Parameters
    ----------
    is_pos : ndarray of shape (n_samples,) of bool
    y_score : ndarray of shape (n_samples,) of float64

    Returns
    -------
    fps, tps, thresholds : ndarray of shape (n_thresholds,)
    """
    order = np.argsort(y_score, kind="stable")[::-1]
    y_score = y_score[order]
    is_pos = is_pos[order]
    distinct = np.flatnonzero(np.diff(y_score))
    threshold_idxs = np.r_[distinct, is_pos.shape[0] - 1]
    tps = np.cumsum(is_pos, dtype=np.float64)[threshold_idxs]
    fps = 1 + threshold_idxs - tps
    return fps, tps, y_score[threshold_idxs]


def roc_curve(
    y_true: Any, y_score: Any, *, pos_label: Any = None, drop_intermediate: bool = True
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Receiver operating characteristic: false and true positive rates at each threshold.

    Identical to scikit-learn's ``roc_curve`` (without sample weights).

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        True binary labels. Without ``pos_label`` they must be {0, 1} or {-1, 1} (1 is
        positive).
    y_score : array-like of shape (n_samples,)
        Scores, higher meaning more likely positive (probabilities or decision values).
    pos_label : int, float, bool or str, default=None
        The positive class.
    drop_intermediate : bool, default=True
        Drop thresholds where the curve does not bend (collinear points); the area is unchanged.

    Returns
    -------
    fpr, tpr : ndarray of shape (n_thresholds + 1,)
        Rates, increasing from 0 to 1. NaN (with an :class:`UndefinedMetricWarning`) when
        ``y_true`` has no negative (for ``fpr``) or no positive (for ``tpr``) sample.
    thresholds : ndarray of shape (n_thresholds + 1,)
        Decreasing scores: a sample is called positive when its score is ``>= thresholds[i]``.
        ``thresholds[0]`` is ``+inf`` (nothing predicted positive).

    Examples
    --------
    >>> fpr, tpr, thresholds = roc_curve([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8])
    >>> fpr, tpr
    (array([0. , 0. , 0.5, 0.5, 1. ]), array([0. , 0.5, 0.5, 1. , 1. ]))
    >>> thresholds
    array([ inf, 0.8 , 0.4 , 0.35, 0.1 ])
    """
    y_true = _column_or_1d(y_true, "y_true")
    y_score = _column_or_1d(_check_score(y_score), "y_score")
    _check_consistent_length(("y_true", y_true), ("y_score", y_score))
    if y_true.shape[0] == 0:
        raise NablanetError("Found empty input array: at least 1 sample is needed")
    _check_labels_array(y_true, "y_true")
    classes = np.unique(y_true)
    if pos_label is None:
        values = classes.tolist()
        if _is_string_kind(classes) or values not in ([0, 1], [-1, 1], [0], [1], [-1]):
            raise NablanetError(
                f"y_true takes value in {values} and pos_label is not specified: either make "
                "y_true take value in {0, 1} or {-1, 1} or pass pos_label explicitly."
            )
        pos_label = 1
    fps, tps, thresholds = _binary_clf_curve(y_true == pos_label, y_score)
    if drop_intermediate and fps.shape[0] > 2:
        keep = np.r_[True, np.logical_or(np.diff(fps, 2), np.diff(tps, 2)), True]
        fps, tps, thresholds = fps[keep], tps[keep], thresholds[keep]
    fps = np.r_[0.0, fps]
    tps = np.r_[0.0, tps]
    thresholds = np.r_[np.inf, thresholds]
    if fps[-1] <= 0:
        warnings.warn(
            "No negative samples in y_true, false positive value should be meaningless",
            UndefinedMetricWarning,
            stacklevel=2,
        )
        fpr = np.full(fps.shape, np.nan)
    else:
        fpr = fps / fps[-1]
    if tps[-1] <= 0:
        warnings.warn(
            "No positive samples in y_true, true positive value should be meaningless",
            UndefinedMetricWarning,
            stacklevel=2,
        )
        tpr = np.full(tps.shape, np.nan)
    else:
        tpr = tps / tps[-1]
    return fpr, tpr, thresholds


def auc(x: Any, y: Any) -> float:
    """Area under a curve by the trapezoidal rule; ``x`` must be monotonic.

    Parameters
    ----------
    x, y : array-like of shape (n_points,)
        Coordinates (e.g. ``fpr`` and ``tpr`` from :func:`roc_curve`), at least 2 points.

    Returns
    -------
    float

    Examples
    --------
    >>> auc([0.0, 0.5, 1.0], [0.0, 1.0, 1.0])
    0.75
    """
    x = _column_or_1d(np.asarray(x, dtype=np.float64), "x")
    y = _column_or_1d(np.asarray(y, dtype=np.float64), "y")
    _check_consistent_length(("x", x), ("y", y))
    if x.shape[0] < 2:
        raise NablanetError(
            f"At least 2 points are needed to compute area under curve, but x.shape = {x.shape}"
        )
    dx = np.diff(x)
    direction = 1.0
    if np.any(dx < 0):
        if np.all(dx <= 0):
            direction = -1.0
        else:
            raise NablanetError(f"x is neither increasing nor decreasing: {x.tolist()[:10]}...")
    return float(direction * np.sum(dx * (y[1:] + y[:-1]) / 2.0))


def _binary_auc(is_pos: np.ndarray, y_score: np.ndarray) -> float:
    """ROC AUC of a boolean target; NaN with a warning when only one class is present."""
    n_pos = int(is_pos.sum())
    if n_pos == 0 or n_pos == is_pos.shape[0]:
        warnings.warn(
            "Only one class is present in y_true. ROC AUC score is not defined in that case.",
            UndefinedMetricWarning,
            stacklevel=3,
        )
        return math.nan
    fps, tps, _ = _binary_clf_curve(is_pos, y_score)
    return auc(np.r_[0.0, fps] / fps[-1], np.r_[0.0, tps] / tps[-1])


def roc_auc_score(
    y_true: Any,
    y_score: Any,
    *,
    multi_class: str = "ovr",
    average: str | None = "macro",
    labels: Any = None,
) -> Any:
    """Area under the ROC curve: binary, or multiclass one-vs-rest.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        True labels. With two distinct labels the greater one is the positive class.
    y_score : array-like of shape (n_samples,) or (n_samples, n_classes)
        Binary: the score of the positive class (an ``(n_samples, 2)`` array of probabilities is
        also accepted: its second column is used). Multiclass: probabilities summing to 1 over
        the columns, which follow the sorted labels.
    multi_class : {"ovr"}, default="ovr"
        One-vs-rest: each class against all others. (One-vs-one is not implemented.)
    average : {"macro", "weighted", "micro"} or None, default="macro"
        Multiclass only: unweighted mean of the per-class AUCs, mean weighted by prevalence,
        AUC of the pooled one-vs-rest problem, or (None) the per-class array.
    labels : array-like of shape (n_classes,), default=None
        Multiclass only: the sorted classes of the columns of ``y_score``, when ``y_true`` does
        not hold them all.

    Returns
    -------
    float, or ndarray of shape (n_classes,) when ``average`` is None
        NaN (with an :class:`UndefinedMetricWarning`) where ``y_true`` has a single class.

    Examples
    --------
    >>> roc_auc_score([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8])
    0.75
    >>> y_prob = np.array([[0.7, 0.2, 0.1], [0.2, 0.5, 0.3], [0.1, 0.2, 0.7], [0.3, 0.4, 0.3]])
    >>> roc_auc_score([0, 1, 2, 1], y_prob)
    1.0
    """
    y_true = _column_or_1d(y_true, "y_true")
    _check_labels_array(y_true, "y_true")
    y_score = _check_score(y_score)
    _check_consistent_length(("y_true", y_true), ("y_score", y_score))
    if y_true.shape[0] == 0:
        raise NablanetError("Found empty input array: at least 1 sample is needed")
    classes = np.unique(y_true)
    multiclass = classes.shape[0] > 2 or (y_score.ndim == 2 and y_score.shape[1] > 2)
    if not multiclass:
        if y_score.ndim == 2 and y_score.shape[1] in (1, 2):
            y_score = y_score[:, -1]
        y_score = _column_or_1d(y_score, "y_score")
        if classes.shape[0] < 2:
            return _binary_auc(np.zeros(y_true.shape, dtype=bool), y_score)
        return _binary_auc(y_true == classes[1], y_score)

    if multi_class != "ovr":
        raise NablanetError(
            f"The 'multi_class' parameter of roc_auc_score must be 'ovr'. Got {multi_class!r} "
            "instead."
        )
    if average not in ("micro", "macro", "weighted", None):
        raise NablanetError(
            "average must be one of ('micro', 'macro', 'weighted', None) for multiclass "
            f"problems. Got {average!r} instead."
        )
    if y_score.ndim != 2:
        raise NablanetError(
            "y_score needs to be of shape (n_samples, n_classes), since y_true contains "
            f"multiple classes. Got y_score.shape={y_score.shape}."
        )
    if not np.allclose(1, y_score.sum(axis=1)):
        raise NablanetError(
            "Target scores need to be probabilities for multiclass roc_auc, i.e. they should sum "
            "up to 1.0 over classes"
        )
    if labels is not None:
        labels = _column_or_1d(labels, "labels")
        classes = np.unique(labels)
        if classes.shape[0] != labels.shape[0]:
            raise NablanetError("Parameter 'labels' must be unique")
        if not np.array_equal(classes, labels):
            raise NablanetError("Parameter 'labels' must be ordered")
        if classes.shape[0] != y_score.shape[1]:
            raise NablanetError(
                f"Number of given labels, {classes.shape[0]}, not equal to the number of "
                f"columns in 'y_score', {y_score.shape[1]}"
            )
        if np.setdiff1d(y_true, classes).size:
            raise NablanetError("'y_true' contains labels not in parameter 'labels'")
    elif classes.shape[0] != y_score.shape[1]:
        raise NablanetError(
            f"Number of classes in y_true ({classes.shape[0]}) not equal to the number of "
            f"columns in 'y_score' ({y_score.shape[1]}); pass labels= when some classes are "
            "absent from y_true"
        )
    onehot = y_true[:, None] == classes[None, :]
    if average == "micro":
        return _binary_auc(onehot.ravel(), y_score.ravel())
    scores = np.array([_binary_auc(onehot[:, c], y_score[:, c]) for c in range(classes.shape[0])])
    if average is None:
        return scores
    if average == "weighted":
        weights = onehot.sum(axis=0).astype(np.float64)
        if weights.sum() == 0:
            return 0.0
        scores[weights == 0] = 0.0
        return float(np.average(scores, weights=weights))
    return float(np.mean(scores))
