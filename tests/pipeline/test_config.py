"""Config files: merging, overrides, and one clear message per kind of bad config."""

from __future__ import annotations

import pytest
import yaml

from nablanet.pipeline import ConfigError, config_from_dict, dump_config, load_config
from nablanet.pipeline.config import apply_overrides, merge_dicts, parse_value

BASE = {
    "name": "bc",
    "seed": 1,
    "data": {"dataset": "breast_cancer"},
    "model": {
        "layers": [
            {"type": "dense", "units": 8, "activation": "relu", "l2": 1.0e-4},
            {"type": "dropout", "rate": 0.2},
            {"type": "dense", "units": 1, "activation": "sigmoid"},
        ]
    },
    "training": {
        "loss": "binary_crossentropy",
        "optimizer": {"name": "adam", "learning_rate": 1.0e-3},
        "scheduler": {"name": "cosine", "warmup_epochs": 2},
        "epochs": 10,
        "early_stopping": {"monitor": "val_loss", "patience": 3},
    },
}


def error_for(*overrides: str) -> str:
    with pytest.raises(ConfigError) as info:
        config_from_dict(apply_overrides(BASE, list(overrides)))
    message = str(info.value)
    assert "\n" not in message
    return message


def test_valid_config_fills_defaults():
    cfg = config_from_dict(BASE)
    assert cfg.training.batch_size == 32
    assert cfg.training.optimizer.beta_1 == 0.9  # read from nablanet.nn.Adam's signature
    assert cfg.data.validation_split == 0.15
    assert cfg.model.layers[0].initializer == "he_normal"
    assert cfg.evaluation.plots is True


def test_dump_and_reload_is_identical(tmp_path):
    cfg = config_from_dict(BASE)
    path = tmp_path / "c.yaml"
    path.write_text(dump_config(cfg))
    assert load_config([path]).to_dict() == cfg.to_dict()


@pytest.mark.parametrize(
    ("override", "expected"),
    [
        (
            "model.layers[2].units=-3",
            "model.layers[2].units: must be a positive integer or 'auto', got -3",
        ),
        ("model.layers[0].unit=3", "model.layers[0].unit: unknown key (did you mean 'units'?)"),
        ("training.epoch=3", "training.epoch: unknown key (did you mean 'epochs'?)"),
        ("training.epochs=abc", "training.epochs: must be an integer, got 'abc'"),
        ("training.epochs=2.5", "training.epochs: must be an integer, got 2.5"),
        ("training.batch_size=true", "training.batch_size: must be an integer, got true"),
        ("training.shuffle=3", "training.shuffle: must be true or false, got 3"),
        ("model.layers[1].type=conv", "model.layers[1].type: unknown layer type 'conv'"),
        ("model.layers[0].activation=rellu", "unknown activation 'rellu' (did you mean 'relu'?)"),
        ("model.layers[0].initializer=he", "model.layers[0].initializer: unknown initializer 'he'"),
        ("training.loss=crossentropy", "training.loss: unknown loss 'crossentropy'"),
        ("training.optimizer.name=adamw", "training.optimizer.name: unknown optimizer 'adamw'"),
        ("training.optimizer.momentum=0.9", "training.optimizer.momentum: unknown key"),
        (
            "training.optimizer.learning_rate=-1",
            "training.optimizer.learning_rate: must be a positive number, got -1",
        ),
        ("training.scheduler.name=linear", "training.scheduler.name: unknown scheduler 'linear'"),
        ("model.layers[1].rate=1.5", "model.layers[1].rate: must be a fraction in [0, 1), got 1.5"),
        (
            "data.preprocessing.scale=stdandard",
            "data.preprocessing.scale: must be one of 'standard', 'minmax', 'unit', 'per_channel' or 'none', got 'stdandard'",
        ),
        (
            "data.validation_split=0.9",
            "data.validation_split: validation_split + test_split must be < 1",
        ),
        ("data.dataset={csv: a.csv}", "data.dataset.target: required key is missing"),
        ("data.dataset=5", "data.dataset: must be a registry name"),
        ("data.dataset={foo: x.csv}", "data.dataset: must be a registry name"),
        (
            "training.early_stopping.monitor=val_acc",
            "training.early_stopping.monitor: must be one of",
        ),
        (
            "data.validation_split=0",
            "training.checkpoint.monitor: needs a validation set but data.validation_split is 0",
        ),
        (  # an explicit t_max is the user's: a warm-up that does not fit in it is an error
            "training.scheduler={name: cosine, t_max: 5, warmup_epochs: 5}",
            "training.scheduler.warmup_epochs: must be smaller than training.scheduler.t_max (5)",
        ),
        ("name=my run", "name: must start with a letter or digit"),
        ("model.layers=[]", "model.layers: must list at least one layer"),
        ("model.layers[0]=5", "model.layers[0]: must be a mapping with a 'type' key, got 5"),
        ("model=3", "model: must be a mapping (key: value), got 3"),
        ("evaluation.metrics=[accuracy, auc]", "evaluation.metrics[1]: must be one of"),
        (
            "training.learning_rate=0.1",
            "training.learning_rate: unknown key; valid keys here: batch_size",
        ),
    ],
)
def test_each_kind_of_bad_config_has_its_message(override, expected):
    assert expected in error_for(override)


