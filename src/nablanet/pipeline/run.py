"""Training runs: config -> data -> build -> Trainer.fit -> evaluate -> artifacts.

:func:`train` runs one training into a run directory (its layout: :mod:`nablanet.pipeline.rundir`)
in small steps: record the config, prepare the data, build the model under the seed lock, put
the callbacks in their fixed order, fit, save the model; :mod:`nablanet.pipeline.finish` then
evaluates every split and draws the plots.
An interrupted run (Ctrl-C, a kill) resumes from ``checkpoints/last.npz`` with :func:`resume`
and ends exactly as an uninterrupted run with the same seed would have.
"""

from __future__ import annotations

import logging
import math
import sys
import threading
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .. import data as nd
from .. import nn
from .build import build_early_stopping, build_model, build_scheduler
from .callbacks import EpochLogger, ProgressBar, RunCheckpoint, StopOnEvent
from .config import Config, load_config, save_config
from .diagnostics import diagnostics_callback, write_diagnostics
from .errors import ConfigError, PipelineError, RunDirError
from .finish import FitOutcome, finish_run
from .locate import LATEST, update_latest
from .logs import log_to_file
from .prepare import PreparedData, prepare_data
from .rundir import (
    CHECKPOINT_DIR,
    CONFIG_FILE,
    FAILED_FILE,
    LOG_FILE,
    MODEL_FILE,
    clean_up_failed_run,
    last_checkpoint,
    resolve_run_dir,
    resume_point,
    write_history,
)
from .seeding import SEED_LOCK as _SEED_LOCK
from .trained import TrainedModel

__all__ = ["RunResult", "resume", "train"]

logger = logging.getLogger("nablanet.pipeline")


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
    ['checkpoints', 'config.yaml', 'diagnostics.json', 'history.json', 'metrics.json', 'model.npz', 'train.log']
    """

    run_dir: Path
    config: Config
    model: nn.Sequential
    trained: TrainedModel
    history: dict[str, list[Any]]
    metrics: dict[str, Any]
    status: str
    plots: list[Path] = field(default_factory=list)
    data: PreparedData | None = None

    @property
    def model_path(self) -> Path:
        return self.run_dir / MODEL_FILE


# -- the settings of one run and what its steps hand on ----------------------------------------
@dataclass(frozen=True)
class _Run:
    """One call of :func:`train`, its arguments resolved: what every step reads."""

    config: Config
    run_dir: Path
    resuming: bool
    user_callbacks: Sequence[nn.Callback]
    stop_event: threading.Event | None
    dataset: nd.Dataset | None
    data_dir: str | Path | None
    progress: bool
    t_start: float
    metadata: Mapping[str, Any] | None

    #: whether ``<output_dir>/latest`` follows this run (not for a tuning trial's directory,
    #: which its study keeps track of)
    keeps_latest: bool = True

    @property
    def last(self) -> Path:
        return last_checkpoint(self.run_dir)


@dataclass
class _RunCallbacks:
    """The pipeline's callbacks of a run, and all of them in their fixed order."""

    early: nn.EarlyStopping | None
    nan_stop: nn.TerminateOnNaN | None
    stop: StopOnEvent | None
    checkpoint: RunCheckpoint
    ordered: list[nn.Callback]
    diagnostics: nn.Diagnostics | None = None

    def status(self, user_callbacks: Sequence[nn.Callback]) -> str:
        """How training ended (see :attr:`RunResult.status`)."""
        asked = [s for cb in user_callbacks if (s := getattr(cb, "stop_status", None))]
        if asked:  # a callback stopped training and named why (a pruned tuning trial)
            return asked[0]
        if self.stop is not None and self.stop.stopped:
            return "stopped"
        if self.nan_stop is not None and self.nan_stop.terminated_at is not None:
            return "diverged"
        if self.early is not None and self.early.stopped_epoch >= 0:
            return "early_stopped"
        return "completed"

    def best_epoch(self) -> int | None:
        """The best epoch (1-based): the early stopping's, else the checkpoint's."""
        if self.early is not None and self.early.best_epoch >= 0:
            return self.early.best_epoch + 1
        if self.checkpoint.best_epoch is not None:
            return self.checkpoint.best_epoch + 1
        return None


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
    directory = resolve_run_dir(config.output_dir, config.name, resume_from, run_dir)
    # a directory this call created is this call's to clean up when the run fails
    created = resume_from is None and run_dir is None
    run = _Run(
        config=config,
        run_dir=directory,
        resuming=resume_from is not None,
        user_callbacks=callbacks,
        stop_event=stop_event,
        dataset=dataset,
        data_dir=data_dir,
        progress=sys.stderr.isatty() if progress is None else progress,
        t_start=t_start,
        metadata=metadata,
        keeps_latest=run_dir is None,
    )
    level = "DEBUG" if log_level == "DEBUG" else "INFO"
    with log_to_file(directory / LOG_FILE, level=level) as fh:
        try:
            return _train(run)
        except KeyboardInterrupt:
            logger.warning("Interrupted. Resume with: nablanet train --resume %s", directory)
            raise
        except nn.DiskFullError:
            logger.warning(
                "The disk is full: free some space. Resume with: nablanet train --resume %s",
                directory,
            )
            raise
        except Exception as e:
            _log_to_file_only(fh, logging.ERROR, f"Run failed: {type(e).__name__}: {e}")
            failed = e
    # (only a failure gets here) after the log file is closed, so that the directory can go
    if created:
        clean_up_failed_run(directory, failed)
    raise failed


