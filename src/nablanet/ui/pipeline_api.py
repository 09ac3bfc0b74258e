"""The UI's one door into the pipeline: every call the app makes to :mod:`nablanet.pipeline`
and :mod:`nablanet.data` goes through the small functions here.

They take plain data (config dicts as the form builds them, paths) and turn the pipeline's
errors into :class:`~nablanet.ui.errors.UIError` messages the page can show.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from nablanet import EarlyStopping, ModelFileError, NablanetError

from .errors import UIError


def _data():
    from nablanet import data

    return data


# -- datasets -----------------------------------------------------------------------------------
def dataset_info(name: str, data_dir: str | Path | None = None):
    for info in _data().list_datasets(data_dir):
        if info.name == name:
            return info
    return None


def load_dataset(spec: str | Mapping[str, Any], data_dir: str | Path | None = None):
    """A :class:`nablanet.data.Dataset` from a registry name or a user-data spec."""
    try:
        return _data().load_dataset(spec, data_dir=data_dir, progress=False)
    except (NablanetError, ValueError, OSError) as e:
        raise UIError(f"Cannot load the dataset: {e}") from None


# -- configs and models ---------------------------------------------------------------------------
def validated(config: Mapping[str, Any]):
    """The pipeline's :class:`Config` of plain data (errors as :class:`UIError`)."""
    from .model_form import validate_config

    return validate_config(config)


def model_summary(config: Mapping[str, Any], dataset: Any) -> str:
    """``Sequential.summary()`` of the model the config builds for ``dataset`` (output shapes,
    parameter counts); the preprocessing is fitted on a few samples only, for the shapes."""
    from nablanet.pipeline.build import build_model, n_model_outputs
    from nablanet.pipeline.prepare import build_preprocessing

    cfg = validated(config)
    try:
        pre = build_preprocessing(cfg, dataset)
        few = np.asarray(dataset.x[: min(len(dataset.x), 32)])
        shape = tuple(pre.fit_transform(few).shape[1:])
        n_targets = 1 if dataset.y.ndim == 1 else int(dataset.y.shape[1])
        n_out = n_model_outputs(cfg.model.layers, dataset.task, dataset.n_classes or 0, n_targets)
        model = build_model(cfg, shape, n_out, task=dataset.task)
    except (NablanetError, ValueError) as e:
        raise UIError(f"Cannot build this model: {e}") from None
    return model.summary(shape, print_fn=None)


# -- training -----------------------------------------------------------------------------------
class KeepBestOnStop(EarlyStopping):
    """Puts the best epoch's weights back when the user stops a run that has no early stopping
    of its own (the pipeline's early stopping already restores them); never stops anything."""

    def __init__(self, monitor: str, stop_event: threading.Event):
        super().__init__(monitor=monitor, patience=2**31 - 1, restore_best_weights=True)
        self.stop_event = stop_event

    def on_train_end(self, logs=None):
        if self.stop_event.is_set():
            super().on_train_end(logs)


def train_config(
    config: Mapping[str, Any],
    callbacks: Sequence[Any] = (),
    stop_event: threading.Event | None = None,
    data_dir: str | Path | None = None,
    dataset: Any = None,
):
    """Run :func:`nablanet.pipeline.run.train` on a config dict; returns its ``RunResult``."""
    from nablanet.pipeline.run import train

    cfg = validated(config)
    extra = list(callbacks)
    if stop_event is not None and cfg.training.early_stopping is None:
        extra.insert(0, KeepBestOnStop(cfg.training.checkpoint.monitor, stop_event))
    return train(
        cfg,
        callbacks=extra,
        stop_event=stop_event,
        data_dir=data_dir,
        dataset=dataset,
        progress=False,
    )


# -- runs -----------------------------------------------------------------------------------------
def list_runs(runs_dir: str | Path) -> list[Any]:
    """Readable runs under ``runs_dir``, newest first (``RunInfo`` objects)."""
    from nablanet.pipeline.run import list_runs as _list_runs

    return _list_runs(runs_dir)


def load_run(run_dir: str | Path):
    from nablanet.pipeline.run import load_run as _load_run

    try:
        return _load_run(run_dir)
    except NablanetError as e:
        raise UIError(str(e)) from None


def load_trained(path: str | Path):
    """A ``TrainedModel`` from a ``model.npz`` file or a run directory."""
    from nablanet.pipeline.trained import load_trained_model

    path = Path(path)
    if path.is_dir():
        candidate = path / "model.npz"
        if not candidate.exists():
            raise UIError(f"{path.name}: this run has no model.npz yet (still training?).")
        path = candidate
    try:
        return load_trained_model(path)
    except (ModelFileError, NablanetError, OSError) as e:
        raise UIError(f"Cannot load the model: {e}") from None


def predict(trained: Any, x_raw: np.ndarray, ids: list[str] | None = None):
    """``Predictions`` of raw samples (the model's own preprocessing is applied)."""
    from nablanet.pipeline.predict import predict as _predict

    try:
        return _predict(trained, np.asarray(x_raw), ids=ids)
    except NablanetError as e:
        raise UIError(str(e)) from None


def predict_file(trained: Any, path: str | Path):
    """``Predictions`` of a ``.csv`` / ``.npy`` / ``.npz`` file of raw samples."""
    from nablanet.pipeline.predict import predict as _predict

    try:
        return _predict(trained, Path(path))
    except NablanetError as e:
        raise UIError(f"{Path(path).name}: {e}") from None


def evaluate(trained: Any, data: Any = None, output_dir: str | Path | None = None):
    """``EvaluationResult`` of a model on the run's test split (``data=None``) or other data."""
    from nablanet.pipeline.evaluate import evaluate_model_file

    try:
        return evaluate_model_file(trained, data, output_dir=output_dir)
    except NablanetError as e:
        raise UIError(f"Cannot evaluate: {e}") from None
