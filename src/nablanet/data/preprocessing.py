"""Preprocessing transformers, fitted on the training split only and saved with the model.

Every transformer has ``fit(x)``, ``transform(x)``, ``fit_transform(x)``, ``inverse_transform(x)``
and ``get_config()`` / ``from_config(config)``. The config holds the constructor arguments *and*
the fitted numbers as plain JSON values (lists of floats), so a model file can store its
preprocessing as JSON and prediction uses exactly the numbers of training.
:func:`serialize_transformer` adds the class name; :func:`transformer_from_config` reverses it.

Reductions in ``fit`` run block by block in float64, so fitting on a memory-mapped array bigger
than RAM streams it from disk. Outputs are ``float32`` (labels: ``int64``).

>>> import json
>>> import numpy as np
>>> x_train = np.array([[1.0, 10.0], [3.0, 10.0]], dtype=np.float32)
>>> scaler = StandardScaler().fit(x_train)
>>> scaler.transform(x_train).tolist()   # the constant column stays finite
[[-1.0, 0.0], [1.0, 0.0]]
>>> spec = json.loads(json.dumps(serialize_transformer(scaler)))
>>> transformer_from_config(spec).transform(np.array([[2.0, 10.0]])).tolist()
[[0.0, 0.0]]
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any, ClassVar

import numpy as np

from .dataset import CHUNK_BYTES
from .errors import DataError

TRANSFORMER_REGISTRY: dict[str, type[Transformer]] = {}


def _blocks(x: np.ndarray) -> Iterator[np.ndarray]:
    """Row blocks of ``x`` as float64, about ``CHUNK_BYTES`` each."""
    row_bytes = max(1, int(np.prod(x.shape[1:], dtype=np.int64)) * 8)
    rows = max(1, CHUNK_BYTES // row_bytes)
    for start in range(0, len(x), rows):
        yield np.asarray(x[start : start + rows], dtype=np.float64)


def _check_samples(x: Any, owner: str, min_ndim: int = 2) -> np.ndarray:
    if not isinstance(x, np.ndarray):
        x = np.asarray(x)
    if x.dtype.kind not in "biuf":
        raise DataError(f"{owner} expects numbers, got an array of dtype {x.dtype}")
    if x.ndim < min_ndim:
        raise DataError(f"{owner} expects an array of shape (n_samples, ...), got shape {x.shape}")
    if len(x) == 0:
        raise DataError(f"{owner} cannot fit on an empty array of shape {x.shape}")
    return x


def _to_list(a: np.ndarray | None) -> Any:
    return None if a is None else np.asarray(a, dtype=np.float64).tolist()


def _from_list(v: Any) -> np.ndarray | None:
    return None if v is None else np.asarray(v, dtype=np.float32)


class Transformer:
    """Base class: subclasses register by class name so configs can rebuild them.

    Subclasses list their constructor arguments in ``params`` and their fitted attributes in
    ``state``; :meth:`get_config` returns both as JSON values.

    Examples
    --------
    >>> class Doubler(Transformer):
    ...     def transform(self, x):
    ...         return np.asarray(x, np.float32) * 2
    ...     def inverse_transform(self, x):
    ...         return np.asarray(x, np.float32) / 2
    >>> Doubler().fit_transform(np.array([[1.0, 2.0]])).tolist(), Doubler().get_config()
    ([[2.0, 4.0]], {})
    >>> del TRANSFORMER_REGISTRY["Doubler"]
    """

    params: ClassVar[tuple[str, ...]] = ()
    state: ClassVar[tuple[str, ...]] = ()

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if not cls.__name__.startswith("_"):
            TRANSFORMER_REGISTRY[cls.__name__] = cls

    # -- interface ---------------------------------------------------------------------------
    def fit(self, x: np.ndarray, y: np.ndarray | None = None) -> Transformer:
        """Learn the numbers from training data; returns ``self``."""
        return self

    def transform(self, x: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def inverse_transform(self, x: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def fit_transform(self, x: np.ndarray, y: np.ndarray | None = None) -> np.ndarray:
        return self.fit(x, y).transform(x)

    def __call__(self, x: np.ndarray) -> np.ndarray:
        return self.transform(x)

    @property
    def is_fitted(self) -> bool:
        return all(getattr(self, name) is not None for name in self.state)

    def _require_fitted(self) -> None:
        if not self.is_fitted:
            raise DataError(
                f"{type(self).__name__} is not fitted yet; call fit(x_train) before transform"
            )

    # -- config ------------------------------------------------------------------------------
    def _state_to_json(self, name: str) -> Any:
        return _to_list(getattr(self, name))

    def _state_from_json(self, name: str, value: Any) -> Any:
        return _from_list(value)

    def get_config(self) -> dict[str, Any]:
        """Constructor arguments and fitted state as JSON values (state is None when unfitted)."""
        config = {name: getattr(self, name) for name in self.params}
        config.update({name: self._state_to_json(name) for name in self.state})
        return config

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Transformer:
        """Rebuild a transformer, fitted state included, from :meth:`get_config`'s output."""
        unknown = [k for k in config if k not in cls.params and k not in cls.state]
        if unknown:
            raise DataError(
                f"{cls.__name__} config: unknown key {unknown[0]!r}; expected "
                f"{', '.join(cls.params + cls.state)}"
            )
        obj = cls(**{k: config[k] for k in cls.params if k in config})
        for name in cls.state:
            if config.get(name) is not None:
                setattr(obj, name, obj._state_from_json(name, config[name]))
        return obj

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={getattr(self, k)!r}" for k in self.params)
        return f"{type(self).__name__}({args})"


