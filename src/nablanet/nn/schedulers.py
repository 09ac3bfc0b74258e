"""Learning-rate schedulers: pure functions of the epoch (or of the step).

A scheduler maps an epoch index (0-based) to a learning rate. ``initial_learning_rate`` defaults
to the optimizer's rate when training starts. The trainer sets ``optimizer.learning_rate`` at the
start of every epoch and records it in the history as ``learning_rate``. A scheduler with
``per_step = True`` (:class:`InverseTimeDecay` by default) is instead called before every
optimizer step with the number of steps taken so far (``optimizer.iterations``, 0 at the first).

>>> s = StepDecay(step_size=2, gamma=0.5, initial_learning_rate=1.0)
>>> [s(e) for e in range(5)]
[1.0, 1.0, 0.5, 0.5, 0.25]
"""

from __future__ import annotations

import math
from typing import Any

from ._validation import (
    check_interval,
    check_nonnegative_float,
    check_positive_float,
    check_positive_int,
    param_error,
)
from .errors import NablanetError


class Scheduler:
    """Base class: ``scheduler(epoch) -> learning rate`` for a 0-based epoch; subclasses write
    ``_rate(epoch, lr0)``. ``bind(lr)`` sets the initial rate if none was given.

    >>> s = ExponentialDecay(gamma=0.5)
    >>> s.bind(0.1)
    >>> isinstance(s, Scheduler), [s(e) for e in range(3)]
    (True, [0.1, 0.05, 0.025])
    """

    name = ""
    #: True: called before every optimizer step with ``optimizer.iterations`` (0 at the first
    #: step) instead of at the start of every epoch with the epoch index
    per_step: bool = False

    def __init__(self, initial_learning_rate: float | None = None):
        if initial_learning_rate is not None:
            initial_learning_rate = check_positive_float(
                initial_learning_rate, "initial_learning_rate", type(self).__name__
            )
        self.initial_learning_rate = initial_learning_rate

    def bind(self, learning_rate: float) -> None:
        """Take the optimizer's rate as the initial rate if none was given."""
        if self.initial_learning_rate is None:
            self.initial_learning_rate = float(learning_rate)

    def __call__(self, epoch: int) -> float:
        if self.initial_learning_rate is None:
            raise NablanetError(f"{type(self).__name__} has no initial_learning_rate: call bind()")
        return float(self._rate(int(epoch), self.initial_learning_rate))

    def _rate(self, epoch: int, lr0: float) -> float:
        raise NotImplementedError

    def get_config(self) -> dict[str, Any]:
        return {"initial_learning_rate": self.initial_learning_rate}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Scheduler:
        return cls(**config)

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"


