"""CIFAR-10 through the command line: ``dataset: cifar10`` (small files in the exact binary
format, with a learnable signal), a CNN with flips, crops and per-channel standardization
learns it through ``nablanet train``, and ``nablanet predict`` reads a colour picture."""

from __future__ import annotations

import csv
import dataclasses
import json

import numpy as np
import pytest
from PIL import Image

from nablanet import data, pipeline
from nablanet.cli import main
from nablanet.data import cifar, registry

from .conftest import only_run, write_config

N = 60  # records per file: 300 training and 60 test images


@pytest.fixture
def tiny_cifar(tmp_path, monkeypatch):
    """``cifar10`` in the registry reads small files in $NABLANET_DATA/cifar10/."""
    source = dataclasses.replace(cifar.CIFAR10, records_per_file=N, md5=None)
    root = tmp_path / "datasets"
    cifar.write_synthetic_cifar(root / "cifar10", source)
    monkeypatch.setenv("NABLANET_DATA", str(root))
    entry = registry._REGISTRY.pop("cifar10")
    registry._register_cifar(source)
    yield source
    registry._REGISTRY["cifar10"] = entry


def cifar_config(tmp_path, epochs: int = 6) -> dict:
    return {
        "name": "cifar_tiny",
        "seed": 0,
        "data": {
            "dataset": "cifar10",
            "validation_split": 0.1,
            "preprocessing": {"scale": "per_channel"},
        },
        "model": {
            "layers": [
                {"type": "random_flip"},
                {"type": "random_crop", "padding": 2, "padding_mode": "reflect"},
                {"type": "conv2d", "filters": 8, "kernel_size": 3, "padding": "same",
                 "activation": "relu"},
                {"type": "batchnorm"},
                {"type": "maxpool2d", "pool_size": 4},
                {"type": "conv2d", "filters": 16, "kernel_size": 3, "padding": "same",
                 "activation": "relu"},
                {"type": "maxpool2d", "pool_size": 2},
                {"type": "flatten"},
                {"type": "dropout", "rate": 0.2},
                {"type": "dense", "units": "auto", "activation": "softmax"},
            ]
        },
        "training": {
            "loss": "categorical_crossentropy",
            "optimizer": {"name": "adam", "learning_rate": 0.01},
            "epochs": epochs,
            "batch_size": 32,
        },
        "evaluation": {"plots": True},
        "output_dir": str(tmp_path / "runs"),
    }  # fmt: skip


def test_registry_entry_loads_the_files_of_the_data_dir(tiny_cifar):
    ds = data.load_dataset("cifar10")
    assert ds.x.shape == (5 * N, 32, 32, 3) and ds.x_test.shape == (N, 32, 32, 3)
    assert ds.class_names[0] == "airplane"


@pytest.mark.slow  # about 15 s on 2 busy cores
def test_a_cnn_learns_synthetic_cifar_through_the_cli(tiny_cifar, tmp_path, capsys):
    config = write_config(tmp_path / "cifar.yaml", cifar_config(tmp_path))
    code = main(["train", "--config", str(config)])
    _, err = capsys.readouterr()
    assert code == 0, err
    run = only_run(tmp_path)
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["test"]["n_samples"] == N  # CIFAR's own test batch
    assert metrics["test"]["accuracy"] >= 0.8, metrics["test"]  # chance is 0.1
    trained = pipeline.load_trained_model(run / "model.npz")
    assert trained.input_shape == (32, 32, 3) and trained.metadata["image_style"] == "photo"
    # per-channel statistics fitted on the training split only, applied to raw pixels
    (step,) = trained.preprocessing.steps
    assert type(step).__name__ == "ChannelStandardizer"
    config_obj = pipeline.load_config([str(config)])
    ds = data.load_dataset("cifar10")
    from nablanet.pipeline.prepare import split_dataset

    _, split = split_dataset(config_obj, ds)
    x_train = split.x_train.reshape(-1, 3).astype(np.float64)
    np.testing.assert_allclose(step.mean, x_train.mean(axis=0), rtol=1e-5)
    everything = np.concatenate([ds.x, ds.x_test]).reshape(-1, 3).mean(axis=0)
    assert not np.allclose(step.mean, everything, rtol=1e-5)
    assert (run / "plots" / "misclassified.png").is_file()

    # predict: a colour picture of another size, raw pixels in, the class of its colour out
    test_image = ds.x_test[3]
    Image.fromarray(test_image).resize((64, 64), Image.Resampling.NEAREST).save(
        tmp_path / "photo.png"
    )
    code = main(
        ["predict", "--model", str(run / "model.npz"), "--input", str(tmp_path / "photo.png")]
    )
    out, err = capsys.readouterr()
    assert code == 0, err
    rows = list(csv.reader(out.splitlines()))
    assert rows[1][1] == ds.class_names[int(ds.y_test[3])]
    assert "resized 64x64 -> 32x32" in err
