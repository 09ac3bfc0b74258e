"""Diagnostics in runs: on by default, diagnostics.json beside history.json, warnings in
train.log, the plots in plots/ and from `nablanet visualize`, and a switch to turn them off."""

from __future__ import annotations

import json

import pytest

from nablanet.cli import main
from nablanet.pipeline import InputError, config_from_dict, read_diagnostics, train

from .conftest import write_config


def toy_config(tmp_path, *, layers=None, plots=True, **training) -> dict:
    return {
        "name": "toy",
        "seed": 1,
        "data": {"dataset": "xor", "n_samples": 200, "noise": 0.1},
        "model": {
            "layers": layers
            or [
                {"type": "dense", "units": 8, "activation": "tanh"},
                {"type": "dense", "units": "auto", "activation": "sigmoid"},
            ]
        },
        "training": {"loss": "binary_crossentropy", "epochs": 3, "batch_size": 32, **training},
        "evaluation": {"plots": plots},
        "output_dir": str(tmp_path / "runs"),
    }


def test_a_run_writes_diagnostics_and_their_plots(tmp_path):
    result = train(config_from_dict(toy_config(tmp_path)), progress=False)
    run = result.run_dir
    record = read_diagnostics(run)
    assert json.loads((run / "diagnostics.json").read_text()) == record
    assert record["schema"] == "nablanet.diagnostics" and record["version"] == 1
    assert record["epochs"][0] == 1 and record["every"] == "auto"
    assert [layer["name"] for layer in record["layers"]] == ["0.dense", "1.dense"]
    names = {p.name for p in result.plots}
    assert {"gradient_norms.png", "histograms.png", "decision_boundary.png"} <= names
    assert all((run / "plots" / n).stat().st_size > 1000 for n in names)


def test_warnings_reach_the_log(tmp_path):
    deep = [{"type": "dense", "units": 16, "activation": "sigmoid"} for _ in range(9)]
    config = toy_config(
        tmp_path,
        layers=[*deep, {"type": "dense", "units": "auto", "activation": "sigmoid"}],
        plots=False,
        optimizer={"name": "sgd", "learning_rate": 0.1},
        epochs=2,
        diagnostics={"every": 1},
    )
    result = train(config_from_dict(config), progress=False)
    log = (result.run_dir / "train.log").read_text()
    assert "diagnostics: epoch 1: vanishing_gradients" in log and "Try: use ReLU" in log
    rules = [w["rule"] for w in read_diagnostics(result.run_dir)["warnings"]]
    assert "vanishing_gradients" in rules


def test_diagnostics_can_be_turned_off(tmp_path):
    config = toy_config(tmp_path, diagnostics={"enabled": False})
    result = train(config_from_dict(config), progress=False)
    assert not (result.run_dir / "diagnostics.json").exists()
    assert read_diagnostics(result.run_dir) is None
    names = {p.name for p in result.plots}
    assert "gradient_norms.png" not in names and "decision_boundary.png" in names


def test_visualize_draws_them_again(tmp_path, capsys):
    config = write_config(tmp_path / "toy.yaml", toy_config(tmp_path, plots=False))
    assert main(["train", "--config", str(config), "--no-progress"]) == 0
    run = next((tmp_path / "runs").iterdir())
    capsys.readouterr()
    assert main(["visualize", "--history", str(run), "--output", str(tmp_path / "out")]) == 0
    printed = capsys.readouterr().out.split()
    names = {p.rsplit("/", 1)[-1] for p in printed}
    assert {"loss.png", "gradient_norms.png", "histograms.png", "decision_boundary.png"} <= names


def test_a_file_that_is_not_diagnostics_is_refused(tmp_path):
    bad = tmp_path / "diagnostics.json"
    bad.write_text('{"loss": [1]}')
    with pytest.raises(InputError, match="not a nablanet diagnostics file"):
        read_diagnostics(bad)
    bad.write_text("{")
    with pytest.raises(InputError, match="cannot read the diagnostics"):
        read_diagnostics(bad)
