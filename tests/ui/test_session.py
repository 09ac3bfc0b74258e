"""The background training session and the Train tab's logic (no browser needed)."""

from __future__ import annotations

import doctest
import threading

import pytest

import nablanet.ui.session as session_module
from nablanet.ui.session import TrainingSession
from nablanet.ui.tab_train import estimate_steps, live_view


class FakeClock:
    """``time.perf_counter`` of the session module, moved by hand."""

    def __init__(self):
        self.now = 100.0

    def __call__(self):
        return self.now


@pytest.fixture
def clock(monkeypatch):
    fake = FakeClock()
    monkeypatch.setattr(session_module.time, "perf_counter", fake)
    return fake


def scripted_train(clock, epochs: int, steps: int, seconds_per_step: float, gate=None):
    """A ``train_fn`` that plays ``epochs`` x ``steps`` batches of loss ``1 / (step + 1)``."""

    def train(config, callbacks, stop_event):
        cb = callbacks[0]
        cb.on_train_begin({})
        for epoch in range(epochs):
            cb.on_epoch_begin(epoch, {})
            for step in range(steps):
                clock.now += seconds_per_step
                cb.on_batch_end(step, {"loss": 1.0 / (step + 1)})
                if stop_event.is_set():
                    break
            cb.on_epoch_end(epoch, {"loss": 0.5, "val_loss": 0.6, "accuracy": 0.9})
            if gate is not None:
                gate.wait(5)
            if stop_event.is_set():
                break
        cb.on_train_end({})
        return None

    return train


def run(session: TrainingSession, config=None, **start) -> session_module.Snapshot:
    session.start(config or {"training": {"epochs": 2}}, **start)
    session.join(10)
    return session.snapshot()


def test_short_epochs_have_no_batch_points(clock):
    session = TrainingSession(scripted_train(clock, epochs=2, steps=50, seconds_per_step=0.001))
    snap = run(session)
    assert snap.status == "finished"
    assert snap.batch_points == []
    assert [r["epoch"] for r in snap.history] == [1, 2]


def test_long_epochs_get_a_point_every_half_second(clock):
    # 40 batches of 1/8 s: a point every 4 batches, the mean loss of those batches
    session = TrainingSession(scripted_train(clock, epochs=2, steps=40, seconds_per_step=0.125))
    snap = run(session, steps_per_epoch=40)
    assert snap.steps_per_epoch == 40
    xs = [x for x, _ in snap.batch_points]
    assert len(xs) == 20
    assert xs[:3] == pytest.approx([4 / 40, 8 / 40, 12 / 40])
    assert xs[10:13] == pytest.approx([1 + 4 / 40, 1 + 8 / 40, 1 + 12 / 40])
    expected = sum(1.0 / (s + 1) for s in range(4)) / 4
    assert snap.batch_points[0][1] == pytest.approx(expected)
    expected = sum(1.0 / (s + 1) for s in range(4, 8)) / 4
    assert snap.batch_points[1][1] == pytest.approx(expected)


def test_the_counted_steps_replace_the_estimate(clock):
    gate = threading.Event()
    session = TrainingSession(
        scripted_train(clock, epochs=2, steps=20, seconds_per_step=0.125, gate=gate)
    )
    session.start({"training": {"epochs": 2}}, steps_per_epoch=10)  # a wrong estimate
    try:
        for _ in range(500):
            snap = session.snapshot()
            if snap.epoch >= 1:
                break
            threading.Event().wait(0.01)
        # after the first epoch its 5 points are placed with the count, not the estimate
        assert snap.steps_per_epoch == 20
        assert [x for x, _ in snap.batch_points] == pytest.approx([0.2, 0.4, 0.6, 0.8, 1.0])
    finally:
        gate.set()
        session.join(10)
    assert session.snapshot().steps_per_epoch == 20


