"""The export itself: :func:`build_onnx` and :func:`export_onnx`, the opsets written, and the
checks around them.

A model (a model file, a run directory, a :class:`~nablanet.pipeline.trained.TrainedModel` or
a :class:`~nablanet.nn.Sequential`) becomes one graph: its fitted preprocessing (unless
``preprocessing=False``), each layer through the exporter of its exact class (checked against
the layer's own output shape), and the inverse of the regression targets' scaling. The graph is
checked with ``onnx.checker.check_model(full_check=True)`` and written to a temporary name,
then renamed, so a crash never leaves a half-written file.

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
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ... import __version__, nn
from ... import data as nd
from ..trained import TrainedModel, load_trained_model, trained_from_sequential
from . import layers as _layers  # noqa: F401 (registers the layer and activation exporters)
from .graph import BATCH, INPUT_NAME, ExportError, GraphBuilder, Tensor, import_onnx
from .preprocessing import step_names
from .registry import export_inverse, export_preprocessing, find_layer_exporter

__all__ = [
    "DEFAULT_OPSET",
    "MAX_OPSET",
    "MIN_OPSET",
    "ExportResult",
    "build_onnx",
    "export_onnx",
    "ir_version_for",
]

#: the opset written by default: onnxruntime has read it since 1.12 (2022)
DEFAULT_OPSET = 17
#: the opsets the exporter writes (every operator used means the same in all of them). Not 13:
#: its BatchNormalization-9 has no training_mode attribute, and onnx.reference (1.23) then
#: takes the default momentum for training mode and normalizes with the batch's statistics
MIN_OPSET, MAX_OPSET = 14, 21


def ir_version_for(opset: int) -> int:
    """The oldest ONNX IR version that can carry ``opset`` (8 up to opset 18).

    >>> ir_version_for(17), ir_version_for(19), ir_version_for(21)
    (8, 9, 10)
    """
    return 8 if opset <= 18 else 9 if opset <= 20 else 10


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
    input_shape: tuple[str | int, ...]
    output_name: str
    output_shape: tuple[str | int, ...]
    preprocessing: list[str] = field(default_factory=list)
    included_preprocessing: bool = True

    def summary(self) -> str:
        def dims(shape: tuple[str | int, ...]) -> str:
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


def _as_trained(
    model: str | os.PathLike[str] | TrainedModel | nn.Sequential,
    input_shape: Sequence[int] | None,
) -> TrainedModel:
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
        first: Any = trained.model.layers[0]
        return (first.n_inputs,) if getattr(first, "n_inputs", None) is not None else ()


def _check_opset(opset: object) -> int:
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


def _build(trained: TrainedModel, preprocessing: bool, opset: int) -> tuple[Any, ExportResult]:
    onnx = import_onnx()
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
        t = export_preprocessing(g, trained.preprocessing, t, "preprocessing")
        steps = step_names(trained.preprocessing)
    for i, layer in enumerate(net.layers):
        name = f"layers.{i}"
        func = find_layer_exporter(layer, name)
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
            t = export_inverse(g, trained.target_preprocessing, t, "target_preprocessing")
            steps.append(f"{'+'.join(step_names(trained.target_preprocessing))} (inverse, targets)")
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


def _describe_output(trained: TrainedModel, preprocessing: bool, shape: tuple[int, ...]) -> str:
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
) -> Any:
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
