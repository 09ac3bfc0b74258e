"""Folders of images, one sub-folder per class (``root/<class_name>/*.png``).

Images are read one file at a time with Pillow (imported when a folder is read), through
:func:`~nablanet.data.limits.open_image` and its decompression-bomb check; a ``train/`` and
``test/`` pair of such folders gives the predefined test split.

>>> import tempfile, pathlib
>>> from PIL import Image
>>> root = pathlib.Path(tempfile.mkdtemp())
>>> for kind in ("cat", "dog"):
...     (root / kind).mkdir()
...     Image.new("L", (4, 3)).save(root / kind / "1.png")
>>> ds = load_image_folder(root)
>>> ds.class_names, ds.x.shape, ds.x.dtype
(['cat', 'dog'], (2, 3, 4, 1), dtype('uint8'))
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..dataset import Dataset
from ..errors import DataError
from ..limits import open_image

__all__ = ["GREY_MODES", "IMAGE_EXTENSIONS", "convert_mode", "load_image_folder"]

logger = logging.getLogger("nablanet.data")

#: image file extensions read from image folders
IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp")


def _class_folders(root: Path) -> list[Path]:
    return sorted(
        (p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")),
        key=lambda p: p.name,
    )


def _image_files(folder: Path) -> list[Path]:
    return sorted(
        p
        for p in folder.iterdir()
        if p.is_file() and p.suffix.lower() in IMAGE_EXTENSIONS and not p.name.startswith(".")
    )


#: modes Pillow reads as grey
GREY_MODES = ("1", "L", "LA", "La", "I", "I;16", "I;16B", "I;16L", "I;16N", "F")


def convert_mode(img: Any, mode: str) -> Any:
    """``img`` as 8-bit ``"L"`` or ``"RGB"``: transparency composited over white, and 16-bit
    or float greys scaled to 0..255 (Pillow's own ``convert("L")`` clips them at 255)."""
    from PIL import Image

    if img.mode in ("I", "I;16", "I;16B", "I;16L", "I;16N", "F"):
        arr = np.asarray(img, dtype=np.float64)
        top = 255.0 if img.mode == "F" and arr.max(initial=0.0) <= 255.0 else 65535.0
        img = Image.fromarray(np.clip(np.round(arr * (255.0 / top)), 0, 255).astype(np.uint8))
    if img.mode in ("RGBA", "LA", "La", "PA", "RGBa") or (
        img.mode == "P" and "transparency" in img.info
    ):
        rgba = img.convert("RGBA")
        img = Image.alpha_composite(Image.new("RGBA", rgba.size, (255, 255, 255, 255)), rgba)
    return img.convert(mode)


def _common_size(files: list[Path]) -> tuple[int, int]:
    """The most common (height, width) of ``files`` (headers only; ties: the first seen)."""
    from PIL import UnidentifiedImageError

    counts: dict[tuple[int, int], int] = {}
    for f in files:
        try:
            with open_image(f) as img:
                key = (img.size[1], img.size[0])
        except (UnidentifiedImageError, OSError) as err:
            raise DataError(f"{f}: cannot read the image ({err})") from None
        counts[key] = counts.get(key, 0) + 1
    return max(counts, key=counts.__getitem__)


def _read_images(files: list[Path], size: tuple[int, int], mode: str) -> tuple[np.ndarray, int]:
    """The images of ``files`` at ``size`` (height, width); also how many were resized."""
    from PIL import Image, UnidentifiedImageError

    arrays = []
    resized = 0
    for f in files:  # one file at a time: reading is I/O, not arithmetic
        try:
            with open_image(f) as img:
                img = convert_mode(img, mode)
                if img.size != (size[1], size[0]):
                    img = img.resize((size[1], size[0]), Image.Resampling.BILINEAR)
                    resized += 1
                arr = np.asarray(img, dtype=np.uint8)
        except (UnidentifiedImageError, OSError) as err:
            raise DataError(f"{f}: cannot read the image ({err})") from None
        arrays.append(arr.reshape(arr.shape[0], arr.shape[1], -1))
    return np.stack(arrays), resized


def _scan_image_root(root: Path) -> tuple[list[str], list[Path], np.ndarray]:
    classes = _class_folders(root)
    if not classes:
        raise DataError(
            f"{root}: no class folders; expected {root}/<class_name>/<image>.png for each class"
        )
    files, labels = [], []
    for i, folder in enumerate(classes):
        found = _image_files(folder)
        files.extend(found)
        labels.extend([i] * len(found))
    if not files:
        raise DataError(
            f"{root}: no images ({', '.join(IMAGE_EXTENSIONS)}) in the class folders "
            f"{', '.join(c.name for c in classes)}"
        )
    return [c.name for c in classes], files, np.asarray(labels, dtype=np.int64)


def load_image_folder(
    path: str | os.PathLike[str],
    *,
    size: Sequence[int] | None = None,
    color: str = "auto",
    name: str | None = None,
) -> Dataset:
    """Load a folder of images sorted into one sub-folder per class.

    Layout: ``path/<class_name>/*.png`` (also JPEG, BMP, GIF, TIFF, WebP). When ``path`` holds
    exactly ``train/`` and ``test/``, each laid out that way, ``test/`` becomes the predefined
    test split. Class names are the sorted folder names.

    Parameters
    ----------
    path : str or path-like
    size : (height, width), optional
        Resize every image to this size (bilinear, the whole image, aspect not kept). Without
        it, images of different sizes are resized to the most common size, with a warning.
    color : {"auto", "grayscale", "rgb"}
        "auto" reads grayscale when every image is grayscale, else RGB (a grey image in a
        colour folder is repeated on 3 channels). Transparency is composited over white;
        16-bit greys are scaled to 8 bits.
    name : str, optional
        Dataset name (default: the folder's name).

    Returns
    -------
    Dataset
        ``x`` ``uint8`` of shape ``(n, H, W, C)`` with ``C`` 1 (grayscale) or 3 (RGB).
    """
    from PIL import UnidentifiedImageError

    root = Path(path).expanduser()
    if not root.is_dir():
        raise DataError(f"{root}: image folder not found")
    if color not in ("auto", "grayscale", "rgb"):
        raise DataError(f"{root}: color must be 'auto', 'grayscale' or 'rgb', got {color!r}")
    if size is not None:
        if len(size) != 2 or not all(isinstance(s, int) and s > 0 for s in size):
            raise DataError(f"{root}: size must be [height, width] in pixels, got {size!r}")
        size = (int(size[0]), int(size[1]))
    subdirs = {p.name for p in _class_folders(root)}
    split_layout = subdirs == {"train", "test"}
    class_names, files, labels = _scan_image_root(root / "train" if split_layout else root)
    test_files: list[Path] = []
    test_labels = np.zeros(0, np.int64)
    if split_layout:
        test_names, test_files, test_labels = _scan_image_root(root / "test")
        unknown = sorted(set(test_names) - set(class_names))
        if unknown:
            raise DataError(f"{root / 'test'}: class folder {unknown[0]!r} is not in train/")
        remap = np.asarray([class_names.index(n) for n in test_names], dtype=np.int64)
        test_labels = remap[test_labels]
    if len(class_names) < 2:
        raise DataError(f"{root}: found only one class folder ({class_names[0]}); need two or more")
    if color == "auto":
        gray = True
        for f in [*files, *test_files]:
            try:
                with open_image(f) as img:  # reads the header only
                    gray = gray and img.mode in GREY_MODES
            except (UnidentifiedImageError, OSError) as err:
                raise DataError(f"{f}: cannot read the image ({err})") from None
            if not gray:
                break
        color = "grayscale" if gray else "rgb"
    mode = "L" if color == "grayscale" else "RGB"
    chosen = size if size is not None else _common_size([*files, *test_files])
    x, resized = _read_images(files, chosen, mode)
    x_test = None
    if split_layout:
        x_test, resized_test = _read_images(test_files, chosen, mode)
        resized += resized_test
    if size is None and resized:
        logger.warning(
            "%s: resized %d of %d images to %dx%d, the most common size (give size: [height, "
            "width] to choose it)",
            root,
            resized,
            len(files) + len(test_files),
            chosen[1],
            chosen[0],
        )
    return Dataset(
        x=x,
        y=labels,
        task="binary" if len(class_names) == 2 else "multiclass",
        name=name or root.name,
        class_names=class_names,
        x_test=x_test,
        y_test=test_labels if split_layout else None,
        value_range=(0.0, 255.0),
        source=str(root),
    )
