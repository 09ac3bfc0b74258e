"""Numerical gradient checking by central differences in float64.

>>> from nablanet.nn.layers import Dense
>>> layer = Dense(3, 2, activation="tanh", dtype="float64", seed=0)
>>> x = np.random.default_rng(0).standard_normal((4, 3))
>>> gradcheck_layer(layer, x).ok
True
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from .errors import NablanetError

if TYPE_CHECKING:  # pragma: no cover
    from .layers.base import Layer
    from .losses import Loss
    from .model import Sequential


@dataclass
class GradcheckResult:
    """Maximum relative errors per checked array, and whether all are within tolerance."""

    errors: dict[str, float] = field(default_factory=dict)
    tolerance: float = 1e-6

    @property
    def ok(self) -> bool:
        return all(e <= self.tolerance for e in self.errors.values())

    def __str__(self) -> str:
        rows = ", ".join(f"{k}: {v:.2e}" for k, v in self.errors.items())
        return f"gradcheck {'passed' if self.ok else 'FAILED'} ({rows}; tol {self.tolerance:g})"


def numerical_gradient(f: Callable[[], float], x: np.ndarray, eps: float = 1e-6) -> np.ndarray:
    """``d f / d x`` by central differences, perturbing ``x`` in place (restored afterwards)."""
    grad = np.zeros_like(x, dtype=np.float64)
    flat, gflat = x.reshape(-1), grad.reshape(-1)
    for i in range(flat.size):
        orig = flat[i]
        flat[i] = orig + eps
        f_plus = f()
        flat[i] = orig - eps
        f_minus = f()
        flat[i] = orig
        gflat[i] = (f_plus - f_minus) / (2 * eps)
    return grad


def relative_error(a: np.ndarray, b: np.ndarray) -> float:
    """Norm-wise relative error ``||a - b|| / max(||a|| + ||b||, 1e-12)``."""
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    if a.size == 0:
        return 0.0
    return float(np.linalg.norm(a - b) / max(np.linalg.norm(a) + np.linalg.norm(b), 1e-12))


def gradcheck_layer(
    layer: Layer, x: np.ndarray, eps: float = 1e-6, tolerance: float = 1e-6, seed: int = 0
) -> GradcheckResult:
    """Check ``layer.backward`` against central differences of
    ``sum(forward(x) * r) + layer.regularization_loss()``.

    ``r`` is a fixed random projection, so every output contributes; the layer's weight
    penalties are included because ``backward`` adds their gradients too. The layer and ``x`` should be
    float64. Layers with randomness at training time (dropout) are checked with their mask fixed
    by re-seeding, so use ``training=False`` semantics for them or a fixed mask.
    """
    x = np.array(x, dtype=np.float64)
    rng = np.random.default_rng(seed)
    y = layer.forward(x, training=True)
    r = rng.standard_normal(y.shape)

    rng_state: Any = getattr(getattr(layer, "rng", None), "bit_generator", None)
    saved = rng_state.state if rng_state is not None else None

    def f() -> float:
        if saved is not None:
            rng_state.state = saved
        return float(np.sum(layer.forward(x, training=True) * r)) + layer.regularization_loss()

    if saved is not None:
        rng_state.state = saved
    layer.forward(x, training=True)
    for p in layer.parameters():
        p.grad[...] = 0
    grad_x = layer.backward(r.copy())
    analytic = {name: p.grad.copy() for name, p in layer.named_parameters().items()}

    result = GradcheckResult(tolerance=tolerance)
    if grad_x is not None:
        result.errors["input"] = relative_error(grad_x, numerical_gradient(f, x, eps))
    for name, p in layer.named_parameters().items():
        result.errors[name] = relative_error(analytic[name], numerical_gradient(f, p.value, eps))
    return result


def gradcheck_loss(
    loss: Loss, y_true: np.ndarray, y_pred: np.ndarray, eps: float = 1e-6, tolerance: float = 1e-6
) -> GradcheckResult:
    """Check ``loss.gradient`` against central differences of ``loss.loss``."""
    y_pred = np.array(y_pred, dtype=np.float64)
    analytic = loss.gradient(y_true, y_pred)
    numeric = numerical_gradient(lambda: loss.loss(y_true, y_pred), y_pred, eps)
    return GradcheckResult({"y_pred": relative_error(analytic, numeric)}, tolerance)


def gradcheck_model(
    model: Sequential, x: np.ndarray, y: np.ndarray, eps: float = 1e-6, tolerance: float = 1e-6
) -> GradcheckResult:
    """Check a compiled model's training gradients (loss + fused path) end to end.

    The gradients left by one ``train_step`` are compared with central differences of the same
    training-mode loss plus ``regularization_loss()``: dropout masks are fixed by replaying the
    layers' generators before every evaluation, batch normalization uses batch statistics, and
    buffers (running statistics) are put back afterwards.

    Central differences need float64 (in float32, rounding alone gives errors near 1e-2): a
    float32 model is checked on a float64 copy of itself (same weights, loss and dropout
    generators), which leaves the model itself untouched; a float64 model is checked in place.

    >>> import nablanet as nb
    >>> model = nb.Sequential([nb.Dense(3, 4, "tanh", seed=0), nb.Dense(4, 2, "softmax", seed=1)])
    >>> model.compile("sparse_categorical_crossentropy", "sgd")            # float32
    >>> x = np.random.default_rng(0).standard_normal((5, 3))
    >>> nb.gradcheck_model(model, x, np.array([0, 1, 1, 0, 1])).ok
    True
    """
    if getattr(model, "loss", None) is None or not getattr(model, "_compiled", True):
        raise NablanetError(
            "gradcheck_model needs a compiled model (it checks the gradients of its loss): "
            "call model.compile(loss=..., optimizer=...) first"
        )
    x = np.asarray(x, dtype=np.float64)
    if hasattr(model, "_ensure_built"):
        model._ensure_built(x)
    if model.dtype != np.float64:
        model = _float64_copy(model)
    named = model.named_parameters()
    saved_state = model.state_dict()
    rng_states = model.rng_states()

    def training_loss() -> float:
        model.set_rng_states(rng_states)
        return model.train_step(x, y)[0] + model.regularization_loss()

    for p in named.values():
        p.grad[...] = 0
    model.set_rng_states(rng_states)
    model.train_step(x, y)
    analytic = {name: p.grad.copy() for name, p in named.items()}
    result = GradcheckResult(tolerance=tolerance)
    for name, p in named.items():
        numeric = numerical_gradient(training_loss, p.value, eps)
        result.errors[name] = relative_error(analytic[name], numeric)
    model.load_state_dict(saved_state)
    model.set_rng_states(rng_states)
    for name, p in named.items():
        p.grad[...] = analytic[name]
    return result


def _float64_copy(model: Sequential) -> Sequential:
    """A compiled float64 twin of ``model``: its layers rebuilt from their configs with
    ``dtype="float64"``, its weights, buffers and dropout generators copied, the same loss."""
    config = copy.deepcopy(model.get_config())
    for spec in config["layers"]:
        if "dtype" in spec.get("config", {}):
            spec["config"]["dtype"] = "float64"
    twin = type(model).from_config(config)
    twin.load_state_dict(
        {
            k: v.astype(np.float64) if np.asarray(v).dtype.kind == "f" else v
            for k, v in model.state_dict().items()
        }
    )
    assert model.loss is not None  # gradcheck_model checks a compiled model
    twin.compile(loss=copy.deepcopy(model.loss), optimizer="sgd", metrics=list(model.metrics))
    twin.set_rng_states(copy.deepcopy(model.rng_states()))
    return twin
