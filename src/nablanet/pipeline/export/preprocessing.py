"""The ONNX exporters of nablanet's fitted preprocessing (``nablanet.data`` transformers).

Each ``@preprocessing_exporter`` function writes a transformer's ``transform`` with its fitted
numbers as constants, on the raw samples as nablanet holds them (NHWC for images); each
``@inverse_exporter`` function writes the ``inverse_transform`` of a regression targets'
scaler, on the network's outputs. :func:`~nablanet.pipeline.export.graph.feature_constant`
checks that a fitted statistic broadcasts against the graph's samples. A transformer without an
exporter is refused (the bare network still exports with ``preprocessing=False``).

>>> from nablanet import data as nd
>>> step_names(nd.Compose([nd.PixelScaler(), nd.ImageFlattener()])), step_names(None)
(['PixelScaler', 'ImageFlattener'], [])
"""

from __future__ import annotations

import math

import numpy as np

from ... import data as nd
from .graph import ExportError, GraphBuilder, Tensor, apply_op, feature_constant
from .registry import export_inverse, export_preprocessing, inverse_exporter, preprocessing_exporter

__all__ = ["step_names"]


def _check_fitted(transformer: nd.Transformer, name: str) -> None:
    if not transformer.is_fitted:
        raise ExportError(f"{name}: {type(transformer).__name__} is not fitted; nothing to export")


@preprocessing_exporter(nd.Compose)
def _pipeline(g: GraphBuilder, pipe: nd.Compose, t: Tensor, name: str) -> Tensor:
    for i, step in enumerate(pipe.steps):
        t = export_preprocessing(g, step, t, f"{name}.{i}")
    return t


@preprocessing_exporter(nd.StandardScaler)
def _standard_scaler(g: GraphBuilder, s: nd.StandardScaler, t: Tensor, name: str) -> Tensor:
    _check_fitted(s, name)
    t = apply_op(g, "Sub", t, feature_constant(g, s.mean, t, f"{name}/mean", name), f"{name}/sub")
    return apply_op(
        g, "Div", t, feature_constant(g, s.scale, t, f"{name}/scale", name), f"{name}/div"
    )


@preprocessing_exporter(nd.MinMaxScaler)
def _minmax_scaler(g: GraphBuilder, s: nd.MinMaxScaler, t: Tensor, name: str) -> Tensor:
    _check_fitted(s, name)
    # the same float32 numbers as MinMaxScaler.transform: (x - min) * ratio + low
    t = apply_op(
        g, "Sub", t, feature_constant(g, s.data_min, t, f"{name}/min", name), f"{name}/sub"
    )
    t = apply_op(
        g, "Mul", t, feature_constant(g, s._ratio(), t, f"{name}/ratio", name), f"{name}/mul"
    )
    low = g.constant(f"{name}/low", np.float32(s.feature_range[0]))
    return apply_op(g, "Add", t, low, f"{name}/add")


@preprocessing_exporter(nd.ChannelStandardizer)
def _channel_standardizer(
    g: GraphBuilder, s: nd.ChannelStandardizer, t: Tensor, name: str
) -> Tensor:
    _check_fitted(s, name)
    assert s.mean is not None and s.scale is not None  # fitted
    # NHWC samples: the (C,) constants broadcast over the last axis, as in transform()
    t = apply_op(g, "Sub", t, g.constant(f"{name}/mean", s.mean.astype(np.float32)), f"{name}/sub")
    return apply_op(
        g, "Div", t, g.constant(f"{name}/scale", s.scale.astype(np.float32)), f"{name}/div"
    )


@preprocessing_exporter(nd.PixelScaler)
def _pixel_scaler(g: GraphBuilder, s: nd.PixelScaler, t: Tensor, name: str) -> Tensor:
    return apply_op(g, "Div", t, g.constant(f"{name}/max", np.float32(s.max_value)), f"{name}/div")


@preprocessing_exporter(nd.ImageFlattener)
def _flatten_images(g: GraphBuilder, s: nd.ImageFlattener, t: Tensor, name: str) -> Tensor:
    _check_fitted(s, name)
    assert s.input_shape is not None  # fitted
    if tuple(s.input_shape) != t.shape:
        raise ExportError(
            f"{name}: Flatten was fitted on samples of shape {tuple(s.input_shape)}, the graph "
            f"has samples of shape {t.shape}"
        )
    return g.reshape(t, (math.prod(t.shape),), f"{name}/flatten")


@inverse_exporter(nd.Compose)
def _pipeline_inverse(g: GraphBuilder, pipe: nd.Compose, t: Tensor, name: str) -> Tensor:
    for i, step in reversed(list(enumerate(pipe.steps))):
        t = export_inverse(g, step, t, f"{name}.{i}")
    return t


@inverse_exporter(nd.StandardScaler)
def _standard_scaler_inverse(g: GraphBuilder, s: nd.StandardScaler, t: Tensor, name: str) -> Tensor:
    _check_fitted(s, name)
    t = apply_op(g, "Mul", t, feature_constant(g, s.scale, t, f"{name}/scale", name), f"{name}/mul")
    return apply_op(
        g, "Add", t, feature_constant(g, s.mean, t, f"{name}/mean", name), f"{name}/add"
    )


@inverse_exporter(nd.MinMaxScaler)
def _minmax_scaler_inverse(g: GraphBuilder, s: nd.MinMaxScaler, t: Tensor, name: str) -> Tensor:
    _check_fitted(s, name)
    low = g.constant(f"{name}/low", np.float32(s.feature_range[0]))
    t = apply_op(g, "Sub", t, low, f"{name}/sub")
    t = apply_op(
        g, "Div", t, feature_constant(g, s._ratio(), t, f"{name}/ratio", name), f"{name}/div"
    )
    return apply_op(
        g, "Add", t, feature_constant(g, s.data_min, t, f"{name}/min", name), f"{name}/add"
    )


@inverse_exporter(nd.PixelScaler)
def _pixel_scaler_inverse(g: GraphBuilder, s: nd.PixelScaler, t: Tensor, name: str) -> Tensor:
    return apply_op(g, "Mul", t, g.constant(f"{name}/max", np.float32(s.max_value)), f"{name}/mul")


def step_names(transformer: nd.Transformer | None) -> list[str]:
    """The class names of the transformers in ``transformer``, nested Compose steps flattened."""
    if transformer is None:
        return []
    if isinstance(transformer, nd.Compose):
        return [n for s in transformer.steps for n in step_names(s)]
    return [type(transformer).__name__]
