"""Evaluation metrics: pure functions of arrays, with scikit-learn's names and semantics.

Classification
    :func:`accuracy_score`, :func:`confusion_matrix`, :func:`precision_recall_fscore_support`,
    :func:`precision_score`, :func:`recall_score`, :func:`f1_score`,
    :func:`classification_report` (the ``output_dict=True`` form), :func:`log_loss`.
Ranking
    :func:`roc_curve`, :func:`auc`, :func:`roc_auc_score` (binary, or multiclass one-vs-rest).
Regression
    :func:`mean_squared_error`, :func:`root_mean_squared_error`, :func:`mean_absolute_error`,
    :func:`r2_score`.
Reports
    :func:`classification_metrics` and :func:`regression_metrics` gather the usual numbers for a
    model's predictions into a JSON-safe ``dict`` (plain Python numbers and lists; an undefined
    value is ``None``, never NaN or infinity).

Labels may be integers, floats holding whole numbers, booleans or strings. Where a metric is
ill-defined (a class never predicted, a class absent from ``y_true``) the value is
``zero_division`` (0.0 by default) and an :class:`UndefinedMetricWarning` is emitted, as in
scikit-learn. Sample weights are not supported.

Everything is vectorised: the confusion matrix is one ``np.bincount``, ROC curves are one sort
and one cumulative sum.

>>> y_true = np.array([0, 1, 2, 2, 1, 0])
>>> y_pred = np.array([0, 2, 2, 2, 1, 0])
>>> accuracy_score(y_true, y_pred)
0.8333333333333334
>>> confusion_matrix(y_true, y_pred)
array([[2, 0, 0],
       [0, 1, 1],
       [0, 0, 2]])
>>> round(f1_score(y_true, y_pred, average="macro"), 4)
0.8222
"""

from __future__ import annotations

import math
import numbers
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np

from ._validation import NablanetError

__all__ = [
    "UndefinedMetricWarning",
    "accuracy_score",
    "auc",
    "classification_metrics",
    "classification_report",
    "confusion_matrix",
    "f1_score",
    "log_loss",
    "mean_absolute_error",
    "mean_squared_error",
    "precision_recall_fscore_support",
    "precision_score",
    "r2_score",
    "recall_score",
    "regression_metrics",
    "roc_auc_score",
    "roc_curve",
    "root_mean_squared_error",
]

_AVERAGES = ("binary", "micro", "macro", "weighted", None)


class UndefinedMetricWarning(UserWarning):
    """A metric is ill-defined for the given input (e.g. precision of a never-predicted class)."""


# --------------------------------------------------------------------------------------------
# input checks
# --------------------------------------------------------------------------------------------


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


def _check_targets(y_true: Any, y_pred: Any) -> tuple[str, np.ndarray, np.ndarray, np.ndarray]:
    """Validate a pair of label arrays.

    Returns
    -------
    y_type : {"binary", "multiclass"}
        "binary" when at most two distinct labels occur in ``y_true`` and ``y_pred`` together.
    labels : ndarray of shape (n_labels,)
        The sorted union of the labels.
    y_true, y_pred : ndarray of shape (n_samples,)
    """
    y_true = _column_or_1d(y_true, "y_true")
    y_pred = _column_or_1d(y_pred, "y_pred")
    _check_consistent_length(("y_true", y_true), ("y_pred", y_pred))
    if y_true.shape[0] == 0:
        raise NablanetError("Found empty input array (y_true, y_pred): at least 1 sample is needed")
    if _is_string_kind(y_true) != _is_string_kind(y_pred):
        raise NablanetError("Mix of label input types (string and number) in y_true and y_pred")
    _check_labels_array(y_true, "y_true")
    _check_labels_array(y_pred, "y_pred")
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


# --------------------------------------------------------------------------------------------
# classification
# --------------------------------------------------------------------------------------------


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
    _, _, y_true, y_pred = _check_targets(y_true, y_pred)
    correct = y_true == y_pred
    return float(np.mean(correct)) if normalize else float(np.sum(correct))


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


# --------------------------------------------------------------------------------------------
# ranking
# --------------------------------------------------------------------------------------------


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


# --------------------------------------------------------------------------------------------
# regression
# --------------------------------------------------------------------------------------------


