"""End-to-end tests of the web UI in a real browser (headless Chromium through Playwright).

They serve the app on a free 127.0.0.1 port, pick breast cancer, train and watch the live plot
change, stop, read the metrics; train on digits, draw a digit and read the prediction; feed bad
inputs and read the messages; compare runs. Every page also checks that nothing was requested
outside the loopback interface.
"""

from __future__ import annotations

import itertools
import re
import shutil
import time

import pytest

from nablanet.ui.views import legend_labels

pytestmark = [pytest.mark.browser, pytest.mark.timeout(240)]


# -- helpers ---------------------------------------------------------------------------------------
def choose_dataset(page, label_start: str) -> None:
    page.locator("#dataset input").click()
    page.get_by_role("option", name=re.compile("^" + re.escape(label_start))).click()
    page.wait_for_selector("#dataset-info h3")


def goto_tab(page, name: str) -> None:
    page.get_by_role("tab", name=re.compile(re.escape(name) + "$")).click()


def set_number(page, elem_id: str, value) -> None:
    box = page.locator(f"#{elem_id} input").first
    box.fill(str(value))
    box.dispatch_event("input")


def wait_text(page, selector: str, pattern: str, timeout: float = 30.0) -> str:
    """Wait until the element's text matches the regex; return the text."""
    deadline = time.monotonic() + timeout
    text = ""
    while time.monotonic() < deadline:
        text = page.locator(selector).inner_text()
        if re.search(pattern, text):
            return text
        time.sleep(0.1)
    raise AssertionError(f"{selector}: {pattern!r} not found in {text!r} after {timeout} s")


def progress_epoch(page) -> int:
    return int(page.locator("#train-progress .nb-progress").get_attribute("data-epoch"))


def progress_status(page) -> str:
    return page.locator("#train-progress .nb-progress").get_attribute("data-status")


def line_paths(page, elem_id: str) -> list[str]:
    """The drawn lines of a native plot (Vega's SVG paths, one per series)."""
    return [p.get_attribute("d") or "" for p in page.locator(f"#{elem_id} .mark-line path").all()]


def legend(page, elem_id: str) -> str:
    """The description Vega gives the plot's legend: its series."""
    found = page.locator(f"#{elem_id} [aria-roledescription=legend]")
    return found.first.get_attribute("aria-label") if found.count() else ""


def legend_series(page, elem_id: str) -> set[str]:
    """The series named in the legend ("... with 2 values: train, validation")."""
    text = legend(page, elem_id)
    return set(text.split(": ", 1)[1].split(", ")) if ": " in text else set()


def x_axis(page, elem_id: str) -> str:
    return page.locator(f"#{elem_id} [aria-roledescription=axis]").first.get_attribute("aria-label")


def y_axis(page, elem_id: str) -> str:
    axes = page.locator(f"#{elem_id} [aria-roledescription=axis]")
    return axes.nth(1).get_attribute("aria-label") if axes.count() > 1 else ""


def wait_for(condition, what: str, timeout: float = 30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.15)
    raise AssertionError(f"{what}: not after {timeout} s")


def draw(page, points, steps: int = 15) -> None:
    """Drag the mouse through ``points`` (in units of the canvas half-size, from its centre)."""
    box = page.locator("#sketchpad canvas").first.bounding_box()
    cx, cy = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    s = 0.3 * min(box["width"], box["height"])
    page.mouse.move(cx + s * points[0][0], cy + s * points[0][1])
    page.mouse.down()
    for (x0, y0), (x1, y1) in itertools.pairwise(points):
        for t in range(1, steps + 1):
            page.mouse.move(
                cx + s * (x0 + (x1 - x0) * t / steps), cy + s * (y0 + (y1 - y0) * t / steps)
            )
    page.mouse.up()


