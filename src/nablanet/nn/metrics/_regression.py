"""Regression metrics: errors of predicted values, per output and averaged."""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np

from ..errors import NablanetError
from ._checks import UndefinedMetricWarning, _check_consistent_length

__all__ = ["mean_absolute_error", "mean_squared_error", "r2_score", "root_mean_squared_error"]


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
