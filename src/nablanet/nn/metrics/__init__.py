"""Evaluation metrics: pure functions of arrays, with scikit-learn's names and semantics.

The package is split like ``sklearn.metrics``, one family per module; import the functions
from here (``from nablanet.nn.metrics import f1_score``).

Classification (``_classification``, ``_confusion``)
    :func:`accuracy_score`, :func:`confusion_matrix`, :func:`precision_recall_fscore_support`,
    :func:`precision_score`, :func:`recall_score`, :func:`f1_score`,
    :func:`classification_report` (the ``output_dict=True`` form), :func:`log_loss`.
Ranking (``_ranking``)
    :func:`roc_curve`, :func:`auc`, :func:`roc_auc_score` (binary, or multiclass one-vs-rest).
Regression (``_regression``)
    :func:`mean_squared_error`, :func:`root_mean_squared_error`, :func:`mean_absolute_error`,
    :func:`r2_score`.
Training (``_training``)
    :data:`TRAINING_METRICS`: the names ``Sequential.compile(metrics=[...])`` accepts
    (``accuracy``, ``mae``, ``mse``), each one of the functions above.

The reports the pipeline writes (``metrics.json``) are assembled from these functions in
:mod:`nablanet.pipeline.reports`.

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

import numpy as np  # noqa: F401  (the examples above use it)

from ._checks import UndefinedMetricWarning
from ._classification import (
    accuracy_score,
    classification_report,
    f1_score,
    log_loss,
    precision_recall_fscore_support,
    precision_score,
    recall_score,
)
from ._confusion import confusion_matrix
from ._ranking import auc, roc_auc_score, roc_curve
from ._regression import (
    mean_absolute_error,
    mean_squared_error,
    r2_score,
    root_mean_squared_error,
)
from ._training import (
    DEFAULT_TRAINING_METRICS,
    TRAINING_METRICS,
    TrainingMetric,
    check_training_metrics,
)

__all__ = [
    "DEFAULT_TRAINING_METRICS",
    "TRAINING_METRICS",
    "TrainingMetric",
    "UndefinedMetricWarning",
    "accuracy_score",
    "auc",
    "check_training_metrics",
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
    "roc_auc_score",
    "roc_curve",
    "root_mean_squared_error",
]
