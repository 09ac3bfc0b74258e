"""Convolutional layer types in configs: schema, build, shape errors, the shipped CNN configs, and
a tiny CNN trained end to end on the bundled 8x8 digits (images are not flattened)."""

from __future__ import annotations

import json

import numpy as np
import pytest

import nablanet as nb
from nablanet import pipeline
from nablanet.cli import main
from nablanet.pipeline import ConfigError, build_model, config_from_dict
from nablanet.pipeline.config import apply_overrides, load_config

from .conftest import ROOT, only_run, write_config

CNN = {
    "data": {"dataset": "digits"},
    "model": {
        "layers": [
            {
                "type": "conv2d",
                "filters": 4,
                "kernel_size": 3,
                "padding": "same",
                "activation": "relu",
            },
            {"type": "maxpool2d", "pool_size": 2},
            {"type": "batchnorm"},
            {"type": "conv2d", "filters": 6, "kernel_size": [3, 2], "stride": 1, "padding": 1},
            {"type": "avgpool2d", "pool_size": 2, "stride": [2, 1]},
            {"type": "flatten"},
            {"type": "dense", "units": 8, "activation": "relu"},
            {"type": "batchnorm", "momentum": 0.8},
            {"type": "dense", "units": "auto", "activation": "softmax"},
        ]
    },
    "training": {"loss": "categorical_crossentropy", "epochs": 2},
}


def cfg(*overrides, base=CNN):
    return config_from_dict(apply_overrides(base, list(overrides)))


def test_cnn_layers_build_with_shapes_from_the_data():
    model = build_model(cfg(), (8, 8, 1), 10, task="multiclass")
    conv0, pool, bn, conv1, avg, flat, dense, bn2, head = model.layers
    assert (conv0.in_channels, conv0.out_channels, conv0.padding) == (1, 4, "same")
    assert isinstance(pool, nb.MaxPool2D) and pool.pool_size == (2, 2)
    assert bn.n_features == 4 and bn2.n_features == 8 and bn2.momentum == 0.8
    assert conv1.in_channels == 4 and conv1.kernel_size == (3, 2) and conv1.padding == (1, 1)
    assert isinstance(avg, nb.AvgPool2D) and avg.stride == (2, 1)
    assert isinstance(flat, nb.Flatten)
    assert model.output_shapes((8, 8, 1)) == [
        (8, 8, 4),
        (4, 4, 4),
        (4, 4, 4),
        (4, 5, 6),
        (2, 4, 6),
        (48,),
        (8,),
        (8,),
        (10,),
    ]
    assert dense.n_inputs == 48 and head.n_neurons == 10
    assert model.predict(np.zeros((3, 8, 8, 1), np.float32)).shape == (3, 10)


def test_other_shape_layers():
    c_dict = apply_overrides(CNN, [])
    c_dict["model"]["layers"][4] = {"type": "globalavgpool2d"}
    c_dict["model"]["layers"][5] = {"type": "reshape", "target_shape": [2, 3]}
    c_dict["model"]["layers"].insert(6, {"type": "flatten"})
    c = config_from_dict(c_dict)
    model = build_model(c, (8, 8, 1), 10)
    assert model.output_shapes((8, 8, 1))[4:7] == [(6,), (2, 3), (6,)]


@pytest.mark.parametrize(
    ("overrides", "match"),
    [
        (["model.layers[0].padding=full"], r"model.layers\[0\].padding: must be 'same', 'valid'"),
        (["model.layers[0].kernel_size=[3]"], r"model.layers\[0\].kernel_size: must be a positive"),
        (["model.layers[0].filters=0"], r"model.layers\[0\].filters: must be a positive integer"),
        (["model.layers[0].kernel=3"], r"model.layers\[0\].kernel: unknown key"),
        (["model.layers[1].pool_size=-2"], r"model.layers\[1\].pool_size"),
        (["model.layers[2].momentum=1.5"], r"model.layers\[2\].momentum"),
        (
            ["model.layers[0].type=conv3d"],
            r"unknown layer type 'conv3d' \(did you mean 'conv2d'\?\)",
        ),
    ],
)
def test_schema_errors_name_the_key(overrides, match):
    with pytest.raises(ConfigError, match=match):
        cfg(*overrides)


