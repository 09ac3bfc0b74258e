"""Callbacks that set the learning rate: :class:`ReduceLROnPlateau` (Keras and PyTorch rules)
and :class:`LearningRateScheduler` (a function of the epoch).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

from .._validation import check_interval, check_nonnegative_float, param_error
from ..errors import NablanetError

if TYPE_CHECKING:  # pragma: no cover
    pass

from .base import Callback, _report
from .monitors import _auto_mode

logger = logging.getLogger("nablanet")


class ReduceLROnPlateau(Callback):
    """Multiply the learning rate by ``factor`` when ``monitor`` has stopped improving for
    ``patience`` epochs, as Keras' and PyTorch's ``ReduceLROnPlateau``.

    An epoch improves when ``monitor`` beats the best value by more than ``min_delta``
    (absolute, as Keras; ``mode="min"`` lower is better, ``"max"`` higher, ``"auto"`` from the
    name). After a reduction, ``cooldown`` epochs pass before counting again; the rate never
    goes below ``min_lr``. The new rate applies from the next epoch (``logs["learning_rate"]``
    records each epoch's). It cannot be combined with a ``scheduler`` (which sets the rate
    every epoch).

    >>> import nablanet as nb
    >>> model = nb.Sequential([nb.Dense(1, 1, seed=0)])
    >>> model.compile(loss="mse", optimizer=nb.SGD(0.1))
    >>> plateau = ReduceLROnPlateau(monitor="loss", factor=0.5, patience=1)
    >>> plateau.set_trainer(nb.Trainer(model, verbose=0))
    >>> plateau.on_train_begin()
    >>> for epoch, loss in enumerate([1.0, 1.0, 1.0, 0.5]):
    ...     plateau.on_epoch_end(epoch, {"loss": loss})
    >>> model.optimizer.learning_rate                  # halved twice: epochs 2 and 3 did not improve
    0.025
    """

    def __init__(
        self,
        monitor: str = "val_loss",
        factor: float = 0.1,
        patience: int = 10,
        verbose: int = 0,
        mode: str = "auto",
        min_delta: float = 1e-4,
        cooldown: int = 0,
        min_lr: float = 0.0,
    ):
        super().__init__()
        self.monitor = monitor
        self.factor = check_interval(factor, "factor", "ReduceLROnPlateau", 0.0, 1.0, "neither")
        for name, value in (("patience", patience), ("cooldown", cooldown)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise param_error("ReduceLROnPlateau", name, "a non-negative integer", value)
        self.patience = patience
        self.cooldown = cooldown
        self.verbose = verbose
        self.mode = _auto_mode(mode, monitor, "ReduceLROnPlateau")
        self.min_delta = check_nonnegative_float(min_delta, "min_delta", "ReduceLROnPlateau")
        self.min_lr = check_nonnegative_float(min_lr, "min_lr", "ReduceLROnPlateau")
        self._reset()

    def _reset(self) -> None:
        self.best = math.inf if self.mode == "min" else -math.inf
        self.wait = 0
        self.cooldown_counter = 0

    def _improved(self, value: float) -> bool:
        if self.mode == "min":
            return value < self.best - self.min_delta
        return value > self.best + self.min_delta

    def on_train_begin(self, logs: dict | None = None) -> None:
        if self.trainer is not None and getattr(self.trainer, "scheduler", None) is not None:
            raise NablanetError(
                "ReduceLROnPlateau cannot be combined with a scheduler (the scheduler sets the "
                "learning rate every epoch): use one of them"
            )
        if self.trainer is not None and not getattr(self.trainer, "resuming", False):
            self._reset()

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        logs = logs or {}
        if self.monitor not in logs:
            raise NablanetError(
                f"ReduceLROnPlateau monitors '{self.monitor}', which is not logged; "
                f"available: {', '.join(sorted(logs))}"
            )
        value = float(logs[self.monitor])
        if math.isnan(value):
            return
        in_cooldown = self.cooldown_counter > 0
        if in_cooldown:
            self.cooldown_counter -= 1
            self.wait = 0
        if self._improved(value):
            self.best, self.wait = value, 0
            return
        if in_cooldown:
            return
        self.wait += 1
        if self.wait < self.patience:
            return
        optimizer = self.trainer.optimizer
        old = float(optimizer.learning_rate)
        if old > self.min_lr:
            new = max(old * self.factor, self.min_lr)
            optimizer.learning_rate = new
            _report(
                self.verbose,
                logging.INFO if self.verbose else logging.DEBUG,
                "ReduceLROnPlateau: %s did not improve for %d epochs; learning rate %.3g -> %.3g",
                self.monitor,
                self.wait,
                old,
                new,
            )
            self.cooldown_counter = self.cooldown
            self.wait = 0

    def get_state(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        return {"best": self.best, "wait": self.wait, "cooldown_counter": self.cooldown_counter}, {}

    def set_state(self, state: dict[str, Any], arrays: dict[str, np.ndarray]) -> None:
        self.best = float(state["best"])
        self.wait = int(state["wait"])
        self.cooldown_counter = int(state["cooldown_counter"])


class LearningRateScheduler(Callback):
    """Set the learning rate at the start of each epoch to ``schedule(epoch, lr)``, as Keras'
    ``LearningRateScheduler`` (``epoch`` counts from 0, ``lr`` is the current rate; a
    ``schedule(epoch)`` of one argument works too). The built-in schedules are
    :mod:`nablanet.nn.schedulers`, given as ``fit(scheduler=...)``; this callback cannot be
    combined with one.

    >>> import nablanet as nb
    >>> model = nb.Sequential([nb.Dense(1, 1, seed=0)])
    >>> model.compile(loss="mse", optimizer=nb.SGD(0.1))
    >>> halve = LearningRateScheduler(lambda epoch, lr: lr if epoch == 0 else lr / 2)
    >>> x = np.zeros((4, 1), np.float32)
    >>> model.fit(x, x, epochs=3, verbose=0, callbacks=[halve])["learning_rate"]
    [0.1, 0.05, 0.025]
    """

    def __init__(self, schedule: Callable, verbose: int = 0):
        super().__init__()
        if not callable(schedule):
            raise param_error("LearningRateScheduler", "schedule", "a function", schedule)
        self.schedule = schedule
        self.verbose = verbose

    def on_train_begin(self, logs: dict | None = None) -> None:
        if self.trainer is not None and getattr(self.trainer, "scheduler", None) is not None:
            raise NablanetError(
                "LearningRateScheduler cannot be combined with fit(scheduler=...) (both set "
                "the learning rate every epoch): use one of them"
            )

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        optimizer = self.trainer.optimizer
        old = float(optimizer.learning_rate)
        try:
            new = self.schedule(epoch, old)
        except TypeError:
            new = self.schedule(epoch)  # Keras 1's schedule(epoch)
        if (
            isinstance(new, bool)
            or not isinstance(new, (int, float, np.number))
            or not math.isfinite(new)
            or new <= 0
        ):
            raise NablanetError(
                f"LearningRateScheduler: schedule({epoch}, {old:.3g}) returned {new!r}; it must "
                "return a positive number, the learning rate of the epoch"
            )
        optimizer.learning_rate = float(new)
        if float(new) != old:
            _report(
                self.verbose,
                logging.INFO if self.verbose else logging.DEBUG,
                "LearningRateScheduler: epoch %d, learning rate %.3g",
                epoch + 1,
                float(new),
            )
