"""Callbacks that watch a monitored quantity: :class:`EarlyStopping`, :class:`ModelCheckpoint`
(``save_best_only``), :class:`TerminateOnNaN`.
"""

from __future__ import annotations

import logging
import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from .._validation import check_nonnegative_float, param_error
from ..errors import NablanetError

if TYPE_CHECKING:  # pragma: no cover
    pass

from .base import Callback, _report

logger = logging.getLogger("nablanet")


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