def _train(run: _Run) -> RunResult:
    tc = run.config.training
    done, ckpt_status = _record_config(run)
    prepared = prepare_data(run.config, dataset=run.dataset, data_dir=run.data_dir)
    model, trainer_rng = _build_model(run, prepared)
    scheduler = build_scheduler(tc.scheduler, tc.epochs, tc.optimizer.learning_rate)
    cbs = _make_callbacks(run, prepared)
    trainer = nn.Trainer(
        model,
        batch_size=tc.batch_size,
        shuffle=tc.shuffle,
        callbacks=cbs.ordered,
        scheduler=scheduler,
        verbose=0,
        seed=trainer_rng,
    )
    fit_epochs = tc.epochs
    if run.resuming and ckpt_status == "finished":
        fit_epochs = done  # training had ended (e.g. early stopping): run no more epochs
    history, fit_time = _fit(run, trainer, prepared, fit_epochs, cbs.diagnostics)
    fitted = FitOutcome(
        run_dir=run.run_dir,
        config=run.config,
        trained=_save_model(run, model, prepared),
        history=history,
        status=cbs.status(run.user_callbacks),
        best_epoch=cbs.best_epoch(),
        fit_time=fit_time,
        metadata=run.metadata,
    )
    metrics, plot_paths = finish_run(fitted, prepared)
    if run.keeps_latest:
        _point_latest_at(run.run_dir)
    logger.info("Done in %.1f s: %s", time.perf_counter() - run.t_start, run.run_dir)
    return RunResult(
        run_dir=run.run_dir,
        config=run.config,
        model=model,
        trained=fitted.trained,
        history=history,
        metrics=metrics,
        status=fitted.status,
        plots=plot_paths,
        data=prepared,
    )


def _point_latest_at(run_dir: Path) -> None:
    """``<output_dir>/latest`` -> ``run_dir``; a pointer that cannot be written costs a warning,
    never the run."""
    try:
        update_latest(run_dir)
    except (OSError, PipelineError) as e:
        logger.warning("Could not point %s at this run: %s", run_dir.parent / LATEST, e)


def _log_to_file_only(handler: logging.Handler, level: int, message: str) -> None:
    record = logger.makeRecord(logger.name, level, __file__, 0, message, (), None)
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


def _record_config(run: _Run) -> tuple[int, str]:
    """Write ``config.yaml`` (a resumed run: check it can resume, warn about a changed config);
    returns the resume point ``(epochs done, checkpoint status)``."""
    config, run_dir = run.config, run.run_dir
    if not run.resuming:
        save_config(config, run_dir / CONFIG_FILE)
        logger.info("Run %s: %s", config.name, run_dir)
        for note in config.notes:  # what validation changed (a shortened warm-up)
            logger.warning("Config: %s", note)
        return 0, "running"
    done, ckpt_status = resume_point(run_dir)
    (run_dir / FAILED_FILE).unlink(missing_ok=True)  # a failed run, resumed, is running again
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
    logger.info("Resuming run %s after epoch %d of %d", run_dir, done, config.training.epochs)
    return done, ckpt_status


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


