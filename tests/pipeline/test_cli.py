"""The command line end to end: train -> evaluate -> predict -> visualize, and the error paths.

Most tests call ``main([...])`` in-process; one runs the installed console script.
"""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml
from PIL import Image

from nablanet import pipeline
from nablanet.cli import build_parser, main

from .conftest import breast_cancer_config, only_run, run_dirs, write_config


def run_cli(capsys, *argv: str) -> tuple[int, str, str]:
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def error_line(err: str) -> str:
    lines = [line for line in err.splitlines() if line.startswith("nablanet: error:")]
    assert len(lines) == 1, err
    assert "Traceback" not in err
    return lines[0]


def breast_cancer_csv(path: Path, rows: slice, with_target: bool = True, shuffle_cols=False):
    from sklearn.datasets import load_breast_cancer

    bunch = load_breast_cancer()
    names = list(bunch.feature_names)
    order = list(range(len(names)))
    if shuffle_cols:
        order = order[::-1]
    with path.open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow([names[j] for j in order] + (["target"] if with_target else []))
        for i in range(len(bunch.data))[rows]:
            w.writerow(
                [bunch.data[i, j] for j in order] + ([bunch.target[i]] if with_target else [])
            )
    return bunch.data[rows].astype(np.float32), bunch.target[rows]


# -- breast cancer ------------------------------------------------------------------------------
def test_train_evaluate_predict_visualize_breast_cancer(tmp_path, capsys):
    cfg = breast_cancer_config(tmp_path)
    cfg["evaluation"]["plots"] = True
    config = write_config(tmp_path / "bc.yaml", cfg)

    code, out, err = run_cli(capsys, "train", "--config", config, "--set", "training.epochs=4")
    assert code == 0, err
    run = only_run(tmp_path)
    assert run.name.startswith("bc-")
    assert out.startswith(str(run)) and "accuracy=" in out
    for name in ("config.yaml", "train.log", "history.json", "metrics.json", "model.npz"):
        assert (run / name).is_file(), name
    assert (run / "checkpoints" / "last.npz").is_file()
    assert (run / "checkpoints" / "best.npz").is_file()
    assert {"loss.png", "accuracy.png", "confusion_matrix.png", "roc.png"} <= {
        p.name for p in (run / "plots").glob("*.png")
    }
    # the resolved config, with the override and every default, reloads to the same config
    saved = yaml.safe_load((run / "config.yaml").read_text())
    assert saved["training"]["epochs"] == 4
    assert saved["training"]["optimizer"]["beta_2"] == 0.999
    assert pipeline.load_config([run / "config.yaml"]).to_dict() == saved
    history = json.loads((run / "history.json").read_text())
    assert history["epoch"] == [0, 1, 2, 3]
    assert {"loss", "val_loss", "accuracy", "val_accuracy", "learning_rate"} <= set(history)
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["status"] == "completed" and metrics["epochs"] == 4
    test = metrics["test"]
    assert test["n_samples"] == 114
    for key in ("accuracy", "precision", "recall", "f1", "f1_macro", "f1_weighted", "roc_auc"):
        assert 0.8 < test[key] <= 1.0, key
    assert np.sum(test["confusion_matrix"]) == 114
    log = (run / "train.log").read_text()
    assert "Epoch 4/4" in log and "INFO" in log and "Test (test split" in log

    # evaluate: the run's own held-out split by default (the same numbers as metrics.json)
    code, out, err = run_cli(capsys, "evaluate", "--model", run / "model.npz", "--no-plots")
    assert code == 0, err
    assert "(test split): 114 samples" in out and "confusion matrix" in out
    report = json.loads((run / "evaluation-test.json").read_text())
    assert report["accuracy"] == pytest.approx(test["accuracy"])
    assert report["confusion_matrix"] == test["confusion_matrix"]

    # evaluate on a labelled CSV (columns matched by name), into another folder
    x, _ = breast_cancer_csv(tmp_path / "labelled.csv", slice(0, 60))
    code, out, err = run_cli(
        capsys,
        "evaluate",
        "--model",
        run / "model.npz",
        "--data",
        tmp_path / "labelled.csv",
        "--output",
        tmp_path / "ev",
        "--no-plots",
    )
    assert code == 0, err
    assert "60 samples" in out
    assert (tmp_path / "ev" / "evaluation-labelled_csv.json").is_file()

    # predict on raw rows, with the columns in another order and an extra target column
    breast_cancer_csv(tmp_path / "raw.csv", slice(0, 5), shuffle_cols=True)
    code, out, err = run_cli(
        capsys, "predict", "--model", run / "model.npz", "--input", tmp_path / "raw.csv"
    )
    assert code == 0, err
    rows = list(csv.reader(out.splitlines()))
    assert rows[0] == ["id", "prediction", "probability", "p_malignant", "p_benign"]
    assert len(rows) == 6
    trained = pipeline.load_trained_model(run / "model.npz")
    expected = trained.predict_proba(x[:5])
    got = np.array([[float(v) for v in r[3:]] for r in rows[1:]])
    np.testing.assert_allclose(got, expected, atol=1e-5)
    assert [r[1] for r in rows[1:]] == [trained.class_names[k] for k in expected.argmax(1)]

    # predict from .npy into a file
    np.save(tmp_path / "rows.npy", x[:3])
    out_csv = tmp_path / "preds" / "p.csv"
    code, out, err = run_cli(
        capsys,
        "predict",
        "--model",
        run / "model.npz",
        "--input",
        tmp_path / "rows.npy",
        "--output",
        out_csv,
    )
    assert code == 0, err
    assert len(out_csv.read_text().splitlines()) == 4

    # visualize any history.json
    code, out, err = run_cli(
        capsys, "visualize", "--history", run / "history.json", "--output", tmp_path / "vis"
    )
    assert code == 0, err
    assert {Path(p).name for p in out.split()} >= {"loss.png", "accuracy.png", "learning_rate.png"}
    assert (tmp_path / "vis" / "loss.png").read_bytes()[:4] == b"\x89PNG"