def serialize_transformer(transformer: Transformer) -> dict[str, Any]:
    """``{"class_name": ..., "config": ...}``, JSON-able."""
    return {"class_name": type(transformer).__name__, "config": transformer.get_config()}


#: class names that model files written by earlier versions hold (read, never written)
_FORMER_CLASS_NAMES = {"Flatten": "ImageFlattener", "Pipeline": "Compose"}


def transformer_from_config(spec: dict[str, Any]) -> Transformer:
    """Rebuild a transformer from ``{"class_name": ..., "config": {...}}``
    (:func:`serialize_transformer`'s output)."""
    if not isinstance(spec, dict) or "class_name" not in spec:
        raise DataError(
            "a transformer spec must be {'class_name': ..., 'config': {...}}, got "
            f"{type(spec).__name__} with keys {list(spec) if isinstance(spec, dict) else []}"
        )
    name = _FORMER_CLASS_NAMES.get(spec["class_name"], spec["class_name"])
    cls = TRANSFORMER_REGISTRY.get(name)
    if cls is None:
        known = ", ".join(sorted(TRANSFORMER_REGISTRY))
        raise DataError(f"unknown transformer class {name!r}; known: {known}")
    return cls.from_config(dict(spec.get("config") or {}))


class _FeatureTransformer(Transformer):
    """Per-feature statistics over axis 0, checked against the feature shape at transform."""

    def _check_shape(self, x: np.ndarray, reference: np.ndarray) -> None:
        if reference.ndim and x.shape[1:] != reference.shape:
            raise DataError(
                f"{type(self).__name__} was fitted on samples of shape {reference.shape}, got an "
                f"array of shape {x.shape}"
            )


