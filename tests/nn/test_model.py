"""The Sequential model: building, compiling, summary, state, config, fit/evaluate/predict, errors."""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import nablanet as nb


def _classifier():
    model = nb.Sequential(
        [nb.Dense(3, 16, "relu"), nb.Dropout(0.2), nb.Dense(16, 4), nb.Softmax()], name="clf"
    )
    model.compile("categorical_crossentropy", "adam")
    return model


def _xy(n=40, k=4, seed=0):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, 3)).astype(np.float32), rng.integers(0, k, n)


# -- summary -------------------------------------------------------------------------------------
def test_summary_shapes_and_parameter_counts():
    model = _classifier()
    lines = []
    assert model.summary(print_fn=lines.append) is None  # Keras: printed, not returned
    (text,) = lines
    assert model.summary(print_fn=None) == text  # print_fn=None: returned, not printed
    assert text.splitlines()[0] == 'Model: "clf"'
    rows = [line.split() for line in text.splitlines() if line[:1].isdigit()]
    assert rows == [
        ["0:", "Dense", "(relu)", "(None,", "16)", "64"],
        ["1:", "Dropout", "(None,", "16)", "0"],
        ["2:", "Dense", "(None,", "4)", "68"],
        ["3:", "Softmax", "(None,", "4)", "0"],
    ]
    assert text.splitlines()[-1] == "Total params: 132"
    assert model.count_params() == 3 * 16 + 16 + 16 * 4 + 4
    assert model.output_shapes() == [(16,), (16,), (4,), (4,)]


def test_summary_thousands_and_neuron():
    model = nb.Sequential([nb.Dense(784, 128, "relu"), nb.Dense(128, 10, "softmax")])
    text = model.summary(print_fn=None)
    assert "100,480" in text and "1,290" in text and "Total params: 101,770" in text
    neuron = nb.Sequential([nb.Neuron(30, "sigmoid")])
    assert "0: Neuron (sigmoid)" in neuron.summary(print_fn=None)
    assert neuron.output_shapes() == [(1,)]
    assert neuron.count_params() == 31


def test_summary_needs_an_input_shape_when_the_first_layer_has_none():
    model = nb.Sequential([nb.Dropout(0.2), nb.Dense(3, 2)])
    with pytest.raises(nb.NablanetError, match="summary\\(\\) needs input_shape"):
        model.output_shapes()
    text = model.summary(print_fn=None)  # the table, with what is unknown said
    assert "Output shapes unknown: give the input shape" in text
    assert [r.split()[-2:] for r in text.splitlines() if r[:1].isdigit()] == [
        ["?", "0"],
        ["?", "8"],
    ]
    assert "Total params: 8" in model.summary((3,), print_fn=None)
    with pytest.raises(nb.NablanetError, match="Dense expected input with 3 features"):
        model.summary((5,), print_fn=None)


# -- compile ---------------------------------------------------------------------------------------
def test_compile_defaults_and_metrics():
    model = _classifier()
    assert model.metrics == ["accuracy"]
    assert isinstance(model.optimizer, nb.Adam)
    reg = nb.Sequential([nb.Dense(3, 1)])
    reg.compile("mse", nb.SGD(0.1))
    assert reg.metrics == ["mae"]
    reg.compile("mae", "sgd", metrics=["mse", "mae"])
    assert reg.metrics == ["mse", "mae"]


def test_compile_errors():
    with pytest.raises(nb.NablanetError, match="Cannot compile an empty Sequential"):
        nb.Sequential().compile("mse", "sgd")
    model = nb.Sequential([nb.Dense(3, 1)])
    with pytest.raises(nb.NablanetError, match="Unknown training metric 'f1'"):
        model.compile("mse", "sgd", metrics=["f1"])
    with pytest.raises(nb.NablanetError, match="metric 'accuracy' needs a classification loss"):
        model.compile("mse", "sgd", metrics=["accuracy"])
    with pytest.raises(nb.NablanetError, match=r"Unknown loss 'hinge'; choose one of:.*mse"):
        model.compile("hinge", "sgd")
    mixed = nb.Sequential([nb.Dense(3, 2), nb.Dense(2, 1, dtype="float64")])
    with pytest.raises(nb.NablanetError, match=r"all layers must share one dtype.*float32"):
        mixed.compile("mse", "sgd")
    with pytest.raises(nb.NablanetError, match=r"Sequential\.add expects a Layer, got str"):
        nb.Sequential().add("dense")


