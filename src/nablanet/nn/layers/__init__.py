"""Layers of the library."""

from .activations import Activation, LeakyReLU, Linear, ReLU, Sigmoid, Softmax, Tanh
from .base import LAYER_REGISTRY, Layer, layer_from_config, serialize_layer
from .dense import Dense, Neuron
from .dropout import Dropout

__all__ = [
    "LAYER_REGISTRY",
    "Activation",
    "Dense",
    "Dropout",
    "Layer",
    "LeakyReLU",
    "Linear",
    "Neuron",
    "ReLU",
    "Sigmoid",
    "Softmax",
    "Tanh",
    "layer_from_config",
    "serialize_layer",
]
