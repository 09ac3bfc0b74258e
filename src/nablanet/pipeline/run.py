"""Training runs: config -> data -> build -> Trainer.fit -> evaluate -> artifacts.

A run writes everything into its own directory, ``<output_dir>/<name>-<YYYYmmdd-HHMMSS>/``::

    config.yaml            the resolved config (every default filled in)
    train.log              the log of the run (appended to when resumed)
    history.json           per-epoch loss / metrics / learning rate
    metrics.json           final metrics on the train / validation / test splits
    model.npz              weights + architecture + preprocessing + task/class/feature names
    checkpoints/last.npz   full training state after the last completed epoch
    checkpoints/best.npz   full training state at the best monitored epoch
    plots/*.png            learning curves, confusion matrix, ROC, misclassified samples, ...

An interrupted run (Ctrl-C, a kill) resumes from ``checkpoints/last.npz`` with
:func:`resume` and ends exactly as an uninterrupted run with the same seed would have.
"""

from __future__ import annotations

import json
import logging
import math
import threading
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from .. import data as nd
from .. import nn
from .build import build_early_stopping, build_model, build_scheduler
from .callbacks import EpochLogger, ProgressBar, RunCheckpoint, StopOnEvent
from .config import Config, load_config, save_config
from .errors import ConfigError, RunDirError
from .evaluate import compute_metrics, evaluation_plots, summarize_metrics, write_json
from .logs import log_to_file
from .prepare import PreparedData, prepare_data
from .seeding import SEED_LOCK as _SEED_LOCK
from .trained import TrainedModel, load_trained_model

__all__ = [
    "RunInfo",
    "RunResult",
    "create_run_dir",
    "list_runs",
    "load_run",
    "resume",
    "train",
]

logger = logging.getLogger("nablanet.pipeline")

CONFIG_FILE = "config.yaml"
LOG_FILE = "train.log"
HISTORY_FILE = "history.json"
METRICS_FILE = "metrics.json"
MODEL_FILE = "model.npz"
CHECKPOINT_DIR = "checkpoints"
PLOTS_DIR = "plots"


@dataclass
class RunResult:
    """What :func:`train` returns.

    Attributes
    ----------
    run_dir : Path
    config : Config
    model : nablanet.nn.Sequential
        The final model (best weights when early stopping restores them).
    trained : TrainedModel
        The model with its preprocessing, ready for ``predict`` on raw inputs.
    history : dict of str to list
        ``history.json``: ``epoch``, ``loss``, ``val_loss``, metrics, ``learning_rate``.
    metrics : dict
        ``metrics.json``: ``status``, ``epochs``, ``train``/``validation``/``test`` metrics.
    status : {"completed", "early_stopped", "stopped", "diverged"} or a callback's ``stop_status``
        (``"pruned"``: a tuning trial stopped by its pruner)
    plots : list of Path
    data : PreparedData

    >>> from nablanet.pipeline import config_from_dict, train
    >>> cfg = config_from_dict({
    ...     "name": "doc", "data": {"dataset": "breast_cancer"},
    ...     "model": {"layers": [{"type": "dense", "units": 1, "activation": "sigmoid"}]},
    ...     "training": {"loss": "binary_crossentropy", "epochs": 2},
    ...     "evaluation": {"plots": False},
    ... })
    >>> result = train(cfg, progress=False)
    >>> result.status, result.metrics["epochs"], result.history["epoch"]
    ('completed', 2, [0, 1])
    >>> sorted(p.name for p in result.run_dir.iterdir())
    ['checkpoints', 'config.yaml', 'history.json', 'metrics.json', 'model.npz', 'train.log']
    """

    run_dir: Path
    config: Config
    model: nn.Sequential
    trained: TrainedModel
    history: dict[str, list]
    metrics: dict[str, Any]
    status: str
    plots: list[Path] = field(default_factory=list)
    data: PreparedData | None = None

    @property
    def model_path(self) -> Path:
        return self.run_dir / MODEL_FILE


