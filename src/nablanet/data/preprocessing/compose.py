"""The container of transformers applied in order: :class:`Compose`, serialized with its steps.

>>> from nablanet.data.preprocessing import StandardScaler
>>> pipe = Compose([StandardScaler()]).fit(np.array([[1.0], [3.0]]))
>>> len(pipe), pipe.get_config()["steps"][0]["class_name"]
(1, 'StandardScaler')
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ..errors import DataError
from .base import Transformer, serialize_transformer, transformer_from_config

__all__ = ["Compose"]


class Compose(Transformer):
    """Transformers applied in order (``inverse_transform`` in reverse order).

    (Named like ``torchvision.transforms.Compose``; the *training* pipeline is the package
    :mod:`nablanet.pipeline`.)

    Parameters
    ----------
    steps : list of Transformer

    Examples
    --------
    >>> from nablanet.data.preprocessing import ImageFlattener, PixelScaler
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
