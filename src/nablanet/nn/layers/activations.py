"""Activation functions, as layers and as the ``activation=`` argument of ``Dense``.

Each activation caches what its backward needs during ``forward(..., training=True)``.

>>> Softmax().forward(np.array([[1e4, -1e4, 0.0]])).round(3).tolist()
[[1.0, 0.0, 0.0]]
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from .._validation import check_nonnegative_float
from ..errors import NablanetError
from ..plan import ActivationLossStep
from .base import Layer

if TYPE_CHECKING:  # pragma: no cover
    from ..losses import Loss
    from ..plan import OutputStep


class Activation(Layer):
    """Base of element-wise (and softmax) activations. ``name`` is the registry key.

    As Keras' ``layers.Activation("relu")``, ``Activation(name)`` is the activation of that
    name (here a ``ReLU``; a dict such as ``{"name": "leaky_relu", "alpha": 0.2}`` too).

    >>> relu = get("relu")
    >>> isinstance(relu, Activation), relu.name, serialize(LeakyReLU(0.2))
    (True, 'relu', {'name': 'leaky_relu', 'alpha': 0.2})
    >>> Activation("tanh")
    Tanh()
    """

    name: str = ""

    def __init__(self, activation: Any = None) -> None:
        self._y: Any = None
        self._x: Any = None
        if activation is not None:
            if type(self) is not Activation:
                raise NablanetError(
                    f"{type(self).__name__} takes no activation name; write Activation("
                    f"{activation!r}) or {type(self).__name__}()"
                )
            # Keras' Activation("relu"): become that activation (same layer, its own class, so
            # files, exporters and the fused paths see a ReLU)
            chosen = deserialize(activation)
            self.__class__ = type(chosen)
            self.__dict__.update(vars(chosen))

    def backward(self, grad: np.ndarray) -> np.ndarray:  # an activation always returns one
        raise NotImplementedError(f"{type(self).__name__} does not implement backward")

    def forward_owned(self, x: np.ndarray, training: bool = False) -> np.ndarray:
        """``forward`` on an array the caller owns and will not read again.

        ``Dense`` passes its freshly computed pre-activations here, so element-wise activations
        may overwrite them instead of allocating a result (no new array, no page faults on
        large batches). The default is ``forward``.
        """
        return self.forward(x, training)

    def fuse_with_loss(self, loss: Loss) -> OutputStep | None:
        """Softmax (sigmoid) ending a model compiled with categorical (binary) cross-entropy:
        the fused loss on this layer's input, which then never runs in training."""
        fused = loss.fused_with(self)
        return None if fused is None else ActivationLossStep(self, fused)

    def get_config(self) -> dict[str, Any]:
        return {}


class Linear(Activation):
    """Identity: ``y = x`` (the default of ``activation=None``).

    >>> Linear().forward(np.array([[-1.0, 2.0]])).tolist()
    [[-1.0, 2.0]]
    """

    name = "linear"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        if args or kwargs:  # PyTorch's nn.Linear(in_features, out_features)
            raise NablanetError(
                "Linear is the identity activation and takes no arguments; a fully connected "
                "layer is Dense(n_inputs, n_neurons), e.g. Dense(4, 3) for PyTorch's "
                "nn.Linear(4, 3)"
            )
        super().__init__()

    def forward(self, x: np.ndarray, training: bool = False) -> np.ndarray:
        return x

    def backward(self, grad: np.ndarray) -> np.ndarray:
        return grad


class ReLU(Activation):
    """``y = max(x, 0)``; derivative 1 where ``x > 0``, else 0.

    >>> relu = ReLU()
    >>> relu.forward(np.array([[-1.0, 0.0, 2.0]]), training=True).tolist()
    [[0.0, 0.0, 2.0]]
    >>> relu.backward(np.ones((1, 3))).tolist()
    [[0.0, 0.0, 1.0]]
    """

    name = "relu"

    def forward(self, x: np.ndarray, training: bool = False) -> np.ndarray:
        y = np.maximum(x, 0)
        if training:
            self._y = y
        return y

    def forward_owned(self, x: np.ndarray, training: bool = False) -> np.ndarray:
        y = np.maximum(x, 0, out=x)
        if training:
            self._y = y
        return y

    def backward(self, grad: np.ndarray) -> np.ndarray:
        return grad * (self._y > 0)


class LeakyReLU(Activation):
    """``y = x`` for ``x > 0`` else ``alpha * x``.

    >>> leaky = LeakyReLU(alpha=0.1)
    >>> leaky.forward(np.array([[-2.0, 3.0]]), training=True).tolist()
    [[-0.2, 3.0]]
    >>> leaky.backward(np.ones((1, 2))).tolist()
    [[0.1, 1.0]]
    """

    name = "leaky_relu"

    def __init__(self, alpha: float = 0.01):
        super().__init__()
        self.alpha = check_nonnegative_float(alpha, "alpha", "LeakyReLU")

    def forward(self, x: np.ndarray, training: bool = False) -> np.ndarray:
        if training:
            self._x = x
        return np.where(x > 0, x, x * x.dtype.type(self.alpha))

    def backward(self, grad: np.ndarray) -> np.ndarray:
        return np.where(self._x > 0, grad, grad * grad.dtype.type(self.alpha))

    def get_config(self) -> dict[str, Any]:
        return {"alpha": self.alpha}