def test_a_warm_up_longer_than_the_run_is_shortened_with_a_note():
    # t_max defaults to training.epochs: `--set training.epochs=1` on a config with a warm-up
    # must still run (issue 14)
    config = config_from_dict(apply_overrides(BASE, ["training.epochs=2"]))
    assert config.training.scheduler.warmup_epochs == 1
    assert config.notes == [
        "training.scheduler.warmup_epochs: 2 warm-up epoch(s) do not fit in a 2-epoch run; using 1"
    ]
    one = config_from_dict(apply_overrides(BASE, ["training.epochs=1"]))
    assert one.training.scheduler.warmup_epochs == 0 and len(one.notes) == 1
    # what is saved is what runs: read back, it validates with no note
    again = config_from_dict(one.to_dict())
    assert again.training.scheduler.warmup_epochs == 0 and again.notes == []
    assert config_from_dict(BASE).notes == []


def test_missing_required_keys():
    data = {k: v for k, v in BASE.items() if k != "training"}
    with pytest.raises(ConfigError, match=r"^training: required key is missing$"):
        config_from_dict(data)
    with pytest.raises(ConfigError, match=r"training\.epochs: required key is missing"):
        config_from_dict(apply_overrides(BASE, {}) | {"training": {"loss": "mse"}})


def test_several_errors_are_reported_on_one_line():
    message = error_for("training.epochs=0", "training.batch_size=-1")
    assert "training.epochs: must be a positive integer, got 0" in message
    assert "training.batch_size: must be a positive integer, got -1" in message


def test_files_are_merged_later_ones_override(tmp_path):
    base = tmp_path / "base.yaml"
    base.write_text(yaml.safe_dump(BASE))
    over = tmp_path / "over.yaml"
    over.write_text("training: {epochs: 3, optimizer: {learning_rate: 0.01}}\nname: other\n")
    cfg = load_config([base, over], ["training.batch_size=8"])
    assert cfg.name == "other"
    assert cfg.training.epochs == 3
    assert cfg.training.optimizer.learning_rate == 0.01
    assert cfg.training.optimizer.name == "adam"  # kept from the base file
    assert cfg.training.batch_size == 8
    assert len(cfg.model.layers) == 3


def test_lists_are_replaced_not_merged():
    merged = merge_dicts({"a": [1, 2, 3], "b": {"c": 1}}, {"a": [9], "b": {"d": 2}})
    assert merged == {"a": [9], "b": {"c": 1, "d": 2}}


