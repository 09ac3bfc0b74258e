"""The training loop and the evaluation loop.

``Trainer`` receives objects (a compiled model, callbacks, a scheduler), never paths or YAML.
Per epoch it shuffles the data once into a preallocated buffer, then for every batch: zero the
gradients, forward, loss, backward, optimizer step, metric tracking. After the epoch it runs the
validation loop (no updates, dropout off) and hands the logs to the callbacks.
"""

from __future__ import annotations

import logging
import math
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from . import losses as losses_mod
from ._validation import check_interval, check_positive_int
from .callbacks import Callback, History
from .errors import NablanetError
from .metrics import TRAINING_METRICS
from .random import get_rng
from .serialization import ModelFileError, load_checkpoint, save_checkpoint
from .targets import check_targets

if TYPE_CHECKING:  # pragma: no cover
    from .model import Sequential
    from .optimizers import Optimizer
    from .schedulers import Scheduler

logger = logging.getLogger("nablanet")

_CLASS_LOSSES = (losses_mod.CategoricalCrossentropy, losses_mod.SoftmaxCrossentropy)


def _overrides(cb: Callback, hook: str) -> bool:
    return hook in vars(cb) or getattr(type(cb), hook) is not getattr(Callback, hook)


def _n_outputs(model: Sequential) -> int | None:
    """The model's number of outputs per sample, when its input shape is known."""
    try:
        out = model.output_shapes(getattr(model, "_input_shape", None))[-1]
    except (NablanetError, TypeError, ValueError, AttributeError):
        return None
    return int(np.prod(out)) if out and all(isinstance(d, int) for d in out) else None


def prepare_targets(model: Sequential, y: np.ndarray) -> np.ndarray:
    """Targets in the form the loss wants, checked against it (:func:`.targets.check_targets`:
    labels {0, 1, 2} for binary cross-entropy, continuous values for a softmax head, labels
    past the last output are refused): integer labels stay integers, the rest become the
    model's dtype (no hidden float64)."""
    y = np.asarray(y)
    if isinstance(model.loss, _CLASS_LOSSES) and y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]  # a column of labels, not one-hot (accuracy would compare with argmax 0)
    if model.loss is not None:
        y = check_targets(y, model.loss, _n_outputs(model))
    if isinstance(model.loss, _CLASS_LOSSES) and y.ndim == 1:
        if y.dtype.kind not in "iu":
            raise NablanetError(f"class labels must be integers, got dtype {y.dtype}")
        return y
    if y.dtype.kind not in "biuf":
        raise NablanetError(f"targets must be numeric, got dtype {y.dtype}")
    return y.astype(model.dtype, copy=False)


def sample_weights(
    y: np.ndarray, sample_weight: Any = None, class_weight: dict | None = None
) -> np.ndarray | None:
    """The per-sample weights of ``fit(sample_weight=..., class_weight=...)`` (float64, (n,)),
    or None when neither is given.

    ``class_weight`` maps a class to the weight of each of its samples (labels, argmax of
    one-hot rows, or 0/1 binary targets); a class missing from it weighs 1.

    >>> sample_weights(np.array([0, 1, 1, 2]), class_weight={1: 3.0}).tolist()
    [1.0, 3.0, 3.0, 1.0]
    >>> sample_weights(np.array([0, 1]), sample_weight=[0.5, 2], class_weight={1: 3}).tolist()
    [0.5, 6.0]
    """
    if sample_weight is None and class_weight is None:
        return None
    n = len(y)
    w = np.ones(n, dtype=np.float64)
    if sample_weight is not None:
        sw = np.asarray(sample_weight, dtype=np.float64)
        if sw.ndim == 2 and sw.shape[1] == 1:
            sw = sw[:, 0]
        if sw.shape != (n,):
            raise NablanetError(
                f"sample_weight must have shape ({n},) (one weight per sample), got {sw.shape}"
            )
        if not np.all(np.isfinite(sw)) or (sw.size and sw.min() < 0):
            raise NablanetError("sample_weight must be finite and non-negative")
        w *= sw
    if class_weight is not None:
        if not isinstance(class_weight, dict):
            raise NablanetError(
                f"class_weight must be a dict {{class: weight}}, got {type(class_weight).__name__}"
            )
        if y.ndim == 2 and y.shape[1] > 1:
            labels = y.argmax(axis=1)
        else:
            flat = y.reshape(n)
            labels = np.rint(flat).astype(np.intp) if flat.dtype.kind == "f" else flat
        for cls, weight in class_weight.items():
            if isinstance(cls, bool) or not isinstance(cls, (int, np.integer)):
                raise NablanetError(
                    f"class_weight keys must be class indices (integers), got {cls!r}"
                )
            if not isinstance(weight, (int, float, np.number)) or not weight >= 0:
                raise NablanetError(
                    f"class_weight[{cls}] must be a non-negative number, got {weight!r}"
                )
            w[labels == cls] *= float(weight)
    return w