def _build_model(run: _Run, prepared: PreparedData) -> tuple[nn.Sequential, Any]:
    """The compiled model (with the run's metadata) and the trainer's generator, both drawn
    from ``config.seed`` under the seed lock."""
    config = run.config
    with _SEED_LOCK:  # the global seed -> layer and trainer generators, one run at a time
        nn.set_seed(config.seed)
        model = build_model(
            config, prepared.model_input_shape, prepared.n_outputs, task=prepared.task
        )
        trainer_rng = nn.get_rng()
    model.metadata = prepared.metadata(config)
    if run.metadata:
        model.metadata.update(run.metadata)
    logger.info("Model:\n%s", model.summary(prepared.model_input_shape, print_fn=None))
    _check_monitors(config, model, prepared.validation_data is not None)
    return model, trainer_rng


def _make_callbacks(run: _Run, prepared: PreparedData) -> _RunCallbacks:
    """Early stopping, NaN stop, logger, progress bar, diagnostics (after the epoch's log line:
    their warnings follow it), the user's, the stop event's, and the checkpoint last (its state
    includes every other callback's update)."""
    tc = run.config.training
    epochs = tc.epochs
    early = build_early_stopping(tc.early_stopping)
    nan_stop = nn.TerminateOnNaN() if tc.terminate_on_nan else None
    stop_cb = None
    if run.stop_event is not None:  # a stopped run keeps its best weights, early stopping or not
        keep = tc.checkpoint.monitor if early is None else None
        stop_cb = StopOnEvent(run.stop_event, keep_best=keep, mode=tc.checkpoint.mode)
    checkpoint = RunCheckpoint(
        run.run_dir / CHECKPOINT_DIR, tc.checkpoint.monitor, tc.checkpoint.mode, epochs
    )
    n_batches = math.ceil(len(prepared.x_train) / tc.batch_size)
    diagnostics = diagnostics_callback(run.config)
    cbs: list[nn.Callback] = [
        cb
        for cb in (
            early,
            nan_stop,
            EpochLogger(epochs),
            ProgressBar(n_batches, epochs) if run.progress else None,
            diagnostics,
        )
        if cb is not None
    ]
    cbs.extend(run.user_callbacks)
    if stop_cb is not None:  # after the user's callbacks: a stop they ask for counts at once
        cbs.append(stop_cb)
    cbs.append(checkpoint)
    return _RunCallbacks(early, nan_stop, stop_cb, checkpoint, cbs, diagnostics)


def _fit(
    run: _Run,
    trainer: nn.Trainer,
    prepared: PreparedData,
    fit_epochs: int,
    diagnostics: nn.Diagnostics | None = None,
) -> tuple[dict[str, list[Any]], float]:
    """Fit (from the last checkpoint when resuming); write ``history.json`` (and
    ``diagnostics.json``), also when interrupted. Returns the history and the fit's time in
    seconds."""
    tc = run.config.training
    logger.info(
        "Training for %d epochs, batch size %d, %s, loss %s",
        tc.epochs,
        tc.batch_size,
        type(trainer.model.optimizer).__name__,
        tc.loss,
    )
    t_fit = time.perf_counter()
    try:
        trainer.fit(
            prepared.x_train,
            prepared.y_train,
            epochs=fit_epochs,
            validation_data=prepared.validation_data,
            resume_from=run.last if run.resuming else None,
        )
    except KeyboardInterrupt:
        write_history(run.run_dir, trainer.history.to_dict())
        write_diagnostics(run.run_dir, diagnostics)
        raise
    fit_time = time.perf_counter() - t_fit
    history = trainer.history.to_dict()
    write_history(run.run_dir, history)
    write_diagnostics(run.run_dir, diagnostics)
    return history, fit_time


def _save_model(run: _Run, model: nn.Sequential, prepared: PreparedData) -> TrainedModel:
    """Write ``model.npz``; the model with its preprocessing."""
    model_path = model.save(run.run_dir / MODEL_FILE, metadata=model.metadata)
    return TrainedModel(
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
