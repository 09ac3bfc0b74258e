"""Toy 2-D datasets for intuition: ``spiral``, ``circles``, ``moons``, ``xor``, ``gaussians``.

Each generator returns a :class:`~nablanet.data.Dataset` of ``n_samples`` points ``x`` of shape
``(n_samples, 2)`` (``float32``, features ``x1``, ``x2``) and ``int64`` class labels, generated
from ``seed`` alone: the same arguments give the same arrays, on every machine. The classes are
balanced by construction (their sizes differ by at most one). ``noise`` is the standard
deviation of the Gaussian noise added to the points (for ``spiral``: to the angle, in radians).

They are in the dataset registry, so a config names them and passes the generator's arguments::

    data:
      dataset: {name: spiral, n_samples: 600, noise: 0.2, n_classes: 3, seed: 0}

>>> ds = make_spiral(n_samples=300, noise=0.2, n_classes=3, seed=0)
>>> ds.x.shape, ds.x.dtype, ds.task, ds.class_names
((300, 2), dtype('float32'), 'multiclass', ['0', '1', '2'])
>>> np.bincount(ds.y).tolist()
[100, 100, 100]
>>> bool(np.array_equal(make_moons(seed=3).x, make_moons(seed=3).x))
True
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from .dataset import Dataset
from .errors import DataError

__all__ = [
    "TOY_DATASETS",
    "ToyGenerator",
    "make_circles",
    "make_gaussians",
    "make_moons",
    "make_spiral",
    "make_toy",
    "make_xor",
]


def _check(name: str, n_samples, noise, seed, n_classes=None, min_classes: int = 2) -> None:
    def bad(param: str, expected: str, got) -> DataError:
        return DataError(
            f"The {param!r} parameter of {name} must be {expected}. Got {got!r} instead."
        )

    def is_int(v) -> bool:
        return isinstance(v, int | np.integer) and not isinstance(v, bool)

    if not is_int(n_samples) or n_samples < 2:
        raise bad("n_samples", "an integer >= 2", n_samples)
    if (
        isinstance(noise, bool)
        or not isinstance(noise, int | float | np.floating)
        or not math.isfinite(noise)
        or noise < 0
    ):
        raise bad("noise", "a non-negative number", noise)
    if not is_int(seed) or seed < 0:
        raise bad("seed", "a non-negative integer", seed)
    if n_classes is not None:
        if not is_int(n_classes) or n_classes < min_classes:
            raise bad("n_classes", f"an integer >= {min_classes}", n_classes)
        if n_classes > n_samples:
            raise bad("n_classes", f"at most n_samples ({n_samples})", n_classes)


def _balanced_labels(n_samples: int, n_classes: int) -> np.ndarray:
    """``0, 0, ..., 1, 1, ...``: class sizes differ by at most one."""
    sizes = np.full(n_classes, n_samples // n_classes)
    sizes[: n_samples % n_classes] += 1
    return np.repeat(np.arange(n_classes, dtype=np.int64), sizes)


def _dataset(name: str, x: np.ndarray, y: np.ndarray, n_classes: int, description: str) -> Dataset:
    return Dataset(
        x=x.astype(np.float32),
        y=y.astype(np.int64),
        task="binary" if n_classes == 2 else "multiclass",
        name=name,
        class_names=[str(c) for c in range(n_classes)],
        feature_names=["x1", "x2"],
        description=description,
        source="generated (nablanet.data.toy)",
    )


def make_spiral(
    n_samples: int = 600, noise: float = 0.2, n_classes: int = 3, seed: int = 0
) -> Dataset:
    """Interleaved spiral arms, one per class (the CS231n spiral): radius 0 -> 1 along an arm,
    the angle winding 4 radians out; ``noise`` is added to the angle.

    >>> make_spiral(n_samples=10, n_classes=2, seed=1).y.tolist()
    [0, 0, 0, 0, 0, 1, 1, 1, 1, 1]
    """
    _check("make_spiral", n_samples, noise, seed, n_classes)
    rng = np.random.default_rng(seed)
    y = _balanced_labels(n_samples, n_classes)
    # position along the arm of each point, 0 at the centre and 1 at the end (evenly spaced)
    counts = np.bincount(y, minlength=n_classes)
    r = np.concatenate([np.linspace(0.0, 1.0, c) for c in counts])
    theta = y * (2 * np.pi / n_classes) + r * 4.0 + rng.normal(0.0, noise, n_samples)
    x = np.c_[r * np.sin(theta), r * np.cos(theta)]
    return _dataset(
        "spiral", x, y, n_classes, f"{n_classes} interleaved spiral arms (noise {noise:g})"
    )


def make_circles(
    n_samples: int = 600, noise: float = 0.1, seed: int = 0, factor: float = 0.5
) -> Dataset:
    """A ring (class 0, radius 1) around a smaller one (class 1, radius ``factor``)."""
    _check("make_circles", n_samples, noise, seed)
    if not (isinstance(factor, int | float) and 0 < factor < 1):
        raise DataError(
            f"The 'factor' parameter of make_circles must be in (0, 1). Got {factor!r} instead."
        )
    rng = np.random.default_rng(seed)
    y = _balanced_labels(n_samples, 2)
    angle = rng.uniform(0.0, 2 * np.pi, n_samples)
    radius = np.where(y == 0, 1.0, factor)
    x = np.c_[radius * np.cos(angle), radius * np.sin(angle)] + rng.normal(0, noise, (n_samples, 2))
    return _dataset("circles", x, y, 2, f"two concentric circles (noise {noise:g})")


def make_moons(n_samples: int = 600, noise: float = 0.1, seed: int = 0) -> Dataset:
    """Two interleaving half circles (scikit-learn's ``make_moons`` shape)."""
    _check("make_moons", n_samples, noise, seed)
    rng = np.random.default_rng(seed)
    y = _balanced_labels(n_samples, 2)
    t = rng.uniform(0.0, np.pi, n_samples)
    upper = np.c_[np.cos(t), np.sin(t)]
    lower = np.c_[1.0 - np.cos(t), 0.5 - np.sin(t)]
    x = np.where((y == 0)[:, None], upper, lower) + rng.normal(0, noise, (n_samples, 2))
    return _dataset("moons", x, y, 2, f"two interleaving half moons (noise {noise:g})")


def make_xor(n_samples: int = 600, noise: float = 0.1, seed: int = 0) -> Dataset:
    """Points in the four quadrants of [-1, 1]^2; class 1 where ``x1 * x2 < 0`` (before the
    noise). Each class is split evenly between its two quadrants."""
    _check("make_xor", n_samples, noise, seed)
    rng = np.random.default_rng(seed)
    y = _balanced_labels(n_samples, 2)
    # each class alternates between its two quadrants: 0: (+,+), 1: (-,-), 2: (+,-), 3: (-,+)
    quadrant = 2 * y + (np.arange(n_samples) - np.searchsorted(y, y)) % 2
    signs = np.array([[1, 1], [-1, -1], [1, -1], [-1, 1]], dtype=np.float64)[quadrant]
    # a small margin keeps the noiseless classes apart at the axes
    x = signs * rng.uniform(0.05, 1.0, (n_samples, 2)) + rng.normal(0, noise, (n_samples, 2))
    return _dataset("xor", x, y, 2, f"XOR of the signs of x1 and x2 (noise {noise:g})")


def make_gaussians(
    n_samples: int = 600, noise: float = 0.5, n_classes: int = 2, seed: int = 0
) -> Dataset:
    """One round Gaussian blob per class (standard deviation ``noise``), the centres evenly
    spaced on a circle of radius 1.5: linearly separable when the noise is small."""
    _check("make_gaussians", n_samples, noise, seed, n_classes)
    rng = np.random.default_rng(seed)
    y = _balanced_labels(n_samples, n_classes)
    angles = 2 * np.pi * np.arange(n_classes) / n_classes + np.pi / 4
    centres = 1.5 * np.c_[np.cos(angles), np.sin(angles)]
    x = centres[y] + rng.normal(0.0, noise, (n_samples, 2))
    return _dataset(
        "gaussians", x, y, n_classes, f"{n_classes} Gaussian blobs (standard deviation {noise:g})"
    )


ToyGenerator = Callable[..., Dataset]

#: registry name -> (generator, its parameters' defaults, one line for ``nablanet datasets``)
TOY_DATASETS: dict[str, tuple[ToyGenerator, dict[str, float | int], str]] = {
    "spiral": (
        make_spiral,
        {"n_samples": 600, "noise": 0.2, "n_classes": 3, "seed": 0},
        "Toy 2-D: interleaved spiral arms, one per class (n_samples, noise, n_classes, seed).",
    ),
    "circles": (
        make_circles,
        {"n_samples": 600, "noise": 0.1, "seed": 0},
        "Toy 2-D: a ring around a smaller ring, 2 classes (n_samples, noise, seed).",
    ),
    "moons": (
        make_moons,
        {"n_samples": 600, "noise": 0.1, "seed": 0},
        "Toy 2-D: two interleaving half moons, 2 classes (n_samples, noise, seed).",
    ),
    "xor": (
        make_xor,
        {"n_samples": 600, "noise": 0.1, "seed": 0},
        "Toy 2-D: XOR of the signs of x1 and x2, 2 classes (n_samples, noise, seed).",
    ),
    "gaussians": (
        make_gaussians,
        {"n_samples": 600, "noise": 0.5, "n_classes": 2, "seed": 0},
        "Toy 2-D: one Gaussian blob per class (n_samples, noise, n_classes, seed).",
    ),
}


def make_toy(name: str, **params) -> Dataset:
    """The toy dataset ``name`` with the given generator parameters (others at their defaults).

    >>> make_toy("xor", n_samples=8).y.tolist()
    [0, 0, 0, 0, 1, 1, 1, 1]
    >>> make_toy("xor", classes=3)
    Traceback (most recent call last):
    ...
    nablanet.data.errors.DataError: dataset 'xor': unknown parameter 'classes'; it takes n_samples, noise, seed
    """
    if name not in TOY_DATASETS:
        raise DataError(f"unknown toy dataset {name!r}; toy datasets are {', '.join(TOY_DATASETS)}")
    generator, defaults, _ = TOY_DATASETS[name]
    unknown = [k for k in params if k not in defaults]
    if unknown:
        raise DataError(
            f"dataset {name!r}: unknown parameter {unknown[0]!r}; it takes {', '.join(defaults)}"
        )
    return generator(**{**defaults, **params})
