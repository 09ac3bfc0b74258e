"""Callbacks: hooks into the training loop that act through flags, never by reaching into it.

A callback sees ``self.trainer`` (and ``self.model``) and may set ``trainer.stop_training = True``.
Hooks: ``on_train_begin(logs)``, ``on_train_end(logs)``, ``on_epoch_begin(epoch, logs)``,
``on_epoch_end(epoch, logs)``, ``on_batch_end(step, logs)``. The batch logs hold ``loss`` (the
batch's data loss), ``batch``, ``size``, and ``inputs``, ``outputs`` and ``targets`` (the batch's
inputs, its model outputs, computed before the optimizer step, and its targets: arrays valid only
during the call).
"""

from __future__ import annotations

from .base import Callback, History, LambdaCallback
from .csv_logger import CSVLogger
from .learning_rate import LearningRateScheduler, ReduceLROnPlateau
from .monitors import EarlyStopping, ModelCheckpoint, TerminateOnNaN

__all__ = [
    "CSVLogger",
    "Callback",
    "EarlyStopping",
    "History",
    "LambdaCallback",
    "LearningRateScheduler",
    "ModelCheckpoint",
    "ReduceLROnPlateau",
    "TerminateOnNaN",
]
