"""Weight penalties: values, gradients, config, and their effect inside layers and models."""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import nablanet as nb
from nablanet.nn import regularizers as regs


def test_penalties_by_hand():
    w = np.array([1.0, -2.0, 0.5])
    assert regs.L1(0.1).penalty(w) == pytest.approx(0.1 * 3.5)
    assert regs.L2(0.1).penalty(w) == pytest.approx(0.1 * 5.25)
    assert regs.L1L2(0.1, 0.2).penalty(w) == pytest.approx(0.35 + 0.2 * 5.25)
    np.testing.assert_allclose(regs.L1(0.1).gradient(w), [0.1, -0.1, 0.1])
    np.testing.assert_allclose(regs.L2(0.1).gradient(w), [0.2, -0.4, 0.1])
    np.testing.assert_allclose(regs.L1L2(0.1, 0.2).gradient(w), [0.5, -0.9, 0.3])
    assert regs.L1L2().penalty(w) == 0.0


@settings(max_examples=20, deadline=None)
@given(
    shape=st.sampled_from([(3,), (2, 4), (5, 1)]),
    l1=st.floats(0, 1),
    l2=st.floats(0, 1),
    seed=st.integers(0, 1000),
)
def test_gradient_check(shape, l1, l2, seed):
    w = np.random.default_rng(seed).standard_normal(shape)
    w[np.abs(w) < 1e-3] = 0.5  # away from the L1 kink
    reg = regs.L1L2(l1, l2)
    numeric = nb.numerical_gradient(lambda: reg.penalty(w), w)
    np.testing.assert_allclose(reg.gradient(w), numeric, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_add_gradient_accumulates_in_place_keeping_dtype(dtype):
    w = np.array([1.0, -1.0], dtype=dtype)
    grad = np.ones(2, dtype=dtype)
    regs.L1L2(0.5, 0.25).add_gradient(w, grad)
    assert grad.dtype == dtype
    np.testing.assert_allclose(grad, [1 + 0.5 + 0.5, 1 - 0.5 - 0.5])


@pytest.mark.parametrize("reg", [regs.L1(0.3), regs.L2(0.02), regs.L1L2(0.1, 0.2), regs.L1L2()])
def test_config_round_trip(reg):
    spec = json.loads(json.dumps(regs.serialize(reg)))
    again = regs.deserialize(spec)
    assert type(again) is type(reg)
    assert again.get_config() == reg.get_config()
    assert regs.serialize(again) == spec
    assert type(reg).from_config(reg.get_config()).get_config() == reg.get_config()


def test_registry_covers_every_regularizer():
    for name, cls in regs.REGULARIZERS.items():
        assert cls.__name__ == name
        assert regs.deserialize(regs.serialize(cls())).get_config() == cls().get_config()


def test_bad_values():
    with pytest.raises(nb.NablanetError, match=r"'l1' parameter of L1 must be a non-negative"):
        regs.L1(-0.1)
    with pytest.raises(nb.NablanetError, match=r"'l2' parameter of L1L2"):
        regs.L1L2(0.1, float("nan"))
    with pytest.raises(nb.NablanetError, match=r"expected L1, L2 or L1L2"):
        regs.deserialize({"class_name": "Dropout", "config": {}})
    with pytest.raises(nb.NablanetError, match=r"expected L1, L2 or L1L2"):
        regs.deserialize("l2")
    assert regs.deserialize(None) is None


@pytest.mark.parametrize("reg", [nb.L1(0.05), nb.L2(0.1), nb.L1L2(0.02, 0.05)])
def test_regularized_dense_gradient_check(reg):
    layer = nb.Dense(4, 3, "tanh", weight_regularizer=reg, bias_regularizer=reg, dtype="float64")
    layer.biases.value[...] = [0.3, -0.2, 0.1]
    x = np.random.default_rng(0).standard_normal((5, 4))
    result = nb.gradcheck_layer(layer, x)
    assert result.ok, str(result)


@pytest.mark.parametrize(
    ("reg", "last", "loss"),
    [
        (
            nb.L1(0.05),
            lambda: nb.Dense(5, 3, "softmax", dtype="float64"),
            "categorical_crossentropy",
        ),
        (nb.L2(0.1), lambda: nb.Dense(5, 1, "sigmoid", dtype="float64"), "binary_crossentropy"),
        (
            nb.L1L2(0.01, 0.1),
            lambda: nb.Neuron(5, "sigmoid", dtype="float64"),
            "binary_crossentropy",
        ),
        (nb.L2(0.2), lambda: nb.Dense(5, 2, dtype="float64"), "mse"),
    ],
)
def test_regularized_model_gradient_check(reg, last, loss):
    model = nb.Sequential(
        [nb.Dense(3, 5, "tanh", weight_regularizer=reg, bias_regularizer=reg, dtype="float64")]
    )
    model.add(last())
    model.compile(loss, "sgd")
    rng = np.random.default_rng(1)
    x = rng.standard_normal((6, 3))
    n_out = model.output_shapes()[-1][0]
    y = rng.standard_normal((6, 2)) if loss == "mse" else rng.integers(0, max(n_out, 2), 6)
    result = nb.gradcheck_model(model, x, y)
    assert result.ok, str(result)


def test_penalty_is_part_of_the_reported_loss():
    reg = nb.L2(0.5)
    model = nb.Sequential([nb.Dense(2, 1, weight_regularizer=reg, dtype="float64")])
    model.compile("mse", "sgd")
    model.layers[0].weights.value[...] = [[1.0], [2.0]]
    x = np.array([[1.0, 0.0]])
    y = np.array([[0.0]])
    # data loss 1, penalty 0.5 * (1 + 4)
    assert model.evaluate(x, y, return_dict=True)["loss"] == pytest.approx(1.0 + 2.5)
    assert model.regularization_loss() == pytest.approx(2.5)


def test_l2_shrinks_weights():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((64, 5)).astype(np.float32)
    y = x @ rng.standard_normal((5, 1)).astype(np.float32)

    def norm_after(reg):
        nb.set_seed(0)
        model = nb.Sequential([nb.Dense(5, 1, weight_regularizer=reg)])
        model.compile("mse", nb.SGD(0.05))
        model.fit(x, y, epochs=20, batch_size=16, verbose=0)
        return float(np.linalg.norm(model.layers[0].weights.value))

    assert norm_after(nb.L2(0.5)) < 0.7 * norm_after(None)
