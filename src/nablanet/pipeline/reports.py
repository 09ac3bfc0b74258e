"""Metric reports: the JSON-safe ``dict`` of a model's predictions that ``metrics.json``, the CLI
and the UI show, assembled from the public functions of :mod:`nablanet.nn.metrics`.

Nothing here computes a metric: each number is one call of a public function (with the class
indices ``0 .. n_classes - 1`` as labels, so that every class counts in the averages, as
scikit-learn's with ``labels=range(n_classes)``). What the report adds is the shape: plain
Python numbers and lists, ``None`` where a value is undefined (never NaN or infinity), class
names, and one warning per kind of ill-defined value naming the classes concerned.

``evaluation.metrics`` in a config keeps part of a report: :data:`CLASSIFICATION_REPORT_METRICS`
and :data:`REGRESSION_REPORT_METRICS` are the names it accepts (:func:`filter_report`).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np

from ..nn import metrics as nm
from .errors import PipelineError

__all__ = [
    "CLASSIFICATION_REPORT_METRICS",
    "REGRESSION_REPORT_METRICS",
    "classification_metrics",
    "filter_report",
    "regression_metrics",
]

#: names in ``evaluation.metrics`` for a classification / regression dataset
CLASSIFICATION_REPORT_METRICS = (
    "accuracy",
    "precision",
    "recall",
    "f1",
    "confusion_matrix",
    "roc_auc",
)
REGRESSION_REPORT_METRICS = ("mse", "rmse", "mae", "r2")

#: names in ``evaluation.metrics`` -> the report keys they keep
_REPORT_KEYS = {
    "accuracy": ("accuracy",),
    "precision": ("precision", "precision_macro", "precision_weighted", "per_class"),
    "recall": ("recall", "recall_macro", "recall_weighted", "per_class"),
    "f1": ("f1", "f1_macro", "f1_weighted", "per_class"),
    "confusion_matrix": ("confusion_matrix",),
    "roc_auc": ("roc_auc", "roc_curve", "roc_auc_per_class"),
    "mse": ("mse",),
    "rmse": ("rmse",),
    "mae": ("mae",),
    "r2": ("r2",),
}
_ALWAYS = ("task", "n_samples", "n_classes", "class_names", "loss", "log_loss", "source")


def filter_report(report: dict[str, Any], wanted: Sequence[str] | None) -> dict[str, Any]:
    """The keys of ``report`` that the metric names ``wanted`` ask for (all when None), plus
    the ones every report keeps (task, sizes, class names, loss, source).

    >>> filter_report({"task": "binary", "accuracy": 1.0, "roc_auc": 0.5}, ["accuracy"])
    {'task': 'binary', 'accuracy': 1.0}
    """
    if not wanted:
        return report
    keep = set(_ALWAYS)
    for name in wanted:
        keep.update(_REPORT_KEYS.get(name, (name,)))
    return {k: v for k, v in report.items() if k in keep}


def _finite_or_none(value: float) -> float | None:
    value = float(value)
    return value if math.isfinite(value) else None


def _class_labels_from(y_true: Any, n_classes: int, task: str) -> np.ndarray:
    """Integer labels in ``[0, n_classes)`` from labels of shape (n,) / (n, 1) or one-hot (n, k)."""
    y = np.asarray(y_true)
    if y.ndim == 2 and y.shape[1] == n_classes and n_classes > 1:
        return np.argmax(y, axis=1)
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    if y.ndim != 1:
        raise PipelineError(
            f"classification_metrics: y_true must be a 1-D array of shape (n_samples,), got "
            f"shape {y.shape}"
        )
    if y.dtype.kind not in "fiub":
        raise PipelineError(
            f"classification_metrics: y_true must hold integer class indices, got dtype {y.dtype}"
        )
    if y.dtype.kind == "f" and not (np.isfinite(y).all() and (y == np.round(y)).all()):
        raise PipelineError(
            "classification_metrics: y_true must hold class indices, got continuous values"
        )
    y = y.astype(np.int64)
    if y.size and (y.min() < 0 or y.max() >= n_classes):
        raise PipelineError(
            f"classification_metrics: {task} y_true must hold class indices in "
            f"[0, {n_classes - 1}], got values in [{y.min()}, {y.max()}]"
        )
    return y


def _probabilities(y_prob: Any, task: str, threshold: float) -> tuple[np.ndarray, np.ndarray]:
    """``(probs, y_pred)``: probabilities of shape (n, n_classes) in float64, and the predicted
    classes (``p1 > threshold`` for binary, the argmax for multiclass)."""
    y_prob = np.asarray(y_prob)
    if y_prob.dtype.kind not in "fiub":
        raise PipelineError(f"classification_metrics: y_prob must be numeric, got {y_prob.dtype}")
    y_prob = y_prob.astype(np.float64, copy=False)
    if not np.all(np.isfinite(y_prob)):
        raise PipelineError("classification_metrics: y_prob contains NaN or infinity")
    lo, hi = (float(y_prob.min()), float(y_prob.max())) if y_prob.size else (0.0, 1.0)
    if lo < -1e-6 or hi > 1 + 1e-6:
        raise PipelineError(
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
            raise PipelineError(
                "classification_metrics: binary y_prob must have shape (n_samples,), "
                f"(n_samples, 1) or (n_samples, 2), got {y_prob.shape}"
            )
        return np.stack([1.0 - p1, p1], axis=1), (p1 > threshold).astype(np.int64)
    if y_prob.ndim != 2 or y_prob.shape[1] < 2:
        raise PipelineError(
            "classification_metrics: multiclass y_prob must have shape (n_samples, "
            f"n_classes) with n_classes >= 2, got {y_prob.shape}"
        )
    return y_prob, np.argmax(y_prob, axis=1)


def _warn_for_classes(what: str, names: list[str]) -> None:
    """One warning naming all the classes concerned (the metric functions' own warnings do not
    know the class names)."""
    if names:
        warnings.warn(f"{what}: {names}", nm.UndefinedMetricWarning, stacklevel=3)


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
        - ``accuracy`` (:func:`~nablanet.nn.metrics.accuracy_score`), ``log_loss``
          (:func:`~nablanet.nn.metrics.log_loss`);
        - binary only: ``precision``, ``recall``, ``f1`` of class 1;
        - ``precision_macro``, ``recall_macro``, ``f1_macro``, ``precision_weighted``,
          ``recall_weighted``, ``f1_weighted``
          (:func:`~nablanet.nn.metrics.precision_recall_fscore_support`);
        - ``confusion_matrix``: nested list of int, ``[true][predicted]``;
        - ``per_class``: ``{name: {"precision", "recall", "f1", "support"}}``;
        - ``roc_auc``: binary AUC, or the macro one-vs-rest AUC for multiclass (over the classes
          present in ``y_true``); ``None`` when undefined (a single class in ``y_true``);
        - binary only: ``roc_curve``: ``{"fpr", "tpr", "thresholds"}`` lists (the first
          threshold, +inf, is written as ``None``), or ``None`` when undefined;
        - multiclass only: ``roc_auc_per_class``: ``{name: float or None}``.

        Every class index in ``[0, n_classes)`` counts in the macro and weighted averages. An
        ill-defined precision (a class never predicted) or recall (a class absent from
        ``y_true``) is 0.0, and one :class:`~nablanet.nn.metrics.UndefinedMetricWarning` per
        kind names the classes concerned.

    Examples
    --------
    >>> m = classification_metrics([0, 1, 1, 0], [0.2, 0.9, 0.4, 0.1], class_names=["no", "yes"])
    >>> m["accuracy"], m["recall"], m["roc_auc"], m["confusion_matrix"]
    (0.75, 0.5, 1.0, [[2, 0], [1, 1]])
    """
    if task not in ("binary", "multiclass"):
        raise PipelineError(
            f"The 'task' parameter of classification_metrics must be 'binary' or 'multiclass'. "
            f"Got {task!r} instead."
        )
    probs, y_pred = _probabilities(y_prob, task, threshold)
    n, k = probs.shape
    if n == 0:
        raise PipelineError("classification_metrics: empty input, at least 1 sample is needed")
    y = _class_labels_from(y_true, k, task)
    if y.shape[0] != n:
        raise PipelineError(
            f"classification_metrics: y_true has {y.shape[0]} samples but y_prob has {n}"
        )
    if class_names is None:
        names = [str(i) for i in range(k)]
    else:
        names = [str(c) for c in class_names]
        if len(names) != k:
            raise PipelineError(
                f"classification_metrics: {len(names)} class_names given for {k} classes"
            )
    labels = np.arange(k)

    cm = nm.confusion_matrix(y, y_pred, labels=labels)
    support = cm.sum(axis=1)
    _warn_for_classes(
        "Precision is ill-defined and being set to 0.0 for classes with no predicted samples",
        [names[i] for i in np.flatnonzero(cm.sum(axis=0) == 0)],
    )
    absent = [names[i] for i in np.flatnonzero(support == 0)]
    _warn_for_classes(
        "Recall is ill-defined and being set to 0.0 for classes absent from y_true", absent
    )

    def prf(average: str | None) -> tuple[Any, Any, Any, Any]:
        return nm.precision_recall_fscore_support(
            y, y_pred, labels=labels, average=average, zero_division=0.0
        )

    precision, recall, f1, _ = prf(None)
    result: dict[str, Any] = {
        "task": task,
        "n_samples": int(n),
        "n_classes": int(k),
        "class_names": names,
        "accuracy": nm.accuracy_score(y, y_pred),
    }
    with warnings.catch_warnings():
        # float32 softmax outputs sum to one within float32 rounding, not float64's
        warnings.filterwarnings("ignore", "The y_prob values do not sum to one", UserWarning)
        result["log_loss"] = _finite_or_none(nm.log_loss(y, probs, labels=labels))
    if task == "binary":
        result["precision"] = float(precision[1])
        result["recall"] = float(recall[1])
        result["f1"] = float(f1[1])
    for average in ("macro", "weighted"):
        p, r, f, _ = prf(average)
        result[f"precision_{average}"] = float(p)
        result[f"recall_{average}"] = float(r)
        result[f"f1_{average}"] = float(f)
    result["confusion_matrix"] = cm.tolist()
    result["per_class"] = {
        names[i]: {
            "precision": float(precision[i]),
            "recall": float(recall[i]),
            "f1": float(f1[i]),
            "support": int(support[i]),
        }
        for i in range(k)
    }

    if task == "binary":
        if absent:  # one class only: roc_auc_score warns that the AUC is undefined
            result["roc_auc"] = _finite_or_none(nm.roc_auc_score(y, probs[:, 1]))
            result["roc_curve"] = None
        else:
            fpr, tpr, thresholds = nm.roc_curve(y, probs[:, 1])
            result["roc_auc"] = nm.auc(fpr, tpr)
            result["roc_curve"] = {
                "fpr": fpr.tolist(),
                "tpr": tpr.tolist(),
                "thresholds": [_finite_or_none(t) for t in thresholds],
            }
        return result
    with warnings.catch_warnings():
        # the classes without an AUC are named in one warning below, not one warning each
        warnings.simplefilter("ignore", nm.UndefinedMetricWarning)
        per_class = [nm.roc_auc_score(y == c, probs[:, c]) for c in range(k)]  # one vs rest
    defined = [a for a in per_class if math.isfinite(a)]
    if len(defined) < k:
        missing = [names[c] for c in range(k) if not math.isfinite(per_class[c])]
        warnings.warn(
            f"ROC AUC is undefined for classes absent from y_true: {missing}; the macro "
            "average is taken over the other classes",
            nm.UndefinedMetricWarning,
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
        (``None`` for fewer than two samples), from
        :func:`~nablanet.nn.metrics.mean_squared_error`,
        :func:`~nablanet.nn.metrics.root_mean_squared_error`,
        :func:`~nablanet.nn.metrics.mean_absolute_error` and
        :func:`~nablanet.nn.metrics.r2_score`.

    Examples
    --------
    >>> regression_metrics([3.0, -0.5, 2.0, 7.0], [2.5, 0.0, 2.0, 8.0])["mae"]
    0.5
    """
    mse = nm.mean_squared_error(y_true, y_pred)  # checks the shapes first
    return {
        "task": "regression",
        "n_samples": int(np.shape(y_true)[0]),
        "mse": mse,
        "rmse": nm.root_mean_squared_error(y_true, y_pred),
        "mae": nm.mean_absolute_error(y_true, y_pred),
        "r2": _finite_or_none(nm.r2_score(y_true, y_pred)),
    }
