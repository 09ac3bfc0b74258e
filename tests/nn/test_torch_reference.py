"""Reference twin: the same tiny networks in PyTorch agree with nablanet.

Outputs, losses, gradients, several optimizer steps and learning-rate schedules are compared.
Our weights are ``(n_inputs, n_outputs)``; ``torch.nn.Linear.weight`` is ``(out, in)``, so
weights are copied transposed. Skipped when PyTorch is not installed.
"""

from __future__ import annotations

import numpy as np
import pytest

import nablanet as nb

torch = pytest.importorskip("torch")
F = torch.nn.functional

pytestmark = pytest.mark.torch

TOL = {
    "float32": {"rtol": 2e-4, "atol": 2e-6},
    "float64": {"rtol": 1e-9, "atol": 1e-12},
}
TORCH_DTYPE = {"float32": torch.float32, "float64": torch.float64}


@pytest.fixture(autouse=True)
def _torch_determinism():
    torch.manual_seed(0)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


# -- the twin networks -----------------------------------------------------------------------------
ACTS = {
    "tanh": torch.tanh,
    "relu": torch.relu,
    "sigmoid": torch.sigmoid,
    "leaky_relu": lambda t: F.leaky_relu(t, 0.01),
    None: lambda t: t,
}


def _ours(dtype, head, regularize=False):
    reg1 = nb.L1L2(0.01, 0.02) if regularize else None
    reg2 = nb.L2(0.05) if regularize else None
    layers = [
        nb.Dense(
            4, 8, "tanh", dtype=dtype, weight_regularizer=reg1, bias_initializer="random_normal"
        ),
        nb.Dense(8, 6, "leaky_relu", dtype=dtype, weight_regularizer=reg2),
    ]
    if head == "softmax":
        layers.append(nb.Dense(6, 3, "softmax", dtype=dtype))
        loss = "categorical_crossentropy"
    elif head == "sigmoid":
        layers.append(nb.Dense(6, 1, "sigmoid", dtype=dtype))
        loss = "binary_crossentropy"
    else:
        layers.append(nb.Dense(6, 2, dtype=dtype))
        loss = head  # "mse" or "mae"
    model = nb.Sequential(layers)
    model.compile(loss, "sgd")
    return model


class _Twin:
    """The same network in torch, with weights copied from ours."""

    def __init__(self, model, head, regularize=False):
        self.head = head
        self.regularize = regularize
        dtype = TORCH_DTYPE[model.dtype.name]
        self.params = []
        self.acts = []
        for layer in model.layers:
            w = torch.tensor(layer.weights.value.T.copy(), dtype=dtype, requires_grad=True)
            b = torch.tensor(layer.biases.value.copy(), dtype=dtype, requires_grad=True)
            self.params += [w, b]
            name = layer.activation.name
            self.acts.append(None if name in ("linear", "softmax", "sigmoid") else name)

    def logits(self, x):
        h = x
        for i, act in enumerate(self.acts):
            h = F.linear(h, self.params[2 * i], self.params[2 * i + 1])
            h = ACTS[act](h)
        return h

    def output(self, x):
        z = self.logits(x)
        if self.head == "softmax":
            return torch.softmax(z, dim=1)
        if self.head == "sigmoid":
            return torch.sigmoid(z)
        return z

    def loss(self, x, y):
        z = self.logits(x)
        if self.head == "softmax":
            loss = F.cross_entropy(z, y)
        elif self.head == "sigmoid":
            loss = F.binary_cross_entropy_with_logits(z[:, 0], y)
        elif self.head == "mse":
            loss = F.mse_loss(z, y)
        else:
            loss = F.l1_loss(z, y)
        if self.regularize:
            w1, w2 = self.params[0], self.params[2]
            loss = loss + 0.01 * w1.abs().sum() + 0.02 * (w1**2).sum() + 0.05 * (w2**2).sum()
        return loss

    def grads_as_ours(self):
        return [(p.grad.T if p.ndim == 2 else p.grad).detach().numpy().copy() for p in self.params]

    def values_as_ours(self):
        return [(p.T if p.ndim == 2 else p).detach().numpy().copy() for p in self.params]


def _batch(head, dtype, n=10, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, 4)).astype(dtype)
    if head == "softmax":
        y = rng.integers(0, 3, n)
        return x, y, torch.tensor(y)
    if head == "sigmoid":
        y = rng.integers(0, 2, n)
        return x, y, torch.tensor(y, dtype=TORCH_DTYPE[dtype])
    y = rng.standard_normal((n, 2)).astype(dtype)
    return x, y, torch.tensor(y)


