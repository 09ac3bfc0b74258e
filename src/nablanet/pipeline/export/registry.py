"""The four dispatch tables of the exporter, the decorators that fill them, and the lookups.

Layers (``LAYER_EXPORTERS``), activations (``ACTIVATION_EXPORTERS``), fitted preprocessing
transformers (``PREPROCESSING_EXPORTERS``) and the inverse of the regression targets' scaler
(``INVERSE_EXPORTERS``) are each a table keyed by the *exact* class. A class that is not in its
table is refused with an error naming it and the supported classes: nothing is skipped or
guessed, and a subclass with other semantics is not taken for its parent.

This is the one place to register an exporter: a new layer gets a function decorated with
``@layer_exporter(TheLayer)`` (in :mod:`~nablanet.pipeline.export.layers`), a new transformer
one decorated with ``@preprocessing_exporter(TheTransformer)`` (and ``@inverse_exporter`` if it
can scale regression targets; in :mod:`~nablanet.pipeline.export.preprocessing`). Each is
``func(graph, obj, tensor, name) -> tensor``.

>>> class Doubler:  # any class; real exporters register nablanet's layers and transformers
...     pass
>>> @preprocessing_exporter(Doubler)
... def _doubler(g, s, t, name):
...     return t
>>> PREPROCESSING_EXPORTERS[Doubler] is _doubler
True
>>> del PREPROCESSING_EXPORTERS[Doubler]
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from ... import nn
from ...nn.layers import activations as acts
from .graph import ExportError, GraphBuilder, Tensor

__all__ = [
    "ACTIVATION_EXPORTERS",
    "INVERSE_EXPORTERS",
    "LAYER_EXPORTERS",
    "PREPROCESSING_EXPORTERS",
    "activation_exporter",
    "export_activation",
    "export_inverse",
    "export_preprocessing",
    "find_layer_exporter",
    "inverse_exporter",
    "layer_exporter",
    "preprocessing_exporter",
]

#: ``func(graph, obj, tensor, name) -> tensor``; ``obj`` is an instance of the registered class
Exporter = Callable[[GraphBuilder, Any, Tensor, str], Tensor]
LayerExporter = Exporter
LAYER_EXPORTERS: dict[type, Exporter] = {}
ACTIVATION_EXPORTERS: dict[type, Exporter] = {}
PREPROCESSING_EXPORTERS: dict[type, Exporter] = {}
INVERSE_EXPORTERS: dict[type, Exporter] = {}

E = TypeVar("E", bound=Exporter)


def _register(table: dict[type, Exporter], *classes: type) -> Callable[[E], E]:
    def decorate(func: E) -> E:
        for cls in classes:
            table[cls] = func
        return func

    return decorate


def layer_exporter(*classes: type) -> Callable[[E], E]:
    """Register the ONNX export of layer classes: ``func(graph, layer, tensor, name) -> tensor``."""
    return _register(LAYER_EXPORTERS, *classes)


def preprocessing_exporter(*classes: type) -> Callable[[E], E]:
    """Register the ONNX export of a fitted transformer's ``transform``:
    ``func(graph, transformer, tensor, name) -> tensor`` (``tensor`` holds the raw samples as
    nablanet holds them: NHWC for images)."""
    return _register(PREPROCESSING_EXPORTERS, *classes)


def inverse_exporter(*classes: type) -> Callable[[E], E]:
    """Register the ONNX export of a fitted transformer's ``inverse_transform`` (the regression
    targets' scaler, applied to the network's outputs)."""
    return _register(INVERSE_EXPORTERS, *classes)


def activation_exporter(*classes: type) -> Callable[[E], E]:
    """Register the ONNX export of activation classes: ``func(graph, activation, tensor, name)
    -> tensor`` (used for a layer's ``activation=`` and for the activation layers alike)."""
    return _register(ACTIVATION_EXPORTERS, *classes)


def _known(table: dict[type, Exporter]) -> str:
    return ", ".join(sorted(cls.__name__ for cls in table))


def find_layer_exporter(layer: nn.Layer, name: str) -> LayerExporter:
    """The exporter of ``layer``'s exact class, or an :class:`ExportError` naming it."""
    func = LAYER_EXPORTERS.get(type(layer))
    if func is None:
        raise ExportError(
            f"{name}: the layer {type(layer).__name__} cannot be exported to ONNX "
            f"(supported: {_known(LAYER_EXPORTERS)})"
        )
    return func


def export_activation(g: GraphBuilder, act: acts.Activation, t: Tensor, name: str) -> Tensor:
    """``act`` applied to ``t`` in the graph, by the exporter of its exact class."""
    func = ACTIVATION_EXPORTERS.get(type(act))
    if func is None:
        raise ExportError(
            f"{name}: the activation {type(act).__name__} cannot be exported to ONNX "
            f"(supported: {_known(ACTIVATION_EXPORTERS)})"
        )
    return func(g, act, t, name)


def export_preprocessing(g: GraphBuilder, transformer: Any, t: Tensor, name: str) -> Tensor:
    """A fitted transformer's ``transform`` applied to ``t`` in the graph."""
    func = PREPROCESSING_EXPORTERS.get(type(transformer))
    if func is None:
        raise ExportError(
            f"{name}: the preprocessing step {type(transformer).__name__} cannot be exported to "
            f"ONNX (supported: {_known(PREPROCESSING_EXPORTERS)}); export the bare network with "
            "--no-preprocessing (preprocessing=False) and apply it yourself"
        )
    return func(g, transformer, t, name)


def export_inverse(g: GraphBuilder, transformer: Any, t: Tensor, name: str) -> Tensor:
    """A fitted transformer's ``inverse_transform`` applied to ``t`` in the graph."""
    func = INVERSE_EXPORTERS.get(type(transformer))
    if func is None:
        raise ExportError(
            f"{name}: the target scaler {type(transformer).__name__} cannot be exported to ONNX "
            f"(supported: {_known(INVERSE_EXPORTERS)}); export with --no-preprocessing "
            "(preprocessing=False) and scale the outputs back yourself"
        )
    return func(g, transformer, t, name)
