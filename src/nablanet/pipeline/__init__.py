"""``nablanet.pipeline``: train, evaluate, predict and plot from a YAML config.

Data flows one way: ``config -> data -> build -> Trainer.fit -> evaluate -> artifacts``.

>>> from nablanet import pipeline
>>> config = pipeline.load_config(["configs/breast_cancer.yaml"], ["training.epochs=5"])  # doctest: +SKIP
>>> result = pipeline.train(config)                                  # doctest: +SKIP
>>> result.run_dir, result.metrics["test"]["accuracy"]               # doctest: +SKIP
>>> pipeline.predict(result.run_dir / "model.npz", "sample.csv").labels  # doctest: +SKIP

The public API (see ``docs/pipeline.md``):

- configs: :func:`load_config`, :func:`config_from_dict`, :class:`Config`, :func:`dump_config`;
- data: :func:`prepare_data` -> :class:`PreparedData`;
- build: :func:`build_model`, :func:`register_layer_type` (table of layer types);
  :func:`build_model_for` (the untrained model of a config for a dataset: previews);
- front ends: :func:`describe_choices` -> :class:`Choices` (the names a config may use and the
  schema's defaults, from the registries), :func:`read_yaml`;
- runs: :func:`train`, :func:`resume` -> :class:`RunResult`; :func:`load_run`, :func:`list_runs`
  -> :class:`RunInfo`;
- paths: :func:`resolve_model_path` (a model file, a run directory or ``runs/latest``),
  :func:`resolve_run_path`, :func:`update_latest` (keeps ``<output_dir>/latest`` current);
- use: :func:`load_trained_model` -> :class:`TrainedModel`, :func:`evaluate_model_file`,
  :func:`predict`, :func:`image_to_sample` (any picture -> one model input, the path the CLI,
  the UI and ``predict`` share) -> :class:`ImageSample`; :func:`export_onnx` (ONNX, needs ``nablanet[onnx]``) -> :class:`ExportResult`;
- diagnostics: :func:`read_diagnostics` (a run's ``diagnostics.json``); :class:`Playground`,
  :class:`PlaygroundSettings` (a toy 2-D experiment drawn while it learns: the UI's Playground);
- errors: :class:`PipelineError` (and :class:`ConfigError`, :class:`InputError`,
  :class:`RunDirError`, :class:`ExportError`), all one-line user errors.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from .build import build_model
from .callbacks import StopOnEvent
from .choices import Choices, describe_choices
from .config import Config, config_from_dict, dump_config, load_config, read_yaml, save_config
from .diagnostics import read_diagnostics
from .errors import ConfigError, InputError, PipelineError, RunDirError
from .evaluate import EvaluationResult, evaluate_model_file
from .export import ExportError, ExportResult, build_onnx, export_onnx
from .images import ImageSample, ImageSpec, image_to_sample
from .locate import LATEST, resolve_model_path, resolve_run_path, update_latest
from .logs import configure_logging
from .naming import default_run_name
from .playground import Playground, PlaygroundSettings
from .predict import Predictions, predict
from .prepare import PreparedData, prepare_data
from .preview import ModelPreview, build_model_for
from .run import RunResult, resume, train
from .rundir import RunInfo, create_run_dir, list_runs, load_run
from .specs import LAYER_TYPES, LayerContext, LayerSpec, register_layer_type
from .trained import TrainedModel, load_trained_model

if TYPE_CHECKING:  # pragma: no cover (tune imports optuna's helpers lazily)
    from .tune import StudyInfo, TrialRow


def list_studies(runs_dir: str | Path) -> list[Path]:
    """The tuning studies' folders under ``runs_dir`` (see :mod:`nablanet.pipeline.tune`)."""
    from . import tune

    return tune.list_studies(runs_dir)


def load_study(folder: str | Path) -> StudyInfo:
    """A tuning study's trials, best first (see :mod:`nablanet.pipeline.tune`)."""
    from . import tune

    return tune.load_study(folder)


def trial_histories(rows: list[TrialRow]) -> dict[str, dict[str, list[Any]]]:
    """The histories of picked trials of a study (see :mod:`nablanet.pipeline.tune`)."""
    from . import tune

    return tune.trial_histories(rows)


__all__ = [
    "LATEST",
    "LAYER_TYPES",
    "Choices",
    "Config",
    "ConfigError",
    "EvaluationResult",
    "ExportError",
    "ExportResult",
    "ImageSample",
    "ImageSpec",
    "InputError",
    "LayerContext",
    "LayerSpec",
    "ModelPreview",
    "PipelineError",
    "Playground",
    "PlaygroundSettings",
    "Predictions",
    "PreparedData",
    "RunDirError",
    "RunInfo",
    "RunResult",
    "StopOnEvent",
    "TrainedModel",
    "build_model",
    "build_model_for",
    "build_onnx",
    "config_from_dict",
    "configure_logging",
    "create_run_dir",
    "default_run_name",
    "describe_choices",
    "dump_config",
    "evaluate_model_file",
    "export_onnx",
    "image_to_sample",
    "list_runs",
    "list_studies",
    "load_config",
    "load_run",
    "load_study",
    "load_trained_model",
    "predict",
    "prepare_data",
    "read_diagnostics",
    "read_yaml",
    "register_layer_type",
    "resolve_model_path",
    "resolve_run_path",
    "resume",
    "save_config",
    "train",
    "trial_histories",
    "update_latest",
]
