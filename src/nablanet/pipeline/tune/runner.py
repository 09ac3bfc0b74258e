"""``nablanet tune``: an Optuna study whose trials are ordinary training runs.

One call of :func:`run_tune` runs ``n_trials`` trials in this process; any number of processes
naming the same storage and study work on one study together. Each trial is the pipeline's
:func:`~nablanet.pipeline.train` into ``<output_dir>/<study>/trial-0007/``, with a callback that
reports the metric every epoch and stops the run when the pruner says so.
"""

from __future__ import annotations

import contextlib
import logging
import math
import time
import warnings
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ... import nn
from .._tune_schema import TuneConfig
from ..config import Config, apply_overrides, config_from_dict, merge_dicts, read_yaml
from ..errors import ConfigError, RunDirError
from ..logs import LOGGER_NAME
from ..run import train
from .results import TrialRow, trial_rows, write_study_files
from .space import check_tune_config, suggest, trial_config
from .storage import StorageError, default_storage_url, import_optuna, open_storage, redact

__all__ = [
    "Study",
    "TrialReporter",
    "TuneResult",
    "load_tune_config",
    "open_study",
    "run_tune",
    "show_study",
]

logger = logging.getLogger("nablanet.tune")


def load_tune_config(
    paths: str | Path | Sequence[str | Path], overrides: Iterable[str] | Mapping[str, Any] = ()
) -> tuple[Config, dict[str, Any]]:
    """The validated config and its plain data (files merged, ``--set`` applied), which every
    trial's values are put into. Raises :class:`ConfigError` like ``load_config``."""
    if isinstance(paths, str | Path):
        paths = [paths]
    data: dict[str, Any] = {}
    for path in paths:
        data = merge_dicts(data, read_yaml(path))
    if not data:
        raise ConfigError("no configuration given: pass --config FILE with a tune: section")
    data = apply_overrides(data, overrides)
    # relative dataset paths resolve from the working directory, for every trial alike
    return config_from_dict(data), data


@dataclass
class Study:
    """An open study: the Optuna object and where its files go.

    Attributes
    ----------
    study : optuna.Study
    name : str
    folder : Path
        ``<output_dir>/<name>/``: trial run directories, ``best.yaml``, ``trials.csv``, plots
        (and the default storage, ``study.db``).
    storage : str
        The storage URL, password hidden.
    spec : TuneConfig

    >>> Study.__name__
    'Study'
    """

    study: Any
    name: str
    folder: Path
    storage: str
    spec: TuneConfig

    @property
    def metric(self) -> str:
        return self.spec.metric

    def rows(self) -> list[TrialRow]:
        return trial_rows(self.study)


def _sampler(optuna: Any, spec: TuneConfig) -> Any:
    s = spec.sampler
    if s.name == "random":
        return optuna.samplers.RandomSampler(seed=s.seed)
    if s.name == "grid":
        grid = {k: list(e.choices or []) for k, e in spec.space.items()}
        return optuna.samplers.GridSampler(grid, seed=s.seed)
    return optuna.samplers.TPESampler(seed=s.seed, n_startup_trials=s.n_startup_trials)


def _pruner(optuna: Any, spec: TuneConfig, epochs: int) -> Any:
    p = spec.pruner
    if p.name == "none":
        return optuna.pruners.NopPruner()
    if p.name == "hyperband":
        return optuna.pruners.HyperbandPruner(
            min_resource=p.min_resource,
            max_resource=max(epochs, p.min_resource + 1),
            reduction_factor=max(p.reduction_factor, 2),
        )
    return optuna.pruners.MedianPruner(
        n_startup_trials=p.n_startup_trials, n_warmup_steps=p.n_warmup_steps
    )


def open_study(
    config: Config,
    *,
    storage: str | None = None,
    study_name: str | None = None,
    create: bool = True,
) -> Study:
    """Create or load the study of ``config.tune`` (``load_if_exists``).

    Raises
    ------
    StorageError
        A bad storage URL, a server that does not answer, a missing driver; a study that
        exists with another direction or metric; with ``create=False``, no such study.
    """
    spec = config.tune
    if spec is None:
        raise ConfigError("tune: the config has no tune: section (see docs/tuning.md)")
    optuna = import_optuna()
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    name = study_name or spec.study or config.name
    folder = Path(config.output_dir) / name
    if storage is None:
        if not create and not (folder / "study.db").exists():
            raise StorageError(f"{folder}: no study here (no study.db); run nablanet tune first")
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise RunDirError(f"{folder}: cannot create the study folder ({e})") from None
        url = default_storage_url(folder)
    else:
        url = storage
    rdb = open_storage(
        url, heartbeat_interval=spec.heartbeat_interval, grace_period=spec.grace_period
    )
    direction = spec.resolved_direction()
    existing = {
        s.study_name: s for s in optuna.get_all_study_summaries(rdb, include_best_trial=False)
    }
    if name in existing:
        have = existing[name].direction.name.lower()
        if have != direction:
            raise StorageError(
                f"study {name!r} in {redact(url)} exists with direction {have}; the config asks "
                f"for {direction} (tune.direction / tune.metric): use another --study name"
            )
        metric = existing[name].user_attrs.get("metric")
        if metric is not None and metric != spec.metric:
            raise StorageError(
                f"study {name!r} in {redact(url)} optimizes {metric!r}; the config asks for "
                f"{spec.metric!r} (tune.metric): use another --study name"
            )
    elif not create:
        raise StorageError(f"no study named {name!r} in {redact(url)}")
    study = optuna.create_study(
        storage=rdb,
        study_name=name,
        direction=direction,
        load_if_exists=True,
        sampler=_sampler(optuna, spec),
        pruner=_pruner(optuna, spec, config.training.epochs),
    )
    if "metric" not in study.user_attrs:
        study.set_user_attr("metric", spec.metric)
    return Study(study=study, name=name, folder=folder, storage=redact(url), spec=spec)


