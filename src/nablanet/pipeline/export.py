"""ONNX export: a trained model, its fitted preprocessing included, as one ONNX graph.

The exported graph takes exactly the raw ``float32`` samples that ``nablanet predict`` reads
(``(N, n_features)`` rows, ``(N, H, W, C)`` images of raw pixel values, the batch dimension
dynamic) and returns what ``predict`` reports: class probabilities ``(N, C)`` for a softmax
model, the probability of the second class ``(N, 1)`` for a sigmoid binary model, values in
the targets' own units for a regression. ``preprocessing=False`` exports the bare network
(inputs as the network sees them, outputs as ``Sequential.predict`` returns them).

Everything goes through three dispatch tables keyed by the exact class: layers
(``LAYER_EXPORTERS``), activations (``ACTIVATION_EXPORTERS``) and preprocessing transformers
(``PREPROCESSING_EXPORTERS``, and ``INVERSE_EXPORTERS`` for the regression targets' scaler). A
class that is not in its table is refused with an error naming it: nothing is skipped or
guessed, and a subclass with other semantics is not taken for its parent. Supporting a new
transformer is one function decorated with ``@preprocessing_exporter(TheClass)``.

Layout: nablanet's images are NHWC with HWIO kernels, ONNX's convolutions and pools are NCHW
with OIHW kernels. The graph keeps the raw NHWC input, transposes once before the first
convolution (or pooling, or 4-D batch normalization), runs the image layers in NCHW with the
kernels transposed at export, and transposes back to NHWC before a ``Flatten``/``Reshape``, so
that the flattened features keep nablanet's ``(row, column, channel)`` order and the following
``Dense`` weights are used as they are. ``Dense`` is a ``Gemm`` with our ``(n_inputs,
n_outputs)`` weights as ``B`` (no transpose).

``onnx`` is imported only inside the functions that build or write a graph
(``pip install "nablanet[onnx]"``); importing this module needs NumPy only.

>>> ExportResult(Path("model.onnx"), 17, 8, "input", ("batch", 30), "probabilities",
...              ("batch", 1), ["StandardScaler"]).summary()
'model.onnx: ONNX opset 17 (IR 8), input (batch, 30) float32 -> probabilities (batch, 1), preprocessing: StandardScaler'
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .. import __version__, nn
from .. import data as nd
from ..nn.layers import activations as acts
from .errors import PipelineError
from .trained import TrainedModel, load_trained_model, trained_from_sequential

__all__ = ["ExportError", "ExportResult", "build_onnx", "export_onnx"]

#: the opset written by default: onnxruntime has read it since 1.12 (2022)
DEFAULT_OPSET = 17
#: the opsets the exporter writes (every operator used means the same in all of them). Not 13:
#: its BatchNormalization-9 has no training_mode attribute, and onnx.reference (1.23) then
#: takes the default momentum for training mode and normalizes with the batch's statistics
MIN_OPSET, MAX_OPSET = 14, 21
#: the batch dimension's symbolic name
BATCH = "batch"
INPUT_NAME = "input"


def ir_version_for(opset: int) -> int:
    """The oldest ONNX IR version that can carry ``opset`` (8 up to opset 18).

    >>> ir_version_for(17), ir_version_for(19), ir_version_for(21)
    (8, 9, 10)
    """
    return 8 if opset <= 18 else 9 if opset <= 20 else 10


class ExportError(PipelineError):
    """A model (or a part of it) that cannot be exported, or a file that would be overwritten.

    The CLI prints it as one line and exits with status 2.

    >>> issubclass(ExportError, PipelineError)
    True
    """


@dataclass
class ExportResult:
    """What :func:`export_onnx` wrote.

    Attributes
    ----------
    path : Path
    opset, ir_version : int
    input_name : str
    input_shape : tuple
        ``("batch", *sample_shape)``.
    output_name : str
    output_shape : tuple
    preprocessing : list of str
        The transformers inside the graph, in order.
    included_preprocessing : bool
        False for a bare network (``preprocessing=False``).

    >>> r = ExportResult(Path("m.onnx"), 17, 8, "input", ("batch", 4), "output", ("batch", 3),
    ...                  included_preprocessing=False)
    >>> r.preprocessing, r.summary().endswith("preprocessing: not included")
    ([], True)
    """

    path: Path
    opset: int
    ir_version: int
    input_name: str
    input_shape: tuple
    output_name: str
    output_shape: tuple
    preprocessing: list[str] = field(default_factory=list)
    included_preprocessing: bool = True

    def summary(self) -> str:
        def dims(shape) -> str:
            return "(" + ", ".join(str(d) for d in shape) + ")"

        if not self.included_preprocessing:
            pre = "not included"
        else:
            pre = ", ".join(self.preprocessing) if self.preprocessing else "none"
        return (
            f"{self.path}: ONNX opset {self.opset} (IR {self.ir_version}), input "
            f"{dims(self.input_shape)} float32 -> {self.output_name} {dims(self.output_shape)}, "
            f"preprocessing: {pre}"
        )


def _onnx():
    try:
        import onnx
    except ImportError:
        raise ExportError(
            "ONNX export needs the onnx package: pip install 'nablanet[onnx]'"
        ) from None
    return onnx


# -- the graph under construction ----------------------------------------------------------------
@dataclass
class Tensor:
    """A value of the graph: its name, the per-sample shape in nablanet's terms (NHWC for
    images) and how it is laid out in the graph (``"nchw"`` for an image transposed for ONNX's
    image operators, else ``"nhwc"``, i.e. as nablanet holds it)."""

    name: str
    shape: tuple[int, ...]
    layout: str = "nhwc"

    @property
    def is_image(self) -> bool:
        return len(self.shape) == 3


class GraphBuilder:
    """Nodes and initializers of one graph, with unique names."""

    def __init__(self, opset: int):
        self.opset = opset
        self.nodes: list[Any] = []
        self.initializers: list[Any] = []
        self._names: set[str] = {INPUT_NAME, "output", "values", "probabilities"}
        self._onnx = _onnx()

    def _unique(self, hint: str) -> str:
        name, k = hint, 1
        while name in self._names:
            k += 1
            name = f"{hint}_{k}"
        self._names.add(name)
        return name

    def constant(self, hint: str, value: np.ndarray) -> str:
        """An initializer (float32 arrays stay float32, integer ones become int64)."""
        from onnx import numpy_helper

        value = np.asarray(value)
        value = value.astype(np.int64 if value.dtype.kind in "iu" else np.float32)
        name = self._unique(hint)
        self.initializers.append(numpy_helper.from_array(np.ascontiguousarray(value), name))
        return name

    def node(self, op: str, inputs: list[str], hint: str, **attrs) -> str:
        out = self._unique(hint)
        self.nodes.append(
            self._onnx.helper.make_node(
                op, inputs, [out], name=self._unique(f"{hint}/{op}"), **attrs
            )
        )
        return out

    # -- layout ------------------------------------------------------------------------------
    def to_nchw(self, t: Tensor, hint: str) -> Tensor:
        if not t.is_image or t.layout == "nchw":
            return t
        name = self.node("Transpose", [t.name], f"{hint}/to_nchw", perm=[0, 3, 1, 2])
        return Tensor(name, t.shape, "nchw")

    def to_nhwc(self, t: Tensor, hint: str) -> Tensor:
        if not t.is_image or t.layout == "nhwc":
            return t
        name = self.node("Transpose", [t.name], f"{hint}/to_nhwc", perm=[0, 2, 3, 1])
        return Tensor(name, t.shape, "nhwc")

    def reshape(self, t: Tensor, shape: tuple[int, ...], hint: str) -> Tensor:
        """Reshape each sample (C order, on the NHWC values) to ``shape``; the batch stays."""
        t = self.to_nhwc(t, hint)
        target = self.constant(f"{hint}/shape", np.array([-1, *shape], dtype=np.int64))
        return Tensor(self.node("Reshape", [t.name, target], hint), tuple(shape))


# -- dispatch tables ---------------------------------------------------------------------------
LayerExporter = Callable[[GraphBuilder, nn.Layer, Tensor, str], Tensor]
LAYER_EXPORTERS: dict[type, LayerExporter] = {}
ACTIVATION_EXPORTERS: dict[
    type, Callable[[GraphBuilder, acts.Activation, Tensor, str], Tensor]
] = {}
PREPROCESSING_EXPORTERS: dict[type, Callable[[GraphBuilder, Any, Tensor, str], Tensor]] = {}
INVERSE_EXPORTERS: dict[type, Callable[[GraphBuilder, Any, Tensor, str], Tensor]] = {}


def _register(table: dict, *classes: type):
    def decorate(func):
        for cls in classes:
            table[cls] = func
        return func

    return decorate


def layer_exporter(*classes: type):
    """Register the ONNX export of layer classes: ``func(graph, layer, tensor, name) -> tensor``."""
    return _register(LAYER_EXPORTERS, *classes)


def preprocessing_exporter(*classes: type):
    """Register the ONNX export of a fitted transformer's ``transform``:
    ``func(graph, transformer, tensor, name) -> tensor`` (``tensor`` holds the raw samples as
    nablanet holds them: NHWC for images)."""
    return _register(PREPROCESSING_EXPORTERS, *classes)


def inverse_exporter(*classes: type):
    """Register the ONNX export of a fitted transformer's ``inverse_transform`` (the regression
    targets' scaler, applied to the network's outputs)."""
    return _register(INVERSE_EXPORTERS, *classes)


def _known(table: dict) -> str:
    return ", ".join(sorted(cls.__name__ for cls in table))


# -- activations -----------------------------------------------------------------------------
def _activation(g: GraphBuilder, act: acts.Activation, t: Tensor, name: str) -> Tensor:
    func = ACTIVATION_EXPORTERS.get(type(act))
    if func is None:
        raise ExportError(
            f"{name}: the activation {type(act).__name__} cannot be exported to ONNX "
            f"(supported: {_known(ACTIVATION_EXPORTERS)})"
        )
    return func(g, act, t, name)


@_register(ACTIVATION_EXPORTERS, acts.Linear)
def _linear(g, act, t, name):
    return t


def _elementwise(op: str):
    def export(g, act, t, name):
        return Tensor(g.node(op, [t.name], f"{name}/{act.name}"), t.shape, t.layout)

    return export


ACTIVATION_EXPORTERS[acts.ReLU] = _elementwise("Relu")
ACTIVATION_EXPORTERS[acts.Sigmoid] = _elementwise("Sigmoid")
ACTIVATION_EXPORTERS[acts.Tanh] = _elementwise("Tanh")


@_register(ACTIVATION_EXPORTERS, acts.LeakyReLU)
def _leaky_relu(g, act, t, name):
    out = g.node("LeakyRelu", [t.name], f"{name}/leaky_relu", alpha=float(act.alpha))
    return Tensor(out, t.shape, t.layout)


@_register(ACTIVATION_EXPORTERS, acts.Softmax)
def _softmax(g, act, t, name):
    # nablanet's softmax runs over the last axis: the channels of an NHWC image, axis 1 in NCHW
    axis = 1 if t.layout == "nchw" else -1
    return Tensor(g.node("Softmax", [t.name], f"{name}/softmax", axis=axis), t.shape, t.layout)


# -- layers --------------------------------------------------------------------------------------
@layer_exporter(*acts.ACTIVATIONS.values())
def _activation_layer(g, layer, t, name):
    return _activation(g, layer, t, name)


@layer_exporter(nn.Dropout, nn.RandomTranslation)
def _identity_at_inference(g, layer, t, name):
    return t  # dropout and augmentation are the identity in predict


@layer_exporter(nn.Dense)
def _dense(g, layer, t, name):
    w = g.constant(f"{name}/weights", layer.weights.value)  # (n_inputs, n_outputs): B as is
    b = g.constant(f"{name}/biases", layer.biases.value)
    z = Tensor(g.node("Gemm", [t.name, w, b], f"{name}/gemm"), (layer.n_neurons,))
    return _activation(g, layer.activation, z, name)


@layer_exporter(nn.Neuron)
def _neuron(g, layer, t, name):
    w = g.constant(f"{name}/weights", layer.weights.value.reshape(-1, 1))
    b = g.constant(f"{name}/bias", layer.bias.value.reshape(1))
    z = Tensor(g.node("Gemm", [t.name, w, b], f"{name}/gemm"), (1,))
    return _activation(g, layer.activation, z, name)


@layer_exporter(nn.Conv2D)
def _conv2d(g, layer, t, name):
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
    return _activation(g, layer.activation, out, name)


@layer_exporter(nn.MaxPool2D, nn.AvgPool2D)
def _pool(g, layer, t, name):
    # "valid" windows, trailing rows/columns that do not fill one dropped: ONNX's floor mode;
    # no padding, so AveragePool's count_include_pad never applies (set to 0 all the same)
    t = g.to_nchw(t, name)
    attrs = {"kernel_shape": list(layer.pool_size), "strides": list(layer.stride)}
    if isinstance(layer, nn.AvgPool2D):
        op, attrs["count_include_pad"] = "AveragePool", 0
    else:
        op = "MaxPool"
    out = g.node(op, [t.name], f"{name}/{op.lower()}", pads=[0, 0, 0, 0], **attrs)
    return Tensor(out, tuple(layer.compute_output_shape(t.shape)), "nchw")


@layer_exporter(nn.GlobalAveragePooling2D)
def _global_average_pool(g, layer, t, name):
    t = g.to_nchw(t, name)
    pooled = Tensor(g.node("GlobalAveragePool", [t.name], f"{name}/gap"), t.shape, "nchw")
    c = t.shape[2]
    target = g.constant(
        f"{name}/shape", np.array([-1, c], dtype=np.int64)
    )  # (N, C, 1, 1) -> (N, C)
    return Tensor(g.node("Reshape", [pooled.name, target], f"{name}/squeeze"), (c,))


@layer_exporter(nn.BatchNormalization)
def _batchnorm(g, layer, t, name):
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
def _flatten(g, layer, t, name):
    return g.reshape(t, (math.prod(t.shape),), f"{name}/flatten")


@layer_exporter(nn.Reshape)
def _reshape(g, layer, t, name):
    return g.reshape(t, tuple(layer.compute_output_shape(t.shape)), f"{name}/reshape")


# -- preprocessing -------------------------------------------------------------------------------
def _check_fitted(transformer, name: str) -> None:
    if not transformer.is_fitted:
        raise ExportError(f"{name}: {type(transformer).__name__} is not fitted; nothing to export")


def feature_constant(g, value: np.ndarray, t: Tensor, hint: str, owner: str) -> str:
    """A fitted statistic that broadcasts against ``(N, *t.shape)`` as in NumPy (ONNX's
    multidirectional broadcasting is NumPy's): a scalar, one value per feature, or one per
    channel (shape ``(C,)`` against NHWC images)."""
    value = np.asarray(value, dtype=np.float32)
    try:
        fits = np.broadcast_shapes(value.shape, t.shape) == t.shape
    except ValueError:
        fits = False
    if not fits:
        raise ExportError(
            f"{owner} was fitted on samples of shape {value.shape}, the graph has samples of "
            f"shape {t.shape}"
        )
    return g.constant(hint, value)


def apply_op(g: GraphBuilder, op: str, t: Tensor, constant: str, hint: str) -> Tensor:
    return Tensor(g.node(op, [t.name, constant], hint), t.shape, t.layout)


@preprocessing_exporter(nd.Compose)
def _pipeline(g, pipe, t, name):
    for i, step in enumerate(pipe.steps):
        t = _preprocess(g, step, t, f"{name}.{i}")
    return t


@preprocessing_exporter(nd.StandardScaler)
def _standard_scaler(g, s, t, name):
    _check_fitted(s, name)
    t = apply_op(g, "Sub", t, feature_constant(g, s.mean, t, f"{name}/mean", name), f"{name}/sub")
    return apply_op(
        g, "Div", t, feature_constant(g, s.scale, t, f"{name}/scale", name), f"{name}/div"
    )


@preprocessing_exporter(nd.MinMaxScaler)
def _minmax_scaler(g, s, t, name):
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


@preprocessing_exporter(nd.PixelScaler)
def _pixel_scaler(g, s, t, name):
    return apply_op(g, "Div", t, g.constant(f"{name}/max", np.float32(s.max_value)), f"{name}/div")


@preprocessing_exporter(nd.ImageFlattener)
def _flatten_images(g, s, t, name):
    _check_fitted(s, name)
    if tuple(s.input_shape) != t.shape:
        raise ExportError(
            f"{name}: Flatten was fitted on samples of shape {tuple(s.input_shape)}, the graph "
            f"has samples of shape {t.shape}"
        )
    return g.reshape(t, (math.prod(t.shape),), f"{name}/flatten")


def _preprocess(g: GraphBuilder, transformer, t: Tensor, name: str) -> Tensor:
    func = PREPROCESSING_EXPORTERS.get(type(transformer))
    if func is None:
        raise ExportError(
            f"{name}: the preprocessing step {type(transformer).__name__} cannot be exported to "
            f"ONNX (supported: {_known(PREPROCESSING_EXPORTERS)}); export the bare network with "
            "--no-preprocessing (preprocessing=False) and apply it yourself"
        )
    return func(g, transformer, t, name)


@inverse_exporter(nd.Compose)
def _pipeline_inverse(g, pipe, t, name):
    for i, step in reversed(list(enumerate(pipe.steps))):
        t = _inverse(g, step, t, f"{name}.{i}")
    return t


@inverse_exporter(nd.StandardScaler)
def _standard_scaler_inverse(g, s, t, name):
    _check_fitted(s, name)
    t = apply_op(g, "Mul", t, feature_constant(g, s.scale, t, f"{name}/scale", name), f"{name}/mul")
    return apply_op(
        g, "Add", t, feature_constant(g, s.mean, t, f"{name}/mean", name), f"{name}/add"
    )


@inverse_exporter(nd.MinMaxScaler)
def _minmax_scaler_inverse(g, s, t, name):
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
def _pixel_scaler_inverse(g, s, t, name):
    return apply_op(g, "Mul", t, g.constant(f"{name}/max", np.float32(s.max_value)), f"{name}/mul")


def _inverse(g: GraphBuilder, transformer, t: Tensor, name: str) -> Tensor:
    func = INVERSE_EXPORTERS.get(type(transformer))
    if func is None:
        raise ExportError(
            f"{name}: the target scaler {type(transformer).__name__} cannot be exported to ONNX "
            f"(supported: {_known(INVERSE_EXPORTERS)}); export with --no-preprocessing "
            "(preprocessing=False) and scale the outputs back yourself"
        )
    return func(g, transformer, t, name)


def _step_names(transformer) -> list[str]:
    if transformer is None:
        return []
    if isinstance(transformer, nd.Compose):
        return [n for s in transformer.steps for n in _step_names(s)]
    return [type(transformer).__name__]


# -- the model ---------------------------------------------------------------------------------
def _as_trained(model, input_shape) -> TrainedModel:
    if isinstance(model, TrainedModel):
        trained = model
    elif isinstance(model, nn.Sequential):
        trained = trained_from_sequential(model)
    elif isinstance(model, (str, os.PathLike)):
        trained = load_trained_model(model)  # a model file, a run directory, runs/latest
    else:
        raise ExportError(
            "export_onnx expects a model file (runs/<run>/model.npz), a run directory, a "
            f"TrainedModel or a Sequential, got {type(model).__name__}"
        )
    if input_shape is not None:
        trained = dataclasses.replace(trained, input_shape=tuple(int(d) for d in input_shape))
    return trained


def _network_input_shape(trained: TrainedModel) -> tuple[int, ...]:
    """The shape of one sample as the network takes it (after the preprocessing)."""
    recorded = trained.metadata.get("model_input_shape")
    if recorded:
        return tuple(int(d) for d in recorded)
    if trained.preprocessing is None:
        return tuple(trained.input_shape)
    probe = np.zeros((1, *trained.input_shape), dtype=np.float32)
    try:
        return tuple(trained.preprocessing.transform(probe).shape[1:])
    except (nd.DataError, ValueError, TypeError):  # a step that cannot run on a probe
        first = trained.model.layers[0]
        return (first.n_inputs,) if hasattr(first, "n_inputs") else ()


def _check_opset(opset) -> int:
    if (
        isinstance(opset, bool)
        or not isinstance(opset, (int, np.integer))
        or not (MIN_OPSET <= opset <= MAX_OPSET)
    ):
        raise ExportError(
            f"The 'opset' parameter of export_onnx must be an integer in {MIN_OPSET}..{MAX_OPSET}. "
            f"Got {opset!r} instead."
        )
    return int(opset)


def _build(trained: TrainedModel, preprocessing: bool, opset: int):
    onnx = _onnx()
    from onnx import TensorProto, helper

    net = trained.model
    if not net.layers:
        raise ExportError("the model has no layers; nothing to export")
    for i, layer in enumerate(net.layers):
        dtype = getattr(layer, "dtype", None)
        if dtype is not None and np.dtype(dtype) != np.float32:
            raise ExportError(
                f"layer {i} ({type(layer).__name__}) is {np.dtype(dtype).name}; ONNX export "
                "writes float32 models only"
            )
    sample = tuple(trained.input_shape) if preprocessing else _network_input_shape(trained)
    if not sample:
        raise ExportError(
            "the model does not record the shape of its inputs (a model saved by "
            "Sequential.save whose first layer is not Dense); give input_shape=(height, width, "
            "channels) to export_onnx"
        )
    g = GraphBuilder(opset)
    t = Tensor(INPUT_NAME, sample)
    steps: list[str] = []
    if preprocessing and trained.preprocessing is not None:
        t = _preprocess(g, trained.preprocessing, t, "preprocessing")
        steps = _step_names(trained.preprocessing)
    for i, layer in enumerate(net.layers):
        name = f"layers.{i}"
        func = LAYER_EXPORTERS.get(type(layer))
        if func is None:
            raise ExportError(
                f"{name}: the layer {type(layer).__name__} cannot be exported to ONNX "
                f"(supported: {_known(LAYER_EXPORTERS)})"
            )
        try:
            expected = tuple(layer.compute_output_shape(t.shape))
        except nn.NablanetError as e:
            raise ExportError(f"{name}: {e}") from None
        t = func(g, layer, t, name)
        if t.shape != expected:  # an exporter that disagrees with the layer: never write it
            raise ExportError(
                f"{name}: the exported {type(layer).__name__} gives samples of shape {t.shape}, "
                f"the layer {expected}"
            )
    t = g.to_nhwc(t, "output")
    regression = trained.task == "regression"
    if preprocessing and regression:
        if len(t.shape) != 1:  # predict reports (n, n_targets)
            t = g.reshape(t, (math.prod(t.shape),), "output/flatten")
        if trained.target_preprocessing is not None:
            t = _inverse(g, trained.target_preprocessing, t, "target_preprocessing")
            steps.append(
                f"{'+'.join(_step_names(trained.target_preprocessing))} (inverse, targets)"
            )
    output_name = "output" if not preprocessing else "values" if regression else "probabilities"
    g.nodes.append(helper.make_node("Identity", [t.name], [output_name], name="output/Identity"))

    graph = helper.make_graph(
        g.nodes,
        trained.name or "nablanet",
        [helper.make_tensor_value_info(INPUT_NAME, TensorProto.FLOAT, [BATCH, *sample])],
        [helper.make_tensor_value_info(output_name, TensorProto.FLOAT, [BATCH, *t.shape])],
        initializer=g.initializers,
    )
    model = helper.make_model(
        graph,
        opset_imports=[helper.make_opsetid("", opset)],
        ir_version=ir_version_for(opset),
        producer_name="nablanet",
        producer_version=__version__,
        doc_string=_describe_output(trained, preprocessing, t.shape),
    )
    props = {
        "nablanet_version": __version__,
        "task": trained.task,
        "input_name": INPUT_NAME,
        "input_shape": json.dumps([BATCH, *sample]),
        "input_layout": "NHWC" if len(sample) == 3 else "features",
        "output_name": output_name,
        "output_shape": json.dumps([BATCH, *t.shape]),
        "output": _describe_output(trained, preprocessing, t.shape),
        "preprocessing": json.dumps(steps) if preprocessing else "not included",
    }
    if trained.class_names:
        props["class_names"] = json.dumps(list(trained.class_names))
    if trained.feature_names:
        props["feature_names"] = json.dumps(list(trained.feature_names))
    if trained.path is not None:
        props["source"] = str(trained.path)
    helper.set_model_props(model, props)
    onnx.checker.check_model(model, full_check=True)
    result = ExportResult(
        Path(),
        opset,
        ir_version_for(opset),
        INPUT_NAME,
        (BATCH, *sample),
        output_name,
        (BATCH, *t.shape),
        steps,
        preprocessing,
    )
    return model, result


def _describe_output(trained: TrainedModel, preprocessing: bool, shape: tuple) -> str:
    if not preprocessing:
        return "the network's outputs, as Sequential.predict returns them (no preprocessing)"
    if trained.task == "regression":
        return "predicted values in the targets' units, as nablanet predict reports them"
    if shape == (1,):
        names = trained.class_names or ["0", "1"]
        return f"probability of class {names[-1]!r} (the other class: 1 - p)"
    return "class probabilities, one column per class of class_names"


def build_onnx(
    model: str | Path | TrainedModel | nn.Sequential,
    *,
    preprocessing: bool = True,
    opset: int = DEFAULT_OPSET,
    input_shape: tuple[int, ...] | None = None,
):
    """The ONNX graph of a model, checked with ``onnx.checker.check_model(full_check=True)``.

    Parameters are those of :func:`export_onnx`; returns an ``onnx.ModelProto`` (nothing is
    written).

    Raises
    ------
    ExportError
        A layer, activation or preprocessing step that cannot be exported (named), an opset out
        of range, a missing ``onnx`` package.
    """
    opset = _check_opset(opset)
    return _build(_as_trained(model, input_shape), bool(preprocessing), opset)[0]


def export_onnx(
    model: str | Path | TrainedModel | nn.Sequential,
    path: str | Path,
    *,
    preprocessing: bool = True,
    opset: int = DEFAULT_OPSET,
    input_shape: tuple[int, ...] | None = None,
    overwrite: bool = False,
) -> ExportResult:
    """Write a model as an ONNX file that runs in onnxruntime (and every other ONNX runtime).

    Parameters
    ----------
    model : path of a model file (``runs/<run>/model.npz``), a run directory, a
        :class:`TrainedModel` or a :class:`nablanet.nn.Sequential` (its ``metadata``, when the
        pipeline trained it, carries the preprocessing)
    path : where the ``.onnx`` file goes
    preprocessing : bool
        Put the fitted preprocessing (and the inverse of the regression targets' scaling) in the
        graph, so that it takes raw samples and returns what ``predict`` reports. ``False``
        exports the bare network.
    opset : int
        ONNX opset, ``MIN_OPSET`` (14) to ``MAX_OPSET`` (21); default 17, written with IR
        version 8 (onnxruntime 1.12 and later load it).
    input_shape : tuple of int, optional
        One raw sample's shape, for a model that does not record it.
    overwrite : bool
        Replace an existing file (by default an existing file is an error: nothing you saved is
        overwritten).

    Returns
    -------
    ExportResult

    Raises
    ------
    ExportError
        See :func:`build_onnx`; also an existing ``path`` without ``overwrite``, or ``path``
        being the model file itself.
    """
    path = Path(path)
    trained = _as_trained(model, input_shape)
    if trained.path is not None and path.exists() and path.resolve() == trained.path.resolve():
        raise ExportError(f"{path}: is the model file being exported; choose another output path")
    if path.exists() and not overwrite:
        raise ExportError(f"{path}: exists already (pass --force / overwrite=True to replace it)")
    if path.is_dir():
        raise ExportError(f"{path}: is a directory; give the path of the .onnx file to write")
    onnx_model, result = _build(trained, bool(preprocessing), _check_opset(opset))
    path.parent.mkdir(parents=True, exist_ok=True)
    data = onnx_model.SerializeToString()
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)  # a crash never leaves a half-written file under the real name
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    result.path = path
    return result
