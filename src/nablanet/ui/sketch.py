"""Turn a drawing or an uploaded picture of a digit into a model input, the way MNIST was made.

MNIST digits are white ink on black, scaled so the longer side of the ink's bounding box is 20
pixels (aspect ratio kept), then placed in a 28x28 frame with their centre of mass at the centre.
scikit-learn's 8x8 digits fill their whole frame instead, centred by the bounding box. The
functions here reproduce both rules for any drawing:

1. :func:`ink_image` reads the picture (a ``gr.Sketchpad`` value, an array or a PIL image) as
   *ink* in [0, 1]: dark pixels of the composite image on its opaque white background are ink.
   Transparent pixels count as white paper. An uploaded picture with a dark background (already
   white on black, like MNIST itself) is read the other way round.
2. :func:`preprocess_digit` crops the ink, thickens strokes that are much thinner than MNIST's
   (a fine pen on a big canvas would otherwise vanish at 28x28), scales, centres and returns a
   ``float32`` image in [0, 1].

>>> import numpy as np
>>> canvas = np.full((280, 280, 3), 255, np.uint8)      # white paper
>>> canvas[60:220, 130:150] = 0                          # a black "1"
>>> digit = preprocess_digit(canvas)
>>> digit.shape, digit.dtype, float(digit.max())
((28, 28), dtype('float32'), 1.0)
>>> [int(v) for v in np.round(center_of_mass(digit))]
[14, 14]
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

import numpy as np

from .errors import UIError

#: a pixel counts as ink (for the bounding box and the empty check) above this ink level
INK_THRESHOLD = 0.35
#: MNIST's median stroke width is about 0.13 of the bounding box's longer side
TARGET_STROKE_RATIO = 0.13
#: strokes thinner than this fraction of the longer side get thickened
MIN_STROKE_RATIO = 0.09
#: working resolution (longer side, pixels) for measuring and thickening strokes
_WORK_SIDE = 112


def _pil_image():
    from PIL import Image

    return Image


def ink_image(image: Any, invert: bool | None = None) -> np.ndarray:
    """The ink of a picture: 1 where it is drawn, 0 on the paper.

    Parameters
    ----------
    image : dict, ndarray or PIL.Image
        A ``gr.Sketchpad`` / ``gr.ImageEditor`` value (its ``"composite"`` is read), an array of
        shape (H, W), (H, W, 1), (H, W, 3) or (H, W, 4) holding ``uint8`` 0..255 or floats in
        [0, 1], or a PIL image. Alpha is composited over white paper.
    invert : bool, optional
        None (default) looks at the border of the picture: a dark border means white ink on a
        dark background (read as is), otherwise dark ink on white paper (inverted). True forces
        dark-on-white reading; False forces white-on-dark.

    Returns
    -------
    ndarray of shape (H, W), float32 in [0, 1]

    Raises
    ------
    UIError
        When there is no picture or it is not an image.
    """
    if isinstance(image, Mapping):
        image = image.get("composite")
    if image is None:
        raise UIError("No image: draw a digit on the sketchpad or upload a picture first.")
    if not isinstance(image, np.ndarray):
        Image = _pil_image()
        if isinstance(image, Image.Image):
            image = np.asarray(image.convert("RGBA"))
        else:
            raise UIError(f"Expected an image, got {type(image).__name__}.")
    arr = np.asarray(image)
    if arr.ndim == 3 and arr.shape[2] == 1:
        arr = arr[:, :, 0]
    if arr.ndim not in (2, 3) or (arr.ndim == 3 and arr.shape[2] not in (3, 4)) or arr.size == 0:
        raise UIError(f"Expected an image of shape (H, W) or (H, W, 3|4), got {arr.shape}.")
    if arr.dtype.kind not in "biuf":
        raise UIError(f"Expected an image of numbers, got dtype {arr.dtype}.")
    arr = arr.astype(np.float32)
    if arr.max(initial=0.0) > 1.0:
        arr = arr / 255.0
    arr = np.clip(arr, 0.0, 1.0)
    if arr.ndim == 2:
        lum = arr
    else:
        rgb = arr[:, :, :3]
        lum = rgb @ np.array([0.299, 0.587, 0.114], np.float32)
        if arr.shape[2] == 4:  # transparent pixels are white paper
            alpha = arr[:, :, 3]
            lum = lum * alpha + (1.0 - alpha)
    if invert is None:
        border = np.concatenate([lum[0], lum[-1], lum[:, 0], lum[:, -1]])
        invert = float(np.median(border)) >= 0.5
    ink = 1.0 - lum if invert else lum
    return np.ascontiguousarray(ink, dtype=np.float32)


#: what :func:`read_picture` opens
PICTURE_TYPES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp", ".tif", ".tiff")


def read_picture(path: str | Path) -> np.ndarray:
    """The pixels of an uploaded picture file, as an RGBA ``uint8`` array of shape (H, W, 4).

    The page hands uploads over as file paths and this opens them, so a file that is not a
    picture (a text file named ``.png``) gets a message naming it rather than Gradio's.

    Raises
    ------
    UIError
        When the file cannot be read as a picture (the message names the file, not its path).
    """
    path = Path(path)
    Image = _pil_image()
    try:
        with Image.open(path) as im:
            im.load()
            return np.asarray(im.convert("RGBA"))
    except (OSError, ValueError, Image.DecompressionBombError):
        raise UIError(
            f"{path.name}: not a picture that can be read; upload a PNG or JPEG of a digit."
        ) from None


def center_of_mass(image: np.ndarray) -> tuple[float, float]:
    """(row, column) of the centre of mass of a non-negative 2-D image (its centre if empty)."""
    total = float(image.sum())
    h, w = image.shape
    if total <= 0:
        return ((h - 1) / 2, (w - 1) / 2)
    rows = np.arange(h, dtype=np.float64)
    cols = np.arange(w, dtype=np.float64)
    return (float(image.sum(axis=1) @ rows) / total, float(image.sum(axis=0) @ cols) / total)


def _resize(image: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Area-averaging (downscale) or bilinear (upscale) resize of a float image to (H, W)."""
    Image = _pil_image()
    h, w = size
    pil = Image.fromarray(np.ascontiguousarray(image, dtype=np.float32))
    shrinking = h <= image.shape[0] and w <= image.shape[1]
    method = Image.Resampling.BOX if shrinking else Image.Resampling.BILINEAR
    return np.asarray(pil.resize((w, h), method), dtype=np.float32)