def _check_reg_targets(y_true: Any, y_pred: Any) -> tuple[np.ndarray, np.ndarray]:
    """Both as float64 arrays of shape (n_samples, n_outputs)."""
    arrays = []
    for name, y in (("y_true", y_true), ("y_pred", y_pred)):
        y = np.asarray(y)
        if y.dtype.kind not in "fiub":
            raise NablanetError(f"{name} must be numeric, got dtype {y.dtype}")
        y = y.astype(np.float64, copy=False)
        if y.ndim == 1:
            y = y[:, None]
        if y.ndim != 2:
            raise NablanetError(
                f"{name} must have shape (n_samples,) or (n_samples, n_outputs), got {y.shape}"
            )
        if not np.all(np.isfinite(y)):
            raise NablanetError(f"{name} contains NaN or infinity")
        arrays.append(y)
    y_true, y_pred = arrays
    _check_consistent_length(("y_true", y_true), ("y_pred", y_pred))
    if y_true.shape[1] != y_pred.shape[1]:
        raise NablanetError(
            f"y_true and y_pred have different number of outputs ({y_true.shape[1]}!="
            f"{y_pred.shape[1]})"
        )
    if y_true.shape[0] == 0:
        raise NablanetError("Found empty input array: at least 1 sample is needed")
    return y_true, y_pred


def _multioutput(values: np.ndarray, multioutput: str) -> Any:
    if multioutput == "raw_values":
        return values
    if multioutput == "uniform_average":
        return float(np.mean(values))
    raise NablanetError(
        "The 'multioutput' parameter must be 'uniform_average' or 'raw_values'. Got "
        f"{multioutput!r} instead."
    )


def mean_squared_error(y_true: Any, y_pred: Any, *, multioutput: str = "uniform_average") -> Any:
    """Mean squared error.

    Parameters
    ----------
    y_true, y_pred : array-like of shape (n_samples,) or (n_samples, n_outputs)
    multioutput : {"uniform_average", "raw_values"}, default="uniform_average"
        Average the outputs' errors, or return one per output.

    Returns
    -------
    float, or ndarray of shape (n_outputs,) with ``"raw_values"``

    Examples
    --------
    >>> mean_squared_error([3.0, -0.5, 2.0, 7.0], [2.5, 0.0, 2.0, 8.0])
    0.375
    """
    y_true, y_pred = _check_reg_targets(y_true, y_pred)
    return _multioutput(np.mean((y_true - y_pred) ** 2, axis=0), multioutput)


def root_mean_squared_error(
    y_true: Any, y_pred: Any, *, multioutput: str = "uniform_average"
) -> Any:
    """Root mean squared error (per output, then averaged, as scikit-learn).

    Parameters
    ----------
    y_true, y_pred : array-like of shape (n_samples,) or (n_samples, n_outputs)
    multioutput : {"uniform_average", "raw_values"}, default="uniform_average"

    Returns
    -------
    float, or ndarray of shape (n_outputs,) with ``"raw_values"``

    Examples
    --------
    >>> root_mean_squared_error([1.0, 2.0], [1.0, 4.0])
    1.4142135623730951
    """
    y_true, y_pred = _check_reg_targets(y_true, y_pred)
    return _multioutput(np.sqrt(np.mean((y_true - y_pred) ** 2, axis=0)), multioutput)


def mean_absolute_error(y_true: Any, y_pred: Any, *, multioutput: str = "uniform_average") -> Any:
    """Mean absolute error.

    Parameters
    ----------
    y_true, y_pred : array-like of shape (n_samples,) or (n_samples, n_outputs)
    multioutput : {"uniform_average", "raw_values"}, default="uniform_average"

    Returns
    -------
    float, or ndarray of shape (n_outputs,) with ``"raw_values"``

    Examples
    --------
    >>> mean_absolute_error([3.0, -0.5, 2.0, 7.0], [2.5, 0.0, 2.0, 8.0])
    0.5
    """
    y_true, y_pred = _check_reg_targets(y_true, y_pred)
    return _multioutput(np.mean(np.abs(y_true - y_pred), axis=0), multioutput)


