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


EXAMPLES = {
    "StepDecay": {"step_size": 4, "gamma": 0.3, "initial_learning_rate": 0.02},
    "ExponentialDecay": {"gamma": 0.9, "initial_learning_rate": None},
    "CosineAnnealing": {
        "t_max": 20,
        "min_learning_rate": 1e-4,
        "warmup_epochs": 2,
        "initial_learning_rate": 0.5,
    },
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
