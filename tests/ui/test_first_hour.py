"""What a new user runs into in the UI (issue 14, "The UI"), on the tabs' functions (no browser):
the Predict button and uploads, errors that name the file and say what to do, the Model tab's
status, the run the Evaluate tab opens on, run names and legends, the live curves' axis, the
regression target's histogram, label badges, and the form's precision."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from nablanet.ui import data_view, tab_evaluate, tab_model, tab_predict, views
from nablanet.ui import pipeline_api as api
from nablanet.ui.common import AppContext, error_text
from nablanet.ui.errors import UIError, short_paths
from nablanet.ui.model_form import MAX_HIDDEN, default_form

CONFIGS = Path(__file__).resolve().parents[2] / "configs"
GRADIO_PATH = "/tmp/gradio/3f9a1c0de4b5a6978c1d2e3f4a5b6c7d8e9f0a1b/"


@pytest.fixture
def ctx(runs):
    return AppContext(runs_dir=runs["dir"], configs_dir=runs["dir"])


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    from nablanet.ui.app import build_app

    return build_app(runs_dir=tmp_path_factory.mktemp("runs"), configs_dir=CONFIGS)


def digit_png(folder: Path, name: str = "seven.png") -> Path:
    """A black 7 on white paper, as a user's picture."""
    canvas = np.full((200, 200, 3), 255, np.uint8)
    canvas[30:50, 40:160] = 0
    for row in range(50, 180):
        col = 160 - (row - 50) * 70 // 130
        canvas[row, col - 10 : col + 10] = 0
    path = folder / name
    Image.fromarray(canvas).save(path)
    return path


# -- Predict: the button reads the upload, else the drawing ---------------------------------------
def test_the_predict_button_uses_the_upload_when_there_is_one(ctx, runs, tmp_path):
    digits = str(runs["digits"])
    picture = str(digit_png(tmp_path))
    empty_sketch = {"background": None, "layers": [], "composite": None}
    chosen = tab_predict.picture_input(picture, empty_sketch)
    out = tab_predict.predict_drawing(ctx, digits, chosen)
    assert "Prediction: " in out["status"] and len(out["label"]) == 10
    # the same picture drawn on the sketchpad gives the same answer
    drawn = np.asarray(Image.open(picture).convert("RGBA"))
    again = tab_predict.predict_drawing(ctx, digits, tab_predict.picture_input(None, drawn))
    assert again["label"] == out["label"]
    # neither: the message of an empty sketch, as before
    with pytest.raises(UIError, match="No image"):
        tab_predict.predict_drawing(ctx, digits, tab_predict.picture_input(None, empty_sketch))


def test_a_text_file_named_png_gets_our_message(ctx, runs, tmp_path):
    fake = tmp_path / "digit.png"
    fake.write_text("this is not a picture\n")
    with pytest.raises(UIError) as err:
        tab_predict.predict_drawing(ctx, str(runs["digits"]), str(fake))
    text = str(err.value)
    assert text.startswith("digit.png: cannot read the image") and "give a PNG or JPEG" in text
    assert str(tmp_path) not in text and "\n" not in text


def test_the_picture_upload_is_a_file_we_open(app):
    image = app.nablanet_ui.predict.image
    assert type(image).__name__ == "File" and image.type == "filepath"


# -- errors: one line, the file's own name, what to do --------------------------------------------
def test_gradio_upload_paths_become_the_file_names():
    text = f"{GRADIO_PATH}train.csv: line 3\n has 2 columns"
    assert short_paths(text) == "train.csv: line 3 has 2 columns"
    shown = error_text(f"Cannot load the dataset: {GRADIO_PATH}my data.csv: empty")
    assert "/tmp/" not in shown and "my data.csv: empty" in shown


