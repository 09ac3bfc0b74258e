""":class:`CSVLogger`: one row per epoch of the logs, as Keras writes it."""

from __future__ import annotations

import csv
import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:  # pragma: no cover
    pass

from .base import Callback

logger = logging.getLogger("nablanet")


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
