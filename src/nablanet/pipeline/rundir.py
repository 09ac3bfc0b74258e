"""Run directories: their names, their files, and reading them back.

A run writes everything into its own directory, ``<output_dir>/<name>-<YYYYmmdd-HHMMSS>/``::

    config.yaml            the resolved config (every default filled in)
    train.log              the log of the run (appended to when resumed)
    history.json           per-epoch loss / metrics / learning rate
    diagnostics.json       per-layer, per-epoch statistics and warnings (docs/diagnostics.md)
    metrics.json           final metrics on the train / validation / test splits
    model.npz              weights + architecture + preprocessing + task/class/feature names
    checkpoints/last.npz   full training state after the last completed epoch
    checkpoints/best.npz   full training state at the best monitored epoch
    plots/*.png            learning curves, confusion matrix, ROC, misclassified samples,
                           gradient norms, histograms, decision boundary (2-D inputs), ...
    FAILED                 only after a failed training that had saved a checkpoint: the error

and ``<output_dir>/latest`` points at the newest run that saved its model
(:mod:`nablanet.pipeline.locate`). A failed training that saved nothing leaves no directory.

This module knows the layout (the file names, where the checkpoints are, which directory a run
may train into, whether a run can be resumed) and reads runs back (:func:`load_run`,
:func:`list_runs`); :mod:`nablanet.pipeline.run` does the training that fills them.

>>> import tempfile
>>> from datetime import datetime
>>> with tempfile.TemporaryDirectory() as out:
...     first = create_run_dir(out, "demo", now=datetime(2024, 5, 1, 12, 0, 0))
...     second = create_run_dir(out, "demo", now=datetime(2024, 5, 1, 12, 0, 0))
...     print(first.name, second.name, last_checkpoint(first).relative_to(first).as_posix())
demo-20240501-120000 demo-20240501-120000-2 checkpoints/last.npz
"""

from __future__ import annotations

import json
import logging
import shutil
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from .. import nn
from .config import Config, load_config
from .errors import ConfigError, RunDirError
from .evaluate import write_json
from .locate import is_latest_pointer
from .naming import STAMP_FORMAT, run_dir_name
from .trained import TrainedModel, load_trained_model

__all__ = [
    "CHECKPOINT_DIR",
    "CONFIG_FILE",
    "FAILED_FILE",
    "HISTORY_FILE",
    "LOG_FILE",
    "METRICS_FILE",
    "MODEL_FILE",
    "PLOTS_DIR",
    "RunInfo",
    "clean_up_failed_run",
    "create_run_dir",
    "last_checkpoint",
    "list_runs",
    "load_run",
    "resolve_run_dir",
    "resume_point",
    "write_history",
]

CONFIG_FILE = "config.yaml"
LOG_FILE = "train.log"
HISTORY_FILE = "history.json"
METRICS_FILE = "metrics.json"
MODEL_FILE = "model.npz"
CHECKPOINT_DIR = "checkpoints"
PLOTS_DIR = "plots"
#: written into a run directory whose training failed after saving a checkpoint (the error)
FAILED_FILE = "FAILED"

logger = logging.getLogger("nablanet.pipeline")


# -- creating and choosing run directories ------------------------------------------------------
def create_run_dir(output_dir: str | Path, name: str, now: datetime | None = None) -> Path:
    """Create ``<output_dir>/<name>-<YYYYmmdd-HHMMSS>`` (``-2``, ``-3``... when it exists); an
    existing directory is never reused."""
    base = Path(output_dir)
    try:
        base.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise RunDirError(f"{base}: cannot create the output directory ({e})") from None
    stamp = (now or datetime.now()).strftime(STAMP_FORMAT)
    for i in range(1, 1000):
        path = base / run_dir_name(name, stamp, i)
        try:
            path.mkdir()
        except FileExistsError:
            continue
        except OSError as e:
            raise RunDirError(f"{path}: cannot create the run directory ({e})") from None
        return path
    raise RunDirError(f"{base}: too many runs named {name}-{stamp}")


def resolve_run_dir(
    output_dir: str | Path,
    name: str,
    resume_from: str | Path | None = None,
    run_dir: str | Path | None = None,
) -> Path:
    """The directory a training writes into: ``resume_from`` (an existing run), else
    ``run_dir`` (an existing, empty directory), else a new one from :func:`create_run_dir`."""
    if resume_from is not None:
        path = Path(resume_from)
        if not path.is_dir():
            raise RunDirError(f"{path}: no such run directory")
        return path
    if run_dir is not None:
        path = Path(run_dir)
        if not path.is_dir() or any(path.iterdir()):
            raise RunDirError(f"{path}: must be an existing, empty directory to train into")
        return path
    return create_run_dir(output_dir, name)


def last_checkpoint(run_dir: Path) -> Path:
    """Where a run keeps the full training state of its last completed epoch."""
    return run_dir / CHECKPOINT_DIR / "last.npz"


def _checkpoint_status(path: Path) -> tuple[int, str]:
    ckpt = nn.load_checkpoint(path)
    meta = ckpt["header"].get("metadata", {})
    return ckpt["epoch"], meta.get("training_status", "running")


def resume_point(run_dir: Path) -> tuple[int, str]:
    """``(epochs done, training status)`` of a run to resume, from its last checkpoint.

    Raises
    ------
    RunDirError
        When there is no checkpoint yet, or when the run has already finished.
    """
    last = last_checkpoint(run_dir)
    if not last.exists():
        raise RunDirError(
            f"{run_dir}: nothing to resume, {last.relative_to(run_dir)} does not exist "
            "(the run stopped before its first epoch ended; start it again)"
        )
    done, status = _checkpoint_status(last)
    if status == "finished" and (run_dir / MODEL_FILE).exists():
        raise RunDirError(f"{run_dir}: this run has already finished; nothing to resume")
    return done, status


