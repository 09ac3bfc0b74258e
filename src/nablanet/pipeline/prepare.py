"""config -> data: load the dataset, split it, fit the preprocessing on the training split.

The fitted preprocessing travels with the model (as JSON in its metadata), so that ``predict`` on
raw inputs applies exactly the numbers of training.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from typing import Any

import numpy as np

from .. import data as nd
from .config import Config
from .errors import ConfigError, PipelineError
from .specs import n_model_outputs

__all__ = [
    "PIPELINE_FORMAT",
    "PreparedData",
    "build_preprocessing",
    "load_data",
    "prepare_data",
    "split_dataset",
]

logger = logging.getLogger("nablanet.pipeline")

#: version of the metadata layout the pipeline writes into model files
PIPELINE_FORMAT = 1


@dataclass
class PreparedData:
    """The splits of a run, preprocessed, and what a model needs to know about them.

    Attributes
    ----------
    x_train, x_val, x_test : ndarray of shape (n, *model_input_shape), float32
        Preprocessed inputs (``x_val``/``x_test`` have 0 rows when the split is empty).
    y_train, y_val, y_test : ndarray
        Training targets: int64 class indices of shape (n,), or float32 regression targets of
        shape (n, n_targets) *scaled* by ``target_preprocessing``.
    raw_x_test : ndarray of shape (n_test, *input_shape)
        The test inputs as loaded (images as uint8), for plots of misclassified samples.
    raw_y_test : ndarray
        Test targets in the original units (class indices, or unscaled regression targets).
    preprocessing : nablanet.data.Compose
        Fitted on ``x_train``; raw sample -> model input.
    target_preprocessing : Transformer or None
        Fitted scaler of regression targets (None for classification or ``target_scale: none``).
    task : {"binary", "multiclass", "regression"}
    class_names, feature_names : list of str or None
    input_shape : tuple of int
        Shape of one raw sample (e.g. ``(30,)``, ``(28, 28, 1)``).
    model_input_shape : tuple of int
        Shape of one preprocessed sample (e.g. ``(784,)``).
    n_outputs : int
        Width of the model's output layer.
    dataset_name : str
    value_range : (float, float) or None
        Raw value range of image pixels (``(0, 255)``).
    image_background : {"dark", "light"} or None
        Whether training images are light-on-dark (MNIST) or dark-on-light; ``predict`` inverts
        a user's image whose background differs.
    test_source : str
        ``"test split"`` (held out with ``data.test_split``) or ``"dataset test set"``.

    >>> from nablanet.pipeline import config_from_dict
    >>> cfg = config_from_dict({
    ...     "data": {"dataset": "breast_cancer"},
    ...     "model": {"layers": [{"type": "dense", "units": 1, "activation": "sigmoid"}]},
    ...     "training": {"loss": "binary_crossentropy", "epochs": 1},
    ... })
    >>> data = prepare_data(cfg)
    >>> data.x_train.shape, data.x_test.shape, data.n_outputs, data.class_names
    ((399, 30), (85, 30), 1, ['malignant', 'benign'])
    >>> round(float(data.x_train.mean()), 6), data.preprocessing.steps[0]
    (0.0, StandardScaler(per_feature=True))
    """

    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    raw_x_test: np.ndarray
    raw_y_test: np.ndarray
    preprocessing: nd.Compose
    target_preprocessing: nd.Transformer | None
    task: str
    class_names: list[str] | None
    feature_names: list[str] | None
    input_shape: tuple[int, ...]
    model_input_shape: tuple[int, ...]
    n_outputs: int
    dataset_name: str
    value_range: tuple[float, float] | None = None
    image_background: str | None = None
    image_style: str | None = None
    test_source: str = "test split"

    @property
    def validation_data(self) -> tuple[np.ndarray, np.ndarray] | None:
        return (self.x_val, self.y_val) if len(self.x_val) else None

    @property
    def is_image(self) -> bool:
        return len(self.input_shape) == 3

    def describe(self) -> str:
        return (
            f"{self.dataset_name} ({self.task}): {len(self.x_train)} train / {len(self.x_val)} "
            f"validation / {len(self.x_test)} test ({self.test_source}); samples "
            f"{self.input_shape} -> model inputs {self.model_input_shape}; "
            f"{self.n_outputs} output(s)"
        )

    def metadata(self, config: Config) -> dict[str, Any]:
        """What ``predict``/``evaluate`` need in the model file (JSON-able)."""
        return {
            "pipeline_format": PIPELINE_FORMAT,
            "task": self.task,
            "class_names": self.class_names,
            "feature_names": self.feature_names,
            "input_shape": list(self.input_shape),
            "model_input_shape": list(self.model_input_shape),
            "value_range": None if self.value_range is None else list(self.value_range),
            "image_background": self.image_background,
            "image_style": self.image_style,
            "preprocessing": nd.serialize_transformer(self.preprocessing),
            "target_preprocessing": None
            if self.target_preprocessing is None
            else nd.serialize_transformer(self.target_preprocessing),
            "dataset": config.data.dataset_label(),
            "target": getattr(config.data.dataset, "target", None),
            "config": config.to_dict(),
        }


def _first_layer_type(config: Config) -> str:
    return config.model.layers[0].type


def build_preprocessing(config: Config, dataset: nd.Dataset) -> nd.Compose:
    """The (unfitted) input pipeline the config asks for: optional flatten, then a scaler."""
    pre = config.data.preprocessing
    is_image = len(dataset.input_shape or ()) > 1
    flatten = pre.flatten
    if flatten is None:
        flatten = is_image and _first_layer_type(config) == "dense"
    scale = pre.scale
    if scale is None:
        scale = "unit" if (is_image or dataset.value_range is not None) else "standard"
    steps: list[nd.Transformer] = []
    if scale == "per_channel":
        if not is_image:
            raise ConfigError(
                "data.preprocessing.scale: 'per_channel' standardizes the colour channels of "
                f"images, but {dataset.name} holds samples of shape {dataset.input_shape}; use "
                "standard for tables"
            )
        steps.append(nd.ChannelStandardizer())  # before flattening: it needs the channel axis
    if flatten and is_image:
        steps.append(nd.ImageFlattener())
    if scale == "standard":
        steps.append(nd.StandardScaler())
    elif scale == "minmax":
        steps.append(nd.MinMaxScaler())
    elif scale == "unit":
        top = dataset.value_range[1] if dataset.value_range is not None else 255.0
        steps.append(nd.PixelScaler(max_value=top))
    return nd.Compose(steps)


def _image_background(x: np.ndarray, value_range: tuple[float, float] | None) -> str | None:
    if x.ndim != 4 or len(x) == 0:
        return None
    sample = np.asarray(x[:500], dtype=np.float32)
    border = np.concatenate(
        [
            sample[:, 0].reshape(len(sample), -1),
            sample[:, -1].reshape(len(sample), -1),
            sample[:, :, 0].reshape(len(sample), -1),
            sample[:, :, -1].reshape(len(sample), -1),
        ],
        axis=1,
    )
    lo, hi = value_range if value_range is not None else (0.0, 255.0)
    level = (float(border.mean()) - lo) / max(hi - lo, 1e-12)
    return "dark" if level < 0.5 else "light"


def _image_style(x: np.ndarray, value_range: tuple[float, float] | None) -> str | None:
    """``"digits"`` for grey images of a figure on a uniform background (MNIST-like: at least
    70 % of the border pixels within 15 % of the range from the background level), else
    ``"photo"``; None for tables. It decides how ``predict`` reads a user's picture
    (:mod:`nablanet.pipeline.images`)."""
    if x.ndim != 4 or len(x) == 0:
        return None
    if x.shape[3] != 1:
        return "photo"
    sample = np.asarray(x[:500], dtype=np.float32)
    border = np.concatenate(
        [
            sample[:, 0].ravel(),
            sample[:, -1].ravel(),
            sample[:, :, 0].ravel(),
            sample[:, :, -1].ravel(),
        ]
    )
    lo, hi = value_range if value_range is not None else (0.0, 255.0)
    level = (border - lo) / max(hi - lo, 1e-12)
    uniform = np.mean(np.abs(level - np.median(level)) < 0.15)
    return "digits" if uniform >= 0.7 else "photo"


def load_data(config: Config, data_dir: str | os.PathLike[str] | None = None) -> nd.Dataset:
    """The dataset of ``config.data.dataset`` (registry name or user files)."""
    spec = config.data.dataset_spec()
    logger.debug("Loading dataset %s", config.data.dataset_label())
    return nd.load_dataset(spec, data_dir=data_dir)


def split_dataset(config: Config, dataset: nd.Dataset) -> tuple[nd.Dataset, nd.Split]:
    """Subsample (``data.max_samples``) and split a dataset the way a run does: the same config
    and seed always give the same raw splits."""
    dc = config.data
    if dc.max_samples is not None and dc.max_samples < dataset.n_samples:
        rng = np.random.default_rng(config.seed)
        keep = np.sort(rng.choice(dataset.n_samples, size=dc.max_samples, replace=False))
        dataset = dataset.subset(keep)
        logger.info("Using %d of the dataset's training samples (data.max_samples)", len(keep))
    split = dataset.split(
        val_fraction=dc.validation_split,
        test_fraction=dc.test_split,
        seed=config.seed,
        stratify=dc.stratify,
    )
    if len(split.x_train) == 0:
        raise PipelineError(
            f"data: the split leaves no training samples out of {dataset.n_samples}; lower "
            "data.validation_split or data.test_split"
        )
    return dataset, split


def prepare_data(
    config: Config,
    dataset: nd.Dataset | None = None,
    data_dir: str | os.PathLike[str] | None = None,
) -> PreparedData:
    """Load, subsample, split and preprocess the data of ``config``.

    Parameters
    ----------
    config : Config
    dataset : nablanet.data.Dataset, optional
        Use this dataset instead of loading ``config.data.dataset``.
    data_dir : path, optional
        Dataset cache directory (default ``$NABLANET_DATA`` or ``~/.cache/nablanet``).

    Returns
    -------
    PreparedData
        The same config (same seed) always gives the same splits and the same fitted numbers.

    Raises
    ------
    nablanet.data.DataError
        The dataset cannot be loaded.
    PipelineError
        The splits leave no training samples, or the evaluation metrics do not suit the task.
    """
    dc = config.data
    if dataset is None:
        dataset = load_data(config, data_dir)
    dataset, split = split_dataset(config, dataset)
    _check_metrics(config, dataset.task)

    pipeline = build_preprocessing(config, dataset)
    x_train = pipeline.fit_transform(split.x_train)
    x_val = pipeline.transform(split.x_val) if len(split.x_val) else _empty(x_train)
    x_test = pipeline.transform(split.x_test) if len(split.x_test) else _empty(x_train)

    target_pre = None
    # a dataset always has targets
    assert split.y_train is not None and split.y_val is not None and split.y_test is not None
    if dataset.task == "regression":
        y_train, y_val, y_test = (
            np.asarray(y, np.float32).reshape(len(y), -1)
            for y in (split.y_train, split.y_val, split.y_test)
        )
        raw_y_test = y_test
        if dc.preprocessing.target_scale in (None, "standard"):
            target_pre = nd.StandardScaler().fit(y_train)
            y_train = target_pre.transform(y_train)
            y_val = target_pre.transform(y_val) if len(y_val) else y_val
            y_test = target_pre.transform(y_test) if len(y_test) else y_test
        n_targets = y_train.shape[1]
    else:
        y_train, y_val, y_test = split.y_train, split.y_val, split.y_test
        raw_y_test = y_test
        n_targets = 1
    n_outputs = n_model_outputs(
        config.model.layers, dataset.task, dataset.n_classes or 0, n_targets
    )
    prepared = PreparedData(
        x_train=np.ascontiguousarray(x_train, dtype=np.float32),
        y_train=y_train,
        x_val=np.ascontiguousarray(x_val, dtype=np.float32),
        y_val=y_val,
        x_test=np.ascontiguousarray(x_test, dtype=np.float32),
        y_test=y_test,
        raw_x_test=split.x_test,
        raw_y_test=raw_y_test,
        preprocessing=pipeline,
        target_preprocessing=target_pre,
        task=dataset.task,
        class_names=dataset.class_names,
        feature_names=dataset.feature_names,
        input_shape=tuple(dataset.input_shape or ()),
        model_input_shape=tuple(int(s) for s in x_train.shape[1:]),
        n_outputs=n_outputs,
        dataset_name=dataset.name,
        value_range=dataset.value_range,
        image_background=_image_background(split.x_train, dataset.value_range),
        image_style=_image_style(split.x_train, dataset.value_range),
        test_source="dataset test set" if dataset.has_test_split else "test split",
    )
    logger.info("Data: %s", prepared.describe())
    return prepared


def _empty(like: np.ndarray) -> np.ndarray:
    return np.zeros((0, *like.shape[1:]), dtype=np.float32)


def _check_metrics(config: Config, task: str) -> None:
    from .reports import CLASSIFICATION_REPORT_METRICS, REGRESSION_REPORT_METRICS

    wanted = config.evaluation.metrics
    if not wanted:
        return
    allowed = REGRESSION_REPORT_METRICS if task == "regression" else CLASSIFICATION_REPORT_METRICS
    bad = [m for m in wanted if m not in allowed]
    if bad:
        raise ConfigError(
            f"evaluation.metrics: {bad[0]!r} does not apply to a {task} dataset; choose from "
            f"{', '.join(allowed)}"
        )
