"""Losses: values, numerical gradients, the fused paths, saturation, targets and errors."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import nablanet as nb
from nablanet.nn import losses
from nablanet.nn.layers.activations import sigmoid, softmax


def _rng(seed=0):
    return np.random.default_rng(seed)


# -- values ----------------------------------------------------------------------------------------
def test_values_by_hand():
    y_pred = np.array([[0.5, 2.0], [1.0, -1.0]])
    y_true = np.array([[0.0, 1.0], [1.0, 1.0]])
    assert losses.MeanSquaredError().loss(y_true, y_pred) == pytest.approx((0.25 + 1 + 0 + 4) / 4)
    assert losses.MeanAbsoluteError().loss(y_true, y_pred) == pytest.approx((0.5 + 1 + 0 + 2) / 4)
    p = np.array([[0.9], [0.2]])
    expected = -(math.log(0.9) + math.log(0.8)) / 2
    assert losses.BinaryCrossentropy().loss(np.array([1, 0]), p) == pytest.approx(expected)
    probs = np.array([[0.9, 0.1], [0.2, 0.8]])
    expected = -(math.log(0.9) + math.log(0.8)) / 2
    assert losses.CategoricalCrossentropy().loss(np.array([0, 1]), probs) == pytest.approx(expected)
    z = np.array([[1.0, 2.0, 3.0]])
    expected = math.log(math.exp(1) + math.exp(2) + math.exp(3)) - 2.0
    assert losses.SoftmaxCrossentropy().loss(np.array([1]), z) == pytest.approx(expected)
    z = np.array([[0.5], [-2.0]])
    expected = (math.log(1 + math.exp(-0.5)) + math.log(1 + math.exp(-2.0))) / 2
    assert losses.SigmoidBinaryCrossentropy().loss(np.array([1, 0]), z) == pytest.approx(expected)


def test_lookup_and_aliases():
    assert isinstance(losses.get("mse"), losses.MeanSquaredError)
    assert isinstance(losses.get("mean_absolute_error"), losses.MeanAbsoluteError)
    assert isinstance(losses.get("sparse_categorical_crossentropy"), losses.CategoricalCrossentropy)
    mse = losses.MeanSquaredError()
    assert losses.get(mse) is mse


@pytest.mark.parametrize("bad", ["cross_entropy", "MSE", None, 3])
def test_unknown_loss_lists_the_options(bad):
    with pytest.raises(nb.NablanetError) as err:
        losses.get(bad)
    for option in ("binary_crossentropy", "categorical_crossentropy", "mae", "mse"):
        assert option in str(err.value)


# -- numerical gradients on random shapes ----------------------------------------------------------
def _case(name: str, n: int, k: int, rng: np.random.Generator, onehot: bool):
    if name in ("mse", "mae"):
        y_pred = rng.standard_normal((n, k))
        y_true = y_pred + rng.choice([-1, 1], (n, k)) * rng.uniform(0.1, 1, (n, k))  # no kinks
        return y_true, y_pred
    if name == "binary_crossentropy":
        y_pred = rng.uniform(0.05, 0.95, (n, k))
        return rng.integers(0, 2, (n, k)).astype(float), y_pred
    if name == "sigmoid_binary_crossentropy":
        y_pred = rng.standard_normal((n, k)) * 3
        return rng.uniform(0, 1, (n, k)), y_pred  # soft targets too
    # one class is degenerate: p == 1 sits on the clipping boundary and (n, 1) targets read as labels
    k = max(k, 2)
    labels = rng.integers(0, k, n)
    y_true = np.eye(k)[labels] if onehot else labels
    if name == "categorical_crossentropy":
        return y_true, softmax(rng.standard_normal((n, k)))
    return y_true, rng.standard_normal((n, k)) * 3  # logits


LOSS_NAMES = [
    "mse",
    "mae",
    "binary_crossentropy",
    "categorical_crossentropy",
    "softmax_crossentropy",
    "sigmoid_binary_crossentropy",
]


@settings(max_examples=40, deadline=None)
@given(
    name=st.sampled_from(LOSS_NAMES),
    n=st.integers(1, 6),
    k=st.integers(1, 5),
    onehot=st.booleans(),
    seed=st.integers(0, 2**16),
)
def test_gradient_check_random_shapes(name, n, k, onehot, seed):
    y_true, y_pred = _case(name, n, k, _rng(seed), onehot)
    result = nb.gradcheck_loss(losses.get(name), y_true, y_pred)
    assert result.ok, f"{name}: {result}"


@pytest.mark.parametrize("onehot", [False, True])
def test_fused_softmax_crossentropy_equals_the_composition(onehot):
    rng = _rng(1)
    z = rng.standard_normal((6, 4))
    labels = rng.integers(0, 4, 6)
    y = np.eye(4)[labels] if onehot else labels
    fused = losses.SoftmaxCrossentropy()
    plain = losses.CategoricalCrossentropy()
    p = softmax(z)
    assert fused.loss(y, z) == pytest.approx(plain.loss(y, p), rel=1e-12)
    layer = nb.Softmax()
    layer.forward(z, training=True)
    chained = layer.backward(plain.gradient(y, p))
    np.testing.assert_allclose(fused.gradient(y, z), chained, rtol=1e-9, atol=1e-15)
    np.testing.assert_allclose(fused.gradient(y, z), (p - np.eye(4)[labels]) / 6, rtol=1e-12)
    loss, grad, probs = fused.loss_gradient_output(y, z)
    assert loss == fused.loss(y, z)
    np.testing.assert_array_equal(grad, fused.gradient(y, z))
    np.testing.assert_allclose(probs, p, rtol=1e-12)


def test_fused_sigmoid_bce_equals_the_composition():
    rng = _rng(2)
    z = rng.standard_normal((7, 1)) * 2
    y = rng.integers(0, 2, 7)
    fused = losses.SigmoidBinaryCrossentropy()
    plain = losses.BinaryCrossentropy()
    p = sigmoid(z)
    assert fused.loss(y, z) == pytest.approx(plain.loss(y, p), rel=1e-9)
    np.testing.assert_allclose(fused.gradient(y, z), (p - y[:, None]) / 7, rtol=1e-12)
    layer = nb.Sigmoid()
    layer.forward(z, training=True)
    np.testing.assert_allclose(
        fused.gradient(y, z), layer.backward(plain.gradient(y, p)), rtol=1e-9
    )


# -- saturation ------------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_saturated_probabilities_give_finite_values(dtype):
    p = np.array([[0.0], [1.0], [0.0], [1.0]], dtype=dtype)
    y = np.array([0, 1, 1, 0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        bce = losses.BinaryCrossentropy()
        assert math.isfinite(bce.loss(y, p))
        assert np.isfinite(bce.gradient(y, p)).all()
        probs = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]], dtype=dtype)
        cce = losses.CategoricalCrossentropy()
        for target in (np.array([1, 1]), np.array([0, 2])):
            assert math.isfinite(cce.loss(target, probs))
            assert np.isfinite(cce.gradient(target, probs)).all()
    # the right predictions cost (almost) nothing, the wrong ones a lot
    assert bce.loss(y[:2], p[:2]) < 1e-6
    assert bce.loss(y[2:], p[2:]) > 10


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_fused_losses_are_exact_for_huge_logits(dtype):
    z = np.array([[1e4, -1e4, 0.0], [0.0, 0.0, 0.0]], dtype=dtype)
    sce = losses.SoftmaxCrossentropy()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        loss, grad, p = sce.loss_gradient_output(np.array([1, 2]), z)
    assert loss == pytest.approx((2e4 + math.log(3)) / 2, rel=1e-6)
    assert np.isfinite(grad).all() and np.isfinite(p).all()
    assert sce.loss(np.array([0]), z[:1]) == 0.0
    assert grad.dtype == dtype and p.dtype == dtype

    zb = np.array([[1e4], [-1e4], [1e4]], dtype=dtype)
    sbce = losses.SigmoidBinaryCrossentropy()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        loss, grad, p = sbce.loss_gradient_output(np.array([0, 1, 1]), zb)
    assert loss == pytest.approx(2e4 / 3, rel=1e-6)
    np.testing.assert_allclose(grad[:, 0], [1 / 3, -1 / 3, 0], atol=1e-7)


# -- targets --------------------------------------------------------------------------------------
def test_labels_and_one_hot_agree():
    rng = _rng(3)
    p = softmax(rng.standard_normal((5, 3)))
    labels = np.array([0, 2, 1, 1, 0])
    onehot = np.eye(3)[labels]
    for loss in (losses.CategoricalCrossentropy(), losses.SoftmaxCrossentropy()):
        assert loss.loss(labels, p) == pytest.approx(loss.loss(onehot, p), rel=1e-12)
        np.testing.assert_allclose(loss.gradient(labels, p), loss.gradient(onehot, p), rtol=1e-12)
        # whole-number float labels and (n, 1) labels are accepted too
        assert loss.loss(labels.astype(float), p) == pytest.approx(loss.loss(labels, p))
        assert loss.loss(labels[:, None], p) == pytest.approx(loss.loss(labels, p))


def test_column_targets_fit_column_outputs():
    y_pred = np.array([[0.2], [0.7], [0.9]])
    y = np.array([0, 1, 1])
    for name in ("mse", "mae", "binary_crossentropy"):
        loss = losses.get(name)
        assert loss.loss(y, y_pred) == pytest.approx(loss.loss(y[:, None], y_pred))
        assert loss.gradient(y, y_pred).shape == (3, 1)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", LOSS_NAMES)
def test_gradient_dtype_follows_predictions(name, dtype):
    y_true, y_pred = _case(name, 4, 3, _rng(4), onehot=False)
    grad = losses.get(name).gradient(y_true, y_pred.astype(dtype))
    assert grad.dtype == dtype
    assert grad.shape == y_pred.shape


def test_shape_mismatch_names_the_shapes():
    with pytest.raises(nb.NablanetError, match=r"MeanSquaredError: targets of shape \(4, 3\)"):
        losses.MeanSquaredError().loss(np.zeros((4, 3)), np.zeros((4, 2)))
    with pytest.raises(nb.NablanetError, match=r"targets of shape \(3,\).*\(4, 2\)"):
        losses.CategoricalCrossentropy().loss(np.zeros(3, int), np.full((4, 2), 0.5))


def test_bad_class_labels():
    p = np.full((2, 3), 1 / 3)
    with pytest.raises(nb.NablanetError, match=r"class labels must lie in \[0, 2\].*\[0, 3\]"):
        losses.CategoricalCrossentropy().loss(np.array([0, 3]), p)
    with pytest.raises(nb.NablanetError, match="whole numbers"):
        losses.SoftmaxCrossentropy().loss(np.array([0.5, 1.0]), p)
    with pytest.raises(nb.NablanetError, match="must lie in"):
        losses.SoftmaxCrossentropy().loss(np.array([-1, 1]), p)


def test_fused_path_is_chosen_by_the_model():
    def model(last, loss):
        m = nb.Sequential([nb.Dense(3, 4, "relu"), *last])
        m.compile(loss, "sgd")
        return m.plan.output.kind

    assert model([nb.Dense(4, 3, "softmax")], "categorical_crossentropy") == "logits_loss"
    assert model([nb.Dense(4, 3), nb.Softmax()], "categorical_crossentropy") == "activation_loss"
    assert model([nb.Dense(4, 1, "sigmoid")], "binary_crossentropy") == "logits_loss"
    assert model([nb.Dense(4, 1, "sigmoid")], "mse") == "loss"  # no fusion
    assert model([nb.Dense(4, 3, "relu")], "categorical_crossentropy") == "loss"
