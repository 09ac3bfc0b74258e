"""Classification metrics of predicted labels (and :func:`log_loss` of predicted probabilities)."""

from __future__ import annotations

import math
import numbers
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np

from ..errors import NablanetError
from ._checks import (
    UndefinedMetricWarning,
    _check_consistent_length,
    _check_label_pair,
    _check_labels_array,
    _check_targets,
    _check_zero_division,
    _column_or_1d,
    _index_in,
    _is_string_kind,
)
from ._confusion import confusion_matrix

__all__ = [
    "accuracy_score",
    "classification_report",
    "f1_score",
    "log_loss",
    "precision_recall_fscore_support",
    "precision_score",
    "recall_score",
]

_AVERAGES = ("binary", "micro", "macro", "weighted", None)


def accuracy_score(y_true: Any, y_pred: Any, *, normalize: bool = True) -> float:
    """Fraction (or number, with ``normalize=False``) of correctly classified samples.

    Parameters
    ----------
    y_true, y_pred : array-like of shape (n_samples,)
        True and predicted class labels.
    normalize : bool, default=True
        Return the fraction of correct samples; otherwise their count.

    Returns
    -------
    float

    Examples
    --------
    >>> accuracy_score([0, 1, 1, 0], [0, 1, 0, 0])
    0.75
    """
    y_true, y_pred = _check_label_pair(y_true, y_pred)  # (no need for the set of labels)
    correct = y_true == y_pred
    return float(np.mean(correct)) if normalize else float(np.sum(correct))


def _warn_prf(average: str | None, modifier: str, what: str, result_size: int) -> None:
    where = "due to" if result_size == 1 else "in labels with"
    warnings.warn(
        f"{what} is ill-defined and being set to 0.0 {where} no {modifier} samples. Use "
        "`zero_division` parameter to control this behavior.",
        UndefinedMetricWarning,
        stacklevel=4,
    )


def _prf_divide(
    numerator: np.ndarray,
    denominator: np.ndarray,
    metric: str,
    modifier: str,
    average: str | None,
    warn_for: Sequence[str],
    zero_division: Any,
) -> np.ndarray:
    """``numerator / denominator`` with ``zero_division`` wherever the denominator is 0."""
    numerator = np.asarray(numerator, dtype=np.float64)
    denominator = np.asarray(denominator, dtype=np.float64)
    mask = denominator == 0
    result = numerator / np.where(mask, 1.0, denominator)
    if not mask.any():
        return result
    result[mask] = _check_zero_division(zero_division)
    if isinstance(zero_division, str) and metric in warn_for:
        what = {"precision": "Precision", "recall": "Recall", "f-score": "F-score"}[metric]
        _warn_prf(average, modifier, what, result.shape[0])
    return result


def _nanaverage(a: np.ndarray, weights: np.ndarray | None = None) -> float:
    """Average ignoring NaN; all-zero weights fall back to the plain mean."""
    if a.shape[0] == 0:
        return math.nan
    mask = np.isnan(a)
    if mask.all():
        return math.nan
    a = a[~mask]
    if weights is None:
        return float(np.mean(a))
    weights = np.asarray(weights, dtype=np.float64)[~mask]
    if weights.sum() == 0:
        return float(np.mean(a))
    return float(np.average(a, weights=weights))


def _check_set_wise_labels(
    y_type: str, present: np.ndarray, average: str | None, labels: Any, pos_label: Any
) -> Any:
    if average not in _AVERAGES:
        raise NablanetError(
            "The 'average' parameter must be one of 'binary', 'micro', 'macro', 'weighted', None."
            f" Got {average!r} instead."
        )
    if average == "binary":
        if y_type == "binary":
            if pos_label not in present.tolist() and present.shape[0] >= 2:
                raise NablanetError(
                    f"pos_label={pos_label!r} is not a valid label. It should be one of "
                    f"{present.tolist()}"
                )
            return [pos_label]
        raise NablanetError(
            "Target is multiclass but average='binary'. Please choose another average setting, "
            "one of [None, 'micro', 'macro', 'weighted']."
        )
    if pos_label not in (None, 1):
        warnings.warn(
            f"Note that pos_label (set to {pos_label!r}) is ignored when average != 'binary' "
            f"(got {average!r}). You may use labels=[pos_label] to specify a single positive "
            "class.",
            UserWarning,
            stacklevel=3,
        )
    return labels