def r2_score(
    y_true: Any,
    y_pred: Any,
    *,
    multioutput: str = "uniform_average",
    force_finite: bool = True,
) -> Any:
    """Coefficient of determination R² = 1 - SS_res / SS_tot (1 is perfect, can be negative).

    Parameters
    ----------
    y_true, y_pred : array-like of shape (n_samples,) or (n_samples, n_outputs)
    multioutput : {"uniform_average", "raw_values"}, default="uniform_average"
    force_finite : bool, default=True
        For a constant ``y_true`` (SS_tot = 0) give 1.0 for a perfect prediction and 0.0
        otherwise, instead of NaN / -inf.

    Returns
    -------
    float, or ndarray of shape (n_outputs,) with ``"raw_values"``
        NaN (with an :class:`UndefinedMetricWarning`) for fewer than two samples.

    Examples
    --------
    >>> r2_score([3.0, -0.5, 2.0, 7.0], [2.5, 0.0, 2.0, 8.0])
    0.9486081370449679
    """
    y_true, y_pred = _check_reg_targets(y_true, y_pred)
    if y_true.shape[0] < 2:
        warnings.warn(
            "R^2 score is not well-defined with less than two samples.",
            UndefinedMetricWarning,
            stacklevel=2,
        )
        return math.nan
    numerator = np.sum((y_true - y_pred) ** 2, axis=0)
    denominator = np.sum((y_true - y_true.mean(axis=0)) ** 2, axis=0)
    if force_finite:
        scores = np.ones_like(numerator)
        valid = (denominator != 0) & (numerator != 0)
        scores[valid] = 1 - numerator[valid] / denominator[valid]
        scores[(numerator != 0) & (denominator == 0)] = 0.0
    else:
        with np.errstate(divide="ignore", invalid="ignore"):
            scores = 1 - numerator / denominator
    return _multioutput(scores, multioutput)


# --------------------------------------------------------------------------------------------
# reports
# --------------------------------------------------------------------------------------------


def _finite_or_none(value: float) -> float | None:
    value = float(value)
    return value if math.isfinite(value) else None


