"""End to end: small problems are learned; early stopping, NaN termination and exact resume."""

from __future__ import annotations

import numpy as np
import pytest

import nablanet as nb


def _spiral(n_per_class=100, n_classes=3, seed=0):
    """The classic 2-D spiral (cs231n): ``n_classes`` interleaved arms."""
    rng = np.random.default_rng(seed)
    x = np.zeros((n_per_class * n_classes, 2), np.float32)
    y = np.zeros(n_per_class * n_classes, int)
    for k in range(n_classes):
        r = np.linspace(0.0, 1.0, n_per_class)
        t = np.linspace(4 * k, 4 * (k + 1), n_per_class) + rng.standard_normal(n_per_class) * 0.2
        rows = slice(k * n_per_class, (k + 1) * n_per_class)
        x[rows] = np.c_[r * np.sin(t), r * np.cos(t)]
        y[rows] = k
    return x, y


def test_xor_is_learned_exactly():
    x = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float32)
    y = np.array([0, 1, 1, 0])
    model = nb.Sequential([nb.Dense(2, 8, "tanh"), nb.Dense(8, 1, "sigmoid")])
    model.compile("binary_crossentropy", nb.Adam(0.05))
    history = model.fit(x, y, epochs=300, batch_size=4, verbose=0)
    assert (model.predict(x)[:, 0] > 0.5).astype(int).tolist() == [0, 1, 1, 0]
    assert model.evaluate(x, y, return_dict=True)["accuracy"] == 1.0
    assert history.history["loss"][-1] < 0.1


def test_spiral_three_classes():
    x, y = _spiral()
    model = nb.Sequential(
        [nb.Dense(2, 64, "relu"), nb.Dense(64, 64, "relu"), nb.Dense(64, 3, "softmax")]
    )
    model.compile("categorical_crossentropy", nb.Adam(0.01))
    model.fit(x, y, epochs=150, batch_size=32, verbose=0)
    assert model.evaluate(x, y, return_dict=True)["accuracy"] >= 0.95


def test_sine_regression():
    x = np.linspace(-np.pi, np.pi, 256, dtype=np.float32)[:, None]
    y = np.sin(x)
    model = nb.Sequential([nb.Dense(1, 32, "tanh"), nb.Dense(32, 32, "tanh"), nb.Dense(32, 1)])
    model.compile("mse", nb.Adam(0.01))
    model.fit(x, y, epochs=100, batch_size=32, verbose=0)
    assert model.evaluate(x, y, return_dict=True)["loss"] < 0.01
    assert np.mean((model.predict(x) - y) ** 2) < 0.01


class _Snapshots(nb.Callback):
    def __init__(self):
        super().__init__()
        self.states = []

    def on_epoch_end(self, epoch, logs=None):
        self.states.append(self.model.state_dict())


def _assert_same_state(a: dict, b: dict):
    assert a.keys() == b.keys()
    for key in a:
        np.testing.assert_array_equal(a[key], b[key], err_msg=key)


def test_early_stopping_on_an_overfitting_model():
    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, (40, 1)).astype(np.float32)
    y = (x + rng.normal(0, 0.3, x.shape)).astype(np.float32)  # mostly noise
    x_val = rng.uniform(-1, 1, (40, 1)).astype(np.float32)
    y_val = (x_val + rng.normal(0, 0.3, x_val.shape)).astype(np.float32)
    model = nb.Sequential([nb.Dense(1, 128, "tanh"), nb.Dense(128, 128, "tanh"), nb.Dense(128, 1)])
    model.compile("mse", nb.Adam(0.01))
    es = nb.EarlyStopping(patience=10)
    snaps = _Snapshots()
    history = model.fit(
        x,
        y,
        epochs=500,
        batch_size=8,
        validation_data=(x_val, y_val),
        callbacks=[es, snaps],
        verbose=0,
    )
    n_epochs = len(history.epoch)
    assert n_epochs < 500, "early stopping never stopped"
    best = int(np.argmin(history.history["val_loss"]))
    assert es.best_epoch == best and es.stopped_epoch == n_epochs - 1 == best + 10
    _assert_same_state(model.state_dict(), snaps.states[best])
    assert model.evaluate(x_val, y_val, return_dict=True)["loss"] == pytest.approx(
        min(history.history["val_loss"]), rel=1e-6
    )


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_terminate_on_nan_with_a_diverging_learning_rate():
    x, y = _spiral(30)
    model = nb.Sequential([nb.Dense(2, 32, "relu"), nb.Dense(32, 32, "relu"), nb.Dense(32, 3)])
    model.compile("mse", nb.SGD(50.0, momentum=0.9))
    cb = nb.TerminateOnNaN()
    history = model.fit(x, np.eye(3)[y] * 1e3, epochs=100, batch_size=10, callbacks=[cb], verbose=0)
    assert cb.terminated_at is not None
    assert len(history.epoch) < 100
    assert all(np.isfinite(p.value).all() for p in model.parameters())
    assert np.isfinite(model.predict(x)).all()


# -- exact resume ----------------------------------------------------------------------------------
def _resume_data():
    rng = np.random.default_rng(0)
    x, y = _spiral(20)
    order = rng.permutation(len(x))
    return x[order], y[order]


def _build():
    model = nb.Sequential(
        [
            nb.Dense(2, 32, "relu", weight_regularizer=nb.L2(1e-4)),
            nb.Dropout(0.2),
            nb.Dense(32, 16, "tanh"),
            nb.Dropout(0.1),
            nb.Dense(16, 3, "softmax"),
        ]
    )
    model.compile("categorical_crossentropy", nb.Adam(0.02))
    return model


