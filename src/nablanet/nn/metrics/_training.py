"""The metrics logged during training: names for ``compile(metrics=[...])``, each one of the
public metric functions applied to what the model outputs.

A :class:`TrainingMetric` says how a batch of outputs becomes the ``y_pred`` of its metric
function (the argmax or a 0.5 threshold for ``accuracy``, the outputs themselves for ``mae``
and ``mse``); the trainer collects those over an epoch and calls the function once on all of
them, so the logged number *is* the metric of the epoch's predictions.

>>> metric = TRAINING_METRICS["accuracy"]
>>> y_true, y_pred = metric.prepare(np.array([0, 2, 1]), np.eye(3)[[0, 2, 2]])
>>> metric.score(y_true, y_pred)
0.6666666666666666
>>> check_training_metrics(None, "regression")
['mae']
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import numpy as np

from ..errors import NablanetError
from ._classification import accuracy_score
from ._regression import mean_absolute_error, mean_squared_error

__all__ = [
    "DEFAULT_TRAINING_METRICS",
    "TRAINING_METRICS",
    "TrainingMetric",
    "check_training_metrics",
]


@dataclass(frozen=True)
class TrainingMetric:
    """A metric the trainer logs.

    Attributes
    ----------
    name : str
        The name in ``compile(metrics=[...])`` and in the logs (``val_<name>``).
    task : {"classification", "regression"}
        The kind of loss it needs: ``"classification"`` metrics are refused with a regression
        loss (``Loss.task``).
    score : callable
        A public metric function ``score(y_true, y_pred) -> float`` over all the samples.
    prepare : callable
        ``prepare(y_true, outputs) -> (y_true, y_pred)``: one batch's targets (as the loss
        receives them) and outputs, in the form ``score`` takes, as new arrays (the batch and
        the outputs may live in buffers that the next batch overwrites).
    """

    name: str
    task: str
    score: Callable[[np.ndarray, np.ndarray], float]
    prepare: Callable[[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]


def _class_labels(y_true: np.ndarray, outputs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """True and predicted classes: the argmax of several outputs (integer labels or one-hot
    targets), or a 0.5 threshold on one sigmoid output."""
    n = outputs.shape[0]
    if outputs.ndim == 2 and outputs.shape[1] > 1:
        truth = y_true.copy() if y_true.ndim == 1 else y_true.argmax(axis=1)
        return truth, outputs.argmax(axis=1)
    return y_true.reshape(n) > 0.5, outputs.reshape(n) > 0.5


def _values(y_true: np.ndarray, outputs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return y_true.reshape(outputs.shape).copy(), outputs.copy()


def _nan_when_diverged(
    fn: Callable[[np.ndarray, np.ndarray], float],
) -> Callable[[np.ndarray, np.ndarray], float]:
    """``fn``, but NaN for non-finite outputs (a diverged epoch is logged, not an error: the
    public regression metrics reject NaN)."""

    def score(y_true: np.ndarray, y_pred: np.ndarray) -> float:
        if not np.isfinite(y_pred).all():
            return math.nan
        return float(fn(y_true, y_pred))

    score.__name__ = fn.__name__
    score.__doc__ = fn.__doc__
    return score


#: name -> metric, for ``Sequential.compile(metrics=[...])``
TRAINING_METRICS: dict[str, TrainingMetric] = {
    "accuracy": TrainingMetric("accuracy", "classification", accuracy_score, _class_labels),
    "mae": TrainingMetric("mae", "regression", _nan_when_diverged(mean_absolute_error), _values),
    "mse": TrainingMetric("mse", "regression", _nan_when_diverged(mean_squared_error), _values),
}

#: Keras' other names of the same metrics (logged under the name on the left of TRAINING_METRICS)
TRAINING_METRIC_ALIASES: dict[str, str] = {
    "acc": "accuracy",
    "categorical_accuracy": "accuracy",
    "sparse_categorical_accuracy": "accuracy",
    "binary_accuracy": "accuracy",
    "mean_absolute_error": "mae",
    "mean_squared_error": "mse",
}

#: the metric logged when ``compile`` is given none, by ``Loss.task``
DEFAULT_TRAINING_METRICS: dict[str, tuple[str, ...]] = {
    "classification": ("accuracy",),
    "regression": ("mae",),
}


def check_training_metrics(
    names: Iterable[str] | None, task: str, loss_name: str = ""
) -> list[str]:
    """The training metrics for a loss of ``task`` (its default ones when ``names`` is None).

    Raises
    ------
    NablanetError
        For an unknown name, or a classification metric with a regression loss.
    """
    if names is None:
        return list(DEFAULT_TRAINING_METRICS.get(task, ()))
    if isinstance(names, str):
        names = [names]  # metrics="accuracy"
    names = [TRAINING_METRIC_ALIASES.get(n, n) if isinstance(n, str) else n for n in names]
    known = tuple(TRAINING_METRICS)
    for name in names:
        metric = TRAINING_METRICS.get(name) if isinstance(name, str) else None
        if metric is None:
            raise NablanetError(f"Unknown training metric {name!r}; choose from {known}")
        if metric.task == "classification" and task == "regression":
            raise NablanetError(
                f"metric {name!r} needs a classification loss, not {loss_name or 'a regression loss'}"
            )
    return names