def test_runs_never_overwrite_each_other(tmp_path, capsys, bc_config):
    for _ in range(2):
        assert run_cli(capsys, "train", "--config", bc_config, "--set", "training.epochs=2")[0] == 0
    runs = run_dirs(tmp_path / "runs")
    assert len(runs) == 2 and runs[0] != runs[1]


def test_multiple_config_files_and_overrides(tmp_path, capsys):
    base = breast_cancer_config(tmp_path)
    write_config(tmp_path / "base.yaml", base)
    write_config(tmp_path / "small.yaml", {"name": "small", "training": {"epochs": 2}})
    code, _, err = run_cli(
        capsys,
        "train",
        "--config",
        tmp_path / "base.yaml",
        "--config",
        tmp_path / "small.yaml",
        "--set",
        "model.layers[0].units=4",
    )
    assert code == 0, err
    run = only_run(tmp_path)
    assert run.name.startswith("small-")
    saved = yaml.safe_load((run / "config.yaml").read_text())
    assert saved["training"]["epochs"] == 2 and saved["model"]["layers"][0]["units"] == 4


# -- a tiny image set -----------------------------------------------------------------------------
def _pattern(kind: str, size: int, rng) -> np.ndarray:
    img = rng.integers(0, 40, size=(size, size)).astype(np.float32)
    c = size // 2
    if kind == "horizontal":
        img[c - 1 : c + 1, 1:-1] = 250
    elif kind == "vertical":
        img[1:-1, c - 1 : c + 1] = 250
    else:
        img[c - 2 : c + 2, c - 2 : c + 2] = 250
    return img.astype(np.uint8)


def make_image_folder(root: Path, n_train: int = 16, n_test: int = 5) -> Path:
    rng = np.random.default_rng(0)
    for split, n in (("train", n_train), ("test", n_test)):
        for kind in ("dot", "horizontal", "vertical"):
            folder = root / split / kind
            folder.mkdir(parents=True)
            for i in range(n):
                Image.fromarray(_pattern(kind, 12, rng), mode="L").save(folder / f"{i}.png")
    return root


def image_config(tmp_path: Path, folder: Path) -> dict:
    return {
        "name": "shapes",
        "seed": 0,
        "data": {"dataset": {"images": str(folder)}, "validation_split": 0.2},
        "model": {
            "layers": [
                {"type": "dense", "units": 32, "activation": "relu"},
                {"type": "dense", "units": "auto", "activation": "softmax"},
            ]
        },
        "training": {
            "loss": "categorical_crossentropy",
            "optimizer": {"name": "adam", "learning_rate": 0.01},
            "epochs": 15,
            "batch_size": 8,
        },
        "evaluation": {"plots": True},
        "output_dir": str(tmp_path / "runs"),
    }


