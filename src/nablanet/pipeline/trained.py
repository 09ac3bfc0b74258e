"""A trained model together with what it needs to work on raw inputs.

A pipeline model file (``model.npz``) holds the weights and the architecture, and in its metadata
the fitted preprocessing, the task, the class and feature names and the raw input shape.
:class:`TrainedModel` reads all of it back, so ``predict`` on a raw CSV row or a PNG just works.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .. import data as nd
from .. import nn
from ..data.dataset import check_finite_features
from .errors import InputError
from .locate import resolve_model_path

__all__ = ["TrainedModel", "load_trained_model"]


def _transformer(spec: Any, path: Path, what: str) -> nd.Transformer | None:
    if spec is None:
        return None
    try:
        return nd.transformer_from_config(spec)
    except (nd.DataError, TypeError, ValueError) as e:
        raise nn.ModelFileError(f"{path}: corrupt {what} in the model metadata ({e})") from None


def _infer_task(model: nn.Sequential) -> str:
    """The task of a plain library model file (no pipeline metadata), from its loss."""
    if isinstance(model.loss, nn.BinaryCrossentropy | nn.SigmoidBinaryCrossentropy):
        return "binary"
    if isinstance(model.loss, nn.CategoricalCrossentropy | nn.SoftmaxCrossentropy):
        return "multiclass"
    return "regression"


@dataclass
class TrainedModel:
    """A model plus its preprocessing and the meaning of its inputs and outputs.

    Attributes
    ----------
    model : nablanet.nn.Sequential
    task : {"binary", "multiclass", "regression"}
    class_names : list of str or None
    feature_names : list of str or None
    input_shape : tuple of int
        Shape of one raw sample, e.g. ``(30,)`` or ``(28, 28, 1)``.
    preprocessing : Transformer or None
        Raw sample -> model input (fitted on the training split).
    target_preprocessing : Transformer or None
        Regression targets' scaler; predictions are mapped back through it.
    metadata : dict
        Everything else the file carries (``config``, ``dataset``, ``target``, ...).
    path : Path or None

    Examples
    --------
    >>> import nablanet as nb
    >>> net = nb.Sequential([nb.Dense(2, 1, activation="sigmoid", seed=0)])
    >>> net.compile(loss="binary_crossentropy", optimizer="adam")
    >>> tm = TrainedModel(net, task="binary", class_names=["no", "yes"], input_shape=(2,))
    >>> tm.predict_proba(np.zeros((3, 2))).shape
    (3, 2)
    """

    model: nn.Sequential
    task: str
    class_names: list[str] | None = None
    feature_names: list[str] | None = None
    input_shape: tuple[int, ...] = ()
    preprocessing: nd.Transformer | None = None
    target_preprocessing: nd.Transformer | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    path: Path | None = None

    # -- facts ---------------------------------------------------------------------------------
    @property
    def is_image(self) -> bool:
        return len(self.input_shape) == 3

    @property
    def n_features(self) -> int:
        return int(np.prod(self.input_shape)) if self.input_shape else 0

    @property
    def image_background(self) -> str | None:
        return self.metadata.get("image_background")

    @property
    def value_range(self) -> tuple[float, float] | None:
        vr = self.metadata.get("value_range")
        return None if vr is None else (float(vr[0]), float(vr[1]))

    @property
    def name(self) -> str:
        return self.path.parent.name if self.path is not None else self.model.name

    def describe_inputs(self) -> str:
        if self.feature_names:
            shown = ", ".join(self.feature_names[:5])
            more = ", ..." if len(self.feature_names) > 5 else ""
            return f"{len(self.feature_names)} features ({shown}{more})"
        if self.is_image:
            h, w, c = self.input_shape
            return f"{h}x{w} images with {c} channel(s)"
        return f"samples of shape {self.input_shape}"

    # -- raw inputs -> outputs -----------------------------------------------------------------
    def check_inputs(self, x: np.ndarray, source: str = "input") -> np.ndarray:
        """``x`` as a batch of raw samples of ``input_shape``; a single sample gets a batch axis,
        a flat row becomes an image, a missing channel axis is added.

        Raises
        ------
        InputError
            Wrong number of features / wrong shape, non-numeric or non-finite values.
        """
        x = np.asarray(x)
        if x.dtype.kind not in "biuf":
            raise InputError(f"{source}: inputs must be numbers, got dtype {x.dtype}")
        shape = tuple(self.input_shape)
        if not shape:
            return x
        if x.shape == shape or (self.is_image and x.shape == shape[:2] and shape[2] == 1):
            x = x.reshape(1, *shape)
        elif x.ndim == 1 and x.size == self.n_features:
            x = x.reshape(1, *shape)
        elif x.shape[1:] == shape:
            pass
        elif self.is_image and x.shape[1:] == shape[:2] and shape[2] == 1:
            x = x.reshape(*x.shape, 1)
        elif x.ndim == 2 and x.shape[1] == self.n_features:
            x = x.reshape(len(x), *shape)
        else:
            got = x.shape[1] if x.ndim == 2 else None
            if got is not None and len(shape) == 1:
                raise InputError(
                    f"{source}: the model expects {self.describe_inputs()}, got {got} "
                    f"feature(s) per sample (array of shape {x.shape})"
                )
            raise InputError(
                f"{source}: the model expects {self.describe_inputs()}, got an array of shape "
                f"{x.shape}"
            )
        try:
            check_finite_features(x, source, self.feature_names if len(shape) == 1 else None)
        except nd.DataError as e:
            raise InputError(str(e)) from None
        return x

    def transform(self, x: np.ndarray, source: str = "input") -> np.ndarray:
        """Raw samples -> model inputs (float32), through the fitted preprocessing."""
        x = self.check_inputs(x, source)
        if self.preprocessing is not None:
            try:
                x = self.preprocessing.transform(x)
            except nd.DataError as e:
                raise InputError(f"{source}: {e}") from None
        return np.ascontiguousarray(x, dtype=np.float32)

    def outputs(self, x_model: np.ndarray) -> np.ndarray:
        """Model outputs for preprocessed inputs (probabilities, or scaled regression values)."""
        return self.model.predict(x_model)

    def predict_proba(self, x: np.ndarray, source: str = "input") -> np.ndarray:
        """Class probabilities of shape (n, n_classes) for raw inputs (classification)."""
        if self.task == "regression":
            raise InputError("predict_proba applies to classification models, this one regresses")
        return self.probabilities(self.outputs(self.transform(x, source)))

    def probabilities(self, out: np.ndarray) -> np.ndarray:
        """Outputs -> (n, n_classes) probabilities (a single sigmoid column becomes two)."""
        out = np.asarray(out, dtype=np.float64)
        if out.ndim == 2 and out.shape[1] == 1:
            p1 = out[:, 0]
            return np.stack([1.0 - p1, p1], axis=1)
        return out

    def values(self, out: np.ndarray) -> np.ndarray:
        """Regression outputs in the targets' original units, shape (n, n_targets)."""
        out = np.asarray(out, dtype=np.float32).reshape(len(out), -1)
        if self.target_preprocessing is not None:
            out = self.target_preprocessing.inverse_transform(out)
        return np.asarray(out)

    def predict(self, x: np.ndarray, source: str = "input") -> np.ndarray:
        """Predicted class indices (n,) for classification, values (n, n_targets) for
        regression, from raw inputs."""
        out = self.outputs(self.transform(x, source))
        if self.task == "regression":
            return self.values(out)
        return self.probabilities(out).argmax(axis=1)

    # -- files -----------------------------------------------------------------------------------
    def save(self, path: str | Path) -> Path:
        return self.model.save(path, metadata=self.metadata)


