"""Inverted dropout: scaling, inference identity, reproducibility, gradient through the mask."""

from __future__ import annotations

import numpy as np
import pytest

import nablanet as nb


@pytest.mark.parametrize("rate", [0.1, 0.5, 0.8])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_training_scales_survivors_and_preserves_the_mean(rate, dtype):
    x = np.ones((400, 250), dtype=dtype)
    y = nb.Dropout(rate, seed=0).forward(x, training=True)
    assert y.dtype == dtype
    scale = dtype(1.0) / dtype(1.0 - rate)
    assert set(np.unique(y).tolist()) == {0.0, float(scale)}
    dropped = np.mean(y == 0)
    assert dropped == pytest.approx(rate, abs=0.01)
    assert y.mean() == pytest.approx(1.0, abs=0.03)


def test_inference_is_the_identity():
    x = np.random.default_rng(0).standard_normal((10, 5)).astype(np.float32)
    layer = nb.Dropout(0.5)
    y = layer.forward(x, training=False)
    assert y is x or np.array_equal(y, x)
    assert layer.backward(np.ones_like(x)) is not None


def test_rate_zero_is_the_identity_at_training():
    x = np.random.default_rng(0).standard_normal((10, 5))
    np.testing.assert_array_equal(nb.Dropout(0.0).forward(x, training=True), x)


def test_seed_reproduces_the_masks():
    x = np.ones((20, 30), np.float32)
    a, b = nb.Dropout(0.4, seed=7), nb.Dropout(0.4, seed=7)
    for _ in range(3):
        np.testing.assert_array_equal(a.forward(x, training=True), b.forward(x, training=True))
    first = nb.Dropout(0.4, seed=7).forward(x, training=True)
    assert not np.array_equal(first, nb.Dropout(0.4, seed=8).forward(x, training=True))
    # successive calls draw new masks
    c = nb.Dropout(0.4, seed=7)
    assert not np.array_equal(c.forward(x, training=True), c.forward(x, training=True))
    # unseeded layers follow nb.set_seed
    nb.set_seed(3)
    d = nb.Dropout(0.4).forward(x, training=True)
    nb.set_seed(3)
    np.testing.assert_array_equal(d, nb.Dropout(0.4).forward(x, training=True))


def test_gradient_routes_through_the_mask():
    x = np.random.default_rng(0).standard_normal((8, 6))
    layer = nb.Dropout(0.5, seed=1)
    y = layer.forward(x, training=True)
    mask = np.where(y == 0, 0.0, y / x)  # the scaled mask that was applied
    assert set(np.round(np.unique(mask), 12).tolist()) <= {0.0, 2.0}
    g = np.random.default_rng(1).standard_normal((8, 6))
    np.testing.assert_allclose(layer.backward(g), g * mask, rtol=1e-12)
    assert nb.gradcheck_layer(nb.Dropout(0.3, seed=2), x).ok


@pytest.mark.parametrize("rate", [1.0, -0.1, 1.5, "0.5", None])
def test_bad_rate(rate):
    with pytest.raises(nb.NablanetError, match=r"'rate' parameter of Dropout must be a number in"):
        nb.Dropout(rate)


def test_dropout_in_a_model_is_off_for_predict_and_evaluate():
    model = nb.Sequential([nb.Dense(4, 8, "relu"), nb.Dropout(0.5), nb.Dense(8, 1)])
    model.compile("mse", "sgd")
    x = np.random.default_rng(0).standard_normal((16, 4)).astype(np.float32)
    np.testing.assert_array_equal(model.predict(x), model.predict(x))
    y = np.zeros((16, 1), np.float32)
    assert (
        model.evaluate(x, y, return_dict=True)["loss"]
        == model.evaluate(x, y, return_dict=True)["loss"]
    )
