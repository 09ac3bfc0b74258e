"""The Model tab's form: MLPs and convolutional networks, to a config and back (no browser)."""

from __future__ import annotations

from pathlib import Path

import pytest

import nablanet as nb
from nablanet.pipeline.config import read_yaml
from nablanet.ui import pipeline_api as api
from nablanet.ui import tab_model
from nablanet.ui.common import AppContext
from nablanet.ui.errors import UIError
from nablanet.ui.model_form import (
    ConvBlock,
    HiddenLayer,
    ModelForm,
    form_from_config,
    form_to_config,
    validate_config,
)

CONFIGS = Path(__file__).resolve().parents[2] / "configs"
TASKS = {
    "breast_cancer": "binary",
    "diabetes": "regression",
    "mnist": "multiclass",
    "fashion_mnist": "multiclass",
    "mnist_cnn": "multiclass",
    "fashion_mnist_cnn": "multiclass",
}


def cnn_form(**changes) -> ModelForm:
    form = ModelForm(
        conv=[ConvBlock(4, 3, True), ConvBlock(6, 5, False)],
        batchnorm=True,
        shift=1,
        conv_dropout=0.25,
        layers=[HiddenLayer(16, "relu", 0.5)],
        epochs=2,
        batch_size=64,
        name="digits-cnn",
    )
    for key, value in changes.items():
        setattr(form, key, value)
    return form


@pytest.mark.parametrize("name", sorted(TASKS))
def test_every_shipped_config_loads_into_the_form_and_back(name):
    raw = read_yaml(CONFIGS / f"{name}.yaml")
    form, spec = form_from_config(raw)
    assert form.custom_layers is None, "the form should show this config's layers"
    assert bool(form.conv) == name.endswith("_cnn")
    again = validate_config(form_to_config(form, spec, TASKS[name])).to_dict()["model"]["layers"]
    original = validate_config(raw).to_dict()["model"]["layers"]
    # everything but the output layer (the form sizes it from the data: units 'auto')
    assert again[:-1] == original[:-1]
    assert again[-1]["activation"] == original[-1]["activation"]


def test_the_cnn_form_makes_the_expected_layers():
    config = form_to_config(cnn_form(), "digits", "multiclass")
    kinds = [
        (spec["type"], spec.get("filters") or spec.get("units"))
        for spec in config["model"]["layers"]
    ]
    assert kinds == [
        ("random_translation", None),
        ("conv2d", 4), ("maxpool2d", None), ("batchnorm", None),
        ("conv2d", 6), ("batchnorm", None),
        ("flatten", None), ("dropout", None),
        ("dense", 16), ("dropout", None),
        ("dense", "auto"),
    ]  # fmt: skip
    conv = config["model"]["layers"][4]
    assert conv["kernel_size"] == 5 and conv["padding"] == "same" and conv["activation"] == "relu"
    form, _ = form_from_config(config)
    assert form.conv == cnn_form().conv and form.batchnorm and form.shift == 1
    assert form.conv_dropout == 0.25 and form.layers == cnn_form().layers


def test_form_values_round_trip_with_convolutions():
    values = tab_model.form_values(cnn_form())
    assert len(values) == tab_model.N_FORM
    back = tab_model.form_from_values(values, None)
    assert back.conv == cnn_form().conv
    assert (back.batchnorm, back.shift, back.conv_dropout) == (True, 1, 0.25)
    mlp = tab_model.form_from_values(tab_model.form_values(ModelForm()), None)
    assert mlp.conv == [] and mlp.layers == ModelForm().layers


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"conv": [ConvBlock(0, 3, True)]}, "Convolution 1: filters must be at least 1"),
        ({"conv": [ConvBlock(8, 4, True)]}, "Convolution 1: kernel size must be 3 or 5, got 4"),
        ({"conv": [ConvBlock(8, 3, True)] * 4}, "At most 3 convolution blocks"),
        ({"shift": -1}, "Random shift \\(pixels\\) must be at least 0"),
        ({"conv_dropout": 1.0}, "Dropout after the convolutions must be"),
    ],
)
def test_bad_convolution_settings_name_the_field(change, message):
    with pytest.raises(UIError, match=message):
        form_to_config(cnn_form(**change), "digits", "multiclass")


def test_the_summary_shows_the_cnn_and_tabular_data_is_refused(tmp_path):
    ctx = AppContext(runs_dir=tmp_path, configs_dir=CONFIGS)
    values = tab_model.form_values(cnn_form())
    view = tab_model.model_view(ctx, {"spec": "digits", "task": "multiclass"}, None, values)
    assert "Conv2D" in view["summary"] and "(None, 8, 8, 4)" in view["summary"]
    assert "random_translation" in view["yaml"]
    state = {"spec": "breast_cancer", "task": "binary", "label": "breast cancer"}
    with pytest.raises(UIError, match=r"Convolution blocks need images .* shape \(30,\)"):
        tab_model.current_config(ctx, state, values, None)


def test_a_cnn_from_the_form_trains(tmp_path):
    config = form_to_config(cnn_form(), "digits", "multiclass")
    config["output_dir"] = str(tmp_path)
    config["evaluation"] = {"plots": False}
    result = api.train_config(config)
    model = nb.load_model(Path(result.run_dir) / "model.npz")
    assert isinstance(model.layers[0], nb.RandomTranslation)
    assert isinstance(model.layers[1], nb.Conv2D) and model.layers[1].out_channels == 4


def mlp_config(initializer: str) -> dict:
    return {
        "data": {"dataset": "breast_cancer"},
        "model": {
            "layers": [
                {"type": "dense", "units": 8, "activation": "relu", "initializer": initializer},
                {"type": "dense", "units": "auto", "activation": "sigmoid"},
            ]
        },
        "training": {"loss": "binary_crossentropy", "epochs": 2},
    }


def test_initializer_aliases_are_shown_and_constants_kept_as_they_are():
    form, _ = form_from_config(mlp_config("glorot_uniform"))
    assert form.custom_layers is None and form.initializer == "xavier_uniform"
    form, spec = form_from_config(mlp_config("zeros"))  # not on offer: the layers stay as written
    assert form.custom_layers is not None
    again = form_to_config(form, spec, "binary")
    assert again["model"]["layers"][0]["initializer"] == "zeros"


def test_the_form_offers_what_the_pipeline_describes():
    from nablanet.ui import model_form

    choices = api.describe_choices()
    assert model_form.ACTIVATIONS == choices.activations
    assert model_form.SCHEDULERS == ("none", *choices.schedulers)
    assert ModelForm().learning_rate == choices.defaults["training.optimizer.learning_rate"]
    assert ModelForm().batch_size == choices.defaults["training.batch_size"]