class Sigmoid(Activation):
    """``y = 1 / (1 + exp(-x))``, computed as ``0.5 * (1 + tanh(x / 2))`` (no overflow).

    >>> s = Sigmoid()
    >>> s.forward(np.array([[-1000.0, 0.0, 1000.0]]), training=True).tolist()
    [[0.0, 0.5, 1.0]]
    >>> s.backward(np.ones((1, 3))).tolist()                      # y (1 - y)
    [[0.0, 0.25, 0.0]]
    """

    name = "sigmoid"

    def forward(self, x: np.ndarray, training: bool = False) -> np.ndarray:
        y = sigmoid(x)
        if training:
            self._y = y
        return y

    def backward(self, grad: np.ndarray) -> np.ndarray:
        y = self._y
        return grad * y * (1 - y)


class Tanh(Activation):
    """``y = tanh(x)``; derivative ``1 - y^2``.

    >>> t = Tanh()
    >>> t.forward(np.array([[0.0, 1.0]]), training=True).round(4).tolist()
    [[0.0, 0.7616]]
    >>> t.backward(np.ones((1, 2))).round(4).tolist()
    [[1.0, 0.42]]
    """

    name = "tanh"

    def forward(self, x: np.ndarray, training: bool = False) -> np.ndarray:
        y = np.tanh(x)
        if training:
            self._y = y
        return y

    def forward_owned(self, x: np.ndarray, training: bool = False) -> np.ndarray:
        y = np.tanh(x, out=x)
        if training:
            self._y = y
        return y

    def backward(self, grad: np.ndarray) -> np.ndarray:
        y = self._y
        return grad * (1 - y * y)


class Softmax(Activation):
    """``y_i = exp(x_i - max x) / sum_j exp(x_j - max x)`` along the last axis.

    Its backward is the Jacobian-vector product ``y * (g - sum(g * y))``; when a model ends in
    softmax and is trained with categorical cross-entropy the two are fused instead.

    >>> sm = Softmax()
    >>> y = sm.forward(np.array([[1.0, 1.0, 1.0, 1.0]]), training=True)
    >>> y.tolist()
    [[0.25, 0.25, 0.25, 0.25]]
    >>> sm.backward(np.array([[1.0, 0.0, 0.0, 0.0]])).tolist()    # y_i (g_i - sum g y)
    [[0.1875, -0.0625, -0.0625, -0.0625]]
    """

    name = "softmax"

    def forward(self, x: np.ndarray, training: bool = False) -> np.ndarray:
        y = softmax(x)
        if training:
            self._y = y
        return y

    def forward_owned(self, x: np.ndarray, training: bool = False) -> np.ndarray:
        y = softmax(x, out=x)
        if training:
            self._y = y
        return y

    def backward(self, grad: np.ndarray) -> np.ndarray:
        y = self._y
        return y * (grad - np.sum(grad * y, axis=-1, keepdims=True))


def sigmoid(x: np.ndarray) -> np.ndarray:
    """Numerically stable logistic function."""
    half = x.dtype.type(0.5) if isinstance(x, np.ndarray) else 0.5
    y = np.tanh(x * half)
    y += 1
    y *= half
    return y


def softmax(x: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """Numerically stable softmax along the last axis (into ``out``, which may be ``x``)."""
    # the ndarray methods skip the np.max / np.sum wrappers: this runs once per predict call
    z = np.subtract(x, x.max(axis=-1, keepdims=True), out=out)
    np.exp(z, out=z)
    z /= z.sum(axis=-1, keepdims=True)
    return z


def log_softmax(x: np.ndarray) -> np.ndarray:
    z = x - np.max(x, axis=-1, keepdims=True)
    z -= np.log(np.sum(np.exp(z), axis=-1, keepdims=True))
    return z


ACTIVATIONS: dict[str, type[Activation]] = {
    cls.name: cls for cls in (Linear, ReLU, LeakyReLU, Sigmoid, Tanh, Softmax)
}


def get(spec: str | dict | Activation | None) -> Activation:
    """An activation from its name (``"relu"``), ``None`` (linear) or an instance."""
    if spec is None:
        return Linear()
    if isinstance(spec, Activation):
        return spec
    if isinstance(spec, str) and spec in ACTIVATIONS:
        return ACTIVATIONS[spec]()
    options = ", ".join(sorted(ACTIVATIONS))
    raise NablanetError(f"Unknown activation {spec!r}; choose one of: {options}.")


def serialize(act: Activation) -> str | dict[str, Any]:
    """``"relu"`` for default-configured activations, else a dict with its config."""
    config = act.get_config()
    return act.name if not config else {"name": act.name, **config}


def deserialize(spec: str | dict | Activation | None) -> Activation:
    if isinstance(spec, dict):
        spec = dict(spec)
        name = spec.pop("name", None)
        if name not in ACTIVATIONS:
            return get(name)
        return ACTIVATIONS[name](**spec)
    return get(spec)