# -- run directories ----------------------------------------------------------------------------
def create_run_dir(output_dir: str | Path, name: str, now: datetime | None = None) -> Path:
    """Create ``<output_dir>/<name>-<YYYYmmdd-HHMMSS>`` (``-2``, ``-3``... when it exists); an
    existing directory is never reused."""
    base = Path(output_dir)
    try:
        base.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise RunDirError(f"{base}: cannot create the output directory ({e})") from None
    stamp = (now or datetime.now()).strftime("%Y%m%d-%H%M%S")
    for i in range(1, 1000):
        path = base / (f"{name}-{stamp}" if i == 1 else f"{name}-{stamp}-{i}")
        try:
            path.mkdir()
        except FileExistsError:
            continue
        except OSError as e:
            raise RunDirError(f"{path}: cannot create the run directory ({e})") from None
        return path
    raise RunDirError(f"{base}: too many runs named {name}-{stamp}")


def _write_history(run_dir: Path, history: dict[str, list]) -> Path:
    return write_json(run_dir / HISTORY_FILE, history)


def _logged_keys(model: nn.Sequential, with_validation: bool) -> list[str]:
    keys = ["loss", *model.metrics]
    return keys + ([f"val_{k}" for k in keys] if with_validation else [])


def _check_monitors(config: Config, model: nn.Sequential, with_validation: bool) -> None:
    available = _logged_keys(model, with_validation)
    checks = [("training.checkpoint.monitor", config.training.checkpoint.monitor)]
    if config.training.early_stopping is not None:
        checks.append(("training.early_stopping.monitor", config.training.early_stopping.monitor))
    for path, monitor in checks:
        if monitor not in available:
            raise ConfigError(
                f"{path}: {monitor!r} is not logged for this model; available: "
                f"{', '.join(available)}"
            )


def _log_to_file_only(handler: logging.Handler, level: int, message: str) -> None:
    record = logger.makeRecord(logger.name, level, __file__, 0, message, None, None)
    handler.handle(record)


def _config_diff(old: Mapping[str, Any], new: Mapping[str, Any], prefix: str = "") -> list[str]:
    out = []
    for key in sorted(set(old) | set(new)):
        a, b = old.get(key), new.get(key)
        path = f"{prefix}{key}"
        if isinstance(a, Mapping) and isinstance(b, Mapping):
            out.extend(_config_diff(a, b, path + "."))
        elif a != b:
            out.append(f"{path}: {a!r} -> {b!r}")
    return out


def _checkpoint_status(path: Path) -> tuple[int, str]:
    ckpt = nn.load_checkpoint(path)
    meta = ckpt["header"].get("metadata", {})
    return ckpt["epoch"], meta.get("training_status", "running")


