"""The Predict and Evaluate tabs' logic on real (tiny) runs, bad inputs first (no browser)."""

from __future__ import annotations

import numpy as np
import pytest

from nablanet.ui import tab_evaluate, tab_predict
from nablanet.ui.common import UPLOAD_MODEL, AppContext
from nablanet.ui.errors import UIError


@pytest.fixture
def ctx(runs):
    return AppContext(runs_dir=runs["dir"], configs_dir=runs["dir"])


def form(ctx, run, **cells):
    frame = tab_predict.feature_frame(ctx.trained(run)).astype(object)
    for name, value in cells.items():
        frame.loc[frame["feature"] == name, "value"] = value
    return frame


def white(size: int = 200) -> np.ndarray:
    return np.full((size, size, 4), 255, np.uint8)


def test_tabular_prediction_from_the_form(ctx, runs):
    view = tab_predict.random_sample(ctx, str(runs["breast_cancer"]))
    out = tab_predict.predict_row(ctx, str(runs["breast_cancer"]), view["frame"])
    assert set(out["label"]) == {"malignant", "benign"}
    assert sum(out["label"].values()) == pytest.approx(1.0, abs=1e-5)
    assert "Prediction: " in out["status"]


@pytest.mark.parametrize(
    ("cell", "message"),
    [("abc", r"Feature 'mean area': 'abc' is not a number"), ("", r"'mean area' is empty")],
)
def test_a_bad_cell_of_the_form_is_named(ctx, runs, cell, message):
    frame = form(ctx, runs["breast_cancer"], **{"mean area": cell})
    with pytest.raises(UIError, match=message):
        tab_predict.predict_row(ctx, str(runs["breast_cancer"]), frame)


def test_a_drawing_is_predicted_and_an_empty_sketch_is_refused(ctx, runs):
    digits = str(runs["digits"])
    with pytest.raises(UIError, match="sketch is empty"):
        tab_predict.predict_drawing(ctx, digits, {"composite": white(), "layers": []})
    with pytest.raises(UIError, match="No image"):
        tab_predict.predict_drawing(ctx, digits, None)
    canvas = white()
    canvas[40:160, 90:110, :3] = 0  # a "1"
    out = tab_predict.predict_drawing(ctx, digits, {"composite": canvas, "layers": []})
    assert len(out["label"]) == 10
    assert out["preview"].shape[0] >= 8 and out["preview"].dtype == np.uint8
    assert "Prediction: " in out["status"]


def test_models_refuse_the_other_kind_of_input(ctx, runs):
    with pytest.raises(UIError, match="not drawings: use the form"):
        tab_predict.predict_drawing(ctx, str(runs["breast_cancer"]), white())
    with pytest.raises(UIError, match="takes images"):
        frame = form(ctx, runs["breast_cancer"])
        tab_predict.predict_row(ctx, str(runs["digits"]), frame)


def test_csv_of_predictions_and_bad_csv_files(ctx, runs, tmp_path):
    model = str(runs["breast_cancer"])
    names = list(ctx.trained(model).feature_names)
    good = tmp_path / "good.csv"
    good.write_text(",".join(names) + "\n" + "\n".join(",".join(["1.0"] * 30) for _ in range(3)))
    out = tab_predict.predict_upload(ctx, model, str(good))
    assert len(out["table"]) == 3 and out["file"].endswith(".csv")

    wrong = tmp_path / "wrong.csv"
    wrong.write_text("a,b,c\n1,2,3\n")
    with pytest.raises(UIError, match=r"expects 30 features.*3 column"):
        tab_predict.predict_upload(ctx, model, str(wrong))
    text = tmp_path / "text.csv"
    text.write_text(",".join(names) + "\n" + ",".join(["1"] * 29 + ["x"]) + "\n")
    with pytest.raises(UIError, match="non-numeric value 'x'"):
        tab_predict.predict_upload(ctx, model, str(text))


def test_model_sources(ctx, runs, tmp_path):
    with pytest.raises(UIError, match="Pick a model"):
        tab_predict.model_source(None, None, None)
    with pytest.raises(UIError, match=r"Upload a model\.npz"):
        tab_predict.model_source(UPLOAD_MODEL, "  ", None)
    with pytest.raises(UIError, match="no such file"):
        tab_predict.model_source(UPLOAD_MODEL, str(tmp_path / "nope"), None)
    not_a_model = tmp_path / "model.npz"
    not_a_model.write_text("hello")
    with pytest.raises(UIError, match=r"not a readable \.npz model file"):
        ctx.trained(not_a_model)
    source = tab_predict.model_source(UPLOAD_MODEL, str(runs["digits"] / "model.npz"), None)
    text = tab_predict.describe_model(ctx.trained(source), source)
    assert runs["digits"].name in text and "8x8 images" in text


def test_a_model_evaluated_on_another_dataset_says_why_not(ctx, runs):
    with pytest.raises(UIError, match="unknown to the model"):
        tab_evaluate.other_data_view(ctx, str(runs["breast_cancer"]), "dataset:digits", None)
    text = tab_evaluate.other_data_view(
        ctx, str(runs["breast_cancer"]), "dataset:breast_cancer", None
    )
    assert "| accuracy |" in text


def test_the_evaluate_view_of_a_run(runs):
    view = tab_evaluate.run_view(str(runs["breast_cancer"]))
    assert "accuracy" in view["headline"]
    assert view["metrics"]["metric"].iloc[0] == "accuracy"
    assert {"malignant", "benign"} == set(view["per_class"]["class"])
    with pytest.raises(UIError):
        tab_evaluate.run_view(str(runs["dir"] / "no-such-run"))


def test_the_evaluate_tab_shows_a_runs_diagnostics(runs, tmp_path):
    text = tab_evaluate.diagnostics_text(str(runs["breast_cancer"]))
    assert "Diagnostics of" in text and "recorded epoch" in text
    # a run with warnings lists them with the advice
    import json
    import shutil

    run = tmp_path / "run"
    shutil.copytree(runs["breast_cancer"], run)
    record = json.loads((run / "diagnostics.json").read_text())
    record["warnings"] = [
        {"epoch": 2, "rule": "dead_relu", "layer": "0.dense", "message": "90% of its 8 ReLU "
         "units output 0", "advice": "lower the learning rate", "values": {}}
    ]  # fmt: skip
    (run / "diagnostics.json").write_text(json.dumps(record))
    text = tab_evaluate.diagnostics_text(str(run))
    assert "1 warning(s)" in text and "**dead_relu** (0.dense), epoch 2" in text
    assert "*Try:* lower the learning rate" in text
    (run / "diagnostics.json").unlink()
    assert "no diagnostics" in tab_evaluate.diagnostics_text(str(run))
