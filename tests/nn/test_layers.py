"""Layers: every registered class (config, shapes, state, gradients), then Dense and Neuron."""

from __future__ import annotations

import inspect
import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import nablanet as nb
from nablanet.nn import initializers
from nablanet.nn.layers import LAYER_REGISTRY, Layer, layer_from_config, serialize_layer

from .layer_cases import ABSTRACT_LAYERS, LAYER_CASES

# layers shipped by nablanet (test modules may define their own subclasses: not ours to check)
LIBRARY_LAYERS = sorted(
    name
    for name, cls in LAYER_REGISTRY.items()
    if cls.__module__.startswith("nablanet.") and name not in ABSTRACT_LAYERS
)
CASES = [
    pytest.param(name, kwargs, shape, id=f"{name}-{i}")
    for name in LIBRARY_LAYERS
    for i, (kwargs, shape) in enumerate(LAYER_CASES.get(name, []))
]


def _build(name: str, kwargs: dict, dtype: str | None = None) -> Layer:
    cls = LAYER_REGISTRY[name]
    kwargs = dict(kwargs)
    if dtype is not None and "dtype" in inspect.signature(cls).parameters:
        kwargs["dtype"] = dtype
    return cls(**kwargs)


def _input(shape, n=5, dtype=np.float64, seed=0):
    return np.random.default_rng(seed).standard_normal((n, *shape)).astype(dtype)


# -- every registered layer -----------------------------------------------------------------------
def test_registry_holds_the_library_layers():
    for name in ("Dense", "Neuron", "Dropout", "ReLU", "Softmax", "LeakyReLU"):
        assert name in LIBRARY_LAYERS


@pytest.mark.parametrize("name", LIBRARY_LAYERS)
def test_every_layer_has_cases(name):
    assert LAYER_CASES.get(name), (
        f"layer {name} has no test cases: add (kwargs, input_shape) examples for it to "
        "LAYER_CASES in tests/nn/layer_cases.py"
    )


@pytest.mark.parametrize(("name", "kwargs", "shape"), CASES)
def test_config_round_trip(name, kwargs, shape):
    layer = _build(name, kwargs)
    config = layer.get_config()
    assert json.loads(json.dumps(config)) == config  # JSON-serialisable, unchanged by JSON
    for key, value in kwargs.items():  # the constructor's arguments come back under their names
        assert config[key] == value, key
    rebuilt = type(layer).from_config(json.loads(json.dumps(config)))
    assert type(rebuilt) is type(layer)
    assert rebuilt.get_config() == config
    again = layer_from_config(json.loads(json.dumps(serialize_layer(layer))))
    assert type(again) is type(layer)
    assert again.get_config() == config


@pytest.mark.parametrize(("name", "kwargs", "shape"), CASES)
def test_output_shape_matches_forward(name, kwargs, shape):
    layer = _build(name, kwargs)
    dtype = getattr(layer, "dtype", np.dtype(np.float32))
    x = _input(shape, n=3, dtype=dtype)
    expected = tuple(layer.compute_output_shape(shape))
    for training in (False, True):
        y = layer.forward(x, training=training)
        assert y.shape == (3, *expected)
        assert y.dtype == dtype


@pytest.mark.parametrize(("name", "kwargs", "shape"), CASES)
def test_state_dict_round_trip(name, kwargs, shape):
    layer = _build(name, {**kwargs, "seed": 1} if "seed" in kwargs else kwargs)
    for p in layer.parameters():  # make sure the values differ from any fresh initialization
        p.value[...] = np.random.default_rng(5).standard_normal(p.shape)
    other = type(layer).from_config(layer.get_config())
    state = layer.state_dict()
    other.load_state_dict(state)
    for key, value in other.state_dict().items():
        np.testing.assert_array_equal(value, state[key])
    x = _input(shape, dtype=getattr(layer, "dtype", np.float32))
    np.testing.assert_array_equal(other.forward(x), layer.forward(x))
    assert layer.count_params() == sum(v.size for v in layer.named_parameters().values())


@pytest.mark.parametrize("n_samples", [1, 4])
@pytest.mark.parametrize(("name", "kwargs", "shape"), CASES)
def test_gradient_check(name, kwargs, shape, n_samples):
    layer = _build(name, kwargs, dtype="float64")
    result = nb.gradcheck_layer(layer, _input(shape, n=n_samples, seed=n_samples))
    assert result.ok, str(result)