class StandardScaler(_FeatureTransformer):
    """Standardization ``(x - mean) / std``, per feature or over all values.

    A feature with zero variance gets ``std = 1`` (it maps to 0, never NaN).

    Parameters
    ----------
    per_feature : bool
        One mean and std per feature (position ``x.shape[1:]``), or one for the whole array.

    Attributes
    ----------
    mean, scale : ndarray of shape x.shape[1:] (or scalars), float32; None before ``fit``.

    Examples
    --------
    >>> s = StandardScaler().fit(np.array([[0.0], [2.0], [4.0]]))
    >>> s.mean, s.scale
    (array([2.], dtype=float32), array([1.6329932], dtype=float32))
    >>> s.inverse_transform(s.transform(np.array([[4.0]]))).tolist()
    [[4.0]]
    """

    params = ("per_feature",)
    state = ("mean", "scale")

    def __init__(self, per_feature: bool = True):
        self.per_feature = bool(per_feature)
        self.mean: np.ndarray | None = None
        self.scale: np.ndarray | None = None

    def fit(self, x: np.ndarray, y: np.ndarray | None = None) -> StandardScaler:
        x = _check_samples(x, "StandardScaler.fit")
        # Chan et al.'s pairwise merge of per-block means and sums of squared deviations.
        count, mean, m2 = 0, None, None
        for block in _blocks(x):
            if not np.isfinite(block).all():
                raise DataError(
                    f"StandardScaler.fit: the data (shape {x.shape}) contains NaN or inf"
                )
            if not self.per_feature:
                block = block.reshape(-1, 1)
            n_b = len(block)
            mean_b = block.mean(axis=0)
            m2_b = ((block - mean_b) ** 2).sum(axis=0)
            if mean is None:
                count, mean, m2 = n_b, mean_b, m2_b
                continue
            total = count + n_b
            delta = mean_b - mean
            mean = mean + delta * (n_b / total)
            m2 = m2 + m2_b + delta**2 * (count * n_b / total)
            count = total
        std = np.sqrt(m2 / count)
        std[std < 1e-12 * np.maximum(1.0, np.abs(mean))] = 1.0
        if not self.per_feature:
            mean, std = mean[0], std[0]
        self.mean, self.scale = mean.astype(np.float32), std.astype(np.float32)
        return self

    def transform(self, x: np.ndarray) -> np.ndarray:
        self._require_fitted()
        x = np.asarray(x, dtype=np.float32)
        self._check_shape(x, self.mean)
        return (x - self.mean) / self.scale

    def inverse_transform(self, x: np.ndarray) -> np.ndarray:
        self._require_fitted()
        x = np.asarray(x, dtype=np.float32)
        self._check_shape(x, self.mean)
        return x * self.scale + self.mean


class MinMaxScaler(_FeatureTransformer):
    """Min-max normalization of each feature to ``feature_range``.

    A constant feature maps to the lower end of the range (never NaN), and back.

    Parameters
    ----------
    feature_range : (float, float)
        ``(low, high)`` with ``low < high``.

    Attributes
    ----------
    data_min, data_max : ndarray of shape x.shape[1:], float32; None before ``fit``.

    Examples
    --------
    >>> m = MinMaxScaler().fit(np.array([[0.0, 5.0], [10.0, 5.0]]))
    >>> m.transform(np.array([[2.5, 5.0]])).tolist()
    [[0.25, 0.0]]
    """

    params = ("feature_range",)
    state = ("data_min", "data_max")

    def __init__(self, feature_range: Sequence[float] = (0.0, 1.0)):
        if len(feature_range) != 2 or not float(feature_range[0]) < float(feature_range[1]):
            raise DataError(
                f"The 'feature_range' parameter of MinMaxScaler must be (low, high) with "
                f"low < high. Got {feature_range!r} instead."
            )
        self.feature_range = [float(feature_range[0]), float(feature_range[1])]
        self.data_min: np.ndarray | None = None
        self.data_max: np.ndarray | None = None

    def fit(self, x: np.ndarray, y: np.ndarray | None = None) -> MinMaxScaler:
        x = _check_samples(x, "MinMaxScaler.fit")
        lo = hi = None
        for block in _blocks(x):
            if not np.isfinite(block).all():
                raise DataError(f"MinMaxScaler.fit: the data (shape {x.shape}) contains NaN or inf")
            b_lo, b_hi = block.min(axis=0), block.max(axis=0)
            lo = b_lo if lo is None else np.minimum(lo, b_lo)
            hi = b_hi if hi is None else np.maximum(hi, b_hi)
        self.data_min, self.data_max = lo.astype(np.float32), hi.astype(np.float32)
        return self

    def _ratio(self) -> np.ndarray:
        span = (self.data_max - self.data_min).astype(np.float32)
        span[span == 0] = 1.0
        low, high = self.feature_range
        return np.float32(high - low) / span

    def transform(self, x: np.ndarray) -> np.ndarray:
        self._require_fitted()
        x = np.asarray(x, dtype=np.float32)
        self._check_shape(x, self.data_min)
        return (x - self.data_min) * self._ratio() + np.float32(self.feature_range[0])

    def inverse_transform(self, x: np.ndarray) -> np.ndarray:
        self._require_fitted()
        x = np.asarray(x, dtype=np.float32)
        self._check_shape(x, self.data_min)
        return (x - np.float32(self.feature_range[0])) / self._ratio() + self.data_min


