"""dtypes: a float32 model stays float32 everywhere during fit; float64 on request; seeds."""

from __future__ import annotations

import numpy as np
import pytest

import nablanet as nb


class _DtypeSpy:
    """Wraps every layer's forward/backward (and the loss) to record the dtypes of all arrays."""

    def __init__(self, model):
        self.seen: dict[str, set] = {}
        for i, layer in enumerate(model.layers):
            for method in ("forward", "backward", "forward_linear", "backward_linear"):
                if hasattr(layer, method):
                    self._wrap(layer, method, f"layers.{i}.{method}")
        owners = {id(o): o for o in (model.loss, model.plan.output.loss)}  # the loss, the fused one
        for owner in owners.values():
            for method in ("loss_and_gradient", "loss_gradient_output"):
                if hasattr(owner, method):
                    self._wrap(owner, method, f"{type(owner).__name__}.{method}", args=False)

    def _record(self, where, value):
        if isinstance(value, np.ndarray):
            self.seen.setdefault(where, set()).add(value.dtype)
        elif isinstance(value, tuple):
            for v in value:
                self._record(where, v)

    def _wrap(self, obj, method, where, args=True):
        original = getattr(obj, method)

        def spy(*a, **kw):
            if args and a:
                self._record(where + " input", a[0])
            if not args:  # the loss: targets by keyword (the plan calls it so) or first
                targets = kw["y_true"] if "y_true" in kw else a[0]
                if targets.dtype.kind == "f":  # float targets reach the loss in our dtype
                    self._record(where + " targets", targets)
                for name, value in kw.items():
                    if name != "y_true":
                        self._record(where + " input", value)
            out = original(*a, **kw)
            self._record(where + " output", out)
            return out

        setattr(obj, method, spy)

    def dtypes(self):
        return {dt for dts in self.seen.values() for dt in dts}


def _check_state(model, dtype):
    for name, p in model.named_parameters().items():
        assert p.value.dtype == dtype, name
        assert p.grad.dtype == dtype, name
    for key, value in model.optimizer.state_dict().items():
        if isinstance(value, np.ndarray):
            assert value.dtype == dtype, key
    for slot in model.optimizer._state:  # including the scratch buffers
        for key, value in slot.items():
            assert value.dtype == dtype, key


def _data(kind, n=24, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, 5))  # float64 input on purpose
    labels = rng.integers(0, 3, n)
    if kind == "labels":
        return x, labels
    if kind == "onehot":
        return x, np.eye(3)[labels]  # float64 one-hot
    if kind == "binary_int":
        return x, labels % 2
    return x, rng.standard_normal((n, 2))  # float64 regression targets


def _model(kind, dtype, optimizer):
    common = {"dtype": dtype, "weight_regularizer": nb.L1L2(1e-3, 1e-3)}
    layers = [
        nb.Dense(5, 8, "relu", **common),
        nb.Dropout(0.25),
        nb.Dense(8, 6, "leaky_relu", **common),
    ]
    if kind in ("labels", "onehot"):
        layers.append(nb.Dense(6, 3, "softmax", dtype=dtype))
        loss = "categorical_crossentropy"
    elif kind == "binary_int":
        layers += [nb.Dense(6, 1, dtype=dtype), nb.Sigmoid()]
        loss = "binary_crossentropy"
    else:
        layers += [nb.Dense(6, 2, "tanh", dtype=dtype)]
        loss = "mse"
    model = nb.Sequential(layers)
    model.compile(loss, optimizer)
    return model


OPTIMIZERS = {
    "sgd": lambda: nb.SGD(0.01, momentum=0.9, nesterov=True),
    "adam": lambda: nb.Adam(),
    "rmsprop": lambda: nb.RMSprop(momentum=0.5),
    "adagrad": lambda: nb.Adagrad(lr_decay=0.1),
}


