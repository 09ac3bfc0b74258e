"""Logging for the pipeline: Python ``logging`` to the console and to a run's ``train.log``.

Everything in nablanet logs to the ``"nablanet"`` logger (the library's divergence warnings, the
pipeline's per-epoch lines, timings, errors). :func:`configure_logging` sets up the console (the
CLI calls it once); :func:`log_to_file` adds a run's ``train.log`` while a run is in progress.
"""

from __future__ import annotations

import logging
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

__all__ = ["LEVELS", "LOGGER_NAME", "configure_logging", "log_to_file"]

LOGGER_NAME = "nablanet"
#: where ``logging.captureWarnings`` sends Python warnings (numpy's RuntimeWarnings, ...)
WARNINGS_LOGGER = "py.warnings"
LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")

CONSOLE_FORMAT = "%(asctime)s %(levelname)-7s %(message)s"
FILE_FORMAT = "%(asctime)s %(levelname)-7s %(name)s: %(message)s"
_MARK = "_nablanet_console"


if TYPE_CHECKING:  # pragma: no cover
    _StreamHandler = logging.StreamHandler[TextIO]
else:  # subscriptable at run time from Python 3.11 only
    _StreamHandler = logging.StreamHandler


class _ConsoleHandler(_StreamHandler):
    """Writes through ``tqdm.write`` so log lines do not tear a progress bar apart."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            from tqdm import tqdm
        except ImportError:  # pragma: no cover - tqdm comes with the data extra
            super().emit(record)
            return
        try:
            tqdm.write(self.format(record), file=self.stream)
        except Exception:  # pragma: no cover - logging must never raise
            self.handleError(record)


def _level(level: str | int) -> int:
    if isinstance(level, int):
        return level
    name = str(level).upper()
    if name not in LEVELS:
        raise ValueError(f"log level must be one of {', '.join(LEVELS)}, got {level!r}")
    return getattr(logging, name)


def configure_logging(level: str | int = "INFO", stream: TextIO | None = None) -> logging.Logger:
    """Send ``nablanet`` log records of ``level`` and above to ``stream`` (default stderr).

    Calling it again replaces the console handler it installed before (so repeated in-process
    CLI calls do not print every line twice).
    """
    logger = logging.getLogger(LOGGER_NAME)
    handler = _ConsoleHandler(stream if stream is not None else sys.stderr)
    setattr(handler, _MARK, True)
    handler.setLevel(_level(level))
    handler.setFormatter(logging.Formatter(CONSOLE_FORMAT, datefmt="%H:%M:%S"))
    logging.captureWarnings(True)  # numpy's RuntimeWarnings etc. become log records
    for target in (logger, logging.getLogger(WARNINGS_LOGGER)):
        for old in list(target.handlers):
            if getattr(old, _MARK, False):
                target.removeHandler(old)
        target.addHandler(handler)
    logger.setLevel(min(_level(level), logging.INFO))
    return logger


@contextmanager
def log_to_file(path: str | Path, level: str | int = "INFO") -> Iterator[logging.Handler]:
    """Append ``nablanet`` log records to ``path`` while the block runs.

    The file receives ``level`` and above (INFO by default, DEBUG with ``--log-level DEBUG``)
    whatever the console shows, and only the records of the calling thread: two runs trained at
    once in two threads (a web UI) each get their own log.
    """
    logger = logging.getLogger(LOGGER_NAME)
    handler = logging.FileHandler(path, mode="a", encoding="utf-8")
    handler.setLevel(_level(level))
    thread = threading.get_ident()
    handler.addFilter(lambda record: record.thread == thread)
    handler.setFormatter(logging.Formatter(FILE_FORMAT, datefmt="%Y-%m-%d %H:%M:%S"))
    previous = logger.level
    if logger.getEffectiveLevel() > handler.level:
        logger.setLevel(handler.level)
    warnings_logger = logging.getLogger(WARNINGS_LOGGER)
    for target in (logger, warnings_logger):
        target.addHandler(handler)
    try:
        yield handler
    finally:
        for target in (logger, warnings_logger):
            target.removeHandler(handler)
        handler.close()
        logger.setLevel(previous)