def _max_filter(image: np.ndarray, size: int) -> np.ndarray:
    """Grey-level dilation with a square ``size`` x ``size`` window (separable)."""
    if size <= 1:
        return image
    before = size // 2
    after = size - 1 - before
    out = image
    for axis in (0, 1):
        pad = [(0, 0), (0, 0)]
        pad[axis] = (before, after)
        padded = np.pad(out, pad)
        n = out.shape[axis]
        windows = [np.take(padded, np.arange(k, k + n), axis=axis) for k in range(size)]
        out = np.maximum.reduce(windows)
    return out


def stroke_width(mask: np.ndarray) -> float:
    """Mean stroke width of a binary drawing, ``2 * area / boundary length`` in pixels.

    A stroke of length L and width w has area ~ L*w and a boundary of ~ 2L pixels.
    """
    mask = np.asarray(mask, dtype=bool)
    area = int(mask.sum())
    if area == 0:
        return 0.0
    padded = np.pad(mask, 1)
    interior = (
        padded[1:-1, 1:-1]
        & padded[:-2, 1:-1]
        & padded[2:, 1:-1]
        & padded[1:-1, :-2]
        & padded[1:-1, 2:]
    )
    boundary = int((mask & ~interior).sum())
    return 2.0 * area / max(boundary, 1)