def test_training_needs_compile():
    model = nb.Sequential([nb.Dense(3, 1)])
    x = np.zeros((4, 3), np.float32)
    with pytest.raises(nb.NablanetError, match="must be compiled before training"):
        model.fit(x, np.zeros(4), verbose=0)
    with pytest.raises(nb.NablanetError, match="must be compiled"):
        model.evaluate(x, np.zeros(4))
    assert model.predict(x).shape == (4, 1)  # predicting needs no compile


# -- fit / evaluate / predict ------------------------------------------------------------------------
def test_fit_evaluate_predict():
    model = _classifier()
    x, y = _xy()
    history = model.fit(x, y, epochs=3, batch_size=8, validation_data=(x, y), verbose=0)
    assert set(history.history) == {
        "loss",
        "accuracy",
        "val_loss",
        "val_accuracy",
        "learning_rate",
    }
    result = model.evaluate(x, y, return_dict=True)
    assert set(result) == {"loss", "accuracy"}
    # the last epoch's validation numbers are those of the final weights
    assert result["loss"] == pytest.approx(history.history["val_loss"][-1], rel=1e-6)
    assert result["accuracy"] == history.history["val_accuracy"][-1]
    p = model.predict(x)
    assert p.shape == (40, 4) and p.dtype == np.float32
    np.testing.assert_allclose(p.sum(axis=1), 1, rtol=1e-6)
    assert result["accuracy"] == pytest.approx(np.mean(p.argmax(axis=1) == y))


def test_predict_in_batches_equals_one_pass():
    model = _classifier()
    x, _ = _xy(n=37)
    np.testing.assert_allclose(model.predict(x, batch_size=5), model.predict(x), rtol=1e-6)
    assert model.predict(x.tolist()).shape == (37, 4)  # lists work too
    assert model.predict(x.astype(np.float64)).dtype == np.float32


def test_validation_split_holds_out_the_last_samples():
    model = _classifier()
    x, y = _xy(n=40)
    history = model.fit(x, y, epochs=2, validation_split=0.25, verbose=0, shuffle=False)
    val = model.evaluate(x[30:], y[30:], return_dict=True)
    assert val["loss"] == pytest.approx(history.history["val_loss"][-1], rel=1e-6)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"validation_split": 1.0}, "'validation_split' parameter of fit"),
        ({"validation_split": 0.001}, "leaves no training or no validation samples"),
        ({"epochs": 0}, "'epochs' parameter of fit must be a positive integer"),
        ({"batch_size": 0}, "'batch_size' parameter of fit must be a positive integer"),
    ],
)
def test_fit_argument_errors(kwargs, match):
    x, y = _xy()
    with pytest.raises(nb.NablanetError, match=match):
        _classifier().fit(x, y, verbose=0, **kwargs)


def test_fit_data_errors():
    model = _classifier()
    x, y = _xy()
    with pytest.raises(nb.NablanetError, match="x and y have different lengths: 40 and 39"):
        model.fit(x, y[:-1], verbose=0)
    with pytest.raises(nb.NablanetError, match="give validation_data or validation_split"):
        model.fit(x, y, validation_split=0.2, validation_data=(x, y), verbose=0)
    with pytest.raises(nb.NablanetError, match="class labels must be whole numbers"):
        model.fit(x, y + 0.5, verbose=0)
    with pytest.raises(nb.NablanetError, match="class labels must be integers, got dtype <U"):
        model.fit(x, y.astype(str), verbose=0)
    with pytest.raises(nb.NablanetError, match="model input must be numeric"):
        model.fit(x.astype(str), y, verbose=0)
    with pytest.raises(nb.NablanetError, match=r"class labels must lie in \[0, 3\]"):
        model.fit(x, y + 1, verbose=0)
    with pytest.raises(nb.NablanetError, match="Dense expected input with 3 features"):
        model.fit(x[:, :2], y, verbose=0)


