"""Names -> objects: the layer table, optimizers, schedulers, and build-time checks."""

from __future__ import annotations

from typing import Literal

import numpy as np
import pytest

import nablanet as nb
from nablanet.pipeline import ConfigError, build_model, config_from_dict, specs
from nablanet.pipeline import build as build_mod
from nablanet.pipeline._schema import PositiveInt
from nablanet.pipeline.config import apply_overrides

BASE = {
    "data": {"dataset": "breast_cancer"},
    "model": {
        "layers": [
            {"type": "dense", "units": 8, "activation": "relu", "l1": 1e-5, "l2": 1e-4},
            {"type": "dropout", "rate": 0.1},
            {"type": "activation", "activation": "leaky_relu", "alpha": 0.2},
            {"type": "dense", "units": 1, "activation": "sigmoid"},
        ]
    },
    "training": {
        "loss": "binary_crossentropy",
        "optimizer": {"name": "sgd", "learning_rate": 0.1, "momentum": 0.9, "nesterov": True},
        "epochs": 4,
    },
}


def cfg(*overrides, base=BASE):
    return config_from_dict(apply_overrides(base, list(overrides)))


def test_build_model_threads_shapes_and_compiles():
    model = build_model(cfg(), (30,), 1, task="binary")
    dense0, dropout, act, dense1 = model.layers
    assert (dense0.n_inputs, dense0.n_neurons) == (30, 8)
    assert isinstance(dense0.weight_regularizer, nb.L1L2)
    assert dropout.rate == 0.1
    assert isinstance(act, nb.LeakyReLU) and act.alpha == 0.2
    assert dense1.n_inputs == 8
    assert isinstance(model.optimizer, nb.SGD) and model.optimizer.nesterov
    assert model.predict(np.zeros((2, 30), np.float32)).shape == (2, 1)


def test_units_auto_takes_the_outputs_from_the_data():
    c = cfg(
        "model.layers[3].units=auto",
        "model.layers[3].activation=softmax",
        "training.loss=categorical_crossentropy",
    )
    model = build_model(c, (30,), 7, task="multiclass")
    assert model.layers[-1].n_neurons == 7
    with pytest.raises(ConfigError, match=r"model.layers\[0\].units: 'auto' is only allowed"):
        build_model(cfg("model.layers[0].units=auto"), (30,), 1)


def test_output_size_must_match_the_data():
    with pytest.raises(
        ConfigError, match=r"model.layers\[3\]: the model has 1 outputs but the data needs 10"
    ):
        build_model(cfg(), (30,), 10)


def test_dense_on_images_asks_for_flatten():
    with pytest.raises(
        ConfigError, match=r"model.layers\[0\] \(dense\) expects flat inputs.*flatten"
    ):
        build_model(cfg(), (8, 8, 1), 1)


@pytest.mark.parametrize(
    ("overrides", "task", "message"),
    [
        ((), "regression", "does not suit a regression dataset"),
        (("training.loss=mse",), "binary", "does not suit a classification dataset"),
        (("model.layers[3].activation=null",), "binary", "needs a model that ends in a sigmoid"),
        (
            (
                "model.layers[3].activation=softmax",
                "training.loss=categorical_crossentropy",
                "model.layers[3].units=3",
            ),
            "multiclass",
            None,
        ),
        (("model.layers[3].units=3",), "multiclass", "binary_crossentropy needs a binary dataset"),
    ],
)
def test_loss_must_fit_task_and_output(overrides, task, message):
    n_out = 3 if task == "multiclass" else 1
    if message is None:
        build_model(cfg(*overrides), (30,), n_out, task=task)
        return
    with pytest.raises(ConfigError, match=message):
        build_model(cfg(*overrides), (30,), n_out, task=task)


def test_nn_errors_become_config_errors_with_the_key():
    with pytest.raises(ConfigError, match=r"training.optimizer: The 'nesterov' parameter of SGD"):
        build_model(cfg("training.optimizer.momentum=0"), (30,), 1)


def test_scheduler_is_anchored_at_the_configured_rate():
    c = cfg("training.scheduler={name: cosine, warmup_epochs: 1}")
    sched = build_mod.build_scheduler(c.training.scheduler, 4, 0.1)
    assert sched.t_max == 4  # defaults to training.epochs
    assert sched.initial_learning_rate == 0.1
    assert sched(0) == pytest.approx(0.05)
    assert build_mod.build_scheduler(None, 4, 0.1) is None


def test_optimizer_defaults_come_from_the_library():
    for name, spec in specs.OPTIMIZER_SPECS.items():
        built = build_mod.build_optimizer(spec())
        assert built.get_config() == nb.optimizers.get(name).get_config()


def test_register_a_new_layer_type():
    class ScaleSpec(specs.LayerSpec):
        type: Literal["scale_test"] = "scale_test"
        factor: PositiveInt = 2

    class Scale(nb.Layer):
        def __init__(self, factor=2):
            self.factor = factor

        def forward(self, x, training=False):
            return x * self.factor

        def backward(self, grad):
            return grad * self.factor

        def get_config(self):
            return {"factor": self.factor}

    seen = {}

    def build_scale(spec, ctx):
        seen["shape"] = ctx.input_shape
        return Scale(spec.factor)

    specs.register_layer_type("scale_test", ScaleSpec, build_scale)
    try:
        c = cfg("model.layers[1]={type: scale_test, factor: 3}")
        model = build_model(c, (30,), 1)
        assert isinstance(model.layers[1], Scale) and model.layers[1].factor == 3
        assert seen["shape"] == (8,)
        with pytest.raises(ConfigError, match=r"model.layers\[1\].factor: must be a positive"):
            cfg("model.layers[1]={type: scale_test, factor: 0}")
        with pytest.raises(ConfigError, match=r"model.layers\[1\].size: unknown key"):
            cfg("model.layers[1]={type: scale_test, size: 1}")
    finally:
        del specs.LAYER_TYPES["scale_test"]
    with pytest.raises(ConfigError, match="unknown layer type 'scale_test'"):
        cfg("model.layers[1]={type: scale_test}")