# -- tests -----------------------------------------------------------------------------------------
def test_breast_cancer_live_training_stop_and_metrics(page):
    choose_dataset(page, "Breast cancer")
    info = page.locator("#dataset-info").inner_text()
    assert "569" in info and "malignant" in info and "binary" in info
    wait_for(lambda: "2 values: malignant, benign" in x_axis(page, "class-balance"), "balance")

    goto_tab(page, "Model")
    wait_text(page, "#model-summary", r"Total params")
    set_number(page, "epochs", 5000)
    set_number(page, "batch-size", 4)
    wait_text(page, "#config-yaml", r"epochs: 5000")
    page.locator("#early-stopping input").uncheck()
    wait_text(page, "#config-yaml", r"early_stopping: null")

    goto_tab(page, "Train")
    page.locator("#train-button").click()
    deadline = time.monotonic() + 60
    while progress_epoch(page) < 2:
        assert time.monotonic() < deadline, "training did not start"
        time.sleep(0.1)
    first_epoch = progress_epoch(page)
    before = wait_for(lambda: [d for d in line_paths(page, "live-plot") if d], "first curves")
    # the curves grow with every poll of the page, while the training goes on
    wait_for(lambda: line_paths(page, "live-plot") != before, "the live loss plot to change")
    # the plot and the progress text come in separate updates: wait for the counter as well
    wait_for(lambda: progress_epoch(page) > first_epoch, "the epoch counter to advance")
    assert len(line_paths(page, "live-plot")) == 2
    assert legend_series(page, "live-plot") == {"train", "validation"}
    assert legend_series(page, "live-metric-plot") == {"train", "validation"}
    assert "learning rate" in page.locator("#train-progress").inner_text()

    # the page stays responsive while the background thread trains
    goto_tab(page, "Data")
    assert "569" in page.locator("#dataset-info").inner_text()
    goto_tab(page, "Train")
    assert progress_status(page) == "training"

    page.locator("#stop-button").click()
    deadline = time.monotonic() + 60
    while progress_status(page) != "stopped":
        assert time.monotonic() < deadline, f"not stopped: {progress_status(page)}"
        time.sleep(0.2)
    assert "best model" in page.locator("#train-status").inner_text()
    assert progress_epoch(page) < 5000

    goto_tab(page, "Evaluate")
    text = wait_text(page, "#eval-metrics", r"accuracy")
    row = re.search(r"accuracy\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)", text)
    assert row, text
    train, validation, test = (float(v) for v in row.groups())
    assert 0.85 <= test <= 1.0 and 0.85 <= validation <= 1.0 and 0.85 <= train <= 1.0
    assert "stopped" in page.locator("#eval-headline").inner_text()
    page.wait_for_selector("#eval-confusion img")
    page.wait_for_selector("#eval-roc img")
    assert page.external_requests == []


def test_digits_draw_and_predict(page, monkeypatch):
    # a point of the batches' loss after every batch (on big data: every half second)
    monkeypatch.setattr("nablanet.ui.session.BATCH_POINT_SECONDS", 0.0)
    choose_dataset(page, "Breast cancer")
    wait_for(lambda: "2 values" in x_axis(page, "class-balance"), "the balance of 2 classes")
    choose_dataset(page, "Digits")
    page.wait_for_selector("#sample-grid")
    # the bar plot is drawn again with the new classes, not the old ones
    wait_for(lambda: "10 values: 0, 1" in x_axis(page, "class-balance"), "the 10 digits")
    goto_tab(page, "Model")
    wait_text(page, "#model-summary", r"Total params")
    set_number(page, "epochs", 12)
    wait_text(page, "#config-yaml", r"epochs: 12")
    goto_tab(page, "Train")
    page.locator("#train-button").click()
    deadline = time.monotonic() + 90
    while progress_status(page) != "finished":
        assert time.monotonic() < deadline, f"training did not finish: {progress_status(page)}"
        time.sleep(0.2)
    # the plot drawn again when the batches' series came (with all its series in the legend)
    series = {"train (recent batches)", "train", "validation"}
    wait_for(lambda: legend_series(page, "live-plot") == series, f"a legend of {series}")
    assert len(line_paths(page, "live-plot")) == 3

    goto_tab(page, "Predict")
    wait_text(page, "#predict-info", r"8x8 images")
    page.wait_for_selector("#sketchpad canvas")
    assert page.locator("#prediction").inner_text().strip() in ("", "Prediction")
    page.locator("#predict-button").click()
    wait_text(page, "#predict-status", r"⚠ (No image: draw a digit|The sketch is empty)")

    time.sleep(1.0)  # the page selects the brush
    draw(page, [(-0.5, -0.6), (0.5, -0.6), (-0.1, 0.7)])  # a 7
    status = wait_text(page, "#predict-status", r"Prediction: \d", timeout=40)
    digit = re.search(r"Prediction: (\d)", status).group(1)
    label = page.locator("#prediction").inner_text()
    assert digit in label and "%" in label
    page.wait_for_selector("#predict-preview img")

    # Clear deselects Gradio's brush; the page picks it again, so a second digit can be drawn
    page.locator('#sketchpad button[aria-label="Clear canvas"]').click()
    brush = page.locator('#sketchpad button[aria-label="Brush"]')
    wait_for(lambda: "highlight" in (brush.get_attribute("class") or ""), "the brush again")
    before = page.locator("#predict-status").inner_text()
    draw(page, [(0.0, -0.7), (0.0, 0.7)])  # a 1
    wait_for(
        lambda: (
            re.search(r"Prediction: \d", t := page.locator("#predict-status").inner_text())
            and t != before
        ),
        "a prediction of the second drawing",
        timeout=40,
    )
    assert page.external_requests == []


