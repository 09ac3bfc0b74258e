"""Training off the UI thread: a background thread runs the pipeline, the page polls a snapshot.

:class:`TrainingSession` starts ``train_fn(config, callbacks, stop_event)`` (by default the
pipeline's :func:`nablanet.pipeline.train`) in a daemon thread. A :class:`LiveCallback` copies
every epoch's logs (and, when an epoch lasts longer than half a second, the mean loss of the
recent batches every half second) into the session under a lock; the page reads :meth:`TrainingSession.snapshot` on a timer. :meth:`TrainingSession.stop`
sets an event that the pipeline turns into ``trainer.stop_training = True``; training ends after
the current batch and the pipeline keeps the best weights.

>>> def fake_train(config, callbacks, stop_event):
...     cb = callbacks[0]
...     cb.on_train_begin({})
...     for epoch in range(3):
...         cb.on_epoch_end(epoch, {"loss": 1.0 / (epoch + 1), "learning_rate": 0.01})
...     cb.on_train_end({})
...     return "result"
>>> session = TrainingSession(train_fn=fake_train)
>>> session.start({"training": {"epochs": 3}})
>>> session.join(5)
>>> snap = session.snapshot()
>>> snap.status, snap.epoch, [round(r["loss"], 3) for r in snap.history]
('finished', 3, [1.0, 0.5, 0.333])
"""

from __future__ import annotations

import math
import threading
import time
import traceback
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from nablanet import Callback

from .errors import UIError

#: statuses of a run that is not over (``queued``: waiting in the app's line, see
#: :mod:`nablanet.ui.queue`), and of a run that is
BUSY = ("queued", "preparing", "training", "stopping")
DONE = ("finished", "stopped", "failed", "cancelled")

#: on big data (epochs longer than this many seconds) the loss curve also gets a point, the
#: mean loss of the batches since the last point, this often
BATCH_POINT_SECONDS = 0.5

TrainFn = Callable[[Mapping[str, Any], list, threading.Event], Any]


@dataclass
class Snapshot:
    """A consistent copy of the session's state for the page.

    Attributes
    ----------
    status : str
        ``idle``, ``queued``, ``preparing``, ``training``, ``stopping``, ``finished``,
        ``stopped``, ``failed``, ``cancelled``.
    epoch : int
        Completed epochs.
    epochs : int
        Epochs asked for.
    step : int
        Batches done in the current epoch.
    steps_per_epoch : int or None
        Batches per epoch: an estimate given to ``start``, then counted in the first epoch.
    history : list of dict
        One dict per completed epoch: ``epoch`` (1-based), ``loss``, ``val_loss``, metrics,
        ``learning_rate``, ``seconds``.
    batch_points : list of (float, float)
        (fractional epoch, mean training loss of the batches since the previous point), on big
        data only (epochs longer than ``BATCH_POINT_SECONDS``).
    learning_rate : float or None
    message : str
        What is happening, or the error.
    run_dir : str or None
    version : int or str
        Changes with every change (the page skips redrawing when it has not moved; compare
        it for equality only).
    position : int or None
        The place of a ``queued`` run in the line (1: next to start).
    elapsed : float
        Seconds since the start.
    """

    status: str = "idle"
    epoch: int = 0
    epochs: int = 0
    step: int = 0
    steps_per_epoch: int | None = None
    history: list[dict[str, float]] = field(default_factory=list)
    batch_points: list[tuple[float, float]] = field(default_factory=list)
    learning_rate: float | None = None
    message: str = ""
    run_dir: str | None = None
    version: int | str = 0
    elapsed: float = 0.0
    position: int | None = None

    @property
    def busy(self) -> bool:
        return self.status in BUSY

    @property
    def fraction(self) -> float:
        """Progress in [0, 1] (epochs and batches)."""
        if self.epochs <= 0:
            return 0.0
        part = 0.0
        if self.steps_per_epoch and self.status in ("training", "stopping"):
            part = min(self.step / self.steps_per_epoch, 1.0)
        return min((self.epoch + part) / self.epochs, 1.0)


