"""One preprocessing path for pictures: a user's image (a file, a PIL image, an array, a drawing)
becomes one raw sample of what a model was trained on. ``nablanet predict``, the UI's Predict
tab and the Python API (:func:`nablanet.pipeline.predict` on an image) all call
:func:`image_to_sample`, so the same picture gets the same answer everywhere.

Two kinds of models, told apart by their training images (``image_style`` in the model file):

- ``"digits"``: grey images of a figure on a uniform background (MNIST, Fashion-MNIST,
  scikit-learn's digits). A picture is read as *ink* and reframed the way MNIST was made: the
  longer side of the ink's bounding box scaled to 20 of 28 pixels (aspect kept), the centre of
  mass at the centre (:func:`preprocess_digit`); 8x8 digits fill their frame. Then the ink is
  written in the training images' pixel range and background (white on black for MNIST).
- ``"photo"``: anything else (CIFAR-10, colour image folders). The picture is converted to the
  model's colour mode (colour to grey or grey to RGB, with a note), resized to the model's
  size with the same bilinear filter the image-folder loader uses (the whole picture, aspect
  not kept, as the training images were), and mapped to the training pixel range.

Every conversion is reported in :attr:`ImageSample.notes` (the CLI logs them, the UI shows
them).

>>> import numpy as np
>>> canvas = np.full((280, 280, 3), 255, np.uint8)      # white paper
>>> canvas[60:220, 130:150] = 0                          # a black "1"
>>> digit = preprocess_digit(canvas)
>>> digit.shape, digit.dtype, float(digit.max())
((28, 28), dtype('float32'), 1.0)
>>> [int(v) for v in np.round(center_of_mass(digit))]
[14, 14]
>>> photo = np.zeros((48, 64, 3), np.uint8); photo[..., 0] = 200
>>> s = image_to_sample(photo, ImageSpec((32, 32, 3)))
>>> s.x.shape, s.style, s.notes
((32, 32, 3), 'photo', ['resized 64x48 -> 32x32'])
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np

from ..data.formats.images import GREY_MODES, convert_mode
from ..data.limits import open_image
from .errors import InputError

__all__ = [
    "ImageSample",
    "ImageSpec",
    "center_of_mass",
    "image_to_sample",
    "ink_image",
    "ink_to_raw",
    "preprocess_digit",
    "preprocess_for_shape",
]


def _pil_image() -> Any:
    from PIL import Image

    return Image


#: a pixel counts as ink (for the bounding box and the empty check) above this ink level
INK_THRESHOLD = 0.35
#: MNIST's median stroke width is about 0.13 of the bounding box's longer side
TARGET_STROKE_RATIO = 0.13
#: strokes thinner than this fraction of the longer side get thickened
MIN_STROKE_RATIO = 0.09
#: working resolution (longer side, pixels) for measuring and thickening strokes
_WORK_SIDE = 112


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
    InputError
        When there is no picture or it is not an image.
    """
    if isinstance(image, Mapping):
        image = image.get("composite")
    if image is None:
        raise InputError("No image: draw a digit on the sketchpad or upload a picture first.")
    if not isinstance(image, np.ndarray):
        Image = _pil_image()
        if isinstance(image, Image.Image):
            image = np.asarray(image.convert("RGBA"))
        else:
            raise InputError(f"Expected an image, got {type(image).__name__}.")
    arr = np.asarray(image)
    if arr.ndim == 3 and arr.shape[2] == 1:
        arr = arr[:, :, 0]
    if arr.ndim not in (2, 3) or (arr.ndim == 3 and arr.shape[2] not in (3, 4)) or arr.size == 0:
        raise InputError(f"Expected an image of shape (H, W) or (H, W, 3|4), got {arr.shape}.")
    if arr.dtype.kind not in "biuf":
        raise InputError(f"Expected an image of numbers, got dtype {arr.dtype}.")
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
    InputError
        When the picture is empty (no dark pixels) or not an image.
    """
    ink = ink_image(image, invert=invert)
    mask = ink > INK_THRESHOLD
    if not mask.any():
        raise InputError("The sketch is empty: draw a digit (dark strokes) first.")
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
        raise InputError(f"box must be in 1..{min(out_h, out_w)}, got {box}")
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
        raise InputError(f"This model does not take images (its input shape is {shape}).")
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


# -- the one path: any picture -> one raw sample of the model ----------------------------------


@dataclass(frozen=True)
class ImageSpec:
    """What a model was trained on, as far as turning a picture into its input goes.

    Parameters
    ----------
    input_shape : (height, width, channels)
    value_range : (low, high)
        The training images' raw pixel range (255 for most; 16 for scikit-learn's digits).
    background : {"dark", "light"} or None
        The training images' background (MNIST: dark).
    style : {"digits", "photo"} or None
        See the module docstring; None chooses ``"digits"`` for one channel and ``"photo"``
        for three (what model files written before ``image_style`` existed mean).

    >>> ImageSpec((28, 28, 1), background="dark").kind, ImageSpec((32, 32, 3)).kind
    ('digits', 'photo')
    """

    input_shape: tuple[int, ...]
    value_range: tuple[float, float] = (0.0, 255.0)
    background: str | None = None
    style: str | None = None

    @classmethod
    def of(cls, model: Any) -> ImageSpec:
        """The spec of a :class:`~nablanet.pipeline.TrainedModel` (or a spec, or a shape)."""
        if isinstance(model, ImageSpec):
            return model
        plain = isinstance(model, tuple | list)
        shape = tuple(int(s) for s in (model if plain else getattr(model, "input_shape", ())))
        if len(shape) != 3 or shape[2] not in (1, 3):
            raise InputError(
                f"this model takes {model.describe_inputs()}, not images; give a .csv or .npy"
                if hasattr(model, "describe_inputs")
                else f"this model does not take images (its input shape is {shape})"
            )
        if plain:
            return cls(shape)
        meta = getattr(model, "metadata", None) or {}
        return cls(
            shape,
            value_range=getattr(model, "value_range", None) or (0.0, 255.0),
            background=getattr(model, "image_background", None),
            style=meta.get("image_style"),
        )

    @property
    def kind(self) -> str:
        if self.style in ("digits", "photo"):
            return self.style
        return "digits" if self.input_shape[2] == 1 else "photo"


@dataclass
class ImageSample:
    """One picture as a model input.

    Attributes
    ----------
    x : ndarray of shape (H, W, C), float32
        Raw pixels in the training images' range: give it to ``predict`` (the model's own
        preprocessing is applied there).
    view : ndarray of shape (H, W, C), uint8
        The same sample as 0..255 pixels, to show what the model sees.
    style : {"digits", "photo"}
    notes : list of str
        Every conversion made (colour mode, size, reframing), one short phrase each.
    """

    x: np.ndarray
    view: np.ndarray
    style: str
    notes: list[str] = field(default_factory=list)


def _open(image: Any, name: str | None) -> tuple[Any, str]:
    """A PIL image, an array or a drawing's composite, and a name for messages."""
    if isinstance(image, Mapping):  # a gr.Sketchpad / gr.ImageEditor value
        image = image.get("composite")
    if image is None:
        raise InputError("No image: draw a digit on the sketchpad or upload a picture first.")
    if isinstance(image, str | os.PathLike):
        path = Path(image)
        if not path.is_file():
            raise InputError(f"{path.name}: no such image file")
        from PIL import UnidentifiedImageError

        try:
            with open_image(path, InputError) as img:
                img.load()
                return img.copy(), name or path.name
        except InputError:  # the pixel limit, already one line naming the file
            raise
        except (UnidentifiedImageError, OSError, ValueError):
            raise InputError(
                f"{path.name}: cannot read the image; give a PNG or JPEG image"
            ) from None
    if isinstance(image, np.ndarray) or isinstance(image, _pil_image().Image):
        return image, name or "image"
    raise InputError(f"Expected an image, got {type(image).__name__}.")


