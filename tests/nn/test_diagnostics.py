"""nn.Diagnostics: the numbers against a direct computation, and each warning triggered by a
network built to show it (and by no healthy one)."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

import nablanet as nb
from nablanet.data import make_toy


def _softmax(z):
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def _tiny_problem():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(24, 3))
    y = rng.integers(0, 2, 24)
    return x, y


def test_numbers_match_a_direct_computation():
    x, y = _tiny_problem()
    model = nb.Sequential(
        [
            nb.Dense(3, 5, activation="relu", seed=1, dtype="float64"),
            nb.Dense(5, 2, activation="softmax", seed=2, dtype="float64"),
        ]
    )
    lr = 0.5
    model.compile(loss="categorical_crossentropy", optimizer=nb.SGD(lr))
    w0 = {k: v.copy() for k, v in model.state_dict().items()}
    diag = nb.Diagnostics(probe=x, n_bins=7)
    snapshots = []
    snap = nb.LambdaCallback(on_epoch_end=lambda e, logs: snapshots.append(model.state_dict()))
    # one full batch per epoch, not shuffled: epoch e's first step is its only step
    model.fit(x, y, epochs=3, batch_size=len(x), shuffle=False, verbose=0, callbacks=[diag, snap])
    d = diag.to_dict()
    assert d["epochs"] == [1, 2, 3] and d["probe_size"] == len(x)
    first, last = d["layers"]
    assert (first["name"], first["activation"], first["parameter"]) == (
        "0.dense",
        "relu",
        "weights",
    )

    # gradients of the first epoch by hand (softmax + cross-entropy: dz = (p - Y) / n)
    W1, b1, W2, b2 = (w0[f"layers.{i}.{k}"] for i in (0, 1) for k in ("weights", "biases"))
    z1 = x @ W1 + b1
    h = np.maximum(z1, 0)
    dz2 = (_softmax(h @ W2 + b2) - np.eye(2)[y]) / len(x)
    dW2 = h.T @ dz2
    dW1 = x.T @ ((dz2 @ W2.T) * (z1 > 0))
    assert first["grad_norm"][0] == pytest.approx(np.linalg.norm(dW1), rel=1e-9)
    assert last["grad_norm"][0] == pytest.approx(np.linalg.norm(dW2), rel=1e-9)
    # SGD: the update is lr * gradient
    assert first["update_ratio"][0] == pytest.approx(lr * np.linalg.norm(dW1) / np.linalg.norm(W1))
    for e, state in enumerate(snapshots):
        Wa, ba = state["layers.0.weights"], state["layers.0.biases"]
        assert first["weight_norm"][e] == pytest.approx(np.linalg.norm(Wa))
        act = np.maximum(x @ Wa + ba, 0)
        assert first["activation_mean"][e] == pytest.approx(act.mean())
        assert first["activation_std"][e] == pytest.approx(act.std())
        assert first["dead_fraction"][e] == pytest.approx(np.mean(act.max(axis=0) <= 0))
        hist = first["histograms"]["activation"]
        expect, _ = np.histogram(np.clip(act, hist["edges"][0], hist["edges"][-1]), hist["edges"])
        assert hist["counts"][e] == expect.tolist()
        out = _softmax(act @ state["layers.1.weights"] + state["layers.1.biases"])
        assert last["activation_mean"][e] == pytest.approx(out.mean())
    # the weight histogram's bins are fixed by the first epoch and count every weight
    wh = first["histograms"]["weight"]
    assert len(wh["edges"]) == 8 and all(sum(c) == W1.size for c in wh["counts"])
    assert first["saturated_fraction"] is None and last["dead_fraction"] is None
    assert diag.warnings == []


def test_every_and_the_default_probe():
    x, y = _tiny_problem()
    model = nb.Sequential([nb.Dense(3, 4, activation="tanh", seed=0), nb.Dense(4, 2, seed=1)])
    model.compile(loss="categorical_crossentropy", optimizer=nb.Adam(0.01))
    diag = nb.Diagnostics(every=2, probe_size=10)
    model.fit(x, y, epochs=5, batch_size=4, verbose=0, callbacks=[diag])
    d = diag.to_dict()
    assert d["epochs"] == [1, 3, 5] and d["probe_size"] == 10
    tanh = d["layers"][0]
    assert len(tanh["saturated_fraction"]) == 3 and tanh["dead_fraction"] is None
    assert all(len(c) == 30 for c in tanh["histograms"]["grad"]["counts"])
    json.dumps(d, allow_nan=False)


def test_auto_records_as_often_as_the_budget_allows():
    import time

    x, y = _tiny_problem()

    def run(budget, slow):
        model = nb.Sequential(
            [nb.Dense(3, 4, activation="relu"), nb.Dense(4, 2, activation="softmax")]
        )
        model.compile(loss="categorical_crossentropy", optimizer=nb.Adam(0.01))
        diag = nb.Diagnostics(every="auto", budget=budget)
        pause = nb.LambdaCallback(on_epoch_end=lambda e, logs: time.sleep(0.05 if slow else 0))
        model.fit(x, y, epochs=5, batch_size=8, verbose=0, callbacks=[diag, pause])
        return diag

    assert run(1.0, slow=True).epochs == [1, 2, 3, 4, 5]  # long epochs: each one recorded
    stingy = run(1e-9, slow=False)
    assert stingy.epochs == [1] and stingy.seconds > 0
    assert stingy.to_dict()["every"] == "auto"


def test_layers_without_parameters_and_json_file(tmp_path):
    x, y = _tiny_problem()
    model = nb.Sequential([nb.Dense(3, 4, seed=0), nb.ReLU(), nb.Dense(4, 2, activation="softmax")])
    model.compile(loss="categorical_crossentropy", optimizer=nb.Adam(0.01))
    diag = nb.Diagnostics()
    model.fit(x, y, epochs=2, batch_size=8, verbose=0, callbacks=[diag])
    path = diag.save(tmp_path / "diagnostics.json")
    d = json.loads(path.read_text())
    relu = d["layers"][1]
    assert relu["type"] == "ReLU" and relu["parameter"] is None and relu["grad_norm"] is None
    assert relu["histograms"]["weight"] is None and len(relu["dead_fraction"]) == 2
    assert d["schema"] == "nablanet.diagnostics" and d["version"] == 1


def _fit(model, x, y, epochs, optimizer, validation=None, batch_size=32):
    model.compile(loss="categorical_crossentropy", optimizer=optimizer)
    diag = nb.Diagnostics(log_warnings=False)
    model.fit(
        x, y, epochs=epochs, batch_size=batch_size, verbose=0, callbacks=[diag],
        validation_data=validation,
    )  # fmt: skip
    return {w.rule for w in diag.warnings}, diag


def _spiral():
    ds = make_toy("spiral", n_samples=300, seed=0)
    return ds.x, ds.y


def test_a_healthy_network_raises_no_warning():
    nb.set_seed(0)
    x, y = _spiral()
    val = make_toy("spiral", n_samples=150, seed=1)
    model = nb.Sequential(
        [nb.Dense(2, 32, activation="relu"), nb.Dense(32, 32, activation="relu"),
         nb.Dense(32, 3, activation="softmax")]
    )  # fmt: skip
    rules, diag = _fit(model, x, y, 30, nb.Adam(0.01), validation=(val.x, val.y))
    assert rules == set(), [str(w) for w in diag.warnings]


def test_a_deep_sigmoid_stack_has_vanishing_gradients():
    nb.set_seed(0)
    x, y = _spiral()
    layers = [nb.Dense(2, 16, activation="sigmoid", weight_initializer="xavier_normal")]
    layers += [nb.Dense(16, 16, activation="sigmoid", weight_initializer="xavier_normal")
               for _ in range(8)]  # fmt: skip
    model = nb.Sequential([*layers, nb.Dense(16, 3, activation="softmax")])
    rules, diag = _fit(model, x, y, 2, nb.SGD(0.1))
    assert "vanishing_gradients" in rules
    w = next(w for w in diag.warnings if w.rule == "vanishing_gradients")
    assert w.values["ratio"] < 1e-3 and "ReLU" in w.advice and "of the last layer" in w.message


def test_a_stack_with_large_weights_has_exploding_gradients():
    nb.set_seed(0)
    x, y = _spiral()
    init = {"name": "random_normal", "stddev": 1.0}
    layers = [nb.Dense(2, 64, weight_initializer=init)]
    layers += [nb.Dense(64, 64, weight_initializer=init) for _ in range(5)]
    model = nb.Sequential([*layers, nb.Dense(64, 3, activation="softmax", weight_initializer=init)])
    rules, _ = _fit(model, x, y, 1, nb.SGD(1e-6))
    assert "exploding_gradients" in rules
    assert "vanishing_gradients" not in rules


def test_negative_biases_kill_relus():
    nb.set_seed(0)
    x, y = _spiral()
    hidden = nb.Dense(2, 32, activation="relu")
    hidden.biases.value[...] = -10.0
    model = nb.Sequential([hidden, nb.Dense(32, 3, activation="softmax")])
    _, diag = _fit(model, x, y, 2, nb.Adam(0.001))
    w = next(w for w in diag.warnings if w.rule == "dead_relu")
    assert w.layer == "0.dense" and w.values["dead_fraction"] == 1.0
    assert "100% of its 32 ReLU units" in w.message


def test_huge_weights_saturate_sigmoids():
    nb.set_seed(0)
    x, y = _spiral()
    hidden = nb.Dense(
        2, 32, activation="sigmoid", weight_initializer={"name": "random_normal", "stddev": 30.0}
    )
    model = nb.Sequential([hidden, nb.Dense(32, 3, activation="softmax")])
    _, diag = _fit(model, x, y, 1, nb.SGD(0.01))
    w = next(w for w in diag.warnings if w.rule == "saturated_units")
    assert w.layer == "0.dense" and w.values["saturated_fraction"] >= 0.5


def test_a_huge_learning_rate_is_reported():
    nb.set_seed(0)
    x, y = _spiral()
    model = nb.Sequential(
        [nb.Dense(2, 32, activation="relu"), nb.Dense(32, 3, activation="softmax")]
    )
    _, diag = _fit(model, x, y, 8, nb.SGD(50.0))
    w = next(w for w in diag.warnings if w.rule == "learning_rate_too_high")
    assert "lower the learning rate" in w.advice


def test_memorising_noise_is_overfitting():
    nb.set_seed(0)
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(40, 2)), rng.integers(0, 3, 40)
    x_val, y_val = rng.normal(size=(40, 2)), rng.integers(0, 3, 40)
    model = nb.Sequential(
        [nb.Dense(2, 128, activation="relu"), nb.Dense(128, 128, activation="relu"),
         nb.Dense(128, 3, activation="softmax")]
    )  # fmt: skip
    rules, diag = _fit(model, x, y, 80, nb.Adam(0.01), validation=(x_val, y_val), batch_size=40)
    w = next(w for w in diag.warnings if w.rule == "overfitting")
    assert w.values["val_loss"] > w.values["best_val_loss"]
    assert "learning_rate_too_high" not in rules


def test_warnings_are_logged_once(caplog):
    nb.set_seed(0)
    x, y = _spiral()
    hidden = nb.Dense(2, 8, activation="relu")
    hidden.biases.value[...] = -10.0
    model = nb.Sequential([hidden, nb.Dense(8, 3, activation="softmax")])
    model.compile(loss="categorical_crossentropy", optimizer=nb.SGD(0.01))
    with caplog.at_level("WARNING", logger="nablanet"):
        model.fit(x, y, epochs=3, verbose=0, callbacks=[nb.Diagnostics()])
    lines = [r.getMessage() for r in caplog.records if "dead_relu" in r.getMessage()]
    assert len(lines) == 1 and "Try:" in lines[0]


def test_resuming_continues_the_record(tmp_path):
    x, y = _tiny_problem()

    def model():
        nb.set_seed(3)
        m = nb.Sequential([nb.Dense(3, 4, activation="relu"), nb.Dense(4, 2, activation="softmax")])
        m.compile(loss="categorical_crossentropy", optimizer=nb.Adam(0.01))
        return m

    full = nb.Diagnostics()
    nb.Trainer(model(), batch_size=8, verbose=0, seed=0, callbacks=[full]).fit(x, y, epochs=4)
    first = nb.Diagnostics()
    trainer = nb.Trainer(model(), batch_size=8, verbose=0, seed=0, callbacks=[first])
    trainer.fit(x, y, epochs=2)
    path = trainer.save_checkpoint(tmp_path / "ckpt.npz")
    second = nb.Diagnostics()
    nb.Trainer(model(), batch_size=8, verbose=0, seed=0, callbacks=[second]).fit(
        x, y, epochs=4, resume_from=path
    )
    a, b = full.to_dict(), second.to_dict()
    assert b["epochs"] == [1, 2, 3, 4]
    assert a["layers"][0]["grad_norm"] == pytest.approx(b["layers"][0]["grad_norm"])


def test_bad_arguments():
    with pytest.raises(nb.NablanetError, match="'every' parameter of Diagnostics"):
        nb.Diagnostics(every=0)
    assert math.isclose(nb.DiagnosticThresholds().vanishing_ratio, 1e-3)