def test_image_folder_train_evaluate_predict_png(tmp_path, capsys):
    folder = make_image_folder(tmp_path / "shapes")
    config = write_config(tmp_path / "shapes.yaml", image_config(tmp_path, folder))
    code, out, err = run_cli(capsys, "train", "--config", config)
    assert code == 0, err
    run = only_run(tmp_path)
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["task"] == "multiclass"
    assert metrics["test"]["n_samples"] == 15  # the folder's own test/ split
    assert metrics["test"]["accuracy"] >= 0.9
    assert (run / "plots" / "misclassified.png").is_file()
    assert (run / "plots" / "roc.png").is_file()
    meta = pipeline.load_trained_model(run / "model.npz").metadata
    assert meta["input_shape"] == [12, 12, 1] and meta["image_background"] == "dark"
    assert meta["preprocessing"]["class_name"] == "Compose"

    code, out, err = run_cli(
        capsys, "evaluate", "--model", run / "model.npz", "--data", folder / "test", "--no-plots"
    )
    assert code == 0, err
    assert "15 samples" in out

    # a bigger, dark-on-light drawing of a horizontal bar: resized and inverted
    drawing = np.full((36, 36), 255, np.uint8)
    drawing[16:20, 3:-3] = 0
    Image.fromarray(drawing, mode="L").convert("RGB").save(tmp_path / "bar.png")
    code, out, err = run_cli(
        capsys, "predict", "--model", run / "model.npz", "--input", tmp_path / "bar.png"
    )
    assert code == 0, err
    rows = list(csv.reader(out.splitlines()))
    assert rows[0][:3] == ["id", "prediction", "probability"]
    assert rows[1][:2] == ["bar.png", "horizontal"]
    assert "inverted the image" in err

    # a folder of images
    code, out, err = run_cli(
        capsys, "predict", "--model", run / "model.npz", "--input", folder / "test" / "vertical"
    )
    assert code == 0, err
    preds = [r[1] for r in csv.reader(out.splitlines())][1:]
    assert len(preds) == 5 and preds.count("vertical") >= 4


# -- error paths ---------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def trained_run(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("trained")
    result = pipeline.train(pipeline.config_from_dict(breast_cancer_config(tmp)), progress=False)
    return result.run_dir


def test_missing_files_exit_2_with_one_line(tmp_path, capsys, trained_run):
    model = trained_run / "model.npz"
    cases = [
        (("train", "--config", tmp_path / "nope.yaml"), "nope.yaml: no such config file"),
        (("evaluate", "--model", tmp_path / "nope.npz"), "nope.npz: no such model file"),
        (("predict", "--model", model, "--input", tmp_path / "x.csv"), "x.csv: no such file"),
        (("visualize", "--history", tmp_path / "h.json"), "h.json: no such history file"),
        (("train", "--resume", tmp_path / "norun"), "norun: no such run directory"),
        (("evaluate", "--model", model, "--data", "dataset:nope"), "unknown dataset 'nope'"),
    ]
    for argv, expected in cases:
        code, _, err = run_cli(capsys, *argv)
        assert code == 2, (argv, err)
        assert expected in error_line(err), err


def test_bad_config_exit_2_names_the_key(tmp_path, capsys, bc_config):
    code, _, err = run_cli(
        capsys, "train", "--config", bc_config, "--set", "model.layers[2].units=-3"
    )
    assert code == 2
    assert error_line(err) == (
        "nablanet: error: model.layers[2].units: must be a positive integer or 'auto', got -3"
    )
    assert not (tmp_path / "runs").exists()  # nothing is created for an invalid config


def test_wrong_feature_count_and_nan_input(tmp_path, capsys, trained_run):
    model = trained_run / "model.npz"
    np.save(tmp_path / "short.npy", np.zeros((2, 29), np.float32))
    code, _, err = run_cli(capsys, "predict", "--model", model, "--input", tmp_path / "short.npy")
    assert code == 2
    assert "the model expects 30 features (mean radius" in error_line(err)
    assert "got 29 feature(s)" in err

    with (tmp_path / "narrow.csv").open("w") as f:
        f.write("a,b,c\n1,2,3\n")
    code, _, err = run_cli(capsys, "predict", "--model", model, "--input", tmp_path / "narrow.csv")
    assert code == 2 and "wrong feature count" in error_line(err)

    x, _ = breast_cancer_csv(tmp_path / "nan.csv", slice(0, 3), with_target=False)
    text = (tmp_path / "nan.csv").read_text().splitlines()
    cells = text[2].split(",")
    cells[4] = ""
    text[2] = ",".join(cells)
    (tmp_path / "nan.csv").write_text("\n".join(text) + "\n")
    code, _, err = run_cli(capsys, "predict", "--model", model, "--input", tmp_path / "nan.csv")
    assert code == 2
    assert "nan in feature column 'mean smoothness' (sample 1)" in error_line(err)

    bad = x.copy()
    bad[0, 0] = np.nan
    np.save(tmp_path / "nan.npy", bad)
    code, _, err = run_cli(capsys, "predict", "--model", model, "--input", tmp_path / "nan.npy")
    assert code == 2 and "nan" in error_line(err)


