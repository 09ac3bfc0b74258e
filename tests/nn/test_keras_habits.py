"""Issue 14, the Python API: the habits people bring from Keras and PyTorch just work.

One test (or a few) per habit: deferred builds (``Dense(32)``, ``Conv2D(filters=32,
kernel_size=3)``, ``input_shape=``, ``model.build``), Conv2D's unambiguous forms, Keras'
``evaluate``/``summary``/``predict``, sample and class weights, the missing callbacks, Keras'
names, ``gradcheck_model`` on float32 models, and the validation of targets.
"""

from __future__ import annotations

import csv

import numpy as np
import pytest

import nablanet as nb
from nablanet.nn import losses as losses_mod
from nablanet.nn.gradcheck import numerical_gradient


def _blobs(n=60, k=3, d=4, seed=0):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, k, n)
    x = (rng.standard_normal((n, d)) + 2.0 * np.eye(k, d)[y]).astype(np.float32)
    return x, y


# -- deferred build -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "make",
    [
        lambda: nb.Dense(32, activation="relu"),
        lambda: nb.Dense(32, "relu"),
        lambda: nb.Dense(units=32, activation="relu"),
        lambda: nb.Dense(n_neurons=32, activation="relu"),
    ],
)
def test_dense_keras_forms_build_on_first_use(make):
    layer = make()
    assert not layer.built and layer.n_inputs is None and layer.n_neurons == 32
    assert layer.parameters() == [] and layer.count_params() == 0
    assert layer.activation.name == "relu"
    out = layer.forward(np.ones((2, 7), np.float32))
    assert out.shape == (2, 32) and layer.built and layer.n_inputs == 7
    assert layer.weights.shape == (7, 32)
    assert layer.get_config()["n_inputs"] == 7  # a saved model is built


@pytest.mark.parametrize(
    "make",
    [
        lambda: nb.Dense(32, input_dim=784),
        lambda: nb.Dense(32, input_shape=(784,)),
        lambda: nb.Dense(units=32, input_shape=[784]),
        lambda: nb.Dense(784, 32),  # the documented form keeps working
        lambda: nb.Dense(n_inputs=784, n_neurons=32),
    ],
)
def test_dense_input_size_given_builds_at_once(make):
    layer = make()
    assert layer.built and (layer.n_inputs, layer.n_neurons) == (784, 32)
    assert layer.weights.shape == (784, 32)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({}, "Dense needs its number of neurons"),
        ({"units": 3, "n_neurons": 4}, "units=3 and n_neurons=4: they are the same argument"),
        ({"n_inputs": 4, "n_neurons": 3, "input_dim": 5}, "n_inputs=4 and input_dim=5"),
        ({"units": 3, "input_shape": (28, 28)}, "input_shape must be \\(n_features,\\)"),
        ({"units": 0}, "'n_neurons' parameter of Dense"),
    ],
)
def test_dense_contradictory_sizes_are_refused(kwargs, match):
    with pytest.raises(nb.NablanetError, match=match):
        nb.Dense(**kwargs)


def test_deferred_layers_get_the_eager_weights_under_the_global_seed():
    nb.set_seed(7)
    eager = nb.Sequential(
        [
            nb.Conv2D(1, 4, 3, padding="same", activation="relu"),
            nb.MaxPool2D(2),
            nb.Flatten(),
            nb.Dense(4 * 3 * 3, 8, "relu"),
            nb.Dense(8, 3, "softmax"),
        ]
    )
    nb.set_seed(7)
    deferred = nb.Sequential(
        [
            nb.Conv2D(filters=4, kernel_size=3, padding="same", activation="relu"),
            nb.MaxPool2D(2),
            nb.Flatten(),
            nb.Dense(8, activation="relu"),
            nb.Dense(3, "softmax"),
        ]
    )
    assert not deferred.built
    deferred.build((None, 6, 6, 1))
    assert deferred.built
    a, b = eager.state_dict(), deferred.state_dict()
    assert a.keys() == b.keys()
    for key in a:
        np.testing.assert_array_equal(a[key], b[key], err_msg=key)
    # an explicit seed gives the same weights too, whatever the global generator did since
    np.testing.assert_array_equal(
        nb.Dense(5, 2, seed=3).weights.value, _built(nb.Dense(2, seed=3), (5,)).weights.value
    )


def _built(layer, shape):
    layer.build(shape)
    return layer


def test_batch_normalization_without_its_size_builds_on_first_use():
    nb.set_seed(0)
    model = nb.Sequential(
        [nb.Conv2D(filters=3, kernel_size=3), nb.BatchNormalization(), nb.Flatten(), nb.Dense(2)]
    )
    assert not model.layers[1].built and model.layers[1].state_dict() == {}
    model.build((None, 5, 5, 1))
    assert model.layers[1].n_features == 3
    assert sorted(model.layers[1].state_dict()) == ["beta", "gamma", "running_mean", "running_var"]
    assert model.layers[1].get_config()["n_features"] == 3


def test_compile_before_the_build_and_fit_builds_from_the_first_batch():
    x, y = _blobs()
    nb.set_seed(0)
    model = nb.Sequential([nb.Dense(16, activation="relu"), nb.Dense(3, activation="softmax")])
    model.compile(loss="sparse_categorical_crossentropy", optimizer=nb.Adam(0.05))
    assert not model.built
    history = model.fit(x, y, epochs=30, batch_size=16, verbose=0)
    assert model.built and model.layers[0].n_inputs == 4
    assert history["loss"][-1] < history["loss"][0]
    assert model.evaluate(x, y, return_dict=True)["accuracy"] > 0.9
    # the first layer needs no input gradient, as for an eager model
    assert model.layers[0].input_grad is False


