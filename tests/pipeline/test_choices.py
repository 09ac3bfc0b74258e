"""What front ends read from the pipeline: the choices of a config (from the registries and the
schema), the untrained model of a config for a dataset, and a stopped run keeping its best
weights."""

from __future__ import annotations

import threading

import numpy as np
import pytest

import nablanet as nb
from nablanet import data, pipeline
from nablanet.nn.layers import activations as nn_activations
from nablanet.pipeline import choices as choices_module
from nablanet.pipeline.seeding import SEED_LOCK

from .conftest import breast_cancer_config

TINY = {"breast_cancer": "binary", "digits": "multiclass", "diabetes": "regression"}


def config_for(dataset: str, loss: str, output: str | None, **hidden) -> dict:
    head = {"type": "dense", "units": "auto"}
    if output is not None:
        head["activation"] = output
    return {
        "data": {"dataset": dataset},
        "model": {"layers": [{"type": "dense", "units": 4, **hidden}, head]},
        "training": {"loss": loss, "epochs": 1},
    }


@pytest.fixture(scope="module")
def datasets():
    return {name: data.load_dataset(name) for name in TINY}


def test_every_offered_loss_builds_with_its_output_activation(datasets):
    choices = pipeline.describe_choices()
    for name, task in TINY.items():
        assert choices.losses[task], task
        for loss in choices.losses[task]:
            cfg = pipeline.config_from_dict(config_for(name, loss, choices.output_activation[loss]))
            preview = pipeline.build_model_for(cfg, datasets[name])  # check_loss_fits agrees
            assert preview.n_outputs >= 1
    assert "binary_crossentropy" not in choices.losses["multiclass"]


def test_every_offered_activation_and_initializer_is_accepted(datasets):
    choices = pipeline.describe_choices()
    for activation in choices.activations:
        for initializer in choices.initializers:
            cfg = config_for(
                "breast_cancer",
                "binary_crossentropy",
                "sigmoid",
                activation=activation,
                initializer=initializer,
            )
            pipeline.config_from_dict(cfg)
    assert set(choices.initializers) <= set(choices.initializer_aliases.values())
    assert "zeros" not in choices.initializers  # a constant: never offered for weights


def test_a_name_added_to_a_registry_is_offered(monkeypatch):
    monkeypatch.setitem(
        nn_activations.ACTIVATIONS, "swish_test", nn_activations.ACTIVATIONS["relu"]
    )
    choices_module.describe_choices.cache_clear()
    try:
        assert "swish_test" in pipeline.describe_choices().activations
    finally:
        monkeypatch.undo()
        choices_module.describe_choices.cache_clear()
    assert "swish_test" not in pipeline.describe_choices().activations


def test_the_defaults_are_those_the_schema_fills_in():
    choices = pipeline.describe_choices()
    cfg = pipeline.config_from_dict(config_for("diabetes", "mse", None)).to_dict()
    for path, default in choices.defaults.items():
        node = cfg
        for part in path.split("."):
            if node is None:
                break
            node = node.get(part)  # to_dict() leaves out an unset optional section (tune)
        else:
            assert node == default, path
    assert (
        choices.defaults["training.optimizer.learning_rate"]
        == cfg["training"]["optimizer"]["learning_rate"]
    )
    dense = pipeline.config_from_dict(config_for("diabetes", "mse", None)).model.layers[0]
    for key, default in choices.layer_defaults["dense"].items():
        assert getattr(dense, key) == default, key


def test_the_preview_is_the_model_a_run_starts_from(tmp_path, datasets):
    cfg = pipeline.config_from_dict(config_for("breast_cancer", "binary_crossentropy", "sigmoid"))
    a = pipeline.build_model_for(cfg, datasets["breast_cancer"])
    b = pipeline.build_model_for(cfg, datasets["breast_cancer"])
    assert a.input_shape == (30,) and "Total params" in a.summary()
    for key, value in a.model.state_dict().items():
        np.testing.assert_array_equal(value, b.model.state_dict()[key])


def test_the_preview_waits_for_the_seed_lock(datasets):
    cfg = pipeline.config_from_dict(config_for("breast_cancer", "binary_crossentropy", "sigmoid"))
    done = threading.Event()

    def build():
        pipeline.build_model_for(cfg, datasets["breast_cancer"])
        done.set()

    with SEED_LOCK:  # a run is setting the seed and drawing its layers
        thread = threading.Thread(target=build)
        thread.start()
        assert not done.wait(0.5)
    assert done.wait(10)
    thread.join()


def test_bad_layers_for_the_data_name_the_layer(datasets):
    cfg = config_for("digits", "categorical_crossentropy", "softmax")
    cfg["model"]["layers"].insert(0, {"type": "conv2d", "filters": 2})
    with pytest.raises(pipeline.ConfigError, match=r"model\.layers\[0\]"):
        pipeline.build_model_for(pipeline.config_from_dict(cfg), datasets["breast_cancer"])


class FakeBestAt(nb.Callback):
    """Makes epoch ``best`` look best by the monitored key (it runs before the stop flag sees the
    logs), remembers that epoch's weights, and sets the stop event at epoch ``stop_at``."""

    def __init__(self, stop: threading.Event, best: int, stop_at: int):
        super().__init__()
        self.stop, self.best, self.stop_at = stop, best, stop_at
        self.weights = None

    def on_epoch_end(self, epoch, logs=None):
        if epoch == self.best:
            logs["val_loss"] = -1.0
            self.weights = self.model.state_dict()
        if epoch == self.stop_at:
            self.stop.set()


def test_a_stopped_run_keeps_its_best_weights(tmp_path):
    stop = threading.Event()
    cfg = breast_cancer_config(tmp_path, epochs=50)
    cfg["output_dir"] = str(tmp_path / "runs")
    cfg["training"].pop("early_stopping", None)
    spy = FakeBestAt(stop, best=1, stop_at=3)
    result = pipeline.train(
        pipeline.config_from_dict(cfg), callbacks=[spy], stop_event=stop, progress=False
    )
    assert result.status == "stopped" and len(result.history["epoch"]) == 4
    saved = pipeline.load_trained_model(result.model_path).model.state_dict()
    for key, value in spy.weights.items():
        np.testing.assert_array_equal(saved[key], value, err_msg=key)


def test_a_run_that_is_not_stopped_keeps_its_last_weights(tmp_path):
    stop = threading.Event()
    cfg = breast_cancer_config(tmp_path, epochs=3)
    cfg["output_dir"] = str(tmp_path / "runs")
    cfg["training"].pop("early_stopping", None)
    spy = FakeBestAt(stop, best=0, stop_at=99)
    result = pipeline.train(
        pipeline.config_from_dict(cfg), callbacks=[spy], stop_event=stop, progress=False
    )
    assert result.status == "completed"
    saved = pipeline.load_trained_model(result.model_path).model.state_dict()
    assert any(not np.array_equal(saved[k], v) for k, v in spy.weights.items())
