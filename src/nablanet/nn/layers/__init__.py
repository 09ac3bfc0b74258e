"""Layers of the library."""

from .activations import Activation, LeakyReLU, Linear, ReLU, Sigmoid, Softmax, Tanh
from .augmentation import RandomCrop, RandomFlip, RandomTranslation
from .base import LAYER_REGISTRY, Layer, layer_from_config, serialize_layer
from .conv import Conv2D
from .dense import Dense, Neuron
from .dropout import Dropout
from .normalization import BatchNormalization
from .pooling import AvgPool2D, GlobalAveragePooling2D, MaxPool2D
from .reshape import Flatten, Reshape

# Keras' names of the pooling layers (the same classes)
MaxPooling2D = MaxPool2D
AveragePooling2D = AvgPool2D

__all__ = [
    "LAYER_REGISTRY",
    "Activation",
    "AveragePooling2D",
    "AvgPool2D",
    "BatchNormalization",
    "Conv2D",
    "Dense",
    "Dropout",
    "Flatten",
    "GlobalAveragePooling2D",
    "Layer",
    "LeakyReLU",
    "Linear",
    "MaxPool2D",
    "MaxPooling2D",
    "Neuron",
    "RandomCrop",
    "RandomFlip",
    "RandomTranslation",
    "ReLU",
    "Reshape",
    "Sigmoid",
    "Softmax",
    "Tanh",
    "layer_from_config",
    "serialize_layer",
]