def test_predict_builds_an_uncompiled_deferred_model():
    model = nb.Sequential([nb.Dense(3, input_shape=(4,)), nb.Dense(2)])
    assert model.built  # as Keras: input_shape= on the first layer builds the rest at once
    assert model.predict(np.zeros((5, 4))).shape == (5, 2)
    assert model.built and model.count_params() == 4 * 3 + 3 + 3 * 2 + 2


def test_sequential_build_takes_the_batch_axis_and_names_the_failing_layer():
    model = nb.Sequential([nb.Dense(8), nb.Dense(2)])
    with pytest.raises(nb.NablanetError, match="with its batch axis"):
        model.build((784,))
    conv = nb.Sequential([nb.Conv2D(filters=2, kernel_size=3), nb.Dense(2)])
    with pytest.raises(nb.NablanetError, match=r"cannot build layer 1 \(Dense\).*Flatten"):
        conv.build((None, 8, 8, 1))


def test_summary_before_the_build_says_what_is_unknown():
    model = nb.Sequential([nb.Dense(32, activation="relu"), nb.Dense(10, "softmax")])
    text = model.summary(print_fn=None)
    rows = [r.split() for r in text.splitlines() if r[:1].isdigit()]
    assert rows == [["0:", "Dense", "(relu)", "?", "?"], ["1:", "Dense", "(softmax)", "?", "?"]]
    assert "Total params: unknown: not built, the input size of layers 0 (Dense), 1 (Dense)" in text
    assert "model.build((None, n_features))" in text
    model.build((None, 784))
    text = model.summary(print_fn=None)
    assert "(None, 32)" in text and "Total params: 25,450" in text


def test_input_shape_on_a_first_conv_layer_lets_summary_know_the_image_size():
    model = nb.Sequential(
        [
            nb.Conv2D(filters=4, kernel_size=3, padding="same", input_shape=(28, 28, 1)),
            nb.MaxPool2D(2),
            nb.Flatten(),
            nb.Dense(10, "softmax"),
        ]
    )
    assert model.layers[0].built and model.layers[0].in_channels == 1
    text = model.summary(print_fn=None)
    # as Keras: the image size of the first layer builds the whole model at once
    assert "(None, 14, 14, 4)" in text and "?" not in text and "Total params: 7,890" in text
    model.build((None, 28, 28, 1))
    assert "Total params: 7,890" in model.summary(print_fn=None)


def test_a_deferred_model_saves_loads_and_refuses_to_save_unbuilt(tmp_path):
    model = nb.Sequential([nb.Dense(8, activation="relu"), nb.Dense(1, "sigmoid")])
    model.compile("binary_crossentropy", "adam")
    with pytest.raises(nb.NablanetError, match="Cannot save a model that is not built"):
        model.save(tmp_path / "unbuilt.npz")
    assert not (tmp_path / "unbuilt.npz").exists()
    x = np.random.default_rng(0).standard_normal((6, 3)).astype(np.float32)
    model.fit(x, (x[:, 0] > 0).astype(int), epochs=2, verbose=0)
    path = model.save(tmp_path / "model.npz")
    again = nb.load_model(path)
    assert again.layers[0].n_inputs == 3
    np.testing.assert_array_equal(again.predict(x), model.predict(x))


def test_a_file_holding_an_unbuilt_layer_is_refused(tmp_path):
    from nablanet.nn.serialization import save_model

    model = nb.Sequential([nb.Dense(4)])  # what save() refuses, written behind its back
    path = save_model(model, tmp_path / "crafted.npz")
    with pytest.raises(
        nb.ModelFileError, match="corrupt architecture \\(layer 0 has no input size"
    ):
        nb.load_model(path)


# -- Conv2D's forms -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("make", "in_channels"),
    [
        (lambda: nb.Conv2D(filters=32, kernel_size=3), None),  # Keras
        (lambda: nb.Conv2D(32, kernel_size=3), None),  # Keras, one positional = filters
        (lambda: nb.Conv2D(in_channels=1, out_channels=32, kernel_size=3), 1),  # PyTorch words
        (lambda: nb.Conv2D(1, 32, 3), 1),  # PyTorch order, three numbers
        (lambda: nb.Conv2D(1, 32, kernel_size=3), 1),
        (lambda: nb.Conv2D(1, out_channels=32, kernel_size=3), 1),
        (lambda: nb.Conv2D(filters=32, kernel_size=3, input_shape=(28, 28, 1)), 1),
        (lambda: nb.Conv2D(filters=32, kernel_size=(3, 3), strides=1), None),
        (lambda: nb.Conv2D(32, (3, 3)), None),  # a pair can only be a kernel size
    ],
)
def test_conv2d_forms(make, in_channels):
    conv = make()
    assert (conv.in_channels, conv.out_channels, conv.kernel_size) == (in_channels, 32, (3, 3))
    out = conv.forward(np.zeros((2, 8, 8, 1), np.float32))
    assert out.shape == (2, 6, 6, 32) and conv.weights.shape == (3, 3, 1, 32)


def test_the_ambiguous_conv2d_call_is_refused_with_both_readings():
    with pytest.raises(nb.NablanetError) as info:
        nb.Conv2D(32, 3)
    message = str(info.value)
    assert "Conv2D(32, 3) is ambiguous" in message
    assert "Conv2D(filters=32, kernel_size=3)" in message
    assert "Conv2D(in_channels=32, out_channels=3" in message


