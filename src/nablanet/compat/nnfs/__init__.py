"""The names of *Neural Networks from Scratch in Python* (Kinsley & Kukieła) on nablanet.

A script written against the book's final ``Model`` (chapters 19-22) runs with one import
changed, ``from nablanet.compat.nnfs import *``. Each name builds nablanet objects and nothing
more: ``Layer_Dense`` is a :class:`~nablanet.nn.Dense` (with the book's ``0.01 * randn``
weights), ``Optimizer_Adam(decay=...)`` an :class:`~nablanet.nn.Adam` plus an
:class:`~nablanet.nn.InverseTimeDecay`, and ``Model.train`` is ``Sequential.fit`` with a callback
that prints the book's progress lines. No forward pass, gradient or update is computed here.
docs/from-nnfs.md maps every name and lists the differences (float32, no pickle).

>>> import numpy as np
>>> import nablanet as nb
>>> nb.set_seed(0)
>>> X = np.random.default_rng(0).standard_normal((90, 2))
>>> y = (X[:, 0] > 0).astype(int) + (X[:, 1] > 0).astype(int)        # 3 classes
>>> model = Model()
>>> model.add(Layer_Dense(2, 32))
>>> model.add(Activation_ReLU())
>>> model.add(Layer_Dense(32, 3))
>>> model.add(Activation_Softmax())
>>> model.set(loss=Loss_CategoricalCrossentropy(), optimizer=Optimizer_Adam(learning_rate=0.05,
...           decay=1e-3), accuracy=Accuracy_Categorical())
>>> model.finalize()
>>> history = model.train(X, y, epochs=2, print_every=100)
epoch: 1
step: 0, acc: ..., loss: 1.099 (data_loss: 1.099, reg_loss: 0.000), lr: 0.05
training, acc: ..., loss: 1.099 (data_loss: 1.099, reg_loss: 0.000), lr: 0.05
epoch: 2
step: 0, acc: ... (data_loss: ..., reg_loss: 0.000), lr: 0.04995004995004996
training, acc: ... (data_loss: ..., reg_loss: 0.000), lr: 0.04995004995004996
>>> model.predict(X[:2]).shape
(2, 3)
"""

from .accuracy import Accuracy, Accuracy_Categorical, Accuracy_Regression
from .layers import (
    BOOK_WEIGHT_INITIALIZER,
    Activation_Linear,
    Activation_ReLU,
    Activation_Sigmoid,
    Activation_Softmax,
    Activation_Softmax_Loss_CategoricalCrossentropy,
    Layer_Dense,
    Layer_Dropout,
    Layer_Input,
    Loss_BinaryCrossentropy,
    Loss_CategoricalCrossentropy,
    Loss_MeanAbsoluteError,
    Loss_MeanSquaredError,
)
from .model import Model
from .optimizers import Optimizer_Adagrad, Optimizer_Adam, Optimizer_RMSprop, Optimizer_SGD

__all__ = [
    "BOOK_WEIGHT_INITIALIZER",
    "Accuracy",
    "Accuracy_Categorical",
    "Accuracy_Regression",
    "Activation_Linear",
    "Activation_ReLU",
    "Activation_Sigmoid",
    "Activation_Softmax",
    "Activation_Softmax_Loss_CategoricalCrossentropy",
    "Layer_Dense",
    "Layer_Dropout",
    "Layer_Input",
    "Loss_BinaryCrossentropy",
    "Loss_CategoricalCrossentropy",
    "Loss_MeanAbsoluteError",
    "Loss_MeanSquaredError",
    "Model",
    "Optimizer_Adagrad",
    "Optimizer_Adam",
    "Optimizer_RMSprop",
    "Optimizer_SGD",
]
