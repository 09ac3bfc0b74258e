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

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ..dataset import Dataset
from ..errors import DataError
from ..limits import open_image

__all__ = ["IMAGE_EXTENSIONS", "load_image_folder"]

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


def _read_images(files: list[Path], size: tuple[int, int] | None, mode: str) -> np.ndarray:
    from PIL import Image, UnidentifiedImageError

    arrays = []
    expected, first = size, files[0]
    for f in files:  # one file at a time: reading is I/O, not arithmetic
        try:
            with open_image(f) as img:
                img = img.convert(mode)
                if size is not None and img.size != (size[1], size[0]):
                    img = img.resize((size[1], size[0]), Image.Resampling.BILINEAR)
                arr = np.asarray(img, dtype=np.uint8)
        except (UnidentifiedImageError, OSError) as err:
            raise DataError(f"{f}: cannot read the image ({err})") from None
        if expected is None:
            expected = arr.shape[:2]
        if arr.shape[:2] != tuple(expected):
            raise DataError(
                f"{f}: image is {arr.shape[1]}x{arr.shape[0]} but {first.name} is "
                f"{expected[1]}x{expected[0]}; give size: [height, width] to resize them all"
            )
        arrays.append(arr.reshape(arr.shape[0], arr.shape[1], -1))
    return np.stack(arrays)


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
    path: str | os.PathLike,
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
        Resize every image to this size; without it all images must share one size.
    color : {"auto", "grayscale", "rgb"}
        "auto" reads grayscale when every image is grayscale, else RGB.
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
    test_files, test_labels = [], np.zeros(0, np.int64)
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
                    gray = gray and img.mode in ("1", "L", "LA", "I", "I;16", "F")
            except (UnidentifiedImageError, OSError) as err:
                raise DataError(f"{f}: cannot read the image ({err})") from None
            if not gray:
                break
        color = "grayscale" if gray else "rgb"
    mode = "L" if color == "grayscale" else "RGB"
    x = _read_images(files, size, mode)
    x_test = None
    if split_layout:
        x_test = _read_images(test_files, size, mode)
        if x_test.shape[1:] != x.shape[1:]:
            raise DataError(
                f"{root / 'test'}: test images are {x_test.shape[2]}x{x_test.shape[1]}, training "
                f"images {x.shape[2]}x{x.shape[1]}; give size: [height, width] to resize them all"
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
