"""Optimizers: golden trajectories, state round trips, flat and separate parameters, config, errors.

The golden numbers below were computed once, by hand-written scalar formulas (plain Python floats,
one line per update rule as written in the torch.optim documentation), for 3 steps on the
parameter ``w = [1, -2]`` of ``f(w) = (w0^2 + 3 w1^2) / 2``, i.e. gradient ``g = [w0, 3 w1]``.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

import nablanet as nb
from nablanet.nn import optimizers
from nablanet.nn.parameter import Parameter, flat_buffers, flatten_parameters

SCALE = np.array([1.0, 3.0])

CONFIGS = {
    "sgd": lambda: nb.SGD(0.1),
    "sgd_momentum": lambda: nb.SGD(0.1, momentum=0.9),
    "sgd_nesterov": lambda: nb.SGD(0.1, momentum=0.9, nesterov=True),
    # the Keras (and Neural Networks from Scratch) form: the same steps at a constant rate
    "sgd_keras_momentum": lambda: nb.SGD(0.1, momentum=0.9, momentum_form="keras"),
    "sgd_keras_nesterov": lambda: nb.SGD(0.1, momentum=0.9, nesterov=True, momentum_form="keras"),
    "adam": lambda: nb.Adam(0.1),
    "adam_betas": lambda: nb.Adam(0.05, beta_1=0.5, beta_2=0.9, epsilon=1e-3),
    "rmsprop": lambda: nb.RMSprop(0.01, rho=0.9),
    "rmsprop_momentum": lambda: nb.RMSprop(0.01, rho=0.9, momentum=0.5),
    "adagrad": lambda: nb.Adagrad(0.1),
    "adagrad_decay": lambda: nb.Adagrad(0.1, lr_decay=0.5, initial_accumulator_value=0.1),
}

GOLDEN = {
    "sgd": [[0.9, -1.4], [0.81, -0.98], [0.7290000000000001, -0.6859999999999999]],
    "sgd_momentum": [[0.9, -1.4], [0.72, -0.43999999999999995], [0.486, 0.5560000000000002]],
    "sgd_nesterov": [
        [0.81, -0.8599999999999999],
        [0.5751000000000001, 0.11620000000000019],
        [0.32732100000000003, 0.6963460000000001],
    ],
    "adam": [
        [0.900000001, -1.9000000001666666],
        [0.8004122297123382, -1.800166485947237],
        [0.701586274504415, -1.7006233917912488],
    ],
    "adam_betas": [
        [0.9500499500499501, -1.950008331944676],
        [0.9004771108193002, -1.9001984752991143],
        [0.8515152817449071, -1.8506770934542403],
    ],
    "rmsprop": [
        [0.9683772243983162, -1.9683772235649828],
        [0.9457880262458569, -1.9456096369253224],
        [0.9270530996585012, -1.9266336822111414],
    ],
    "rmsprop_momentum": [
        [0.9683772243983162, -1.9683772235649828],
        [0.929976638445015, -1.9297982487078138],
        [0.8922464861088882, -1.8916319228962197],
    ],
    "adagrad": [
        [0.90000000001, -1.9000000000016666],
        [0.8331035268523168, -1.8311250538109978],
        [0.7804561813655163, -1.775821515011569],
    ],
    "adagrad_decay": [
        [0.9046537410845317, -1.9001386002068712],
        [0.8611104025872476, -1.854253691914191],
        [0.8347109204056948, -1.8263755603500456],
    ],
}


GOLDEN["sgd_keras_momentum"] = GOLDEN["sgd_momentum"]
GOLDEN["sgd_keras_nesterov"] = GOLDEN["sgd_nesterov"]


def _params(flat: bool, dtype=np.float64) -> list[Parameter]:
    """The parameter under test ``w`` plus a second one; ``flat`` puts both in one buffer."""
    w = Parameter(np.array([1.0, -2.0], dtype=dtype), "w")
    other = Parameter(np.array([[0.5, 0.25, -1.0]], dtype=dtype), "other")
    params = [w, other]
    if flat:
        flatten_parameters(params)
        assert flat_buffers(params) is not None
    else:
        assert flat_buffers(params) is None
    return params


def _run(opt, params, steps):
    w, other = params
    out = []
    for _ in range(steps):
        opt.zero_grad()
        w.grad += w.value * SCALE.astype(w.dtype)
        other.grad += other.value
        opt.step()
        out.append(w.value.copy())
    return np.array(out)


@pytest.mark.parametrize("flat", [False, True], ids=["separate", "flat"])
@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_golden_trajectory_float64(name, flat):
    opt = CONFIGS[name]()
    params = _params(flat)
    opt.build(params)
    np.testing.assert_allclose(_run(opt, params, 3), GOLDEN[name], rtol=1e-12, atol=1e-14)
    assert opt.iterations == 3


@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_golden_trajectory_float32(name):
    opt = CONFIGS[name]()
    params = _params(True, np.float32)
    opt.build(params)
    traj = _run(opt, params, 3)
    assert traj.dtype == np.float32
    np.testing.assert_allclose(traj, GOLDEN[name], rtol=2e-6, atol=1e-6)
    for key, value in opt.state_dict().items():
        if isinstance(value, np.ndarray):
            assert value.dtype == np.float32, key


def test_golden_table_is_complete():
    assert set(GOLDEN) == set(CONFIGS)
    covered = {type(make()).__name__ for make in CONFIGS.values()}
    assert covered >= {cls.__name__ for cls in optimizers.OPTIMIZERS.values()}


@pytest.mark.parametrize("name", sorted(CONFIGS))
@pytest.mark.parametrize(("flat_a", "flat_b"), [(False, False), (True, True), (True, False)])
def test_state_dict_round_trip_continues_identically(name, flat_a, flat_b):
    opt_a = CONFIGS[name]()
    params_a = _params(flat_a)
    opt_a.build(params_a)
    _run(opt_a, params_a, 2)
    state = opt_a.state_dict()
    # a fresh optimizer on a copy of the parameters, restored from the (JSON-able + arrays) state
    opt_b = CONFIGS[name]()
    params_b = _params(flat_b)
    for pa, pb in zip(params_a, params_b):
        pb.value[...] = pa.value
    opt_b.build(params_b)
    opt_b.load_state_dict(
        {k: (v.copy() if isinstance(v, np.ndarray) else v) for k, v in state.items()}
    )
    assert opt_b.iterations == 2
    np.testing.assert_array_equal(_run(opt_a, params_a, 3), _run(opt_b, params_b, 3))
    for pa, pb in zip(params_a, params_b):
        np.testing.assert_array_equal(pa.value, pb.value)


def test_state_dict_is_named_by_parameter():
    opt = nb.Adam()
    params = _params(True)
    opt.build(params)
    state = opt.state_dict()
    assert set(state) == {"iterations", "learning_rate", "w.m", "w.v", "other.m", "other.v"}
    assert state["other.m"].shape == (1, 3)


def test_load_state_dict_errors_name_the_entry():
    opt = nb.Adam()
    opt.build(_params(False))
    state = opt.state_dict()
    with pytest.raises(nb.NablanetError, match=r"optimizer state has no entry `w.v`"):
        opt.load_state_dict({k: v for k, v in state.items() if k != "w.v"})
    state["w.m"] = np.zeros(3)
    with pytest.raises(
        nb.NablanetError, match=r"shape mismatch for optimizer state `w.m`: file has \(3,\)"
    ):
        opt.load_state_dict(state)


def test_compiled_model_uses_one_flat_buffer():
    model = nb.Sequential([nb.Dense(3, 4, "relu"), nb.Dense(4, 2)])
    model.compile("mse", nb.Adam())
    flat = flat_buffers(model.parameters())
    assert flat is not None
    assert flat[0].size == model.count_params()
    # a step through the flat buffer is the same as separate updates
    separate = [Parameter(p.value.copy(), p.name) for p in model.parameters()]
    opt = nb.Adam()
    opt.build(separate)
    rng = np.random.default_rng(0)
    for _ in range(3):
        model.optimizer.zero_grad()
        opt.zero_grad()
        for p, q in zip(model.parameters(), separate):
            g = rng.standard_normal(p.shape).astype(p.dtype)
            p.grad += g
            q.grad += g
        model.optimizer.step()
        opt.step()
    for p, q in zip(model.parameters(), separate):
        np.testing.assert_allclose(p.value, q.value, rtol=1e-6)


def test_duplicate_parameter_names_are_kept_apart():
    a, b = Parameter(np.ones(2), "weights"), Parameter(np.ones(2), "weights")
    opt = nb.SGD(0.1, momentum=0.5)
    opt.build([a, b])
    assert set(opt.state_dict()) >= {"weights.velocity", "weights.1.velocity"}


def test_step_without_parameters():
    with pytest.raises(nb.NablanetError, match="call build"):
        nb.SGD().step()


# -- config ----------------------------------------------------------------------------------------
OPTIMIZER_EXAMPLES = {
    "SGD": {"learning_rate": 0.05, "momentum": 0.8, "nesterov": True, "momentum_form": "keras"},
    "Adam": {"learning_rate": 0.002, "beta_1": 0.8, "beta_2": 0.99, "epsilon": 1e-7},
    "RMSprop": {"learning_rate": 0.001, "rho": 0.95, "epsilon": 1e-6, "momentum": 0.3},
    "Adagrad": {
        "learning_rate": 0.2,
        "lr_decay": 0.01,
        "initial_accumulator_value": 0.1,
        "epsilon": 1e-9,
    },
}


@pytest.mark.parametrize("name", sorted(optimizers.OPTIMIZERS))
def test_config_round_trip(name):
    cls = optimizers.OPTIMIZERS[name]
    assert optimizers.get(name).__class__ is cls
    assert cls.__name__ in OPTIMIZER_EXAMPLES, (
        f"optimizer {cls.__name__} has no example config in tests/nn/test_optimizers.py"
    )
    for opt in (cls(), cls(**OPTIMIZER_EXAMPLES[cls.__name__])):
        config = opt.get_config()
        assert json.loads(json.dumps(config)) == config
        again = cls.from_config(json.loads(json.dumps(config)))
        assert again.get_config() == config
    assert cls(**OPTIMIZER_EXAMPLES[cls.__name__]).get_config() == OPTIMIZER_EXAMPLES[cls.__name__]


def test_get_by_name_with_hyper_parameters():
    opt = optimizers.get("SGD", learning_rate=0.5, momentum=0.9)
    assert isinstance(opt, nb.SGD) and opt.learning_rate == 0.5 and opt.momentum == 0.9
    adam = nb.Adam()
    assert optimizers.get(adam) is adam


def test_unknown_optimizer_lists_the_options():
    with pytest.raises(nb.NablanetError, match=r"Unknown optimizer 'lbfgs'.*adagrad, adam"):
        optimizers.get("lbfgs")
    model = nb.Sequential([nb.Dense(2, 1)])
    with pytest.raises(nb.NablanetError, match=r"Unknown optimizer 'adamw'.*rmsprop, sgd"):
        model.compile("mse", "adamw")


@pytest.mark.parametrize(
    ("make", "match"),
    [
        (lambda: nb.SGD(-0.1), r"'learning_rate' parameter of SGD must be a positive number"),
        (lambda: nb.Adam(0.0), r"'learning_rate' parameter of Adam must be a positive"),
        (lambda: nb.SGD(0.1, momentum=1.0), r"'momentum' parameter of SGD.*\[0.0, 1.0\)"),
        (lambda: nb.SGD(0.1, momentum=-0.5), r"'momentum' parameter of SGD"),
        (lambda: nb.SGD(0.1, nesterov=True), r"'nesterov' parameter of SGD needs a momentum"),
        (lambda: nb.RMSprop(momentum=1.5), r"'momentum' parameter of RMSprop"),
        (lambda: nb.RMSprop(rho=1.0), r"'rho' parameter of RMSprop"),
        (lambda: nb.Adam(beta_1=1.0), r"'beta_1' parameter of Adam"),
        (lambda: nb.Adam(beta_2=-0.1), r"'beta_2' parameter of Adam"),
        (lambda: nb.Adam(epsilon=0), r"'epsilon' parameter of Adam"),
        (lambda: nb.Adagrad(lr_decay=-1), r"'lr_decay' parameter of Adagrad"),
        (lambda: nb.Adagrad(initial_accumulator_value=-1), r"'initial_accumulator_value'"),
        (lambda: nb.SGD("fast"), r"'learning_rate' parameter of SGD"),
        (lambda: nb.SGD(momentum_form="book"), r"'momentum_form' parameter of SGD.*keras"),
    ],
)
def test_bad_hyper_parameters(make, match):
    with pytest.raises(nb.NablanetError, match=match):
        make()


def test_learning_rate_attribute_is_used_by_the_next_step():
    p = Parameter(np.array([1.0]), "w")
    opt = nb.SGD(0.1)
    opt.build([p])
    p.grad[:] = 1.0
    opt.step()
    opt.learning_rate = 0.5
    opt.step()
    np.testing.assert_allclose(p.value, [1.0 - 0.1 - 0.5])


def _book_sgd(w, rates, momentum):
    """The SGD of Neural Networks from Scratch, scalar by scalar: ``v = mu v - lr_t g``, ``w += v``
    (the gradient of f(w) = (w0^2 + 3 w1^2) / 2)."""
    w, v, out = list(w), [0.0, 0.0], []
    for lr in rates:
        for i, scale in enumerate(SCALE):
            v[i] = momentum * v[i] - lr * (scale * w[i])
            w[i] += v[i]
        out.append(list(w))
    return out


def test_keras_momentum_form_with_a_changing_rate_is_the_book_rule():
    rates = [0.1 * (1.0 / (1.0 + 0.5 * t)) for t in range(5)]
    trajectories = {}
    for form in ("keras", "torch"):
        opt = nb.SGD(0.1, momentum=0.9, momentum_form=form)
        params = _params(True)
        opt.build(params)
        traj = []
        for lr in rates:
            opt.learning_rate = lr
            traj.append(_run(opt, params, 1)[0])
        trajectories[form] = np.array(traj)
    book = _book_sgd([1.0, -2.0], rates, 0.9)
    np.testing.assert_allclose(trajectories["keras"], book, rtol=1e-12, atol=1e-14)
    # the torch form applies each new rate to the whole velocity: another trajectory
    assert np.abs(trajectories["torch"] - book).max() > 1e-2
