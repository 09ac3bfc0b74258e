"""The transformer interface, the registry of transformer classes and their serialization.

Every transformer has ``fit(x)``, ``transform(x)``, ``fit_transform(x)``, ``inverse_transform(x)``
and ``get_config()`` / ``from_config(config)``. The config holds the constructor arguments *and*
the fitted numbers as plain JSON values (lists of floats), so a model file can store its
preprocessing as JSON and prediction uses exactly the numbers of training. Each subclass
registers itself by class name (``TRANSFORMER_REGISTRY``); :func:`serialize_transformer` adds the
class name to the config and :func:`transformer_from_config` reverses it.

>>> serialize_transformer(Transformer())
{'class_name': 'Transformer', 'config': {}}
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from ..errors import DataError

__all__ = [
    "TRANSFORMER_REGISTRY",
    "Transformer",
    "check_samples",
    "serialize_transformer",
    "transformer_from_config",
]

TRANSFORMER_REGISTRY: dict[str, type[Transformer]] = {}


def check_samples(x: Any, owner: str, min_ndim: int = 2) -> np.ndarray:
    """``x`` as an array of numbers of shape ``(n_samples, ...)`` with ``n_samples > 0``, or a
    :class:`DataError` naming ``owner``."""
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