def test_corrupt_and_foreign_model_files(tmp_path, capsys, trained_run):
    data = (trained_run / "model.npz").read_bytes()
    (tmp_path / "truncated.npz").write_bytes(data[: len(data) // 2])
    np.savez(tmp_path / "foreign.npz", a=np.zeros(3))
    (tmp_path / "text.npz").write_text("hello")
    np.save(tmp_path / "rows.npy", np.zeros((1, 30), np.float32))
    for name, expected in [
        ("truncated.npz", "truncated.npz: not a readable .npz model file"),
        ("foreign.npz", "foreign.npz: not a nablanet model file"),
        ("text.npz", "text.npz: not a readable .npz model file"),
    ]:
        code, _, err = run_cli(
            capsys, "predict", "--model", tmp_path / name, "--input", tmp_path / "rows.npy"
        )
        assert code == 2, err
        assert expected in error_line(err)


def test_usage_errors_exit_2(capsys, tmp_path):
    assert run_cli(capsys, "frobnicate")[0] == 2
    assert run_cli(capsys, "predict", "--model", "m.npz")[0] == 2  # --input missing
    code, _, err = run_cli(capsys, "train")
    assert code == 2 and "give --config FILE" in error_line(err)
    code, _, err = run_cli(capsys, "train", "--config", "a.yaml", "--resume", tmp_path)
    assert code == 2 and "drop --config" in error_line(err)


def test_unexpected_failure_exit_1_and_debug_traceback(capsys, monkeypatch, bc_config):
    def boom(*args, **kwargs):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(pipeline, "train", boom)
    code, _, err = run_cli(capsys, "train", "--config", bc_config)
    assert code == 1
    assert error_line(err) == (
        "nablanet: error: RuntimeError: disk on fire (run with --debug for the traceback)"
    )
    code, _, err = run_cli(capsys, "train", "--config", bc_config, "--debug")
    assert code == 1 and "Traceback" in err


def test_help_of_every_command(capsys):
    parser = build_parser()
    commands = parser._subparsers._group_actions[0].choices
    assert set(commands) == {
        "train",
        "tune",
        "evaluate",
        "predict",
        "export",
        "visualize",
        "datasets",
        "ui",
    }
    for name in [None, *commands]:
        code, out, _ = run_cli(capsys, *([name] if name else []), "--help")
        assert code == 0 and out.startswith("usage: nablanet")


def test_log_level_before_or_after_the_command(capsys, tmp_path, bc_config):
    code, _, err = run_cli(capsys, "--log-level", "WARNING", "train", "--config", bc_config)
    assert code == 0 and "Epoch" not in err
    code, _, err = run_cli(capsys, "train", "--config", bc_config, "--log-level", "debug")
    assert code == 0 and "DEBUG" in err and "Epoch 3/3" in err


def test_datasets_command(capsys):
    code, out, _ = run_cli(capsys, "datasets")
    assert code == 0
    assert "breast_cancer" in out and "mnist" in out and "cache directory:" in out
    code, out, _ = run_cli(capsys, "datasets", "--json")
    assert {d["name"] for d in json.loads(out)} >= {"breast_cancer", "diabetes", "digits"}


def test_console_script_in_a_subprocess(tmp_path, trained_run):
    script = Path(sys.executable).with_name("nablanet")
    assert script.exists()
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    proc = subprocess.run([str(script), "--help"], capture_output=True, text=True, env=env)
    assert proc.returncode == 0 and "train" in proc.stdout
    np.save(tmp_path / "rows.npy", np.zeros((30,), np.float32))  # one sample, no batch axis
    proc = subprocess.run(
        [
            str(script),
            "predict",
            "--model",
            str(trained_run / "model.npz"),
            "--input",
            str(tmp_path / "rows.npy"),
        ],
        capture_output=True,
        text=True,
        env=env,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines()[0].startswith("id,prediction,probability")
    proc = subprocess.run(
        [str(script), "predict", "--model", str(tmp_path / "missing.npz"), "--input", "x.npy"],
        capture_output=True,
        text=True,
        env=env,
    )
    assert proc.returncode == 2
    assert proc.stderr.strip() == f"nablanet: error: {tmp_path / 'missing.npz'}: no such model file"
