"""In a real browser (headless Chromium through Playwright): a colour model is picked on the
Predict tab, a colour photo of another size is uploaded, and the prediction is read, with the
conversion the page says it made."""

from __future__ import annotations

import re

import pytest

from .test_browser import goto_tab, wait_text
from .test_one_image_path import colour_run, reddish_photo  # noqa: F401 (a fixture)

pytestmark = [pytest.mark.browser, pytest.mark.timeout(240)]


def test_a_colour_photo_is_uploaded_and_predicted(page, colour_run, tmp_path):  # noqa: F811
    photo = reddish_photo(tmp_path / "photo.png")
    goto_tab(page, "Predict")
    page.locator("#predict-model input").click()
    page.get_by_role("option", name=re.compile("^Upload a model file")).click()
    path_box = page.locator("#predict-model-path textarea, #predict-model-path input").first
    path_box.fill(str(colour_run))
    path_box.press("Enter")
    wait_text(page, "#predict-info", r"12x12 images with 3 channel")
    page.locator("#predict-image input[type=file]").set_input_files(str(photo))
    wait_text(page, "#predict-status", r"Prediction: red \(\d+%\) \(resized 50x37 -> 12x12\)")
    wait_text(page, "#prediction", r"red")
    assert page.external_requests == []
