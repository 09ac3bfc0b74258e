"""Image geometry shared by the convolution and pooling layers (NHWC).

Size arguments (``3`` or ``(2, 3)``), padding (``"same"``, ``"valid"`` or integers) and its
resolution to per-side zeros, output sizes, zero padding of a batch, and the one-line shape
errors. :mod:`.conv` and :mod:`.pooling` both import from here; nothing here knows a layer.
"""

from __future__ import annotations

import numbers
from collections.abc import Sequence
from typing import Any

import numpy as np

from .._validation import param_error
from ..errors import NablanetError
from ._parallel import for_each_block


def as_pair(value: int | Sequence[int], name: str, owner: str) -> tuple[int, int]:
    """``3 -> (3, 3)``, ``(2, 3) -> (2, 3)``; both must be positive integers."""
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        pair = (value, value)
    elif isinstance(value, (tuple, list)) and len(value) == 2:
        pair = tuple(value)
    else:
        raise param_error(owner, name, "a positive integer or a pair of them", value)
    for v in pair:
        if isinstance(v, bool) or not isinstance(v, numbers.Integral) or v <= 0:
            raise param_error(owner, name, "a positive integer or a pair of them", value)
    return int(pair[0]), int(pair[1])


def json_form(value: Any) -> Any:
    """A validated size argument as it goes into ``get_config``: the user's own form (an int, a
    string such as ``"same"``, or a list for a pair), so the config echoes the constructor."""
    if value is None or isinstance(value, numbers.Integral):
        return None if value is None else int(value)
    if isinstance(value, str):
        return value.lower()
    return [int(v) for v in value]


def normalize_padding(padding: Any, owner: str) -> Any:
    """``"same"``/``"valid"`` (lower-cased), or a pair of non-negative ints."""
    if isinstance(padding, str):
        p = padding.lower()
        if p not in ("same", "valid"):
            raise param_error(owner, "padding", "'same', 'valid' or non-negative integers", padding)
        return p
    if isinstance(padding, numbers.Integral) and not isinstance(padding, bool):
        pair = (padding, padding)
    elif isinstance(padding, (tuple, list)) and len(padding) == 2:
        pair = tuple(padding)
    else:
        raise param_error(owner, "padding", "'same', 'valid' or non-negative integers", padding)
    for v in pair:
        if isinstance(v, bool) or not isinstance(v, numbers.Integral) or v < 0:
            raise param_error(owner, "padding", "'same', 'valid' or non-negative integers", padding)
    return int(pair[0]), int(pair[1])


def resolve_padding(
    padding: Any, size: tuple[int, int], kernel: tuple[int, int], stride: tuple[int, int]
) -> tuple[int, int, int, int]:
    """``(top, bottom, left, right)`` zero padding for an image of spatial ``size``.

    ``"same"`` gives ``ceil(size / stride)`` outputs, the extra row/column (if any) going to the
    bottom/right as in TensorFlow and PyTorch.
    """
    if padding == "valid":
        return 0, 0, 0, 0
    if padding == "same":
        pads = []
        for n, k, s in zip(size, kernel, stride):
            out = -(-n // s)
            total = max((out - 1) * s + k - n, 0)
            pads += [total // 2, total - total // 2]
        return pads[0], pads[1], pads[2], pads[3]
    ph, pw = padding
    return ph, ph, pw, pw


def conv_output_size(n: int, k: int, s: int, pad_total: int) -> int:
    return (n + pad_total - k) // s + 1


def pad_nhwc(x: np.ndarray, pads: tuple[int, int, int, int]) -> np.ndarray:
    """Zero-pad the two spatial axes of ``x`` (n, h, w, c); no copy when nothing to pad."""
    top, bottom, left, right = pads
    if not (top or bottom or left or right):
        return x
    n, h, w, c = x.shape
    out = np.zeros((n, h + top + bottom, w + left + right, c), dtype=x.dtype)

    def block(a: int, b: int) -> None:
        out[a:b, top : top + h, left : left + w, :] = x[a:b]

    for_each_block(block, n, out.nbytes)
    return out


def check_image_batch(x: np.ndarray, owner: str, channels: int | None = None) -> None:
    """Raise a one-line error unless ``x`` is an NHWC batch (with ``channels`` channels)."""
    if x.ndim != 4 or (channels is not None and x.shape[3] != channels):
        c = "channels" if channels is None else channels
        hint = ""
        if x.ndim in (2, 3):
            hint = " (images must be (n_samples, height, width, channels), channels last)"
        elif x.ndim == 4 and channels is not None and x.shape[1] == channels:
            hint = (
                " (this looks channels first, NCHW; nablanet images are channels last, "
                "(n_samples, height, width, channels): use x.transpose(0, 2, 3, 1))"
            )
        raise NablanetError(
            f"{owner} expected input of shape (n_samples, height, width, {c}), "
            f"got array of shape {x.shape}{hint}"
        )


def check_image_shape(input_shape: tuple, owner: str, channels: int | None = None) -> None:
    if len(input_shape) != 3 or (channels is not None and input_shape[2] != channels):
        c = "channels" if channels is None else channels
        raise NablanetError(
            f"{owner} expected input of shape (height, width, {c}), got shape {tuple(input_shape)}"
        )