def _array_to_pil(arr: np.ndarray) -> Any:
    arr = np.asarray(arr)
    if arr.ndim == 3 and arr.shape[2] == 1:
        arr = arr[:, :, 0]
    if arr.ndim not in (2, 3) or (arr.ndim == 3 and arr.shape[2] not in (3, 4)) or arr.size == 0:
        raise InputError(f"Expected an image of shape (H, W) or (H, W, 1|3|4), got {arr.shape}.")
    if arr.dtype.kind not in "biuf":
        raise InputError(f"Expected an image of numbers, got dtype {arr.dtype}.")
    if arr.dtype != np.uint8:
        arr = arr.astype(np.float64)
        if arr.max(initial=0.0) <= 1.0:
            arr = arr * 255.0
        arr = np.clip(np.round(arr), 0, 255).astype(np.uint8)
    return _pil_image().fromarray(arr)


def _is_grey(img: Any) -> bool:
    if img.mode in GREY_MODES:
        return True
    rgb = np.asarray(convert_mode(img, "RGB"), dtype=np.int16)
    return bool((rgb[..., 0] == rgb[..., 1]).all() and (rgb[..., 1] == rgb[..., 2]).all())


def _photo_sample(img: Any, spec: ImageSpec, name: str) -> ImageSample:
    Image = _pil_image()
    h, w, c = spec.input_shape
    notes = []
    grey = _is_grey(img)
    if c == 1 and not grey:
        notes.append("converted the colour image to greyscale (the model takes 1 channel)")
    elif c == 3 and grey:
        notes.append("repeated the greyscale image on 3 channels (the model takes RGB)")
    # as the image-folder loader reads training images: alpha over white, 16-bit greys scaled
    img = convert_mode(img, "L" if c == 1 else "RGB")
    if img.size != (w, h):
        notes.append(f"resized {img.size[0]}x{img.size[1]} -> {w}x{h}")
        # the image-folder loader's filter, so a picture is seen as the training images were
        img = img.resize((w, h), Image.Resampling.BILINEAR)
    view = np.asarray(img, dtype=np.uint8).reshape(h, w, c)
    lo, hi = spec.value_range
    x = view.astype(np.float32)
    if (lo, hi) != (0.0, 255.0):
        x = np.float32(lo) + x * np.float32((hi - lo) / 255.0)
    return ImageSample(x=x, view=view, style="photo", notes=notes)


