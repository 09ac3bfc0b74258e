"""A data spec, as a config file writes it, to the loader of its format.

>>> import tempfile, pathlib
>>> path = pathlib.Path(tempfile.mkdtemp()) / "toy.csv"
>>> _ = path.write_text("a,y\\n1.0,0\\n2.0,1\\n")
>>> load_from_spec({"csv": str(path), "target": "y"}).x.tolist()
[[1.0], [2.0]]
>>> load_from_spec({"parquet": "data.parquet"})
Traceback (most recent call last):
    ...
nablanet.data.errors.DataError: a data spec needs exactly one of the keys csv, npz, npy, images; got keys parquet
"""

from __future__ import annotations

from typing import Any

from ..dataset import Dataset
from ..errors import DataError
from .arrays import load_npy, load_npz
from .images import load_image_folder
from .table import load_csv

__all__ = ["load_from_spec"]


def _spec_option_names() -> dict[str, tuple[str, ...]]:
    return {
        "csv": ("target", "features", "task", "delimiter", "test", "name"),
        "npz": ("task", "class_names", "feature_names", "name", "check_finite"),
        "npy": ("mmap", "task", "class_names", "feature_names", "name", "check_finite"),
        "images": ("size", "color", "name"),
    }


def load_from_spec(spec: dict[str, Any]) -> Dataset:
    """Load user data described by a dict, as written in a config file.

    ``{"csv": path, "target": column, ...}``, ``{"npz": path, ...}``,
    ``{"npy": {"x": path, "y": path, "x_test": ..., "y_test": ...}, "mmap": "auto", ...}`` or
    ``{"images": folder, "size": [h, w], "color": "auto"}``; the other keys are the keyword
    arguments of :func:`load_csv`, :func:`load_npz`, :func:`load_npy` and
    :func:`load_image_folder`.
    """
    options = _spec_option_names()
    kinds = [k for k in options if k in spec]
    if len(kinds) != 1:
        raise DataError(
            "a data spec needs exactly one of the keys csv, npz, npy, images; got keys "
            f"{', '.join(map(str, spec)) or 'none'}"
        )
    kind = kinds[0]
    kwargs = {k: v for k, v in spec.items() if k != kind}
    unknown = [k for k in kwargs if k not in options[kind]]
    if unknown:
        raise DataError(
            f"{kind} data spec: unknown option {unknown[0]!r}; allowed: {', '.join(options[kind])}"
        )
    if kind == "csv":
        if "target" not in kwargs:
            raise DataError(f"csv data spec for {spec['csv']}: missing 'target' (the label column)")
        return load_csv(spec["csv"], **kwargs)
    if kind == "npz":
        return load_npz(spec["npz"], **kwargs)
    if kind == "images":
        return load_image_folder(spec["images"], **kwargs)
    files = spec["npy"]
    if not isinstance(files, dict) or "x" not in files or "y" not in files:
        raise DataError(
            "npy data spec: expected {'npy': {'x': path, 'y': path}} (optionally x_test, y_test)"
        )
    bad = [k for k in files if k not in ("x", "y", "x_test", "y_test")]
    if bad:
        raise DataError(
            f"npy data spec: unknown file key {bad[0]!r}; allowed: x, y, x_test, y_test"
        )
    return load_npy(**files, **kwargs)