# -- gradient checks of Dense on random shapes -----------------------------------------------------
@settings(max_examples=25, deadline=None)
@given(
    n_samples=st.integers(1, 6),
    n_inputs=st.integers(1, 5),
    n_neurons=st.integers(1, 5),
    activation=st.sampled_from(["linear", "relu", "leaky_relu", "sigmoid", "tanh", "softmax"]),
    regularized=st.booleans(),
    seed=st.integers(0, 2**16),
)
def test_dense_gradcheck_random_shapes(
    n_samples, n_inputs, n_neurons, activation, regularized, seed
):
    reg = nb.L1L2(0.01, 0.02) if regularized else None
    layer = nb.Dense(
        n_inputs,
        n_neurons,
        activation,
        bias_initializer="random_normal",
        weight_regularizer=reg,
        bias_regularizer=reg,
        dtype="float64",
        seed=seed,
    )
    x = np.random.default_rng(seed).standard_normal((n_samples, n_inputs))
    result = nb.gradcheck_layer(layer, x)
    assert result.ok, str(result)


@settings(max_examples=15, deadline=None)
@given(
    n_samples=st.integers(1, 6),
    n_inputs=st.integers(1, 6),
    activation=st.sampled_from(["linear", "sigmoid", "tanh", "relu"]),
    seed=st.integers(0, 2**16),
)
def test_neuron_gradcheck_random_shapes(n_samples, n_inputs, activation, seed):
    layer = nb.Neuron(n_inputs, activation, dtype="float64", seed=seed)
    layer.bias.value[...] = 0.3
    x = np.random.default_rng(seed).standard_normal((n_samples, n_inputs))
    result = nb.gradcheck_layer(layer, x)
    assert result.ok, str(result)


def test_gradcheck_catches_a_wrong_gradient():
    layer = nb.Dense(3, 2, "tanh", dtype="float64", seed=0)
    x = np.random.default_rng(0).standard_normal((4, 3))
    assert nb.gradcheck_layer(layer, x).ok
    correct = layer.backward_linear
    layer.backward_linear = lambda g: correct(g * 1.01)  # a 1 % error
    result = nb.gradcheck_layer(layer, x)
    assert not result.ok
    assert "FAILED" in str(result)


# -- Dense --------------------------------------------------------------------------------------
def test_dense_forward_is_affine_then_activation():
    layer = nb.Dense(3, 2, activation="relu", seed=0)
    assert layer.weights.shape == (3, 2)
    assert layer.biases.shape == (2,)
    layer.weights.value[...] = [[1, -1], [2, 0], [0, 3]]
    layer.biases.value[...] = [0.5, -10]
    x = np.array([[1, 1, 1], [0, 0, 1]], dtype=np.float32)
    np.testing.assert_array_equal(layer.forward_linear(x), [[3.5, -8], [0.5, -7]])
    np.testing.assert_array_equal(layer.forward(x), [[3.5, 0], [0.5, 0]])