def load_trained_model(path: str | os.PathLike[str]) -> TrainedModel:
    """Read a model file written by the pipeline (``model.npz`` or a checkpoint), or the model
    of a run directory (``runs/<run>``, ``runs/latest``).

    A plain library model file (``Sequential.save``) loads too: it gets no preprocessing and its
    task is inferred from its loss. This is the one place a path becomes a model: the CLI's
    ``evaluate``, ``predict`` and ``export`` and the UI's loaders all come through it
    (:func:`nablanet.pipeline.locate.resolve_model_path` says what a path stands for).

    Raises
    ------
    nablanet.nn.ModelFileError
        Missing, truncated, corrupt or foreign file (one line naming it).
    InputError
        A run directory without a model yet, a folder of runs, a folder without a model.
    """
    path = resolve_model_path(path)
    return trained_from_sequential(nn.load_model(path), path)


def trained_from_sequential(model: nn.Sequential, path: Path | None = None) -> TrainedModel:
    """A :class:`TrainedModel` from a loaded or in-memory model and its ``metadata`` (what
    :func:`load_trained_model` does after reading the file)."""
    where = path if path is not None else Path(f"<model {model.name!r}>")
    meta = dict(model.metadata or {})
    task = meta.get("task") or _infer_task(model)
    input_shape = meta.get("input_shape")
    if input_shape is None:
        first: Any = model.layers[0] if model.layers else None
        input_shape = [first.n_inputs] if getattr(first, "n_inputs", None) is not None else []
    try:
        input_shape = tuple(int(s) for s in input_shape)
    except (TypeError, ValueError):
        raise nn.ModelFileError(f"{where}: corrupt input_shape in the model metadata") from None
    return TrainedModel(
        model=model,
        task=task,
        class_names=meta.get("class_names"),
        feature_names=meta.get("feature_names"),
        input_shape=input_shape,
        preprocessing=_transformer(meta.get("preprocessing"), where, "preprocessing"),
        target_preprocessing=_transformer(
            meta.get("target_preprocessing"), where, "target preprocessing"
        ),
        metadata=meta,
        path=path,
    )
