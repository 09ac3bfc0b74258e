"""The UI's one door into the pipeline: every call the app makes to :mod:`nablanet.pipeline`
and :mod:`nablanet.data` goes through the small functions here, and they use only the public
names of those packages (``tests/ui/test_boundaries.py`` checks both).

They take plain data (config dicts as the form builds them, paths) and turn the pipeline's
errors into :class:`~nablanet.ui.errors.UIError` messages the page can show.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from nablanet import ModelFileError, NablanetError

from .errors import UIError, short_paths


def _data():
    from nablanet import data

    return data


def _pipeline():
    from nablanet import pipeline

    return pipeline


# -- datasets -----------------------------------------------------------------------------------
def load_dataset(spec: str | Mapping[str, Any], data_dir: str | Path | None = None):
    """A :class:`nablanet.data.Dataset` from a registry name or a user-data spec."""
    try:
        return _data().load_dataset(spec, data_dir=data_dir, progress=False)
    except (NablanetError, ValueError, OSError) as e:
        raise UIError(f"Cannot load the dataset: {e}") from None


def csv_columns(path: str | Path, delimiter: str = ",") -> list[str]:
    """The columns of a CSV file as training reads it: its header, or ``column_1``, ... when
    the first row is numbers (data, not names)."""
    try:
        return _data().csv_columns(path, delimiter)[0]
    except (NablanetError, ValueError, OSError) as e:
        raise UIError(f"{Path(path).name}: {str(e).removeprefix(f'{path}: ')}") from None


# -- configs and models ---------------------------------------------------------------------------
def describe_choices():
    """The names a config may use and the schema's defaults (:class:`nablanet.pipeline.Choices`)."""
    return _pipeline().describe_choices()


def default_run_name(dataset: str, kind: str = "mlp") -> str:
    """``breast_cancer_mlp``: the CLI's and the UI's one naming of runs
    (:func:`nablanet.pipeline.default_run_name`)."""
    return _pipeline().default_run_name(dataset, kind)


def validated(config: Mapping[str, Any]):
    """The pipeline's :class:`Config` of plain data (errors as :class:`UIError`)."""
    pipeline = _pipeline()
    try:
        return pipeline.config_from_dict(config)
    except pipeline.ConfigError as e:
        raise UIError(f"Invalid settings: {e}") from None


def read_config_file(path: str | Path) -> dict[str, Any]:
    """The plain data of a YAML config file (errors as :class:`UIError`)."""
    try:
        return _pipeline().read_yaml(path)
    except ValueError as e:
        raise UIError(str(e)) from None


def model_summary(config: Mapping[str, Any], dataset: Any) -> str:
    """``Sequential.summary()`` of the model the config builds for ``dataset`` (output shapes,
    parameter counts), built by :func:`nablanet.pipeline.build_model_for`."""
    cfg = validated(config)
    try:
        preview = _pipeline().build_model_for(cfg, dataset)
    except (NablanetError, ValueError) as e:
        raise UIError(f"Cannot build this model: {e}") from None
    return preview.summary()


# -- training -----------------------------------------------------------------------------------
def train_config(
    config: Mapping[str, Any],
    callbacks: Sequence[Any] = (),
    stop_event: threading.Event | None = None,
    data_dir: str | Path | None = None,
    dataset: Any = None,
):
    """Run :func:`nablanet.pipeline.train` on a config dict; returns its ``RunResult``. A run
    stopped through ``stop_event`` keeps its best weights (the pipeline sees to it)."""
    return _pipeline().train(
        validated(config),
        callbacks=list(callbacks),
        stop_event=stop_event,
        data_dir=data_dir,
        dataset=dataset,
        progress=False,
    )


# -- runs -----------------------------------------------------------------------------------------
def list_runs(runs_dir: str | Path) -> list[Any]:
    """Readable runs under ``runs_dir``, newest first (``RunInfo`` objects)."""
    return _pipeline().list_runs(runs_dir)


def load_run(run_dir: str | Path):
    try:
        return _pipeline().load_run(run_dir)
    except NablanetError as e:
        raise UIError(str(e)) from None