@pytest.mark.parametrize(
    ("args", "kwargs", "match"),
    [
        ((1, 2, 3, 1), {}, "at most three positional arguments"),
        ((), {"filters": 4, "out_channels": 5}, "filters=4 and out_channels=5"),
        ((1, 4), {"in_channels": 1, "kernel_size": 3}, "in_channels both by position and by name"),
        ((), {"kernel_size": 3}, "needs its number of filters"),
        ((), {"filters": 4, "input_shape": (28, 28)}, "\\(height, width, channels\\)"),
        ((3, 4, 3), {"input_shape": (28, 28, 1)}, "in_channels=3 and input_shape"),
        ((), {"filters": 4, "stride": 2, "strides": 1}, "stride=2 and strides=1"),
    ],
)
def test_conv2d_contradictions_are_refused(args, kwargs, match):
    with pytest.raises(nb.NablanetError, match=match):
        nb.Conv2D(*args, **kwargs)


def test_an_nchw_batch_gets_a_channels_last_hint():
    built = nb.Sequential([nb.Conv2D(1, 2, 3), nb.Flatten()])
    with pytest.raises(nb.NablanetError, match=r"channels first, NCHW.*transpose\(0, 2, 3, 1\)"):
        built.predict(np.zeros((2, 1, 28, 28)))
    deferred = nb.Sequential([nb.Conv2D(filters=2, kernel_size=3), nb.Flatten()])
    with pytest.raises(nb.NablanetError, match=r"looks channels first.*transpose\(0, 2, 3, 1\)"):
        deferred.predict(np.zeros((2, 3, 28, 28)))


# -- evaluate, predict, summary ---------------------------------------------------------------
def _fitted(metrics=("accuracy",)):
    x, y = _blobs()
    model = nb.Sequential([nb.Dense(4, 8, "relu", seed=0), nb.Dense(8, 3, "softmax", seed=1)])
    model.compile("sparse_categorical_crossentropy", nb.Adam(0.05), metrics=list(metrics))
    model.fit(x, y, epochs=5, verbose=0, seed=0)
    return model, x, y


def test_evaluate_returns_like_keras():
    model, x, y = _fitted()
    loss, acc = model.evaluate(x, y)  # a list, not the dict's keys
    logs = model.evaluate(x, y, return_dict=True)
    assert (loss, acc) == (logs["loss"], logs["accuracy"])
    assert model.metrics_names == ["loss", "accuracy"]
    assert model.evaluate(x, y, batch_size=7) == pytest.approx([loss, acc], rel=1e-6)
    bare, _, _ = _fitted(metrics=())
    single = bare.evaluate(x, y)
    assert isinstance(single, float)  # the loss alone when no metric is logged
    assert single == bare.evaluate(x, y, return_dict=True)["loss"]


def test_evaluate_and_predict_take_verbose_and_batch_size(capsys):
    model, x, y = _fitted()
    model.evaluate(x, y, verbose=0)
    model.predict(x, verbose=0, batch_size=16)
    assert capsys.readouterr().out == ""
    model.evaluate(x, y, verbose=1)
    assert "loss: " in capsys.readouterr().out
    np.testing.assert_allclose(model.predict(x, batch_size=7), model.predict(x), rtol=1e-6)
    with pytest.raises(nb.NablanetError, match="'batch_size' parameter of predict"):
        model.predict(x, batch_size=0)


def test_summary_prints_and_returns_none_print_fn_gets_the_text(capsys):
    model, _, _ = _fitted()
    assert model.summary() is None
    printed = capsys.readouterr().out
    assert printed.count('Model: "sequential"') == 1
    lines = []
    model.summary(print_fn=lines.append)
    assert lines == [printed.rstrip("\n")]
    assert model.summary(print_fn=None) == lines[0]


# -- sample and class weights ------------------------------------------------------------------
@pytest.mark.parametrize(
    ("loss", "y_true", "y_pred"),
    [
        (losses_mod.MeanSquaredError(), "reg", "any"),
        (losses_mod.MeanAbsoluteError(), "reg", "any"),
        (losses_mod.BinaryCrossentropy(), "bin", "prob1"),
        (losses_mod.SigmoidBinaryCrossentropy(), "bin", "any1"),
        (losses_mod.CategoricalCrossentropy(), "labels", "probk"),
        (losses_mod.CategoricalCrossentropy(), "onehot", "probk"),
        (losses_mod.SoftmaxCrossentropy(), "labels", "any"),
    ],
)
def test_weighted_losses_equal_the_direct_computation(loss, y_true, y_pred):
    rng = np.random.default_rng(0)
    n, k = 6, 3
    w = rng.uniform(0.0, 3.0, n)
    targets = {
        "reg": rng.standard_normal((n, k)),
        "bin": rng.integers(0, 2, (n, 1)).astype(float),
        "labels": rng.integers(0, k, n),
        "onehot": np.eye(k)[rng.integers(0, k, n)],
    }[y_true]
    z = rng.standard_normal((n, 1 if y_pred.endswith("1") else k))
    if y_pred.startswith("prob"):
        z = 1 / (1 + np.exp(-z)) if z.shape[1] == 1 else np.exp(z) / np.exp(z).sum(1, keepdims=True)
    per_sample = loss.sample_losses(targets, z)
    assert per_sample.shape == (n,)
    assert float(per_sample.mean()) == pytest.approx(loss.loss(targets, z), rel=1e-12)
    value, grad, _ = loss.weighted_loss_gradient_output(targets, z, w)
    direct = float(np.sum(w * per_sample) / n)  # Keras' sum_over_batch_size
    assert value == pytest.approx(direct, rel=1e-12)
    numeric = numerical_gradient(
        lambda: float(np.sum(w * loss.sample_losses(targets, z)) / n), z, 1e-6
    )
    np.testing.assert_allclose(grad, numeric, rtol=1e-5, atol=1e-8)