HEADS = ["softmax", "sigmoid", "mse", "mae"]


@pytest.mark.parametrize("regularize", [False, True])
@pytest.mark.parametrize("head", HEADS)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_outputs_loss_and_gradients(dtype, head, regularize):
    model = _ours(dtype, head, regularize)
    twin = _Twin(model, head, regularize)
    x, y, y_t = _batch(head, dtype)
    x_t = torch.tensor(x)
    np.testing.assert_allclose(model.predict(x), twin.output(x_t).detach().numpy(), **TOL[dtype])

    model.optimizer.zero_grad()
    loss, _ = model.train_step(x, y)
    loss += model.regularization_loss()
    loss_t = twin.loss(x_t, y_t)
    loss_t.backward()
    assert loss == pytest.approx(loss_t.item(), rel=TOL[dtype]["rtol"])
    ours = [p.grad for p in model.parameters()]
    for name, g, g_t in zip(model.named_parameters(), ours, twin.grads_as_ours()):
        np.testing.assert_allclose(g, g_t, err_msg=name, **TOL[dtype])
    assert model.evaluate(x, y, return_dict=True)["loss"] == pytest.approx(
        loss_t.item(), rel=TOL[dtype]["rtol"]
    )


# -- optimizer steps -------------------------------------------------------------------------------
OPTIMIZERS = {
    "sgd": (lambda: nb.SGD(0.1), lambda p: torch.optim.SGD(p, lr=0.1)),
    "sgd_momentum": (
        lambda: nb.SGD(0.05, momentum=0.9),
        lambda p: torch.optim.SGD(p, lr=0.05, momentum=0.9),
    ),
    "sgd_nesterov": (
        lambda: nb.SGD(0.05, momentum=0.8, nesterov=True),
        lambda p: torch.optim.SGD(p, lr=0.05, momentum=0.8, nesterov=True),
    ),
    # at a constant rate the Keras form of momentum takes torch's steps
    "sgd_keras_momentum": (
        lambda: nb.SGD(0.05, momentum=0.9, momentum_form="keras"),
        lambda p: torch.optim.SGD(p, lr=0.05, momentum=0.9),
    ),
    "sgd_keras_nesterov": (
        lambda: nb.SGD(0.05, momentum=0.8, nesterov=True, momentum_form="keras"),
        lambda p: torch.optim.SGD(p, lr=0.05, momentum=0.8, nesterov=True),
    ),
    "adam": (
        lambda: nb.Adam(0.01, beta_1=0.8, beta_2=0.99, epsilon=1e-7),
        lambda p: torch.optim.Adam(p, lr=0.01, betas=(0.8, 0.99), eps=1e-7),
    ),
    "rmsprop": (
        lambda: nb.RMSprop(0.01, rho=0.9),
        lambda p: torch.optim.RMSprop(p, lr=0.01, alpha=0.9, eps=1e-8),
    ),
    "rmsprop_momentum": (
        lambda: nb.RMSprop(0.005, rho=0.95, momentum=0.7, epsilon=1e-6),
        lambda p: torch.optim.RMSprop(p, lr=0.005, alpha=0.95, eps=1e-6, momentum=0.7),
    ),
    "adagrad": (
        lambda: nb.Adagrad(0.1, lr_decay=0.05, initial_accumulator_value=0.1),
        lambda p: torch.optim.Adagrad(
            p, lr=0.1, lr_decay=0.05, initial_accumulator_value=0.1, eps=1e-10
        ),
    ),
}


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
@pytest.mark.parametrize("head", ["softmax", "mse"])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_optimizer_steps(dtype, head, name):
    ours_opt, torch_opt = OPTIMIZERS[name]
    model = _ours(dtype, head)
    model.compile(model.loss, ours_opt())
    twin = _Twin(model, head)
    opt_t = torch_opt(twin.params)
    for step in range(6):
        x, y, y_t = _batch(head, dtype, seed=step)
        model.optimizer.zero_grad()
        model.train_step(x, y)
        model.optimizer.step()
        opt_t.zero_grad()
        twin.loss(torch.tensor(x), y_t).backward()
        opt_t.step()
    for p, v_t in zip(model.parameters(), twin.values_as_ours()):
        np.testing.assert_allclose(p.value, v_t, err_msg=p.name, **TOL[dtype])