def precision_recall_fscore_support(
    y_true: Any,
    y_pred: Any,
    *,
    beta: float = 1.0,
    labels: Any = None,
    pos_label: Any = 1,
    average: str | None = None,
    warn_for: Sequence[str] = ("precision", "recall", "f-score"),
    zero_division: Any = "warn",
) -> tuple[Any, Any, Any, Any]:
    """Precision, recall, F-beta score and support, per class or averaged.

    Parameters
    ----------
    y_true, y_pred : array-like of shape (n_samples,)
        True and predicted class labels.
    beta : float, default=1.0
        Weight of recall in the F-score (``beta=1`` is F1).
    labels : array-like, default=None
        The labels to report (and, for ``"macro"``/``"weighted"``/``"micro"``, to average over),
        in this order. Default: the sorted union of the labels in ``y_true`` and ``y_pred``.
    pos_label : int, float, bool or str, default=1
        The positive class when ``average="binary"``.
    average : {"binary", "micro", "macro", "weighted"} or None, default=None
        ``None`` returns per-class arrays. ``"binary"`` scores ``pos_label`` only (the targets
        must hold at most two labels); ``"micro"`` pools the counts of all classes; ``"macro"``
        is the unweighted mean over classes; ``"weighted"`` the mean weighted by support.
    warn_for : tuple of str, default=("precision", "recall", "f-score")
        Which ill-defined metrics emit an :class:`UndefinedMetricWarning`.
    zero_division : {"warn", 0.0, 1.0, np.nan}, default="warn"
        The value of an ill-defined score ("warn": 0.0 and a warning).

    Returns
    -------
    precision, recall, fbeta_score : float, or ndarray of shape (n_labels,) when average is None
    support : ndarray of shape (n_labels,) of int64 when ``average`` is None, else None
        The number of true samples of each label.

    Examples
    --------
    >>> p, r, f, s = precision_recall_fscore_support([0, 1, 1, 2], [0, 1, 2, 2])
    >>> p, r, s
    (array([1. , 1. , 0.5]), array([1. , 0.5, 1. ]), array([1, 2, 1]))
    """
    _check_zero_division(zero_division)
    if isinstance(beta, bool) or not isinstance(beta, numbers.Real) or not beta >= 0:
        raise NablanetError(f"The 'beta' parameter must be a number >= 0. Got {beta!r} instead.")
    y_type, present, y_true, y_pred = _check_targets(y_true, y_pred)
    labels = _check_set_wise_labels(y_type, present, average, labels, pos_label)

    if labels is None:
        labels = present
        n_labels = labels.shape[0]
    else:
        labels = np.asarray(labels)
        n_labels = labels.shape[0]
        if _is_string_kind(labels) != _is_string_kind(present):
            raise NablanetError("Mix of label input types (string and number) in labels")
        extra = np.setdiff1d(present, labels)
        labels = np.concatenate([labels, extra]) if extra.size else labels
    cm = confusion_matrix(y_true, y_pred, labels=labels)
    tp_sum = np.diag(cm)[:n_labels]
    pred_sum = cm.sum(axis=0)[:n_labels]
    true_sum = cm.sum(axis=1)[:n_labels]
    if average == "micro":
        tp_sum, pred_sum, true_sum = (np.array([a.sum()]) for a in (tp_sum, pred_sum, true_sum))

    precision = _prf_divide(
        tp_sum, pred_sum, "precision", "predicted", average, warn_for, zero_division
    )
    recall = _prf_divide(tp_sum, true_sum, "recall", "true", average, warn_for, zero_division)
    if np.isposinf(beta):
        f_score = recall
    elif beta == 0:
        f_score = precision
    else:
        beta2 = float(beta) ** 2
        f_score = _prf_divide(
            (1 + beta2) * tp_sum.astype(np.float64),
            beta2 * true_sum + pred_sum,
            "f-score",
            "true nor predicted",
            average,
            warn_for,
            zero_division,
        )
    if average is None:
        return precision, recall, f_score, true_sum
    weights = true_sum if average == "weighted" else None
    return (
        _nanaverage(precision, weights),
        _nanaverage(recall, weights),
        _nanaverage(f_score, weights),
        None,
    )


