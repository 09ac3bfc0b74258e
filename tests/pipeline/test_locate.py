"""A run directory and ``runs/latest`` are accepted wherever a model is expected: ``evaluate``,
``predict``, ``export``, ``visualize``, ``train --resume`` and the UI's loader all resolve paths
through ``nablanet.pipeline.locate``."""

from __future__ import annotations

import os
import shutil
import threading
from pathlib import Path

import numpy as np
import pytest

import nablanet as nb
from nablanet import pipeline
from nablanet.cli import main
from nablanet.pipeline.errors import InputError
from nablanet.pipeline.locate import (
    LATEST,
    is_latest_pointer,
    read_latest,
    resolve_model_path,
    resolve_run_path,
    update_latest,
)

from .conftest import breast_cancer_config, write_config


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory) -> Path:
    tmp = tmp_path_factory.mktemp("locate")
    config = pipeline.config_from_dict(breast_cancer_config(tmp, epochs=2))
    return pipeline.train(config, progress=False).run_dir


@pytest.fixture
def runs(tmp_path, run_dir) -> Path:
    """A fresh copy of the trained run in an output folder with a ``latest`` pointer."""
    out = tmp_path / "runs"
    out.mkdir()
    shutil.copytree(run_dir, out / run_dir.name)
    update_latest(out / run_dir.name)
    return out


def fake_run(base: Path, name: str) -> Path:
    run = base / name
    run.mkdir(parents=True)
    (run / "config.yaml").write_text("name: x\n")
    return run


# -- the pointer ------------------------------------------------------------------------------
def test_latest_is_a_relative_link_replaced_atomically(tmp_path):
    first, second = fake_run(tmp_path, "a-1"), fake_run(tmp_path, "a-2")
    pointer = update_latest(first)
    assert pointer == tmp_path / LATEST and pointer.is_symlink()
    assert os.readlink(pointer) == "a-1"  # relative: a moved output folder keeps working
    update_latest(second)
    assert read_latest(pointer) == second
    # nothing is left behind under a temporary name
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a-1", "a-2", LATEST]


def test_latest_falls_back_to_a_file_without_symlinks(tmp_path, monkeypatch):
    run = fake_run(tmp_path, "b-1")

    def no_symlinks(*args, **kwargs):
        raise OSError("symbolic links are not supported here")

    monkeypatch.setattr(os, "symlink", no_symlinks)
    pointer = update_latest(run)
    assert pointer.is_file() and not pointer.is_symlink()
    assert pointer.read_text() == "b-1\n"
    assert is_latest_pointer(pointer)
    assert resolve_run_path(pointer) == run
    # a later run replaces the file the same way
    update_latest(fake_run(tmp_path, "b-2"))
    assert resolve_run_path(pointer) == tmp_path / "b-2"


def test_concurrent_updates_always_leave_a_valid_pointer(tmp_path):
    runs = [fake_run(tmp_path, f"c-{i}") for i in range(8)]
    errors: list[BaseException] = []

    def worker(run):
        try:
            for _ in range(20):
                update_latest(run)
                assert read_latest(tmp_path / LATEST) in runs
        except BaseException as e:  # pragma: no cover - reported below
            errors.append(e)

    threads = [threading.Thread(target=worker, args=(r,)) for r in runs]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    assert read_latest(tmp_path / LATEST) in runs
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


def test_a_dangling_or_bogus_pointer_is_one_clear_error(tmp_path):
    os.symlink("gone-1", tmp_path / LATEST)
    with pytest.raises(InputError, match="gone-1, which no longer exists"):
        resolve_model_path(tmp_path / LATEST)
    other = tmp_path / "other"
    other.mkdir()
    (other / LATEST).write_text("one\ntwo\n")
    with pytest.raises(InputError, match="one run name expected"):
        resolve_run_path(other / LATEST)


# -- what a path stands for ---------------------------------------------------------------------
def test_a_run_directory_and_latest_stand_for_the_model_file(runs, run_dir):
    run = runs / run_dir.name
    assert resolve_model_path(run) == run / "model.npz"
    # the run the pointer names, not a path through the link: what is written next to the
    # model (evaluations, model.onnx) lands in that run
    assert resolve_model_path(runs / LATEST) == run / "model.npz"
    assert resolve_model_path(run / "model.npz") == run / "model.npz"
    best = run / "checkpoints" / "best.npz"
    assert resolve_model_path(best) == best
    trained = pipeline.load_trained_model(runs / LATEST)
    assert trained.task == "binary" and trained.path.name == "model.npz"


def test_what_is_not_a_model_says_why(tmp_path, runs):
    unfinished = fake_run(tmp_path, "unfinished-1")
    with pytest.raises(InputError, match=r"no model\.npz yet .*no checkpoint"):
        resolve_model_path(unfinished)
    (unfinished / "checkpoints").mkdir()
    (unfinished / "checkpoints" / "last.npz").write_bytes(b"")
    with pytest.raises(InputError, match=r"it has checkpoints/last\.npz"):
        resolve_model_path(unfinished)
    with pytest.raises(InputError, match=r"a folder of runs, not a run; .*latest"):
        resolve_model_path(runs)
    with pytest.raises(InputError, match=r"folder without model\.npz"):
        resolve_model_path(tmp_path / "unfinished-1" / "checkpoints")
    with pytest.raises(InputError, match="no run has saved a model here yet"):
        resolve_model_path(tmp_path / "empty" / LATEST)


