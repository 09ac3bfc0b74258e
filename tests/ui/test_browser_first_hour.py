"""Issue 14's UI items in a real browser: a picture uploaded on Predict and then the button; a
file that is not a picture; a bad number on the Model tab; a CSV without the target on Evaluate;
the regression target's histogram and the live curves' epoch axis. Each page is checked for
Gradio's own error toasts.

``NABLANET_SCREENSHOTS=<folder>`` saves a screenshot of each view checked (to look at them).
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest

from .test_browser import choose_dataset, goto_tab, set_number, wait_for, wait_text, x_axis
from .test_first_hour import digit_png

pytestmark = [pytest.mark.browser, pytest.mark.timeout(240)]


def shot(page, name: str) -> None:
    folder = os.environ.get("NABLANET_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / f"{name}.png"), full_page=True)


def gradio_toasts(page) -> list[str]:
    """The text of Gradio's error toasts on the page (ours are status lines, never toasts)."""
    return [t.inner_text() for t in page.locator(".toast-body").all()]


def add_run(ui_server, run: Path) -> None:
    shutil.copytree(run, ui_server.nablanet_context.runs_dir / run.name, dirs_exist_ok=True)


def test_predict_an_uploaded_picture_with_the_button_and_refuse_a_fake_one(page, runs, tmp_path):
    goto_tab(page, "Predict")  # the model by its path (as test_browser.test_bad_inputs does)
    page.locator("#predict-model input").click()
    page.get_by_role("option", name=re.compile("^Upload a model file")).click()
    path_box = page.locator("#predict-model-path textarea, #predict-model-path input").first
    path_box.fill(str(runs["digits"]))
    path_box.press("Enter")
    wait_text(page, "#predict-info", r"8x8 images")

    upload = page.locator("#predict-image input[type=file]")
    upload.set_input_files(str(digit_png(tmp_path)))
    first = wait_text(page, "#predict-status", r"Prediction: \d")
    page.locator("#predict-button").click()  # acts on the upload: the prediction stays
    page.wait_for_timeout(1500)
    assert page.locator("#predict-status").inner_text() == first
    assert re.search(r"\d", page.locator("#prediction").inner_text())
    shot(page, "predict-upload")

    fake = tmp_path / "fake.png"
    fake.write_text("not a picture\n")
    page.locator('#predict-image button[aria-label="Clear"]').click()
    upload.set_input_files(str(fake))
    text = wait_text(page, "#predict-status", r"⚠ fake\.png: cannot read the image")
    assert "give a PNG or JPEG" in text and "/tmp" not in text
    assert gradio_toasts(page) == []
    shot(page, "predict-fake-png")


def test_model_status_follows_the_form_and_evaluate_names_the_csv(page, runs, ui_server, tmp_path):
    bad = tmp_path / "bad.csv"  # the Data tab keeps a copy under runs/.uploads: named as uploaded
    bad.write_text("a,target\nx,1\ny,0\n")
    page.locator("#dataset input").click()
    page.get_by_role("option", name=re.compile("^Upload a CSV")).click()
    page.locator("#data-upload input[type=file]").set_input_files(str(bad))
    text = wait_text(page, "#data-status", r"⚠ .*bad\.csv: column 'a' is not numeric")
    line = next(t for t in text.splitlines() if "⚠" in t)  # (a progress note may precede it)
    assert "/" not in line and ".uploads" not in line

    choose_dataset(page, "Breast cancer")
    goto_tab(page, "Model")
    wait_text(page, "#model-status", r"The model is ready")
    set_number(page, "units-1", -3)
    status = wait_text(page, "#model-status", r"units must be at least 1, got -3")
    assert "ready" not in status
    wait_for(
        lambda: "Total params" not in page.locator("#model-summary").inner_text(), "no summary"
    )
    assert gradio_toasts(page) == []
    shot(page, "model-units-minus-3")

    add_run(ui_server, runs["breast_cancer"])
    goto_tab(page, "Evaluate")
    page.locator("#eval-refresh").click()
    wait_text(page, "#eval-headline", r"accuracy")
    features = ",".join(ui_server.nablanet_context.trained(runs["breast_cancer"]).feature_names)
    csv = tmp_path / "no_target.csv"
    csv.write_text(features + "\n" + ",".join(["1"] * 30) + "\n")
    page.get_by_text("Evaluate this model on other data").click()
    page.locator("#eval-other-file input[type=file]").set_input_files(str(csv))
    page.locator("#eval-other-button").click()
    text = wait_text(page, "#eval-other-result", r"⚠ Cannot evaluate: no_target\.csv")
    line = next(t for t in text.splitlines() if "⚠" in t)
    assert "/tmp" not in line and line.rstrip().endswith("the target).")  # one line, all of it
    assert gradio_toasts(page) == []
    shot(page, "evaluate-no-target")


def test_regression_histogram_and_live_epoch_axis(page):
    choose_dataset(page, "Diabetes")
    wait_for(lambda: "target value" in x_axis(page, "class-balance"), "the target's histogram")
    title = page.locator("#class-balance [aria-roledescription=title]")
    assert "Target histogram" in (title.first.text_content() if title.count() else "")
    shot(page, "data-diabetes")

    goto_tab(page, "Model")
    wait_text(page, "#model-summary", r"Total params")
    set_number(page, "epochs", 3)
    wait_text(page, "#config-yaml", r"epochs: 3")
    goto_tab(page, "Train")
    page.locator("#train-button").click()
    wait_for(
        lambda: (
            page.locator("#train-progress .nb-progress").get_attribute("data-status")
            in ("finished", "early_stopped", "completed")
        ),
        "the run to finish",
        timeout=90,
    )
    # 3 epochs: one tick per epoch, the first at the left edge (no 0, no 1.2, 1.4 ...)
    for plot in ("live-plot", "live-metric-plot"):
        axis = wait_for(
            lambda p=plot: "3 values" in (x_axis(page, p) or "") and x_axis(page, p), plot
        )
        assert re.search(r"3 values: 1, 2, 3\b", axis), axis
    shot(page, "train-live-axis")

    goto_tab(page, "Evaluate")  # the run just trained, with its figure and no badge over it
    wait_text(page, "#eval-headline", r"diabetes_mlp.*r2")
    page.wait_for_selector("#eval-confusion img")
    assert not page.locator("#eval-confusion [data-testid=block-label]").is_visible()
    assert not page.locator("#eval-roc").is_visible()  # no ROC curve for a regression
    shot(page, "evaluate-regression")