# -- training -----------------------------------------------------------------------------------
def train(
    config: Config,
    *,
    callbacks: Sequence[nn.Callback] = (),
    stop_event: threading.Event | None = None,
    resume_from: str | Path | None = None,
    dataset: nd.Dataset | None = None,
    data_dir: str | Path | None = None,
    progress: bool | None = None,
    log_level: str = "INFO",
    run_dir: str | Path | None = None,
    metadata: Mapping[str, Any] | None = None,
) -> RunResult:
    """Run a whole training: data, model, fit, evaluation on the test split, artifacts.

    Parameters
    ----------
    config : Config
        From :func:`~nablanet.pipeline.config.load_config`.
    callbacks : list of nablanet.nn.Callback
        Extra callbacks (e.g. a UI streaming live curves), called after the pipeline's own and
        before the checkpoint callback, which is always last.
    stop_event : threading.Event, optional
        Set it (from another thread, or from a callback) to stop training after the current
        batch (a partial epoch is logged as an epoch); the run then finishes normally (model,
        metrics, plots) with status ``"stopped"`` and the weights of its best epoch (by
        ``training.checkpoint.monitor``, or by the early stopping's monitor when it has one).
    resume_from : path of a run directory, optional
        Continue that run from ``checkpoints/last.npz`` (use :func:`resume` to also read its
        config).
    dataset : nablanet.data.Dataset, optional
        Use these data instead of loading ``config.data.dataset``.
    data_dir : path, optional
        Dataset cache directory.
    progress : bool, optional
        Show a tqdm bar per epoch (default: when stderr is a terminal).
    log_level : str
        Level of the records written to ``train.log`` (INFO or DEBUG).
    run_dir : path, optional
        Train into this existing, empty directory (a tuning trial's ``trial-0007/``) instead of
        a new ``<output_dir>/<name>-<timestamp>/``.
    metadata : mapping, optional
        Extra JSON-able facts about the run (a tuning trial's study and number), stored in the
        model file's metadata and in ``metrics.json`` under their own keys.

    A user callback that stops training may name the run's status in a ``stop_status``
    attribute (the tuning pruner sets ``"pruned"``).

    Returns
    -------
    RunResult

    Raises
    ------
    ConfigError, nablanet.data.DataError, RunDirError
        User errors (one line each).
    KeyboardInterrupt
        Re-raised after logging how to resume; ``checkpoints/last.npz`` holds the last
        completed epoch.
    """
    t_start = time.perf_counter()
    resuming = resume_from is not None
    if resuming:
        run_dir = Path(resume_from)
        if not run_dir.is_dir():
            raise RunDirError(f"{run_dir}: no such run directory")
    elif run_dir is not None:
        run_dir = Path(run_dir)
        if not run_dir.is_dir() or any(run_dir.iterdir()):
            raise RunDirError(f"{run_dir}: must be an existing, empty directory to train into")
    else:
        run_dir = create_run_dir(config.output_dir, config.name)
    ckpt_dir = run_dir / CHECKPOINT_DIR
    last = ckpt_dir / "last.npz"

    with log_to_file(run_dir / LOG_FILE, level="DEBUG" if log_level == "DEBUG" else "INFO") as fh:
        try:
            return _train(
                config,
                run_dir,
                resuming,
                last,
                callbacks,
                stop_event,
                dataset,
                data_dir,
                progress,
                t_start,
                metadata,
            )
        except KeyboardInterrupt:
            logger.warning("Interrupted. Resume with: nablanet train --resume %s", run_dir)
            raise
        except nn.DiskFullError:
            logger.warning(
                "The disk is full: free some space. Resume with: nablanet train --resume %s",
                run_dir,
            )
            raise
        except Exception as e:
            _log_to_file_only(fh, logging.ERROR, f"Run failed: {type(e).__name__}: {e}")
            raise


