"""Every shipped config (``configs/*.yaml``, whoever adds one) trains for one epoch: the quick
check a user runs first, ``nablanet train --config configs/<name>.yaml --set training.epochs=1``.

The data are what the config names when that is small and offline (the bundled scikit-learn
sets, a file in the repository); a large or downloadable dataset (MNIST, Fashion-MNIST, CIFAR-10,
...) is replaced by a few random samples of its registered shape, classes and value range, so
the test needs no network and no cache and stays fast, while the network, the preprocessing,
the scheduler and the run's files are exactly the config's.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from nablanet import data as nd
from nablanet import pipeline
from nablanet.cli import main

ROOT = Path(__file__).resolve().parents[2]
CONFIGS = sorted((ROOT / "configs").glob("*.yaml"))
# a dataset this small and offline is used as it is; a bigger one gets a stand-in
SMALL_ENOUGH = 2000
N_TRAIN, N_TEST = 48, 16
FINISHED = {"completed", "early_stopped", "stopped"}


def registry_name(spec) -> str | None:
    if isinstance(spec, str):
        return spec
    if isinstance(spec, dict) and set(spec) == {"name"}:
        return spec["name"]
    return None


def stand_in(info: nd.DatasetInfo, seed: int = 0) -> nd.Dataset:
    """Random samples shaped like ``info``'s dataset (images: uint8 in 0..255)."""
    rng = np.random.default_rng(seed)
    shape = tuple(info.input_shape)
    image = len(shape) == 3
    n = N_TRAIN + N_TEST
    if image:
        x = rng.integers(0, 256, size=(n, *shape), dtype=np.uint8)
    else:
        x = rng.normal(size=(n, *shape)).astype(np.float32)
    if info.task == "regression":
        y = rng.normal(size=n).astype(np.float32)
        class_names = None
    else:
        k = info.n_classes or 2
        y = np.arange(n, dtype=np.int64) % k  # every class in both splits
        rng.shuffle(y)
        class_names = [str(i) for i in range(k)]
    return nd.Dataset(
        x=x[:N_TRAIN],
        y=y[:N_TRAIN],
        task=info.task,
        name=info.name,
        class_names=class_names,
        x_test=x[N_TRAIN:],
        y_test=y[N_TRAIN:],
        value_range=(0.0, 255.0) if image else None,
        description=f"a random stand-in for {info.name}",
    )


def test_there_are_shipped_configs():
    assert len(CONFIGS) >= 6, CONFIGS


@pytest.mark.parametrize("path", CONFIGS, ids=lambda p: p.stem)
def test_every_shipped_config_trains_for_one_epoch(path, tmp_path, monkeypatch, caplog):
    monkeypatch.chdir(ROOT)  # a config's own data files are relative to the repository
    # no plots: they take most of the time, and tests/pipeline/test_plots.py has them
    overrides = ["training.epochs=1", f"output_dir={tmp_path}", "evaluation.plots=false"]
    config = pipeline.load_config([path], overrides)
    dataset = None
    name = registry_name(config.data.dataset)
    if name is not None:
        info = {i.name: i for i in nd.list_datasets()}[name]
        if not (info.available_offline and info.n_train <= SMALL_ENOUGH):
            dataset = stand_in(info)
    with caplog.at_level("INFO", logger="nablanet"):
        result = pipeline.train(config, dataset=dataset, data_dir=tmp_path / "cache")
    assert result.status in FINISHED, result.status
    assert len(result.history["epoch"]) == 1
    assert (result.run_dir / "model.npz").is_file()
    assert (result.run_dir / "metrics.json").is_file()
    warmup = getattr(config.training.scheduler, "warmup_epochs", None)
    if warmup is not None:
        assert warmup == 0  # a 1-epoch run has no room for a warm-up
        original = pipeline.read_yaml(path).get("training", {}).get("scheduler") or {}
        if original.get("warmup_epochs"):
            log = (result.run_dir / "train.log").read_text(encoding="utf-8")
            assert "warm-up epoch(s) do not fit in a 1-epoch run; using 0" in log


def test_the_reported_command_works(tmp_path, capsys):
    """Issue 14: `--set training.epochs=1` on a shipped config with a warm-up failed with
    "warmup_epochs must be smaller than t_max"."""
    code = main(
        [
            "train",
            "--config",
            str(ROOT / "configs" / "breast_cancer.yaml"),
            "--set",
            "training.epochs=1",
            "--set",
            f"output_dir={tmp_path}",
            "--set",
            "evaluation.plots=false",
            "--no-progress",
        ]
    )
    out, err = capsys.readouterr()
    assert code == 0, err
    assert "completed" in out
    assert "Config: training.scheduler.warmup_epochs: 2 warm-up epoch(s) do not fit" in err