class StepDecay(Scheduler):
    """``lr = lr0 * gamma ** floor(epoch / step_size)`` (``torch.optim.lr_scheduler.StepLR``).

    >>> s = StepDecay(step_size=3, gamma=0.1, initial_learning_rate=1.0)
    >>> [round(s(e), 4) for e in range(7)]
    [1.0, 1.0, 1.0, 0.1, 0.1, 0.1, 0.01]
    """

    name = "step"

    def __init__(
        self, step_size: int = 10, gamma: float = 0.1, initial_learning_rate: float | None = None
    ):
        super().__init__(initial_learning_rate)
        self.step_size = check_positive_int(step_size, "step_size", "StepDecay")
        self.gamma = check_positive_float(gamma, "gamma", "StepDecay")

    def _rate(self, epoch: int, lr0: float) -> float:
        return lr0 * self.gamma ** (epoch // self.step_size)

    def get_config(self) -> dict[str, Any]:
        return {"step_size": self.step_size, "gamma": self.gamma, **super().get_config()}


class ExponentialDecay(Scheduler):
    """``lr = lr0 * gamma ** epoch`` (``torch.optim.lr_scheduler.ExponentialLR``).

    >>> s = ExponentialDecay(gamma=0.9, initial_learning_rate=1.0)
    >>> [round(s(e), 3) for e in range(4)]
    [1.0, 0.9, 0.81, 0.729]
    """

    name = "exponential"

    def __init__(self, gamma: float = 0.95, initial_learning_rate: float | None = None):
        super().__init__(initial_learning_rate)
        self.gamma = check_interval(gamma, "gamma", "ExponentialDecay", 0.0, 1.0, closed="right")

    def _rate(self, epoch: int, lr0: float) -> float:
        return lr0 * self.gamma**epoch

    def get_config(self) -> dict[str, Any]:
        return {"gamma": self.gamma, **super().get_config()}


class CosineAnnealing(Scheduler):
    """Cosine annealing from ``lr0`` to ``min_learning_rate`` over ``t_max`` epochs, with an
    optional linear warm-up.

    * warm-up, ``epoch < w``: ``lr = lr0 * (epoch + 1) / (w + 1)``
    * then, with ``e = epoch - w`` and ``T = t_max - w``:
      ``lr = min_lr + (lr0 - min_lr) * (1 + cos(pi * min(e, T) / T)) / 2``

    Without warm-up this is ``torch.optim.lr_scheduler.CosineAnnealingLR`` (held at ``min_lr``
    after ``t_max``).

    >>> s = CosineAnnealing(t_max=4, warmup_epochs=1, initial_learning_rate=1.0)
    >>> [round(s(e), 3) for e in range(6)]
    [0.5, 1.0, 0.75, 0.25, 0.0, 0.0]
    """

    name = "cosine"

    def __init__(
        self,
        t_max: int = 100,
        min_learning_rate: float = 0.0,
        warmup_epochs: int = 0,
        initial_learning_rate: float | None = None,
    ):
        super().__init__(initial_learning_rate)
        self.t_max = check_positive_int(t_max, "t_max", "CosineAnnealing")
        self.min_learning_rate = check_nonnegative_float(
            min_learning_rate, "min_learning_rate", "CosineAnnealing"
        )
        if (
            isinstance(warmup_epochs, bool)
            or not isinstance(warmup_epochs, int)
            or not 0 <= warmup_epochs < self.t_max
        ):
            raise param_error(
                "CosineAnnealing",
                "warmup_epochs",
                f"an integer in [0, t_max={self.t_max})",
                warmup_epochs,
            )
        self.warmup_epochs = warmup_epochs

    def _rate(self, epoch: int, lr0: float) -> float:
        w = self.warmup_epochs
        if epoch < w:
            return lr0 * (epoch + 1) / (w + 1)
        span = self.t_max - w
        e = min(epoch - w, span)
        return (
            self.min_learning_rate
            + (lr0 - self.min_learning_rate) * (1 + math.cos(math.pi * e / span)) / 2
        )

    def get_config(self) -> dict[str, Any]:
        return {
            "t_max": self.t_max,
            "min_learning_rate": self.min_learning_rate,
            "warmup_epochs": self.warmup_epochs,
            **super().get_config(),
        }


class InverseTimeDecay(Scheduler):
    """``lr = lr0 * (1 / (1 + decay * t))``: the ``decay`` argument of Keras' legacy optimizers
    and of the optimizers of *Neural Networks from Scratch* (Kinsley & Kukiela).

    ``t`` is the number of optimizer steps taken so far (0 for the first step) when ``per_step``
    (the default, as in both), else the epoch index. The rate is written ``lr0 * (1 / (1 + ...))``
    rather than ``lr0 / (1 + ...)`` as those two write it, so the floats are the same to the last
    bit.

    >>> s = InverseTimeDecay(decay=0.5, initial_learning_rate=1.0)
    >>> s.per_step, [round(s(t), 4) for t in range(4)]
    (True, [1.0, 0.6667, 0.5, 0.4])
    """

    name = "inverse_time"

    def __init__(
        self,
        decay: float = 0.001,
        per_step: bool = True,
        initial_learning_rate: float | None = None,
    ):
        super().__init__(initial_learning_rate)
        self.decay = check_nonnegative_float(decay, "decay", "InverseTimeDecay")
        if not isinstance(per_step, bool):
            raise param_error("InverseTimeDecay", "per_step", "a boolean", per_step)
        self.per_step = per_step

    def _rate(self, epoch: int, lr0: float) -> float:
        return lr0 * (1.0 / (1.0 + self.decay * epoch))

    def get_config(self) -> dict[str, Any]:
        return {"decay": self.decay, "per_step": self.per_step, **super().get_config()}


SCHEDULERS: dict[str, type[Scheduler]] = {
    "step": StepDecay,
    "exponential": ExponentialDecay,
    "cosine": CosineAnnealing,
    "inverse_time": InverseTimeDecay,
}


def get(spec: str | dict | Scheduler, **kwargs: Any) -> Scheduler:
    if isinstance(spec, Scheduler):
        return spec
    if isinstance(spec, str) and spec in SCHEDULERS:
        return SCHEDULERS[spec](**kwargs)
    options = ", ".join(sorted(SCHEDULERS))
    raise NablanetError(f"Unknown scheduler {spec!r}; choose one of: {options}.")
