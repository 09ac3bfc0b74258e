"""Fixtures of the pipeline tests: small configs written into tmp_path, clean logging."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def _clean_logging():
    """``main()`` installs a console handler on the "nablanet" logger bound to the (captured)
    stderr of the test; remove it afterwards so later tests do not write to a closed stream."""
    logger = logging.getLogger("nablanet")
    before = list(logger.handlers)
    level = logger.level
    yield
    for handler in list(logger.handlers):
        if handler not in before:
            logger.removeHandler(handler)
    logger.setLevel(level)


def write_config(path: Path, data: dict) -> Path:
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def breast_cancer_config(tmp_path: Path, **training) -> dict:
    """A fast breast-cancer config: 3 epochs, a small MLP, no plots."""
    return {
        "name": "bc",
        "seed": 3,
        "data": {"dataset": "breast_cancer", "validation_split": 0.2, "test_split": 0.2},
        "model": {
            "layers": [
                {"type": "dense", "units": 8, "activation": "relu", "l2": 1.0e-4},
                {"type": "dropout", "rate": 0.2},
                {"type": "dense", "units": 1, "activation": "sigmoid"},
            ]
        },
        "training": {
            "loss": "binary_crossentropy",
            "optimizer": {"name": "adam", "learning_rate": 0.01},
            "scheduler": {"name": "cosine", "warmup_epochs": 1},
            "epochs": 3,
            "batch_size": 32,
            "early_stopping": {"monitor": "val_loss", "patience": 5},
            **training,
        },
        "evaluation": {"plots": False},
        "output_dir": str(tmp_path / "runs"),
    }


@pytest.fixture
def bc_config(tmp_path) -> Path:
    return write_config(tmp_path / "bc.yaml", breast_cancer_config(tmp_path))


def run_dirs(folder: Path) -> list[Path]:
    """The run directories in an output folder (not its ``latest`` pointer)."""
    return sorted(p for p in folder.iterdir() if p.name != "latest")


def only_run(tmp_path: Path) -> Path:
    runs = run_dirs(tmp_path / "runs")
    assert len(runs) == 1, runs
    return runs[0]
