"""Evaluation: metric reports (:mod:`nablanet.pipeline.reports`, over the functions of
:mod:`nablanet.nn.metrics`) and plots (:mod:`nablanet.pipeline.plots`) of a trained model on
labelled data.

``evaluate_model_file(path, data)`` accepts the run's own held-out test split (``data=None``), a
dataset from the registry (``"dataset:mnist"``: its test set), or a labelled file (``.csv`` with
the target column, ``.npz`` with ``x``/``y``, a folder of class sub-folders of images).
"""

from __future__ import annotations

import json
import logging
import re
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .. import data as nd
from ..nn import metrics as nm
from .config import Config, config_from_dict
from .errors import InputError, PipelineError
from .reports import classification_metrics, filter_report, regression_metrics
from .trained import TrainedModel, load_trained_model

__all__ = [
    "EvaluationData",
    "EvaluationResult",
    "compute_metrics",
    "evaluate_model_file",
    "evaluation_plots",
    "load_evaluation_data",
    "summarize_metrics",
    "write_json",
]

logger = logging.getLogger("nablanet.pipeline")


@dataclass
class EvaluationData:
    """Labelled raw samples to evaluate on.

    Attributes
    ----------
    x : ndarray of shape (n, *input_shape)
        Raw inputs (as loaded; the model's preprocessing is applied later).
    y : ndarray
        Class indices in the *model's* class order (n,), or regression targets (n, n_targets)
        in original units.
    label : str
        Short name used in file names (``test``, ``mnist``, ``holdout_csv``).
    description : str
    """

    x: np.ndarray
    y: np.ndarray
    label: str
    description: str


@dataclass
class EvaluationResult:
    """Metrics of one evaluation, the predictions behind them, and the files written.

    Attributes
    ----------
    metrics : dict
        JSON-safe report (``accuracy``, ``f1_macro``, ``confusion_matrix``, ``roc_auc``, ...
        or ``mse``, ``rmse``, ``mae``, ``r2``), plus ``loss`` and ``source``.
    predictions : ndarray
        Probabilities (n, n_classes), or regression values (n, n_targets).
    plots : list of Path
    metrics_path : Path or None
        The ``evaluation-<label>.json`` written.

    >>> r = EvaluationResult({"accuracy": 1.0}, np.array([[0.2, 0.8]]))
    >>> r.metrics["accuracy"], r.predictions.argmax(axis=1).tolist()
    (1.0, [1])
    """

    metrics: dict[str, Any]
    predictions: np.ndarray
    plots: list[Path] = field(default_factory=list)
    metrics_path: Path | None = None


