"""Batch normalization over the last (feature / channel) axis."""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import DTypeLike

from .. import initializers as inits
from .._validation import (
    check_dtype,
    check_interval,
    check_positive_float,
    check_positive_int,
)
from ..errors import NablanetError
from ..parameter import Parameter
from .base import Layer


class BatchNormalization(Layer):
    """Normalize each feature (channel) with batch statistics, then scale and shift.

    ``y = gamma * (x - mean) / sqrt(var + epsilon) + beta``, per feature of the last axis, the
    statistics taken over every other axis: the samples of a dense ``(n, features)`` batch, the
    samples and pixels of an NHWC ``(n, height, width, channels)`` batch (PyTorch's
    ``BatchNorm1d`` / ``BatchNorm2d``).

    At training the batch's mean and (biased) variance are used, and the running statistics are
    updated: ``running = momentum * running + (1 - momentum) * batch`` with the *unbiased* batch
    variance, as PyTorch does (``momentum=0.9`` here is PyTorch's ``momentum=0.1``). At inference
    the running statistics are used. They are buffers (``buffer_names``): saved in the model file
    and checkpoints, never trained.

    Parameters
    ----------
    n_features : int, optional
        Size of the last axis (channels of the previous ``Conv2D``, units of a ``Dense``);
        ``None`` (Keras' ``BatchNormalization()``): taken from the data at first use.
    momentum : float in [0, 1)
    epsilon : float > 0
    dtype : {"float32", "float64"}

    Attributes
    ----------
    gamma, beta : Parameter of shape (n_features,)
        Scale (ones) and shift (zeros).
    running_mean, running_var : ndarray of shape (n_features,)
        Buffers, initially zeros and ones.

    >>> bn = BatchNormalization(3)
    >>> x = np.random.default_rng(0).normal(5.0, 2.0, (64, 3)).astype(np.float32)
    >>> y = bn.forward(x, training=True)
    >>> bool(np.allclose(y.mean(axis=0), 0, atol=1e-5)), bool(np.allclose(y.std(axis=0), 1, atol=1e-3))
    (True, True)
    >>> sorted(bn.state_dict())
    ['beta', 'gamma', 'running_mean', 'running_var']
    >>> later = BatchNormalization()                   # Keras: the size comes with the data
    >>> later.built, later.forward(x).shape, later.n_features
    (False, (64, 3), 3)
    """

    buffer_names = ("running_mean", "running_var")

    def __init__(
        self,
        n_features: int | None = None,
        momentum: float = 0.9,
        epsilon: float = 1e-5,
        dtype: DTypeLike = "float32",
    ) -> None:
        self.n_features: Any = None
        self.momentum = check_interval(momentum, "momentum", "BatchNormalization", 0.0, 1.0)
        self.epsilon = check_positive_float(epsilon, "epsilon", "BatchNormalization")
        self.dtype = check_dtype(dtype, "BatchNormalization")
        #: set to False by a model for its first layer: no gradient w.r.t. the input is needed
        self.input_grad = True
        self._x_hat = None
        self._inv_std = None
        if n_features is not None:
            self.build((check_positive_int(n_features, "n_features", "BatchNormalization"),))

    @property
    def built(self) -> bool:
        return self.n_features is not None

    def build(self, input_shape: tuple) -> None:
        """Create ``gamma``, ``beta`` and the running statistics for inputs whose last axis has
        ``input_shape[-1]`` features; a no-op once built."""
        if self.built:
            return
        if not len(input_shape):
            raise NablanetError("BatchNormalization needs inputs with a feature axis")
        n = check_positive_int(input_shape[-1], "n_features", "BatchNormalization")
        inits.reserve((4, n), self.dtype)  # gamma, beta and the running statistics
        self.gamma = Parameter(np.ones(n, dtype=self.dtype), "gamma")
        self.beta = Parameter(np.zeros(n, dtype=self.dtype), "beta")
        self.running_mean = np.zeros(n, dtype=self.dtype)
        self.running_var = np.ones(n, dtype=self.dtype)
        self.n_features = n

    def buffers(self) -> dict[str, np.ndarray]:
        return super().buffers() if self.built else {}

    def _check_input(self, x: np.ndarray) -> None:
        if self.n_features is None and x.ndim >= 2:
            self.build(x.shape[1:])
        if x.ndim < 2 or x.shape[-1] != self.n_features:
            raise NablanetError(
                f"BatchNormalization expected input with {self.n_features} features on the last "
                f"axis, got array of shape {x.shape}"
            )

    def forward(self, x: np.ndarray, training: bool = False) -> np.ndarray:
        self._check_input(x)
        dt = self.dtype.type
        x2 = x.reshape(-1, self.n_features)
        if not training:
            scale = self.gamma.value / np.sqrt(self.running_var + dt(self.epsilon))
            shift = self.beta.value - self.running_mean * scale
            y = x2 * scale
            y += shift
            return y.reshape(x.shape)
        m = x2.shape[0]
        mean = x2.mean(axis=0, dtype=self.dtype)
        x_hat = x2 - mean
        var = np.mean(np.square(x_hat), axis=0, dtype=self.dtype)
        inv_std = dt(1.0) / np.sqrt(var + dt(self.epsilon))
        x_hat *= inv_std
        y = x_hat * self.gamma.value
        y += self.beta.value
        # running statistics (unbiased variance, as PyTorch)
        mom = dt(self.momentum)
        unbiased = var * dt(m / (m - 1)) if m > 1 else var
        self.running_mean *= mom
        self.running_mean += (dt(1.0) - mom) * mean
        self.running_var *= mom
        self.running_var += (dt(1.0) - mom) * unbiased
        self._x_hat = x_hat
        self._inv_std = inv_std
        return y.reshape(x.shape)

    def backward(self, grad: np.ndarray) -> np.ndarray:
        if self._x_hat is None:
            raise NablanetError(
                "BatchNormalization.backward called before forward(..., training=True)"
            )
        x_hat = self._x_hat
        g = grad.reshape(-1, self.n_features)
        m = g.shape[0]
        grad_beta = g.sum(axis=0)
        grad_gamma = (g * x_hat).sum(axis=0)
        self.beta.grad += grad_beta
        self.gamma.grad += grad_gamma
        if not self.input_grad:
            return None
        dt = self.dtype.type
        # dL/dx = gamma / sigma * (g - mean(g) - x_hat * mean(g * x_hat))
        grad_x = x_hat * (grad_gamma / dt(m))
        grad_x += grad_beta / dt(m)
        np.subtract(g, grad_x, out=grad_x)
        grad_x *= self.gamma.value * self._inv_std
        return grad_x.reshape(grad.shape)

    def get_config(self) -> dict[str, Any]:
        return {
            "n_features": self.n_features,
            "momentum": self.momentum,
            "epsilon": self.epsilon,
            "dtype": self.dtype.name,
        }