def test_fit_with_sample_weight_takes_the_weighted_gradient_step():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((8, 3))
    y = rng.standard_normal((8, 1))
    w = rng.uniform(0.0, 2.0, 8)
    model = nb.Sequential([nb.Dense(3, 1, dtype="float64", seed=0)])
    model.compile("mse", nb.SGD(0.1))
    w0, b0 = model.layers[0].weights.value.copy(), model.layers[0].biases.value.copy()
    history = model.fit(x, y, epochs=1, batch_size=8, shuffle=False, sample_weight=w, verbose=0)
    residual = x @ w0 + b0 - y
    assert history["loss"][0] == pytest.approx(np.sum(w * residual[:, 0] ** 2) / 8, rel=1e-12)
    g = 2 * w[:, None] * residual / 8  # d(sum w_i r_i^2 / n) / d prediction
    np.testing.assert_allclose(model.layers[0].weights.value, w0 - 0.1 * x.T @ g, rtol=1e-12)
    np.testing.assert_allclose(model.layers[0].biases.value, b0 - 0.1 * g.sum(0), rtol=1e-12)


def test_class_weight_is_a_sample_weight_per_class_and_unit_weights_change_nothing():
    x, y = _blobs(n=40)

    def trained(**kw):
        model = nb.Sequential([nb.Dense(4, 3, "softmax", seed=0)])
        model.compile("sparse_categorical_crossentropy", nb.SGD(0.1))
        model.fit(x, y, epochs=3, batch_size=8, verbose=0, seed=1, **kw)
        return model.layers[0].weights.value

    plain = trained()
    np.testing.assert_array_equal(trained(sample_weight=np.ones(len(y))), plain)
    by_class = trained(class_weight={0: 1.0, 1: 3.0, 2: 0.5})
    by_sample = trained(sample_weight=np.array([1.0, 3.0, 0.5])[y])
    np.testing.assert_array_equal(by_class, by_sample)
    assert not np.allclose(by_class, plain)
    # one-hot targets find their classes too
    np.testing.assert_array_equal(trained_onehot(x, y, {0: 1.0, 1: 3.0, 2: 0.5}), by_class)


def trained_onehot(x, y, class_weight):
    model = nb.Sequential([nb.Dense(4, 3, "softmax", seed=0)])
    model.compile("categorical_crossentropy", nb.SGD(0.1))
    model.fit(x, np.eye(3)[y], epochs=3, batch_size=8, verbose=0, seed=1, class_weight=class_weight)
    return model.layers[0].weights.value


def test_sample_weight_errors_and_validation_split():
    x, y = _blobs(n=40)
    model = nb.Sequential([nb.Dense(4, 3, "softmax", seed=0)])
    model.compile("sparse_categorical_crossentropy", "adam")
    with pytest.raises(nb.NablanetError, match="sample_weight must have shape \\(40,\\)"):
        model.fit(x, y, sample_weight=np.ones(39), verbose=0)
    with pytest.raises(nb.NablanetError, match="non-negative"):
        model.fit(x, y, sample_weight=-np.ones(40), verbose=0)
    with pytest.raises(nb.NablanetError, match="class_weight keys must be class indices"):
        model.fit(x, y, class_weight={"cat": 2.0}, verbose=0)
    # validation_split holds out the last samples, and their weights
    history = model.fit(x, y, epochs=1, validation_split=0.25, sample_weight=np.ones(40), verbose=0)
    assert "val_loss" in history.history


# -- callbacks -------------------------------------------------------------------------------------
class _Trainer:  # what a callback sees: an optimizer and flags
    def __init__(self, lr=1.0):
        self.optimizer = nb.SGD(lr)
        self.scheduler = None
        self.resuming = False


def _plateau_rates(values, **kwargs):
    cb = nb.ReduceLROnPlateau(monitor="val_loss", **kwargs)
    cb.set_trainer(_Trainer())
    cb.on_train_begin()
    rates = []
    for epoch, value in enumerate(values):
        cb.on_epoch_end(epoch, {"val_loss": value})
        rates.append(cb.trainer.optimizer.learning_rate)
    return rates


def test_reduce_lr_on_plateau_follows_keras_and_pytorch():
    # patience 2: two epochs without improvement, then the rate is multiplied by the factor
    assert _plateau_rates([1, 1, 1, 1, 1], factor=0.5, patience=2) == [1, 1, 0.5, 0.5, 0.25]
    # min_delta: a gain smaller than it is no improvement
    assert _plateau_rates([1, 0.99, 0.98], factor=0.5, patience=1, min_delta=0.05) == [1, 0.5, 0.25]
    # cooldown: after a reduction, that many epochs are not counted
    rates = _plateau_rates([1] * 6, factor=0.5, patience=1, cooldown=2)
    assert rates == [1, 0.5, 0.5, 0.5, 0.25, 0.25]
    # min_lr is a floor
    assert _plateau_rates([1] * 5, factor=0.1, patience=1, min_lr=0.05) == [
        1,
        0.1,
        0.05,
        0.05,
        0.05,
    ]
    # mode="max": higher is better
    cb_rates = _plateau_rates([0.5, 0.6, 0.6, 0.7], factor=0.5, patience=1, mode="max")
    assert cb_rates == [1, 1, 0.5, 0.5]
    with pytest.raises(nb.NablanetError, match="'factor' parameter of ReduceLROnPlateau"):
        nb.ReduceLROnPlateau(factor=1.0)


def test_reduce_lr_on_plateau_in_fit():
    x, y = _blobs(n=32)
    model = nb.Sequential([nb.Dense(4, 3, "softmax", seed=0)])
    model.compile("sparse_categorical_crossentropy", nb.SGD(0.1))
    plateau = nb.ReduceLROnPlateau(monitor="loss", factor=0.5, patience=0, min_delta=10.0)
    history = model.fit(x, y, epochs=3, verbose=0, callbacks=[plateau])
    # epoch 1 sets the best; epochs 2 and 3 do not beat it by min_delta: halved after each
    assert history["learning_rate"] == [0.1, 0.1, 0.05]  # each epoch's own rate is logged
    with pytest.raises(nb.NablanetError, match="cannot be combined with a scheduler"):
        model.fit(x, y, epochs=1, verbose=0, callbacks=[plateau], scheduler=nb.StepDecay(1))


