"""One error-message template for bad arguments, in the style of scikit-learn.

>>> check_positive_int(3, "units", "Dense")
3
"""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np

from .errors import NablanetError


def param_error(owner: str, name: str, expected: str, got: Any) -> NablanetError:
    return NablanetError(
        f"The '{name}' parameter of {owner} must be {expected}. Got {got!r} instead."
    )


def check_positive_int(value: Any, name: str, owner: str) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value <= 0:
        raise param_error(owner, name, "a positive integer", value)
    return int(value)


def check_nonnegative_float(value: Any, name: str, owner: str) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not float(value) >= 0:
        raise param_error(owner, name, "a non-negative number", value)
    return float(value)


def check_positive_float(value: Any, name: str, owner: str) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not float(value) > 0:
        raise param_error(owner, name, "a positive number", value)
    return float(value)


def check_interval(
    value: Any, name: str, owner: str, low: float, high: float, closed: str = "left"
) -> float:
    """Check ``low <= value < high`` (``closed`` is "left", "right", "both" or "neither")."""
    ok_type = not isinstance(value, bool) and isinstance(value, numbers.Real)
    if ok_type:
        lo_ok = value >= low if closed in ("left", "both") else value > low
        hi_ok = value <= high if closed in ("right", "both") else value < high
    if not ok_type or not (lo_ok and hi_ok):
        lb = "[" if closed in ("left", "both") else "("
        rb = "]" if closed in ("right", "both") else ")"
        raise param_error(owner, name, f"a number in {lb}{low}, {high}{rb}", value)
    return float(value)


def check_dtype(dtype: Any, owner: str) -> np.dtype:
    try:
        dt = np.dtype(dtype)
    except TypeError:
        raise param_error(owner, "dtype", "'float32' or 'float64'", dtype) from None
    if dt not in (np.float32, np.float64):
        raise param_error(owner, "dtype", "'float32' or 'float64'", dtype)
    return dt
