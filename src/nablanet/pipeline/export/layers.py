"""The ONNX exporters of nablanet's layers and activations.

Layout: nablanet's images are NHWC with HWIO kernels, ONNX's convolutions and pools are NCHW
with OIHW kernels. The graph keeps the raw NHWC input, transposes once before the first
convolution (or pooling, or 4-D batch normalization), runs the image layers in NCHW with the
kernels transposed at export, and transposes back to NHWC before a ``Flatten``/``Reshape``, so
that the flattened features keep nablanet's ``(row, column, channel)`` order and the following
``Dense`` weights are used as they are. ``Dense`` is a ``Gemm`` with our ``(n_inputs,
n_outputs)`` weights as ``B`` (no transpose).

Every function here is registered in :mod:`~nablanet.pipeline.export.registry` by its
decorator; a new layer adds one ``@layer_exporter(TheLayer)`` function (a test fails for a
layer of :mod:`nablanet.nn` without one).

>>> from nablanet.pipeline.export.registry import LAYER_EXPORTERS
>>> LAYER_EXPORTERS[nn.Dense].__name__, LAYER_EXPORTERS[nn.MaxPool2D] is LAYER_EXPORTERS[nn.AvgPool2D]
('_dense', True)
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ... import nn
from ...nn.layers import activations as acts
from .graph import ExportError, GraphBuilder, Tensor
from .registry import Exporter, activation_exporter, export_activation, layer_exporter


# -- activations -----------------------------------------------------------------------------
@activation_exporter(acts.Linear)
def _linear(g: GraphBuilder, act: acts.Linear, t: Tensor, name: str) -> Tensor:
    return t


def _elementwise(op: str) -> Exporter:
    def export(g: GraphBuilder, act: acts.Activation, t: Tensor, name: str) -> Tensor:
        return Tensor(g.node(op, [t.name], f"{name}/{act.name}"), t.shape, t.layout)

    return export


activation_exporter(acts.ReLU)(_elementwise("Relu"))
activation_exporter(acts.Sigmoid)(_elementwise("Sigmoid"))
activation_exporter(acts.Tanh)(_elementwise("Tanh"))


@activation_exporter(acts.LeakyReLU)
def _leaky_relu(g: GraphBuilder, act: acts.LeakyReLU, t: Tensor, name: str) -> Tensor:
    out = g.node("LeakyRelu", [t.name], f"{name}/leaky_relu", alpha=float(act.alpha))
    return Tensor(out, t.shape, t.layout)


@activation_exporter(acts.Softmax)
def _softmax(g: GraphBuilder, act: acts.Softmax, t: Tensor, name: str) -> Tensor:
    # nablanet's softmax runs over the last axis: the channels of an NHWC image, axis 1 in NCHW
    axis = 1 if t.layout == "nchw" else -1
    return Tensor(g.node("Softmax", [t.name], f"{name}/softmax", axis=axis), t.shape, t.layout)


# -- layers --------------------------------------------------------------------------------------
@layer_exporter(*acts.ACTIVATIONS.values())
def _activation_layer(g: GraphBuilder, layer: acts.Activation, t: Tensor, name: str) -> Tensor:
    return export_activation(g, layer, t, name)


@layer_exporter(nn.Dropout, nn.RandomTranslation, nn.RandomCrop, nn.RandomFlip)
def _identity_at_inference(g: GraphBuilder, layer: nn.Layer, t: Tensor, name: str) -> Tensor:
    return t  # dropout and augmentation are the identity in predict


@layer_exporter(nn.Dense)
def _dense(g: GraphBuilder, layer: nn.Dense, t: Tensor, name: str) -> Tensor:
    w = g.constant(f"{name}/weights", layer.weights.value)  # (n_inputs, n_outputs): B as is
    b = g.constant(f"{name}/biases", layer.biases.value)
    z = Tensor(g.node("Gemm", [t.name, w, b], f"{name}/gemm"), (layer.n_neurons,))
    return export_activation(g, layer.activation, z, name)


@layer_exporter(nn.Neuron)
def _neuron(g: GraphBuilder, layer: nn.Neuron, t: Tensor, name: str) -> Tensor:
    w = g.constant(f"{name}/weights", layer.weights.value.reshape(-1, 1))
    b = g.constant(f"{name}/bias", layer.bias.value.reshape(1))
    z = Tensor(g.node("Gemm", [t.name, w, b], f"{name}/gemm"), (1,))
    return export_activation(g, layer.activation, z, name)


@layer_exporter(nn.Conv2D)
def _conv2d(g: GraphBuilder, layer: nn.Conv2D, t: Tensor, name: str) -> Tensor:
    # im2col and Winograd compute the same convolution; ONNX's Conv is the definition
    t = g.to_nchw(t, name)
    h, w, _ = t.shape
    # the layer's own resolution of "same"/explicit padding for this input size
    (top, bottom, left, right), _, _ = layer._geometry(h, w)
    inputs = [t.name, g.constant(f"{name}/kernel_oihw", layer.weights.value.transpose(3, 2, 0, 1))]
    if layer.use_bias:
        inputs.append(g.constant(f"{name}/biases", layer.biases.value))
    z = g.node(
        "Conv",
        inputs,
        f"{name}/conv",
        kernel_shape=list(layer.kernel_size),
        strides=list(layer.stride),
        pads=[top, left, bottom, right],
    )
    out = Tensor(z, tuple(layer.compute_output_shape(t.shape)), "nchw")
    return export_activation(g, layer.activation, out, name)


@layer_exporter(nn.MaxPool2D, nn.AvgPool2D)
def _pool(g: GraphBuilder, layer: nn.MaxPool2D | nn.AvgPool2D, t: Tensor, name: str) -> Tensor:
    # "valid" windows, trailing rows/columns that do not fill one dropped: ONNX's floor mode;
    # no padding, so AveragePool's count_include_pad never applies (set to 0 all the same)
    t = g.to_nchw(t, name)
    attrs: dict[str, Any] = {"kernel_shape": list(layer.pool_size), "strides": list(layer.stride)}
    if isinstance(layer, nn.AvgPool2D):
        op, attrs["count_include_pad"] = "AveragePool", 0
    else:
        op = "MaxPool"
    out = g.node(op, [t.name], f"{name}/{op.lower()}", pads=[0, 0, 0, 0], **attrs)
    return Tensor(out, tuple(layer.compute_output_shape(t.shape)), "nchw")


@layer_exporter(nn.GlobalAveragePooling2D)
def _global_average_pool(
    g: GraphBuilder, layer: nn.GlobalAveragePooling2D, t: Tensor, name: str
) -> Tensor:
    t = g.to_nchw(t, name)
    pooled = Tensor(g.node("GlobalAveragePool", [t.name], f"{name}/gap"), t.shape, "nchw")
    c = t.shape[2]
    target = g.constant(
        f"{name}/shape", np.array([-1, c], dtype=np.int64)
    )  # (N, C, 1, 1) -> (N, C)
    return Tensor(g.node("Reshape", [pooled.name, target], f"{name}/squeeze"), (c,))


@layer_exporter(nn.BatchNormalization)
def _batchnorm(g: GraphBuilder, layer: nn.BatchNormalization, t: Tensor, name: str) -> Tensor:
    # inference: the running statistics and the layer's own epsilon; ONNX normalizes axis 1,
    # which is nablanet's last axis for (N, features) and for images in NCHW
    if len(t.shape) not in (1, 3):
        raise ExportError(
            f"{name}: BatchNormalization on samples of shape {t.shape} cannot be exported "
            "(features (n,) or images (h, w, c) only)"
        )
    t = g.to_nchw(t, name)
    inputs = [
        t.name,
        g.constant(f"{name}/gamma", layer.gamma.value),
        g.constant(f"{name}/beta", layer.beta.value),
        g.constant(f"{name}/running_mean", layer.running_mean),
        g.constant(f"{name}/running_var", layer.running_var),
    ]
    out = g.node("BatchNormalization", inputs, f"{name}/batchnorm", epsilon=float(layer.epsilon))
    return Tensor(out, t.shape, t.layout)


@layer_exporter(nn.Flatten)
def _flatten(g: GraphBuilder, layer: nn.Flatten, t: Tensor, name: str) -> Tensor:
    return g.reshape(t, (math.prod(t.shape),), f"{name}/flatten")


@layer_exporter(nn.Reshape)
def _reshape(g: GraphBuilder, layer: nn.Reshape, t: Tensor, name: str) -> Tensor:
    return g.reshape(t, tuple(layer.compute_output_shape(t.shape)), f"{name}/reshape")