def _digit_sample(image: Any, spec: ImageSpec) -> ImageSample:
    if not isinstance(image, np.ndarray):
        image = np.asarray(image.convert("RGBA"))
    ink = preprocess_for_shape(image, spec.input_shape)[0]
    x = ink_to_raw(ink, spec.value_range, spec.background)
    view = np.round(ink_to_raw(ink, (0.0, 255.0), spec.background)).astype(np.uint8)
    h, w, _ = spec.input_shape
    rule = (
        "the ink's box fills the frame"
        if max(h, w) <= 16
        else f"the ink's box scaled to {max(1, round(min(h, w) * 20 / 28))} px and centred by its "
        "centre of mass, as MNIST"
    )
    notes = [f"read as a digit ({rule})"]
    rgb = image[..., :3] if image.ndim == 3 and image.shape[2] >= 3 else None
    if rgb is not None and not (
        (rgb[..., 0] == rgb[..., 1]).all() and (rgb[..., 1] == rgb[..., 2]).all()
    ):
        notes.append("converted the colour image to greyscale (the model takes 1 channel)")
    paper = _paper(image)
    if spec.background in ("dark", "light") and paper != spec.background:
        notes.append(
            f"inverted the image ({paper} background, the model was trained on {spec.background})"
        )
    return ImageSample(x=x, view=view, style="digits", notes=notes)


def _paper(image: np.ndarray) -> str:
    """``"light"`` or ``"dark"``: the picture's background, read as :func:`ink_image` reads it."""
    ink_as_is = ink_image(image, invert=False)  # the luminance itself
    border = np.concatenate([ink_as_is[0], ink_as_is[-1], ink_as_is[:, 0], ink_as_is[:, -1]])
    return "light" if float(np.median(border)) >= 0.5 else "dark"


def image_to_sample(image: Any, model: Any, *, name: str | None = None) -> ImageSample:
    """Turn a user's picture into one raw input sample of ``model``.

    Parameters
    ----------
    image : path, PIL.Image, ndarray or dict
        A file (PNG, JPEG, ...; Pillow's pixel limit applies), a PIL image, an array of shape
        (H, W), (H, W, 1), (H, W, 3) or (H, W, 4) holding ``uint8`` 0..255 or floats in [0, 1],
        or a ``gr.Sketchpad`` value (its ``"composite"``). Any size, colour or grey; alpha is
        composited over white.
    model : TrainedModel, ImageSpec or (H, W, C)
        What the picture is for (see :class:`ImageSpec`).
    name : str, optional
        The picture's name in messages (default: the file's name).

    Returns
    -------
    ImageSample
        ``x`` of shape ``model.input_shape`` in the training pixel range, and the notes.

    Raises
    ------
    InputError
        No picture, an unreadable file, an empty drawing, a model that takes no images.
    """
    spec = ImageSpec.of(model)
    picture, _name = _open(image, name)
    if spec.kind == "digits":
        return _digit_sample(picture, spec)
    if isinstance(picture, np.ndarray):
        picture = _array_to_pil(picture)
    return _photo_sample(picture, spec, _name)
