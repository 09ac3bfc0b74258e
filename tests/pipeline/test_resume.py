"""An interrupted run resumes from its last checkpoint and ends bit-identical to an uninterrupted
run with the same seed (history and weights)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

import nablanet as nb
from nablanet import pipeline
from nablanet.cli import main

from .conftest import breast_cancer_config, run_dirs, write_config


class InterruptAt(nb.Callback):
    """Raise KeyboardInterrupt (like Ctrl-C) at the end of epoch ``epoch`` (0-based), before
    the checkpoint of that epoch is written."""

    def __init__(self, epoch: int):
        super().__init__()
        self.epoch = epoch

    def on_epoch_end(self, epoch, logs=None):
        if epoch == self.epoch:
            raise KeyboardInterrupt


def weights(path: Path) -> dict[str, np.ndarray]:
    return pipeline.load_trained_model(path).model.state_dict()


def assert_same_run(a: Path, b: Path) -> None:
    ha = json.loads((a / "history.json").read_text())
    hb = json.loads((b / "history.json").read_text())
    assert ha == hb  # floats compared exactly
    wa, wb = weights(a / "model.npz"), weights(b / "model.npz")
    assert wa.keys() == wb.keys()
    for key in wa:
        np.testing.assert_array_equal(wa[key], wb[key], err_msg=key)
    ma = json.loads((a / "metrics.json").read_text())
    mb = json.loads((b / "metrics.json").read_text())
    assert ma["test"] == mb["test"] and ma["status"] == mb["status"]


def config_dict(tmp_path: Path, out: str, **training) -> dict:
    cfg = breast_cancer_config(tmp_path, **training)
    cfg["output_dir"] = str(tmp_path / out)
    return cfg


@pytest.mark.parametrize(
    ("training", "interrupt_at"),
    [
        # dropout (layer RNG), shuffling (trainer RNG), Adam moments, cosine schedule
        ({"epochs": 6}, 2),
        # early stopping that triggers after the interruption: its state must resume too
        (
            {
                "epochs": 40,
                "optimizer": {"name": "sgd", "learning_rate": 0.5, "momentum": 0.9},
                "scheduler": None,
                "early_stopping": {"monitor": "val_loss", "patience": 2},
            },
            3,
        ),
    ],
)
def test_resume_after_interrupt_is_bit_identical(tmp_path, capsys, training, interrupt_at):
    straight = pipeline.train(
        pipeline.config_from_dict(config_dict(tmp_path, "a", **training)), progress=False
    )
    config = pipeline.config_from_dict(config_dict(tmp_path, "b", **training))
    with pytest.raises(KeyboardInterrupt):
        pipeline.train(config, callbacks=[InterruptAt(interrupt_at)], progress=False)
    (run,) = (tmp_path / "b").iterdir()
    assert not (run / "model.npz").exists()
    ckpt = nb.load_checkpoint(run / "checkpoints" / "last.npz")
    assert ckpt["epoch"] == interrupt_at  # the interrupted epoch was not checkpointed
    assert "Resume with: nablanet train --resume" in (run / "train.log").read_text()

    assert main(["train", "--resume", str(run), "--no-progress"]) == 0
    capsys.readouterr()
    assert_same_run(straight.run_dir, run)
    log = (run / "train.log").read_text()
    assert f"Resuming run {run} after epoch {interrupt_at}" in log
    if "early_stopping" in training:
        assert json.loads((run / "metrics.json").read_text())["status"] == "early_stopped"

    # a finished run has nothing left to resume
    code = main(["train", "--resume", str(run)])
    assert code == 2
    assert "already finished" in capsys.readouterr().err


def test_resume_without_checkpoint_is_an_error(tmp_path, capsys):
    config = pipeline.config_from_dict(config_dict(tmp_path, "r"))
    with pytest.raises(KeyboardInterrupt):
        pipeline.train(config, callbacks=[InterruptAt(0)], progress=False)
    (run,) = (tmp_path / "r").iterdir()
    assert main(["train", "--resume", str(run)]) == 2
    assert "nothing to resume" in capsys.readouterr().err
    assert main(["train", "--resume", str(tmp_path)]) == 2
    assert "not a run directory" in capsys.readouterr().err


def test_resume_with_more_epochs_warns_and_continues(tmp_path, capsys):
    config = pipeline.config_from_dict(config_dict(tmp_path, "r", scheduler=None))
    with pytest.raises(KeyboardInterrupt):
        pipeline.train(config, callbacks=[InterruptAt(1)], progress=False)
    (run,) = (tmp_path / "r").iterdir()
    code = main(["train", "--resume", str(run), "--set", "training.epochs=5"])
    err = capsys.readouterr().err
    assert code == 0, err
    assert "Resuming with a changed config (training.epochs: 3 -> 5)" in err
    history = json.loads((run / "history.json").read_text())
    assert history["epoch"] == [0, 1, 2, 3, 4]


def test_stop_event_ends_the_run_cleanly(tmp_path):
    stop = threading.Event()
    seen = []

    def on_epoch_end(epoch, logs):
        seen.append(logs["loss"])
        if epoch == 1:
            stop.set()

    config = pipeline.config_from_dict(config_dict(tmp_path, "r", epochs=50))
    result = pipeline.train(
        config,
        callbacks=[nb.LambdaCallback(on_epoch_end=on_epoch_end)],
        stop_event=stop,
        progress=False,
    )
    assert result.status == "stopped"
    assert len(result.history["epoch"]) == 2 == len(seen)  # the live callback saw every epoch
    assert (result.run_dir / "model.npz").exists()
    assert json.loads((result.run_dir / "metrics.json").read_text())["status"] == "stopped"
    info = pipeline.load_run(result.run_dir)
    assert info.status == "stopped" and info.model_path is not None
    assert info.history == result.history


def signal_after_first_checkpoint(tmp_path: Path, sig) -> tuple[int, str, Path]:
    """Train a long run in a child process, send ``sig`` once its first checkpoint exists;
    returns ``(exit status, stderr, last checkpoint)``."""
    cfg = config_dict(tmp_path, "runs", epochs=100_000, scheduler=None)
    cfg["training"]["batch_size"] = 8
    config = write_config(tmp_path / "long.yaml", cfg)
    proc = subprocess.Popen(
        [sys.executable, "-m", "nablanet.cli", "train", "--config", str(config), "--no-progress"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONWARNINGS": "ignore"},
    )
    try:
        deadline = time.monotonic() + 120
        last = None
        while time.monotonic() < deadline and last is None:
            found = list((tmp_path / "runs").glob("*/checkpoints/last.npz"))
            last = found[0] if found else None
            time.sleep(0.05)
        assert last is not None, "no checkpoint appeared"
        proc.send_signal(sig)
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    return proc.returncode, err, last


@pytest.mark.parametrize(("sig", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_killed_process_resumes(tmp_path, capsys, sig, code):
    returncode, err, last = signal_after_first_checkpoint(tmp_path, sig)
    assert returncode == code, err
    assert "Resume with: nablanet train --resume" in err
    run = last.parents[1]
    done = nb.load_checkpoint(last)["epoch"]
    assert done >= 1
    assert main(["train", "--resume", str(run), "--set", f"training.epochs={done + 2}"]) == 0
    capsys.readouterr()
    history = json.loads((run / "history.json").read_text())
    assert history["epoch"] == list(range(done + 2))


def test_two_runs_in_threads_keep_their_own_logs_and_results(tmp_path):
    configs = []
    for name in ("left", "right"):
        data = config_dict(tmp_path, "runs", epochs=4)
        data["name"] = name
        configs.append(pipeline.config_from_dict(data))
    results = {}

    def run(cfg):
        results[cfg.name] = pipeline.train(cfg, progress=False)

    threads = [threading.Thread(target=run, args=(c,)) for c in configs]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert set(results) == {"left", "right"}
    for name, other in (("left", "right"), ("right", "left")):
        log = (results[name].run_dir / "train.log").read_text()
        assert f"Run {name}:" in log and f"Run {other}:" not in log
    # same config but the name: the same numbers, whatever the interleaving
    assert results["left"].history == results["right"].history


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_divergence_is_stopped_logged_and_reported(tmp_path):
    data = config_dict(tmp_path, "runs", epochs=5, scheduler=None)
    data["training"]["optimizer"] = {"name": "sgd", "learning_rate": 1.0e5}
    result = pipeline.train(pipeline.config_from_dict(data), progress=False)
    assert result.status == "diverged"
    assert json.loads((result.run_dir / "metrics.json").read_text())["status"] == "diverged"
    log = (result.run_dir / "train.log").read_text()
    assert "TerminateOnNaN: the loss became nan" in log
    assert np.isfinite(result.model.predict(result.data.x_test)).all()  # last good weights


def test_disk_full_while_checkpointing_keeps_the_last_checkpoint(tmp_path, capsys, monkeypatch):
    """ENOSPC while a checkpoint is written: one clear line, exit status 2, the previous
    checkpoint intact and no temporary file left; --resume then finishes the run."""
    import errno

    from nablanet.nn import serialization

    cfg = config_dict(tmp_path, "runs", epochs=5, scheduler=None)
    config = write_config(tmp_path / "c.yaml", cfg)
    real_fsync, calls = os.fsync, {"n": 0}

    def fsync(fd):
        calls["n"] += 1
        if calls["n"] == 3:  # the first epoch's files are written, a later checkpoint fails
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_fsync(fd)

    monkeypatch.setattr(serialization.os, "fsync", fsync)
    assert main(["train", "--config", str(config), "--no-progress"]) == 2
    err = capsys.readouterr().err
    *_, hint, last_line = err.strip().splitlines()
    assert "no space left on the device" in last_line and "last.npz" in last_line
    assert "Resume with: nablanet train --resume" in hint and "Traceback" not in err
    monkeypatch.setattr(serialization.os, "fsync", real_fsync)
    (run,) = (tmp_path / "runs").iterdir()
    assert not list(run.rglob("*.tmp"))
    assert nb.load_checkpoint(run / "checkpoints" / "last.npz")["epoch"] >= 1  # intact
    assert main(["train", "--resume", str(run)]) == 0
    capsys.readouterr()
    assert json.loads((run / "history.json").read_text())["epoch"] == list(range(5))


def test_sigterm_then_resume_equals_an_uninterrupted_run(tmp_path, capsys):
    """SIGTERM acts like Ctrl-C: the last good checkpoint is kept, and resuming ends with the
    same history and weights as a run that was never stopped."""
    returncode, err, last = signal_after_first_checkpoint(tmp_path, signal.SIGTERM)
    assert returncode == 143, err
    run = last.parents[1]
    done = nb.load_checkpoint(last)["epoch"]
    total = done + 2
    assert main(["train", "--resume", str(run), "--set", f"training.epochs={total}"]) == 0
    cfg_ref = config_dict(tmp_path, "ref", epochs=total, scheduler=None)
    cfg_ref["training"]["batch_size"] = 8
    assert main(["train", "--config", str(write_config(tmp_path / "ref.yaml", cfg_ref))]) == 0
    capsys.readouterr()
    (ref,) = run_dirs(tmp_path / "ref")
    assert_same_run(run, ref)
