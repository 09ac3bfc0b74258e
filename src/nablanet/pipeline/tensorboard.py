"""``TensorBoard``: a training callback writing TensorBoard event files, through tensorboardX.

Optional: ``pip install "nablanet[tensorboard]"`` (tensorboardX). The library (``nablanet.nn``)
stays NumPy only; this module imports tensorboardX when a ``TensorBoard`` is created, and says
how to install it when it is missing.

As Keras, the logs go to ``<log_dir>/train`` (``epoch_loss``, ``epoch_accuracy``,
``epoch_learning_rate``, ...) and ``<log_dir>/validation`` (the ``val_`` values under the same
tags), so that TensorBoard draws the training and validation curves of a metric on one chart:
``tensorboard --logdir <log_dir>``.

>>> import nablanet as nb                                                  # doctest: +SKIP
>>> model.fit(x, y, epochs=10, callbacks=[nb.TensorBoard("logs/run-1")])  # doctest: +SKIP
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..nn.callbacks import Callback
from ..nn.errors import NablanetError

__all__ = ["TensorBoard"]

INSTALL_HINT = 'TensorBoard needs tensorboardX: pip install "nablanet[tensorboard]"'


def _summary_writer_class() -> Any:
    try:
        from tensorboardX import SummaryWriter
    except ImportError:
        raise NablanetError(INSTALL_HINT) from None
    return SummaryWriter


class TensorBoard(Callback):
    """Write every epoch's logs as TensorBoard scalars (and, with ``update_freq``, the loss of
    batches as ``batch_loss``), with Keras' arguments.

    Parameters
    ----------
    log_dir : path
        Folder of the event files (``train/`` and ``validation/`` under it).
    histogram_freq : int
        Every this many epochs, a histogram of every parameter (0: never).
    update_freq : "epoch", "batch" or int
        ``"epoch"``: epoch logs only; ``"batch"``: also every batch's loss; an integer ``n``:
        the loss of every ``n``-th batch.
    """

    def __init__(
        self,
        log_dir: str | Path = "logs",
        histogram_freq: int = 0,
        update_freq: str | int = "epoch",
    ) -> None:
        super().__init__()
        self._writer_class = _summary_writer_class()
        self.log_dir = str(log_dir)
        if update_freq == "batch":
            update_freq = 1
        valid = update_freq == "epoch" or (
            isinstance(update_freq, int) and not isinstance(update_freq, bool) and update_freq > 0
        )
        if not valid:
            raise NablanetError(
                "The 'update_freq' parameter of TensorBoard must be 'epoch', 'batch' or a "
                f"positive integer. Got {update_freq!r} instead."
            )
        self.update_freq = update_freq
        if (
            isinstance(histogram_freq, bool)
            or not isinstance(histogram_freq, int)
            or histogram_freq < 0
        ):
            raise NablanetError(
                f"The 'histogram_freq' parameter of TensorBoard must be a non-negative integer. "
                f"Got {histogram_freq!r} instead."
            )
        self.histogram_freq = histogram_freq
        self._writers: dict[str, Any] = {}
        self._step = 0

    def _writer(self, kind: str) -> Any:
        if kind not in self._writers:
            self._writers[kind] = self._writer_class(str(Path(self.log_dir) / kind))
        return self._writers[kind]

    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
        self._step = 0
        if self.trainer is not None and getattr(self.trainer, "resuming", False):
            self._step = self.trainer.optimizer.iterations

    def on_batch_end(self, step: int, logs: dict[str, Any] | None = None) -> None:
        if self.update_freq == "epoch":
            return
        self._step += 1
        assert isinstance(self.update_freq, int)  # "epoch" returned above
        loss = (logs or {}).get("loss")
        if loss is not None and self._step % self.update_freq == 0:
            self._writer("train").add_scalar("batch_loss", float(loss), self._step)

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        for key, value in (logs or {}).items():
            if key.startswith("val_"):
                self._writer("validation").add_scalar(f"epoch_{key[4:]}", float(value), epoch)
            else:
                self._writer("train").add_scalar(f"epoch_{key}", float(value), epoch)
        if self.histogram_freq and (epoch + 1) % self.histogram_freq == 0 and self.model:
            train = self._writer("train")
            for name, p in self.model.named_parameters().items():
                train.add_histogram(name, p.value, epoch)
        for writer in self._writers.values():
            writer.flush()

    def on_train_end(self, logs: dict[str, Any] | None = None) -> None:
        for writer in self._writers.values():
            writer.close()
        self._writers = {}