def _prf_from_cm(cm: np.ndarray) -> dict[str, np.ndarray]:
    """Per-class precision, recall, F1 and support from a confusion matrix (0 where undefined)."""
    tp = np.diag(cm).astype(np.float64)
    pred = cm.sum(axis=0).astype(np.float64)
    true = cm.sum(axis=1).astype(np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        precision = np.where(pred > 0, tp / pred, 0.0)
        recall = np.where(true > 0, tp / true, 0.0)
        f1 = np.where(pred + true > 0, 2 * tp / (pred + true), 0.0)
    return {"precision": precision, "recall": recall, "f1": f1, "support": true, "pred": pred}


def _weighted(values: np.ndarray, support: np.ndarray) -> float:
    return float(np.average(values, weights=support)) if support.sum() > 0 else 0.0


def _class_labels_from(y_true: Any, n_classes: int, task: str) -> np.ndarray:
    """Integer labels in ``[0, n_classes)`` from labels of shape (n,) / (n, 1) or one-hot (n, k)."""
    y = np.asarray(y_true)
    if y.ndim == 2 and y.shape[1] == n_classes and n_classes > 1:
        return np.argmax(y, axis=1)
    y = _column_or_1d(y, "y_true")
    if y.dtype.kind not in "fiub":
        raise NablanetError(
            f"classification_metrics: y_true must hold integer class indices, got dtype {y.dtype}"
        )
    _check_labels_array(y, "y_true")
    y = y.astype(np.int64)
    if y.size and (y.min() < 0 or y.max() >= n_classes):
        raise NablanetError(
            f"classification_metrics: {task} y_true must hold class indices in "
            f"[0, {n_classes - 1}], got values in [{y.min()}, {y.max()}]"
        )
    return y


def classification_metrics(
    y_true: Any,
    y_prob: Any,
    task: str = "binary",
    class_names: Sequence[str] | None = None,
    *,
    threshold: float = 0.5,
) -> dict[str, Any]:
    """All the usual classification numbers for a model's predicted probabilities.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,) or (n_samples, n_classes)
        Class indices (0/1 for binary), or one-hot rows.
    y_prob : array-like
        ``task="binary"``: shape (n_samples,) or (n_samples, 1), the probability of class 1
        (a sigmoid output), or (n_samples, 2) softmax probabilities. A sample is predicted 1 when
        its probability is ``> threshold``.
        ``task="multiclass"``: shape (n_samples, n_classes), softmax probabilities; the
        prediction is the argmax.
    task : {"binary", "multiclass"}, default="binary"
    class_names : sequence of str, default=None
        Names of the classes, in index order (default ``"0"``, ``"1"``, ...).
    threshold : float, default=0.5
        Binary decision threshold.

    Returns
    -------
    dict
        JSON-safe (plain Python numbers, lists, ``None`` where undefined; no NaN or infinity):

        - ``task``, ``n_samples``, ``n_classes``, ``class_names``;
        - ``accuracy``, ``log_loss``;
        - binary only: ``precision``, ``recall``, ``f1`` of class 1;
        - ``precision_macro``, ``recall_macro``, ``f1_macro``, ``precision_weighted``,
          ``recall_weighted``, ``f1_weighted``;
        - ``confusion_matrix``: nested list of int, ``[true][predicted]``;
        - ``per_class``: ``{name: {"precision", "recall", "f1", "support"}}``;
        - ``roc_auc``: binary AUC, or the macro one-vs-rest AUC for multiclass (over the classes
          present in ``y_true``); ``None`` when undefined (a single class in ``y_true``);
        - binary only: ``roc_curve``: ``{"fpr", "tpr", "thresholds"}`` lists (the first
          threshold, +inf, is written as ``None``), or ``None`` when undefined;
        - multiclass only: ``roc_auc_per_class``: ``{name: float or None}``.

        Every class index in ``[0, n_classes)`` counts in the macro and weighted averages, as
        scikit-learn's with ``labels=range(n_classes)``. An ill-defined precision (a class never
        predicted) or recall (a class absent from ``y_true``) is 0.0, and one
        :class:`UndefinedMetricWarning` per kind names the classes concerned.

    Examples
    --------
    >>> m = classification_metrics([0, 1, 1, 0], [0.2, 0.9, 0.4, 0.1], class_names=["no", "yes"])
    >>> m["accuracy"], m["recall"], m["roc_auc"], m["confusion_matrix"]
    (0.75, 0.5, 1.0, [[2, 0], [1, 1]])
    """
    if task not in ("binary", "multiclass"):
        raise NablanetError(
            f"The 'task' parameter of classification_metrics must be 'binary' or 'multiclass'. "
            f"Got {task!r} instead."
        )
    y_prob = _check_score(y_prob, "y_prob")
    lo, hi = (float(y_prob.min()), float(y_prob.max())) if y_prob.size else (0.0, 1.0)
    if lo < -1e-6 or hi > 1 + 1e-6:
        raise NablanetError(
            f"classification_metrics: y_prob must hold probabilities in [0, 1], got values in "
            f"[{lo:.4g}, {hi:.4g}]; apply sigmoid/softmax to the outputs first"
        )
    y_prob = np.clip(y_prob, 0.0, 1.0)
    if task == "binary":
        if y_prob.ndim == 2 and y_prob.shape[1] in (1, 2):
            p1 = y_prob[:, -1]
        elif y_prob.ndim == 1:
            p1 = y_prob
        else:
            raise NablanetError(
                "classification_metrics: binary y_prob must have shape (n_samples,), "
                f"(n_samples, 1) or (n_samples, 2), got {y_prob.shape}"
            )
        probs = np.stack([1.0 - p1, p1], axis=1)
        y_pred = (p1 > threshold).astype(np.int64)
    else:
        if y_prob.ndim != 2 or y_prob.shape[1] < 2:
            raise NablanetError(
                "classification_metrics: multiclass y_prob must have shape (n_samples, "
                f"n_classes) with n_classes >= 2, got {y_prob.shape}"
            )
        probs = y_prob
        y_pred = np.argmax(y_prob, axis=1)
    n, k = probs.shape
    if n == 0:
        raise NablanetError("classification_metrics: empty input, at least 1 sample is needed")
    y = _class_labels_from(y_true, k, task)
    if y.shape[0] != n:
        raise NablanetError(
            f"classification_metrics: y_true has {y.shape[0]} samples but y_prob has {n}"
        )
    if class_names is None:
        names = [str(i) for i in range(k)]
    else:
        names = [str(c) for c in class_names]
        if len(names) != k:
            raise NablanetError(
                f"classification_metrics: {len(names)} class_names given for {k} classes"
            )

    cm = np.bincount(y * k + y_pred, minlength=k * k).reshape(k, k)
    prf = _prf_from_cm(cm)
    never_predicted = [names[i] for i in np.flatnonzero(prf["pred"] == 0)]
    if never_predicted:
        warnings.warn(
            "Precision is ill-defined and being set to 0.0 for classes with no predicted "
            f"samples: {never_predicted}",
            UndefinedMetricWarning,
            stacklevel=2,
        )
    absent = [names[i] for i in np.flatnonzero(prf["support"] == 0)]
    if absent:
        warnings.warn(
            f"Recall is ill-defined and being set to 0.0 for classes absent from y_true: {absent}",
            UndefinedMetricWarning,
            stacklevel=2,
        )
    support = prf["support"]
    result: dict[str, Any] = {
        "task": task,
        "n_samples": int(n),
        "n_classes": int(k),
        "class_names": names,
        "accuracy": float(np.trace(cm) / n),
    }
    eps = np.finfo(np.float64).eps
    p_true = np.clip(probs[np.arange(n), y], eps, 1 - eps)
    result["log_loss"] = _finite_or_none(-np.mean(np.log(p_true)))
    if task == "binary":
        result["precision"] = float(prf["precision"][1])
        result["recall"] = float(prf["recall"][1])
        result["f1"] = float(prf["f1"][1])
    for name in ("precision", "recall", "f1"):
        result[f"{name}_macro"] = float(np.mean(prf[name]))
    for name in ("precision", "recall", "f1"):
        result[f"{name}_weighted"] = _weighted(prf[name], support)
    result["confusion_matrix"] = cm.tolist()
    result["per_class"] = {
        names[i]: {
            "precision": float(prf["precision"][i]),
            "recall": float(prf["recall"][i]),
            "f1": float(prf["f1"][i]),
            "support": int(support[i]),
        }
        for i in range(k)
    }

    onehot = y[:, None] == np.arange(k)[None, :]
    present = onehot.any(axis=0)
    if task == "binary":
        if present.all():
            fpr, tpr, thr = roc_curve(y, p1)
            result["roc_auc"] = auc(fpr, tpr)
            result["roc_curve"] = {
                "fpr": fpr.tolist(),
                "tpr": tpr.tolist(),
                "thresholds": [_finite_or_none(t) for t in thr],
            }
        else:
            warnings.warn(
                "Only one class is present in y_true. ROC AUC score is not defined in that case.",
                UndefinedMetricWarning,
                stacklevel=2,
            )
            result["roc_auc"] = None
            result["roc_curve"] = None
    else:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UndefinedMetricWarning)
            per_class = [
                _binary_auc(onehot[:, c], probs[:, c]) if present[c] else math.nan for c in range(k)
            ]
        defined = [a for a in per_class if math.isfinite(a)]
        if len(defined) < k:
            missing = [names[c] for c in range(k) if not math.isfinite(per_class[c])]
            warnings.warn(
                f"ROC AUC is undefined for classes absent from y_true: {missing}; the macro "
                "average is taken over the other classes",
                UndefinedMetricWarning,
                stacklevel=2,
            )
        result["roc_auc"] = float(np.mean(defined)) if defined else None
        result["roc_auc_per_class"] = {names[c]: _finite_or_none(per_class[c]) for c in range(k)}
    return result


def regression_metrics(y_true: Any, y_pred: Any) -> dict[str, Any]:
    """The usual regression numbers, averaged uniformly over outputs.

    Parameters
    ----------
    y_true, y_pred : array-like of shape (n_samples,) or (n_samples, n_outputs)

    Returns
    -------
    dict
        JSON-safe: ``task`` ("regression"), ``n_samples``, ``mse``, ``rmse``, ``mae``, ``r2``
        (``None`` for fewer than two samples).

    Examples
    --------
    >>> regression_metrics([3.0, -0.5, 2.0, 7.0], [2.5, 0.0, 2.0, 8.0])["mae"]
    0.5
    """
    y_true, y_pred = _check_reg_targets(y_true, y_pred)
    err = y_true - y_pred
    mse = np.mean(err**2, axis=0)
    result: dict[str, Any] = {
        "task": "regression",
        "n_samples": int(y_true.shape[0]),
        "mse": float(np.mean(mse)),
        "rmse": float(np.mean(np.sqrt(mse))),
        "mae": float(np.mean(np.abs(err))),
    }
    result["r2"] = _finite_or_none(r2_score(y_true, y_pred))
    return result
