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

    Two ways to call it, both documented and both kept:

    - ``Dense(n_inputs, n_neurons, activation=None, ...)``: input and output sizes, built at once
      (the form of *Neural Networks from Scratch* and PyTorch's ``nn.Linear``);
    - ``Dense(units, activation=None, ...)`` (Keras): only the output size, also as
      ``Dense(units=32)`` or ``Dense(32, "relu")``; the input size comes from ``input_dim=`` /
      ``input_shape=(n,)``, or from the first batch the layer sees (a *deferred build*: see
      :meth:`build`, ``Sequential.build((None, n_features))``).

    Parameters
    ----------
    n_inputs : int, optional
        Number of input features (``None``: taken from the data at the first use).
    n_neurons : int
        Number of neurons (output features); ``units`` is the same argument, by its Keras name.
    activation : str or Activation, optional
        ``"relu"``, ``"sigmoid"``, ``"softmax"``, ... ``None`` means linear.
    weight_initializer, bias_initializer : str or dict
        Names from :mod:`nablanet.nn.initializers`, or a name with arguments such as
        ``{"name": "random_normal", "stddev": 0.01}``.
    weight_regularizer, bias_regularizer : Regularizer, optional
        ``L1``, ``L2`` or ``L1L2`` penalties.
    dtype : {"float32", "float64"}
    seed : int, optional
        Seed of the initializer's generator; by default derived from :func:`nablanet.set_seed`
        when the layer is *created* (so a deferred layer gets the same weights as the same layer
        given its input size at once).
    units, input_dim, input_shape : optional, keyword only
        Keras' names: ``units`` is ``n_neurons``, ``input_dim=n`` and ``input_shape=(n,)`` are
        ``n_inputs``. They are not part of ``get_config()`` (which holds ``n_inputs`` and
        ``n_neurons``).
    kernel_initializer, kernel_regularizer, use_bias : optional, keyword only
        Keras' names: ``kernel_*`` are ``weight_initializer`` / ``weight_regularizer``;
        ``use_bias=True`` is accepted (a ``Dense`` always has biases; ``False`` is refused).

    Attributes
    ----------
    weights : Parameter of shape (n_inputs, n_neurons)
    biases : Parameter of shape (n_neurons,)

    Input ``x`` has shape ``(n_samples, n_inputs)``; the output ``(n_samples, n_neurons)``.

    >>> layer = Dense(3, 2, activation="relu", seed=0)
    >>> layer.forward(np.ones((4, 3), dtype=np.float32)).shape
    (4, 2)
    >>> later = Dense(2, activation="relu", seed=0)        # Keras: 2 units, input size unknown
    >>> later.built, later.n_inputs
    (False, None)
    >>> later.forward(np.ones((4, 3), dtype=np.float32)).shape, later.n_inputs
    ((4, 2), 3)
    >>> bool((later.weights.value == layer.weights.value).all())
    True
    """

    def __init__(
        self,
        n_inputs: int | None = None,
        n_neurons: int | None = None,
        activation: str | dict | acts.Activation | None = None,
        weight_initializer: str | dict = "he_normal",
        bias_initializer: str | dict = "zeros",
        weight_regularizer: regs.Regularizer | dict | None = None,
        bias_regularizer: regs.Regularizer | dict | None = None,
        dtype: DTypeLike = "float32",
        seed: int | None = None,
        *,
        units: int | None = None,
        input_dim: int | None = None,
        input_shape: tuple | None = None,
        kernel_initializer: str | dict | None = None,
        kernel_regularizer: Any = None,
        use_bias: bool = True,
    ) -> None:
        n_inputs, n_neurons, activation = _resolve_dense_sizes(
            n_inputs, n_neurons, activation, units, input_dim, input_shape
        )
        if not use_bias:
            raise NablanetError(
                "Dense(use_bias=False) is not supported: a Dense layer always has biases "
                "(bias_initializer='zeros' starts them at 0)"
            )
        weight_initializer, weight_regularizer = keras_kernel_names(
            "Dense", weight_initializer, weight_regularizer, kernel_initializer, kernel_regularizer
        )
        self.n_inputs = (
            None if n_inputs is None else check_positive_int(n_inputs, "n_inputs", "Dense")
        )
        self.n_neurons = check_positive_int(n_neurons, "n_neurons", "Dense")
        self.activation = acts.deserialize(activation)
        self.weight_initializer = weight_initializer
        self.bias_initializer = bias_initializer
        inits.get(weight_initializer), inits.get(bias_initializer)  # bad names fail here, not later
        self.weight_regularizer = regs.deserialize(weight_regularizer)
        self.bias_regularizer = regs.deserialize(bias_regularizer)
        self.dtype = check_dtype(dtype, "Dense")
        self.seed = seed
        # drawn now, whether the weights are made now or at the build: the same global seed
        # gives a deferred layer the weights the eager one would have
        self._rng: Any = get_rng(seed)  # the initializers' generator, until build() uses it
        #: set to False by a model for its first layer: no gradient w.r.t. the input is needed
        self.input_grad = True
        self._x: Any = None
        if self.n_inputs is not None:
            self.build((self.n_inputs,))

    @property
    def built(self) -> bool:
        return "weights" in vars(self)

    def build(self, input_shape: tuple) -> None:
        """Create ``weights`` (n_inputs, n_neurons) and ``biases`` for inputs of shape
        ``(n_inputs,)`` (batch axis excluded); a no-op once built."""
        if self.built:
            return
        input_shape = tuple(input_shape)
        if len(input_shape) != 1:
            raise NablanetError(
                f"Dense expects flat inputs (n_samples, n_features), got input shape "
                f"{(None, *input_shape)}: put a Flatten() before it"
            )
        self.n_inputs = check_positive_int(input_shape[0], "n_inputs", "Dense")
        rng, self._rng = self._rng, None
        self.weights = Parameter(
            inits.get(self.weight_initializer)((self.n_inputs, self.n_neurons), rng, self.dtype),
            "weights",
        )
        self.biases = Parameter(
            inits.get(self.bias_initializer)((self.n_neurons,), rng, self.dtype), "biases"
        )

    def parameters(self) -> list[Parameter]:
        if "weights" not in vars(self):
            return []  # not built yet
        return [self.weights, self.biases]  # what the generic scan finds, without the scan

    def _check_input(self, x: np.ndarray) -> None:
        if self.n_inputs is None and x.ndim == 2:
            self.build(x.shape[1:])
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
        if self.n_inputs is None and len(input_shape) == 1:
            return (self.n_neurons,)
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


def _is_activation(value: Any) -> bool:
    if isinstance(value, acts.Activation):
        return True
    if not isinstance(value, (str, dict)):
        return False
    try:
        acts.deserialize(value)
    except NablanetError:
        return False
    return True


def _resolve_dense_sizes(
    n_inputs: Any,
    n_neurons: Any,
    activation: Any,
    units: int | None,
    input_dim: int | None,
    input_shape: tuple | None,
) -> tuple[Any, Any, Any]:
    """``(n_inputs or None, n_neurons, activation)`` from the PyTorch/NNFS form
    ``Dense(n_inputs, n_neurons)`` and the Keras forms ``Dense(units)``, ``Dense(32, "relu")``,
    ``units=``, ``input_dim=``, ``input_shape=``; one-line errors for contradictions."""
    if activation is None and _is_activation(n_neurons):
        # Dense(32, "relu"): Keras' second positional argument is the activation
        n_neurons, activation = None, n_neurons
    if units is not None:
        if n_neurons is not None:
            raise NablanetError(
                f"Dense got units={units!r} and n_neurons={n_neurons!r}: they are the same "
                "argument (the number of neurons); give one"
            )
        n_neurons = units
    elif n_neurons is None:
        if n_inputs is None:
            raise NablanetError(
                "Dense needs its number of neurons: Dense(units) (Keras, e.g. Dense(32, "
                "activation='relu')) or Dense(n_inputs, n_neurons)"
            )
        n_inputs, n_neurons = None, n_inputs  # Dense(32): Keras' one positional is units
    for name, given in (("input_dim", input_dim), ("input_shape", input_shape)):
        if given is None:
            continue
        if name == "input_shape":
            shape = tuple(given) if isinstance(given, (tuple, list)) else (given,)
            if len(shape) != 1:
                raise NablanetError(
                    f"Dense input_shape must be (n_features,), got {given!r}: put a Flatten() "
                    "first for images"
                )
            given = shape[0]
        if n_inputs is not None and n_inputs != given:
            raise NablanetError(
                f"Dense got n_inputs={n_inputs!r} and {name}={given!r}: they disagree"
            )
        n_inputs = given
    return n_inputs, n_neurons, activation


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


def keras_kernel_names(
    owner: str,
    weight_initializer: Any,
    weight_regularizer: Any,
    kernel_initializer: Any,
    kernel_regularizer: Any,
) -> tuple[Any, Any]:
    """Keras' ``kernel_initializer`` / ``kernel_regularizer`` as ``weight_initializer`` /
    ``weight_regularizer`` (one-line error when both spellings are given)."""
    if kernel_initializer is not None:
        if weight_initializer != "he_normal":
            raise NablanetError(
                f"{owner} got weight_initializer={weight_initializer!r} and "
                f"kernel_initializer={kernel_initializer!r}: the same argument; give one"
            )
        weight_initializer = kernel_initializer
    if kernel_regularizer is not None:
        if weight_regularizer is not None:
            raise NablanetError(
                f"{owner} got weight_regularizer and kernel_regularizer: the same argument; give one"
            )
        weight_regularizer = kernel_regularizer
    return weight_initializer, weight_regularizer
