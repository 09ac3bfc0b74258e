"""Colour data in the UI without a browser: the Data tab's sample grid shows colour images in
their colours, CIFAR-10 is in the dataset box, and its starting form is a CNN that builds."""

from __future__ import annotations

import numpy as np

from nablanet.data import Dataset
from nablanet.data.cifar import CIFAR10, synthetic_cifar_bytes
from nablanet.ui import data_view
from nablanet.ui import pipeline_api as api
from nablanet.ui.model_form import default_form, form_to_config


def colour_dataset(n: int = 40) -> Dataset:
    _, x, y = synthetic_cifar_bytes(n, seed=2)
    return Dataset(
        x=x, y=y, task="multiclass", name="cifar10", class_names=list(CIFAR10.class_names),
        value_range=(0.0, 255.0),
    )  # fmt: skip


def test_the_sample_grid_shows_colour_images_in_colour():
    ds = colour_dataset()
    fig = data_view.sample_grid(ds, n=10)
    shown = [np.asarray(ax.images[0].get_array()) for ax in fig.axes]
    assert len(shown) == 10 and all(s.shape == (32, 32, 3) for s in shown)
    first = int(data_view.sample_indices(ds, 10, 0)[0])
    np.testing.assert_allclose(shown[0], ds.x[first] / 255.0, atol=1e-6)


def test_cifar10_is_offered_and_its_form_is_a_cnn_that_builds():
    assert "cifar10" in [value for _, value in data_view.dataset_choices()]
    form = default_form("cifar10", "multiclass")
    config = form_to_config(form, "cifar10", "multiclass")
    types = [layer["type"] for layer in config["model"]["layers"]]
    assert types[0] == "random_translation" and types.count("conv2d") == 3
    summary = api.model_summary(config, colour_dataset())
    assert "Conv2D" in summary and "(None, 10)" in summary
