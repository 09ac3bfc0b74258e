"""Learning-rate schedulers: formulas, binding, config, errors and use in training."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

import nablanet as nb
from nablanet.nn import schedulers


def test_step_decay_formula():
    s = nb.StepDecay(step_size=3, gamma=0.5, initial_learning_rate=0.8)
    assert [s(e) for e in range(8)] == pytest.approx(
        [0.8 * 0.5 ** (e // 3) for e in range(8)], rel=1e-15
    )
    assert s(0) == 0.8 and s(3) == 0.4 and s(6) == 0.2


def test_exponential_decay_formula():
    s = nb.ExponentialDecay(gamma=0.9, initial_learning_rate=0.1)
    assert [s(e) for e in range(6)] == pytest.approx([0.1 * 0.9**e for e in range(6)], rel=1e-15)
    assert nb.ExponentialDecay(gamma=1.0, initial_learning_rate=0.3)(50) == 0.3


def test_cosine_annealing_formula():
    s = nb.CosineAnnealing(t_max=10, min_learning_rate=0.01, initial_learning_rate=0.1)
    expected = [0.01 + 0.09 * (1 + math.cos(math.pi * e / 10)) / 2 for e in range(11)]
    assert [s(e) for e in range(11)] == pytest.approx(expected, rel=1e-14)
    assert s(0) == pytest.approx(0.1)
    assert s(5) == pytest.approx(0.055)
    assert s(10) == pytest.approx(0.01)
    assert s(25) == pytest.approx(0.01)  # held at the minimum after t_max


def test_cosine_annealing_with_warmup():
    s = nb.CosineAnnealing(t_max=8, warmup_epochs=3, initial_learning_rate=1.0)
    assert [s(e) for e in range(3)] == pytest.approx([0.25, 0.5, 0.75])
    # then a cosine over the remaining t_max - warmup = 5 epochs
    assert [s(e) for e in range(3, 9)] == pytest.approx(
        [(1 + math.cos(math.pi * k / 5)) / 2 for k in range(6)]
    )


def test_bind_takes_the_optimizer_rate_only_when_none_given():
    s = nb.StepDecay(step_size=1, gamma=0.5)
    with pytest.raises(nb.NablanetError, match="StepDecay has no initial_learning_rate"):
        s(0)
    s.bind(0.2)
    assert s(1) == pytest.approx(0.1)
    s.bind(5.0)
    assert s(0) == pytest.approx(0.2)
    t = nb.ExponentialDecay(0.5, initial_learning_rate=1.0)
    t.bind(0.01)
    assert t(0) == 1.0


def test_inverse_time_decay_formula():
    s = nb.InverseTimeDecay(decay=1e-3, initial_learning_rate=0.05)
    # the book's (and legacy Keras') expression, bit for bit
    assert [s(t) for t in range(2000)] == [0.05 * (1.0 / (1.0 + 1e-3 * t)) for t in range(2000)]
    assert s.per_step and not nb.StepDecay().per_step
    assert nb.InverseTimeDecay(decay=0.0, initial_learning_rate=0.3)(10**6) == 0.3


EXAMPLES = {
    "StepDecay": {"step_size": 4, "gamma": 0.3, "initial_learning_rate": 0.02},
    "ExponentialDecay": {"gamma": 0.9, "initial_learning_rate": None},
    "CosineAnnealing": {
        "t_max": 20,
        "min_learning_rate": 1e-4,
        "warmup_epochs": 2,
        "initial_learning_rate": 0.5,
    },
    "InverseTimeDecay": {"decay": 0.01, "per_step": False, "initial_learning_rate": 0.1},
}


@pytest.mark.parametrize("name", sorted(schedulers.SCHEDULERS))
def test_config_round_trip(name):
    cls = schedulers.SCHEDULERS[name]
    assert isinstance(schedulers.get(name), cls)
    assert cls.__name__ in EXAMPLES, (
        f"scheduler {cls.__name__} has no example config in tests/nn/test_schedulers.py"
    )
    for sched in (cls(), cls(**EXAMPLES[cls.__name__])):
        config = sched.get_config()
        assert json.loads(json.dumps(config)) == config
        again = cls.from_config(json.loads(json.dumps(config)))
        assert again.get_config() == config
        if config["initial_learning_rate"] is not None:
            assert [again(e) for e in range(12)] == [sched(e) for e in range(12)]
    assert cls(**EXAMPLES[cls.__name__]).get_config() == EXAMPLES[cls.__name__]


def test_get():
    s = schedulers.get("cosine", t_max=5)
    assert isinstance(s, nb.CosineAnnealing) and s.t_max == 5
    assert schedulers.get(s) is s
    with pytest.raises(nb.NablanetError, match=r"Unknown scheduler 'linear'.*cosine"):
        schedulers.get("linear")


@pytest.mark.parametrize(
    ("make", "match"),
    [
        (lambda: nb.StepDecay(step_size=0), r"'step_size' parameter of StepDecay"),
        (lambda: nb.StepDecay(gamma=-1), r"'gamma' parameter of StepDecay"),
        (lambda: nb.ExponentialDecay(gamma=1.5), r"'gamma' parameter of ExponentialDecay"),
        (lambda: nb.ExponentialDecay(gamma=0.0), r"'gamma' parameter of ExponentialDecay"),
        (lambda: nb.CosineAnnealing(t_max=0), r"'t_max' parameter of CosineAnnealing"),
        (lambda: nb.CosineAnnealing(t_max=5, warmup_epochs=5), r"'warmup_epochs'"),
        (lambda: nb.CosineAnnealing(min_learning_rate=-1), r"'min_learning_rate'"),
        (lambda: nb.StepDecay(initial_learning_rate=0), r"'initial_learning_rate'"),
        (lambda: nb.InverseTimeDecay(decay=-1), r"'decay' parameter of InverseTimeDecay"),
        (lambda: nb.InverseTimeDecay(per_step=1), r"'per_step' parameter of InverseTimeDecay"),
    ],
)
def test_bad_arguments(make, match):
    with pytest.raises(nb.NablanetError, match=match):
        make()


def test_trainer_sets_and_records_the_rate_each_epoch():
    x = np.random.default_rng(0).standard_normal((20, 2)).astype(np.float32)
    y = x.sum(axis=1, keepdims=True)
    model = nb.Sequential([nb.Dense(2, 1)])
    model.compile("mse", nb.SGD(0.1))
    seen = []
    record = nb.LambdaCallback(
        on_epoch_begin=lambda epoch, logs: seen.append(model.optimizer.learning_rate)
    )
    sched = nb.StepDecay(step_size=2, gamma=0.5)
    history = model.fit(x, y, epochs=5, scheduler=sched, callbacks=[record], verbose=0)
    expected = [0.1, 0.1, 0.05, 0.05, 0.025]
    assert history.history["learning_rate"] == pytest.approx(expected)
    assert seen == pytest.approx(expected)
    assert sched.initial_learning_rate == 0.1


def _regression(n=20):
    x = np.random.default_rng(0).standard_normal((n, 2)).astype(np.float32)
    return x, x.sum(axis=1, keepdims=True)


def test_trainer_sets_a_per_step_rate_before_every_step():
    x, y = _regression()
    model = nb.Sequential([nb.Dense(2, 1, seed=0)])
    model.compile("mse", nb.SGD(0.1))
    seen = []
    record = nb.LambdaCallback(
        on_batch_end=lambda step, logs: seen.append(model.optimizer.learning_rate)
    )
    sched = nb.InverseTimeDecay(decay=0.5)
    history = model.fit(
        x, y, epochs=3, batch_size=8, scheduler=sched, callbacks=[record], verbose=0
    )
    # 3 batches per epoch; the rate of step t (0-based, over all epochs) is 0.1 / (1 + 0.5 t)
    assert seen == [0.1 * (1.0 / (1.0 + 0.5 * t)) for t in range(9)]
    assert history.history["learning_rate"] == [seen[2], seen[5], seen[8]]


def test_per_step_decay_is_adagrads_lr_decay():
    """torch's Adagrad(lr_decay=d) has the same per-step rate, inside the optimizer."""
    x, y = _regression(32)
    weights = []
    for opt, sched in (
        (nb.Adagrad(0.5, lr_decay=0.2), None),
        (nb.Adagrad(0.5), nb.InverseTimeDecay(decay=0.2)),
    ):
        model = nb.Sequential([nb.Dense(2, 3, "relu", seed=1), nb.Dense(3, 1, seed=2)])
        model.compile("mse", opt)
        model.fit(x, y, epochs=4, batch_size=8, shuffle=False, scheduler=sched, verbose=0)
        weights.append(model.state_dict())
    for key, value in weights[0].items():
        np.testing.assert_allclose(weights[1][key], value, rtol=1e-6, atol=1e-7, err_msg=key)


def test_per_step_schedule_resumes_exactly(tmp_path):
    x, y = _regression(24)

    def model():
        m = nb.Sequential([nb.Dense(2, 4, "relu", seed=3), nb.Dense(4, 1, seed=4)])
        m.compile("mse", nb.SGD(0.2, momentum=0.5, momentum_form="keras"))
        return m

    straight = model()
    nb.Trainer(straight, 8, False, scheduler=nb.InverseTimeDecay(0.3), verbose=0).fit(
        x, y, epochs=4
    )
    first = model()
    trainer = nb.Trainer(first, 8, False, scheduler=nb.InverseTimeDecay(0.3), verbose=0)
    trainer.fit(x, y, epochs=2)
    path = trainer.save_checkpoint(tmp_path / "ckpt.npz")
    resumed = model()
    again = nb.Trainer(resumed, 8, False, scheduler=nb.InverseTimeDecay(0.3), verbose=0)
    again.fit(x, y, epochs=4, resume_from=path)
    assert resumed.optimizer.iterations == straight.optimizer.iterations == 12
    assert resumed.optimizer.learning_rate == straight.optimizer.learning_rate
    for key, value in straight.state_dict().items():
        np.testing.assert_array_equal(resumed.state_dict()[key], value, err_msg=key)