class TrialReporter(nn.Callback):
    """Reports ``metric`` to an Optuna trial after every epoch; when the pruner says so, stops
    training with the run status ``"pruned"`` (the run still finishes: model, metrics, plots).

    >>> class FakeTrial:
    ...     def __init__(self): self.reported = []
    ...     def report(self, value, step): self.reported.append((step, value))
    ...     def should_prune(self): return len(self.reported) >= 2
    >>> class FakeTrainer:
    ...     stop_training = False
    >>> cb = TrialReporter(FakeTrial(), "val_loss")
    >>> cb.set_trainer(FakeTrainer())
    >>> cb.on_epoch_end(0, {"val_loss": 0.5}); cb.stop_status
    >>> cb.on_epoch_end(1, {"val_loss": 0.4}); cb.stop_status, cb.trainer.stop_training
    ('pruned', True)
    """

    def __init__(self, trial: Any, metric: str):
        super().__init__()
        self.trial = trial
        self.metric = metric
        self.stop_status: str | None = None
        self.pruned_epoch: int | None = None

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        value = (logs or {}).get(self.metric)
        if value is None or not math.isfinite(float(value)):
            return
        self.trial.report(float(value), epoch)
        if self.stop_status is None and self.trial.should_prune():
            self.stop_status = "pruned"
            self.pruned_epoch = epoch
            self.trainer.stop_training = True


def objective_value(
    history: Mapping[str, list[Any]], metrics: Mapping[str, Any], config: Config, metric: str
) -> float:
    """The value a trial scores: ``metric`` at the epoch whose weights the final model has
    (the best epoch when early stopping restores the best weights, else the last epoch).

    >>> from nablanet.pipeline import config_from_dict
    >>> cfg = config_from_dict({"data": {"dataset": "diabetes"},
    ...     "model": {"layers": [{"type": "dense", "units": 1}]},
    ...     "training": {"loss": "mse", "epochs": 3, "early_stopping": {"patience": 1}}})
    >>> objective_value({"val_loss": [3.0, 2.0, 2.5]}, {"best_epoch": 2}, cfg, "val_loss")
    2.0
    """
    values = history.get(metric) or []
    if not values:
        return float("nan")
    es = config.training.early_stopping
    index = -1
    best = metrics.get("best_epoch")
    if es is not None and es.restore_best_weights and best:
        index = min(int(best), len(values)) - 1
    value = values[index]
    return float("nan") if value is None else float(value)


def _trial_dir(folder: Path, number: int) -> Path:
    """``trial-0007``; ``trial-0007-2`` when a directory of that name exists already (a study
    started over in another storage): a finished trial's directory is never reused."""
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(1, 1000):
        path = folder / (f"trial-{number:04d}" if i == 1 else f"trial-{number:04d}-{i}")
        try:
            path.mkdir()
        except FileExistsError:
            continue
        return path
    raise RunDirError(f"{folder}: too many directories named trial-{number:04d}")


@contextlib.contextmanager
def _quiet_trials(show_epochs: bool) -> Iterator[None]:
    """While trials train, the console gets the tune lines and warnings, not every epoch
    (``train.log`` of each trial still has them all)."""
    if show_epochs:
        yield
        return

    def drop(record: logging.LogRecord) -> bool:
        return record.levelno >= logging.WARNING or record.name == logger.name

    handlers = [
        h for h in logging.getLogger(LOGGER_NAME).handlers if not isinstance(h, logging.FileHandler)
    ]
    for h in handlers:
        h.addFilter(drop)
    try:
        yield
    finally:
        for h in handlers:
            h.removeFilter(drop)


@dataclass
class TuneResult:
    """What :func:`run_tune` (and :func:`show_study`) return.

    Attributes
    ----------
    study : Study
    ran : list of int
        The numbers of the trials this process ran.
    rows : list of TrialRow
        Every trial of the study, best first.
    best : TrialRow or None
    files : dict
        ``best_yaml``, ``trials_csv`` (paths or None) and ``plots`` (list of paths).

    >>> TuneResult.__name__
    'TuneResult'
    """

    study: Study
    ran: list[int] = field(default_factory=list)
    rows: list[TrialRow] = field(default_factory=list)
    best: TrialRow | None = None
    files: dict[str, Any] = field(default_factory=dict)