def clean_up_failed_run(run_dir: Path, error: BaseException) -> Path | None:
    """After a failed training in a directory it created: remove the directory when the run
    saved nothing of value (no checkpoint, no model: only its ``config.yaml`` and log), else
    mark it with a :data:`FAILED_FILE` naming the error. Returns the marker, or None when the
    directory was removed.

    Nothing a user saved is lost: a checkpoint keeps its directory (resume it).

    >>> import tempfile
    >>> run = Path(tempfile.mkdtemp()) / "demo-20260101-120000"
    >>> run.mkdir(); _ = (run / CONFIG_FILE).write_text("name: demo")
    >>> clean_up_failed_run(run, ValueError("bad data")), run.exists()
    (None, False)
    """
    saved = (run_dir / MODEL_FILE).exists() or any((run_dir / CHECKPOINT_DIR).glob("*.npz"))
    if not saved:
        kept = [p.name for p in run_dir.iterdir() if p.name not in (CONFIG_FILE, LOG_FILE)]
        if not kept or kept == [CHECKPOINT_DIR]:
            shutil.rmtree(run_dir, ignore_errors=True)
            if not run_dir.exists():
                logger.info("The run saved nothing; removed %s", run_dir)
                return None
    marker = run_dir / FAILED_FILE
    try:
        marker.write_text(f"{type(error).__name__}: {error}\n", encoding="utf-8")
    except OSError:  # a full disk: the log has the error already
        return None
    logger.info("Marked %s as failed (%s); its checkpoints are kept", run_dir, FAILED_FILE)
    return marker


def write_history(run_dir: Path, history: dict[str, list[Any]]) -> Path:
    """Write ``history.json``."""
    return write_json(run_dir / HISTORY_FILE, history)


# -- reading runs back --------------------------------------------------------------------------
@dataclass
class RunInfo:
    """A run directory read back (for the UI, ``visualize``, comparisons).

    Attributes
    ----------
    run_dir : Path
    config : Config or None
    history : dict or None
    metrics : dict or None
    status : str
        ``metrics.json``'s status, else ``"failed"`` (a :data:`FAILED_FILE`),
        ``"interrupted"`` (a checkpoint) or ``"incomplete"``.
    model_path : Path or None
    plots : list of Path

    >>> from nablanet.pipeline import config_from_dict, train
    >>> cfg = config_from_dict({
    ...     "name": "doc", "data": {"dataset": "diabetes"},
    ...     "model": {"layers": [{"type": "dense", "units": 1}]},
    ...     "training": {"loss": "mse", "epochs": 2}, "evaluation": {"plots": False},
    ... })
    >>> run = load_run(train(cfg, progress=False).run_dir)
    >>> run.status, run.config.name, sorted(run.checkpoints), run.load_model().task
    ('completed', 'doc', ['best', 'last'], 'regression')
    """

    run_dir: Path
    config: Config | None
    history: dict[str, list[Any]] | None
    metrics: dict[str, Any] | None
    status: str
    model_path: Path | None
    plots: list[Path]

    @property
    def name(self) -> str:
        return self.run_dir.name

    @property
    def checkpoints(self) -> dict[str, Path]:
        d = self.run_dir / CHECKPOINT_DIR
        return {p.stem: p for p in sorted(d.glob("*.npz"))} if d.is_dir() else {}

    def load_model(self) -> TrainedModel:
        if self.model_path is None:
            raise RunDirError(f"{self.run_dir}: the run has no {MODEL_FILE} yet")
        return load_trained_model(self.model_path)


def _read_json(path: Path) -> Any:
    if not path.exists():
        return None
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as e:
        raise RunDirError(f"{path}: unreadable JSON ({e})") from None


def load_run(run_dir: str | Path) -> RunInfo:
    """Read a run directory: config, history, metrics, model path, plots, status."""
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise RunDirError(f"{run_dir}: no such run directory")
    cfg_path = run_dir / CONFIG_FILE
    if not cfg_path.exists():
        raise RunDirError(f"{run_dir}: not a run directory (no {CONFIG_FILE})")
    config = load_config([cfg_path])
    metrics = _read_json(run_dir / METRICS_FILE)
    history = _read_json(run_dir / HISTORY_FILE)
    model_path = run_dir / MODEL_FILE
    if metrics is not None:
        status = metrics.get("status", "completed")
    elif (run_dir / FAILED_FILE).exists():
        status = "failed"
    elif last_checkpoint(run_dir).exists():
        status = "interrupted"
    else:
        status = "incomplete"
    plots_dir = run_dir / PLOTS_DIR
    return RunInfo(
        run_dir=run_dir,
        config=config,
        history=history,
        metrics=metrics,
        status=status,
        model_path=model_path if model_path.exists() else None,
        plots=sorted(plots_dir.rglob("*.png")) if plots_dir.is_dir() else [],
    )


def list_runs(output_dir: str | Path = "runs") -> list[RunInfo]:
    """Every readable run under ``output_dir``, newest first."""
    base = Path(output_dir)
    if not base.is_dir():
        return []
    runs = []
    for d in base.iterdir():
        if is_latest_pointer(d):  # runs/latest: the newest run again
            continue
        if d.is_dir() and (d / CONFIG_FILE).exists():
            try:
                runs.append(load_run(d))
            except (RunDirError, ConfigError):
                continue
    return sorted(runs, key=lambda r: r.run_dir.stat().st_mtime, reverse=True)