class LiveCallback(Callback):
    """Pushes training progress into a :class:`TrainingSession` (used by the session itself)."""

    def __init__(self, session: TrainingSession):
        super().__init__()
        self.session = session
        self._epoch = 0

    def on_train_begin(self, logs=None):
        self.session._update(status="training", message="Training…")

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = int(epoch)
        lr = None
        trainer = getattr(self, "trainer", None)
        optimizer = getattr(trainer, "optimizer", None)
        if optimizer is not None:
            lr = float(optimizer.learning_rate)
        self.session._epoch_begin(int(epoch), lr)

    def on_batch_end(self, step, logs=None):
        loss = (logs or {}).get("loss")
        self.session._batch_end(self._epoch, int(step), None if loss is None else float(loss))

    def on_epoch_end(self, epoch, logs=None):
        self.session._epoch_end(int(epoch), dict(logs or {}))


class TrainingSession:
    """One training run at a time, in a background thread (see the module docstring).

    Parameters
    ----------
    train_fn : callable, optional
        ``train_fn(config, callbacks, stop_event) -> result``; default: the pipeline's ``train``.
    on_done : callable, optional
        ``on_done(session)``, called in the training thread once the run has ended (finished,
        stopped or failed), with no lock held; the app's line of runs starts the next one.
    """

    def __init__(
        self,
        train_fn: TrainFn | None = None,
        on_done: Callable[[TrainingSession], Any] | None = None,
    ):
        self._train_fn = train_fn
        self._on_done = on_done
        self._lock = threading.Lock()
        self._state = Snapshot()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._t0 = 0.0
        self._epoch_t0 = 0.0
        self._point_t = 0.0
        self._pending: list[float] = []
        self._raw_points: list[tuple[int, int, float]] = []
        self._measured = False
        self.result: Any = None
        self.config: dict[str, Any] | None = None

    # -- control -----------------------------------------------------------------------------
    def start(self, config: Mapping[str, Any], steps_per_epoch: int | None = None) -> None:
        """Start training ``config`` (plain data) in a new thread.

        ``steps_per_epoch`` (an estimate) places the first epoch's batch points and progress;
        the real count replaces it after the first epoch.

        Raises
        ------
        UIError
            When a run is still going.
        """
        with self._lock:
            if self._state.status in BUSY:
                raise UIError("A training run is already going: stop it first.")
            epochs = int((config.get("training") or {}).get("epochs") or 0)
            self._stop = threading.Event()
            self._state = Snapshot(
                status="preparing",
                epochs=epochs,
                message="Loading and preparing the data…",
                version=int(self._state.version) + 1,
                steps_per_epoch=steps_per_epoch,
            )
            self._raw_points = []
            self._pending = []
            self._measured = False
            self._t0 = time.perf_counter()
            self.result = None
            self.config = dict(config)
            self._thread = threading.Thread(
                target=self._run,
                args=(dict(config), self._stop),
                name="nablanet-train",
                daemon=True,
            )
            self._thread.start()

    def stop(self) -> bool:
        """Ask the run to stop after the current batch; False when nothing is running."""
        with self._lock:
            if self._state.status not in ("preparing", "training"):
                return False
            self._stop.set()
            self._bump(
                status="stopping", message="Stopping after this batch; keeping the best model…"
            )
            return True

    def join(self, timeout: float | None = None) -> None:
        thread = self._thread
        if thread is not None:
            thread.join(timeout)

    def snapshot(self) -> Snapshot:
        """A copy of the current state (safe to read while training goes on)."""
        with self._lock:
            s = self._state
            s.elapsed = (time.perf_counter() - self._t0) if s.status != "idle" else 0.0
            return Snapshot(
                status=s.status,
                epoch=s.epoch,
                epochs=s.epochs,
                step=s.step,
                steps_per_epoch=s.steps_per_epoch,
                history=[dict(r) for r in s.history],
                batch_points=self._points(s.steps_per_epoch),
                learning_rate=s.learning_rate,
                message=s.message,
                run_dir=s.run_dir,
                version=s.version,
                elapsed=s.elapsed,
            )

    def _points(self, steps_per_epoch: int | None) -> list[tuple[float, float]]:
        if not steps_per_epoch:
            return []
        return [(e + min(k / steps_per_epoch, 1.0), v) for e, k, v in self._raw_points]

    @property
    def busy(self) -> bool:
        with self._lock:
            return self._state.status in BUSY

    @property
    def status(self) -> str:
        """The current status (cheaper than a whole :meth:`snapshot`)."""
        with self._lock:
            return self._state.status

    # -- the thread ----------------------------------------------------------------------------
    def _default_train(self, config, callbacks, stop_event):
        from .pipeline_api import train_config

        return train_config(config, callbacks=callbacks, stop_event=stop_event)

    def _run(self, config: dict[str, Any], stop_event: threading.Event) -> None:
        try:
            self._train(config, stop_event)
        finally:
            if self._on_done is not None:
                self._on_done(self)

    def _train(self, config: dict[str, Any], stop_event: threading.Event) -> None:
        train_fn = self._train_fn or self._default_train
        callback = LiveCallback(self)
        try:
            result = train_fn(config, [callback], stop_event)
        except Exception as e:  # shown in the page; the app keeps running
            detail = str(e) or type(e).__name__
            if not isinstance(e, ValueError):
                detail = f"{type(e).__name__}: {detail}"
                traceback.print_exc()
            with self._lock:
                self._bump(status="failed", message=f"Training failed: {detail}")
            return
        run_dir = getattr(result, "run_dir", None)
        with self._lock:
            self.result = result
            stopped = stop_event.is_set()
            n = self._state.epoch
            what = f"Stopped after {n} epoch(s)" if stopped else f"Finished {n} epoch(s)"
            self._bump(
                status="stopped" if stopped else "finished",
                message=f"{what}; the best model is kept.",
                run_dir=None if run_dir is None else str(run_dir),
            )

    # -- updates from the callback (training thread) --------------------------------------------
    def _bump(self, **changes: Any) -> None:
        for key, value in changes.items():
            setattr(self._state, key, value)
        self._state.version = int(self._state.version) + 1  # ints here; the queue's are strings

    def _update(self, **changes: Any) -> None:
        with self._lock:
            if self._state.status == "stopping" and changes.get("status") == "training":
                changes.pop("status")
                changes.pop("message", None)
            self._bump(**changes)

    def _epoch_begin(self, epoch: int, learning_rate: float | None) -> None:
        with self._lock:
            self._epoch_t0 = self._point_t = time.perf_counter()
            self._pending = []
            changes: dict[str, Any] = {"step": 0}
            if learning_rate is not None:
                changes["learning_rate"] = learning_rate
            self._bump(**changes)

    def _batch_end(self, epoch: int, step: int, loss: float | None) -> None:
        with self._lock:
            self._state.step = step + 1
            if loss is not None and math.isfinite(loss):
                self._pending.append(loss)
            now = time.perf_counter()
            if self._pending and now - self._point_t >= BATCH_POINT_SECONDS:
                mean = sum(self._pending) / len(self._pending)
                self._raw_points.append((epoch, step + 1, mean))
                self._pending = []
                self._point_t = now
                self._state.version = int(self._state.version) + 1

    def _epoch_end(self, epoch: int, logs: dict[str, Any]) -> None:
        with self._lock:
            s = self._state
            if not self._measured and s.step:
                s.steps_per_epoch = s.step  # the real count replaces the estimate
                self._measured = True
            s.step = 0
            row: dict[str, float] = {"epoch": epoch + 1}
            for key, value in logs.items():
                if isinstance(value, int | float) and not isinstance(value, bool):
                    row[key] = float(value)
            row["seconds"] = time.perf_counter() - self._epoch_t0 if self._epoch_t0 else 0.0
            s.history.append(row)
            s.epoch = epoch + 1
            if "learning_rate" in row:
                s.learning_rate = row["learning_rate"]
            s.version = int(s.version) + 1