def test_without_an_estimate_the_first_epoch_shows_no_points_until_counted(clock):
    seen = []

    def train(config, callbacks, stop_event):
        cb = callbacks[0]
        cb.on_train_begin({})
        cb.on_epoch_begin(0, {})
        for step in range(10):
            clock.now += 0.25
            cb.on_batch_end(step, {"loss": 1.0})
        seen.append(cb.session.snapshot().batch_points)
        cb.on_epoch_end(0, {"loss": 1.0})
        return None

    snap = run(TrainingSession(train), {"training": {"epochs": 1}})
    assert seen == [[]]
    assert len(snap.batch_points) == 5 and snap.batch_points[-1][0] == pytest.approx(1.0)


def test_non_finite_losses_are_left_out_of_the_points(clock):
    def train(config, callbacks, stop_event):
        cb = callbacks[0]
        cb.on_epoch_begin(0, {})
        for step, loss in enumerate([float("nan"), 2.0, float("inf"), 4.0]):
            clock.now += 0.3
            cb.on_batch_end(step, {"loss": loss})
        cb.on_epoch_end(0, {"loss": 3.0})

    snap = run(TrainingSession(train), {"training": {"epochs": 1}}, steps_per_epoch=4)
    assert snap.batch_points == [(0.5, 2.0), (1.0, 4.0)]


def test_stop_keeps_the_epochs_done(clock):
    gate = threading.Event()
    session = TrainingSession(
        scripted_train(clock, epochs=100, steps=5, seconds_per_step=0.01, gate=gate)
    )
    session.start({"training": {"epochs": 100}})
    assert session.stop()
    gate.set()
    session.join(10)
    snap = session.snapshot()
    assert snap.status == "stopped"
    assert 1 <= snap.epoch < 100
    assert "best model" in snap.message
    assert not session.stop()


def test_a_failing_run_reports_the_error_and_a_new_run_can_start():
    def broken(config, callbacks, stop_event):
        raise ValueError("The 'units' parameter of Dense must be a positive integer.")

    session = TrainingSession(broken)
    snap = run(session)
    assert snap.status == "failed"
    assert "units" in snap.message
    view = live_view(snap, "binary")
    assert "⚠" in view["status"] and view["loss"] is None
    session._train_fn = lambda config, callbacks, stop_event: None
    assert run(session).status == "finished"


def test_one_run_at_a_time():
    gate = threading.Event()
    session = TrainingSession(lambda config, callbacks, stop_event: gate.wait(5))
    session.start({"training": {"epochs": 1}})
    try:
        with pytest.raises(Exception, match="already going"):
            session.start({"training": {"epochs": 1}})
    finally:
        gate.set()
        session.join(10)


class FakeDataset:
    def __init__(self, n_samples: int, has_test: bool):
        self.n_samples = n_samples
        self.x_test = object() if has_test else None


@pytest.mark.parametrize(
    ("n", "has_test", "extra", "expected"),
    [
        (569, False, {}, 13),  # 569 * 0.7 = 398.3 rows of training, batches of 32
        (60000, True, {"batch_size": 128}, 399),  # the dataset's own test set
        (60000, True, {"batch_size": 128, "max_samples": 6000}, 40),
    ],
)
def test_estimate_steps(n, has_test, extra, expected):
    config = {
        "data": {"validation_split": 0.15, "test_split": 0.15},
        "training": {"batch_size": extra.get("batch_size", 32)},
    }
    if "max_samples" in extra:
        config["data"]["max_samples"] = extra["max_samples"]
    assert estimate_steps(config, FakeDataset(n, has_test)) == expected


def test_estimate_steps_of_an_incomplete_config_is_none():
    assert estimate_steps({"data": {}}, FakeDataset(100, False)) is None
    assert estimate_steps({"data": {}, "training": {"batch_size": 8}}, None) is None


def test_the_pipelines_real_step_count_matches_the_estimate(tmp_path):
    from nablanet.ui.common import AppContext

    from .conftest import quick_config

    ctx = AppContext(runs_dir=tmp_path, configs_dir=tmp_path)
    config = quick_config("breast_cancer", tmp_path, epochs=1)
    estimate = estimate_steps(config, ctx.dataset("breast_cancer"))
    snap = run(TrainingSession(), config, steps_per_epoch=estimate)
    assert snap.status == "finished", snap.message
    assert snap.steps_per_epoch == estimate


