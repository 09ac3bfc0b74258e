"""``nablanet.compat.nnfs``: the book's scripts run on nablanet and train exactly as its native twin.

The book is *Neural Networks from Scratch in Python* (Kinsley & Kukieła). Its rules are written out
below (``book_*``) from the book's code, so each mapped name is checked against the book's own
formula and against the nablanet object it stands for.
"""

from __future__ import annotations

import ast
import csv
import io
import pickle
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import nablanet as nb
from nablanet.compat import nnfs
from nablanet.compat.nnfs import (
    Accuracy_Categorical,
    Accuracy_Regression,
    Activation_Linear,
    Activation_ReLU,
    Activation_Sigmoid,
    Activation_Softmax,
    Layer_Dense,
    Layer_Dropout,
    Loss_BinaryCrossentropy,
    Loss_CategoricalCrossentropy,
    Loss_MeanSquaredError,
    Model,
    Optimizer_Adagrad,
    Optimizer_Adam,
    Optimizer_RMSprop,
    Optimizer_SGD,
)
from nablanet.nn.metrics import accuracy_score

BOOK_INIT = {"name": "random_normal", "stddev": 0.01}
PACKAGE = Path(nnfs.__file__).parent


# -- data ---------------------------------------------------------------------------------------
def spiral_data(samples: int, classes: int, rng: np.random.Generator):
    """The ``nnfs`` package's spiral data, drawn from ``rng``."""
    X = np.zeros((samples * classes, 2))
    y = np.zeros(samples * classes, dtype="uint8")
    for k in range(classes):
        ix = range(samples * k, samples * (k + 1))
        r = np.linspace(0.0, 1, samples)
        t = np.linspace(k * 4, (k + 1) * 4, samples) + rng.standard_normal(samples) * 0.2
        X[ix] = np.c_[r * np.sin(t * 2.5), r * np.cos(t * 2.5)]
        y[ix] = k
    return X, y


def fashion_like(n: int, rng: np.random.Generator, side: int = 8):
    """Fashion-MNIST in miniature: uint8 images of 10 classes, each a noisy class template."""
    templates = np.random.default_rng(42).integers(0, 256, (10, side, side))
    y = rng.integers(0, 10, n)
    images = templates[y] + rng.normal(0, 40, (n, side, side))
    return np.clip(images, 0, 255).astype(np.uint8), y


def book_preprocess(images, labels, rng):
    """Chapter 19: scale to [-1, 1], flatten, shuffle."""
    X = (images.reshape(images.shape[0], -1).astype(np.float32) - 127.5) / 127.5
    keys = np.array(range(X.shape[0]))
    rng.shuffle(keys)
    return X[keys], labels[keys]