@pytest.mark.parametrize("optimizer", sorted(OPTIMIZERS))
@pytest.mark.parametrize("kind", ["labels", "onehot", "binary_int", "regression"])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_every_array_keeps_the_model_dtype_during_fit(kind, dtype, optimizer):
    x, y = _data(kind)
    model = _model(kind, dtype, OPTIMIZERS[optimizer]())
    spy = _DtypeSpy(model)
    checks = []
    check = nb.LambdaCallback(
        on_batch_end=lambda step, logs: checks.append(_check_state(model, dtype))
    )
    scheduler = nb.ExponentialDecay(0.9)
    model.fit(
        x,
        y,
        epochs=2,
        batch_size=8,
        validation_data=(x, y),
        callbacks=[check],
        scheduler=scheduler,
        verbose=0,
    )
    assert len(checks) == 6
    assert spy.seen, "the spy saw nothing"
    assert spy.dtypes() == {np.dtype(dtype)}, spy.seen
    _check_state(model, dtype)
    assert model.predict(x).dtype == dtype
    assert all(isinstance(v, float) for v in model.evaluate(x, y, return_dict=True).values())


def test_float32_is_the_default():
    model = nb.Sequential([nb.Dense(3, 2), nb.Neuron(2)])
    assert model.dtype == np.float32
    assert all(p.dtype == np.float32 for p in model.parameters())
    assert model.predict(np.ones((2, 3), dtype=np.float64)).dtype == np.float32
    assert model.predict(np.ones((2, 3), dtype=np.int64)).dtype == np.float32


def test_neuron_model_keeps_float32():
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((16, 3)), rng.integers(0, 2, 16)
    model = nb.Sequential([nb.Neuron(3, "sigmoid")])
    model.compile("binary_crossentropy", nb.Adam())
    spy = _DtypeSpy(model)
    model.fit(x, y, epochs=2, batch_size=4, verbose=0)
    assert spy.dtypes() == {np.dtype(np.float32)}
    _check_state(model, np.float32)


def _run(seed):
    nb.set_seed(seed)
    x, y = _data("labels", n=40, seed=1)
    model = _model("labels", "float32", nb.Adam(0.01))
    history = model.fit(x, y, epochs=3, batch_size=8, validation_split=0.25, verbose=0)
    return model.state_dict(), history.history


def test_one_seed_reproduces_a_run_bit_for_bit():
    state_a, hist_a = _run(123)
    state_b, hist_b = _run(123)
    assert hist_a == hist_b
    for key in state_a:
        np.testing.assert_array_equal(state_a[key], state_b[key])
    state_c, hist_c = _run(124)
    assert hist_c != hist_a
    assert not np.array_equal(state_a["layers.0.weights"], state_c["layers.0.weights"])


def test_trainer_seed_fixes_the_shuffle():
    x, y = _data("labels", n=40, seed=1)

    def run(init_seed, shuffle_seed):
        nb.set_seed(init_seed)
        model = _model("labels", "float32", nb.SGD(0.05))
        model.layers[1].rate = 0.0  # no dropout: only the shuffle is random
        model.fit(x, y, epochs=2, batch_size=8, verbose=0, seed=shuffle_seed)
        return model.state_dict()["layers.0.weights"]

    np.testing.assert_array_equal(run(0, 7), run(0, 7))
    assert not np.array_equal(run(0, 7), run(0, 8))


def test_shuffled_batches_follow_one_permutation_per_epoch(tmp_path):
    """fit() gathers batch i of an epoch as x[perm[i*b:(i+1)*b]]: the batches a hand-written loop
    over the same permutation sees (last batch short), from an array or a memory-mapped file."""
    x, y = _data("labels", n=42, seed=1)
    x = x.astype(np.float32)
    seen = []

    class Spy(nb.Callback):
        def on_batch_end(self, step, logs=None):
            seen.append(self.trainer.model.layers[0]._x.copy())

    def run(data):
        seen.clear()
        nb.set_seed(0)
        model = _model("labels", "float32", nb.SGD(0.05))
        model.layers[1].rate = 0.0
        model.fit(data, y, epochs=2, batch_size=8, verbose=0, seed=5, callbacks=[Spy()])
        return model.state_dict(), list(seen)

    state, batches = run(x)
    rng = np.random.default_rng(5)  # the trainer's generator for seed=5
    expected = []
    for _ in range(2):
        perm = rng.permutation(len(x))
        expected += [x[perm[i : i + 8]] for i in range(0, len(x), 8)]
    assert [b.shape[0] for b in batches] == [8, 8, 8, 8, 8, 2] * 2
    for got, want in zip(batches, expected, strict=True):
        np.testing.assert_array_equal(got, want)

    np.save(tmp_path / "x.npy", x)
    mapped = np.load(tmp_path / "x.npy", mmap_mode="r")
    state_mm, _ = run(mapped)
    for key in state:
        np.testing.assert_array_equal(state[key], state_mm[key])
