"""Callbacks: early stopping, NaN termination, checkpoints, lambdas, history, the stop flag."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

import nablanet as nb


def _data(n=32, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, 3)).astype(np.float32)
    y = (x @ np.array([[1.0], [-2.0], [0.5]], np.float32)).astype(np.float32)
    return x, y


def _model(lr=0.05):
    model = nb.Sequential([nb.Dense(3, 8, "tanh"), nb.Dense(8, 1)])
    model.compile("mse", nb.SGD(lr))
    return model


def _scripted(values, key="score"):
    """A callback that writes ``values[epoch]`` into the epoch logs under ``key``."""
    return nb.LambdaCallback(on_epoch_end=lambda epoch, logs: logs.update({key: values[epoch]}))


class _Snapshots(nb.Callback):
    """Copies of the weights at the end of every epoch."""

    def __init__(self):
        super().__init__()
        self.states = []

    def on_epoch_end(self, epoch, logs=None):
        self.states.append(self.model.state_dict())


def _assert_weights(model, state):
    for key, value in model.state_dict().items():
        np.testing.assert_array_equal(value, state[key], err_msg=key)


# -- EarlyStopping ---------------------------------------------------------------------------------
def test_early_stopping_stops_after_patience_and_restores_the_best():
    x, y = _data()
    model = _model()
    values = [5.0, 4.0, 3.0, 3.5, 3.2, 3.1, 3.4, 0.1, 0.1, 0.1]
    snaps = _Snapshots()
    es = nb.EarlyStopping(monitor="score", patience=3)
    history = model.fit(x, y, epochs=10, callbacks=[_scripted(values), es, snaps], verbose=0)
    assert history.epoch == [0, 1, 2, 3, 4, 5]
    assert es.stopped_epoch == 5
    assert es.best_epoch == 2 and es.best == 3.0
    _assert_weights(model, snaps.states[2])


def test_early_stopping_restores_the_best_when_epochs_run_out():
    x, y = _data()
    model = _model()
    values = [3.0, 1.0, 2.0, 2.5]
    snaps = _Snapshots()
    es = nb.EarlyStopping(monitor="score", patience=10)
    history = model.fit(x, y, epochs=4, callbacks=[_scripted(values), es, snaps], verbose=0)
    assert len(history.epoch) == 4
    assert es.stopped_epoch == -1
    _assert_weights(model, snaps.states[1])
    assert not np.array_equal(
        snaps.states[1]["layers.0.weights"], snaps.states[3]["layers.0.weights"]
    )


def test_early_stopping_restores_the_best_when_another_callback_stops():
    class StopAt(nb.Callback):
        def on_epoch_end(self, epoch, logs=None):
            if epoch == 3:
                self.trainer.stop_training = True

    x, y = _data()
    model = _model()
    snaps = _Snapshots()
    es = nb.EarlyStopping(monitor="score", patience=10)
    history = model.fit(
        x, y, epochs=10, callbacks=[_scripted([3, 1, 2, 2, 2]), es, snaps, StopAt()], verbose=0
    )
    assert len(history.epoch) == 4
    _assert_weights(model, snaps.states[1])


def test_early_stopping_without_restore_keeps_the_last_weights():
    x, y = _data()
    model = _model()
    snaps = _Snapshots()
    es = nb.EarlyStopping(monitor="score", patience=1, restore_best_weights=False)
    history = model.fit(x, y, epochs=10, callbacks=[_scripted([1, 2, 3]), es, snaps], verbose=0)
    assert len(history.epoch) == 2
    _assert_weights(model, snaps.states[-1])
    assert es.best_weights is None


def test_early_stopping_min_delta_mode_and_nan():
    x, y = _data()
    es = nb.EarlyStopping(monitor="score", patience=2, min_delta=0.5)
    # 9.8 and 9.6 improve by less than min_delta: they do not count
    history = _model().fit(x, y, epochs=10, callbacks=[_scripted([10, 9.8, 9.6, 1]), es], verbose=0)
    assert len(history.epoch) == 3 and es.best == 10

    es_max = nb.EarlyStopping(monitor="val_accuracy", patience=1)
    assert es_max.mode == "max"
    history = _model().fit(
        x, y, epochs=10, callbacks=[_scripted([0.5, 0.7, 0.6], "val_accuracy"), es_max], verbose=0
    )
    assert len(history.epoch) == 3 and es_max.best == 0.7

    es_nan = nb.EarlyStopping(monitor="score", patience=1)
    history = _model().fit(
        x, y, epochs=4, callbacks=[_scripted([1.0, math.nan, 0.5, 0.4]), es_nan], verbose=0
    )
    assert len(history.epoch) == 4 and es_nan.best == 0.4


def test_early_stopping_start_from_epoch():
    x, y = _data()
    es = nb.EarlyStopping(monitor="score", patience=1, start_from_epoch=3)
    history = _model().fit(
        x, y, epochs=10, callbacks=[_scripted([1, 2, 3, 4, 5, 6]), es], verbose=0
    )
    assert len(history.epoch) == 5 and es.best_epoch == 3


def test_early_stopping_resets_between_fits():
    x, y = _data()
    model = _model()
    es = nb.EarlyStopping(monitor="score", patience=1)
    model.fit(x, y, epochs=5, callbacks=[_scripted([0.1, 0.2, 0.3]), es], verbose=0)
    assert es.best == 0.1
    history = model.fit(x, y, epochs=3, callbacks=[_scripted([5.0, 4.0, 3.0]), es], verbose=0)
    assert len(history.epoch) == 3 and es.best == 3.0


def test_early_stopping_unknown_monitor_lists_logged_keys():
    x, y = _data()
    es = nb.EarlyStopping(monitor="val_loss")
    with pytest.raises(
        nb.NablanetError, match=r"monitors 'val_loss'.*available: learning_rate, loss, mae"
    ):
        _model().fit(x, y, epochs=2, callbacks=[es], verbose=0)


def test_early_stopping_bad_arguments():
    with pytest.raises(nb.NablanetError, match="'patience' parameter of EarlyStopping"):
        nb.EarlyStopping(patience=-1)
    with pytest.raises(nb.NablanetError, match="'mode' parameter of EarlyStopping"):
        nb.EarlyStopping(mode="lowest")
    with pytest.raises(nb.NablanetError, match="'min_delta' parameter of EarlyStopping"):
        nb.EarlyStopping(min_delta=-0.1)


def test_early_stopping_on_real_validation_loss():
    x, y = _data(64)
    model = _model(lr=0.05)
    es = nb.EarlyStopping(monitor="val_loss", patience=2)
    snaps = _Snapshots()
    history = model.fit(
        x, y, epochs=40, validation_split=0.25, callbacks=[es, snaps], verbose=0, batch_size=8
    )
    best = int(np.argmin(history.history["val_loss"]))
    assert es.best_epoch == best
    _assert_weights(model, snaps.states[best])
    assert model.evaluate(x[48:], y[48:], return_dict=True)["loss"] == pytest.approx(
        history.history["val_loss"][best], rel=1e-5
    )


# -- TerminateOnNaN --------------------------------------------------------------------------------
@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_terminate_on_nan_stops_a_diverging_run_and_keeps_finite_weights():
    x, y = _data(64)
    y = y * 100
    model = _model(lr=5.0)
    starts = []
    record = nb.LambdaCallback(on_epoch_begin=lambda e, logs: starts.append(model.state_dict()))
    cb = nb.TerminateOnNaN()
    history = model.fit(x, y, epochs=50, batch_size=8, callbacks=[record, cb], verbose=0)
    assert cb.terminated_at is not None
    epoch, _ = cb.terminated_at
    assert len(history.epoch) == epoch + 1 < 50
    assert all(np.isfinite(p.value).all() for p in model.parameters())
    _assert_weights(model, starts[epoch])
    assert np.isfinite(model.predict(x)).all()


def test_terminate_on_nan_leaves_a_healthy_run_alone():
    x, y = _data()
    cb = nb.TerminateOnNaN()
    history = _model().fit(x, y, epochs=3, callbacks=[cb], verbose=0)
    assert cb.terminated_at is None and len(history.epoch) == 3


# -- ModelCheckpoint -------------------------------------------------------------------------------
def test_model_checkpoint_every_epoch(tmp_path):
    x, y = _data()
    model = _model()
    cb = nb.ModelCheckpoint(tmp_path / "m-{epoch:02d}-{loss:.3f}.npz", monitor="loss")
    model.fit(x, y, epochs=3, callbacks=[cb], verbose=0)
    files = sorted(p.name for p in tmp_path.iterdir())
    assert [f[:4] for f in files] == ["m-01", "m-02", "m-03"]
    last = nb.load_model(tmp_path / files[-1])
    np.testing.assert_array_equal(last.predict(x), model.predict(x))


def test_model_checkpoint_save_best_only(tmp_path):
    x, y = _data()
    cb = nb.ModelCheckpoint(tmp_path / "best-{epoch}.npz", monitor="score", save_best_only=True)
    _model().fit(x, y, epochs=5, callbacks=[_scripted([3, 2, 2.5, 1, 1.5]), cb], verbose=0)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["best-1.npz", "best-2.npz", "best-4.npz"]
    assert cb.best == 1

    cb = nb.ModelCheckpoint(tmp_path / "x.npz", monitor="val_acc", save_best_only=True)
    assert cb.mode == "max"
    with pytest.raises(nb.NablanetError, match=r"ModelCheckpoint monitors 'val_acc'.*available"):
        _model().fit(x, y, epochs=1, callbacks=[cb], verbose=0)
    with pytest.raises(nb.NablanetError, match="'mode' parameter of ModelCheckpoint"):
        nb.ModelCheckpoint(tmp_path / "x.npz", mode="best")


def test_model_checkpoint_full_state(tmp_path):
    x, y = _data()
    model = nb.Sequential([nb.Dense(3, 4, "relu"), nb.Dense(4, 1)])
    model.compile("mse", nb.Adam(0.01))
    cb = nb.ModelCheckpoint(tmp_path / "ckpt.npz", monitor="loss", full_state=True)
    model.fit(x, y, epochs=2, callbacks=[cb], verbose=0)
    ckpt = nb.load_checkpoint(tmp_path / "ckpt.npz")
    assert ckpt["epoch"] == 2
    assert ckpt["optimizer_state"]["iterations"] == 2
    assert "layers.0.weights.m" in ckpt["optimizer_state"]
    assert len(ckpt["history"]["loss"]) == 2
    _assert_weights(model, ckpt["weights"])


# -- LambdaCallback, the stop flag, History ---------------------------------------------------------
def test_lambda_callback_hooks_are_called_in_order():
    x, y = _data(10)
    calls = []
    cb = nb.LambdaCallback(
        on_train_begin=lambda logs: calls.append("train_begin"),
        on_epoch_begin=lambda e, logs: calls.append(f"epoch_begin {e}"),
        on_batch_end=lambda step, logs: calls.append(f"batch {step} {logs['size']}"),
        on_epoch_end=lambda e, logs: calls.append(f"epoch_end {e} {sorted(logs)}"),
        on_train_end=lambda logs: calls.append("train_end"),
    )
    _model().fit(x, y, epochs=2, batch_size=4, callbacks=[cb], verbose=0)
    keys = "['learning_rate', 'loss', 'mae']"
    assert calls == [
        "train_begin",
        "epoch_begin 0",
        "batch 0 4",
        "batch 1 4",
        "batch 2 2",
        f"epoch_end 0 {keys}",
        "epoch_begin 1",
        "batch 0 4",
        "batch 1 4",
        "batch 2 2",
        f"epoch_end 1 {keys}",
        "train_end",
    ]


def test_stop_flag_from_a_batch_ends_training():
    class StopAfterTwoBatches(nb.Callback):
        def __init__(self):
            super().__init__()
            self.batches = 0

        def on_batch_end(self, step, logs=None):
            self.batches += 1
            if self.batches == 2:
                self.trainer.stop_training = True

    x, y = _data(40)
    cb = StopAfterTwoBatches()
    model = _model()
    history = model.fit(x, y, epochs=5, batch_size=4, callbacks=[cb], verbose=0)
    assert cb.batches == 2
    assert len(history.epoch) == 1
    assert cb.model is model


def test_callbacks_must_be_callbacks():
    x, y = _data()
    with pytest.raises(
        nb.NablanetError, match="callbacks must be Callback instances, got function"
    ):
        _model().fit(x, y, callbacks=[lambda epoch, logs: None], verbose=0)


def test_history_round_trip():
    x, y = _data()
    history = _model().fit(x, y, epochs=3, validation_data=(x, y), verbose=0)
    assert history.epoch == [0, 1, 2]
    assert set(history.history) == {"loss", "mae", "val_loss", "val_mae", "learning_rate"}
    assert history["loss"] == history.history["loss"]
    data = json.loads(json.dumps(history.to_dict()))
    again = nb.History.from_dict(data)
    assert again.epoch == history.epoch and again.history == history.history
    assert "History(epochs=3" in repr(history)
    assert history.history["loss"][-1] < history.history["loss"][0]


def test_verbose_prints_one_line_per_epoch(capsys):
    x, y = _data()
    _model().fit(x, y, epochs=2, verbose=1)
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 2
    assert lines[0].startswith("Epoch 1/2") and "loss:" in lines[0]


def test_model_checkpoint_bad_file_name_template(tmp_path):
    x, y = _data()
    cb = nb.ModelCheckpoint(tmp_path / "m-{val_loss:.2f}.npz", monitor="loss")
    with pytest.raises(nb.NablanetError, match=r"cannot fill in the file name.*available: epoch"):
        _model().fit(x, y, epochs=1, callbacks=[cb], verbose=0)
    assert not list(tmp_path.iterdir())


def test_batch_logs_hold_the_outputs_before_the_step_and_the_targets():
    x = np.random.default_rng(0).standard_normal((10, 3)).astype(np.float32)
    y = np.arange(10) % 2
    model = nb.Sequential([nb.Dense(3, 2, "softmax", seed=0)])
    model.compile("categorical_crossentropy", nb.SGD(0.5))
    seen = []

    def record(step, logs):
        # what the model gave for this batch before the update, and the batch's labels
        xb = x[step * 4 : step * 4 + 4]
        seen.append(
            (logs["outputs"].copy(), logs["targets"].copy(), logs["size"], model.predict(xb))
        )

    before = model.predict(x[:4])
    model.fit(
        x,
        y,
        epochs=1,
        batch_size=4,
        shuffle=False,
        verbose=0,
        callbacks=[nb.LambdaCallback(on_batch_end=record)],
    )
    assert [s[2] for s in seen] == [4, 4, 2]
    np.testing.assert_allclose(seen[0][0], before, rtol=1e-6)
    assert not np.allclose(seen[0][0], seen[0][3])  # the step happened after the outputs
    for step, (_, targets, _, _) in enumerate(seen):
        np.testing.assert_array_equal(targets, y[step * 4 : step * 4 + 4])
