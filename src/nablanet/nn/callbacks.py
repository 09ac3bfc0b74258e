"""Callbacks: hooks into the training loop that act through flags, never by reaching into it.

A callback sees ``self.trainer`` (and ``self.model``) and may set ``trainer.stop_training = True``.
Hooks: ``on_train_begin(logs)``, ``on_train_end(logs)``, ``on_epoch_begin(epoch, logs)``,
``on_epoch_end(epoch, logs)``, ``on_batch_end(step, logs)``. The batch logs hold ``loss`` (the
batch's data loss), ``batch``, ``size``, and ``inputs``, ``outputs`` and ``targets`` (the batch's
inputs, its model outputs, computed before the optimizer step, and its targets: arrays valid only
during the call).
"""

from __future__ import annotations

import csv
import logging
import math
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ._validation import check_interval, check_nonnegative_float, param_error
from .errors import NablanetError

if TYPE_CHECKING:  # pragma: no cover
    from .trainer import Trainer

logger = logging.getLogger("nablanet")


def _report(verbose: int, level: int, message: str, *args: Any) -> None:
    """A callback's message: to the "nablanet" log at ``level`` (the CLI and the UI show it),
    and printed as well with ``verbose`` (Keras' ``verbose=1``: a script that configured no
    logging sees it)."""
    logger.log(level, message, *args)
    if verbose:
        print(message % args, flush=True)