def test_overrides_parse_yaml_values_and_paths():
    data = apply_overrides(
        BASE,
        [
            "training.optimizer.learning_rate=1e-2",
            "model.layers[0].units=64",
            "model.layers.1.rate=0.5",
            "training.scheduler=null",
            "evaluation.metrics=[accuracy, f1]",
            "data.dataset={csv: data.csv, target: label}",
        ],
    )
    assert data["training"]["optimizer"]["learning_rate"] == 0.01
    assert data["model"]["layers"][0]["units"] == 64
    assert data["model"]["layers"][1]["rate"] == 0.5
    assert data["training"]["scheduler"] is None
    assert data["evaluation"]["metrics"] == ["accuracy", "f1"]
    assert data["data"]["dataset"] == {"csv": "data.csv", "target": "label"}
    assert BASE["model"]["layers"][0]["units"] == 8  # the input is not modified


def test_override_errors_name_the_override():
    with pytest.raises(
        ConfigError, match=r"--set model.layers\[5\].units=3: index 5 is out of range"
    ):
        apply_overrides(BASE, ["model.layers[5].units=3"])
    with pytest.raises(ConfigError, match=r"expected key\.path=value"):
        apply_overrides(BASE, ["training.epochs"])
    with pytest.raises(ConfigError, match="is not a list"):
        apply_overrides(BASE, ["training[0]=1"])


def test_shorthand_names_for_optimizer_and_scheduler():
    cfg = config_from_dict(
        apply_overrides(BASE, ["training.optimizer=sgd", "training.optimizer.momentum=0.9"])
    )
    assert cfg.training.optimizer.name == "sgd"
    assert cfg.training.optimizer.momentum == 0.9
    cfg = config_from_dict(apply_overrides(BASE, ["training.scheduler=step"]))
    assert cfg.training.scheduler.step_size == 10


def test_parse_value():
    assert parse_value("5") == 5
    assert parse_value("1e-3") == 0.001
    assert parse_value("true") is True
    assert parse_value("relu") == "relu"
    assert parse_value("") is None


def test_relative_dataset_paths_become_absolute(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    cfg = config_from_dict(apply_overrides(BASE, ["data.dataset={csv: d/x.csv, target: y}"]))
    assert cfg.data.dataset.csv == str(tmp_path / "d" / "x.csv")
    assert cfg.data.dataset_spec() == {"csv": str(tmp_path / "d" / "x.csv"), "target": "y"}


def test_yaml_problems_name_the_file(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("training:\n  epochs: [1\n")
    with pytest.raises(ConfigError, match=r"bad.yaml: line \d+, column \d+: invalid YAML"):
        load_config([bad])
    scalar = tmp_path / "scalar.yaml"
    scalar.write_text("just text\n")
    with pytest.raises(ConfigError, match="the top level must be a mapping"):
        load_config([scalar])
    with pytest.raises(ConfigError, match=r"missing\.yaml: no such config file"):
        load_config([tmp_path / "missing.yaml"])
    with pytest.raises(ConfigError, match="no configuration given"):
        load_config([])


def test_yaml_is_loaded_safely(tmp_path):
    evil = tmp_path / "evil.yaml"
    evil.write_text("name: !!python/object/apply:os.system ['echo hacked']\n")
    with pytest.raises(ConfigError, match="invalid YAML"):
        load_config([evil])


@pytest.mark.parametrize("path", ["breast_cancer", "mnist", "fashion_mnist", "diabetes"])
def test_shipped_configs_validate(path):
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    cfg = load_config([root / "configs" / f"{path}.yaml"])
    assert cfg.output_dir == "runs"


def test_optimizer_name_defaults_to_adam():
    data = apply_overrides(BASE, ["training.optimizer={learning_rate: 0.01}"])
    cfg = config_from_dict(data)
    assert cfg.training.optimizer.name == "adam"
    assert cfg.training.optimizer.learning_rate == 0.01
