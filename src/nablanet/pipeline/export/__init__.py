"""ONNX export: a trained model, its fitted preprocessing included, as one ONNX graph.

The exported graph takes exactly the raw ``float32`` samples that ``nablanet predict`` reads
(``(N, n_features)`` rows, ``(N, H, W, C)`` images of raw pixel values, the batch dimension
dynamic) and returns what ``predict`` reports: class probabilities ``(N, C)`` for a softmax
model, the probability of the second class ``(N, 1)`` for a sigmoid binary model, values in
the targets' own units for a regression. ``preprocessing=False`` exports the bare network
(inputs as the network sees them, outputs as ``Sequential.predict`` returns them).

The package, one concept per module:

- :mod:`~nablanet.pipeline.export.driver`: :func:`export_onnx` / :func:`build_onnx`, the
  opsets, the model-level checks and the file written;
- :mod:`~nablanet.pipeline.export.registry`: the dispatch tables keyed by the exact class
  (layers, activations, preprocessing transformers, the targets' inverse scaling) and the
  decorators that fill them, ``@layer_exporter``, ``@activation_exporter``,
  ``@preprocessing_exporter``, ``@inverse_exporter``: the one place exporters are registered;
- :mod:`~nablanet.pipeline.export.graph`: :class:`GraphBuilder`, :class:`Tensor`, the NHWC/NCHW
  layout and the helpers exporters are written with;
- :mod:`~nablanet.pipeline.export.layers` and :mod:`~nablanet.pipeline.export.preprocessing`:
  the exporters themselves.

A class that is not in its table is refused with an error naming it: nothing is skipped or
guessed, and a subclass with other semantics is not taken for its parent. Supporting a new
transformer is one function decorated with ``@preprocessing_exporter(TheClass)``.

``onnx`` is imported only inside the functions that build or write a graph
(``pip install "nablanet[onnx]"``); importing this package needs NumPy only.

>>> from nablanet.pipeline.export import DEFAULT_OPSET, MIN_OPSET, MAX_OPSET
>>> DEFAULT_OPSET, MIN_OPSET, MAX_OPSET
(17, 14, 21)
"""

from .driver import (
    DEFAULT_OPSET,
    MAX_OPSET,
    MIN_OPSET,
    ExportResult,
    build_onnx,
    export_onnx,
    ir_version_for,
)
from .graph import ExportError, GraphBuilder, Tensor, apply_op, feature_constant
from .registry import activation_exporter, inverse_exporter, layer_exporter, preprocessing_exporter

__all__ = [
    "DEFAULT_OPSET",
    "MAX_OPSET",
    "MIN_OPSET",
    "ExportError",
    "ExportResult",
    "GraphBuilder",
    "Tensor",
    "activation_exporter",
    "apply_op",
    "build_onnx",
    "export_onnx",
    "feature_constant",
    "inverse_exporter",
    "ir_version_for",
    "layer_exporter",
    "preprocessing_exporter",
]
