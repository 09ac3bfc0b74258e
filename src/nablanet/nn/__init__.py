"""``nablanet.nn``: the library. NumPy and the standard library only."""

from . import initializers, losses, optimizers, regularizers, schedulers
from ._validation import NablanetError
from .callbacks import (
    Callback,
    EarlyStopping,
    History,
    LambdaCallback,
    ModelCheckpoint,
    TerminateOnNaN,
)
from .gradcheck import gradcheck_layer, gradcheck_loss, gradcheck_model, numerical_gradient
from .layers import (
    Activation,
    Dense,
    Dropout,
    Layer,
    LeakyReLU,
    Linear,
    Neuron,
    ReLU,
    Sigmoid,
    Softmax,
    Tanh,
)
from .losses import (
    BinaryCrossentropy,
    CategoricalCrossentropy,
    Loss,
    MeanAbsoluteError,
    MeanSquaredError,
    SigmoidBinaryCrossentropy,
    SoftmaxCrossEntropy,
)
from .model import Sequential, load_model
from .optimizers import SGD, Adagrad, Adam, Optimizer, RMSprop
from .parameter import Parameter
from .random import get_rng, set_seed
from .regularizers import L1, L1L2, L2, Regularizer
from .schedulers import CosineAnnealing, ExponentialDecay, Scheduler, StepDecay
from .serialization import ModelFileError, load_checkpoint, save_checkpoint
from .trainer import Trainer

__all__ = [
    "L1",
    "L1L2",
    "L2",
    "SGD",
    "Activation",
    "Adagrad",
    "Adam",
    "BinaryCrossentropy",
    "Callback",
    "CategoricalCrossentropy",
    "CosineAnnealing",
    "Dense",
    "Dropout",
    "EarlyStopping",
    "ExponentialDecay",
    "History",
    "LambdaCallback",
    "Layer",
    "LeakyReLU",
    "Linear",
    "Loss",
    "MeanAbsoluteError",
    "MeanSquaredError",
    "ModelCheckpoint",
    "ModelFileError",
    "NablanetError",
    "Neuron",
    "Optimizer",
    "Parameter",
    "RMSprop",
    "ReLU",
    "Regularizer",
    "Scheduler",
    "Sequential",
    "Sigmoid",
    "SigmoidBinaryCrossentropy",
    "Softmax",
    "SoftmaxCrossEntropy",
    "StepDecay",
    "Tanh",
    "TerminateOnNaN",
    "Trainer",
    "get_rng",
    "gradcheck_layer",
    "gradcheck_loss",
    "gradcheck_model",
    "initializers",
    "load_checkpoint",
    "load_model",
    "losses",
    "numerical_gradient",
    "optimizers",
    "regularizers",
    "save_checkpoint",
    "schedulers",
    "set_seed",
]
