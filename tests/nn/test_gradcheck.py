"""The gradient checker itself: it passes correct gradients and catches wrong ones."""

from __future__ import annotations

import numpy as np
import pytest

import nablanet as nb
from nablanet.nn import losses
from nablanet.nn.gradcheck import numerical_gradient, relative_error


def test_numerical_gradient_of_a_known_function():
    x = np.array([1.0, -2.0, 3.0])
    grad = numerical_gradient(lambda: float(np.sum(x**3)), x)
    np.testing.assert_allclose(grad, 3 * x**2, rtol=1e-8)
    np.testing.assert_array_equal(x, [1.0, -2.0, 3.0])  # restored


def test_relative_error():
    assert relative_error(np.ones(3), np.ones(3)) == 0.0
    assert relative_error(np.array([1.0]), np.array([-1.0])) == 1.0
    assert relative_error(np.zeros(0), np.zeros(0)) == 0.0
    assert relative_error(np.zeros(2), np.zeros(2)) == 0.0


class _WrongMSE(losses.MeanSquaredError):
    def gradient(self, y_true, y_pred):
        return super().gradient(y_true, y_pred) * 0.5  # forgot the factor 2


def test_gradcheck_loss_catches_a_wrong_gradient():
    rng = np.random.default_rng(0)
    y_pred, y = rng.standard_normal((4, 2)), rng.standard_normal((4, 2))
    assert nb.gradcheck_loss(losses.MeanSquaredError(), y, y_pred).ok
    result = nb.gradcheck_loss(_WrongMSE(), y, y_pred)
    assert not result.ok and result.errors["y_pred"] > 0.1


def test_gradcheck_model_catches_a_wrong_layer_gradient():
    model = nb.Sequential(
        [nb.Dense(3, 4, "tanh", dtype="float64"), nb.Dense(4, 2, dtype="float64")]
    )
    model.compile("mse", "sgd")
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((5, 3)), rng.standard_normal((5, 2))
    assert nb.gradcheck_model(model, x, y).ok
    tanh = model.layers[0].activation
    correct = tanh.backward
    tanh.backward = lambda g: correct(g) * 1.05
    result = nb.gradcheck_model(model, x, y)
    assert not result.ok
    assert result.errors["layers.1.weights"] < 1e-6  # only the first layer is wrong
    assert result.errors["layers.0.weights"] > 1e-3


@pytest.mark.parametrize("tolerance", [1e-12, 1e-2])
def test_tolerance_is_applied(tolerance):
    layer = nb.Dense(2, 2, "sigmoid", dtype="float64", seed=0)
    result = nb.gradcheck_layer(layer, np.ones((3, 2)), tolerance=tolerance)
    assert result.tolerance == tolerance
    assert result.ok == (max(result.errors.values()) <= tolerance)
    assert "gradcheck" in str(result)


def test_gradcheck_model_with_dropout_and_batch_normalization():
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((6, 3)), rng.integers(0, 3, 6)
    model = nb.Sequential(
        [
            nb.Dense(3, 5, "tanh", dtype="float64", weight_regularizer=nb.L2(0.01)),
            nb.Dropout(0.3, seed=1),
            nb.BatchNormalization(5, dtype="float64"),
            nb.Dense(5, 3, "softmax", dtype="float64"),
        ]
    )
    model.compile("categorical_crossentropy", "sgd")
    before = model.state_dict()
    rng_before = model.rng_states()
    result = nb.gradcheck_model(model, x, y)
    assert result.ok, str(result)
    # running statistics and the dropout generator are left as they were
    for key, value in model.state_dict().items():
        np.testing.assert_array_equal(value, before[key], err_msg=key)
    assert model.rng_states() == rng_before
