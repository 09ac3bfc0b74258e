"""One metrics system: the training metrics are the public metric functions, the metrics
package keeps every public name, and the loss arguments follow the metrics' ``(y_true, y_pred)``."""

from __future__ import annotations

import inspect
import math

import numpy as np
import pytest

import nablanet as nb
from nablanet.nn import losses
from nablanet.nn import metrics as M
from nablanet.nn.errors import NablanetError

# -- the package ------------------------------------------------------------------------------
FAMILIES = {
    "_classification": [
        "accuracy_score",
        "classification_report",
        "f1_score",
        "log_loss",
        "precision_recall_fscore_support",
        "precision_score",
        "recall_score",
    ],
    "_confusion": ["confusion_matrix"],
    "_ranking": ["auc", "roc_auc_score", "roc_curve"],
    "_regression": [
        "mean_absolute_error",
        "mean_squared_error",
        "r2_score",
        "root_mean_squared_error",
    ],
}


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_each_function_lives_in_its_family_and_is_exported(family):
    for name in FAMILIES[family]:
        fn = getattr(M, name)
        assert fn.__module__ == f"nablanet.nn.metrics.{family}"
        assert name in M.__all__


def test_every_exported_name_imports_from_the_package():
    namespace: dict = {}
    exec(f"from nablanet.nn.metrics import {', '.join(M.__all__)}", namespace)
    assert all(namespace[name] is getattr(M, name) for name in M.__all__)
    # the reports are the pipeline's, not the library's
    assert not hasattr(M, "classification_metrics") and not hasattr(M, "regression_metrics")


def test_the_error_type_is_public():
    assert nb.NablanetError is NablanetError
    assert NablanetError.__module__ == "nablanet.nn.errors"
    from nablanet.pipeline import PipelineError

    assert issubclass(PipelineError, NablanetError)


# -- the registry -----------------------------------------------------------------------------
def test_training_metrics_are_the_public_functions():
    assert M.TRAINING_METRICS["accuracy"].score is M.accuracy_score
    assert M.TRAINING_METRICS["mae"].score.__name__ == "mean_absolute_error"
    assert M.TRAINING_METRICS["mse"].score.__name__ == "mean_squared_error"
    assert {m.name for m in M.TRAINING_METRICS.values()} == set(M.TRAINING_METRICS)
    y, out = np.array([[1.0], [2.0]]), np.array([[1.5], [2.0]])
    assert M.TRAINING_METRICS["mse"].score(y, out) == M.mean_squared_error(y, out)
    # a diverged model logs NaN instead of failing in the metric's input check
    assert math.isnan(M.TRAINING_METRICS["mae"].score(y, np.array([[np.nan], [1.0]])))


@pytest.mark.parametrize(
    ("y", "out", "expected"),
    [
        (np.array([0, 2, 1]), np.eye(3)[[0, 2, 2]], ([0, 2, 1], [0, 2, 2])),  # labels, argmax
        (np.eye(3)[[0, 2, 1]], np.eye(3)[[0, 2, 2]], ([0, 2, 1], [0, 2, 2])),  # one-hot targets
        (np.array([[1.0], [0.0]]), np.array([[0.7], [0.6]]), ([True, False], [True, True])),
    ],
)
def test_accuracy_prepares_classes_from_outputs(y, out, expected):
    y_true, y_pred = M.TRAINING_METRICS["accuracy"].prepare(y, out)
    assert y_true.tolist() == expected[0] and y_pred.tolist() == expected[1]


def test_check_training_metrics():
    assert M.check_training_metrics(None, "classification") == ["accuracy"]
    assert M.check_training_metrics(None, "regression") == ["mae"]
    assert M.check_training_metrics(("mse", "mae"), "regression") == ["mse", "mae"]
    with pytest.raises(NablanetError, match=r"Unknown training metric 'f1'; choose from"):
        M.check_training_metrics(["f1"], "classification")
    with pytest.raises(NablanetError, match="'accuracy' needs a classification loss, not MSE"):
        M.check_training_metrics(["accuracy"], "regression", "MSE")


def test_loss_tasks():
    tasks = {cls.__name__: cls.task for cls in losses.LOSSES.values()}
    assert tasks["MeanSquaredError"] == tasks["MeanAbsoluteError"] == "regression"
    assert {tasks[n] for n in tasks if not n.startswith("Mean")} == {"classification"}
    model = nb.Sequential([nb.Dense(2, 1)])
    model.compile("mse", "sgd")
    assert model.metrics == ["mae"]
    with pytest.raises(NablanetError, match="needs a classification loss, not MeanSquaredError"):
        model.compile("mse", "sgd", metrics=["accuracy"])