class Callback:
    """Base class; every hook is a no-op.

    >>> import nablanet as nb
    >>> class PrintLoss(Callback):
    ...     def on_epoch_end(self, epoch, logs=None):
    ...         print(f"epoch {epoch + 1}: loss {logs['loss']:.2f}")
    >>> model = nb.Sequential([nb.Dense(1, 1, seed=0)])
    >>> model.compile(loss="mse", optimizer=nb.SGD(0.1))
    >>> x = np.array([[0.0], [1.0]], dtype=np.float32)
    >>> _ = model.fit(x, 2 * x, epochs=2, verbose=0, callbacks=[PrintLoss()])
    epoch 1: loss ...
    epoch 2: loss ...
    """

    def __init__(self) -> None:
        # the Trainer running this callback, None until it is attached (Any: the hooks are only
        # called by a running Trainer)
        self.trainer: Any = None

    @property
    def model(self) -> Any:
        return None if self.trainer is None else self.trainer.model

    def set_trainer(self, trainer: Trainer | None) -> None:
        self.trainer = trainer

    def on_train_begin(self, logs: dict | None = None) -> None: ...

    def on_train_end(self, logs: dict | None = None) -> None: ...

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None: ...

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None: ...

    def on_batch_end(self, step: int, logs: dict | None = None) -> None: ...

    # -- resumable state (JSON-able dict and named arrays) -------------------------------------
    def get_state(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        return {}, {}

    def set_state(self, state: dict[str, Any], arrays: dict[str, np.ndarray]) -> None:
        return None


class EarlyStopping(Callback):
    """Stop when ``monitor`` has not improved by more than ``min_delta`` for ``patience`` epochs.

    With ``restore_best_weights`` the weights of the best epoch are put back however training
    ends: stopped by this callback, by another, or by running out of epochs.

    >>> es = EarlyStopping(monitor="val_loss", patience=3)
    >>> es.mode
    'min'
    """

    def __init__(
        self,
        monitor: str = "val_loss",
        patience: int = 5,
        min_delta: float = 0.0,
        mode: str = "auto",
        restore_best_weights: bool = True,
        start_from_epoch: int = 0,
        verbose: int = 0,
    ):
        super().__init__()
        if isinstance(patience, bool) or not isinstance(patience, int) or patience < 0:
            raise param_error("EarlyStopping", "patience", "a non-negative integer", patience)
        self.monitor = monitor
        self.patience = patience
        self.min_delta = check_nonnegative_float(min_delta, "min_delta", "EarlyStopping")
        if mode == "auto":
            mode = (
                "max"
                if any(k in monitor for k in ("acc", "auc", "f1", "precision", "recall", "r2"))
                else "min"
            )
        if mode not in ("min", "max"):
            raise param_error("EarlyStopping", "mode", "'auto', 'min' or 'max'", mode)
        self.mode = mode
        self.restore_best_weights = bool(restore_best_weights)
        self.start_from_epoch = start_from_epoch
        self.verbose = verbose  # as Keras: 1 prints the messages (they go to the log always)
        self._reset()

    def _reset(self) -> None:
        self.best = math.inf if self.mode == "min" else -math.inf
        self.best_epoch = -1
        self.wait = 0
        self.stopped_epoch = -1
        self.best_weights: dict[str, np.ndarray] | None = None

    def _improved(self, value: float) -> bool:
        if self.mode == "min":
            return value < self.best - self.min_delta
        return value > self.best + self.min_delta

    def on_train_begin(self, logs: dict | None = None) -> None:
        if self.trainer is not None and not getattr(self.trainer, "resuming", False):
            self._reset()

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        logs = logs or {}
        if self.monitor not in logs:
            available = ", ".join(sorted(logs))
            raise NablanetError(
                f"EarlyStopping monitors '{self.monitor}', which is not logged; "
                f"available: {available}"
            )
        value = float(logs[self.monitor])
        if epoch < self.start_from_epoch or math.isnan(value):
            return
        if self._improved(value):
            self.best, self.best_epoch, self.wait = value, epoch, 0
            if self.restore_best_weights:
                self.best_weights = self.model.state_dict()
            return
        self.wait += 1
        if self.wait >= self.patience:
            self.stopped_epoch = epoch
            self.trainer.stop_training = True
            _report(
                self.verbose,
                logging.INFO,
                "Early stopping at epoch %d: %s did not improve for %d epochs "
                "(best %.6g at epoch %d)",
                epoch + 1,
                self.monitor,
                self.patience,
                self.best,
                self.best_epoch + 1,
            )

    def on_train_end(self, logs: dict | None = None) -> None:
        if self.restore_best_weights and self.best_weights is not None:
            self.model.load_state_dict(self.best_weights)
            _report(
                self.verbose,
                logging.INFO,
                "Restored the weights of epoch %d (%s = %.6g)",
                self.best_epoch + 1,
                self.monitor,
                self.best,
            )

    def get_state(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        state = {
            "best": self.best,
            "best_epoch": self.best_epoch,
            "wait": self.wait,
            "stopped_epoch": self.stopped_epoch,
        }
        return state, dict(self.best_weights or {})

    def set_state(self, state: dict[str, Any], arrays: dict[str, np.ndarray]) -> None:
        self.best = float(state["best"])
        self.best_epoch = int(state["best_epoch"])
        self.wait = int(state["wait"])
        self.stopped_epoch = int(state["stopped_epoch"])
        self.best_weights = dict(arrays) if arrays else None


class ModelCheckpoint(Callback):
    """Save the model (or a full training checkpoint) at the end of epochs.

    ``filepath`` may contain ``{epoch}`` and any logged value, e.g. ``"ckpt-{epoch:03d}.npz"``.
    With ``save_best_only`` a file is written only when ``monitor`` improves. With
    ``full_state`` the optimizer, epoch, RNG and history are saved too (resumable).
    Files are written atomically. Keras' ``save_weights_only=False`` and ``save_freq="epoch"``
    are accepted (a file always holds the weights and the architecture); other values are
    refused in one line.

    >>> import os, tempfile
    >>> import nablanet as nb
    >>> folder = tempfile.mkdtemp()
    >>> model = nb.Sequential([nb.Dense(2, 1, seed=0)])
    >>> model.compile(loss="mse", optimizer="sgd")
    >>> x, y = np.zeros((8, 2), np.float32), np.zeros((8, 1), np.float32)
    >>> every_epoch = ModelCheckpoint(os.path.join(folder, "model-{epoch:02d}.npz"))
    >>> _ = model.fit(x, y, epochs=2, verbose=0, callbacks=[every_epoch])
    >>> sorted(os.listdir(folder))
    ['model-01.npz', 'model-02.npz']
    """

    def __init__(
        self,
        filepath: str | Path,
        monitor: str = "val_loss",
        mode: str = "auto",
        save_best_only: bool = False,
        full_state: bool = False,
        verbose: int = 0,
        save_weights_only: bool = False,
        save_freq: str = "epoch",
    ):
        super().__init__()
        # Keras' arguments, accepted where they mean what this callback does
        if save_weights_only:
            raise NablanetError(
                "ModelCheckpoint(save_weights_only=True) is not supported: the file holds the "
                "weights and the architecture (read it with nb.load_model); leave it False"
            )
        if save_freq != "epoch":
            raise param_error("ModelCheckpoint", "save_freq", "'epoch'", save_freq)
        self.filepath = str(filepath)
        self.monitor = monitor
        if mode == "auto":
            mode = "max" if any(k in monitor for k in ("acc", "auc", "f1")) else "min"
        if mode not in ("min", "max"):
            raise param_error("ModelCheckpoint", "mode", "'auto', 'min' or 'max'", mode)
        self.mode = mode
        self.save_best_only = bool(save_best_only)
        self.full_state = bool(full_state)
        self.verbose = verbose
        self.best = math.inf if mode == "min" else -math.inf

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        logs = logs or {}
        if self.save_best_only:
            value = logs.get(self.monitor)
            if value is None:
                raise NablanetError(
                    f"ModelCheckpoint monitors '{self.monitor}', which is not "
                    f"logged; available: {', '.join(sorted(logs))}"
                )
            better = value < self.best if self.mode == "min" else value > self.best
            if not better:
                return
            self.best = float(value)
        try:
            path = self.filepath.format(epoch=epoch + 1, **logs)
        except (KeyError, IndexError, ValueError) as e:
            raise NablanetError(
                f"ModelCheckpoint cannot fill in the file name {self.filepath!r} ({e!r}); "
                f"available: epoch, {', '.join(sorted(logs))}"
            ) from None
        if self.full_state:
            self.trainer.save_checkpoint(path, epoch=epoch + 1)
        else:
            self.model.save(path)
        _report(
            self.verbose,
            logging.INFO if self.verbose else logging.DEBUG,
            "ModelCheckpoint: epoch %d saved to %s",
            epoch + 1,
            path,
        )

    def get_state(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        return {"best": self.best}, {}

    def set_state(self, state: dict[str, Any], arrays: dict[str, np.ndarray]) -> None:
        self.best = float(state["best"])


def _auto_mode(mode: str, monitor: str, owner: str) -> str:
    if mode == "auto":
        mode = (
            "max"
            if any(k in monitor for k in ("acc", "auc", "f1", "precision", "recall", "r2"))
            else "min"
        )
    if mode not in ("min", "max"):
        raise param_error(owner, "mode", "'auto', 'min' or 'max'", mode)
    return mode


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


class CSVLogger(Callback):
    """Write every epoch's logs as one CSV row (``epoch`` first, counted from 0 as Keras does,
    then the logged names in sorted order), flushed at once so a crash loses nothing.

    ``append=True`` continues an existing file (a resumed run) without a second header.

    >>> import os, tempfile
    >>> import nablanet as nb
    >>> path = os.path.join(tempfile.mkdtemp(), "log.csv")
    >>> model = nb.Sequential([nb.Dense(1, 1, seed=0)])
    >>> model.compile(loss="mse", optimizer="sgd")
    >>> x = np.zeros((4, 1), np.float32)
    >>> _ = model.fit(x, x, epochs=2, verbose=0, callbacks=[CSVLogger(path)])
    >>> print(open(path).read().splitlines()[0])
    epoch,learning_rate,loss,mae
    """

    def __init__(self, filename: str | Path, separator: str = ",", append: bool = False):
        super().__init__()
        self.filename = str(filename)
        self.separator = separator
        self.append = bool(append)
        self._file: Any = None
        self._writer: Any = None
        self._keys: list[str] | None = None

    def on_train_begin(self, logs: dict | None = None) -> None:
        path = Path(self.filename)
        path.parent.mkdir(parents=True, exist_ok=True)
        appending = self.append and path.exists() and path.stat().st_size > 0
        self._keys = None
        if appending:
            with open(path, newline="", encoding="utf-8") as f:
                header = next(csv.reader(f, delimiter=self.separator), None)
            self._keys = header[1:] if header else None
        self._file = open(path, "a" if appending else "w", newline="", encoding="utf-8")
        self._writer = csv.writer(self._file, delimiter=self.separator, lineterminator="\n")

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        logs = logs or {}
        if self._writer is None:
            self.on_train_begin()
        if self._keys is None:
            self._keys = sorted(logs)
            self._writer.writerow(["epoch", *self._keys])
        self._writer.writerow([epoch, *(_csv_value(logs.get(k, "")) for k in self._keys)])
        self._file.flush()

    def on_train_end(self, logs: dict | None = None) -> None:
        if self._file is not None:
            self._file.close()
        self._file = self._writer = None


def _csv_value(value: Any) -> Any:
    return repr(float(value)) if isinstance(value, (float, np.floating)) else value


class TerminateOnNaN(Callback):
    """Stop as soon as the batch loss is NaN or infinite, and put back the last good weights
    (those at the start of the epoch in which the loss diverged).

    >>> import nablanet as nb
    >>> trainer = nb.Trainer(nb.Sequential([nb.Dense(2, 1, seed=0)]), verbose=0)
    >>> stop = TerminateOnNaN()
    >>> stop.set_trainer(trainer)
    >>> stop.on_epoch_begin(0)
    >>> stop.on_batch_end(0, {"loss": 0.7})
    >>> stop.on_batch_end(1, {"loss": float("nan")})
    >>> trainer.stop_training, stop.terminated_at                 # (epoch, batch)
    (True, (0, 1))
    """

    def __init__(self) -> None:
        super().__init__()
        self._snapshot: dict[str, np.ndarray] | None = None
        self.terminated_at: tuple[int, int] | None = None
        self._epoch = 0

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        self._epoch = epoch
        self._snapshot = self.model.state_dict()

    def on_batch_end(self, step: int, logs: dict | None = None) -> None:
        loss = (logs or {}).get("loss")
        if loss is not None and not math.isfinite(loss):
            self.terminated_at = (self._epoch, step)
            self.trainer.stop_training = True
            if self._snapshot is not None:
                self.model.load_state_dict(self._snapshot)
            logger.warning(
                "TerminateOnNaN: the loss became %s at epoch %d, batch %d; training stopped and "
                "the weights from the start of epoch %d were restored (try a lower learning rate)",
                loss,
                self._epoch + 1,
                step + 1,
                self._epoch + 1,
            )


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


class LambdaCallback(Callback):
    """A callback from plain functions, e.g. ``LambdaCallback(on_epoch_end=lambda e, logs: ...)``.

    >>> seen = []
    >>> callback = LambdaCallback(on_epoch_end=lambda epoch, logs: seen.append(epoch))
    >>> callback.on_epoch_end(3, {"loss": 0.1})
    >>> seen
    [3]
    """

    def __init__(
        self,
        on_train_begin: Callable | None = None,
        on_train_end: Callable | None = None,
        on_epoch_begin: Callable | None = None,
        on_epoch_end: Callable | None = None,
        on_batch_end: Callable | None = None,
    ):
        super().__init__()
        for name, fn in [
            ("on_train_begin", on_train_begin),
            ("on_train_end", on_train_end),
            ("on_epoch_begin", on_epoch_begin),
            ("on_epoch_end", on_epoch_end),
            ("on_batch_end", on_batch_end),
        ]:
            if fn is not None:
                setattr(self, name, fn)


class History(Callback):
    """Per-epoch logs: ``history.history["loss"]``, ``["val_loss"]``, metrics and
    ``["learning_rate"]``; ``history.epoch`` lists the epoch indices.

    ``Sequential.fit`` returns it; it is saved as ``history.json`` by the pipeline.

    >>> h = History()
    >>> h.on_epoch_end(0, {"loss": 0.5, "val_loss": 0.6})
    >>> h.on_epoch_end(1, {"loss": 0.4, "val_loss": 0.5})
    >>> h["loss"], h.epoch
    ([0.5, 0.4], [0, 1])
    >>> History.from_dict(h.to_dict()).history == h.history
    True
    """

    def __init__(self) -> None:
        super().__init__()
        self.history: dict[str, list[float]] = {}
        self.epoch: list[int] = []

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        self.epoch.append(epoch)
        for key, value in (logs or {}).items():
            self.history.setdefault(key, []).append(float(value))

    def to_dict(self) -> dict[str, Any]:
        return {"epoch": list(self.epoch), **{k: list(v) for k, v in self.history.items()}}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> History:
        h = cls()
        h.epoch = [int(e) for e in data.get("epoch", [])]
        h.history = {k: [float(x) for x in v] for k, v in data.items() if k != "epoch"}
        return h

    def __getitem__(self, key: str) -> list[float]:
        return self.history[key]

    def __repr__(self) -> str:
        return f"History(epochs={len(self.epoch)}, keys={sorted(self.history)})"