def test_build_errors_name_the_layer():
    with pytest.raises(ConfigError, match=r"model.layers\[0\] \(conv2d\) expects images"):
        build_model(cfg(), (64,), 10)
    with pytest.raises(ConfigError, match=r"model.layers\[1\] \(maxpool2d\): .*larger than"):
        build_model(cfg("model.layers[1].pool_size=9"), (8, 8, 1), 10)
    with pytest.raises(ConfigError, match=r"model.layers\[3\] \(conv2d\): .*does not fit"):
        build_model(
            cfg("model.layers[3].kernel_size=7", "model.layers[3].padding=0"), (8, 8, 1), 10
        )


@pytest.mark.parametrize("name", ["mnist_cnn", "fashion_mnist_cnn"])
def test_shipped_cnn_configs_build(name):
    config = load_config(ROOT / "configs" / f"{name}.yaml")
    model = build_model(config, (28, 28, 1), 10, task="multiclass")
    first_conv = next(i for i, layer in enumerate(model.layers) if isinstance(layer, nb.Conv2D))
    assert all(isinstance(la, nb.RandomTranslation) for la in model.layers[:first_conv])
    shapes = model.output_shapes((28, 28, 1))
    assert shapes[first_conv] == (28, 28, 32) and shapes[-1] == (10,)
    assert (7, 7, 64) in shapes
    assert config.data.preprocessing.flatten is not True


def test_tiny_cnn_trains_end_to_end_on_unflattened_digits(tmp_path, capsys):
    data = apply_overrides(CNN, [])
    data.update(
        name="digits_cnn",
        seed=1,
        output_dir=str(tmp_path / "runs"),
        evaluation={"plots": False},
    )
    data["training"].update(
        epochs=3, batch_size=64, optimizer={"name": "adam", "learning_rate": 0.01}
    )
    config = write_config(tmp_path / "cnn.yaml", data)
    code = main(["train", "--config", str(config), "--no-progress"])
    _, err = capsys.readouterr()
    assert code == 0, err
    run = only_run(tmp_path)
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["test"]["accuracy"] > 0.5  # 3 quick epochs; chance is 0.1
    trained = pipeline.load_trained_model(run / "model.npz")
    assert tuple(trained.metadata["input_shape"]) == (8, 8, 1)
    assert isinstance(trained.model.layers[0], nb.Conv2D)
    bn = trained.model.layers[2]
    assert bn.running_mean.any()  # the running statistics were saved with the model
    digits = np.random.default_rng(0).integers(0, 17, (4, 8, 8, 1)).astype(np.float32)
    probs = trained.predict_proba(digits)  # raw 8x8x1 images in, through the saved scaler
    assert probs.shape == (4, 10)
    np.testing.assert_allclose(probs.sum(axis=1), 1, rtol=1e-5)


def test_summary_text_of_a_cnn_run_mentions_output_shapes(tmp_path):
    model = build_model(cfg(), (8, 8, 1), 10)
    text = model.summary((8, 8, 1), print_fn=None)
    assert "Conv2D (relu)" in text and "(None, 8, 8, 4)" in text


def test_random_translation_layer_type():
    c_dict = apply_overrides(CNN, [])
    c_dict["model"]["layers"].insert(0, {"type": "random_translation", "max_shift": 1})
    model = build_model(config_from_dict(c_dict), (8, 8, 1), 10)
    assert isinstance(model.layers[0], nb.RandomTranslation) and model.layers[0].max_shift == 1
    assert model.output_shapes((8, 8, 1))[0] == (8, 8, 1)
    with pytest.raises(ConfigError, match=r"model.layers\[0\] \(random_translation\) expects"):
        build_model(config_from_dict(c_dict), (64,), 10)
    c_dict["model"]["layers"][0]["max_shift"] = -1
    with pytest.raises(ConfigError, match=r"model.layers\[0\].max_shift"):
        config_from_dict(c_dict)
