"""Callbacks the pipeline adds to a run: per-epoch log lines, a progress bar, a stop flag and the
run's checkpoints.

The order in a run is fixed (see :func:`nablanet.pipeline.run.train`): early stopping and
NaN-termination first, then logging and the progress bar, the user's callbacks, the stop flag
and, last, :class:`RunCheckpoint`, so that the state it saves includes every other callback's update
of the epoch.
"""

from __future__ import annotations

import logging
import math
import sys
import threading
import time
from pathlib import Path
from typing import IO, Any

from ..nn import Callback

__all__ = ["EpochLogger", "ProgressBar", "RunCheckpoint", "StopOnEvent", "format_logs"]

logger = logging.getLogger("nablanet.pipeline")


def format_logs(logs: dict[str, Any]) -> str:
    """``loss=0.1234 accuracy=0.9512 val_loss=... lr=1.0e-03``."""
    parts = []
    for key, value in logs.items():
        if key == "learning_rate":
            parts.append(f"lr={value:.2e}")
        elif isinstance(value, float):
            parts.append(f"{key}={value:.4f}")
        else:
            parts.append(f"{key}={value}")
    return " ".join(parts)


class EpochLogger(Callback):
    """One INFO line per epoch with every logged value and the epoch's duration."""

    def __init__(self, epochs: int):
        super().__init__()
        self.epochs = epochs
        self._t_epoch = 0.0
        self._t_train = 0.0
        self._first_epoch = 0

    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
        self._t_train = time.perf_counter()
        trainer = self.trainer
        self._first_epoch = len(trainer.history.epoch) if trainer is not None else 0
        if trainer is not None and trainer.resuming:
            logger.info(
                "Resuming after epoch %d of %d from the checkpoint", self._first_epoch, self.epochs
            )

    def on_epoch_begin(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        self._t_epoch = time.perf_counter()

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        dt = time.perf_counter() - self._t_epoch
        logger.info(
            "Epoch %d/%d  %s  (%.3f s)", epoch + 1, self.epochs, format_logs(logs or {}), dt
        )

    def on_train_end(self, logs: dict[str, Any] | None = None) -> None:
        n = (len(self.trainer.history.epoch) if self.trainer else 0) - self._first_epoch
        if n > 0:
            dt = time.perf_counter() - self._t_train
            logger.info("Trained %d epoch(s) in %.1f s (%.2f s per epoch)", n, dt, dt / n)


class ProgressBar(Callback):
    """A tqdm bar over the batches of each epoch (for interactive terminals)."""

    def __init__(self, n_batches: int, epochs: int, stream: IO[str] | None = None) -> None:
        super().__init__()
        self.n_batches = n_batches
        self.epochs = epochs
        self.stream = stream if stream is not None else sys.stderr
        self._bar = None

    def on_epoch_begin(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        from tqdm.auto import tqdm

        self._bar = tqdm(
            total=self.n_batches,
            desc=f"Epoch {epoch + 1}/{self.epochs}",
            unit="batch",
            leave=False,
            file=self.stream,
            dynamic_ncols=True,
        )

    def on_batch_end(self, step: int, logs: dict[str, Any] | None = None) -> None:
        if self._bar is not None:
            self._bar.update(1)
            if step % 10 == 0 and logs and "loss" in logs:
                self._bar.set_postfix(loss=f"{logs['loss']:.4f}", refresh=False)

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        self._close()

    def on_train_end(self, logs: dict[str, Any] | None = None) -> None:
        self._close()

    def _close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None


class StopOnEvent(Callback):
    """Stop training (after the current batch) once ``event.is_set()``; for UIs and threads.

    :func:`nablanet.pipeline.train` adds one when given ``stop_event=``. With ``keep_best``
    (a logged key, e.g. ``"val_loss"``) it also remembers the weights of the best epoch so far
    and, when the event stopped training, puts them back: a person who presses Stop keeps the
    best model, not the last one (the run's early stopping does this when it has one).

    >>> import threading
    >>> stop = threading.Event()
    >>> cb = StopOnEvent(stop, keep_best="val_loss")
    >>> stop.set()   # e.g. from a "Stop" button in another thread
    >>> cb.event.is_set(), cb.stopped, cb.mode
    (True, False, 'min')
    """

    def __init__(self, event: threading.Event, keep_best: str | None = None, mode: str = "auto"):
        super().__init__()
        self.event = event
        self.stopped = False
        self.keep_best = keep_best
        self.mode = _auto_mode(keep_best or "", mode)
        self.best = math.inf if self.mode == "min" else -math.inf
        self.best_weights: dict[str, Any] | None = None

    def _check(self) -> None:
        if self.event.is_set() and not self.stopped:
            self.stopped = True
            self.trainer.stop_training = True
            logger.warning("Stop requested: training stops after this batch")

    def on_batch_end(self, step: int, logs: dict[str, Any] | None = None) -> None:
        self._check()

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        value = (logs or {}).get(self.keep_best) if self.keep_best else None
        if value is not None and _better(self.mode, float(value), self.best):
            self.best = float(value)
            self.best_weights = self.model.state_dict()
        self._check()

    def on_train_end(self, logs: dict[str, Any] | None = None) -> None:
        if self.stopped and self.best_weights is not None:
            self.model.load_state_dict(self.best_weights)
            logger.info(
                "Stopped: kept the weights of the best %s (%.6g)", self.keep_best, self.best
            )


def _auto_mode(monitor: str, mode: str = "auto") -> str:
    """``min`` or ``max``: ``auto`` maximises accuracy-like keys and minimises the rest."""
    if mode != "auto":
        return mode
    return (
        "max"
        if any(k in monitor for k in ("acc", "auc", "f1", "precision", "recall", "r2"))
        else "min"
    )


def _better(mode: str, value: float, best: float) -> bool:
    if math.isnan(value):
        return False
    return value < best if mode == "min" else value > best


class RunCheckpoint(Callback):
    """Write ``last.npz`` after every epoch and ``best.npz`` whenever ``monitor`` improves: full
    training state (weights, optimizer, RNGs, history, callbacks), written atomically by
    :meth:`nablanet.nn.Trainer.save_checkpoint`. Put it last among the callbacks.

    The checkpoint's metadata says whether training had ``"finished"`` (last epoch reached or
    stopped by a callback) or was still ``"running"``, so a resume knows whether epochs remain.
    The best value is recomputed from the history on resume: the callback has no state of its
    own and its position in the list does not matter for restoring.
    """

    def __init__(self, directory: str | Path, monitor: str, mode: str, epochs: int):
        super().__init__()
        self.directory = Path(directory)
        self.monitor = monitor
        if mode == "auto":
            mode = (
                "max"
                if any(k in monitor for k in ("acc", "auc", "f1", "precision", "recall", "r2"))
                else "min"
            )
        self.mode = mode
        self.epochs = epochs
        self.best = math.inf if mode == "min" else -math.inf
        self.best_epoch: int | None = None

    @property
    def last_path(self) -> Path:
        return self.directory / "last.npz"

    @property
    def best_path(self) -> Path:
        return self.directory / "best.npz"

    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        values = self.trainer.history.history.get(self.monitor, []) if self.trainer else []
        for i, value in enumerate(values):
            if _better(self.mode, value, self.best):
                self.best, self.best_epoch = value, i

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        trainer = self.trainer
        logs = logs or {}
        finished = (
            bool(trainer.stop_training or self.model.stop_training) or epoch + 1 >= self.epochs
        )
        meta = {"training_status": "finished" if finished else "running"}
        t0 = time.perf_counter()
        trainer.save_checkpoint(self.last_path, epoch=epoch + 1, metadata=meta)
        value = logs.get(self.monitor)
        if value is not None and _better(self.mode, float(value), self.best):
            self.best, self.best_epoch = float(value), epoch
            trainer.save_checkpoint(self.best_path, epoch=epoch + 1, metadata=meta)
            logger.debug("New best %s = %.6g: wrote %s", self.monitor, value, self.best_path)
        logger.debug("Checkpoint %s written in %.2f s", self.last_path, time.perf_counter() - t0)