def preprocess_digit(
    image: Any,
    size: tuple[int, int] = (28, 28),
    box: int | None = 20,
    center: Literal["mass", "box"] = "mass",
    invert: bool | None = None,
    thicken: bool = True,
) -> np.ndarray:
    """A drawing of a digit as an MNIST-like image.

    Parameters
    ----------
    image : dict, ndarray or PIL.Image
        See :func:`ink_image`.
    size : (int, int)
        Output (height, width): (28, 28) for MNIST and Fashion-MNIST, (8, 8) for digits.
    box : int, optional
        Longer side of the scaled ink bounding box, in output pixels (MNIST: 20). None fills the
        frame (scikit-learn's digits).
    center : {"mass", "box"}
        Put the centre of mass (MNIST) or the centre of the bounding box at the frame's centre.
    invert : bool, optional
        See :func:`ink_image`.
    thicken : bool
        Thicken strokes thinner than ``MIN_STROKE_RATIO`` of the drawing's size.

    Returns
    -------
    ndarray of shape size, float32 in [0, 1]
        White ink (1) on black (0), the brightest pixel at 1.

    Raises
    ------
    UIError
        When the picture is empty (no dark pixels) or not an image.
    """
    ink = ink_image(image, invert=invert)
    mask = ink > INK_THRESHOLD
    if not mask.any():
        raise UIError("The sketch is empty: draw a digit (dark strokes) first.")
    rows = np.flatnonzero(mask.any(axis=1))
    cols = np.flatnonzero(mask.any(axis=0))
    crop = ink[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]

    # Work at a fixed resolution: measure the stroke and thicken it if it is too thin.
    h, w = crop.shape
    scale = _WORK_SIDE / max(h, w)
    work_size = (max(1, round(h * scale)), max(1, round(w * scale)))
    work = np.clip(_resize(crop, work_size), 0.0, 1.0)
    if thicken:
        width = stroke_width(work > 0.5) if (work > 0.5).any() else 0.0
        if width < MIN_STROKE_RATIO * _WORK_SIDE:
            grow = round(TARGET_STROKE_RATIO * _WORK_SIDE - width)
            work = _max_filter(work, 1 + max(0, grow))

    out_h, out_w = size
    side = min(out_h, out_w) if box is None else box
    if box is not None and not 0 < box <= min(out_h, out_w):
        raise UIError(f"box must be in 1..{min(out_h, out_w)}, got {box}")
    wh, ww = work.shape
    fit = side / max(wh, ww)
    new_h = min(out_h, max(1, round(wh * fit)))
    new_w = min(out_w, max(1, round(ww * fit)))
    small = np.clip(_resize(work, (new_h, new_w)), 0.0, 1.0)

    frame = np.zeros((out_h, out_w), np.float32)
    if center == "mass":
        cy, cx = center_of_mass(small)
        top = round((out_h - 1) / 2 - cy)
        left = round((out_w - 1) / 2 - cx)
    else:
        top = (out_h - new_h) // 2
        left = (out_w - new_w) // 2
    top = int(np.clip(top, 0, out_h - new_h))
    left = int(np.clip(left, 0, out_w - new_w))
    frame[top : top + new_h, left : left + new_w] = small
    peak = float(frame.max())
    if peak > 0:
        frame /= peak
    return frame


def preprocess_for_shape(image: Any, input_shape: tuple[int, ...]) -> np.ndarray:
    """A drawing as one model input of ``input_shape`` (H, W) or (H, W, C), values in [0, 1].

    28x28 inputs follow MNIST's rule (20-pixel box, centre of mass); small inputs of at most
    16 pixels (scikit-learn's 8x8 digits) fill the frame, centred by the bounding box; other
    sizes keep MNIST's proportions. Colour channels repeat the grey image.

    Returns
    -------
    ndarray of shape (1, *input_shape), float32
    """
    shape = tuple(int(s) for s in input_shape)
    if len(shape) not in (2, 3) or (len(shape) == 3 and shape[2] not in (1, 3)):
        raise UIError(f"This model does not take images (its input shape is {shape}).")
    h, w = shape[0], shape[1]
    if max(h, w) <= 16:
        digit = preprocess_digit(image, (h, w), box=None, center="box")
    else:
        digit = preprocess_digit(image, (h, w), box=max(1, round(min(h, w) * 20 / 28)))
    if len(shape) == 3:
        digit = np.repeat(digit[:, :, None], shape[2], axis=2)
    return digit[None].astype(np.float32)


def ink_to_raw(
    ink: np.ndarray,
    value_range: tuple[float, float] | None = None,
    background: str | None = "dark",
) -> np.ndarray:
    """Ink in [0, 1] as raw pixels like the training images: ``value_range`` (default 0..255),
    white ink on black when the training images have a ``"dark"`` background (MNIST), black ink
    on white when ``"light"``.

    >>> ink_to_raw(np.array([0.0, 1.0]), (0.0, 16.0)).tolist()
    [0.0, 16.0]
    >>> ink_to_raw(np.array([0.0, 1.0]), None, "light").tolist()
    [255.0, 0.0]
    """
    lo, hi = value_range if value_range is not None else (0.0, 255.0)
    level = 1.0 - ink if background == "light" else ink
    return (lo + level * (hi - lo)).astype(np.float32)