def precision_score(
    y_true: Any,
    y_pred: Any,
    *,
    labels: Any = None,
    pos_label: Any = 1,
    average: str | None = "binary",
    zero_division: Any = "warn",
) -> Any:
    """Precision ``tp / (tp + fp)``: the fraction of predictions of a class that are right.

    Parameters are those of :func:`precision_recall_fscore_support` (default
    ``average="binary"``). A class that is never predicted has precision ``zero_division``
    (0.0, with an :class:`UndefinedMetricWarning`, by default).

    Returns
    -------
    float, or ndarray of shape (n_labels,) when ``average`` is None

    Examples
    --------
    >>> precision_score([0, 1, 1, 0], [1, 1, 1, 0])
    0.6666666666666666
    """
    p, _, _, _ = precision_recall_fscore_support(
        y_true,
        y_pred,
        labels=labels,
        pos_label=pos_label,
        average=average,
        warn_for=("precision",),
        zero_division=zero_division,
    )
    return p


def recall_score(
    y_true: Any,
    y_pred: Any,
    *,
    labels: Any = None,
    pos_label: Any = 1,
    average: str | None = "binary",
    zero_division: Any = "warn",
) -> Any:
    """Recall ``tp / (tp + fn)``: the fraction of a class's samples that are found.

    Parameters are those of :func:`precision_recall_fscore_support` (default
    ``average="binary"``). A class absent from ``y_true`` has recall ``zero_division``.

    Returns
    -------
    float, or ndarray of shape (n_labels,) when ``average`` is None

    Examples
    --------
    >>> recall_score([0, 1, 1, 0], [1, 1, 0, 0])
    0.5
    """
    _, r, _, _ = precision_recall_fscore_support(
        y_true,
        y_pred,
        labels=labels,
        pos_label=pos_label,
        average=average,
        warn_for=("recall",),
        zero_division=zero_division,
    )
    return r


def f1_score(
    y_true: Any,
    y_pred: Any,
    *,
    labels: Any = None,
    pos_label: Any = 1,
    average: str | None = "binary",
    zero_division: Any = "warn",
) -> Any:
    """F1 score ``2 tp / (2 tp + fp + fn)``, the harmonic mean of precision and recall.

    Parameters are those of :func:`precision_recall_fscore_support` (default
    ``average="binary"``). As in scikit-learn, F1 is only ill-defined (``zero_division``, with a
    warning) for a class that is neither in ``y_true`` nor predicted; a class that is never
    predicted simply scores 0.

    Returns
    -------
    float, or ndarray of shape (n_labels,) when ``average`` is None

    Examples
    --------
    >>> f1_score([0, 1, 1, 0], [1, 1, 0, 0])
    0.5
    """
    _, _, f, _ = precision_recall_fscore_support(
        y_true,
        y_pred,
        labels=labels,
        pos_label=pos_label,
        average=average,
        warn_for=("f-score",),
        zero_division=zero_division,
    )
    return f


def classification_report(
    y_true: Any,
    y_pred: Any,
    *,
    labels: Any = None,
    target_names: Sequence[str] | None = None,
    zero_division: Any = "warn",
) -> dict[str, Any]:
    """Per-class precision, recall, F1 and support, plus averages, as a dict.

    The same dict as scikit-learn's ``classification_report(..., output_dict=True)``.

    Parameters
    ----------
    y_true, y_pred : array-like of shape (n_samples,)
        True and predicted class labels.
    labels : array-like, default=None
        The labels to report, in this order (default: all labels, sorted).
    target_names : sequence of str, default=None
        Display names of ``labels`` (default: ``str(label)``).
    zero_division : {"warn", 0.0, 1.0, np.nan}, default="warn"

    Returns
    -------
    dict
        ``{name: {"precision", "recall", "f1-score", "support"}}`` for each label, then
        ``"accuracy"`` (a float; ``"micro avg"`` with the four keys instead when ``labels`` leaves
        some present label out), ``"macro avg"`` and ``"weighted avg"``. All values are floats.

    Examples
    --------
    >>> report = classification_report([0, 1, 1], [0, 1, 0], target_names=["neg", "pos"])
    >>> report["pos"]
    {'precision': 1.0, 'recall': 0.5, 'f1-score': 0.6666666666666666, 'support': 2.0}
    >>> report["accuracy"]
    0.6666666666666666
    """
    _, present, y_true, y_pred = _check_targets(y_true, y_pred)
    if labels is None:
        labels = present
        micro_is_accuracy = True
    else:
        labels = np.asarray(labels)
        micro_is_accuracy = set(labels.tolist()) >= set(present.tolist())
    if target_names is not None and len(target_names) != len(labels):
        raise NablanetError(
            f"Number of classes, {len(labels)}, does not match size of target_names, "
            f"{len(target_names)}"
        )
    if target_names is None:
        target_names = [str(label) for label in labels.tolist()]
    headers = ("precision", "recall", "f1-score", "support")
    p, r, f, s = precision_recall_fscore_support(
        y_true, y_pred, labels=labels, average=None, zero_division=zero_division
    )
    report: dict[str, Any] = {
        name: dict(zip(headers, (float(a), float(b), float(c), float(d))))
        for name, a, b, c, d in zip(target_names, p, r, f, s)
    }
    for average in ("micro", "macro", "weighted"):
        heading = "accuracy" if average == "micro" and micro_is_accuracy else f"{average} avg"
        ap, ar, af, _ = precision_recall_fscore_support(
            y_true, y_pred, labels=labels, average=average, zero_division=zero_division
        )
        if heading == "accuracy":
            report[heading] = float(ap)
        else:
            report[heading] = dict(zip(headers, (ap, ar, af, float(np.sum(s)))))
    return report


