"""The execution plan (nn/plan.py): built once from the layers' and the loss's fusion hooks, and
computing exactly what the layers compute one by one."""

from __future__ import annotations

import ast
import inspect

import numpy as np
import pytest

import nablanet as nb
from nablanet.nn import losses
from nablanet.nn import model as model_mod
from nablanet.nn import plan as plan_mod
from nablanet.nn.plan import LayerStep, Step, build_plan


def _cnn(dtype="float64", conv_cls=nb.Conv2D, seed=0):
    nb.set_seed(seed)
    return nb.Sequential(
        [
            conv_cls(2, 8, 3, padding="same", activation="relu", dtype=dtype),  # im2col
            nb.MaxPool2D(2),
            nb.Conv2D(8, 8, 3, padding="same", activation="relu", dtype=dtype),  # Winograd
            nb.MaxPool2D(2),
            nb.Conv2D(8, 4, 3, padding="same", activation="relu", dtype=dtype),
            nb.MaxPool2D(2, stride=1),  # not 2x2 stride 2: the ReLU moves after the pooling
            nb.Flatten(),
            nb.Dense(4, 6, "relu", dtype=dtype),
            nb.Dense(6, 3, "softmax", dtype=dtype),
        ]
    )


def _data(n=6, seed=1):
    rng = np.random.default_rng(seed)
    x = np.maximum(rng.standard_normal((n, 8, 8, 2)), 0)  # zeros: ties in the pools
    return x, rng.integers(0, 3, n)


def _kinds(steps):
    return [step.kind for step in steps]


def test_the_plan_fuses_conv_relu_maxpool_and_softmax_crossentropy():
    model = _cnn()
    model.compile("categorical_crossentropy", "sgd")
    plan, layers = model.plan, model.layers
    assert layers[2].algorithm == "winograd" and layers[0].algorithm == "im2col"
    expected = ["conv_relu_maxpool", "conv_relu_maxpool", "conv_maxpool_relu", "layer", "layer"]
    assert _kinds(plan.steps) == [*expected, "layer"]  # inference: every layer
    assert [s.layers for s in plan.steps[:3]] == [tuple(layers[i : i + 2]) for i in (0, 2, 4)]
    assert _kinds(plan.body) == expected  # training: the last Dense joins the loss
    assert plan.output.kind == "logits_loss" and plan.output.layers == (layers[-1],)
    assert isinstance(plan.output.loss, losses.SoftmaxCrossentropy)


@pytest.mark.parametrize(
    ("last", "loss", "kind", "fused"),
    [
        ([nb.Dense(4, 3), nb.Softmax()], "categorical_crossentropy", "activation_loss", "Softmax"),
        ([nb.Dense(4, 1, "sigmoid")], "binary_crossentropy", "logits_loss", "Sigmoid"),
        ([nb.Dense(4, 1), nb.Sigmoid()], "binary_crossentropy", "activation_loss", "Sigmoid"),
        ([nb.Dense(4, 3, "softmax")], "mse", "loss", None),
        ([nb.Dense(4, 3, "tanh")], "categorical_crossentropy", "loss", None),
    ],
)
def test_the_loss_joins_the_output_activation(last, loss, kind, fused):
    model = nb.Sequential([nb.Dense(3, 4, "relu"), *last])
    model.compile(loss, "sgd")
    output = model.plan.output
    assert output.kind == kind
    if fused is None:
        assert output.loss is model.loss and output.layers == ()
    else:
        assert type(output.loss).__name__.startswith(fused) and output.layers == (last[-1],)


def test_an_output_convolution_joins_the_loss():
    model = nb.Sequential([nb.Conv2D(1, 3, 2, activation="softmax"), nb.Flatten()])
    model.compile("categorical_crossentropy", "sgd")
    assert model.plan.output.kind == "loss"  # Flatten ends the model: no fusion
    model = nb.Sequential([nb.Conv2D(1, 3, 2, activation="softmax")])
    model.compile("categorical_crossentropy", "sgd")
    assert model.plan.output.kind == "logits_loss" and model.plan.body == ()