def test_one_hot_and_label_targets_train_identically():
    x, y = _xy()
    results = []
    for targets in (y, np.eye(4)[y], y.astype(np.float64)):
        nb.set_seed(5)
        model = _classifier()
        model.fit(x, targets, epochs=2, batch_size=8, verbose=0)
        results.append(model.predict(x))
    np.testing.assert_allclose(results[0], results[1], rtol=1e-5, atol=1e-7)
    np.testing.assert_array_equal(results[0], results[2])


def test_binary_accuracy_with_column_outputs():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((64, 2)).astype(np.float32)
    y = (x[:, 0] > 0).astype(int)
    model = nb.Sequential([nb.Dense(2, 1, "sigmoid")])
    model.compile("binary_crossentropy", nb.SGD(1.0))
    history = model.fit(x, y, epochs=20, batch_size=16, verbose=0)
    assert history.history["accuracy"][-1] > 0.9
    p = model.predict(x)[:, 0]
    assert model.evaluate(x, y, return_dict=True)["accuracy"] == pytest.approx(
        np.mean((p > 0.5) == y)
    )
    assert (
        model.evaluate(x, y[:, None], return_dict=True)["accuracy"]
        == model.evaluate(x, y, return_dict=True)["accuracy"]
    )


def test_regression_metrics():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((16, 3)).astype(np.float32)
    y = rng.standard_normal((16, 2)).astype(np.float32)
    model = nb.Sequential([nb.Dense(3, 2)])
    model.compile("mse", "sgd", metrics=["mae", "mse"])
    out = model.evaluate(x, y, batch_size=5, return_dict=True)
    pred = model.predict(x)
    assert out["mae"] == pytest.approx(float(np.mean(np.abs(pred - y))), rel=1e-5)
    assert out["mse"] == pytest.approx(float(np.mean((pred - y) ** 2)), rel=1e-5)
    assert out["loss"] == pytest.approx(out["mse"], rel=1e-5)


def test_train_step_and_loss_on_batch():
    model = nb.Sequential(
        [nb.Dense(3, 4, "tanh", dtype="float64"), nb.Dense(4, 2, "softmax", dtype="float64")]
    )
    model.compile("categorical_crossentropy", nb.SGD(0.1))
    x = np.random.default_rng(0).standard_normal((5, 3))
    y = np.array([0, 1, 1, 0, 1])
    loss, out = model.loss_on_batch(x, y)
    model.optimizer.zero_grad()
    loss2, out2 = model.train_step(x, y)
    assert loss == pytest.approx(loss2) and np.allclose(out, out2)
    assert any(p.grad.any() for p in model.parameters())
    model.optimizer.step()
    assert model.loss_on_batch(x, y)[0] < loss


