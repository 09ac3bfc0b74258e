"""Activations: values, gradients on random shapes, numerical stability, lookup by name."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import nablanet as nb
from nablanet.nn.layers import activations as acts

ACTIVATION_LAYERS = [nb.Linear, nb.ReLU, nb.LeakyReLU, nb.Sigmoid, nb.Tanh, nb.Softmax]


def _reference(name: str, x: np.ndarray, alpha: float = 0.01) -> np.ndarray:
    if name == "linear":
        return x
    if name == "relu":
        return np.where(x > 0, x, 0.0)
    if name == "leaky_relu":
        return np.where(x > 0, x, alpha * x)
    if name == "sigmoid":
        return 1.0 / (1.0 + np.exp(-x))
    if name == "tanh":
        return np.tanh(x)
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def test_registry_names():
    assert set(acts.ACTIVATIONS) == {"linear", "relu", "leaky_relu", "sigmoid", "tanh", "softmax"}
    for name, cls in acts.ACTIVATIONS.items():
        assert cls.name == name
        assert isinstance(acts.get(name), cls)


@pytest.mark.parametrize("cls", ACTIVATION_LAYERS)
def test_values_match_the_formula(cls):
    x = np.random.default_rng(0).standard_normal((6, 5)) * 3
    np.testing.assert_allclose(cls().forward(x), _reference(cls.name, x), rtol=1e-12, atol=1e-15)


def test_leaky_relu_alpha():
    x = np.array([[-2.0, 3.0]])
    np.testing.assert_array_equal(nb.LeakyReLU(0.2).forward(x), [[-0.4, 3.0]])
    with pytest.raises(nb.NablanetError, match="'alpha' parameter of LeakyReLU"):
        nb.LeakyReLU(-0.1)


@settings(max_examples=30, deadline=None)
@given(
    cls=st.sampled_from(ACTIVATION_LAYERS),
    x=hnp.arrays(
        np.float64,
        hnp.array_shapes(min_dims=2, max_dims=3, min_side=1, max_side=5),
        elements=st.floats(-4, 4).filter(lambda v: abs(v) > 1e-3),  # away from the ReLU kink
    ),
)
def test_gradient_check_random_shapes(cls, x):
    result = nb.gradcheck_layer(cls(), x)
    assert result.ok, str(result)


@pytest.mark.parametrize("cls", ACTIVATION_LAYERS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_dtype_is_kept(cls, dtype):
    x = np.random.default_rng(0).standard_normal((3, 4)).astype(dtype)
    layer = cls()
    y = layer.forward(x, training=True)
    assert y.dtype == dtype
    assert layer.backward(np.ones_like(y)).dtype == dtype


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_softmax_is_numerically_stable(dtype):
    x = np.array([[1e4, -1e4, 0.0], [-1e4, -1e4, -1e4], [1e4, 1e4, -1e4]], dtype=dtype)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        p = nb.Softmax().forward(x)
    assert p.dtype == dtype
    assert np.isfinite(p).all()
    np.testing.assert_allclose(p.sum(axis=1), 1.0, rtol=1e-6)
    np.testing.assert_allclose(p, [[1, 0, 0], [1 / 3, 1 / 3, 1 / 3], [0.5, 0.5, 0]], atol=1e-7)


def test_softmax_is_shift_invariant_and_sums_to_one():
    x = np.random.default_rng(1).standard_normal((5, 7))
    np.testing.assert_allclose(acts.softmax(x), acts.softmax(x + 1000.0), rtol=1e-10)
    np.testing.assert_allclose(acts.softmax(x).sum(axis=-1), 1.0)
    np.testing.assert_allclose(np.exp(acts.log_softmax(x)), acts.softmax(x), rtol=1e-12)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_sigmoid_does_not_overflow(dtype):
    x = np.array([-1e4, -50.0, 0.0, 50.0, 1e4], dtype=dtype)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        y = nb.Sigmoid().forward(x)
    assert y.dtype == dtype
    np.testing.assert_allclose(y, [0, 0, 0.5, 1, 1], atol=1e-7)


def test_softmax_backward_is_the_jacobian_product():
    x = np.random.default_rng(2).standard_normal((1, 4))
    layer = nb.Softmax()
    p = layer.forward(x, training=True)[0]
    g = np.array([[0.3, -1.0, 2.0, 0.5]])
    jacobian = np.diag(p) - np.outer(p, p)
    np.testing.assert_allclose(layer.backward(g)[0], jacobian @ g[0], rtol=1e-12)


def test_get_and_serialize():
    assert isinstance(acts.get(None), nb.Linear)
    leaky = nb.LeakyReLU(0.3)
    assert acts.get(leaky) is leaky
    assert acts.serialize(nb.ReLU()) == "relu"
    assert acts.serialize(leaky) == {"name": "leaky_relu", "alpha": 0.3}
    assert acts.deserialize({"name": "leaky_relu", "alpha": 0.3}).alpha == 0.3
    assert isinstance(acts.deserialize("tanh"), nb.Tanh)


@pytest.mark.parametrize("bad", ["gelu", "ReLU", 3, {"name": "swish"}])
def test_unknown_activation_lists_options(bad):
    with pytest.raises(nb.NablanetError, match=r"Unknown activation.*choose one of: leaky_relu"):
        acts.deserialize(bad)


def test_activation_layer_in_a_model_matches_the_dense_argument():
    nb.set_seed(3)
    a = nb.Sequential([nb.Dense(3, 4, dtype="float64"), nb.Tanh()])
    b = nb.Sequential([nb.Dense(3, 4, "tanh", dtype="float64")])
    b.load_state_dict(a.state_dict())
    x = np.random.default_rng(0).standard_normal((5, 3))
    np.testing.assert_array_equal(a.predict(x), b.predict(x))
