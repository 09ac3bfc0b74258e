"""Validation of training targets against the loss, before any batch runs.

The counterpart of scikit-learn's ``check_classification_targets``: a classification loss given
targets it cannot mean (labels {0, 1, 2} to ``binary_crossentropy``, continuous values to a
softmax head, a label past the last output) is refused with one line that says what was given
and what to use instead, rather than training on nonsense or failing inside a batch.

>>> from nablanet.nn.losses import BinaryCrossentropy, CategoricalCrossentropy, MeanSquaredError
>>> check_targets(np.array([0, 1, 1]), BinaryCrossentropy()).tolist()
[0, 1, 1]
>>> check_targets(np.array([0.0, 2.0]), CategoricalCrossentropy(), n_outputs=3).tolist()
[0, 2]
>>> check_targets(np.array([0, 1, 2]), BinaryCrossentropy())
Traceback (most recent call last):
...
nablanet.nn.errors.NablanetError: binary_crossentropy needs targets in {0, 1} (or probabilities in [0, 1]), got 3 distinct values in [0, 2]: for 3 classes use a softmax output of 3 units with loss='sparse_categorical_crossentropy'
"""

from __future__ import annotations

from typing import Any

import numpy as np

from . import losses as losses_mod
from .errors import NablanetError

__all__ = ["check_targets", "type_of_target"]

#: losses that take class labels (or one-hot rows) for a softmax output
CATEGORICAL_LOSSES = (losses_mod.CategoricalCrossentropy, losses_mod.SoftmaxCrossentropy)
#: losses that take 0/1 targets (or probabilities) for a sigmoid output
BINARY_LOSSES = (losses_mod.BinaryCrossentropy, losses_mod.SigmoidBinaryCrossentropy)


def type_of_target(y: np.ndarray) -> str:
    """``"binary"``, ``"multiclass"``, ``"continuous"``, ``"multilabel-indicator"`` (0/1
    columns), ``"continuous-multioutput"`` or ``"unknown"``: scikit-learn's names.

    >>> type_of_target(np.array([0, 1])), type_of_target(np.array([1.0, 3.0, 2.0]))
    ('binary', 'multiclass')
    >>> type_of_target(np.array([0.5, 1.2])), type_of_target(np.eye(3))
    ('continuous', 'multilabel-indicator')
    """
    y = np.asarray(y)
    if y.dtype.kind not in "biuf" or y.ndim == 0 or y.ndim > 2:
        return "unknown"
    if y.ndim == 2 and y.shape[1] > 1:
        if y.dtype.kind == "f" and not _whole(y):
            return "continuous-multioutput"
        return "multilabel-indicator" if np.isin(y, (0, 1)).all() else "multiclass-multioutput"
    y = y.reshape(-1)
    if y.dtype.kind == "f" and not _whole(y):
        return "continuous"
    return "binary" if len(np.unique(y)) <= 2 else "multiclass"


def _whole(y: np.ndarray) -> bool:
    return bool(np.all(np.isfinite(y)) and np.all(np.mod(y, 1) == 0))


def _sample(values: np.ndarray) -> str:
    return ", ".join(f"{v:g}" for v in values[:3])


def check_targets(y: Any, loss: Any, n_outputs: int | None = None) -> np.ndarray:
    """``y`` checked against ``loss`` (and the model's ``n_outputs``, when known).

    Class labels (categorical losses) come back as integers (whole-number floats such as
    ``2.0`` are labels, as in scikit-learn; ``0.37`` is a regression target and refused);
    other targets come back unchanged. Raises :class:`~nablanet.nn.NablanetError` with one line.
    """
    y = np.asarray(y)
    if y.dtype.kind not in "biuf":
        what = (
            "class labels must be integers"
            if isinstance(loss, CATEGORICAL_LOSSES)
            else ("targets must be numeric")
        )
        raise NablanetError(f"{what}, got dtype {y.dtype}")
    if isinstance(loss, CATEGORICAL_LOSSES):
        return _check_categorical(y, loss, n_outputs)
    if isinstance(loss, BINARY_LOSSES):
        _check_binary(y, loss, n_outputs)
    return y


def _check_categorical(y: np.ndarray, loss: Any, n_outputs: int | None) -> np.ndarray:
    name = "categorical_crossentropy"
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]  # a column of labels, not one-hot
    if y.ndim == 2:  # one-hot (or soft) rows
        if n_outputs is not None and y.shape[1] != n_outputs:
            raise NablanetError(
                f"{name}: one-hot targets have {y.shape[1]} columns but the model has "
                f"{n_outputs} outputs"
            )
        if y.size and (not np.all(np.isfinite(y)) or y.min() < 0 or y.max() > 1):
            raise NablanetError(
                f"{name}: one-hot targets must lie in [0, 1], got values in "
                f"[{y.min():g}, {y.max():g}]: this looks like a regression target; use "
                "loss='mse' with a linear output"
            )
        return y
    if y.ndim != 1:
        raise NablanetError(
            f"{name}: class labels must have shape (n_samples,) or one-hot (n_samples, "
            f"n_classes), got shape {y.shape}"
        )
    if y.dtype.kind == "f":
        if not _whole(y):
            odd = y[~(np.isfinite(y) & (np.mod(y, 1) == 0))]
            raise NablanetError(
                f"{name}: class labels must be whole numbers, got {len(odd)} values such as "
                f"{_sample(odd)}: this looks like a regression target (continuous values); "
                "use loss='mse' and a linear output, not a softmax head"
            )
        y = y.astype(np.intp)
    if y.size:
        low, high = int(y.min()), int(y.max())
        if low < 0:
            raise NablanetError(f"{name}: class labels must be >= 0, got {low}")
        if n_outputs is not None and high >= n_outputs:
            if n_outputs == 1:
                hint = (
                    "a one-output model is binary: use a sigmoid output with "
                    "loss='binary_crossentropy'"
                )
            else:
                hint = f"the output layer needs {high + 1} units"
            raise NablanetError(
                f"{name}: class labels must lie in [0, {n_outputs - 1}] for a model with "
                f"{n_outputs} outputs, got labels up to {high}: {hint}"
            )
    return y


def _check_binary(y: np.ndarray, loss: Any, n_outputs: int | None) -> None:
    name = "binary_crossentropy"
    if not y.size:
        return
    if y.dtype.kind == "b":
        return
    if not np.all(np.isfinite(y)) or y.min() < 0 or y.max() > 1:
        values = np.unique(y[np.isfinite(y)]) if y.dtype.kind == "f" else np.unique(y)
        classes = len(values)
        if y.dtype.kind in "iu" or _whole(y):
            hint = (
                f": for {classes} classes use a softmax output of {classes} units with "
                "loss='sparse_categorical_crossentropy'"
                if classes > 2 and values.min() >= 0
                else ": binary labels are 0 and 1 (map yours to them)"
            )
        else:
            hint = ": this looks like a regression target; use loss='mse' and a linear output"
        raise NablanetError(
            f"{name} needs targets in {{0, 1}} (or probabilities in [0, 1]), got "
            f"{classes} distinct values in [{values.min():g}, {values.max():g}]{hint}"
        )
