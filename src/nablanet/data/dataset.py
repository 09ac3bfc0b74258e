"""The :class:`Dataset` record and the helpers that turn raw arrays into one.

A ``Dataset`` carries everything a model, a metric or the UI needs to adapt without guessing: the
features ``x``, the targets ``y``, the task, the class and feature names, the input shape and, when
the data comes with one, a predefined test split.

>>> import numpy as np
>>> ds = Dataset(x=np.zeros((4, 3), np.float32), y=np.array([0, 1, 1, 0]), task="binary",
...              name="toy", class_names=["no", "yes"])
>>> ds
Dataset(name='toy', task='binary', x=(4, 3) float32, y=(4,) int64, classes=['no', 'yes'])
>>> ds.n_outputs, ds.input_shape
(1, (3,))
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .errors import DataError
from .split import Split, train_val_test_split

#: the tasks a dataset can have
TASKS = ("binary", "multiclass", "regression")

#: integer-valued targets with at most this many distinct values are read as class labels
MAX_INFERRED_CLASSES = 50

#: reductions over (possibly memory-mapped) arrays work on blocks of about this many bytes
CHUNK_BYTES = 32 * 2**20


def _shape_str(a: np.ndarray | None) -> str:
    return "None" if a is None else f"{tuple(a.shape)} {a.dtype}"


@dataclass(repr=False, eq=False)
class Dataset:
    """Features, targets and what they mean.

    Parameters
    ----------
    x : ndarray of shape (n_samples, *input_shape)
        Features. Tabular data is ``float32`` of shape ``(n, n_features)``. Images are
        channels-last ``(n, H, W, C)`` and keep their raw pixel values as ``uint8`` (0..255, or
        the range in ``value_range``); :class:`~nablanet.data.PixelScaler` turns them into
        ``float32`` in [0, 1]. User ``.npy`` files opened memory-mapped keep their stored dtype.
    y : ndarray of shape (n_samples,) or (n_samples, n_targets)
        ``int64`` class indices in ``0..n_classes-1`` for "binary" and "multiclass" (index ``i``
        names ``class_names[i]``); ``float32`` for "regression".
    task : {"binary", "multiclass", "regression"}
    name : str
    class_names : list of str, optional
        One name per class (classification only). Defaults to ``"0", "1", ...``.
    feature_names : list of str, optional
        One name per column of tabular data.
    input_shape : tuple of int, optional
        ``x.shape[1:]``; filled in when not given, checked when given.
    x_test, y_test : ndarray, optional
        The dataset's own test split (MNIST's 10000 images), or None when it has none.
    value_range : (float, float), optional
        The range of the raw feature values when it is fixed by the format (pixels: ``(0, 255)``;
        scikit-learn's digits: ``(0, 16)``).
    description, source : str
        One line on what the data is, and where it was read from.

    Examples
    --------
    >>> ds = Dataset(x=np.zeros((3, 2), np.float32), y=np.array([2.5, 1.0, 0.5]),
    ...              task="regression", feature_names=["a", "b"])
    >>> ds.y.dtype, ds.n_outputs, ds.n_classes, ds.input_shape
    (dtype('float32'), 1, None, (2,))
    """

    x: np.ndarray
    y: np.ndarray
    task: str
    name: str = "dataset"
    class_names: list[str] | None = None
    feature_names: list[str] | None = None
    input_shape: tuple[int, ...] | None = None
    x_test: np.ndarray | None = None
    y_test: np.ndarray | None = None
    value_range: tuple[float, float] | None = None
    description: str = ""
    source: str = field(default="")

    def __post_init__(self) -> None:
        where = f"dataset {self.name!r}"
        if self.task not in TASKS:
            raise DataError(f"{where}: task must be one of {', '.join(TASKS)}, got {self.task!r}")
        self.x = _check_x(self.x, f"{where}: x")
        shape = tuple(int(s) for s in self.x.shape[1:])
        if self.input_shape is not None and tuple(self.input_shape) != shape:
            raise DataError(
                f"{where}: input_shape {tuple(self.input_shape)} does not match x of shape "
                f"{self.x.shape}"
            )
        self.input_shape = shape
        if self.task != "regression":
            if self.class_names is None:
                top = [int(np.max(a)) for a in (self.y, self.y_test) if a is not None and a.size]
                self.class_names = [str(i) for i in range(max([1, *top]) + 1)]
            self.class_names = [str(c) for c in self.class_names]
        elif self.class_names is not None:
            raise DataError(f"{where}: a regression dataset has no class_names")
        self.y = self._check_y(self.y, self.x, f"{where}: y")
        if self.task == "binary" and len(self.class_names or ()) != 2:
            raise DataError(
                f"{where}: a binary task needs 2 classes, got {len(self.class_names or ())} "
                f"({self.class_names})"
            )
        if self.feature_names is not None:
            self.feature_names = [str(f) for f in self.feature_names]
            if len(shape) != 1 or len(self.feature_names) != shape[0]:
                raise DataError(
                    f"{where}: {len(self.feature_names)} feature names for x of shape "
                    f"{self.x.shape}"
                )
        if (self.x_test is None) != (self.y_test is None):
            raise DataError(f"{where}: x_test and y_test must be given together")
        if self.x_test is not None:
            self.x_test = _check_x(self.x_test, f"{where}: x_test")
            if self.x_test.shape[1:] != self.x.shape[1:]:
                raise DataError(
                    f"{where}: x_test has shape {self.x_test.shape} but x has {self.x.shape}; "
                    "the sample shapes must match"
                )
            self.y_test = self._check_y(self.y_test, self.x_test, f"{where}: y_test")
        if self.value_range is not None:
            self.value_range = (float(self.value_range[0]), float(self.value_range[1]))

    def _check_y(self, y: Any, x: np.ndarray, what: str) -> np.ndarray:
        y = np.asarray(y)
        if len(y) != len(x):
            raise DataError(
                f"{what} has {len(y)} samples but x has {len(x)} (shapes {y.shape} and {x.shape})"
            )
        if self.task == "regression":
            if y.ndim not in (1, 2) or y.dtype.kind not in "biuf":
                raise DataError(
                    f"{what}: regression targets must be numbers of shape (n,) or (n, k), got "
                    f"{_shape_str(y)}"
                )
            y = y.astype(np.float32, copy=False)
            if not np.isfinite(y).all():
                raise DataError(f"{what}: targets contain NaN or inf")
            return y
        if y.ndim != 1 or y.dtype.kind not in "biu":
            raise DataError(
                f"{what}: class labels must be integers of shape (n,), got {_shape_str(y)}"
            )
        y = y.astype(np.int64, copy=False)
        n_classes = len(self.class_names or ())
        if y.size and (y.min() < 0 or y.max() >= n_classes):
            raise DataError(
                f"{what}: labels must lie in 0..{n_classes - 1} for {n_classes} classes, "
                f"found {int(y.min())}..{int(y.max())}"
            )
        return y

    # -- derived facts -----------------------------------------------------------------------
    @property
    def n_samples(self) -> int:
        """Number of training samples (the predefined test split excluded)."""
        return len(self.x)

    @property
    def n_classes(self) -> int | None:
        """Number of classes, or None for regression."""
        return None if self.class_names is None else len(self.class_names)

    @property
    def n_outputs(self) -> int:
        """Width of a model's output layer: 1 for binary (sigmoid), ``n_classes`` for multiclass
        (softmax), the number of targets for regression (linear)."""
        if self.task == "multiclass":
            return len(self.class_names or ())
        if self.task == "regression" and self.y.ndim == 2:
            return int(self.y.shape[1])
        return 1

    @property
    def is_image(self) -> bool:
        """True when samples are channels-last images ``(H, W, C)``."""
        return self.input_shape is not None and len(self.input_shape) == 3

    @property
    def has_test_split(self) -> bool:
        return self.x_test is not None

    def describe(self) -> dict[str, Any]:
        """JSON-able summary (no arrays): name, task, sizes, shapes, names."""
        return {
            "name": self.name,
            "task": self.task,
            "n_train": self.n_samples,
            "n_test": None if self.x_test is None else len(self.x_test),
            "input_shape": list(self.input_shape or ()),
            "x_dtype": str(self.x.dtype),
            "n_classes": self.n_classes,
            "n_outputs": self.n_outputs,
            "class_names": self.class_names,
            "feature_names": self.feature_names,
            "value_range": None if self.value_range is None else list(self.value_range),
            "description": self.description,
            "source": self.source,
        }

    def __repr__(self) -> str:
        parts = [
            f"name={self.name!r}",
            f"task={self.task!r}",
            f"x={_shape_str(self.x)}",
            f"y={_shape_str(self.y)}",
        ]
        if self.x_test is not None:
            parts.append(f"x_test={_shape_str(self.x_test)}")
        if self.class_names is not None:
            names = self.class_names
            shown = names if len(names) <= 10 else [*names[:10], "..."]
            parts.append(f"classes={shown}")
        return f"Dataset({', '.join(parts)})"

    # -- derived datasets and splits ---------------------------------------------------------
    def subset(self, indices: Sequence[int] | np.ndarray) -> Dataset:
        """A dataset with the training samples at ``indices`` (the test split is kept)."""
        idx = np.asarray(indices, dtype=np.int64)
        return Dataset(
            x=np.take(self.x, idx, axis=0),
            y=np.take(self.y, idx, axis=0),
            task=self.task,
            name=self.name,
            class_names=self.class_names,
            feature_names=self.feature_names,
            x_test=self.x_test,
            y_test=self.y_test,
            value_range=self.value_range,
            description=self.description,
            source=self.source,
        )

    def split(
        self,
        val_fraction: float = 0.1,
        test_fraction: float = 0.1,
        seed: int | None = 0,
        stratify: bool = True,
    ) -> Split:
        """Train / validation / test arrays, respecting the dataset's own test split.

        When the dataset has a predefined test split (``x_test``), it is the test set and
        ``test_fraction`` is ignored; the validation set is drawn from the training samples.
        Otherwise the three sets are drawn with :func:`~nablanet.data.train_val_test_split`,
        stratified by class for classification.
        """
        stratify = stratify and self.task != "regression"
        if self.x_test is None:
            return train_val_test_split(
                self.x, self.y, val_fraction, test_fraction, seed=seed, stratify=stratify
            )
        parts = train_val_test_split(
            self.x, self.y, val_fraction, 0.0, seed=seed, stratify=stratify
        )
        return Split(
            parts.x_train, parts.y_train, parts.x_val, parts.y_val, self.x_test, self.y_test
        )


# -- helpers shared by the loaders ---------------------------------------------------------------
def _check_x(x: Any, what: str) -> np.ndarray:
    if not isinstance(x, np.ndarray):
        x = np.asarray(x)
    if x.ndim < 2:
        raise DataError(f"{what} must have shape (n_samples, ...features), got {x.shape}")
    if x.dtype.kind not in "biuf":
        raise DataError(f"{what} must hold numbers, got dtype {x.dtype}")
    return x


def as_feature_array(x: np.ndarray) -> np.ndarray:
    """Features in their stored form: ``uint8`` (pixels) and memory-mapped arrays unchanged,
    other numbers as ``float32``; an ``(n, H, W)`` stack gets a channel axis ``(n, H, W, 1)``."""
    if x.ndim == 3:
        x = x.reshape(*x.shape, 1)
    if isinstance(x, np.memmap) or x.dtype in (np.uint8, np.float32):
        return x
    return x.astype(np.float32)


def find_nonfinite(x: np.ndarray) -> tuple[int, ...] | None:
    """Index of the first NaN or inf in ``x`` (checked block by block, so a memory-mapped array
    is streamed from disk), or None when all values are finite."""
    if x.dtype.kind not in "fc" or x.size == 0:
        return None
    rows = max(1, CHUNK_BYTES // max(1, x[0].nbytes))
    for start in range(0, len(x), rows):
        bad = ~np.isfinite(np.asarray(x[start : start + rows]))
        if bad.any():
            first = np.argwhere(bad)[0]
            first[0] += start
            return tuple(int(i) for i in first)
    return None


def check_finite_features(
    x: np.ndarray, where: str, feature_names: list[str] | None = None
) -> None:
    """Raise a :class:`DataError` naming the sample and feature of the first NaN/inf."""
    bad = find_nonfinite(x)
    if bad is None:
        return
    value = x[bad]
    if feature_names is not None and len(bad) == 2:
        raise DataError(
            f"{where}: {value} in feature column {feature_names[bad[1]]!r} (sample {bad[0]}); "
            "fill or drop missing values first"
        )
    raise DataError(
        f"{where}: {value} in features at index {bad} of array with shape {x.shape}; "
        "fill or drop missing values first"
    )


def _is_one_hot(y: np.ndarray) -> bool:
    if y.ndim != 2 or y.shape[1] < 2 or y.dtype.kind not in "biuf" or y.size == 0:
        return False
    return bool(np.isin(y, (0, 1)).all() and (y.sum(axis=1) == 1).all())


def _integer_valued(y: np.ndarray) -> bool:
    if y.dtype.kind in "biu":
        return True
    if y.dtype.kind == "f":
        return bool(np.isfinite(y).all() and (y == np.round(y)).all())
    return False


def infer_task(y: np.ndarray) -> str:
    """Guess the task from raw targets.

    Strings and booleans are class labels; numbers are class labels when they are whole and
    take at most ``MAX_INFERRED_CLASSES`` distinct values, else regression targets. One-hot
    rows count as class labels. Two classes make a binary task.

    >>> infer_task(np.array(["cat", "dog", "cat"])), infer_task(np.array([0.5, 1.25, 3.0]))
    ('binary', 'regression')
    """
    y = np.asarray(y)
    if _is_one_hot(y):
        return "binary" if y.shape[1] == 2 else "multiclass"
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    if y.ndim != 1:
        return "regression"
    if y.dtype.kind in "biuf" and y.dtype.kind != "b":
        if not _integer_valued(y) or len(np.unique(y)) > MAX_INFERRED_CLASSES:
            return "regression"
    return "binary" if len(np.unique(y)) == 2 else "multiclass"


def _class_name(v: Any) -> str:
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)


def encode_targets(
    y: Any,
    y_test: Any = None,
    *,
    task: str | None = None,
    class_names: Sequence[str] | None = None,
    where: str = "targets",
) -> tuple[np.ndarray, np.ndarray | None, str, list[str] | None]:
    """Turn raw targets into a dataset's ``(y, y_test, task, class_names)``.

    Class labels of any type (strings, whole numbers, booleans, one-hot rows) become ``int64``
    indices into the sorted distinct values of ``y`` and ``y_test`` together, unless
    ``class_names`` is given, in which case ``y`` must already hold indices. Regression targets
    become ``float32``.
    """
    y = np.asarray(y)
    y_test = None if y_test is None else np.asarray(y_test)
    if task is not None and task not in TASKS:
        raise DataError(f"{where}: task must be one of {', '.join(TASKS)}, got {task!r}")
    if task is None:
        same_kind = y_test is not None and y.ndim == y_test.ndim == 1
        task = infer_task(np.concatenate([y, y_test]) if same_kind else y)
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    if y_test is not None and y_test.ndim == 2 and y_test.shape[1] == 1:
        y_test = y_test[:, 0]
    if task == "regression":
        for a, what in ((y, where), (y_test, f"{where} (test)")):
            if a is not None and a.dtype.kind not in "biuf":
                raise DataError(
                    f"{what}: regression needs numeric targets, got values like {a.flat[0].item()!r}"
                )
        y = y.astype(np.float32)
        y_test = None if y_test is None else y_test.astype(np.float32)
        for a, what in ((y, where), (y_test, f"{where} (test)")):
            if a is not None and not np.isfinite(a).all():
                raise DataError(f"{what}: regression targets contain NaN or inf")
        return y, y_test, task, None
    # classification
    if _is_one_hot(y):
        y = np.argmax(y, axis=1)
        if class_names is None:
            class_names = [str(i) for i in range(np.asarray(y).max() + 1)]
    if y_test is not None and _is_one_hot(y_test):
        y_test = np.argmax(y_test, axis=1)
    for a, what in ((y, where), (y_test, f"{where} (test)")):
        if a is not None and a.ndim != 1:
            raise DataError(f"{what}: class labels must have shape (n,), got {a.shape}")
        if a is not None and a.dtype.kind == "f" and not np.isfinite(a).all():
            raise DataError(f"{what}: class labels contain NaN or inf")
    if class_names is not None:
        names = [str(c) for c in class_names]
        codes: list[np.ndarray | None] = []
        for a, what in ((y, where), (y_test, f"{where} (test)")):
            if a is None:
                codes.append(None)
                continue
            if not _integer_valued(a) or a.dtype.kind == "b":
                raise DataError(
                    f"{what}: with class_names given, labels must be indices 0..{len(names) - 1}"
                )
            c = a.astype(np.int64)
            if c.size and (c.min() < 0 or c.max() >= len(names)):
                raise DataError(
                    f"{what}: labels {int(c.min())}..{int(c.max())} do not fit "
                    f"{len(names)} class names"
                )
            codes.append(c)
        y_codes, test_codes = codes
        assert y_codes is not None  # y is an array: only y_test may be None
    else:
        both = y if y_test is None else np.concatenate([y, y_test])
        classes, inverse = np.unique(both, return_inverse=True)
        inverse = inverse.reshape(-1).astype(np.int64)
        y_codes, test_codes = inverse[: len(y)], (None if y_test is None else inverse[len(y) :])
        names = [_class_name(v) for v in classes.tolist()]
    if task == "binary" and len(names) != 2:
        raise DataError(f"{where}: task 'binary' needs exactly 2 classes, found {len(names)}")
    if len(names) < 2:
        raise DataError(f"{where}: classification needs at least 2 classes, found {names}")
    return y_codes, test_codes, task, names