def test_covers_every_optimizer():
    names = {type(make()).__name__ for make, _ in OPTIMIZERS.values()}
    assert names == {cls.__name__ for cls in nb.optimizers.OPTIMIZERS.values()}


# -- losses on their own ---------------------------------------------------------------------------
def _loss_pair(name, rng, saturated=False):
    """(our loss, our y_pred, our y_true, torch loss of the torch prediction and target)."""
    n, k = 6, 4
    if name == "mse":
        y_pred, y = rng.standard_normal((n, k)), rng.standard_normal((n, k))
        return nb.MeanSquaredError(), y_pred, y, lambda p, y: F.mse_loss(p, y)
    if name == "mae":
        y_pred, y = rng.standard_normal((n, k)), rng.standard_normal((n, k))
        return nb.MeanAbsoluteError(), y_pred, y, lambda p, y: F.l1_loss(p, y)
    if name == "bce":
        y_pred = rng.uniform(0.02, 0.98, (n, 1))
        y = rng.integers(0, 2, (n, 1)).astype(float)
        return (
            nb.BinaryCrossentropy(),
            y_pred,
            y,
            lambda p, y: F.binary_cross_entropy(p, y),
        )
    if name == "cce":
        y_pred = nb.nn.layers.activations.softmax(rng.standard_normal((n, k)))
        y = rng.integers(0, k, n)
        return (
            nb.CategoricalCrossentropy(),
            y_pred,
            y,
            lambda p, y: F.nll_loss(torch.log(p), y),
        )
    if name == "softmax_ce":
        z = rng.standard_normal((n, k)) * (1e4 if saturated else 3)
        y = rng.integers(0, k, n)
        return nb.SoftmaxCrossentropy(), z, y, lambda t, y: F.cross_entropy(t, y)
    z = rng.standard_normal((n, 1)) * (1e4 if saturated else 3)
    y = rng.integers(0, 2, (n, 1)).astype(float)
    return (
        nb.SigmoidBinaryCrossentropy(),
        z,
        y,
        lambda t, y: F.binary_cross_entropy_with_logits(t, y),
    )


LOSS_CASES = [
    *[(name, False) for name in ("mse", "mae", "bce", "cce", "softmax_ce", "sigmoid_bce")],
    ("softmax_ce", True),  # logits of +-1e4: the fused losses stay exact
    ("sigmoid_bce", True),
]


@pytest.mark.parametrize(("name", "saturated"), LOSS_CASES)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_loss_values_and_gradients(name, dtype, saturated):
    loss, y_pred, y, torch_loss = _loss_pair(name, np.random.default_rng(3), saturated)
    y_pred = y_pred.astype(dtype)
    if y.dtype.kind == "f":
        y = y.astype(dtype)
    pred_t = torch.tensor(y_pred, requires_grad=True)
    value_t = torch_loss(pred_t, torch.tensor(y))
    value_t.backward()
    assert loss.loss(y, y_pred) == pytest.approx(value_t.item(), rel=TOL[dtype]["rtol"])
    grad = loss.gradient(y, y_pred)
    assert grad.dtype == dtype
    np.testing.assert_allclose(grad, pred_t.grad.numpy(), **TOL[dtype])


# -- schedules ------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("ours", "theirs"),
    [
        (
            lambda: nb.StepDecay(step_size=3, gamma=0.5),
            lambda o: torch.optim.lr_scheduler.StepLR(o, step_size=3, gamma=0.5),
        ),
        (
            lambda: nb.ExponentialDecay(gamma=0.8),
            lambda o: torch.optim.lr_scheduler.ExponentialLR(o, gamma=0.8),
        ),
        (
            lambda: nb.CosineAnnealing(t_max=7, min_learning_rate=0.01),
            lambda o: torch.optim.lr_scheduler.CosineAnnealingLR(o, T_max=7, eta_min=0.01),
        ),
        (
            lambda: nb.InverseTimeDecay(decay=0.3),
            lambda o: torch.optim.lr_scheduler.LambdaLR(o, lambda t: 1.0 / (1.0 + 0.3 * t)),
        ),
    ],
)
def test_schedules_match_torch(ours, theirs):
    opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.3)
    sched_t = theirs(opt)
    sched = ours()
    sched.bind(0.3)
    for epoch in range(8):
        assert sched(epoch) == pytest.approx(opt.param_groups[0]["lr"], rel=1e-12), epoch
        opt.step()
        sched_t.step()