def _train(
    config: Config,
    run_dir: Path,
    resuming: bool,
    last: Path,
    user_callbacks: Sequence[nn.Callback],
    stop_event: threading.Event | None,
    dataset: nd.Dataset | None,
    data_dir,
    progress: bool | None,
    t_start: float,
    extra_metadata: Mapping[str, Any] | None = None,
) -> RunResult:
    tc = config.training
    epochs = tc.epochs
    ckpt_status = "running"
    if resuming:
        if not last.exists():
            raise RunDirError(
                f"{run_dir}: nothing to resume, {last.relative_to(run_dir)} does not exist "
                "(the run stopped before its first epoch ended; start it again)"
            )
        done, ckpt_status = _checkpoint_status(last)
        if ckpt_status == "finished" and (run_dir / MODEL_FILE).exists():
            raise RunDirError(f"{run_dir}: this run has already finished; nothing to resume")
        saved = run_dir / CONFIG_FILE
        if saved.exists():
            old = load_config([saved]).to_dict()
            changes = _config_diff(old, config.to_dict())
            if changes:
                logger.warning(
                    "Resuming with a changed config (%s); the result may differ from an "
                    "uninterrupted run",
                    "; ".join(changes),
                )
                save_config(config, saved)
        else:
            save_config(config, saved)
        logger.info("Resuming run %s after epoch %d of %d", run_dir, done, epochs)
    else:
        save_config(config, run_dir / CONFIG_FILE)
        logger.info("Run %s: %s", config.name, run_dir)

    prepared = prepare_data(config, dataset=dataset, data_dir=data_dir)
    with _SEED_LOCK:  # the global seed -> layer and trainer generators, one run at a time
        nn.set_seed(config.seed)
        model = build_model(
            config, prepared.model_input_shape, prepared.n_outputs, task=prepared.task
        )
        trainer_rng = nn.get_rng()
    model.metadata = prepared.metadata(config)
    if extra_metadata:
        model.metadata.update(extra_metadata)
    logger.info("Model:\n%s", model.summary(prepared.model_input_shape, print_fn=None))
    with_val = prepared.validation_data is not None
    _check_monitors(config, model, with_val)

    scheduler = build_scheduler(tc.scheduler, epochs, tc.optimizer.learning_rate)
    early = build_early_stopping(tc.early_stopping)
    nan_stop = nn.TerminateOnNaN() if tc.terminate_on_nan else None
    stop_cb = None
    if stop_event is not None:  # a stopped run keeps its best weights, early stopping or not
        keep = tc.checkpoint.monitor if early is None else None
        stop_cb = StopOnEvent(stop_event, keep_best=keep, mode=tc.checkpoint.mode)
    checkpoint = RunCheckpoint(
        run_dir / CHECKPOINT_DIR, tc.checkpoint.monitor, tc.checkpoint.mode, epochs
    )
    if progress is None:
        import sys

        progress = sys.stderr.isatty()
    n_batches = math.ceil(len(prepared.x_train) / tc.batch_size)
    cbs: list[nn.Callback] = [
        cb
        for cb in (
            early,
            nan_stop,
            EpochLogger(epochs),
            ProgressBar(n_batches, epochs) if progress else None,
        )
        if cb is not None
    ]
    cbs.extend(user_callbacks)
    if stop_cb is not None:  # after the user's callbacks: a stop they ask for counts at once
        cbs.append(stop_cb)
    cbs.append(checkpoint)  # last: its state includes every other callback's update
    trainer = nn.Trainer(
        model,
        batch_size=tc.batch_size,
        shuffle=tc.shuffle,
        callbacks=cbs,
        scheduler=scheduler,
        verbose=0,
        seed=trainer_rng,
    )
    fit_epochs = epochs
    if resuming and ckpt_status == "finished":
        fit_epochs = done  # training had ended (e.g. early stopping): run no more epochs
    logger.info(
        "Training for %d epochs, batch size %d, %s, loss %s",
        epochs,
        tc.batch_size,
        type(model.optimizer).__name__,
        tc.loss,
    )
    t_fit = time.perf_counter()
    try:
        trainer.fit(
            prepared.x_train,
            prepared.y_train,
            epochs=fit_epochs,
            validation_data=prepared.validation_data,
            resume_from=last if resuming else None,
        )
    except KeyboardInterrupt:
        _write_history(run_dir, trainer.history.to_dict())
        raise
    fit_time = time.perf_counter() - t_fit
    history = trainer.history.to_dict()
    _write_history(run_dir, history)

    asked = [s for cb in user_callbacks if (s := getattr(cb, "stop_status", None))]
    if asked:  # a callback stopped training and named why (a pruned tuning trial)
        status = asked[0]
    elif stop_cb is not None and stop_cb.stopped:
        status = "stopped"
    elif nan_stop is not None and nan_stop.terminated_at is not None:
        status = "diverged"
    elif early is not None and early.stopped_epoch >= 0:
        status = "early_stopped"
    else:
        status = "completed"

    model_path = model.save(run_dir / MODEL_FILE, metadata=model.metadata)
    trained = TrainedModel(
        model=model,
        task=prepared.task,
        class_names=prepared.class_names,
        feature_names=prepared.feature_names,
        input_shape=prepared.input_shape,
        preprocessing=prepared.preprocessing,
        target_preprocessing=prepared.target_preprocessing,
        metadata=model.metadata,
        path=model_path,
    )
    metrics, plot_paths = _finish(
        config,
        run_dir,
        prepared,
        trained,
        history,
        status,
        early,
        checkpoint,
        fit_time,
        extra_metadata,
    )
    logger.info("Done in %.1f s: %s", time.perf_counter() - t_start, run_dir)
    return RunResult(
        run_dir=run_dir,
        config=config,
        model=model,
        trained=trained,
        history=history,
        metrics=metrics,
        status=status,
        plots=plot_paths,
        data=prepared,
    )


def _split_summary(trained: TrainedModel, x, y, metrics) -> dict[str, Any] | None:
    if len(x) == 0:
        return None
    report, _ = compute_metrics(trained, x, y, metrics)
    return report