def model_file(path: str | Path) -> Path:
    """The model file a path stands for (a run directory, ``runs/latest``, or the file)."""
    try:
        return _pipeline().resolve_model_path(path)
    except NablanetError as e:
        raise UIError(str(e)) from None


def load_trained(path: str | Path):
    """A ``TrainedModel`` from a ``model.npz`` file, a run directory or ``runs/latest``."""
    path = model_file(path)
    try:
        return _pipeline().load_trained_model(path)
    except (ModelFileError, NablanetError, OSError) as e:
        raise UIError(f"Cannot load the model: {e}") from None


def predict(trained: Any, x_raw: np.ndarray, ids: list[str] | None = None):
    """``Predictions`` of raw samples (the model's own preprocessing is applied)."""
    try:
        return _pipeline().predict(trained, np.asarray(x_raw), ids=ids)
    except NablanetError as e:
        raise UIError(str(e)) from None


def image_to_sample(image: Any, trained: Any):
    """A picture (a drawing, an upload, a path) as one input of ``trained``, converted and resized
    as ``nablanet predict`` does it (:func:`nablanet.pipeline.image_to_sample`)."""
    try:
        return _pipeline().image_to_sample(image, trained)
    except NablanetError as e:
        raise UIError(str(e)) from None


def predict_file(trained: Any, path: str | Path):
    """``Predictions`` of a ``.csv`` / ``.npy`` / ``.npz`` file of raw samples."""
    try:
        return _pipeline().predict(trained, Path(path))
    except (NablanetError, ValueError, OSError) as e:
        text = short_paths(str(e), path)
        prefix = "" if text.startswith(Path(path).name) else f"{Path(path).name}: "
        raise UIError(prefix + text) from None


def evaluate(trained: Any, data: Any = None, output_dir: str | Path | None = None):
    """``EvaluationResult`` of a model on the run's test split (``data=None``) or other data."""
    try:
        return _pipeline().evaluate_model_file(trained, data, output_dir=output_dir)
    except (NablanetError, ValueError, KeyError, OSError) as e:
        path = data if isinstance(data, str | Path) and Path(data).suffix else None
        text = short_paths(str(e), path)
        if "no target column" in text:
            target = (getattr(trained, "metadata", None) or {}).get("target") or "target"
            text = text.split(";")[0] + (
                f": add a '{target}' column with the true labels (the file needs the features "
                "and the target)."
            )
        raise UIError(f"Cannot evaluate: {text}") from None


# -- tuning studies (nablanet tune) ----------------------------------------------------------
def list_studies(runs_dir: str | Path) -> list[Path]:
    return _pipeline().list_studies(runs_dir)


def load_study(folder: str | Path):
    try:
        return _pipeline().load_study(folder)
    except NablanetError as e:
        raise UIError(str(e)) from None


def trial_histories(rows: Sequence[Any]) -> dict[str, dict[str, list]]:
    return _pipeline().trial_histories(rows)


def read_diagnostics(run_dir: str | Path) -> dict[str, Any] | None:
    """A run's ``diagnostics.json`` record, or None (errors as :class:`UIError`)."""
    try:
        return _pipeline().read_diagnostics(run_dir)
    except NablanetError as e:
        raise UIError(str(e)) from None


# -- the playground (toy 2-D data, drawn while it learns) --------------------------------------
def playground_choices() -> dict[str, tuple[str, ...]]:
    """The datasets, activations and optimizers the Playground offers."""
    playground = _pipeline().Playground
    return {
        "datasets": tuple(_data().TOY_DATASETS),
        "activations": playground.ACTIVATIONS,
        "optimizers": playground.OPTIMIZERS,
    }


def new_playground(**settings: Any):
    """A :class:`nablanet.pipeline.Playground` of these settings (errors as :class:`UIError`)."""
    pipeline = _pipeline()
    try:
        return pipeline.Playground(pipeline.PlaygroundSettings(**settings))
    except (NablanetError, ValueError, TypeError) as e:
        raise UIError(str(e)) from None