def write_json(path: str | Path, data: Any) -> Path:
    """Write JSON (indented) through a temporary file and a rename."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    tmp.replace(path)
    return path


# -- metrics ------------------------------------------------------------------------------------
def _model_loss(model: TrainedModel, x_model: np.ndarray, y_model: np.ndarray) -> float | None:
    net = model.model
    if net.loss is None:
        return None
    try:
        value = net.evaluate(x_model, y_model, return_dict=True)["loss"]
    except (ValueError, TypeError):
        return None
    return float(value) if np.isfinite(value) else None


def compute_metrics(
    model: TrainedModel,
    x_model: np.ndarray,
    y_true: np.ndarray,
    metrics: list[str] | None = None,
) -> tuple[dict[str, Any], np.ndarray]:
    """Metrics of ``model`` on preprocessed inputs ``x_model`` against ``y_true``.

    Parameters
    ----------
    model : TrainedModel
    x_model : ndarray of shape (n, *model_input_shape)
    y_true : ndarray
        Class indices (n,) or regression targets (n, n_targets) in original units.
    metrics : list of str, optional
        Names from ``evaluation.metrics`` to keep (default: all).

    Returns
    -------
    report : dict
        JSON-safe: ``loss`` plus :func:`nablanet.pipeline.reports.classification_metrics` or
        :func:`~nablanet.pipeline.reports.regression_metrics`.
    predictions : ndarray
        Probabilities (n, n_classes) for classification, values (n, n_targets) for regression.
    """
    if len(x_model) == 0:
        raise PipelineError("cannot evaluate on 0 samples")
    out = model.outputs(x_model)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", nm.UndefinedMetricWarning)
        if model.task == "regression":
            y2 = np.asarray(y_true, np.float32).reshape(len(y_true), -1)
            pred = model.values(out)
            y_scaled = (
                model.target_preprocessing.transform(y2)
                if model.target_preprocessing is not None
                else y2
            )
            report = regression_metrics(y2, pred)
            report["loss"] = _model_loss(model, x_model, y_scaled)
        else:
            pred = model.probabilities(out)
            report = classification_metrics(
                y_true, pred, task=model.task, class_names=model.class_names
            )
            report["loss"] = _model_loss(model, x_model, y_true)
    for w in caught:
        logger.warning("%s", w.message)
    return filter_report(report, metrics), pred


def summarize_metrics(report: dict[str, Any]) -> str:
    """One line: ``accuracy=0.9649 f1=0.9722 roc_auc=0.9960 loss=0.0912``."""
    keys = (
        ("accuracy", "precision", "recall", "f1", "f1_macro", "roc_auc", "loss")
        if report.get("task") != "regression"
        else ("mse", "rmse", "mae", "r2", "loss")
    )
    parts = [f"{k}={report[k]:.4f}" for k in keys if isinstance(report.get(k), int | float)]
    return " ".join(parts)


# -- plots --------------------------------------------------------------------------------------
def evaluation_plots(
    model: TrainedModel,
    report: dict[str, Any],
    x_raw: np.ndarray,
    y_true: np.ndarray,
    predictions: np.ndarray,
    out_dir: str | Path,
) -> list[Path]:
    """Confusion matrix, ROC curve(s) and misclassified images (classification) or predicted
    vs true values (regression), written into ``out_dir``. A plot that fails is logged and
    skipped: plots never fail an evaluation."""
    out_dir = Path(out_dir)
    written: list[Path] = []
    try:
        from . import plots
    except ImportError as e:  # matplotlib missing: metrics still count
        logger.warning("Could not draw the evaluation plots: %s", e)
        return written

    def attempt(name: str, fn: Callable[..., Path], *args: Any, **kwargs: Any) -> None:
        try:
            written.append(fn(*args, **kwargs))
        except Exception as e:  # a plot must not lose a finished run
            logger.warning("Could not draw %s: %s", name, e)

    if model.task == "regression":
        attempt(
            "regression plot",
            plots.plot_regression,
            y_true,
            predictions,
            out_dir / "regression.png",
        )
        return written
    names = model.class_names
    y_pred = predictions.argmax(axis=1)
    cm = report.get("confusion_matrix") or nm.confusion_matrix(
        y_true, y_pred, labels=list(range(predictions.shape[1]))
    )
    attempt(
        "confusion matrix", plots.plot_confusion_matrix, cm, names, out_dir / "confusion_matrix.png"
    )
    if model.task == "binary":
        curve = report.get("roc_curve")
        if curve:
            attempt(
                "ROC curve",
                plots.plot_roc,
                curve["fpr"],
                curve["tpr"],
                report.get("roc_auc"),
                out_dir / "roc.png",
            )
    else:
        curves = {}
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", nm.UndefinedMetricWarning)
            for k in range(predictions.shape[1]):
                positives = y_true == k
                if positives.any() and not positives.all():
                    fpr, tpr, _ = nm.roc_curve(positives.astype(np.int64), predictions[:, k])
                    name = names[k] if names else str(k)
                    curves[name] = (fpr, tpr, nm.auc(fpr, tpr))
        if curves:
            attempt(
                "ROC curves",
                plots.plot_roc_curves,
                curves,
                out_dir / "roc.png",
                title="ROC curves (one vs rest)",
            )
    if model.is_image and len(x_raw) == len(y_true):
        cmap = "gray" if model.image_background != "light" else "gray_r"
        attempt(
            "misclassified images",
            plots.plot_misclassified,
            x_raw,
            y_true,
            y_pred,
            names,
            out_dir / "misclassified.png",
            cmap=cmap,
            value_range=model.value_range,
        )
    return written


# -- data to evaluate on ------------------------------------------------------------------------
def _saved_config(model: TrainedModel) -> Config | None:
    data = model.metadata.get("config")
    if not data:
        return None
    try:
        return config_from_dict(data)
    except PipelineError:
        return None


def _held_out(
    model: TrainedModel, config: Config, data_dir: str | Path | None = None
) -> EvaluationData:
    from .prepare import load_data, split_dataset

    dataset = load_data(config, data_dir)
    _, split = split_dataset(config, dataset)
    if len(split.x_test):
        x, y, what = split.x_test, split.y_test, "test"
    elif len(split.x_val):
        x, y, what = split.x_val, split.y_val, "validation"
        logger.warning("The run has no test split: evaluating on its validation split")
    else:
        raise PipelineError(
            "the run kept no test or validation samples; pass --data to evaluate on other data"
        )
    assert y is not None  # a dataset always has targets
    label = config.data.dataset_label()
    return EvaluationData(x, _model_targets(model, y, dataset), what, f"{label} ({what} split)")


def _model_targets(model: TrainedModel, y: np.ndarray, dataset: nd.Dataset) -> np.ndarray:
    """Targets in the model's terms: class names of the data mapped onto the model's class
    indices; regression targets as (n, k) float32."""
    if model.task == "regression":
        return np.asarray(y, np.float32).reshape(len(y), -1)
    if dataset.task == "regression":
        raise InputError(
            f"{dataset.source or dataset.name}: the data has regression targets but the model "
            "is a classifier"
        )
    names, data_names = model.class_names, dataset.class_names
    assert data_names is not None  # a classification dataset names its classes
    if not names or data_names == names[: len(data_names)]:
        return y
    if set(data_names) <= set(names):
        lookup = np.array([names.index(n) for n in data_names], dtype=np.int64)
        return lookup[y]
    if all(n.isdigit() and int(n) < len(names) for n in data_names):
        lookup = np.array([int(n) for n in data_names], dtype=np.int64)
        return lookup[y]
    unknown = [n for n in data_names if n not in names]
    raise InputError(
        f"{dataset.source or dataset.name}: class(es) {', '.join(unknown[:5])} are unknown to "
        f"the model, which knows {', '.join(names)}"
    )


def _norm(name: str) -> str:
    return name.strip().lower().replace("-", "_")


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("_") or "data"


def load_evaluation_data(
    model: TrainedModel,
    data: str | Path | nd.Dataset | None = None,
    target: str | None = None,
    data_dir: str | Path | None = None,
) -> EvaluationData:
    """Resolve ``--data``.

    Parameters
    ----------
    model : TrainedModel
    data : None, ``"dataset:<name>"``, a path (``.csv``, ``.npz``, image folder) or a Dataset
        ``None``: the run's own held-out test split (rebuilt from the config in the model file).
        ``dataset:<name>``: the registry dataset's test set; the training dataset without a
        test set of its own gives the run's held-out split again.
    target : str, optional
        Target column of a CSV (default: the one the model was trained with, else ``target``).
    """
    config = _saved_config(model)
    if data is None:
        if config is None:
            raise InputError(
                "this model file does not say what it was trained on; pass --data "
                "test.csv|test.npz|dataset:<name>"
            )
        return _held_out(model, config, data_dir)
    if isinstance(data, nd.Dataset):
        x, y = (data.x_test, data.y_test) if data.has_test_split else (data.x, data.y)
        assert x is not None and y is not None  # has_test_split: both are there
        return EvaluationData(x, _model_targets(model, y, data), _slug(data.name), data.name)
    text = str(data)
    if text.startswith("dataset:"):
        name = text.split(":", 1)[1].strip()
        trained_on = config.data.dataset if config is not None else None
        if config is not None and isinstance(trained_on, str) and _norm(trained_on) == _norm(name):
            dataset = nd.load_dataset(name, data_dir=data_dir)
            if not dataset.has_test_split:
                held = _held_out(model, config, data_dir)
                held.label = _slug(name)
                return held
        else:
            dataset = nd.load_dataset(name, data_dir=data_dir)
        if dataset.has_test_split:
            x, y, what = dataset.x_test, dataset.y_test, "test set"
        else:
            x, y, what = dataset.x, dataset.y, "all samples"
            logger.warning("%s has no test set: evaluating on all of its samples", name)
        assert x is not None and y is not None  # has_test_split: both are there
        return EvaluationData(x, _model_targets(model, y, dataset), _slug(name), f"{name} ({what})")
    path = Path(text)
    if not path.exists():
        raise InputError(f"{path}: no such file or folder")
    suffix = path.suffix.lower()
    if path.is_dir():
        dataset = nd.load_image_folder(path)
    elif suffix in (".csv", ".tsv", ".txt"):
        column = target or model.metadata.get("target") or "target"
        features = model.feature_names
        dataset = nd.load_csv(
            path,
            target=column,
            features=features,
            delimiter="\t" if suffix == ".tsv" else ",",
            task=None,
        )
    elif suffix == ".npz":
        dataset = nd.load_npz(path)
    else:
        raise InputError(
            f"{path}: cannot evaluate on {suffix or 'this file'}; give a .csv with the target "
            "column, an .npz with x and y, a folder of class folders, or dataset:<name>"
        )
    x, y = (dataset.x_test, dataset.y_test) if dataset.has_test_split else (dataset.x, dataset.y)
    assert x is not None and y is not None  # has_test_split: both are there
    return EvaluationData(
        x, _model_targets(model, y, dataset), _slug(path.name.replace(".", "_")), str(path)
    )


# -- the whole thing ----------------------------------------------------------------------------
def evaluate_model_file(
    model: str | Path | TrainedModel,
    data: str | Path | nd.Dataset | None = None,
    *,
    target: str | None = None,
    output_dir: str | Path | None = None,
    plots: bool = True,
    metrics: list[str] | None = None,
    data_dir: str | Path | None = None,
) -> EvaluationResult:
    """Evaluate a saved model on labelled data; write ``evaluation-<label>.json`` and plots.

    Parameters
    ----------
    model : path to a model file (``runs/<run>/model.npz``, a checkpoint) or a TrainedModel
    data : see :func:`load_evaluation_data` (None: the run's held-out test split)
    target : str, optional
        The target column of a CSV.
    output_dir : path, optional
        Where ``evaluation-<label>.json`` and ``plots/evaluation-<label>/`` go (default: the
        model's folder, i.e. the run directory). Nothing is written when ``output_dir`` is
        False-y and the model is not a file.
    plots : bool
    metrics : list of str, optional
        Keep only these metrics (names of ``evaluation.metrics``).

    Returns
    -------
    EvaluationResult
    """
    trained = model if isinstance(model, TrainedModel) else load_trained_model(model)
    ev = load_evaluation_data(trained, data, target=target, data_dir=data_dir)
    x_model = trained.transform(ev.x, ev.description)
    report, predictions = compute_metrics(trained, x_model, ev.y, metrics)
    report = {"source": ev.description, **report}
    logger.info(
        "Evaluation on %s (%d samples): %s", ev.description, len(ev.x), summarize_metrics(report)
    )
    if output_dir is None and trained.path is not None:
        output_dir = trained.path.parent
        if output_dir.name == "checkpoints":  # runs/<run>/checkpoints/best.npz -> the run
            output_dir = output_dir.parent
    result = EvaluationResult(report, predictions)
    if output_dir:
        out = Path(output_dir)
        result.metrics_path = write_json(out / f"evaluation-{ev.label}.json", report)
        if plots:
            y_true = ev.y if trained.task == "regression" else np.asarray(ev.y)
            result.plots = evaluation_plots(
                trained, report, ev.x, y_true, predictions, out / "plots" / f"evaluation-{ev.label}"
            )
    return result