class _MetricTracker:
    """Running sum of the loss, and each training metric's ``(y_true, y_pred)`` over an epoch.

    The metrics (:data:`~nablanet.nn.metrics.TRAINING_METRICS`) are computed once per epoch by
    their public functions, on the predictions of all its batches (a few bytes per sample:
    predicted labels, or the outputs of a regression model).
    """

    def __init__(self, metrics: list[str]):
        self.metrics = [TRAINING_METRICS[m] for m in metrics]
        self.reset()

    def reset(self) -> None:
        self.n = 0
        self.loss = 0.0
        self.parts: list[list[tuple[np.ndarray, np.ndarray]]] = [[] for _ in self.metrics]

    def update(self, loss: float, out: np.ndarray, y: np.ndarray) -> None:
        k = out.shape[0]
        self.n += k
        self.loss += loss * k
        for metric, parts in zip(self.metrics, self.parts):
            parts.append(metric.prepare(y, out))  # new arrays: the batch buffers are reused

    def result(self, prefix: str = "", extra_loss: float = 0.0) -> dict[str, float]:
        n = max(self.n, 1)
        logs = {f"{prefix}loss": self.loss / n + extra_loss}
        for metric, parts in zip(self.metrics, self.parts):
            if not parts:
                logs[f"{prefix}{metric.name}"] = 0.0
                continue
            y_true = np.concatenate([t for t, _ in parts])
            y_pred = np.concatenate([p for _, p in parts])
            logs[f"{prefix}{metric.name}"] = float(metric.score(y_true, y_pred))
        return logs


def evaluate_model(
    model: Sequential, x: np.ndarray, y: np.ndarray, batch_size: int = 1024
) -> dict[str, float]:
    """Loss (including weight penalties) and metrics of ``model`` on ``(x, y)``."""
    x = model._as_input(x)
    y = prepare_targets(model, y)
    if len(x) != len(y):
        raise NablanetError(f"x and y have different lengths: {len(x)} and {len(y)}")
    tracker = _MetricTracker(model.metrics)
    for i in range(0, len(x), batch_size):
        xb, yb = x[i : i + batch_size], y[i : i + batch_size]
        loss, out = model.loss_on_batch(xb, yb)
        tracker.update(loss, out, yb)
    return tracker.result(extra_loss=model.regularization_loss())


class _ProgressPrinter(Callback):
    """Prints one line per epoch (the library has no dependencies; the pipeline adds bars)."""

    def __init__(self, epochs: int):
        super().__init__()
        self.epochs = epochs
        self._t0 = 0.0

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        self._t0 = time.perf_counter()

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        dt = time.perf_counter() - self._t0
        parts = [f"{k}: {v:.4g}" for k, v in (logs or {}).items()]
        print(f"Epoch {epoch + 1}/{self.epochs} - {dt:.2f}s - " + " - ".join(parts), flush=True)