def test_evaluating_on_a_csv_without_the_target_says_what_to_do(ctx, runs, tmp_path):
    model = str(runs["breast_cancer"])
    names = ctx.trained(model).feature_names
    upload = tmp_path / "gradio" / "0123456789abcdef" / "no_target.csv"
    upload.parent.mkdir(parents=True)
    upload.write_text(",".join(names) + "\n" + ",".join(["1"] * len(names)) + "\n")
    with pytest.raises(UIError) as err:
        tab_evaluate.other_data_view(ctx, model, None, str(upload))
    text = str(err.value)
    assert text.startswith("Cannot evaluate: no_target.csv: no target column 'target'")
    assert "add a 'target' column with the true labels" in text
    assert str(tmp_path) not in text and "mean radius" not in text  # not the 30 column names


# -- Model tab: the status follows the form -------------------------------------------------------
def test_a_bad_number_on_the_model_tab_clears_the_summary_and_says_why(ctx):
    refresh = tab_model.refresh_model_fn(ctx)
    state = {"spec": "breast_cancer", "task": "binary", "label": "breast_cancer"}
    values = tab_model.form_values(default_form("breast_cancer", "binary"))
    summary, yaml_text, _, status, _ = refresh(state, None, *values)
    assert "Total params" in summary and "The model is ready" in status
    values[1] = -3  # hidden layer 1: units
    summary, yaml_text, _, status, _ = refresh(state, None, *values)
    assert (summary, yaml_text) == ("", "")
    assert "units must be at least 1, got -3" in status and "ready" not in status


def test_the_form_numbers_leave_the_checks_to_the_form(app):
    """A ``minimum`` would make Gradio refuse -3 with its own toast before the handler runs."""
    import gradio as gr

    numbers = [c for c in app.nablanet_ui.model.form_inputs if isinstance(c, gr.Number)]
    assert len(numbers) >= MAX_HIDDEN + 5
    assert [n.elem_id for n in numbers if n.minimum is not None] == []


# -- Evaluate: the newest finished run; one naming of runs; legends ------------------------------
def test_evaluate_opens_on_the_newest_finished_run(runs, tmp_path):
    runs_dir = tmp_path / "runs"
    done = shutil.copytree(runs["breast_cancer"], runs_dir / runs["breast_cancer"].name)
    newer = runs_dir / "breast_cancer_mlp-20991231-235959"  # started, never finished
    newer.mkdir()
    shutil.copy(done / "config.yaml", newer / "config.yaml")
    ctx = AppContext(runs_dir=runs_dir, configs_dir=runs_dir)
    assert ctx.run_choices()[0][1] == str(newer)  # the newest one...
    assert ctx.newest_finished_run() == str(done)  # ...is not the one opened
    shutil.rmtree(done)
    assert ctx.newest_finished_run() == str(newer)  # none finished: the newest


@pytest.mark.parametrize("path", sorted(CONFIGS.glob("*.yaml")), ids=lambda p: p.name)
def test_shipped_configs_and_the_ui_name_runs_alike(path):
    raw = api.read_config_file(path)
    spec = raw["data"]["dataset"]
    if isinstance(spec, dict):  # a generated dataset with its parameters: {name: spiral, ...}
        spec = spec.get("name", spec)
    if not isinstance(spec, str):
        pytest.skip("a config on a user's file")
    kinds = [layer.get("type") for layer in raw["model"]["layers"]]
    kind = "cnn" if "conv2d" in kinds else "mlp"
    assert raw["name"] == api.default_run_name(spec, kind)


def test_the_ui_default_name_is_the_cli_convention():
    assert default_form("breast_cancer", "binary").name == "breast_cancer_mlp"
    assert default_form("my data.csv", "binary").name == "my_data_mlp"


def test_compare_legends_keep_what_tells_runs_apart(runs):
    a, b = api.load_run(runs["breast_cancer"]), api.load_run(runs["digits"])
    frame = views.compare_frame([a, b], "val_loss")
    names = views.series_names(frame)
    assert all(len(n) <= views.LEGEND_CHARS for n in names)
    assert len(set(names)) == 2
    for label, run in zip(names, (a, b)):
        stamp = run.name.rsplit("-", 1)[1]  # HHMMSS of the run directory
        assert label.endswith(f"{stamp[:2]}:{stamp[2:4]}:{stamp[4:6]}")
    same = views.legend_labels([f"breast_cancer_mlp-20261202-1545{s:02d}" for s in (1, 2)])
    assert same == ["breast_cancer_mlp 15:45:01", "breast_cancer_mlp 15:45:02"]
    days = views.legend_labels(["breast_cancer_mlp-20261201-154501", "x-20261202-154501"])
    assert days == ["brea…ncer_mlp 12-01 15:45:01", "x 12-02 15:45:01"]  # the middle goes


