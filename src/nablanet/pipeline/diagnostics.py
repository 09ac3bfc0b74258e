"""Diagnostics in a run: the callback a config asks for, ``diagnostics.json``, its plots.

A run records :class:`nablanet.Diagnostics` unless ``training.diagnostics.enabled`` is false;
the record goes to ``<run>/diagnostics.json`` beside ``history.json`` (schema: docs/diagnostics.md)
and its warnings to ``train.log``. The plots (``gradient_norms.png``, ``histograms.png`` and,
for models of 2 input features, ``decision_boundary.png``) go to ``<run>/plots/``, and
``nablanet visualize`` draws them again from a run directory.

>>> from nablanet.pipeline.config import config_from_dict
>>> cfg = config_from_dict({"data": {"dataset": "xor"},
...     "model": {"layers": [{"type": "dense", "units": "auto", "activation": "sigmoid"}]},
...     "training": {"loss": "binary_crossentropy", "epochs": 1, "diagnostics": {"every": 2}}})
>>> diagnostics_callback(cfg).every
2
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import numpy as np

from .. import nn
from .errors import InputError

logger = logging.getLogger("nablanet")

__all__ = [
    "DIAGNOSTICS_FILE",
    "decision_boundary_plot",
    "diagnostics_callback",
    "read_diagnostics",
    "run_diagnostics_plots",
    "visualize_run",
    "write_diagnostics",
]

DIAGNOSTICS_FILE = "diagnostics.json"


def diagnostics_callback(config) -> nn.Diagnostics | None:
    """The :class:`nablanet.Diagnostics` of ``config.training.diagnostics``, or None when off."""
    dc = config.training.diagnostics
    return nn.Diagnostics(every=dc.every) if dc.enabled else None


def write_diagnostics(run_dir: str | Path, diagnostics: nn.Diagnostics | None) -> Path | None:
    """Write ``diagnostics.json`` into ``run_dir`` (nothing when ``diagnostics`` is None)."""
    if diagnostics is None:
        return None
    return diagnostics.save(Path(run_dir) / DIAGNOSTICS_FILE)


def read_diagnostics(path: str | Path) -> dict[str, Any] | None:
    """The record of a ``diagnostics.json`` (or of the one in a run directory); None when the run
    has none. A file that is not such a record raises :class:`InputError`."""
    path = Path(path)
    if path.is_dir():
        path = path / DIAGNOSTICS_FILE
        if not path.exists():
            return None
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise InputError(f"{path}: cannot read the diagnostics ({e})") from None
    if not isinstance(record, dict) or record.get("schema") != "nablanet.diagnostics":
        raise InputError(f"{path}: not a nablanet diagnostics file (no 'schema' key)")
    if record.get("version", 0) > nn.diagnostics.SCHEMA_VERSION:
        raise InputError(
            f"{path}: diagnostics version {record['version']} is newer than this nablanet reads "
            f"({nn.diagnostics.SCHEMA_VERSION}); upgrade nablanet"
        )
    return record


def decision_boundary_plot(trained, x_raw: np.ndarray, y_raw: np.ndarray, path) -> Path | None:
    """``decision_boundary.png`` of a classifier with 2 input features, over the raw inputs
    ``x_raw`` (n, 2) and their classes; None for other models."""
    if trained.task == "regression" or trained.is_image or trained.n_features != 2:
        return None
    from .plots.diagnostics import plot_decision_boundary

    return plot_decision_boundary(
        lambda grid: trained.predict_proba(grid),
        np.asarray(x_raw, dtype=np.float64),
        np.asarray(y_raw),
        path,
        class_names=trained.class_names,
        feature_names=trained.feature_names,
        title="Decision regions (test points)",
    )


def run_diagnostics_plots(
    run_dir: str | Path,
    out_dir: str | Path,
    trained=None,
    x_raw: np.ndarray | None = None,
    y_raw: np.ndarray | None = None,
) -> list[Path]:
    """The diagnostics plots of a run into ``out_dir``; a plot that fails is logged and skipped
    (a finished run is never lost to a plot)."""
    from .plots.diagnostics import diagnostics_plots

    out_dir = Path(out_dir)
    written: list[Path] = []
    try:
        record = read_diagnostics(run_dir)
        if record is not None:
            written.extend(diagnostics_plots(record, out_dir))
    except Exception as e:
        logger.warning("Could not draw the diagnostics: %s", e)
    if trained is not None and x_raw is not None and y_raw is not None and len(x_raw):
        try:
            p = decision_boundary_plot(trained, x_raw, y_raw, out_dir / "decision_boundary.png")
            if p is not None:
                written.append(p)
        except Exception as e:
            logger.warning("Could not draw the decision boundary: %s", e)
    return written


def visualize_run(run_dir: str | Path, out_dir: str | Path) -> list[Path]:
    """What ``nablanet visualize`` adds for a run directory: the diagnostics plots of its
    ``diagnostics.json`` and, for a classifier of 2 input features, its decision regions over
    the test split (the data prepared again from the run's ``config.yaml``)."""
    run_dir = Path(run_dir)
    trained = x_raw = y_raw = None
    model_file, config_file = run_dir / "model.npz", run_dir / "config.yaml"
    if model_file.exists() and config_file.exists():
        try:
            from .config import load_config
            from .prepare import prepare_data
            from .trained import load_trained_model

            trained = load_trained_model(model_file)
            if trained.task != "regression" and not trained.is_image and trained.n_features == 2:
                prepared = prepare_data(load_config([config_file]))
                x_raw, y_raw = prepared.raw_x_test, prepared.raw_y_test
        except Exception as e:
            logger.warning("Could not prepare the decision boundary: %s", e)
    return run_diagnostics_plots(run_dir, out_dir, trained, x_raw, y_raw)