class Trainer:
    """Runs ``fit`` for a compiled model.

    Parameters
    ----------
    model : Sequential (compiled)
    batch_size : int
    shuffle : bool
    callbacks : list of Callback
        Called in order after the built-in ``History``. Put a checkpointing callback last so
        that the state it saves includes the other callbacks' updates for the epoch.
    scheduler : Scheduler, optional
        Sets the learning rate at the start of every epoch, or before every step when its
        ``per_step`` is True (:class:`~nablanet.nn.schedulers.InverseTimeDecay`).
    verbose : int
        0 silent, 1 one line per epoch.
    seed : int, optional
        Seed of the shuffling generator (default: derived from :func:`nablanet.set_seed`).

    >>> import os, tempfile
    >>> import nablanet as nb
    >>> model = nb.Sequential([nb.Dense(2, 1, seed=0)])
    >>> model.compile(loss="mse", optimizer=nb.SGD(0.1))
    >>> x = np.random.default_rng(0).standard_normal((32, 2)).astype(np.float32)
    >>> y = x @ np.array([[1.0], [-1.0]], dtype=np.float32)
    >>> trainer = Trainer(model, batch_size=8, verbose=0, seed=0)
    >>> history = trainer.fit(x, y, epochs=3)
    >>> len(history.epoch), history["loss"][-1] < history["loss"][0]
    (3, True)
    >>> path = trainer.save_checkpoint(os.path.join(tempfile.mkdtemp(), "ckpt.npz"))
    >>> Trainer(model, verbose=0).restore_checkpoint(path)          # completed epochs
    3
    """

    def __init__(
        self,
        model: Sequential,
        batch_size: int = 32,
        shuffle: bool = True,
        callbacks: list[Callback] | None = None,
        scheduler: Scheduler | None = None,
        verbose: int = 1,
        seed: int | None = None,
    ) -> None:
        self.model = model
        self.batch_size = check_positive_int(batch_size, "batch_size", "fit")
        self.shuffle = bool(shuffle)
        self.callbacks: list[Callback] = list(callbacks or [])
        for cb in self.callbacks:
            if not isinstance(cb, Callback):
                raise NablanetError(
                    f"callbacks must be Callback instances, got {type(cb).__name__}"
                )
        self.scheduler = scheduler
        self.verbose = verbose
        self.rng = get_rng(seed)
        self.history = History()
        self.stop_training = False
        self.resuming = False
        self.epoch = 0
        # the weights of the last epoch, kept when fit() ends and callbacks (EarlyStopping) may put
        # older weights back: a checkpoint written after fit() must continue from the last epoch
        self._last_epoch_weights: dict[str, np.ndarray] | None = None

    @property
    def optimizer(self) -> Optimizer:
        optimizer = self.model.optimizer
        assert optimizer is not None  # Trainer runs a compiled model
        return optimizer

    # -- checkpoints --------------------------------------------------------------------------
    def save_checkpoint(
        self, path: str | Path, epoch: int | None = None, metadata: dict | None = None
    ) -> Path:
        """Write the full training state after ``epoch`` completed epochs (atomic).

        After ``fit`` the file holds the weights of the last epoch, even where a callback
        (``EarlyStopping(restore_best_weights=True)``) put older weights back into the model, so
        that resuming from it continues exactly.
        """
        return save_checkpoint(
            path,
            self.model,
            self.optimizer,
            epoch=self.epoch if epoch is None else epoch,
            history=self.history.to_dict(),
            rng_states={"trainer": self.rng.bit_generator.state, "layers": self.model.rng_states()},
            callbacks=self.callbacks,
            scheduler=self.scheduler,
            metadata={**self.model.metadata, **(metadata or {})},
            weights=self._last_epoch_weights,
        )

    def restore_checkpoint(self, path: str | Path) -> int:
        """Load a checkpoint into the model, optimizer, RNGs, history and callbacks; returns the
        number of completed epochs."""
        ckpt = load_checkpoint(path)
        try:
            self.model.load_state_dict(ckpt["weights"], strict=True)
            self.optimizer.load_state_dict(ckpt["optimizer_state"])
        except NablanetError as e:
            raise ModelFileError(f"{path}: checkpoint does not fit this model: {e}") from None
        self.history = History.from_dict(ckpt["history"])
        saved_scheduler = ckpt.get("scheduler") or {}
        lr0 = saved_scheduler.get("config", {}).get("initial_learning_rate")
        if self.scheduler is not None and self.scheduler.initial_learning_rate is None and lr0:
            # the optimizer's restored rate is the scheduled one, not the initial one to bind
            self.scheduler.initial_learning_rate = float(lr0)
        rng = ckpt["rng"]
        if "trainer" in rng:
            self.rng.bit_generator.state = rng["trainer"]
        self.model.set_rng_states(rng.get("layers", {}))
        saved = ckpt["callbacks"]
        for i, cb in enumerate(self.callbacks):
            if i < len(saved) and saved[i][0] == type(cb).__name__:
                cb.set_state(saved[i][1], saved[i][2])
        self.resuming = True
        self._last_epoch_weights = None
        return ckpt["epoch"]

    # -- the loop -----------------------------------------------------------------------------
    def fit(
        self,
        x: np.ndarray,
        y: np.ndarray,
        epochs: int = 1,
        validation_data: tuple[np.ndarray, np.ndarray] | None = None,
        validation_split: float = 0.0,
        initial_epoch: int = 0,
        resume_from: str | Path | None = None,
        sample_weight: Any = None,
        class_weight: dict | None = None,
    ) -> History:
        """Train; ``sample_weight`` / ``class_weight`` weight each sample's training loss (see
        :meth:`Sequential.fit <nablanet.nn.Sequential.fit>`)."""
        model = self.model
        epochs = check_positive_int(epochs, "epochs", "fit")
        x = model._as_input(x)
        y = prepare_targets(model, y)
        if len(x) != len(y):
            raise NablanetError(f"x and y have different lengths: {len(x)} and {len(y)}")
        weights = sample_weights(y, sample_weight, class_weight)
        if weights is not None:
            weights = weights.astype(model.dtype)
        if validation_split:
            check_interval(validation_split, "validation_split", "fit", 0.0, 1.0, closed="neither")
            if validation_data is not None:
                raise NablanetError("give validation_data or validation_split, not both")
            cut = round(len(x) * (1.0 - validation_split))
            if cut <= 0 or cut >= len(x):
                raise NablanetError(
                    f"validation_split={validation_split} leaves no training or "
                    f"no validation samples out of {len(x)}"
                )
            validation_data = (x[cut:], y[cut:])
            x, y = x[:cut], y[:cut]
            if weights is not None:
                weights = weights[:cut]
        if validation_data is not None:
            x_val = model._as_input(validation_data[0])
            y_val = prepare_targets(model, validation_data[1])
        n = len(x)
        if n == 0:
            raise NablanetError("cannot train on an empty dataset")

        start = initial_epoch
        if resume_from is not None:
            start = self.restore_checkpoint(resume_from)
        callbacks = [self.history, *self.callbacks]
        if self.verbose:
            callbacks.append(_ProgressPrinter(epochs))
        for cb in callbacks:
            cb.set_trainer(self)
        batch_callbacks = [cb for cb in callbacks if _overrides(cb, "on_batch_end")]
        optimizer = self.optimizer
        if self.scheduler is not None:
            self.scheduler.bind(optimizer.learning_rate)
        # a per-step scheduler is called before every step with the steps taken so far (restored
        # with the optimizer's state, so a resumed run continues the schedule exactly)
        per_step = self.scheduler if getattr(self.scheduler, "per_step", False) else None

        bs = self.batch_size
        if self.shuffle:
            # each shuffled batch is gathered into these (reused) buffers: no copy of the whole
            # dataset per epoch, and a memory-mapped x is read a batch at a time
            x_buf = np.empty((min(bs, n), *x.shape[1:]), dtype=x.dtype)
            y_buf = np.empty((min(bs, n), *y.shape[1:]), dtype=y.dtype)
            w_buf = None if weights is None else np.empty(min(bs, n), dtype=weights.dtype)
        tracker = _MetricTracker(model.metrics)
        self._last_epoch_weights = None
        self.stop_training = False
        model.stop_training = False

        for cb in callbacks:
            cb.on_train_begin({})
        for epoch in range(start, epochs):
            self.epoch = epoch
            if self.scheduler is not None and per_step is None:
                optimizer.learning_rate = self.scheduler(epoch)
            for cb in callbacks:
                cb.on_epoch_begin(epoch, {})
            perm = self.rng.permutation(n) if self.shuffle else None
            tracker.reset()
            for step, i in enumerate(range(0, n, bs)):
                wb = None
                if perm is None:
                    xb, yb = x[i : i + bs], y[i : i + bs]
                    if weights is not None:
                        wb = weights[i : i + bs]
                else:
                    idx = perm[i : i + bs]
                    k = len(idx)
                    # mode="clip" writes straight into out= (the default mode copies first)
                    xb = np.take(x, idx, axis=0, out=x_buf[:k], mode="clip")
                    yb = np.take(y, idx, axis=0, out=y_buf[:k], mode="clip")
                    if weights is not None:
                        assert w_buf is not None  # allocated with the weights
                        wb = np.take(weights, idx, out=w_buf[:k], mode="clip")
                optimizer.zero_grad()
                loss, out = model.train_step(xb, yb) if wb is None else model.train_step(xb, yb, wb)
                if per_step is not None:
                    optimizer.learning_rate = per_step(optimizer.iterations)
                optimizer.step()
                tracker.update(loss, out, yb)
                if batch_callbacks:
                    # inputs, outputs (computed before the step), targets: valid during the call
                    batch_logs = {
                        "loss": loss,
                        "batch": step,
                        "size": len(xb),
                        "inputs": xb,
                        "outputs": out,
                        "targets": yb,
                    }
                    for cb in batch_callbacks:
                        cb.on_batch_end(step, batch_logs)
                    if self.stop_training or model.stop_training:
                        break
            logs = tracker.result(extra_loss=model.regularization_loss())
            if validation_data is not None:
                val = evaluate_model(model, x_val, y_val, batch_size=max(bs, 1024))
                logs.update({f"val_{k}": v for k, v in val.items()})
            logs["learning_rate"] = float(optimizer.learning_rate)
            if not math.isfinite(logs["loss"]):
                logger.warning(
                    "epoch %d: the training loss is %s: training diverged (lower the "
                    "learning rate, or add TerminateOnNaN)",
                    epoch + 1,
                    logs["loss"],
                )
            self.epoch = epoch + 1
            for cb in callbacks:
                cb.on_epoch_end(epoch, logs)
            if self.stop_training or model.stop_training:
                break
        last_weights = model.state_dict()
        for cb in callbacks:
            cb.on_train_end({})
        current = model.state_dict()
        if any(not np.array_equal(v, current[k]) for k, v in last_weights.items()):
            self._last_epoch_weights = last_weights  # a callback put other weights back
        self.resuming = False  # a later fit() starts afresh unless a checkpoint is restored again
        return self.history