# -- what the trainer logs ----------------------------------------------------------------------
def _blobs(n=90, k=3, seed=0):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, k, n)
    x = (rng.standard_normal((n, 2)) + 2.0 * np.eye(k, 2)[y]).astype(np.float32)
    return x, y


def test_logged_accuracy_is_accuracy_score_of_the_epochs_predictions():
    """Shuffled batches gathered into reused buffers: the tracker must keep copies of them."""
    x, y = _blobs()
    nb.set_seed(0)
    model = nb.Sequential([nb.Dense(2, 3, "softmax")])
    model.compile("categorical_crossentropy", nb.SGD(1e-30))  # the weights do not move
    history = model.fit(x, y, epochs=2, batch_size=16, verbose=0, validation_data=(x, y))
    expected = M.accuracy_score(y, model.predict(x).argmax(axis=1))
    assert 0.0 < expected < 1.0
    assert history["accuracy"] == [expected, expected]
    assert history["val_accuracy"] == [expected, expected]
    assert model.evaluate(x, y, batch_size=7, return_dict=True)["accuracy"] == expected


def test_logged_regression_metrics_are_the_public_functions():
    rng = np.random.default_rng(1)
    x = rng.standard_normal((33, 3)).astype(np.float32)
    y = rng.standard_normal((33, 2)).astype(np.float32)
    model = nb.Sequential([nb.Dense(3, 2, seed=0)])
    model.compile("mse", nb.SGD(1e-30), metrics=["mae", "mse"])
    logs = model.evaluate(x, y, batch_size=8, return_dict=True)
    pred = model.predict(x, batch_size=8)  # the same batches: the same float32 outputs
    assert logs["mae"] == M.mean_absolute_error(y, pred)
    assert logs["mse"] == M.mean_squared_error(y, pred)
    history = model.fit(x, y, epochs=1, batch_size=8, verbose=0)  # shuffled batches
    assert history["mae"][0] == pytest.approx(M.mean_absolute_error(y, pred), rel=1e-6)


# -- the loss argument order ------------------------------------------------------------------
@pytest.mark.parametrize("cls", sorted(set(losses.LOSSES.values()), key=lambda c: c.__name__))
def test_losses_take_y_true_then_y_pred(cls):
    for method in ("loss", "gradient", "loss_and_gradient", "__call__"):
        names = list(inspect.signature(getattr(cls, method)).parameters)
        assert names[1:3] == ["y_true", "y_pred"], (cls.__name__, method, names)
    if hasattr(cls, "loss_gradient_output"):  # the fused losses: y_pred holds the logits
        names = list(inspect.signature(cls.loss_gradient_output).parameters)
        assert names[1:3] == ["y_true", "y_pred"]


def test_losses_read_the_targets_first():
    y_true, y_pred = np.array([1, 0]), np.array([[0.9], [0.2]])
    expected = -(math.log(0.9) + math.log(0.8)) / 2
    bce = nb.BinaryCrossentropy()
    assert bce(y_true, y_pred) == pytest.approx(expected)
    assert bce.loss(y_pred=y_pred, y_true=y_true) == pytest.approx(expected)
    probs = np.array([[0.8, 0.2], [0.4, 0.6]])
    cce = nb.CategoricalCrossentropy()
    assert cce.loss(np.array([0, 1]), probs) == pytest.approx(-(math.log(0.8) + math.log(0.6)) / 2)
    with pytest.raises(NablanetError, match="targets of shape"):
        cce.loss(probs, np.array([0, 1]))  # swapped: the labels cannot be predictions
    assert nb.gradcheck_loss(bce, y_true=y_true, y_pred=y_pred).ok


def test_model_files_may_name_the_former_fused_class():
    assert isinstance(losses.from_class_name("SoftmaxCrossEntropy"), nb.SoftmaxCrossentropy)
    assert isinstance(losses.from_class_name("MeanSquaredError"), nb.MeanSquaredError)
    assert not hasattr(nb, "SoftmaxCrossEntropy")
    with pytest.raises(NablanetError, match="Unknown loss class 'Huber'"):
        losses.from_class_name("Huber")
    model = nb.Sequential([nb.Dense(2, 3)])
    model.compile_from_config(
        {
            "loss": "SoftmaxCrossEntropy",
            "optimizer": {"class_name": "SGD", "config": {"learning_rate": 0.1}},
            "metrics": ["accuracy"],
        }
    )
    assert isinstance(model.loss, nb.SoftmaxCrossentropy)