class PixelScaler(Transformer):
    """Pixel values ``0..max_value`` (``uint8`` images) to ``float32`` in [0, 1].

    Nothing is learnt; ``fit`` is there for the common interface. Use the dataset's
    ``value_range[1]`` as ``max_value`` (255 for MNIST, 16 for scikit-learn's digits).

    Examples
    --------
    >>> PixelScaler().transform(np.array([[0, 51, 255]], dtype=np.uint8))
    array([[0. , 0.2, 1. ]], dtype=float32)
    """

    params = ("max_value",)

    def __init__(self, max_value: float = 255.0):
        if isinstance(max_value, bool) or not float(max_value) > 0:
            raise DataError(
                f"The 'max_value' parameter of PixelScaler must be a positive number. "
                f"Got {max_value!r} instead."
            )
        self.max_value = float(max_value)

    def transform(self, x: np.ndarray) -> np.ndarray:
        return np.asarray(x, dtype=np.float32) / np.float32(self.max_value)

    def inverse_transform(self, x: np.ndarray) -> np.ndarray:
        """Back to the pixel range as ``float32`` (round and cast to ``uint8`` for display)."""
        return np.asarray(x, dtype=np.float32) * np.float32(self.max_value)


class ImageFlattener(Transformer):
    """Flatten samples ``(n, H, W, C)`` to ``(n, H*W*C)`` (a view when possible), and back.

    The data-side twin of the layer :class:`nablanet.nn.Flatten`: it runs once on the dataset
    (so a ``dense`` model receives vectors) and restores image shapes for display.

    Examples
    --------
    >>> f = ImageFlattener().fit(np.zeros((2, 28, 28, 1), np.uint8))
    >>> f.transform(np.zeros((5, 28, 28, 1))).shape, f.inverse_transform(np.zeros((5, 784))).shape
    ((5, 784), (5, 28, 28, 1))
    """

    state = ("input_shape",)

    def __init__(self) -> None:
        self.input_shape: tuple[int, ...] | None = None

    def _state_to_json(self, name: str) -> Any:
        return None if self.input_shape is None else list(self.input_shape)

    def _state_from_json(self, name: str, value: Any) -> Any:
        return tuple(int(v) for v in value)

    def fit(self, x: np.ndarray, y: np.ndarray | None = None) -> ImageFlattener:
        x = _check_samples(x, "ImageFlattener.fit")
        self.input_shape = tuple(int(s) for s in x.shape[1:])
        return self

    def transform(self, x: np.ndarray) -> np.ndarray:
        self._require_fitted()
        if not isinstance(x, np.ndarray):
            x = np.asarray(x)
        if x.shape[1:] != self.input_shape:
            raise DataError(
                f"ImageFlattener was fitted on samples of shape {self.input_shape}, got an array of "
                f"shape {x.shape}"
            )
        return x.reshape(len(x), -1)

    def inverse_transform(self, x: np.ndarray) -> np.ndarray:
        self._require_fitted()
        x = np.asarray(x)
        size = int(np.prod(self.input_shape))
        if x.ndim != 2 or x.shape[1] != size:
            raise DataError(
                f"ImageFlattener.inverse_transform expects shape (n, {size}) to restore samples of shape "
                f"{self.input_shape}, got {x.shape}"
            )
        return x.reshape(len(x), *self.input_shape)