# -- live curves: the axis fits the epochs --------------------------------------------------------
def test_the_live_curves_axis_is_not_pinned_to_zero(app):
    for plot in (app.nablanet_ui.train.loss_plot, app.nablanet_ui.train.metric_plot):
        assert plot.x_lim is None
    frame = views.curve_frame([{"epoch": 1, "loss": 0.7}, {"epoch": 2, "loss": 0.5}], "loss")
    assert frame["epoch"].min() == 1.0


def history(n: int) -> list[dict]:
    return [
        {"epoch": e, "loss": 1 / e, "val_loss": 1.1 / e, "accuracy": 0.5} for e in range(1, n + 1)
    ]


def test_few_epochs_are_drawn_one_tick_each_and_many_as_numbers():
    from nablanet.ui.session import Snapshot
    from nablanet.ui.tab_train import live_view, plot_styles

    view = live_view(Snapshot(status="training", history=history(3), epochs=3), "binary")
    assert list(view["loss"]["epoch"].unique()) == ["1", "2", "3"]  # categories: ticks 1, 2, 3
    assert view["series"]["axes"] == {"loss": "category", "metric": "category"}
    loss, metric, styled = plot_styles(view["series"], None)
    assert loss["sort"] == metric["sort"] == views.EPOCH_ORDER  # 1, 2, ... 10, not 1, 10, 2
    assert plot_styles(view["series"], styled)[:2] == (None, None)  # epoch 4: same drawing

    late = live_view(Snapshot(status="training", history=history(25), epochs=30), "binary")
    assert late["loss"]["epoch"].dtype.kind == "f"  # past 20 epochs Vega's ticks are whole
    loss, _, styled = plot_styles(late["series"], styled)
    assert loss is not None and loss["sort"] is None  # drawn afresh on a number axis
    batches = Snapshot(status="training", history=history(2), epochs=3, batch_points=[(2.5, 0.4)])
    assert live_view(batches, "binary")["series"]["axes"]["loss"] == "number"


def test_compare_draws_whole_epochs_one_tick_each(runs):
    from nablanet.ui import tab_compare

    view = tab_compare.compare_view([str(runs["breast_cancer"]), str(runs["digits"])], "val_loss")
    assert view["axis"] == "category" and view["curves"]["epoch"].iloc[0] == "1"


# -- Data and Evaluate: the regression target, label badges; the form's precision -----------------
def test_a_regression_target_is_a_histogram_not_a_class_balance(ctx):
    ds = ctx.dataset("diabetes")
    titles = data_view.balance_titles(ds)
    assert "histogram" in titles["title"].lower() and "class" not in titles["x_title"]
    bars = data_view.class_balance(ds)
    assert len(bars) == 12 and int(bars["count"].sum()) == len(ds.y)
    assert data_view.balance_titles(ctx.dataset("breast_cancer"))["title"].startswith("Class")


def test_no_label_badge_covers_a_figure(app):
    ui = app.nablanet_ui
    for comp in (
        ui.evaluate.confusion,
        ui.evaluate.roc,
        ui.evaluate.misclassified,
        ui.data.samples,
    ):
        assert comp.show_label is False, comp.elem_id


def test_the_predict_form_shows_the_data_precision(ctx, runs):
    trained = ctx.trained(str(runs["breast_cancer"]))
    row = np.full(trained.n_features, 18.61, np.float32)
    row[1] = 0.1
    frame = tab_predict.feature_frame(trained, row)
    assert frame["value"].iloc[0] == 18.61 and frame["value"].iloc[1] == 0.1
    assert repr(float(frame["value"].iloc[0])) == "18.61"
    sample = tab_predict.random_sample(ctx, str(runs["breast_cancer"]))["frame"]
    assert all(len(repr(float(v))) <= 12 for v in sample["value"])  # no float32 noise
