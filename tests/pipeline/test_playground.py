"""The playground: settings checked, training in slices, frames that follow the model."""

from __future__ import annotations

import numpy as np
import pytest

from nablanet.pipeline import InputError, Playground, PlaygroundSettings
from nablanet.pipeline.playground import render_regions


def test_training_changes_the_frame_and_the_numbers():
    pg = Playground(PlaygroundSettings(dataset="moons", hidden=(8,), n_samples=200))
    before = pg.frame()
    assert before.shape == (320, 320, 3) and before.dtype == np.uint8
    assert pg.metrics()["epoch"] == 0 and pg.layer_table()[0]["grad_norm"] is None
    assert pg.train_for(60.0, max_epochs=5) == 5
    after = pg.frame()
    assert not np.array_equal(before, after)
    m = pg.metrics()
    assert m["epoch"] == 5 and m["loss"] > 0 and 0 <= m["val_accuracy"] <= 1
    rows = pg.layer_table()
    assert [r["layer"] for r in rows] == ["0.dense", "1.dense"] and rows[0]["grad_norm"] > 0
    assert len(pg.gradient_history()["0.dense"]) == 5
    assert pg.last_frame_seconds > 0


def test_reset_starts_again_with_new_settings():
    pg = Playground(PlaygroundSettings(dataset="xor", n_samples=100, hidden=(4,)))
    pg.train_for(0.0)
    pg.reset(PlaygroundSettings(dataset="spiral", n_samples=90, hidden=(6, 6), activation="tanh"))
    assert pg.epoch == 0 and len(pg.class_names) == 3
    assert len(pg.x_train) + len(pg.x_val) == 90
    assert [r["activation"] for r in pg.layer_table()] == ["tanh", "tanh", "softmax"]


def test_same_settings_same_experiment():
    a, b = (Playground(PlaygroundSettings(dataset="circles", n_samples=100)) for _ in range(2))
    a.train_for(60.0, max_epochs=2)
    b.train_for(60.0, max_epochs=2)
    assert np.array_equal(a.frame(), b.frame())


def test_a_diverging_network_is_reported_and_stops():
    pg = Playground(PlaygroundSettings(optimizer="sgd", learning_rate=1e4, n_samples=100))
    pg.train_for(60.0, max_epochs=20)
    assert any("learning_rate_too_high" in w for w in pg.warnings())
    pg.frame()  # NaN probabilities still draw


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"dataset": "mnist"}, "dataset must be one of"),
        ({"activation": "swish"}, "activation must be one of"),
        ({"hidden": (0,)}, "1 to 256 units"),
        ({"learning_rate": 0.0}, "learning rate must be > 0"),
        ({"l2": -1.0}, "L2 penalty"),
        ({"optimizer": "rmsprop"}, "adam or sgd"),
    ],
)
def test_bad_settings_name_the_problem(settings, message):
    with pytest.raises(InputError, match=message):
        Playground(PlaygroundSettings(**settings))


def test_render_regions_puts_colours_where_they_belong():
    proba = np.zeros((2, 2, 2))
    proba[:, 0, 0] = 1.0  # left column: class 0, sure
    proba[:, 1, 1] = 1.0  # right column: class 1, sure
    img = render_regions(proba, np.array([[0.9, 0.9]]), np.array([0]), (0, 1, 0, 1), size=100)
    left, right = img[50, 10].astype(int), img[50, 60].astype(int)
    assert left[2] > left[0] and right[0] > right[2]  # tab:blue vs tab:orange
    # the point (class 0) is drawn at the top right, over the class-1 region
    dot = img[10, 89].astype(int)
    assert tuple(dot) == (31, 119, 180)