def test_csv_logger_writes_one_row_per_epoch(tmp_path):
    x, y = _blobs(n=32)
    model = nb.Sequential([nb.Dense(4, 3, "softmax", seed=0)])
    model.compile("sparse_categorical_crossentropy", "adam", metrics=["accuracy"])
    path = tmp_path / "logs" / "training.csv"
    history = model.fit(
        x, y, epochs=3, validation_split=0.25, verbose=0, callbacks=[nb.CSVLogger(path)]
    )
    rows = list(csv.DictReader(path.open()))
    assert [int(r["epoch"]) for r in rows] == [0, 1, 2]
    assert list(rows[0]) == ["epoch", *sorted(history.history)]
    assert [float(r["val_loss"]) for r in rows] == history["val_loss"]
    model.fit(x, y, epochs=1, verbose=0, callbacks=[nb.CSVLogger(path, append=True)])
    lines = path.read_text().splitlines()
    assert len(lines) == 5 and lines.count(lines[0]) == 1  # appended, one header


def test_model_checkpoint_save_best_only_as_keras_names_it(tmp_path):
    x, y = _blobs(n=40)
    model = nb.Sequential([nb.Dense(4, 3, "softmax", seed=0)])
    model.compile("sparse_categorical_crossentropy", nb.SGD(0.5))
    checkpoint = nb.ModelCheckpoint(
        tmp_path / "best-{epoch:02d}.npz", monitor="val_loss", save_best_only=True, verbose=1
    )
    # validation labels that disagree with the training ones: val_loss gets worse as it learns
    noisy = (y[:10] + 1) % 3
    history = model.fit(
        x, y, epochs=8, validation_data=(x[:10], noisy), verbose=0, callbacks=[checkpoint]
    )
    best, expected = np.inf, []
    for epoch, value in enumerate(history["val_loss"]):
        if value < best:
            best = value
            expected.append(f"best-{epoch + 1:02d}.npz")
    assert sorted(p.name for p in tmp_path.iterdir()) == expected
    assert len(expected) < 8  # some epochs did not improve (and wrote nothing)


# -- Keras' names ----------------------------------------------------------------------------------
def test_keras_names_are_aliases():
    x, y = _blobs()
    model = nb.Sequential([nb.Dense(4, 3, "softmax", seed=0)])
    model.compile(loss="sparse_categorical_crossentropy", optimizer="adam", metrics=["acc"])
    assert isinstance(model.optimizer, nb.Adam) and model.metrics == ["accuracy"]
    history = model.fit(x, y, epochs=2, verbose=0)  # integer labels
    assert set(history.history) >= {"loss", "accuracy"}
    model.compile(loss="mse", optimizer="sgd", metrics=["mean_absolute_error"])
    assert model.metrics == ["mae"]


@pytest.mark.parametrize(
    ("make", "match"),
    [
        (lambda: nb.Adam(lr=0.01), "Adam has no argument 'lr'; did you mean learning_rate\\?"),
        (lambda: nb.SGD(lr=0.01), "SGD has no argument 'lr'; did you mean learning_rate\\?"),
        (lambda: nb.RMSprop(lr=0.01), "did you mean learning_rate"),
        (lambda: nb.Adagrad(lr=0.01), "did you mean learning_rate"),
        (lambda: nb.Adam(eps=1e-7), "did you mean epsilon"),
        (lambda: nb.Adam(betas=(0.9, 0.99)), "did you mean beta_1=..., beta_2=..."),
        (lambda: nb.RMSprop(alpha=0.9), "did you mean rho"),
        (lambda: nb.Adam(weight_decay=0.01), "weight_regularizer=L2"),
        (lambda: nb.optimizers.get("adam", lr=0.01), "did you mean learning_rate"),
    ],
)
def test_optimizer_misspellings_are_refused_with_the_right_name(make, match):
    with pytest.raises(nb.NablanetError, match=match):
        make()


# -- gradcheck_model ------------------------------------------------------------------------------
def test_gradcheck_model_checks_a_float32_model_in_float64_on_a_copy():
    x, y = _blobs(n=6)
    model = nb.Sequential(
        [nb.Dense(4, 5, "tanh", seed=0), nb.Dropout(0.3, seed=1), nb.Dense(5, 3, "softmax", seed=2)]
    )
    model.compile("sparse_categorical_crossentropy", "adam")
    before = model.state_dict()
    result = nb.gradcheck_model(model, x, y)
    assert result.ok, str(result)  # float32 central differences alone would be ~1e-2 off
    assert max(result.errors.values()) < 1e-6
    assert model.dtype == np.float32
    for key, value in model.state_dict().items():
        np.testing.assert_array_equal(value, before[key])


def test_gradcheck_model_on_an_uncompiled_model_is_a_clear_error():
    model = nb.Sequential([nb.Dense(3, 2, seed=0)])
    with pytest.raises(nb.NablanetError, match="gradcheck_model needs a compiled model"):
        nb.gradcheck_model(model, np.zeros((2, 3)), np.zeros(2))


# -- targets ---------------------------------------------------------------------------------------
def _binary_model():
    model = nb.Sequential([nb.Dense(4, 1, "sigmoid", seed=0)])
    model.compile("binary_crossentropy", "adam")
    return model


