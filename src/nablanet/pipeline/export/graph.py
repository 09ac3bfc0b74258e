"""The ONNX graph under construction: :class:`GraphBuilder`, the values it holds, and the
helpers every exporter uses.

A :class:`Tensor` is a value of the graph: its name, one sample's shape in nablanet's terms
(NHWC for images) and how it is laid out in the graph. :class:`GraphBuilder` collects the nodes
and initializers of one graph with unique names and moves images between nablanet's NHWC and
ONNX's NCHW (:meth:`GraphBuilder.to_nchw`, :meth:`GraphBuilder.to_nhwc`).
:func:`feature_constant` and :func:`apply_op` are what a preprocessing exporter is written with.

``onnx`` is imported only when a graph is built (:func:`import_onnx`).

>>> Tensor("input", (28, 28, 1)).is_image, Tensor("input", (30,)).layout
(True, 'nhwc')
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import PipelineError

__all__ = [
    "BATCH",
    "INPUT_NAME",
    "ExportError",
    "GraphBuilder",
    "Tensor",
    "apply_op",
    "feature_constant",
    "import_onnx",
]

#: the batch dimension's symbolic name
BATCH = "batch"
INPUT_NAME = "input"


class ExportError(PipelineError):
    """A model (or a part of it) that cannot be exported, or a file that would be overwritten.

    The CLI prints it as one line and exits with status 2.

    >>> issubclass(ExportError, PipelineError)
    True
    """


def import_onnx() -> Any:
    """The ``onnx`` module, or an :class:`ExportError` saying how to install it."""
    try:
        import onnx
    except ImportError:
        raise ExportError(
            "ONNX export needs the onnx package: pip install 'nablanet[onnx]'"
        ) from None
    return onnx


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
        self._onnx = import_onnx()

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

    def node(self, op: str, inputs: list[str], hint: str, **attrs: Any) -> str:
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


def feature_constant(g: GraphBuilder, value: Any, t: Tensor, hint: str, owner: str) -> str:
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