# -- every command ----------------------------------------------------------------------------
def cli(capsys, *argv) -> tuple[int, str, str]:
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize("which", ["run", "latest"])
def test_evaluate_predict_visualize_take_a_run_directory(which, runs, run_dir, capsys, tmp_path):
    model = runs / run_dir.name if which == "run" else runs / LATEST
    code, out, err = cli(capsys, "evaluate", "--model", model, "--no-plots")
    assert code == 0, err
    assert "accuracy" in out
    # the evaluation is written into the run (the link's target), not next to the link
    assert (runs / run_dir.name / "evaluation-test.json").is_file()

    from sklearn.datasets import load_breast_cancer

    x = load_breast_cancer().data[:4]
    np.save(tmp_path / "x.npy", x)
    code, out, err = cli(capsys, "predict", "--model", model, "--input", tmp_path / "x.npy")
    assert code == 0, err
    assert len(out.strip().splitlines()) == 5  # header + 4 rows

    code, out, err = cli(capsys, "visualize", "--history", model, "--output", tmp_path / "p")
    assert code == 0, err
    assert (tmp_path / "p" / "loss.png").is_file()


def test_export_takes_latest(runs, run_dir, capsys):
    pytest.importorskip("onnx")
    code, _, err = cli(capsys, "export", "--model", runs / LATEST)
    assert code == 0, err
    # next to the model it stands for, inside the run
    assert (runs / run_dir.name / "model.onnx").is_file()


def test_a_run_without_a_model_is_exit_2_with_one_line(tmp_path, capsys):
    run = fake_run(tmp_path, "half-1")
    code, _, err = cli(capsys, "evaluate", "--model", run)
    assert code == 2
    assert "half-1: this run has no model.npz yet" in err and "Traceback" not in err


def test_the_ui_loader_takes_latest(runs, run_dir):
    pytest.importorskip("gradio")
    from nablanet.ui import pipeline_api

    trained = pipeline_api.load_trained(runs / LATEST)
    assert trained.task == "binary"
    assert pipeline_api.model_file(runs / run_dir.name) == runs / run_dir.name / "model.npz"
    from nablanet.ui.errors import UIError

    with pytest.raises(UIError, match="a folder of runs"):
        pipeline_api.load_trained(runs)


# -- what a training leaves ---------------------------------------------------------------------
class FailAt(nb.Callback):
    """Raises at the end of epoch ``epoch`` (before that epoch's checkpoint is written)."""

    def __init__(self, epoch: int):
        super().__init__()
        self.epoch = epoch

    def on_epoch_end(self, epoch, logs=None):
        if epoch == self.epoch:
            raise RuntimeError("boom")


def test_a_training_points_latest_at_its_run(tmp_path):
    config = pipeline.config_from_dict(breast_cancer_config(tmp_path, epochs=1))
    first = pipeline.train(config, progress=False).run_dir
    assert resolve_run_path(tmp_path / "runs" / LATEST) == first
    second = pipeline.train(config, progress=False).run_dir
    assert resolve_run_path(tmp_path / "runs" / LATEST) == second
    # listed once each, never through the pointer
    assert sorted(r.run_dir for r in pipeline.list_runs(tmp_path / "runs")) == sorted(
        [first, second]
    )


def test_a_failed_training_that_saved_nothing_leaves_no_directory(tmp_path, capsys):
    config = pipeline.config_from_dict(breast_cancer_config(tmp_path, epochs=3))
    with pytest.raises(RuntimeError, match="boom"):
        pipeline.train(config, callbacks=[FailAt(0)], progress=False)
    assert list((tmp_path / "runs").iterdir()) == []
    # the same from the command line, for bad data: exit 2, and no run directory
    data = breast_cancer_config(tmp_path)
    data["data"] = {"dataset": {"csv": str(tmp_path / "missing.csv"), "target": "y"}}
    code, _, err = cli(capsys, "train", "--config", write_config(tmp_path / "c.yaml", data))
    assert code == 2 and "missing.csv" in err
    assert list((tmp_path / "runs").iterdir()) == []


def test_a_failed_training_with_a_checkpoint_is_marked_failed(tmp_path):
    config = pipeline.config_from_dict(breast_cancer_config(tmp_path, epochs=3))
    with pytest.raises(RuntimeError, match="boom"):
        pipeline.train(config, callbacks=[FailAt(1)], progress=False)
    (run,) = (tmp_path / "runs").iterdir()
    assert (run / "FAILED").read_text() == "RuntimeError: boom\n"
    assert (run / "checkpoints" / "last.npz").is_file()
    assert pipeline.load_run(run).status == "failed"
    assert not (tmp_path / "runs" / LATEST).exists()  # it saved no model
    # resumed, it finishes, and is no longer marked
    result = pipeline.resume(run, progress=False)
    assert result.status in ("completed", "early_stopped")
    assert not (run / "FAILED").exists()
    assert pipeline.load_run(run).status == result.status
    assert resolve_run_path(tmp_path / "runs" / LATEST) == run


def test_a_tuning_trial_directory_gets_no_latest(tmp_path):
    trial = tmp_path / "study" / "trial-0000"
    trial.mkdir(parents=True)
    config = pipeline.config_from_dict(breast_cancer_config(tmp_path, epochs=1))
    pipeline.train(config, run_dir=trial, progress=False)
    assert sorted(p.name for p in trial.parent.iterdir()) == ["trial-0000"]