def log_loss(y_true: Any, y_prob: Any, *, normalize: bool = True, labels: Any = None) -> float:
    """Cross-entropy of predicted probabilities (natural log), averaged over samples.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        True class labels.
    y_prob : array-like of shape (n_samples, n_classes) or (n_samples,)
        Predicted probabilities; columns follow the sorted labels. A 1-D array (or one column) is
        the probability of the greater of two labels. Values are clipped to ``[eps, 1 - eps]``
        (``eps`` of their float dtype).
    normalize : bool, default=True
        Mean over samples; otherwise the sum.
    labels : array-like of shape (n_classes,), default=None
        The classes, when ``y_true`` does not hold them all.

    Returns
    -------
    float

    Examples
    --------
    >>> round(log_loss([0, 1, 1], [0.1, 0.8, 0.6]), 4)
    0.2798
    """
    y_true = _column_or_1d(y_true, "y_true")
    _check_labels_array(y_true, "y_true")
    y_prob = np.asarray(y_prob)
    if y_prob.dtype.kind not in "fiub":
        raise NablanetError(f"y_prob must be numeric, got dtype {y_prob.dtype}")
    if y_prob.dtype not in (np.float32, np.float64):
        y_prob = y_prob.astype(np.float64)
    if y_prob.ndim == 1:
        y_prob = y_prob[:, None]
    if y_prob.ndim != 2:
        raise NablanetError(
            f"y_prob must have shape (n_samples,) or (n_samples, n_classes), got {y_prob.shape}"
        )
    _check_consistent_length(("y_true", y_true), ("y_prob", y_prob))
    if y_true.shape[0] == 0:
        raise NablanetError("Found empty input array: at least 1 sample is needed")
    if not np.all(np.isfinite(y_prob)):
        raise NablanetError("y_prob contains NaN or infinity")
    if y_prob.max() > 1:
        raise NablanetError(f"y_prob contains values greater than 1: {y_prob.max()}")
    if y_prob.min() < 0:
        raise NablanetError(f"y_prob contains values lower than 0: {y_prob.min()}")
    if y_prob.shape[1] == 1:
        y_prob = np.concatenate([1 - y_prob, y_prob], axis=1)
    classes = np.unique(y_true if labels is None else np.asarray(labels))
    if classes.shape[0] == 1 and labels is None:
        raise NablanetError(
            f"y_true contains only one label ({classes[0]!r}). Please provide the true labels "
            "explicitly through the labels argument."
        )
    if classes.shape[0] != y_prob.shape[1]:
        raise NablanetError(
            f"y_true and y_prob contain different numbers of classes: {classes.shape[0]} vs "
            f"{y_prob.shape[1]}. Classes: {classes.tolist()}; pass labels= explicitly"
        )
    idx, found = _index_in(y_true, classes)
    if not found.all():
        raise NablanetError(
            f"y_true contains labels not in labels: {np.setdiff1d(y_true, classes).tolist()}"
        )
    eps = np.finfo(y_prob.dtype).eps
    if not np.allclose(y_prob.sum(axis=1), 1.0, rtol=np.sqrt(eps), atol=0):
        warnings.warn(
            "The y_prob values do not sum to one. Make sure to pass probabilities.",
            UserWarning,
            stacklevel=2,
        )
    p = np.clip(y_prob[np.arange(y_prob.shape[0]), idx], eps, 1 - eps).astype(np.float64)
    losses = -np.log(p)
    return float(losses.mean() if normalize else losses.sum())