def test_binary_crossentropy_refuses_three_classes():
    x, _ = _blobs(n=9)
    with pytest.raises(
        nb.NablanetError,
        match=r"binary_crossentropy needs targets in \{0, 1\}.*3 distinct values.*softmax output "
        r"of 3 units with loss='sparse_categorical_crossentropy'",
    ):
        _binary_model().fit(x, np.arange(9) % 3, verbose=0)
    _binary_model().fit(x, np.linspace(0, 1, 9), verbose=0)  # probabilities are fine
    _binary_model().fit(x, (np.arange(9) % 2).astype(bool), verbose=0)


def test_a_regression_target_to_a_softmax_head_is_refused():
    x, _ = _blobs(n=10)
    model = nb.Sequential([nb.Dense(4, 3, "softmax", seed=0)])
    model.compile("categorical_crossentropy", "adam")
    with pytest.raises(
        nb.NablanetError,
        match=r"class labels must be whole numbers.*looks like a regression target",
    ):
        model.fit(x, np.random.default_rng(0).uniform(0, 2, 10), verbose=0)
    with pytest.raises(nb.NablanetError, match="one-hot targets must lie in \\[0, 1\\]"):
        model.fit(x, np.random.default_rng(0).normal(0, 3, (10, 3)), verbose=0)
    with pytest.raises(nb.NablanetError, match="labels up to 5: the output layer needs 6 units"):
        model.fit(x, np.arange(10) % 6, verbose=0)
    with pytest.raises(nb.NablanetError, match="one-hot targets have 4 columns"):
        model.evaluate(x, np.eye(4)[np.arange(10) % 4])
    model.fit(x, (np.arange(10) % 3).astype(np.float64), verbose=0)  # whole floats are labels


def test_check_targets_is_public_and_leaves_regression_targets_alone():
    y = np.array([0.3, 1.7])
    assert nb.check_targets(y, losses_mod.MeanSquaredError()) is y
    assert nb.check_targets([1.0, 0.0], losses_mod.CategoricalCrossentropy()).dtype.kind == "i"


# -- found by QA (a new user's script) -------------------------------------------------------------
def test_input_shape_on_the_first_layer_builds_the_whole_model(tmp_path):
    # Keras: Sequential([Dense(64, input_shape=(4,)), Dense(3)]) is built at once, so
    # summary() counts every parameter and save() works before any fit
    model = nb.Sequential(
        [nb.Dense(64, activation="relu", input_shape=(4,)), nb.Dense(3, activation="softmax")]
    )
    assert model.built and model.count_params() == 4 * 64 + 64 + 64 * 3 + 3
    assert "Total params: 515" in model.summary(print_fn=None)
    model.save(tmp_path / "m.npz")
    assert nb.load_model(tmp_path / "m.npz").count_params() == 515
    added = nb.Sequential()
    added.add(nb.Conv2D(filters=4, kernel_size=3, input_shape=(8, 8, 1)))
    added.add(nb.Flatten())
    added.add(nb.Dense(2))
    assert added.built and added.layers[-1].n_inputs == 6 * 6 * 4


def test_callbacks_verbose_1_prints_their_messages_as_keras(tmp_path, capsys):
    # verbose=1 on EarlyStopping / ModelCheckpoint / ReduceLROnPlateau printed nothing in a
    # script (the messages went only to the "nablanet" logger, which a script does not show)
    x, y = _blobs()
    model = nb.Sequential([nb.Dense(3, activation="softmax", input_shape=(4,))])
    model.compile(loss="sparse_categorical_crossentropy", optimizer=nb.SGD(1e-9))
    callbacks = [
        nb.ReduceLROnPlateau(monitor="loss", patience=1, factor=0.5, min_delta=1.0, verbose=1),
        nb.ModelCheckpoint(tmp_path / "best.npz", monitor="loss", verbose=1),
        nb.EarlyStopping(monitor="loss", patience=2, min_delta=1.0, verbose=1),
    ]
    model.fit(x, y, epochs=10, verbose=0, callbacks=callbacks)
    out = capsys.readouterr().out
    assert "ReduceLROnPlateau: loss did not improve for 1 epochs" in out
    assert f"ModelCheckpoint: epoch 1 saved to {tmp_path / 'best.npz'}" in out
    assert "Early stopping at epoch 3" in out and "Restored the weights of epoch 1" in out
    quiet = nb.EarlyStopping(monitor="loss", patience=1, min_delta=1.0)  # verbose=0: silent
    model.fit(x, y, epochs=5, verbose=0, callbacks=[quiet])
    assert capsys.readouterr().out == ""


def test_keras_module_paths_work_from_the_top_level():
    # `nb.layers.Dense`, `nb.callbacks.EarlyStopping`, as `keras.layers.Dense` (were AttributeError)
    assert nb.layers.Dense is nb.Dense and nb.layers.Conv2D is nb.Conv2D
    assert nb.callbacks.EarlyStopping is nb.EarlyStopping
    assert nb.callbacks.ReduceLROnPlateau is nb.ReduceLROnPlateau
    assert nb.optimizers.Adam is nb.Adam and nb.losses.MeanSquaredError is nb.MeanSquaredError
    assert {"layers", "callbacks"} <= set(nb.__all__)


def test_keras_loss_arguments_are_refused_in_one_line_or_accepted_when_they_mean_the_class():
    # CategoricalCrossentropy(from_logits=True) was a bare TypeError ("takes no arguments")
    with pytest.raises(nb.NablanetError, match=r"for logits use SoftmaxCrossentropy\(\)"):
        nb.CategoricalCrossentropy(from_logits=True)
    with pytest.raises(nb.NablanetError, match=r"for logits use SigmoidBinaryCrossentropy\(\)"):
        nb.BinaryCrossentropy(from_logits=True)
    with pytest.raises(nb.NablanetError, match="takes no argument 'reduction'"):
        nb.MeanSquaredError(reduction="sum")
    assert type(nb.CategoricalCrossentropy(from_logits=False)) is nb.CategoricalCrossentropy
    assert type(nb.SoftmaxCrossentropy(from_logits=True)) is nb.SoftmaxCrossentropy
    assert nb.BinaryCrossentropy().get_config() == {}  # the file format is unchanged