def _finish(
    config: Config,
    run_dir: Path,
    prepared: PreparedData,
    trained: TrainedModel,
    history: dict[str, list],
    status: str,
    early: nn.EarlyStopping | None,
    checkpoint: RunCheckpoint,
    fit_time: float,
    extra_metadata: Mapping[str, Any] | None = None,
) -> tuple[dict[str, Any], list[Path]]:
    """Evaluate on every split, write metrics.json and the plots."""
    wanted = config.evaluation.metrics
    summary_keys = ("accuracy", "loss", "mse", "mae", "r2")
    splits = {}
    for name, x, y in (
        ("train", prepared.x_train, prepared.y_train),
        ("validation", prepared.x_val, prepared.y_val),
    ):
        y_eval = y
        if prepared.task == "regression" and prepared.target_preprocessing is not None and len(y):
            y_eval = prepared.target_preprocessing.inverse_transform(y)
        report = _split_summary(trained, x, y_eval, None)
        splits[name] = (
            None
            if report is None
            else {k: v for k, v in report.items() if k in summary_keys or k == "n_samples"}
        )
    test_report, test_pred = None, None
    if len(prepared.x_test):
        test_report, test_pred = compute_metrics(
            trained, prepared.x_test, prepared.raw_y_test, wanted
        )
        logger.info(
            "Test (%s, %d samples): %s",
            prepared.test_source,
            len(prepared.x_test),
            summarize_metrics(test_report),
        )
    else:
        logger.warning("No test samples (data.test_split is 0): the metrics cover train/val only")
    best_epoch = None
    if early is not None and early.best_epoch >= 0:
        best_epoch = early.best_epoch + 1
    elif checkpoint.best_epoch is not None:
        best_epoch = checkpoint.best_epoch + 1
    metrics = {
        "run": run_dir.name,
        "name": config.name,
        "dataset": config.data.dataset_label(),
        "task": prepared.task,
        "status": status,
        "epochs": len(history.get("epoch", [])),
        "best_epoch": best_epoch,
        "training_time_s": round(fit_time, 3),
        "train": splits["train"],
        "validation": splits["validation"],
        "test": test_report,
        **dict(extra_metadata or {}),
    }
    write_json(run_dir / METRICS_FILE, metrics)

    plot_paths: list[Path] = []
    if config.evaluation.plots:
        plot_dir = run_dir / PLOTS_DIR
        try:
            from . import plots

            plot_paths.extend(plots.plot_history(history, plot_dir))
        except Exception as e:  # a plot must not lose a finished run
            logger.warning("Could not draw the learning curves: %s", e)
        if test_report is not None:
            y_true = prepared.raw_y_test
            plot_paths.extend(
                evaluation_plots(
                    trained, test_report, prepared.raw_x_test, y_true, test_pred, plot_dir
                )
            )
        logger.info("Plots: %s", ", ".join(p.name for p in plot_paths))
    return metrics, plot_paths


def resume(
    run_dir: str | Path,
    overrides: Iterable[str] | Mapping[str, Any] = (),
    **kwargs: Any,
) -> RunResult:
    """Continue an interrupted run from its ``checkpoints/last.npz`` with its own
    ``config.yaml`` (``overrides`` change it, at the price of exactness).

    Keyword arguments are those of :func:`train` (``callbacks``, ``stop_event``, ...).
    """
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise RunDirError(f"{run_dir}: no such run directory")
    cfg = run_dir / CONFIG_FILE
    if not cfg.exists():
        raise RunDirError(f"{run_dir}: not a run directory (no {CONFIG_FILE})")
    config = load_config([cfg], overrides)
    return train(config, resume_from=run_dir, **kwargs)


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
        ``metrics.json``'s status, or ``"running"``/``"interrupted"`` from the checkpoint.
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
    history: dict[str, list] | None
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
    elif (run_dir / CHECKPOINT_DIR / "last.npz").exists():
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
        if d.is_dir() and (d / CONFIG_FILE).exists():
            try:
                runs.append(load_run(d))
            except (RunDirError, ConfigError):
                continue
    return sorted(runs, key=lambda r: r.run_dir.stat().st_mtime, reverse=True)
