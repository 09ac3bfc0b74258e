"""The Playground tab's logic (no browser): controls -> a playground, and what the tab shows."""

from __future__ import annotations

import pandas as pd
import pytest

from nablanet.ui import tab_playground
from nablanet.ui.errors import UIError


def test_the_view_of_a_fresh_and_a_trained_playground():
    pg = tab_playground.new_playground("xor", 0.1, "8", "tanh", "0.03", "adam", "0.001")
    view = tab_playground.playground_view(pg)
    assert view["image"].shape == (320, 320, 3)
    assert view["status"].startswith("Epoch 0: press ▶ Play") and "frame" in view["status"]
    assert list(view["table"].columns) == tab_playground.TABLE_COLUMNS
    assert view["curves"] is None and "No warnings" in view["warnings"]
    pg.train_for(60.0, max_epochs=3)
    view = tab_playground.playground_view(pg)
    assert view["status"].startswith("Epoch 3: loss ")
    assert isinstance(view["curves"], pd.DataFrame) and set(view["curves"]["layer"]) == {
        "0.dense",
        "1.dense",
    }
    assert view["table"]["activation"].tolist() == ["tanh", "softmax"]


def test_bad_controls_are_ui_errors():
    with pytest.raises(UIError, match="Hidden layers"):
        tab_playground.new_playground("spiral", 0.2, "8, many", "relu", "0.01", "adam", "0.0")
    with pytest.raises(UIError, match="1 to 256 units"):
        tab_playground.new_playground("spiral", 0.2, "1000", "relu", "0.01", "adam", "0.0")


def test_warnings_are_listed():
    pg = tab_playground.new_playground("spiral", 0.2, "16", "relu", "10.0", "sgd", "0.0")
    pg.train_for(60.0, max_epochs=10)
    assert "⚠" in tab_playground.playground_view(pg)["warnings"]


def test_the_data_tabs_dataset_box_offers_the_toy_datasets():
    from nablanet.ui import data_view

    values = [value for _, value in data_view.dataset_choices()]
    assert {"spiral", "circles", "moons", "xor", "gaussians"} <= set(values)
    assert values[-1] == data_view.UPLOAD