def _trainer(model, extra=()):
    return nb.Trainer(
        model,
        batch_size=8,
        shuffle=True,
        callbacks=[nb.EarlyStopping(patience=20), *extra],
        scheduler=nb.CosineAnnealing(t_max=6, warmup_epochs=1),
        verbose=0,
    )


def _fit(trainer, epochs, **kw):
    x, y = _resume_data()
    return trainer.fit(x, y, epochs=epochs, validation_split=0.25, **kw)


def _straight_run():
    nb.set_seed(42)
    model = _build()
    trainer = _trainer(model)
    history = _fit(trainer, 6)
    return model, history


def test_resume_from_save_checkpoint_is_bit_identical(tmp_path):
    model_a, history_a = _straight_run()

    nb.set_seed(42)
    model_b = _build()
    trainer_b = _trainer(model_b)
    _fit(trainer_b, 3)
    path = trainer_b.save_checkpoint(tmp_path / "ckpt.npz")

    nb.set_seed(7)  # a new process: other initial weights, other generators
    model_c = _build()
    trainer_c = _trainer(model_c)
    history_c = _fit(trainer_c, 6, resume_from=path)

    assert history_c.epoch == history_a.epoch == list(range(6))
    assert history_c.history == history_a.history
    _assert_same_state(model_c.state_dict(), model_a.state_dict())
    assert trainer_c.callbacks[0].best_epoch == int(np.argmin(history_a.history["val_loss"]))


def test_resume_from_a_model_checkpoint_written_during_training(tmp_path):
    """A run that "crashed" after epoch 3 resumes from the file its ModelCheckpoint wrote."""
    model_a, history_a = _straight_run()

    nb.set_seed(42)
    model_b = _build()
    ckpt = nb.ModelCheckpoint(tmp_path / "ckpt-{epoch}.npz", monitor="val_loss", full_state=True)
    _fit(_trainer(model_b, [ckpt]), 6)
    assert (tmp_path / "ckpt-3.npz").exists()

    nb.set_seed(9)
    model_c = _build()
    ckpt_c = nb.ModelCheckpoint(tmp_path / "again-{epoch}.npz", monitor="val_loss", full_state=True)
    history_c = model_c.fit(
        *_resume_data(),
        epochs=6,
        batch_size=8,
        validation_split=0.25,
        callbacks=[nb.EarlyStopping(patience=20), ckpt_c],
        scheduler=nb.CosineAnnealing(t_max=6, warmup_epochs=1),
        verbose=0,
        resume_from=tmp_path / "ckpt-3.npz",
    )
    assert history_c.history == history_a.history
    _assert_same_state(model_c.state_dict(), model_a.state_dict())
    assert sorted(p.name for p in tmp_path.glob("again-*")) == [
        "again-4.npz",
        "again-5.npz",
        "again-6.npz",
    ]


def test_resume_after_early_stopping_restored_older_weights(tmp_path):
    """fit() ends with the best weights put back; a checkpoint saved then resumes from the last."""
    x, y = _resume_data()

    def trainer(model):
        # epoch 1 is the best, so fit(epochs=3) ends with epoch 1's weights put back
        scores = [1.0, 0.0, 2.0, 3.0]
        scripted = nb.LambdaCallback(on_epoch_end=lambda e, logs: logs.update(score=scores[e]))
        es = nb.EarlyStopping(monitor="score", patience=10)
        return nb.Trainer(model, batch_size=8, callbacks=[scripted, es], verbose=0)

    nb.set_seed(1)
    history_a = trainer(_build()).fit(x, y, epochs=4)
    nb.set_seed(1)
    snaps = _Snapshots()
    trainer_b = trainer(_build())
    trainer_b.callbacks.append(snaps)
    trainer_b.fit(x, y, epochs=3)
    _assert_same_state(trainer_b.model.state_dict(), snaps.states[1])  # the best, put back
    path = trainer_b.save_checkpoint(tmp_path / "ckpt.npz")
    _assert_same_state(nb.load_checkpoint(path)["weights"], snaps.states[2])  # the last epoch
    nb.set_seed(2)
    history_c = trainer(_build()).fit(x, y, epochs=4, resume_from=path)
    assert history_c.history == history_a.history


def test_resume_into_a_different_architecture_is_refused(tmp_path):
    nb.set_seed(42)
    trainer = _trainer(_build())
    _fit(trainer, 1)
    path = trainer.save_checkpoint(tmp_path / "ckpt.npz")
    other = nb.Sequential([nb.Dense(2, 8, "relu"), nb.Dense(8, 3, "softmax")])
    other.compile("categorical_crossentropy", nb.Adam())
    with pytest.raises(nb.ModelFileError, match=r"ckpt.npz: checkpoint does not fit this model"):
        _fit(_trainer(other), 2, resume_from=path)


def test_a_fit_after_a_resumed_fit_starts_afresh(tmp_path):
    nb.set_seed(42)
    trainer = _trainer(_build())
    _fit(trainer, 2)
    path = trainer.save_checkpoint(tmp_path / "ckpt.npz")
    es = nb.EarlyStopping(patience=20)
    resumed = nb.Trainer(_build(), batch_size=8, callbacks=[es], verbose=0)
    _fit(resumed, 3, resume_from=path)
    assert resumed.resuming is False
    x, y = _resume_data()
    history = resumed.fit(x * 0 + 100.0, y, epochs=1, validation_split=0.25)
    assert es.best == history.history["val_loss"][-1]  # not the best of the earlier run