def test_model_checkpoint_takes_keras_save_weights_only_and_save_freq(tmp_path):
    # ModelCheckpoint(path, save_weights_only=...) was a bare TypeError
    x, y = _blobs()
    model = nb.Sequential([nb.Dense(3, activation="softmax", input_shape=(4,))])
    model.compile(loss="sparse_categorical_crossentropy", optimizer="adam")
    path = tmp_path / "best.npz"
    keras_style = nb.ModelCheckpoint(path, save_weights_only=False, save_freq="epoch")
    model.fit(x, y, epochs=1, verbose=0, callbacks=[keras_style])
    assert nb.load_model(path).count_params() == model.count_params()
    with pytest.raises(nb.NablanetError, match=r"save_weights_only=True.*nb.load_model"):
        nb.ModelCheckpoint(path, save_weights_only=True)
    with pytest.raises(nb.NablanetError, match="save_freq"):
        nb.ModelCheckpoint(path, save_freq=100)


def test_get_weights_and_set_weights_as_keras():
    # model.get_weights() / set_weights() were AttributeError
    x, _ = _blobs()
    a = nb.Sequential([nb.Dense(8, activation="relu", input_shape=(4,)), nb.BatchNormalization()])
    b = nb.Sequential([nb.Dense(8, activation="relu", input_shape=(4,)), nb.BatchNormalization()])
    weights = a.get_weights()
    assert [w.shape for w in weights] == [(4, 8), (8,), (8,), (8,), (8,), (8,)]
    b.set_weights(weights)
    np.testing.assert_array_equal(a.predict(x), b.predict(x))
    weights[0][...] = 0.0  # copies: the model is untouched
    assert np.any(a.layers[0].weights.value != 0)
    dense = b.layers[0]
    kernel, bias = dense.get_weights()
    dense.set_weights([np.ones_like(kernel), bias])
    np.testing.assert_array_equal(dense.weights.value, 1.0)
    with pytest.raises(nb.NablanetError, match=r"expects 6 arrays .*got 1"):
        b.set_weights(weights[:1])
    with pytest.raises(nb.NablanetError, match=r"array 0 \(weights\) must have shape \(4, 8\)"):
        dense.set_weights([np.ones((3, 8)), bias])


def test_activation_layer_by_name_as_keras(tmp_path):
    # nb.Activation("relu") was a TypeError (Activation was only the base class)
    relu = nb.Activation("relu")
    assert type(relu) is nb.ReLU
    np.testing.assert_array_equal(relu.forward(np.array([[-1.0, 2.0]])), [[0.0, 2.0]])
    assert nb.Activation({"name": "leaky_relu", "alpha": 0.2}).alpha == 0.2
    with pytest.raises(nb.NablanetError, match="Unknown activation 'rellu'"):
        nb.Activation("rellu")
    x, y = _blobs()
    model = nb.Sequential([nb.Dense(3, input_shape=(4,)), nb.Activation("softmax")])
    model.compile(loss="sparse_categorical_crossentropy", optimizer="adam")
    model.fit(x, y, epochs=1, verbose=0)
    model.save(tmp_path / "m.npz")
    assert type(nb.load_model(tmp_path / "m.npz").layers[1]) is nb.Softmax


def test_keras_kernel_argument_names_on_dense_and_conv2d():
    # Dense(4, kernel_initializer=...) / kernel_regularizer= / use_bias= were bare TypeErrors
    dense = nb.Dense(4, kernel_initializer="glorot_uniform", kernel_regularizer=nb.L2(0.01))
    assert dense.weight_initializer == "glorot_uniform"
    assert isinstance(dense.weight_regularizer, nb.L2)
    assert dense.get_config()["weight_initializer"] == "glorot_uniform"
    assert nb.Dense(4, use_bias=True).n_neurons == 4
    with pytest.raises(nb.NablanetError, match="use_bias=False"):
        nb.Dense(4, use_bias=False)
    with pytest.raises(nb.NablanetError, match="the same argument"):
        nb.Dense(4, weight_initializer="zeros", kernel_initializer="ones")
    conv = nb.Conv2D(filters=2, kernel_size=3, kernel_initializer="glorot_uniform")
    assert conv.weight_initializer == "glorot_uniform"
    with pytest.raises(nb.NablanetError, match=r"[Uu]nknown"):
        nb.Dense(4, kernel_initializer="glorot_uniformm")


def test_pooling_takes_keras_names_strides_and_valid_padding():
    # MaxPooling2D / AveragePooling2D were AttributeError, strides= / padding= bare TypeErrors
    assert nb.MaxPooling2D is nb.MaxPool2D and nb.AveragePooling2D is nb.AvgPool2D
    assert nb.layers.MaxPooling2D is nb.MaxPool2D
    pool = nb.MaxPooling2D(pool_size=(2, 2), strides=1, padding="valid")
    assert pool.stride == (1, 1)
    assert pool.forward(np.zeros((1, 4, 4, 2), np.float32)).shape == (1, 3, 3, 2)
    assert nb.AveragePooling2D(2, strides=2).stride == (2, 2)
    assert nb.layers.layer_from_config(nb.layers.serialize_layer(pool)).stride == (1, 1)
    with pytest.raises(nb.NablanetError, match="padding='valid'"):
        nb.MaxPooling2D(2, padding="same")
    with pytest.raises(nb.NablanetError, match="the same argument"):
        nb.AvgPool2D(2, stride=1, strides=2)