def _summarize(
    handle: Study, base: Mapping[str, Any] | None, plots: bool, ran: list[int]
) -> TuneResult:
    out = write_study_files(handle.study, handle.folder, handle.metric, dict(base or {}), plots)
    return TuneResult(
        study=handle,
        ran=ran,
        rows=out["rows"],
        best=out["best"],
        files={k: out[k] for k in ("best_yaml", "trials_csv", "plots")},
    )


def run_tune(
    config: Config,
    base: Mapping[str, Any],
    *,
    storage: str | None = None,
    study_name: str | None = None,
    n_trials: int | None = None,
    data_dir: str | Path | None = None,
    progress: bool | None = False,
    log_level: str = "INFO",
    plots: bool = True,
) -> TuneResult:
    """Run trials of ``config.tune`` in this process, then write the study's files.

    Parameters
    ----------
    config, base : Config and its plain data
        From :func:`load_tune_config`.
    storage : str, optional
        A database URL shared by the workers (default: ``<output_dir>/<study>/study.db``).
    study_name : str, optional
        Default ``tune.study``, else the config's name.
    n_trials : int, optional
        Trials this process runs (default ``tune.n_trials``); ``tune.max_trials`` caps the
        study over all workers.

    Raises
    ------
    ConfigError, StorageError
        Before anything runs (one line each).
    KeyboardInterrupt
        After the current trial is marked FAIL (its run directory stays).
    """
    spec = check_tune_config(config, base)
    handle = open_study(config, storage=storage, study_name=study_name)
    optuna = import_optuna()
    study = handle.study
    n = n_trials or spec.n_trials
    ran: list[int] = []
    if spec.max_trials is not None:
        have = len(study.get_trials(deepcopy=False))
        if have >= spec.max_trials:
            logger.info(
                "Study %s has %d trials (tune.max_trials = %d): nothing to run",
                handle.name,
                have,
                spec.max_trials,
            )
            return _summarize(handle, base, plots, ran)
    maximize = spec.resolved_direction() == "maximize"
    logger.info(
        "Study %s (%s %s) in %s: running %d trial(s); trials in %s",
        handle.name,
        "maximize" if maximize else "minimize",
        spec.metric,
        handle.storage,
        n,
        handle.folder,
    )

    def objective(trial: Any) -> float:
        ran.append(trial.number)
        run_dir = _trial_dir(handle.folder, trial.number)
        trial.set_user_attr("run_dir", str(run_dir.resolve()))
        params = suggest(trial, spec.space)
        cfg = trial_config(base, params)
        reporter = TrialReporter(trial, spec.metric)
        t0 = time.perf_counter()
        result = train(
            cfg,
            callbacks=[reporter],
            run_dir=run_dir,
            metadata={"tune": {"study": handle.name, "trial": trial.number, "params": params}},
            data_dir=data_dir,
            progress=progress,
            log_level=log_level,
        )
        trial.set_user_attr("run_status", result.status)
        value = objective_value(result.history, result.metrics, cfg, spec.metric)
        shown = ", ".join(
            f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in params.items()
        )
        if reporter.stop_status == "pruned":
            logger.info(
                "Trial %d pruned after epoch %d (%s=%.5g) in %.1f s: %s",
                trial.number,
                (reporter.pruned_epoch or 0) + 1,
                spec.metric,
                value,
                time.perf_counter() - t0,
                shown,
            )
            raise optuna.TrialPruned(f"pruned after epoch {(reporter.pruned_epoch or 0) + 1}")
        logger.info(
            "Trial %d: %s=%.5g in %.1f s (%s): %s",
            trial.number,
            spec.metric,
            value,
            time.perf_counter() - t0,
            result.status,
            shown,
        )
        return value

    callbacks = []
    if spec.max_trials is not None:
        callbacks.append(optuna.study.MaxTrialsCallback(spec.max_trials, states=None))
    timeout = None if spec.timeout_minutes is None else spec.timeout_minutes * 60
    try:
        with _quiet_trials(log_level == "DEBUG"):
            study.optimize(objective, n_trials=n, timeout=timeout, callbacks=callbacks)
    finally:
        with contextlib.suppress(Exception), warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "experimental" since Optuna 2.9
            optuna.storages.fail_stale_trials(study)  # what a killed worker left RUNNING
    return _summarize(handle, base, plots, ran)


def show_study(
    config: Config,
    base: Mapping[str, Any] | None = None,
    *,
    storage: str | None = None,
    study_name: str | None = None,
    plots: bool = True,
) -> TuneResult:
    """Read a study (running nothing) and write its ``best.yaml``, ``trials.csv`` and plots."""
    if config.tune is None:
        raise ConfigError("tune: the config has no tune: section (see docs/tuning.md)")
    handle = open_study(config, storage=storage, study_name=study_name, create=False)
    return _summarize(handle, base, plots, [])