def _check_labels(y: Any, owner: str) -> np.ndarray:
    y = np.asarray(y)
    if y.ndim != 1:
        raise DataError(f"{owner} expects labels of shape (n,), got shape {y.shape}")
    if y.dtype.kind not in "biu":
        if y.dtype.kind == "f" and np.isfinite(y).all() and (y == np.round(y)).all():
            return y.astype(np.int64)
        raise DataError(
            f"{owner} expects integer class indices, got dtype {y.dtype}; use LabelEncoder first"
        )
    return y.astype(np.int64, copy=False)


class OneHotEncoder(Transformer):
    """Class indices ``(n,)`` to one-hot rows ``(n, n_classes)`` ``float32``, and back
    (``argmax``).

    Parameters
    ----------
    n_classes : int, optional
        Number of classes; learnt as ``max(y) + 1`` by ``fit`` when not given.

    Examples
    --------
    >>> enc = OneHotEncoder(n_classes=3)
    >>> enc.transform(np.array([2, 0])).tolist()
    [[0.0, 0.0, 1.0], [1.0, 0.0, 0.0]]
    >>> enc.inverse_transform(np.array([[0.1, 0.7, 0.2]])).tolist()
    [1]
    """

    params = ("n_classes",)

    def __init__(self, n_classes: int | None = None):
        if n_classes is not None and (
            isinstance(n_classes, bool) or int(n_classes) != n_classes or n_classes < 1
        ):
            raise DataError(
                f"The 'n_classes' parameter of OneHotEncoder must be a positive integer. "
                f"Got {n_classes!r} instead."
            )
        self.n_classes = None if n_classes is None else int(n_classes)

    @property
    def is_fitted(self) -> bool:
        return self.n_classes is not None

    def fit(self, x: np.ndarray, y: np.ndarray | None = None) -> OneHotEncoder:
        labels = _check_labels(x, "OneHotEncoder.fit")
        if labels.size == 0:
            raise DataError("OneHotEncoder.fit: no labels")
        if labels.min() < 0:
            raise DataError(f"OneHotEncoder.fit: negative label {int(labels.min())}")
        if self.n_classes is None:
            self.n_classes = int(labels.max()) + 1
        return self

    def transform(self, x: np.ndarray) -> np.ndarray:
        self._require_fitted()
        labels = _check_labels(x, "OneHotEncoder.transform")
        if labels.size and (labels.min() < 0 or labels.max() >= self.n_classes):
            bad = labels[(labels < 0) | (labels >= self.n_classes)][0]
            raise DataError(f"OneHotEncoder: label {int(bad)} is outside 0..{self.n_classes - 1}")
        out = np.zeros((len(labels), self.n_classes), dtype=np.float32)
        out[np.arange(len(labels)), labels] = 1.0
        return out

    def inverse_transform(self, x: np.ndarray) -> np.ndarray:
        self._require_fitted()
        x = np.asarray(x)
        if x.ndim != 2 or x.shape[1] != self.n_classes:
            raise DataError(
                f"OneHotEncoder.inverse_transform expects shape (n, {self.n_classes}), got "
                f"{x.shape}"
            )
        return np.argmax(x, axis=1).astype(np.int64)