@pytest.mark.parametrize(
    "module",
    ["nablanet.ui.session", "nablanet.ui.views", "nablanet.ui.model_form", "nablanet.ui.launch"],
)
def test_modules_have_docstring_examples(module):
    """Each of these modules shows an example (run by ``--doctest-modules``)."""
    import importlib

    tests = doctest.DocTestFinder().find(importlib.import_module(module), module)
    assert sum(len(t.examples) for t in tests) > 0


def test_plots_are_restyled_when_their_series_change():
    from nablanet.ui.tab_train import plot_styles

    batches = {"loss": ("train (recent batches)",), "metric": (), "metric_key": "accuracy"}
    loss, metric, styled = plot_styles(batches, None)
    assert loss == {"color_map": {"train (recent batches)": "#a5b4fc"}}
    assert metric is None and styled["metric"] is None

    epochs = {
        "loss": ("train", "validation", "train (recent batches)"),
        "metric": ("train", "validation"),
        "metric_key": "accuracy",
    }
    loss, metric, styled = plot_styles(epochs, styled)
    assert list(loss["color_map"]) == list(epochs["loss"])
    assert metric["title"] == "Accuracy" and metric["y_title"] == "accuracy"
    assert set(metric["color_map"]) == {"train", "validation"}
    assert plot_styles(epochs, styled)[:2] == (None, None)  # nothing new: no redraw

    regression = dict(epochs, metric_key="mae")
    _, metric, styled = plot_styles(regression, styled)
    assert metric["title"] == "MAE"

    cleared = {"loss": (), "metric": (), "metric_key": "accuracy"}
    _, _, styled = plot_styles(cleared, styled)
    assert styled == {"loss": None, "metric": None}
    loss, _, _ = plot_styles(epochs, styled)  # a new run draws afresh, styled again
    assert loss is not None


def test_series_and_colours_of_the_curves():
    from nablanet.ui import views

    history = [{"epoch": 1, "loss": 0.7, "val_loss": 0.8}]
    frame = views.curve_frame(history, "loss", [(0.5, 0.9)])
    assert views.series_names(frame) == ("train", "validation", "train (recent batches)")
    assert views.series_names(None) == ()
    colours = views.color_map([f"run-{i}" for i in range(12)])
    assert len(set(colours.values())) == len(views.PALETTE)
    fixed = views.color_map(["train", "other"], views.SERIES_COLORS)
    assert fixed["train"] == views.SERIES_COLORS["train"]
    assert fixed["other"] not in views.SERIES_COLORS.values()


def test_progress_names_the_running_epoch_and_the_batch():
    from nablanet.ui.session import Snapshot
    from nablanet.ui.views import progress_html

    running = Snapshot(status="training", epoch=2, epochs=3, step=27, steps_per_epoch=399)
    text = progress_html(running)
    assert "Epoch <b>3</b> / 3 · batch 27 / 399" in text
    assert 'data-epoch="2"' in text and 'data-status="training"' in text
    assert 'style="width:68.9%"' in text  # (2 + 27/399) / 3
    between = Snapshot(status="training", epoch=2, epochs=3, step=0, steps_per_epoch=399)
    text = progress_html(between)  # an epoch has ended, the next one not begun
    assert "Epoch <b>2</b> / 3" in text and "batch" not in text
    done = Snapshot(status="finished", epoch=3, epochs=3, history=[{"seconds": 0.0014}])
    text = progress_html(done)
    assert "Epoch <b>3</b> / 3" in text and "1.4 ms/epoch" in text and "batch" not in text


def test_the_step_count_restarts_with_each_epoch(clock):
    session = TrainingSession(scripted_train(clock, epochs=2, steps=7, seconds_per_step=0.01))
    snap = run(session)
    assert snap.step == 0 and snap.steps_per_epoch == 7 and snap.epoch == 2