def test_dense_backward_values_and_accumulation():
    layer = nb.Dense(2, 2, dtype="float64", seed=0)
    layer.weights.value[...] = [[1, 2], [3, 4]]
    x = np.array([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
    grad = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    layer.forward(x, training=True)
    grad_x = layer.backward(grad)
    np.testing.assert_allclose(layer.weights.grad, x.T @ grad)
    np.testing.assert_allclose(layer.biases.grad, [2.0, 2.0])
    np.testing.assert_allclose(grad_x, grad @ layer.weights.value.T)
    layer.backward(grad)  # gradients accumulate
    np.testing.assert_allclose(layer.weights.grad, 2 * x.T @ grad)
    layer.zero_grad()
    assert not layer.weights.grad.any()


def test_first_layer_of_a_compiled_model_skips_the_input_gradient():
    model = nb.Sequential([nb.Dense(3, 4, "relu"), nb.Dense(4, 2)])
    model.compile("mse", "sgd")
    assert model.layers[0].input_grad is False
    assert model.layers[1].input_grad is True
    x = np.ones((2, 3), np.float32)
    model.forward(x, training=True)
    assert model.layers[0].backward(np.ones((2, 4), np.float32)) is None


def test_dense_seed_reproduces_initialization():
    a, b = nb.Dense(5, 4, seed=3), nb.Dense(5, 4, seed=3)
    np.testing.assert_array_equal(a.weights.value, b.weights.value)
    assert not np.array_equal(a.weights.value, nb.Dense(5, 4, seed=4).weights.value)
    # unseeded layers draw from nb.set_seed
    nb.set_seed(11)
    c = nb.Dense(5, 4)
    nb.set_seed(11)
    np.testing.assert_array_equal(c.weights.value, nb.Dense(5, 4).weights.value)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_dense_dtype(dtype):
    layer = nb.Dense(3, 2, "sigmoid", dtype=dtype)
    assert layer.weights.dtype == dtype and layer.biases.dtype == dtype
    assert layer.weights.grad.dtype == dtype
    assert layer.forward(np.ones((2, 3), dtype)).dtype == dtype


def test_dense_wrong_feature_count_names_the_shapes():
    layer = nb.Dense(30, 4)
    with pytest.raises(nb.NablanetError) as err:
        layer.forward(np.zeros((8, 31), np.float32))
    assert str(err.value) == "Dense expected input with 30 features, got array of shape (8, 31)"


@pytest.mark.parametrize("shape", [(30,), (8, 3, 10), (8, 30, 1)])
def test_dense_rejects_non_2d_input(shape):
    with pytest.raises(nb.NablanetError, match=r"Dense expected input with 30 features.*shape"):
        nb.Dense(30, 4).forward(np.zeros(shape, np.float32))


def test_dense_compute_output_shape_checks_features():
    assert nb.Dense(3, 7).compute_output_shape((3,)) == (7,)
    with pytest.raises(nb.NablanetError, match="Dense expected input with 3 features"):
        nb.Dense(3, 7).compute_output_shape((4,))


@pytest.mark.parametrize("bad", [0, -3, 2.5, True, "4"])
def test_dense_bad_sizes(bad):
    with pytest.raises(nb.NablanetError, match="'n_neurons' parameter of Dense must be a positive"):
        nb.Dense(3, bad)
    with pytest.raises(nb.NablanetError, match="'n_inputs' parameter of Dense"):
        nb.Dense(bad, 3)


def test_dense_bad_dtype():
    with pytest.raises(nb.NablanetError, match=r"'dtype' parameter of Dense.*float32"):
        nb.Dense(3, 2, dtype="int32")


def test_unknown_activation_lists_the_options():
    with pytest.raises(nb.NablanetError) as err:
        nb.Dense(3, 2, activation="relu6")
    message = str(err.value)
    assert "relu6" in message
    for option in ("linear", "relu", "leaky_relu", "sigmoid", "tanh", "softmax"):
        assert option in message


def test_unknown_initializer_lists_the_options():
    with pytest.raises(nb.NablanetError) as err:
        nb.Dense(3, 2, weight_initializer="he")
    assert "'he'" in str(err.value)
    assert "he_normal" in str(err.value) and "xavier_uniform" in str(err.value)


def test_unknown_layer_class_lists_known_layers():
    with pytest.raises(nb.NablanetError, match=r"Unknown layer class 'Conv9D'.*Dense"):
        layer_from_config({"class_name": "Conv9D", "config": {}})


def test_dense_regularization_loss():
    layer = nb.Dense(
        2, 2, weight_regularizer=nb.L2(0.5), bias_regularizer=nb.L1(0.25), dtype="float64"
    )
    layer.weights.value[...] = [[1, -2], [0, 3]]
    layer.biases.value[...] = [-1, 2]
    assert layer.regularization_loss() == pytest.approx(0.5 * 14 + 0.25 * 3)
    assert nb.Dense(2, 2).regularization_loss() == 0.0


def test_layer_load_state_dict_strict_errors():
    layer = nb.Dense(3, 2)
    with pytest.raises(nb.NablanetError, match=r"missing `biases`"):
        layer.load_state_dict({"weights": np.zeros((3, 2))})
    with pytest.raises(nb.NablanetError, match=r"unexpected `gamma`"):
        layer.load_state_dict({**layer.state_dict(), "gamma": np.zeros(2)})
    with pytest.raises(
        nb.NablanetError,
        match=r"shape mismatch for `weights`: file has \(2, 3\), model has \(3, 2\)",
    ):
        layer.load_state_dict({"weights": np.zeros((2, 3)), "biases": np.zeros(2)})
    # non-strict loads what is there
    layer.load_state_dict({"biases": np.ones(2)}, strict=False)
    np.testing.assert_array_equal(layer.biases.value, [1, 1])


# -- Neuron ---------------------------------------------------------------------------------------
def test_neuron_computes_one_weighted_sum():
    neuron = nb.Neuron(3, activation="sigmoid", dtype="float64")
    neuron.weights.value[...] = [1.0, -2.0, 0.5]
    neuron.bias.value[...] = 0.25
    x = np.array([[1.0, 1.0, 2.0], [0.0, 0.0, 0.0]])
    z = x @ [1.0, -2.0, 0.5] + 0.25
    np.testing.assert_allclose(neuron.forward(x), (1 / (1 + np.exp(-z)))[:, None])
    assert neuron.weights.shape == (3,) and neuron.bias.shape == ()
    assert neuron.count_params() == 4
    assert neuron.compute_output_shape((3,)) == (1,)


def test_neuron_wrong_input_names_the_shape():
    with pytest.raises(nb.NablanetError, match=r"Neuron expected input with 3 features.*\(2, 4\)"):
        nb.Neuron(3).forward(np.zeros((2, 4), np.float32))


def test_neuron_logistic_regression_learns():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((200, 2)).astype(np.float32)
    y = (x[:, 0] - x[:, 1] > 0).astype(int)
    model = nb.Sequential([nb.Neuron(2, "sigmoid")])
    model.compile("binary_crossentropy", nb.SGD(0.5))
    model.fit(x, y, epochs=30, batch_size=32, verbose=0)
    assert model.evaluate(x, y, return_dict=True)["accuracy"] >= 0.97


# -- initializers ---------------------------------------------------------------------------------
@pytest.mark.parametrize("name", sorted(initializers.INITIALIZERS))
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_initializer_shape_and_dtype(name, dtype):
    w = initializers.get(name)((40, 30), np.random.default_rng(0), dtype)
    assert w.shape == (40, 30) and w.dtype == dtype
    assert np.isfinite(w).all()


@pytest.mark.parametrize(
    ("name", "std"),
    [
        ("he_normal", np.sqrt(2 / 400)),
        ("he_uniform", np.sqrt(6 / 400) / np.sqrt(3)),
        ("xavier_normal", np.sqrt(2 / 600)),
        ("xavier_uniform", np.sqrt(6 / 600) / np.sqrt(3)),
        ("lecun_normal", np.sqrt(1 / 400)),
        ("lecun_uniform", np.sqrt(3 / 400) / np.sqrt(3)),
        ("random_normal", 0.05),
        ("random_uniform", 0.05 / np.sqrt(3)),
    ],
)
def test_initializer_scale(name, std):
    w = initializers.get(name)((400, 200), np.random.default_rng(0), np.float64)
    assert w.std() == pytest.approx(std, rel=0.03)
    assert abs(w.mean()) < 0.1 * std


def test_initializer_with_arguments():
    init = initializers.get({"name": "random_normal", "stddev": 0.01})
    w = init((400, 200), np.random.default_rng(0), np.float64)
    assert w.std() == pytest.approx(0.01, rel=0.03)
    # the same numbers as the function called with the argument
    np.testing.assert_array_equal(
        w, initializers.random_normal((400, 200), np.random.default_rng(0), np.float64, 0.01)
    )
    u = initializers.get({"name": "random_uniform", "limit": 0.2})((50,), np.random.default_rng(0))
    assert u.min() >= -0.2 and u.max() <= 0.2 and u.max() > 0.1
    # a layer keeps the dict in its config: a rebuilt layer draws the same way
    spec = {"name": "random_normal", "stddev": 0.01}
    layer = nb.Dense(30, 20, weight_initializer=spec, seed=5)
    assert layer.get_config()["weight_initializer"] == spec
    clone = nb.Dense.from_config(json.loads(json.dumps(layer.get_config())))
    np.testing.assert_array_equal(clone.weights.value, layer.weights.value)
    assert float(layer.weights.value.std()) == pytest.approx(0.01, rel=0.2)


@pytest.mark.parametrize(
    ("spec", "match"),
    [
        ({"name": "random_normal", "mean": 1.0}, r"'random_normal' has no argument 'mean'.*stddev"),
        ({"name": "he_normal", "stddev": 1.0}, r"'he_normal' has no argument 'stddev'.*none"),
        ({"name": "random_normal", "stddev": -1.0}, r"'stddev' parameter of initializer"),
        ({"stddev": 0.1}, r"Unknown initializer None"),
    ],
)
def test_initializer_argument_errors(spec, match):
    with pytest.raises(nb.NablanetError, match=match):
        initializers.get(spec)


def test_initializer_aliases_and_conv_fans():
    assert initializers.get("glorot_uniform") is initializers.xavier_uniform
    assert initializers.get("kaiming_normal") is initializers.he_normal
    assert initializers._fans((3, 3, 8, 16)) == (72, 144)
    assert initializers._fans((5, 7)) == (5, 7)
    np.testing.assert_array_equal(initializers.get("zeros")((2,), None), [0, 0])
    np.testing.assert_array_equal(initializers.get("ones")((2,), None), [1, 1])
