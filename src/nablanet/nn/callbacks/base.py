"""The base :class:`Callback` (its hooks and resumable state), :class:`History`, which every
``fit`` returns, and :class:`LambdaCallback`; ``_report`` is how callbacks speak.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:  # pragma: no cover
    from ..trainer import Trainer

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