def test_bad_inputs_show_messages(page, runs, tmp_path, ui_server):
    goto_tab(page, "Train")
    page.locator("#train-button").click()
    wait_text(page, "#train-status", r"Pick a dataset")

    goto_tab(page, "Predict")
    page.locator("#predict-model input").click()
    page.get_by_role("option", name=re.compile("^Upload a model file")).click()
    path_box = page.locator("#predict-model-path textarea, #predict-model-path input").first
    path_box.fill(str(tmp_path / "nope"))
    path_box.press("Enter")
    wait_text(page, "#predict-info", r"no such file")

    path_box.fill(str(runs["breast_cancer"]))
    path_box.press("Enter")
    wait_text(page, "#predict-info", r"30 features")
    bad = tmp_path / "wrong.csv"
    bad.write_text("a,b,c\n1,2,3\n")
    page.locator("#predict-csv input[type=file]").set_input_files(str(bad))
    wait_text(page, "#predict-status", r"⚠ .*expects 30 features.*3 column")

    page.locator("#predict-row-button").click()
    wait_text(page, "#predict-status", r"Prediction: (malignant|benign)")

    path_box.fill(str(runs["digits"]))
    path_box.press("Enter")
    wait_text(page, "#predict-info", r"8x8 images")
    page.locator("#predict-button").click()
    wait_text(page, "#predict-status", r"⚠ (No image: draw a digit|The sketch is empty)")

    goto_tab(page, "Evaluate")  # a model of one dataset on another one
    runs_dir = ui_server.nablanet_context.runs_dir
    shutil.copytree(
        runs["breast_cancer"], runs_dir / runs["breast_cancer"].name, dirs_exist_ok=True
    )
    page.locator("#eval-refresh").click()
    page.locator("#eval-run input").click()
    page.get_by_role("option", name=re.compile("^" + re.escape(runs["breast_cancer"].name))).click()
    wait_text(page, "#eval-headline", runs["breast_cancer"].name)
    page.get_by_text("Evaluate this model on other data").click()
    page.locator("#eval-other-dataset input").click()
    page.get_by_role("option", name=re.compile("^Digits")).click()
    page.locator("#eval-other-button").click()
    wait_text(page, "#eval-other-result", r"⚠ Cannot evaluate: .*unknown to the model")
    assert page.external_requests == []


def test_compare_runs(page, runs, ui_server):
    runs_dir = ui_server.nablanet_context.runs_dir
    for name in ("breast_cancer", "digits"):
        shutil.copytree(runs[name], runs_dir / runs[name].name, dirs_exist_ok=True)
    goto_tab(page, "Compare")
    page.locator("#compare-refresh").click()
    box = page.locator("#compare-runs input")
    for name in ("breast_cancer", "digits"):
        page.locator("#app-title").click()  # the dropdown opens again once it lost the focus
        box.click()
        box.fill(runs[name].name)
        page.get_by_role("option", name=re.compile("^" + re.escape(runs[name].name))).click()
    text = wait_text(page, "#compare-table", runs["digits"].name)
    assert runs["breast_cancer"].name in text
    # both runs drawn, each in the legend (the plot is drawn again when a run is added)
    wait_for(lambda: len([d for d in line_paths(page, "compare-plot") if d]) == 2, "2 curves")
    # each run under a label that fits the legend and keeps its stamp (views.legend_labels)
    names = set(legend_labels([runs["breast_cancer"].name, runs["digits"].name]))
    wait_for(lambda: legend_series(page, "compare-plot") == names, "both runs in the legend")

    loss_paths = line_paths(page, "compare-plot")
    page.locator("#compare-metric input").click()  # another curve: drawn with its own data
    page.get_by_role("option", name="val_accuracy", exact=True).click()
    wait_for(lambda: "'val_accuracy'" in y_axis(page, "compare-plot"), "the accuracy axis")
    paths = wait_for(lambda: [d for d in line_paths(page, "compare-plot") if d], "the curves")
    assert len(paths) == 2 and paths != loss_paths
    assert page.external_requests == []


def test_the_model_tab_builds_a_cnn_for_images_only(page):
    choose_dataset(page, "Digits")
    goto_tab(page, "Model")
    wait_text(page, "#model-summary", r"Total params")
    assert not page.locator("#filters-1").is_visible()  # a plain MLP to start with
    set_number(page, "n-conv", 1)
    wait_for(lambda: page.locator("#filters-1").is_visible(), "the first block's row")
    assert not page.locator("#filters-2").is_visible()
    wait_text(page, "#model-summary", r"Conv2D")
    set_number(page, "filters-1", 6)
    summary = wait_text(page, "#model-summary", r"\(None, 4, 4, 6\)")  # 8x8 digits, pooled
    assert "Flatten" in summary and "(None, 8, 8, 6)" in summary
    yaml_text = wait_text(page, "#config-yaml", r"type: conv2d")
    assert "filters: 6" in yaml_text and "type: flatten" in yaml_text
    assert "flatten: true" not in yaml_text  # images keep their 8x8x1 shape

    goto_tab(page, "Data")
    choose_dataset(page, "Breast cancer")
    goto_tab(page, "Model")
    set_number(page, "n-conv", 1)
    wait_text(page, "#model-status", r"Convolution blocks need images .*\(30,\)")