def test_keras_input_first_in_a_sequential_builds_the_model(tmp_path):
    # Keras 3's Sequential([keras.Input(shape=(4,)), Dense(...)]): nb.Input was AttributeError
    x, y = _blobs()
    model = nb.Sequential([nb.Input(shape=(4,)), nb.Dense(8, activation="relu"), nb.Dense(3)])
    assert model.built and model.count_params() == 4 * 8 + 8 + 8 * 3 + 3
    assert len(model.layers) == 2  # Input is no layer: nothing to save or export
    model.compile(loss="sparse_categorical_crossentropy", optimizer="adam")
    model.fit(x, y, epochs=1, verbose=0)
    model.save(tmp_path / "m.npz")
    images = nb.Sequential()
    images.add(nb.Input((8, 8, 1)))
    images.add(nb.Conv2D(filters=2, kernel_size=3))
    assert images.built and images.layers[0].in_channels == 1
    with pytest.raises(nb.NablanetError, match="without the batch axis"):
        nb.Input(shape=(None, 4))
    with pytest.raises(nb.NablanetError, match="must come first"):
        nb.Sequential([nb.Dense(3), nb.Input((4,))])


def test_compile_takes_keras_loss_spellings_and_says_when_the_order_is_keras():
    # loss="MeanSquaredError" was unknown; compile("adam", "mse") (Keras' positional order)
    # said "Unknown loss 'adam'"
    model = nb.Sequential([nb.Dense(1, input_shape=(3,))])
    for name in ("MeanSquaredError", "mean_squared_error", "mse"):
        model.compile(loss=name, optimizer="adam")
        assert isinstance(model.loss, nb.MeanSquaredError)
    model.compile(loss="SparseCategoricalCrossentropy", optimizer="adam")
    assert isinstance(model.loss, nb.CategoricalCrossentropy)
    with pytest.raises(nb.NablanetError, match=r"takes the loss first.*'adam'"):
        model.compile("adam", "mse")
    with pytest.raises(nb.NablanetError, match="takes the loss first"):
        model.compile(nb.Adam(), "mse")
    with pytest.raises(nb.NablanetError, match="Unknown loss 'msee'"):
        model.compile(loss="msee")


def test_a_schedule_as_learning_rate_says_where_it_goes():
    # Adam(learning_rate=ExponentialDecay(...)) (Keras' habit) said only "must be a positive number"
    with pytest.raises(nb.NablanetError, match=r"goes to fit\(\.\.\., scheduler=\.\.\.\)"):
        nb.Adam(learning_rate=nb.ExponentialDecay(0.9))
    x, y = _blobs()
    model = nb.Sequential([nb.Dense(3, activation="softmax", input_shape=(4,))])
    model.compile(loss="sparse_categorical_crossentropy", optimizer=nb.Adam(0.1))
    history = model.fit(x, y, epochs=3, verbose=0, scheduler=nb.ExponentialDecay(0.5))
    assert history["learning_rate"] == pytest.approx([0.1, 0.05, 0.025])


def test_learning_rate_scheduler_callback_as_keras(capsys):
    # Keras' callbacks.LearningRateScheduler(schedule) was missing
    x, y = _blobs()
    model = nb.Sequential([nb.Dense(3, activation="softmax", input_shape=(4,))])
    model.compile(loss="sparse_categorical_crossentropy", optimizer=nb.Adam(0.1))
    tenth = nb.callbacks.LearningRateScheduler(lambda epoch, lr: 0.1 * 0.1**epoch, verbose=1)
    history = model.fit(x, y, epochs=3, verbose=0, callbacks=[tenth])
    assert history["learning_rate"] == pytest.approx([0.1, 0.01, 0.001])
    assert "LearningRateScheduler: epoch 2, learning rate 0.01" in capsys.readouterr().out
    one_argument = nb.LearningRateScheduler(lambda epoch: 0.05)
    assert model.fit(x, y, epochs=1, verbose=0, callbacks=[one_argument])["learning_rate"] == [0.05]
    with pytest.raises(nb.NablanetError, match="must return a positive number"):
        model.fit(
            x, y, epochs=1, verbose=0, callbacks=[nb.LearningRateScheduler(lambda e, lr: None)]
        )
    with pytest.raises(nb.NablanetError, match="cannot be combined"):
        model.fit(x, y, epochs=1, verbose=0, callbacks=[one_argument], scheduler=nb.StepDecay())


def test_pytorch_linear_habit_points_to_dense():
    # nb.Linear(4, 3) (PyTorch's nn.Linear) was a bare TypeError: Linear is the identity here
    with pytest.raises(nb.NablanetError, match=r"Dense\(4, 3\) for PyTorch's nn.Linear\(4, 3\)"):
        nb.Linear(4, 3)
    assert repr(nb.Linear()) == "Linear()"


def test_binary_crossentropy_on_a_softmax_of_two_units_says_which_loss_fits():
    # Keras' two-unit softmax with binary_crossentropy and 0/1 labels: the shape error said no
    # more than the two shapes
    x, y = _blobs(k=2)
    model = nb.Sequential([nb.Dense(2, activation="softmax", input_shape=(4,))])
    model.compile(loss="binary_crossentropy", optimizer="adam")
    with pytest.raises(nb.NablanetError, match=r"sparse_categorical_crossentropy.*sigmoid"):
        model.fit(x, y, epochs=1, verbose=0)


def test_one_sample_without_its_batch_axis_says_so():
    # predict(x[0]) on a built model said only "Dense expected input with 4 features"
    x, _ = _blobs()
    model = nb.Sequential([nb.Dense(3, activation="softmax", input_shape=(4,))])
    with pytest.raises(nb.NablanetError, match=r"batch axis.*x\[None\]"):
        model.predict(x[0])
    assert model.predict(x[0][None]).shape == (1, 3)