class LabelEncoder(Transformer):
    """Class labels of any kind (strings, numbers) to indices ``0..n_classes-1`` in sorted order,
    and back.

    Attributes
    ----------
    classes : ndarray of shape (n_classes,); None before ``fit``.

    Examples
    --------
    >>> enc = LabelEncoder().fit(np.array(["dog", "cat", "dog"]))
    >>> enc.classes.tolist(), enc.transform(np.array(["dog", "cat"])).tolist()
    (['cat', 'dog'], [1, 0])
    >>> enc.inverse_transform(np.array([0, 1, 1])).tolist()
    ['cat', 'dog', 'dog']
    """

    state = ("classes",)

    def __init__(self) -> None:
        self.classes: np.ndarray | None = None

    def _state_to_json(self, name: str) -> Any:
        return None if self.classes is None else self.classes.tolist()

    def _state_from_json(self, name: str, value: Any) -> Any:
        return np.asarray(value)

    def fit(self, x: np.ndarray, y: np.ndarray | None = None) -> LabelEncoder:
        labels = np.asarray(x)
        if labels.ndim != 1 or labels.size == 0:
            raise DataError(f"LabelEncoder.fit expects labels of shape (n,), got {labels.shape}")
        self.classes = np.unique(labels)
        return self

    def transform(self, x: np.ndarray) -> np.ndarray:
        self._require_fitted()
        labels = np.asarray(x)
        if labels.ndim != 1:
            raise DataError(f"LabelEncoder.transform expects shape (n,), got {labels.shape}")
        if labels.size == 0:
            return np.zeros(0, dtype=np.int64)
        try:
            codes = np.searchsorted(self.classes, labels)
        except TypeError:  # includes numpy's DTypePromotionError
            raise DataError(
                f"LabelEncoder: labels of dtype {labels.dtype} do not match the fitted classes "
                f"of dtype {self.classes.dtype}"
            ) from None
        codes = np.clip(codes, 0, len(self.classes) - 1)
        unknown = self.classes[codes] != labels
        if unknown.any():
            raise DataError(
                f"LabelEncoder: unknown label {labels[unknown][0].item()!r}; known: "
                f"{self.classes.tolist()}"
            )
        return codes.astype(np.int64)

    def inverse_transform(self, x: np.ndarray) -> np.ndarray:
        self._require_fitted()
        codes = _check_labels(x, "LabelEncoder.inverse_transform")
        if codes.size and (codes.min() < 0 or codes.max() >= len(self.classes)):
            raise DataError(
                f"LabelEncoder.inverse_transform: index out of 0..{len(self.classes) - 1}"
            )
        return self.classes[codes]


class Compose(Transformer):
    """Transformers applied in order (``inverse_transform`` in reverse order).

    (Named like ``torchvision.transforms.Compose``; the *training* pipeline is the package
    :mod:`nablanet.pipeline`.)

    Parameters
    ----------
    steps : list of Transformer

    Examples
    --------
    >>> images = np.full((2, 4, 4, 1), 255, dtype=np.uint8)
    >>> pipe = Compose([PixelScaler(), ImageFlattener()]).fit(images)
    >>> pipe.transform(images).shape, float(pipe.transform(images).max())
    ((2, 16), 1.0)
    >>> transformer_from_config(serialize_transformer(pipe)).inverse_transform(np.ones((1, 16))).shape
    (1, 4, 4, 1)
    """

    params = ("steps",)

    def __init__(self, steps: Sequence[Transformer] = ()):
        steps = list(steps)
        bad = [s for s in steps if not isinstance(s, Transformer)]
        if bad:
            raise DataError(f"Compose steps must be transformers, got {type(bad[0]).__name__}")
        self.steps = steps

    @property
    def is_fitted(self) -> bool:
        return all(s.is_fitted for s in self.steps)

    def fit(self, x: np.ndarray, y: np.ndarray | None = None) -> Compose:
        for step in self.steps[:-1]:
            x = step.fit_transform(x, y)
        if self.steps:
            self.steps[-1].fit(x, y)
        return self

    def fit_transform(self, x: np.ndarray, y: np.ndarray | None = None) -> np.ndarray:
        for step in self.steps:
            x = step.fit_transform(x, y)
        return x

    def transform(self, x: np.ndarray) -> np.ndarray:
        for step in self.steps:
            x = step.transform(x)
        return x

    def inverse_transform(self, x: np.ndarray) -> np.ndarray:
        for step in reversed(self.steps):
            x = step.inverse_transform(x)
        return x

    def get_config(self) -> dict[str, Any]:
        return {"steps": [serialize_transformer(s) for s in self.steps]}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Compose:
        unknown = [k for k in config if k != "steps"]
        if unknown:
            raise DataError(f"Compose config: unknown key {unknown[0]!r}; expected steps")
        return cls([transformer_from_config(s) for s in config.get("steps", [])])

    def __len__(self) -> int:
        return len(self.steps)

    def __getitem__(self, i: int) -> Transformer:
        return self.steps[i]

    def __repr__(self) -> str:
        return f"Compose([{', '.join(map(repr, self.steps))}])"
