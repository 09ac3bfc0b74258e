"""The end of a training run: evaluate every split, write ``metrics.json``, draw the plots.

:func:`nablanet.pipeline.run.train` hands over a :class:`FitOutcome` (the saved model, its
history and how training ended); :func:`finish_run` writes the run's report from it. A plot
that fails only logs a warning: it must not lose a finished run.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .config import Config
from .evaluate import compute_metrics, evaluation_plots, summarize_metrics, write_json
from .prepare import PreparedData
from .rundir import METRICS_FILE, PLOTS_DIR
from .trained import TrainedModel

__all__ = ["FitOutcome", "finish_run"]

logger = logging.getLogger("nablanet.pipeline")


@dataclass
class FitOutcome:
    """What a run's fit left, for its report.

    Attributes
    ----------
    run_dir : Path
    config : Config
    trained : TrainedModel
        The saved model with its preprocessing.
    history : dict of str to list
    status : str
        How training ended (see :attr:`nablanet.pipeline.RunResult.status`).
    best_epoch : int or None
        1-based, by the early stopping's or the checkpoint's monitor.
    fit_time : float
        Seconds spent in ``Trainer.fit``.
    metadata : mapping, optional
        Extra facts stored under their own keys in ``metrics.json``.
    """

    run_dir: Path
    config: Config
    trained: TrainedModel
    history: dict[str, list[Any]]
    status: str
    best_epoch: int | None
    fit_time: float
    metadata: Mapping[str, Any] | None = None


def _split_summary(
    trained: TrainedModel, x: np.ndarray, y: np.ndarray, metrics: list[str] | None
) -> dict[str, Any] | None:
    if len(x) == 0:
        return None
    report, _ = compute_metrics(trained, x, y, metrics)
    return report


def _train_val_summaries(prepared: PreparedData, trained: TrainedModel) -> dict[str, Any]:
    """The short report (accuracy, loss, mse, mae, r2, n_samples) of the train and validation
    splits (None for an empty split)."""
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
    return splits


def finish_run(fitted: FitOutcome, prepared: PreparedData) -> tuple[dict[str, Any], list[Path]]:
    """Evaluate on every split, write metrics.json and the plots; returns the metrics and the
    plots' paths."""
    config = fitted.config
    splits = _train_val_summaries(prepared, fitted.trained)
    test_report, test_pred = None, None
    if len(prepared.x_test):
        test_report, test_pred = compute_metrics(
            fitted.trained, prepared.x_test, prepared.raw_y_test, config.evaluation.metrics
        )
        logger.info(
            "Test (%s, %d samples): %s",
            prepared.test_source,
            len(prepared.x_test),
            summarize_metrics(test_report),
        )
    else:
        logger.warning("No test samples (data.test_split is 0): the metrics cover train/val only")
    metrics = {
        "run": fitted.run_dir.name,
        "name": config.name,
        "dataset": config.data.dataset_label(),
        "task": prepared.task,
        "status": fitted.status,
        "epochs": len(fitted.history.get("epoch", [])),
        "best_epoch": fitted.best_epoch,
        "training_time_s": round(fitted.fit_time, 3),
        "train": splits["train"],
        "validation": splits["validation"],
        "test": test_report,
        **dict(fitted.metadata or {}),
    }
    write_json(fitted.run_dir / METRICS_FILE, metrics)
    plot_paths: list[Path] = []
    if config.evaluation.plots:
        plot_paths = _draw_plots(fitted, prepared, test_report, test_pred)
    return metrics, plot_paths


def _draw_plots(
    fitted: FitOutcome,
    prepared: PreparedData,
    test_report: dict[str, Any] | None,
    test_pred: np.ndarray | None,
) -> list[Path]:
    """The learning curves, the diagnostics (and a 2-D model's decision regions) and the test
    split's plots; a failing plot only logs a warning."""
    plot_dir = fitted.run_dir / PLOTS_DIR
    plot_paths: list[Path] = []
    try:
        from . import plots

        plot_paths.extend(plots.plot_history(fitted.history, plot_dir))
    except Exception as e:  # a plot must not lose a finished run
        logger.warning("Could not draw the learning curves: %s", e)
    from .diagnostics import run_diagnostics_plots

    plot_paths.extend(
        run_diagnostics_plots(
            fitted.run_dir, plot_dir, fitted.trained, prepared.raw_x_test, prepared.raw_y_test
        )
    )
    if test_report is not None:
        assert test_pred is not None  # computed with the report
        plot_paths.extend(
            evaluation_plots(
                fitted.trained,
                test_report,
                prepared.raw_x_test,
                prepared.raw_y_test,
                test_pred,
                plot_dir,
            )
        )
    logger.info("Plots: %s", ", ".join(p.name for p in plot_paths))
    return plot_paths