# -- the package: thin, and only over nablanet.nn -----------------------------------------------
def test_imports_only_nablanet_nn():
    allowed = ("__future__", "pathlib", "numpy", "nablanet.nn")
    for path in PACKAGE.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.level:
                continue  # within the package
            names = (
                [a.name for a in node.names]
                if isinstance(node, ast.Import)
                else [node.module]
                if isinstance(node, ast.ImportFrom)
                else []
            )
            for name in names:
                assert name.split(".")[0] in ("__future__", "pathlib", "numpy") or (
                    name == "nablanet.nn" or name.startswith("nablanet.nn.")
                ), f"{path.name} imports {name}; allowed: {allowed}"
    code = (
        "import sys, nablanet.compat.nnfs; print(sorted(m for m in sys.modules if "
        "(m.startswith('nablanet.') and not m.startswith(('nablanet.nn', 'nablanet.compat', 'nablanet._version'))) "
        "or m.split('.')[0] in ('yaml', 'matplotlib', 'gradio', 'pydantic', 'sklearn')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_star_import_gives_the_book_names():
    namespace: dict = {}
    exec("from nablanet.compat.nnfs import *", namespace)
    for name in (
        "Model Layer_Dense Layer_Dropout Layer_Input Activation_ReLU Activation_Softmax "
        "Activation_Sigmoid Activation_Linear Loss_CategoricalCrossentropy "
        "Loss_BinaryCrossentropy Loss_MeanSquaredError Loss_MeanAbsoluteError "
        "Activation_Softmax_Loss_CategoricalCrossentropy Optimizer_SGD Optimizer_Adagrad "
        "Optimizer_RMSprop Optimizer_Adam Accuracy_Categorical Accuracy_Regression"
    ).split():
        assert name in namespace, name


# -- each name against its native twin ----------------------------------------------------------
NATIVE = {
    "Layer_Input": (nnfs.Layer_Input, nb.Linear),
    "Activation_ReLU": (nnfs.Activation_ReLU, nb.ReLU),
    "Activation_Softmax": (nnfs.Activation_Softmax, nb.Softmax),
    "Activation_Sigmoid": (nnfs.Activation_Sigmoid, nb.Sigmoid),
    "Activation_Linear": (nnfs.Activation_Linear, nb.Linear),
    "Loss_CategoricalCrossentropy": (nnfs.Loss_CategoricalCrossentropy, nb.CategoricalCrossentropy),
    "Loss_BinaryCrossentropy": (nnfs.Loss_BinaryCrossentropy, nb.BinaryCrossentropy),
    "Loss_MeanSquaredError": (nnfs.Loss_MeanSquaredError, nb.MeanSquaredError),
    "Loss_MeanAbsoluteError": (nnfs.Loss_MeanAbsoluteError, nb.MeanAbsoluteError),
    "Activation_Softmax_Loss_CategoricalCrossentropy": (
        nnfs.Activation_Softmax_Loss_CategoricalCrossentropy,
        nb.SoftmaxCrossentropy,
    ),
}


@pytest.mark.parametrize("name", sorted(NATIVE))
def test_name_builds_its_native_twin(name):
    make, cls = NATIVE[name]
    obj = make()
    assert type(obj) is cls
    assert obj.get_config() == cls().get_config()


def test_layer_dense_is_a_dense_with_the_books_weights_and_penalties():
    layer = Layer_Dense(
        30,
        20,
        weight_regularizer_l1=1e-3,
        weight_regularizer_l2=5e-4,
        bias_regularizer_l2=2e-3,
        seed=7,
    )
    twin = nb.Dense(
        30,
        20,
        weight_initializer=BOOK_INIT,
        weight_regularizer=nb.L1L2(l1=1e-3, l2=5e-4),
        bias_regularizer=nb.L1L2(l2=2e-3),
        seed=7,
    )
    assert type(layer) is nb.Dense and layer.get_config() == twin.get_config()
    np.testing.assert_array_equal(layer.weights.value, twin.weights.value)
    assert float(layer.weights.value.std()) == pytest.approx(0.01, rel=0.1)  # 0.01 * randn
    assert not layer.biases.value.any()
    assert Layer_Dense(2, 3).weight_regularizer is None  # no penalty: none at all
    # the book's penalty: l1 * sum|w| + l2 * sum(w^2) for weights and biases
    layer.biases.value[:] = 0.5
    w, b = layer.weights.value.astype(np.float64), layer.biases.value.astype(np.float64)
    book = 1e-3 * np.abs(w).sum() + 5e-4 * (w * w).sum() + 2e-3 * (b * b).sum()
    assert layer.regularization_loss() == pytest.approx(book, rel=1e-5)


def test_layer_dropout_rate_is_the_fraction_dropped():
    layer = Layer_Dropout(0.1, seed=0)
    assert type(layer) is nb.Dropout and layer.rate == 0.1
    out = layer.forward(np.ones((200, 100), np.float32), training=True)
    assert np.mean(out == 0) == pytest.approx(0.1, abs=0.01)
    np.testing.assert_allclose(out[out > 0], 1 / 0.9, rtol=1e-6)  # the book divides by 1 - rate


# the book's update rules, from its code (float64, one parameter array)
def book_sgd(lr, decay, momentum):
    state = {"v": 0.0}

    def update(w, g, t):
        lr_t = lr * (1.0 / (1.0 + decay * t))
        if momentum:
            state["v"] = momentum * state["v"] - lr_t * g
            return w + state["v"]
        return w - lr_t * g

    return update


def book_adagrad(lr, decay, eps):
    state = {"cache": 0.0}

    def update(w, g, t):
        lr_t = lr * (1.0 / (1.0 + decay * t))
        state["cache"] = state["cache"] + g**2
        return w + -lr_t * g / (np.sqrt(state["cache"]) + eps)

    return update


def book_rmsprop(lr, decay, eps, rho):
    state = {"cache": 0.0}

    def update(w, g, t):
        lr_t = lr * (1.0 / (1.0 + decay * t))
        state["cache"] = rho * state["cache"] + (1 - rho) * g**2
        return w + -lr_t * g / (np.sqrt(state["cache"]) + eps)

    return update


def book_adam(lr, decay, eps, beta_1, beta_2):
    state = {"m": 0.0, "v": 0.0}

    def update(w, g, t):
        lr_t = lr * (1.0 / (1.0 + decay * t))
        state["m"] = beta_1 * state["m"] + (1 - beta_1) * g
        m_hat = state["m"] / (1 - beta_1 ** (t + 1))
        state["v"] = beta_2 * state["v"] + (1 - beta_2) * g**2
        v_hat = state["v"] / (1 - beta_2 ** (t + 1))
        return w + -lr_t * m_hat / (np.sqrt(v_hat) + eps)

    return update


OPTIMIZER_CASES = {
    "sgd": (lambda: Optimizer_SGD(0.5, decay=0.1), book_sgd(0.5, 0.1, 0.0)),
    "sgd_momentum": (
        lambda: Optimizer_SGD(0.5, decay=0.1, momentum=0.9),
        book_sgd(0.5, 0.1, 0.9),
    ),
    "adagrad": (lambda: Optimizer_Adagrad(0.5, decay=0.1), book_adagrad(0.5, 0.1, 1e-7)),
    "rmsprop": (
        lambda: Optimizer_RMSprop(0.02, decay=0.1, rho=0.8),
        book_rmsprop(0.02, 0.1, 1e-7, 0.8),
    ),
    "adam": (
        lambda: Optimizer_Adam(0.05, decay=0.1, beta_1=0.8, beta_2=0.99),
        book_adam(0.05, 0.1, 1e-7, 0.8, 0.99),
    ),
    "adam_no_decay": (lambda: Optimizer_Adam(0.05), book_adam(0.05, 0.0, 1e-7, 0.9, 0.999)),
}


@pytest.mark.parametrize("name", sorted(OPTIMIZER_CASES))
def test_optimizer_follows_the_books_rule(name):
    make, book_update = OPTIMIZER_CASES[name]
    book_opt = make()
    w = nb.Parameter(np.array([1.0, -2.0, 0.3]), "w")
    book_opt.optimizer.build([w])
    expected = w.value.copy()
    for t in range(8):
        grad = np.array([1.0, 3.0, -2.0]) * w.value + 0.1  # d/dw of a quadratic, at w
        book_opt.optimizer.zero_grad()
        w.grad[:] = grad
        if book_opt.scheduler is not None:  # what the trainer does before each step
            book_opt.optimizer.learning_rate = book_opt.scheduler(book_opt.iterations)
        book_opt.optimizer.step()
        expected = book_update(expected, grad, t)
        np.testing.assert_allclose(w.value, expected, rtol=1e-12, atol=1e-14, err_msg=f"step {t}")
        assert book_opt.current_learning_rate == 0.0 + book_opt.learning_rate * (
            1.0 / (1.0 + book_opt.decay * t)
        )
    assert book_opt.iterations == 8


def test_optimizer_defaults_are_the_books():
    sgd, adagrad = Optimizer_SGD(), Optimizer_Adagrad()
    rms, adam = Optimizer_RMSprop(), Optimizer_Adam()
    assert (sgd.learning_rate, sgd.decay, sgd.momentum) == (1.0, 0.0, 0.0)
    assert (adagrad.learning_rate, adagrad.epsilon) == (1.0, 1e-7)
    assert (rms.learning_rate, rms.epsilon, rms.rho) == (0.001, 1e-7, 0.9)
    assert (adam.learning_rate, adam.epsilon, adam.beta_1, adam.beta_2) == (0.001, 1e-7, 0.9, 0.999)
    assert sgd.scheduler is None and Optimizer_Adam(decay=1e-3).scheduler.decay == 1e-3
    assert type(adam.optimizer) is nb.Adam and adam.optimizer.epsilon == 1e-7
    assert sgd.optimizer.get_config() == nb.SGD(1.0, momentum_form="keras").get_config()
    with pytest.raises(nb.NablanetError, match="'decay' parameter of InverseTimeDecay"):
        Optimizer_Adam(decay=-1)
    with pytest.raises(nb.NablanetError, match="'momentum' parameter of SGD"):
        Optimizer_SGD(momentum=1.0)


def test_accuracy_categorical_and_regression_are_the_books():
    acc = Accuracy_Categorical()
    predictions = np.array([0, 2, 1, 1])
    labels = np.array([0, 2, 2, 1])
    assert acc.calculate(predictions, labels) == 0.75
    assert acc.calculate(predictions, np.eye(3)[labels]) == 0.75  # one-hot
    assert acc.calculate_accumulated() == 0.75
    acc.new_pass()
    assert acc.calculate(predictions[:1], labels[:1]) == 1.0
    binary = Accuracy_Categorical(binary=True)
    assert binary.calculate(np.array([[1], [0], [1]]), np.array([[1], [1], [1]])) == 2 / 3
    reg = Accuracy_Regression()
    y = np.linspace(0, 1, 1000).reshape(-1, 1)
    reg.init(y)
    assert reg.precision == pytest.approx(np.std(y) / 250)
    reg.init(y * 100)  # kept unless reinit, as in the book
    assert reg.precision == pytest.approx(np.std(y) / 250)
    out = y + np.where(np.arange(1000)[:, None] % 4 == 0, 1.0, 0.0)
    assert reg.calculate(out, y) == 0.75
    assert reg.compare(out, y[:, 0]).shape == (1000, 1)  # (n,) targets fit (n, 1) outputs


# -- the book's scripts against the native API ---------------------------------------------------
def book_spiral_model(n_hidden: int, dropout: float) -> Model:
    model = Model()
    model.add(Layer_Dense(2, n_hidden, weight_regularizer_l2=5e-4, bias_regularizer_l2=5e-4))
    model.add(Activation_ReLU())
    model.add(Layer_Dropout(dropout))
    model.add(Layer_Dense(n_hidden, 3))
    model.add(Activation_Softmax())
    model.set(
        loss=Loss_CategoricalCrossentropy(),
        optimizer=Optimizer_Adam(learning_rate=0.05, decay=5e-5),
        accuracy=Accuracy_Categorical(),
    )
    model.finalize()
    return model


def native_spiral_model(n_hidden: int, dropout: float) -> nb.Sequential:
    model = nb.Sequential(
        [
            nb.Dense(
                2,
                n_hidden,
                weight_initializer=BOOK_INIT,
                weight_regularizer=nb.L1L2(l2=5e-4),
                bias_regularizer=nb.L1L2(l2=5e-4),
            ),
            nb.ReLU(),
            nb.Dropout(dropout),
            nb.Dense(n_hidden, 3, weight_initializer=BOOK_INIT),
            nb.Softmax(),
        ]
    )
    model.compile(nb.CategoricalCrossentropy(), nb.Adam(0.05, epsilon=1e-7))
    return model


def assert_same_weights(book: Model, native: nb.Sequential):
    ours, theirs = book.sequential.state_dict(), native.state_dict()
    assert ours.keys() == theirs.keys()
    for key, value in theirs.items():
        np.testing.assert_array_equal(ours[key], value, err_msg=key)


def test_spiral_script_trains_exactly_as_the_native_api(capsys):
    rng = np.random.default_rng(0)
    X, y = spiral_data(samples=100, classes=3, rng=rng)
    X_test, y_test = spiral_data(samples=50, classes=3, rng=rng)

    nb.set_seed(0)
    model = book_spiral_model(64, 0.1)
    assert (
        type(model.sequential.plan.output.loss).__name__ == "SoftmaxCrossentropy"
    )  # the book's fusion
    model.train(X, y, validation_data=(X_test, y_test), epochs=600, print_every=100)
    printed = capsys.readouterr().out

    nb.set_seed(0)
    native = native_spiral_model(64, 0.1)
    native.fit(
        X,
        y,
        epochs=600,
        batch_size=len(X),
        shuffle=False,
        scheduler=nb.InverseTimeDecay(5e-5),
        verbose=0,
    )
    assert_same_weights(model, native)
    lines = printed.splitlines()
    assert lines[:2] == ["epoch: 1", lines[1]] and lines[1].startswith("step: 0, acc: ")
    assert len([line for line in lines if line.startswith("validation, ")]) == 600
    # the last validation line is the native model's accuracy on the test spiral
    native_acc = accuracy_score(y_test, native.predict(X_test).argmax(axis=1))
    assert lines[-1].startswith(f"validation, acc: {native_acc:.3f}, loss: ")
    assert native_acc >= 0.6  # 0.693 (chance: 0.333); after 300 epochs the accuracy
    # depended on the CPU's BLAS kernels (0.633 on one machine, 0.587 on another); the book trains
    # 10000 epochs for 0.8+
    assert native.optimizer.learning_rate == 0.05 * (1.0 / (1.0 + 5e-5 * 599))
    assert lines[-2].endswith(f"lr: {native.optimizer.learning_rate}")


def test_progress_lines_are_the_books_at_print_every(capsys):
    """Each printed number, recomputed with the native model step by step."""
    rng = np.random.default_rng(1)
    X, y = spiral_data(samples=20, classes=3, rng=rng)  # 60 samples: 5 batches of 13, 8
    X_val, y_val = spiral_data(samples=10, classes=3, rng=rng)

    def layers():
        return [
            Layer_Dense(2, 16, weight_regularizer_l1=0.1, bias_regularizer_l2=0.5),
            Activation_ReLU(),
            Layer_Dense(16, 3, weight_regularizer_l2=0.5),
            Activation_Softmax(),
        ]

    nb.set_seed(3)
    model = Model()
    for layer in layers():
        model.add(layer)
    model.set(
        loss=Loss_CategoricalCrossentropy(),
        optimizer=Optimizer_SGD(1.0, decay=0.1, momentum=0.5),
        accuracy=Accuracy_Categorical(),
    )
    model.finalize()
    model.train(X, y, epochs=2, batch_size=13, print_every=2, validation_data=(X_val, y_val))
    printed = capsys.readouterr().out.splitlines()

    nb.set_seed(3)
    twin = nb.Sequential(layers())
    opt = nb.SGD(1.0, momentum=0.5, momentum_form="keras")
    twin.compile(nb.CategoricalCrossentropy(), opt)
    schedule = nb.InverseTimeDecay(0.1, initial_learning_rate=1.0)

    def line(name, acc, data, reg, lr):
        return (
            f"{name}, acc: {acc:.3f}, loss: {data + reg:.3f} (data_loss: {data:.3f}, "
            f"reg_loss: {reg:.3f}), lr: {lr}"
        )

    expected, moved = [], 0
    for epoch in range(2):
        expected.append(f"epoch: {epoch + 1}")
        losses, correct = [], 0
        for step in range(5):
            xb, yb = (
                X[step * 13 : (step + 1) * 13].astype(np.float32),
                y[step * 13 : (step + 1) * 13],
            )
            opt.zero_grad()
            data_loss, out = twin.train_step(xb, yb)
            reg = twin.regularization_loss()  # the book: the penalty before the update
            opt.learning_rate = schedule(opt.iterations)
            opt.step()
            moved += f"{reg:.3f}" != f"{twin.regularization_loss():.3f}"
            hits = int(np.sum(out.argmax(axis=1) == yb))
            losses.append(data_loss * len(yb))
            correct += hits
            if step % 2 == 0 or step == 4:
                expected.append(
                    line(f"step: {step}", hits / len(yb), data_loss, reg, opt.learning_rate)
                )
        acc, data = correct / len(X), sum(losses) / len(X)
        expected.append(line("training", acc, data, twin.regularization_loss(), opt.learning_rate))
        val_loss, val_out = twin.loss_on_batch(X_val.astype(np.float32), y_val)
        val_acc = np.mean(val_out.argmax(axis=1) == y_val)
        expected.append(f"validation, acc: {val_acc:.3f}, loss: {val_loss:.3f}")
    assert printed == expected
    assert moved >= 5  # the penalty before and after a step print differently


def test_fashion_mnist_workflow_trains_saves_and_loads_as_the_native_api(tmp_path, capsys):
    rng = np.random.default_rng(0)
    X, y = book_preprocess(*fashion_like(1000, rng), rng)
    X_test, y_test = book_preprocess(*fashion_like(200, rng), rng)

    def book_model():
        model = Model()
        model.add(Layer_Dense(X.shape[1], 64))
        model.add(Activation_ReLU())
        model.add(Layer_Dense(64, 64))
        model.add(Activation_ReLU())
        model.add(Layer_Dense(64, 10))
        model.add(Activation_Softmax())
        model.set(
            loss=Loss_CategoricalCrossentropy(),
            optimizer=Optimizer_Adam(decay=1e-3),
            accuracy=Accuracy_Categorical(),
        )
        model.finalize()
        return model

    nb.set_seed(1)
    model = book_model()
    model.train(X, y, validation_data=(X_test, y_test), epochs=10, batch_size=128, print_every=100)
    scores = model.evaluate(X_test, y_test)
    printed = capsys.readouterr().out
    assert printed.count("epoch: ") == 10 and printed.count("step: ") == 10 * 2  # steps 0 and 7

    nb.set_seed(1)
    native = nb.Sequential(
        [
            nb.Dense(X.shape[1], 64, weight_initializer=BOOK_INIT),
            nb.ReLU(),
            nb.Dense(64, 64, weight_initializer=BOOK_INIT),
            nb.ReLU(),
            nb.Dense(64, 10, weight_initializer=BOOK_INIT),
            nb.Softmax(),
        ]
    )
    native.compile(nb.CategoricalCrossentropy(), nb.Adam(0.001, epsilon=1e-7))
    native.fit(
        X,
        y,
        epochs=10,
        batch_size=128,
        shuffle=False,
        scheduler=nb.InverseTimeDecay(1e-3),
        verbose=0,
    )
    assert_same_weights(model, native)
    native_scores = native.evaluate(X_test, y_test, return_dict=True)
    assert scores["accuracy"] == native_scores["accuracy"] >= 0.9  # 1.000 measured
    assert scores["loss"] == pytest.approx(native_scores["loss"], rel=1e-5)

    # one-hot labels train to the very same weights
    nb.set_seed(1)
    onehot = book_model()
    onehot.train(X, np.eye(10)[y], epochs=10, batch_size=128, print_every=100)
    capsys.readouterr()
    assert_same_weights(onehot, native)

    # chapter 21: parameters out and in
    parameters = model.get_parameters()
    assert [w.shape for w, _ in parameters] == [(64, 64), (64, 64), (64, 10)]
    model.save_parameters(tmp_path / "fashion_mnist.parms")
    fresh = book_model()
    fresh.load_parameters(tmp_path / "fashion_mnist.parms")
    np.testing.assert_array_equal(fresh.predict(X_test), model.predict(X_test))
    fresh.set_parameters([(w, b.reshape(1, -1)) for w, b in parameters])  # the book's (1, n)

    # chapter 22: the whole model, then predictions through output_layer_activation
    model.save(tmp_path / "fashion_mnist.model")
    loaded = Model.load(tmp_path / "fashion_mnist.model")
    confidences = loaded.predict(X_test[:5])
    np.testing.assert_array_equal(confidences, model.predict(X_test[:5]))
    predictions = loaded.output_layer_activation.predictions(confidences)
    np.testing.assert_array_equal(predictions, confidences.argmax(axis=1))
    assert loaded.optimizer.iterations == model.optimizer.iterations == 10 * 8
    assert loaded.optimizer.current_learning_rate == model.optimizer.current_learning_rate
    assert type(loaded.accuracy) is Accuracy_Categorical
    # the optimizer's moments came along: both train on identically
    model.train(X, y, epochs=1, batch_size=128, print_every=100)
    loaded.train(X, y, epochs=1, batch_size=128, print_every=100)
    capsys.readouterr()
    for key, value in model.sequential.state_dict().items():
        np.testing.assert_array_equal(loaded.sequential.state_dict()[key], value, err_msg=key)


def test_binary_and_regression_scripts_train_as_the_native_api(capsys):
    rng = np.random.default_rng(2)
    X = rng.standard_normal((200, 2))
    y_bin = (X[:, :1] * X[:, 1:] > 0).astype(int)  # the book reshapes binary labels to (n, 1)
    y_reg = np.sin(3 * X[:, :1])

    cases = [
        (Activation_Sigmoid, Loss_BinaryCrossentropy, Accuracy_Categorical(binary=True), y_bin,
         nb.Sigmoid, nb.BinaryCrossentropy),
        (Activation_Linear, Loss_MeanSquaredError, Accuracy_Regression(), y_reg,
         nb.Linear, nb.MeanSquaredError),
    ]  # fmt: skip
    results = {}
    for act, loss, accuracy, y, native_act, native_loss in cases:
        nb.set_seed(4)
        model = Model()
        model.add(Layer_Dense(2, 32))
        model.add(Activation_ReLU())
        model.add(Layer_Dense(32, 1))
        model.add(act())
        model.set(loss=loss(), optimizer=Optimizer_RMSprop(0.01, decay=1e-3), accuracy=accuracy)
        model.finalize()
        model.train(X, y, epochs=20, batch_size=50, print_every=10)
        printed = capsys.readouterr().out
        nb.set_seed(4)
        native = nb.Sequential(
            [
                nb.Dense(2, 32, weight_initializer=BOOK_INIT),
                nb.ReLU(),
                nb.Dense(32, 1, weight_initializer=BOOK_INIT),
                native_act(),
            ]
        )
        native.compile(native_loss(), nb.RMSprop(0.01, rho=0.9, epsilon=1e-7))
        native.fit(
            X, y, epochs=20, batch_size=50, shuffle=False,
            scheduler=nb.InverseTimeDecay(1e-3), verbose=0,
        )  # fmt: skip
        assert_same_weights(model, native)
        out = native.predict(X)
        if native_loss is nb.BinaryCrossentropy:
            acc = np.mean((out > 0.5) == y)
        else:
            acc = np.mean(np.abs(out - y) < np.std(y) / 250)
        # the last epoch's training accuracy is over the pre-update outputs; evaluate is exact
        scores = model.evaluate(X, y)
        assert scores["accuracy"] == pytest.approx(acc)
        assert re.search(r"^training, acc: \d\.\d{3}, loss: ", printed, re.M)
        results[native_loss] = scores
    assert results[nb.BinaryCrossentropy]["accuracy"] >= 0.9
    # a regression learns too (its accuracy, within std(y) / 250, is a strict measure)
    assert results[nb.MeanSquaredError]["loss"] < 0.75 * float(np.var(y_reg))  # 0.55 measured


# -- files --------------------------------------------------------------------------------------
def test_a_saved_model_predicts_with_the_cli(tmp_path, capsys):
    from nablanet.cli import main

    rng = np.random.default_rng(5)
    X, y = spiral_data(samples=30, classes=3, rng=rng)
    nb.set_seed(5)
    model = book_spiral_model(32, 0.0)
    model.train(X, y, epochs=50, print_every=1000)
    path = model.save(tmp_path / "spiral.model")
    np.save(tmp_path / "x.npy", X[:7])
    capsys.readouterr()
    assert main(["predict", "--model", str(path), "--input", str(tmp_path / "x.npy")]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    expected = model.output_layer_activation.predictions(model.predict(X[:7]))
    assert [int(r["prediction"]) for r in rows] == expected.tolist()
    np.testing.assert_allclose(
        [float(r["p_1"]) for r in rows], model.predict(X[:7])[:, 1], atol=1e-6
    )


def test_any_nablanet_model_file_loads_with_the_books_api(tmp_path, capsys):
    rng = np.random.default_rng(6)
    X, y = spiral_data(samples=20, classes=3, rng=rng)
    native = nb.Sequential([nb.Dense(2, 8, "relu", seed=0), nb.Dense(8, 3, "softmax", seed=1)])
    native.compile("categorical_crossentropy", nb.SGD(0.1, momentum=0.5))
    native.fit(X, y, epochs=2, verbose=0)
    path = native.save(tmp_path / "native.npz", metadata={"task": "multiclass"})
    model = Model.load(path)
    np.testing.assert_array_equal(model.predict(X), native.predict(X))
    assert model.optimizer.current_learning_rate == 0.1
    assert type(model.optimizer.optimizer) is nb.SGD and model.optimizer.optimizer.momentum == 0.5
    assert type(model.accuracy) is Accuracy_Categorical
    scores = model.evaluate(X, y)
    assert scores["accuracy"] == np.mean(native.predict(X).argmax(axis=1) == y)
    model.train(X, y, epochs=1, print_every=10)  # trains on with the file's optimizer
    capsys.readouterr()
    model.save(tmp_path / "again.model")
    again = Model.load(tmp_path / "again.model")
    assert again.sequential.metadata["task"] == "multiclass"  # the file's metadata is kept
    np.testing.assert_array_equal(again.predict(X), model.predict(X))


def test_corrupt_nnfs_settings_are_named(tmp_path):
    model = book_spiral_model(4, 0.0)
    model.sequential.metadata = {"nnfs": {"optimizer": {"class_name": "Optimizer_Adam",
                                                        "config": {"momentum": 1}}}}  # fmt: skip
    path = model.sequential.save(tmp_path / "bad.model")
    with pytest.raises(nb.ModelFileError, match=r"bad.model: corrupt nnfs settings"):
        Model.load(path)


class _Payload:
    """Unpickling this creates the file ``marker``: a loader that unpickles would show it."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (Path(self.marker).touch, ())


def test_a_pickle_is_refused_unread(tmp_path):
    marker = tmp_path / "code-ran"
    path = tmp_path / "fashion_mnist.model"
    with open(path, "wb") as f:
        pickle.dump(_Payload(marker), f)
    model = book_spiral_model(4, 0.0)
    for load in (Model.load, model.load_parameters):
        with pytest.raises(nb.ModelFileError) as err:
            load(path)
        message = str(err.value)
        assert message.startswith(str(path)) and "\n" not in message
        assert "pickle" in message and "never unpickles" in message and "load_parameters" in message
    assert not marker.exists()


def test_parameter_files_and_lists_are_checked(tmp_path):
    model = book_spiral_model(8, 0.0)
    other = book_spiral_model(16, 0.0)
    other.save_parameters(tmp_path / "p.npz")
    with pytest.raises(nb.ModelFileError, match=r"p.npz: shape mismatch for `layers.0.weights`"):
        model.load_parameters(tmp_path / "p.npz")
    np.savez(tmp_path / "q.npz", w=np.zeros(3))
    with pytest.raises(nb.ModelFileError, match=r"q.npz: expected the arrays \['0.biases'"):
        model.load_parameters(tmp_path / "q.npz")
    with pytest.raises(nb.NablanetError, match=r"set_parameters got 1 .* for 2 layers"):
        model.set_parameters(model.get_parameters()[:1])


def test_usage_errors_are_clear():
    model = Model()
    model.add(Layer_Dense(2, 3))
    with pytest.raises(nb.NablanetError, match=r"call model.finalize\(\) first"):
        model.predict(np.zeros((1, 2)))
    with pytest.raises(nb.NablanetError, match=r"Model\.add expects a layer, got str"):
        model.add("relu")
    with pytest.raises(nb.NablanetError, match="expects an Optimizer_SGD"):
        model.set(optimizer=nb.Adam())
    model.finalize()
    with pytest.raises(nb.NablanetError, match=r"no loss: model.set\(loss=...\)"):
        model.train(np.zeros((4, 2)), np.zeros(4, int))
    model.set(loss=Loss_CategoricalCrossentropy())
    model.finalize()
    with pytest.raises(nb.NablanetError, match="no optimizer"):
        model.train(np.zeros((4, 2)), np.zeros(4, int))
    model.set(optimizer=Optimizer_SGD())
    model.finalize()
    with pytest.raises(nb.NablanetError, match="print_every must be a positive integer"):
        model.train(np.zeros((4, 2)), np.zeros(4, int), print_every=0)
