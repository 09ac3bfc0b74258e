"""Regression and image models through the pipeline; raw inputs of every accepted form."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest
from PIL import Image

from nablanet import pipeline
from nablanet.cli import main
from nablanet.pipeline import InputError, TrainedModel


@pytest.fixture(scope="module")
def diabetes_run(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("diabetes")
    config = pipeline.config_from_dict(
        {
            "name": "db",
            "seed": 0,
            "data": {"dataset": "diabetes"},
            "model": {
                "layers": [
                    {"type": "dense", "units": 16, "activation": "relu"},
                    {"type": "dense", "units": "auto"},
                ]
            },
            "training": {"loss": "mse", "epochs": 30, "optimizer": {"learning_rate": 0.01}},
            "evaluation": {"plots": False},
            "output_dir": str(tmp / "runs"),
        }
    )
    return pipeline.train(config, progress=False)


def test_regression_targets_are_scaled_and_predictions_scaled_back(diabetes_run, tmp_path, capsys):
    result = diabetes_run
    assert result.data.target_preprocessing is not None
    assert abs(float(result.data.y_train.mean())) < 1e-5  # standardized for training
    test = result.metrics["test"]
    assert set(test) >= {"mse", "rmse", "mae", "r2", "loss"}
    assert test["r2"] > 0.2 and 30 < test["rmse"] < 80  # in the target's own units
    assert result.metrics["validation"]["r2"] > 0.2

    from sklearn.datasets import load_diabetes

    x = load_diabetes(scaled=False).data[:4]
    np.save(tmp_path / "rows.npy", x)
    assert (
        main(["predict", "--model", str(result.model_path), "--input", str(tmp_path / "rows.npy")])
        == 0
    )
    rows = list(csv.reader(capsys.readouterr().out.splitlines()))
    assert rows[0] == ["id", "prediction"]
    values = np.array([float(r[1]) for r in rows[1:]])
    assert 25 < values.min() and values.max() < 350  # disease scores, not standardized values
    np.testing.assert_allclose(values, result.trained.predict(x)[:, 0], rtol=1e-5)

    code = main(["evaluate", "--model", str(result.model_path), "--no-plots"])
    out = capsys.readouterr().out
    assert code == 0 and "r2=" in out and "confusion" not in out


def test_regression_plot_and_loss_task_checks(diabetes_run, tmp_path):
    res = pipeline.evaluate_model_file(diabetes_run.model_path, output_dir=tmp_path)
    assert res.plots == [tmp_path / "plots" / "evaluation-test" / "regression.png"]
    assert res.metrics_path == tmp_path / "evaluation-test.json"
    assert json.loads(res.metrics_path.read_text())["n_samples"] == len(diabetes_run.data.x_test)
    with pytest.raises(pipeline.ConfigError, match="does not suit a regression dataset"):
        cfg = diabetes_run.config.to_dict()
        cfg["training"]["loss"] = "binary_crossentropy"
        cfg["model"]["layers"][-1]["activation"] = "sigmoid"
        pipeline.train(pipeline.config_from_dict(cfg), progress=False)


@pytest.fixture(scope="module")
def digits_run(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("digits")
    config = pipeline.config_from_dict(
        {
            "name": "digits",
            "seed": 0,
            "data": {"dataset": "digits", "max_samples": 900},
            "model": {
                "layers": [
                    {"type": "dense", "units": 32, "activation": "relu"},
                    {"type": "dense", "units": "auto", "activation": "softmax"},
                ]
            },
            "training": {
                "loss": "categorical_crossentropy",
                "epochs": 25,
                "optimizer": {"learning_rate": 0.005},
            },
            "evaluation": {"plots": False, "metrics": ["accuracy", "f1"]},
            "output_dir": str(tmp / "runs"),
        }
    )
    return pipeline.train(config, progress=False)


def test_digits_model_metadata_and_filtered_metrics(digits_run):
    meta = pipeline.load_trained_model(digits_run.model_path).metadata
    assert meta["input_shape"] == [8, 8, 1] and meta["model_input_shape"] == [64]
    assert meta["value_range"] == [0.0, 16.0] and meta["image_background"] == "dark"
    assert meta["preprocessing"]["config"]["steps"][0]["class_name"] == "ImageFlattener"
    test = digits_run.metrics["test"]
    assert test["accuracy"] > 0.85
    assert "f1_macro" in test and "roc_auc" not in test  # evaluation.metrics keeps only these
    assert (
        len(digits_run.data.x_train) + len(digits_run.data.x_val) + len(digits_run.data.x_test)
        == 900
    )


def test_digit_png_is_resized_inverted_and_rescaled(digits_run, tmp_path):
    trained = pipeline.load_trained_model(digits_run.model_path)
    x_test = digits_run.data.raw_x_test
    y_test = digits_run.data.raw_y_test
    right = np.flatnonzero(trained.predict(x_test) == y_test)
    assert len(right) > 10
    hits = 0
    for i in right[:10]:
        # the digit as a user draws it: dark ink on white, 4x larger, 0..255
        img = 255 - (x_test[i, :, :, 0].astype(np.float32) * 255 / 16)
        big = Image.fromarray(img.astype(np.uint8)).resize((32, 32), Image.Resampling.NEAREST)
        big.save(tmp_path / f"d{i}.png")
        pred = pipeline.predict(trained, tmp_path / f"d{i}.png")
        hits += pred.classes[0] == y_test[i]
    assert hits >= 8
    pred = pipeline.predict(trained, tmp_path)  # the whole folder
    assert len(pred) == 10 and pred.ids[0].endswith(".png")


def test_evaluate_on_a_registry_dataset_uses_the_held_out_split(digits_run, capsys):
    code = main(
        [
            "evaluate",
            "--model",
            str(digits_run.model_path),
            "--data",
            "dataset:digits",
            "--no-plots",
        ]
    )
    out = capsys.readouterr().out
    assert code == 0
    n = len(digits_run.data.x_test)
    assert f"digits (test split): {n} samples" in out
    report = json.loads((digits_run.run_dir / "evaluation-digits.json").read_text())
    assert report["accuracy"] == pytest.approx(digits_run.metrics["test"]["accuracy"])


def test_image_model_rejects_tables(digits_run, tmp_path):
    (tmp_path / "t.csv").write_text("1,2,3\n")
    with pytest.raises(InputError, match="the model expects 8x8 images with 1 channel"):
        pipeline.predict(digits_run.model_path, tmp_path / "t.csv")
    (tmp_path / "x.txt.gz").write_text("?")
    with pytest.raises(InputError, match="unsupported input format"):
        pipeline.predict(digits_run.model_path, tmp_path / "x.txt.gz")
    (tmp_path / "bad.png").write_text("not an image")
    with pytest.raises(InputError, match=r"bad\.png: cannot read the image"):
        pipeline.predict(digits_run.model_path, tmp_path / "bad.png")


def test_check_inputs_accepts_the_usual_shapes():
    import nablanet as nb

    net = nb.Sequential([nb.Dense(4, 1, seed=0)])
    net.compile(loss="mse", optimizer="sgd")
    tm = TrainedModel(net, task="regression", input_shape=(2, 2, 1))
    assert tm.check_inputs(np.zeros((2, 2, 1))).shape == (1, 2, 2, 1)  # one sample
    assert tm.check_inputs(np.zeros((2, 2))).shape == (1, 2, 2, 1)  # no channel axis
    assert tm.check_inputs(np.zeros((3, 2, 2))).shape == (3, 2, 2, 1)
    assert tm.check_inputs(np.zeros((3, 4))).shape == (3, 2, 2, 1)  # flat rows
    with pytest.raises(InputError, match=r"got an array of shape \(3, 5\)"):
        tm.check_inputs(np.zeros((3, 5)))
    with pytest.raises(InputError, match="must be numbers"):
        tm.check_inputs(np.array([["a"]]))


def test_csv_without_header_and_bad_cells(tmp_path):
    import nablanet as nb

    net = nb.Sequential([nb.Dense(3, 1, activation="sigmoid", seed=0)])
    net.compile(loss="binary_crossentropy", optimizer="sgd")
    tm = TrainedModel(
        net, task="binary", class_names=["a", "b"], feature_names=["x", "y", "z"], input_shape=(3,)
    )
    (tmp_path / "plain.csv").write_text("1,2,3\n4,5,6\n")
    assert pipeline.predict(tm, tmp_path / "plain.csv").probabilities.shape == (2, 2)
    (tmp_path / "named.csv").write_text("z,y,x,id\n3,2,1,a\n")
    p1 = pipeline.predict(tm, tmp_path / "named.csv").probabilities
    np.testing.assert_allclose(p1, pipeline.predict(tm, np.array([[1.0, 2, 3]])).probabilities)
    (tmp_path / "text.csv").write_text("x,y,z\n1,two,3\n")
    with pytest.raises(InputError, match="non-numeric value 'two' in 'y' \\(row 2\\)"):
        pipeline.predict(tm, tmp_path / "text.csv")
    (tmp_path / "ragged.csv").write_text("1,2,3\n4,5\n")
    with pytest.raises(InputError, match="row 2 has 2 columns"):
        pipeline.predict(tm, tmp_path / "ragged.csv")
    np.savez(tmp_path / "two.npz", a=np.zeros((1, 3)), b=np.zeros((1, 3)))
    with pytest.raises(InputError, match="expected an array 'x'"):
        pipeline.predict(tm, tmp_path / "two.npz")


def test_evaluate_on_an_npz_file(digits_run, tmp_path, capsys):
    data = digits_run.data
    np.savez(tmp_path / "held.npz", x=data.raw_x_test, y=data.raw_y_test)
    code = main(
        [
            "evaluate",
            "--model",
            str(digits_run.model_path),
            "--data",
            str(tmp_path / "held.npz"),
            "--output",
            str(tmp_path / "ev"),
            "--no-plots",
        ]
    )
    out = capsys.readouterr().out
    assert code == 0
    assert f"{len(data.raw_y_test)} samples" in out
    report = json.loads((tmp_path / "ev" / "evaluation-held_npz.json").read_text())
    assert report["accuracy"] == pytest.approx(digits_run.metrics["test"]["accuracy"])


def test_a_plain_library_model_file_predicts_too(tmp_path, capsys):
    import nablanet as nb

    net = nb.Sequential([nb.Dense(3, 2, activation="softmax", seed=0)])
    net.compile(loss="categorical_crossentropy", optimizer="adam")
    net.save(tmp_path / "plain.npz")
    trained = pipeline.load_trained_model(tmp_path / "plain.npz")
    assert (trained.task, trained.input_shape, trained.preprocessing) == ("multiclass", (3,), None)
    np.save(tmp_path / "x.npy", np.ones((2, 3), np.float32))
    assert (
        main(
            ["predict", "--model", str(tmp_path / "plain.npz"), "--input", str(tmp_path / "x.npy")]
        )
        == 0
    )
    assert capsys.readouterr().out.splitlines()[0] == "id,prediction,probability,p_0,p_1"


def test_evaluate_a_checkpoint_writes_into_the_run(digits_run):
    best = digits_run.run_dir / "checkpoints" / "best.npz"
    res = pipeline.evaluate_model_file(best, plots=False)
    assert res.metrics_path == digits_run.run_dir / "evaluation-test.json"
    assert res.metrics["n_samples"] == len(digits_run.data.x_test)