def test_predict_and_fit_equal_the_layer_by_layer_computation():
    x, y = _data()
    fused, plain = _cnn(), _cnn()
    for model in (fused, plain):
        model.compile("categorical_crossentropy", nb.SGD(0.05))
    plain._plan = build_plan(plain.layers, plain.loss, fuse_layers=False, fuse_loss=False)
    assert set(_kinds(plain.plan.steps)) == {"layer"} and plain.plan.output.kind == "loss"

    # predict: the plan against each layer's own forward
    h = x
    for layer in fused.layers:
        h = layer.forward(h, training=False)
    np.testing.assert_array_equal(fused.predict(x), h)

    # one training step: loss, outputs and every gradient, against forward/backward by hand
    for p in fused.parameters():
        p.grad[...] = 0
    loss, out = fused.train_step(x, y)
    grads = [p.grad.copy() for p in fused.parameters()]
    for p in fused.parameters():
        p.grad[...] = 0
    h = x
    for layer in fused.layers:
        h = layer.forward(h, training=True)
    ref_loss, grad = losses.CategoricalCrossentropy().loss_and_gradient(y_pred=h, y_true=y)
    for layer in reversed(fused.layers):
        grad = layer.backward(grad)
        if grad is None:  # the first layer computes no input gradient
            break
    np.testing.assert_allclose(loss, ref_loss, rtol=1e-12)
    np.testing.assert_allclose(out, h, rtol=1e-12, atol=1e-15)
    for a, p in zip(grads, fused.parameters()):
        np.testing.assert_allclose(a, p.grad, rtol=1e-9, atol=1e-14)
    assert all(g.any() for g in grads)

    # fit: the fused plan against every layer on its own, epoch by epoch
    kwargs = {"epochs": 3, "batch_size": 2, "verbose": 0, "seed": 0}
    h_fused = fused.fit(x, y, **kwargs).history
    h_plain = plain.fit(x, y, **kwargs).history
    assert set(_kinds(plain.plan.steps)) == {"layer"}  # fit kept the unfused plan
    np.testing.assert_allclose(h_fused["loss"], h_plain["loss"], rtol=1e-9)
    for a, b in zip(fused.parameters(), plain.parameters()):
        np.testing.assert_allclose(a.value, b.value, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(fused.predict(x), plain.predict(x), rtol=1e-9, atol=1e-12)
    assert fused.evaluate(x, y, return_dict=True)["loss"] == pytest.approx(
        plain.evaluate(x, y, return_dict=True)["loss"], rel=1e-9
    )


def test_the_fused_passes_really_run():
    model = _cnn(dtype="float32")
    model.compile("categorical_crossentropy", "adam")
    model.train_step(*_data())
    conv1, pool1, conv2, _, conv3, pool3 = model.layers[:6]
    assert conv1._pooled is not None and conv1._wino is None  # im2col + ReLU + pool in one pass
    assert conv2._pooled is not None and conv2._wino is not None  # Winograd + ReLU + pool
    assert pool1._x_shape is None  # MaxPool2D itself never ran
    assert conv3._relu_out is None and pool3._relu_out is not None  # ReLU after the pooling


class _SameConv(nb.Conv2D):
    """A subclass that only changes a default: it computes what Conv2D computes."""

    def __init__(self, *args, padding="same", **kwargs):
        super().__init__(*args, padding=padding, **kwargs)


class _ScaledConv(nb.Conv2D):
    """A subclass with its own forward: fusing it would skip its change."""

    def forward(self, x, training=False):
        return 2 * super().forward(x, training)

    def backward(self, grad):
        return super().backward(2 * grad)


def test_a_conv2d_subclass_keeps_the_fast_path():
    model = _cnn(conv_cls=_SameConv)
    model.compile("categorical_crossentropy", "sgd")
    assert _kinds(model.plan.steps)[0] == "conv_relu_maxpool"
    x, y = _data()
    model.train_step(x, y)
    assert model.layers[0]._pooled is not None  # the fused pass ran
    reference = _cnn()
    reference.load_state_dict(model.state_dict())
    np.testing.assert_array_equal(model.predict(x), reference.predict(x))


def test_a_subclass_that_changes_forward_is_not_fused():
    model = _cnn(conv_cls=_ScaledConv)
    model.compile("categorical_crossentropy", "sgd")
    assert _kinds(model.plan.steps)[:2] == ["layer", "layer"]
    x, _ = _data()
    h = x
    for layer in model.layers:
        h = layer.forward(h)
    np.testing.assert_array_equal(model.predict(x), h)  # its forward (x 2) did run

    class _OwnDense(nb.Dense):
        def forward(self, x, training=False):
            return super().forward(x, training)

    m = nb.Sequential([_OwnDense(3, 2, "softmax")])
    m.compile("categorical_crossentropy", "sgd")
    assert m.plan.output.kind == "loss"


def test_the_plan_is_built_once(monkeypatch):
    calls = []
    original = nb.Conv2D.fuse_with_next

    def counting(self, next_layer):
        calls.append(type(next_layer).__name__)
        return original(self, next_layer)

    monkeypatch.setattr(nb.Conv2D, "fuse_with_next", counting)
    model = _cnn()
    model.predict(_data()[0])  # before compile: a plan without a loss, built at first use
    assert len(calls) == 3
    with pytest.raises(nb.NablanetError, match="must be compiled"):
        model.train_step(*_data())
    model.compile("categorical_crossentropy", "sgd")
    built = len(calls)
    first = model.plan
    x, y = _data()
    for _ in range(3):
        model.train_step(x, y)
        model.predict(x)
        model.loss_on_batch(x, y)
    model.fit(x, y, epochs=2, batch_size=3, verbose=0)
    model.evaluate(x, y)
    assert len(calls) == built and model.plan is first  # no pairing recomputed per call

    model.add(nb.Softmax())  # invalidated by add()
    assert model._plan is None
    model.compile("categorical_crossentropy", "sgd")
    assert model.plan is not first and model.plan.output.kind == "activation_loss"
    second = model.plan
    model.layers.pop()  # the list changed behind the model's back: rebuilt at next use
    assert model.plan is not second and model.plan.output.kind == "logits_loss"
    model.loss = losses.MeanSquaredError()
    assert model.plan.output.kind == "loss"


def test_a_fusion_hook_must_cover_its_own_layers():
    class _Bad(nb.Layer):
        def forward(self, x, training=False):
            return x

        def fuse_with_next(self, next_layer):
            return LayerStep(next_layer)  # does not start with this layer

    with pytest.raises(nb.NablanetError, match=r"_Bad.fuse_with_next returned a step"):
        nb.Sequential([_Bad(), nb.Flatten()]).predict(np.ones((1, 2)))


def test_a_layer_can_offer_its_own_fusion():
    """The hook is the whole mechanism: a new layer pair needs no change to Sequential."""

    class _Double(nb.Layer):
        def forward(self, x, training=False):
            return 2 * x

        def backward(self, grad):
            return 2 * grad

        def fuse_with_next(self, next_layer):
            if type(next_layer) is _Double:
                return _Quadruple(self, next_layer)
            return None

    class _Quadruple(Step):
        kind = "quadruple"

        def forward(self, x, training=False):
            return 4 * x

        def backward(self, grad):
            return 4 * grad

    model = nb.Sequential([_Double(), _Double(), _Double(), nb.Dense(1, 1, seed=0)])
    model.compile("mse", "sgd")
    assert _kinds(model.plan.steps) == ["quadruple", "layer", "layer"]
    np.testing.assert_array_equal(
        model.forward(np.ones((2, 1))), model.layers[3].forward(8 * np.ones((2, 1)))
    )


def test_sequential_knows_no_concrete_layer():
    """model.py and plan.py name no layer class of the library (and no layer's internals)."""
    from nablanet.nn.layers import LAYER_REGISTRY

    concrete = {
        name for name, cls in LAYER_REGISTRY.items() if cls.__module__.startswith("nablanet.")
    }
    concrete -= {"Layer"}
    for module in (model_mod, plan_mod):
        tree = ast.parse(inspect.getsource(module))
        names = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}
        names |= {n.attr for n in ast.walk(tree) if isinstance(n, ast.Attribute)}
        names |= {a.name for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) for a in n.names}
        assert not names & (concrete | {"_pooled", "forward_relu_maxpool"}), module.__name__
        layer_modules = {
            n.module
            for n in ast.walk(tree)
            if isinstance(n, ast.ImportFrom) and n.module and "layers" in n.module
        }
        assert layer_modules <= {"layers.base"}, module.__name__  # Layer and its registry only
    assert "Conv2D" in concrete and "MaxPool2D" in concrete and "ReLU" in concrete
