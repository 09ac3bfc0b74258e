"""Fully connected layers: ``Dense`` (many neurons, vectorised) and ``Neuron`` (one, for teaching)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import DTypeLike

from .. import initializers as inits
from .. import regularizers as regs
from .._validation import check_dtype, check_positive_int
from ..errors import NablanetError
from ..parameter import Parameter
from ..plan import LogitsLossStep, runs_own_methods
from ..random import get_rng
from . import activations as acts
from .base import Layer

if TYPE_CHECKING:  # pragma: no cover
    from ..losses import Loss
    from ..plan import OutputStep


class Dense(Layer):
    """A fully connected layer: ``y = activation(x @ weights + biases)``.

    Parameters
    ----------
    n_inputs : int
        Number of input features.
    n_neurons : int
        Number of neurons (output features).
    activation : str or Activation, optional
        ``"relu"``, ``"sigmoid"``, ``"softmax"``, ... ``None`` means linear.
    weight_initializer, bias_initializer : str or dict
        Names from :mod:`nablanet.nn.initializers`, or a name with arguments such as
        ``{"name": "random_normal", "stddev": 0.01}``.
    weight_regularizer, bias_regularizer : Regularizer, optional
        ``L1``, ``L2`` or ``L1L2`` penalties.
    dtype : {"float32", "float64"}
    seed : int, optional
        Seed of the initializer's generator; by default derived from :func:`nablanet.set_seed`.

    Attributes
    ----------
    weights : Parameter of shape (n_inputs, n_neurons)
    biases : Parameter of shape (n_neurons,)

    Input ``x`` has shape ``(n_samples, n_inputs)``; the output ``(n_samples, n_neurons)``.

    >>> layer = Dense(3, 2, activation="relu", seed=0)
    >>> layer.forward(np.ones((4, 3), dtype=np.float32)).shape
    (4, 2)
    """

    def __init__(
        self,
        n_inputs: int,
        n_neurons: int,
        activation: str | dict | acts.Activation | None = None,
        weight_initializer: str | dict = "he_normal",
        bias_initializer: str | dict = "zeros",
        weight_regularizer: regs.Regularizer | dict | None = None,
        bias_regularizer: regs.Regularizer | dict | None = None,
        dtype: DTypeLike = "float32",
        seed: int | None = None,
    ) -> None:
        self.n_inputs = check_positive_int(n_inputs, "n_inputs", "Dense")
        self.n_neurons = check_positive_int(n_neurons, "n_neurons", "Dense")
        self.activation = acts.deserialize(activation)
        self.weight_initializer = weight_initializer
        self.bias_initializer = bias_initializer
        self.weight_regularizer = regs.deserialize(weight_regularizer)
        self.bias_regularizer = regs.deserialize(bias_regularizer)
        self.dtype = check_dtype(dtype, "Dense")
        self.seed = seed
        rng = get_rng(seed)
        self.weights = Parameter(
            inits.get(weight_initializer)((self.n_inputs, self.n_neurons), rng, self.dtype),
            "weights",
        )
        self.biases = Parameter(
            inits.get(bias_initializer)((self.n_neurons,), rng, self.dtype), "biases"
        )
        #: set to False by a model for its first layer: no gradient w.r.t. the input is needed
        self.input_grad = True
        self._x: Any = None

    def parameters(self) -> list[Parameter]:
        return [self.weights, self.biases]  # what the generic scan finds, without the scan

    def _check_input(self, x: np.ndarray) -> None:
        if x.ndim != 2 or x.shape[1] != self.n_inputs:
            raise NablanetError(
                f"Dense expected input with {self.n_inputs} features, got array of shape {x.shape}"
            )

    def forward_linear(self, x: np.ndarray, training: bool = False) -> np.ndarray:
        """The pre-activation ``z = x @ W + b`` (the logits of an output layer)."""
        self._check_input(x)
        if training:
            self._x = x
        z = x @ self.weights.value
        z += self.biases.value
        return z

    def forward(self, x: np.ndarray, training: bool = False) -> np.ndarray:
        # z is this layer's own fresh array: the activation may overwrite it
        return self.activation.forward_owned(self.forward_linear(x, training), training)

    def backward_linear(self, grad_z: np.ndarray) -> np.ndarray | None:
        """Backward from ``dL/dz`` (skipping the activation)."""
        x = self._x
        w, b = self.weights, self.biases
        # a fresh gradient (just zeroed) is written in place: no temporary, no extra pass
        if w.fresh:
            np.matmul(x.T, grad_z, out=w._grad)
            w.fresh = False
        else:
            w._grad += x.T @ grad_z
        if b.fresh:
            np.sum(grad_z, axis=0, out=b._grad)
            b.fresh = False
        else:
            b._grad += grad_z.sum(axis=0)
        if self.weight_regularizer is not None:
            self.weight_regularizer.add_gradient(self.weights.value, self.weights.grad)
        if self.bias_regularizer is not None:
            self.bias_regularizer.add_gradient(self.biases.value, self.biases.grad)
        if not self.input_grad:
            return None
        return grad_z @ self.weights.value.T

    def backward(self, grad: np.ndarray) -> np.ndarray | None:
        return self.backward_linear(self.activation.backward(grad))

    def fuse_with_loss(self, loss: Loss) -> OutputStep | None:
        """With a softmax (sigmoid) activation and categorical (binary) cross-entropy: the fused
        loss on the logits ``forward_linear`` returns; the activation never runs in training."""
        fused = loss.fused_with(self.activation)
        if fused is None or not runs_own_methods(self, Dense):
            return None
        return LogitsLossStep(self, fused)

    def regularization_loss(self) -> float:
        total = 0.0
        if self.weight_regularizer is not None:
            total += self.weight_regularizer.penalty(self.weights.value)
        if self.bias_regularizer is not None:
            total += self.bias_regularizer.penalty(self.biases.value)
        return total

    def compute_output_shape(self, input_shape: tuple[int, ...]) -> tuple[int, ...]:
        if len(input_shape) != 1 or input_shape[0] != self.n_inputs:
            raise NablanetError(
                f"Dense expected input with {self.n_inputs} features, got shape {tuple(input_shape)}"
            )
        return (self.n_neurons,)

    def get_config(self) -> dict[str, Any]:
        return {
            "n_inputs": self.n_inputs,
            "n_neurons": self.n_neurons,
            "activation": acts.serialize(self.activation),
            "weight_initializer": self.weight_initializer,
            "bias_initializer": self.bias_initializer,
            "weight_regularizer": regs.serialize(self.weight_regularizer),
            "bias_regularizer": regs.serialize(self.bias_regularizer),
            "dtype": self.dtype.name,
            "seed": self.seed,
        }


class Neuron(Layer):
    """One artificial neuron: ``y = activation(x . w + b)``: the teaching piece.

    ``weights`` has shape ``(n_inputs,)`` and ``bias`` is a scalar (shape ``()``). Input
    ``(n_samples, n_inputs)``, output ``(n_samples, 1)`` so it can close a ``Sequential`` (a
    logistic regression is ``Sequential([Neuron(30, "sigmoid")])``). ``Dense`` is the same
    computation for many neurons at once.

    >>> n = Neuron(2, activation="sigmoid", seed=0)
    >>> n.weights.value[:] = [1.0, -1.0]
    >>> n.forward(np.array([[2.0, 2.0]], dtype=np.float32)).tolist()
    [[0.5]]
    """

    def __init__(
        self,
        n_inputs: int,
        activation: str | dict | acts.Activation | None = None,
        weight_initializer: str = "xavier_uniform",
        dtype: DTypeLike = "float32",
        seed: int | None = None,
    ) -> None:
        self.n_inputs = check_positive_int(n_inputs, "n_inputs", "Neuron")
        self.activation = acts.deserialize(activation)
        self.weight_initializer = weight_initializer
        self.dtype = check_dtype(dtype, "Neuron")
        self.seed = seed
        rng = get_rng(seed)
        # fan-in n_inputs, fan-out 1
        w = inits.get(weight_initializer)((self.n_inputs, 1), rng, self.dtype)
        self.weights = Parameter(w[:, 0].copy(), "weights")
        self.bias = Parameter(np.zeros((), dtype=self.dtype), "bias")
        self._x: Any = None

    def forward(self, x: np.ndarray, training: bool = False) -> np.ndarray:
        if x.ndim != 2 or x.shape[1] != self.n_inputs:
            raise NablanetError(
                f"Neuron expected input with {self.n_inputs} features, got array of shape {x.shape}"
            )
        if training:
            self._x = x
        # weighted sum of the inputs plus the bias, one number per sample
        z = (x @ self.weights.value + self.bias.value)[:, None]
        return self.activation.forward(z, training)

    def backward(self, grad: np.ndarray) -> np.ndarray:
        grad_z = self.activation.backward(grad)[:, 0]  # dL/dz, one per sample
        self.weights.grad += self._x.T @ grad_z  # dz/dw = x
        self.bias.grad += grad_z.sum()  # dz/db = 1
        return np.outer(grad_z, self.weights.value)  # dz/dx = w

    def compute_output_shape(self, input_shape: tuple[int, ...]) -> tuple[int, ...]:
        return (1,)

    def get_config(self) -> dict[str, Any]:
        return {
            "n_inputs": self.n_inputs,
            "activation": acts.serialize(self.activation),
            "weight_initializer": self.weight_initializer,
            "dtype": self.dtype.name,
            "seed": self.seed,
        }