# -- numerical gradients of whole models ------------------------------------------------------------
@settings(max_examples=12, deadline=None)
@given(
    n=st.integers(1, 5),
    n_in=st.integers(1, 4),
    hidden=st.integers(1, 5),
    k=st.integers(2, 4),
    head=st.sampled_from(["softmax_inner", "softmax_layer", "sigmoid", "sigmoid_layer", "mse"]),
    reg=st.sampled_from([None, "l1", "l2"]),
    seed=st.integers(0, 10_000),
)
def test_gradcheck_model_random_architectures(n, n_in, hidden, k, head, reg, seed):
    nb.set_seed(seed)
    regularizer = {None: None, "l1": nb.L1(0.02), "l2": nb.L2(0.05)}[reg]
    kw = {"dtype": "float64", "weight_regularizer": regularizer}
    # smooth hidden activations: a leaky ReLU's 0.01 slope can make gradients so small (1e-5)
    # that the central differences' round-off alone exceeds the relative tolerance
    layers = [nb.Dense(n_in, hidden, "tanh", **kw), nb.Dense(hidden, hidden, "sigmoid", **kw)]
    rng = np.random.default_rng(seed)
    if head == "softmax_inner":
        layers.append(nb.Dense(hidden, k, "softmax", **kw))
        loss, y = "categorical_crossentropy", rng.integers(0, k, n)
    elif head == "softmax_layer":
        layers += [nb.Dense(hidden, k, **kw), nb.Softmax()]
        loss, y = "categorical_crossentropy", np.eye(k)[rng.integers(0, k, n)]
    elif head == "sigmoid":
        layers.append(nb.Dense(hidden, 1, "sigmoid", **kw))
        loss, y = "binary_crossentropy", rng.integers(0, 2, n)
    elif head == "sigmoid_layer":
        layers += [nb.Dense(hidden, 1, **kw), nb.Sigmoid()]  # not fused: BCE on probabilities
        loss, y = "binary_crossentropy", rng.integers(0, 2, n)
    else:
        layers.append(nb.Dense(hidden, k, **kw))
        loss, y = "mse", rng.standard_normal((n, k))
    model = nb.Sequential(layers)
    model.compile(loss, "sgd")
    result = nb.gradcheck_model(model, rng.standard_normal((n, n_in)), y)
    assert result.ok, str(result)


# -- state and config -----------------------------------------------------------------------------
def test_state_dict_names_and_strict_errors():
    model = _classifier()
    state = model.state_dict()
    assert list(state) == [
        "layers.0.weights",
        "layers.0.biases",
        "layers.2.weights",
        "layers.2.biases",
    ]
    assert list(model.named_parameters()) == list(state)
    with pytest.raises(nb.NablanetError, match=r"missing `layers.2.biases`"):
        model.load_state_dict({k: v for k, v in state.items() if k != "layers.2.biases"})
    with pytest.raises(nb.NablanetError, match=r"unexpected `layers.5.weights`"):
        model.load_state_dict({**state, "layers.5.weights": np.zeros(2)})
    with pytest.raises(
        nb.NablanetError,
        match=r"shape mismatch for `layers.2.weights`: file has \(16, 5\), model has \(16, 4\)",
    ):
        model.load_state_dict({**state, "layers.2.weights": np.zeros((16, 5))})


def test_load_state_dict_writes_in_place():
    model = _classifier()
    other = _classifier()
    flat_before = model.layers[0].weights.value
    model.load_state_dict(other.state_dict())
    assert model.layers[0].weights.value is flat_before  # still a view of the flat buffer
    x, _ = _xy()
    np.testing.assert_array_equal(model.predict(x), other.predict(x))
    # and the optimizer still updates the loaded values
    model.fit(x, np.zeros(40, int), epochs=1, verbose=0)
    assert not np.array_equal(model.layers[0].weights.value, other.layers[0].weights.value)


def test_config_round_trip():
    model = _classifier()
    config = model.get_config()
    assert json.loads(json.dumps(config)) == config
    again = nb.Sequential.from_config(json.loads(json.dumps(config)))
    assert again.get_config() == config
    assert again.name == "clf" and len(again.layers) == 4
    assert "Sequential(name='clf', layers=4)" == repr(model)


def test_adding_a_layer_needs_a_new_compile():
    model = _classifier()
    model.add(nb.Dense(4, 2))
    x, y = _xy()
    with pytest.raises(nb.NablanetError, match="must be compiled"):
        model.fit(x, y, verbose=0)


def test_column_of_class_labels_is_read_as_labels():
    model = nb.Sequential([nb.Dense(3, 8, "relu"), nb.Dense(8, 4, "softmax")])
    model.compile("categorical_crossentropy", "adam")
    x, y = _xy()
    expected = model.evaluate(x, y, return_dict=True)
    assert model.evaluate(x, y[:, None], return_dict=True) == expected
    assert model.evaluate(x, y[:, None].astype(np.float64), return_dict=True) == expected
    history = model.fit(x, y[:, None], epochs=1, batch_size=40, shuffle=False, verbose=0)
    assert history.history["accuracy"][0] == pytest.approx(expected["accuracy"])
