"""Conv2D's Winograd F(2x2, 3x3) path: the choice of algorithm, values against the definition
and against im2col, exact adjoints of the transforms, numerical gradients, odd sizes."""

from __future__ import annotations

import numpy as np
import pytest

import nablanet as nb
from nablanet.nn.gradcheck import relative_error
from nablanet.nn.layers import _parallel as parallel_mod
from nablanet.nn.layers import conv as conv_mod
from nablanet.nn.layers import geometry as geometry_mod
from nablanet.nn.layers import winograd

from .test_conv import naive_conv


def _rand(shape, seed=0, dtype=np.float64):
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


@pytest.mark.parametrize(
    ("args", "kwargs", "expected"),
    [
        ((8, 4, 3), {}, "winograd"),
        ((32, 64, 3), {"padding": "same"}, "winograd"),
        ((7, 4, 3), {}, "im2col"),  # too few input channels
        ((8, 4, 3), {"stride": 2}, "im2col"),
        ((8, 4, (3, 2)), {}, "im2col"),
        ((8, 4, 5), {}, "im2col"),
    ],
)
def test_algorithm_is_chosen_by_geometry(args, kwargs, expected):
    assert nb.Conv2D(*args, **kwargs).algorithm == expected


def _pair(c_in, c_out, padding, seed=0):
    """The same layer twice: Winograd and im2col."""
    layers = [
        nb.Conv2D(
            c_in,
            c_out,
            3,
            padding=padding,
            bias_initializer="random_normal",
            dtype="float64",
            seed=seed,
        )
        for _ in range(2)
    ]
    layers[1].algorithm = "im2col"
    assert layers[0].algorithm == "winograd"
    return layers


GEOMETRIES = [
    ("same", (14, 14)),
    ("same", (7, 7)),  # odd output: one more tile row and column, cropped
    ("valid", (9, 6)),
    ((2, 1), (5, 8)),
    ("valid", (3, 3)),  # a single output pixel
]


@pytest.mark.parametrize(("padding", "size"), GEOMETRIES)
def test_forward_matches_the_definition(padding, size):
    layer, _ = _pair(8, 5, padding)
    x = _rand((3, *size, 8), seed=1)
    pads = geometry_mod.resolve_padding(padding, size, (3, 3), (1, 1))
    expected = naive_conv(x, layer.weights.value, layer.biases.value, (1, 1), pads)
    for training in (True, False):
        y = layer.forward(x, training=training)
        assert y.flags.c_contiguous
        np.testing.assert_allclose(y, expected, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize(("padding", "size"), GEOMETRIES)
def test_gradients_equal_im2col(padding, size):
    wino, im2col = _pair(9, 4, padding)
    x = _rand((2, *size, 9), seed=2)
    g = _rand(wino.forward(x, training=True).shape, seed=3)
    im2col.forward(x, training=True)
    np.testing.assert_allclose(wino.backward(g), im2col.backward(g), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(wino.weights.grad, im2col.weights.grad, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(wino.biases.grad, im2col.biases.grad, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize(("padding", "size"), [("same", (5, 6)), ("valid", (6, 5))])
@pytest.mark.parametrize("activation", ["linear", "relu", "tanh"])
def test_gradcheck(padding, size, activation):
    layer = nb.Conv2D(
        8,
        3,
        3,
        padding=padding,
        activation=activation,
        bias_initializer="random_normal",
        dtype="float64",
        seed=0,
    )
    assert layer.algorithm == "winograd"
    result = nb.gradcheck_layer(layer, _rand((2, *size, 8), seed=4))
    assert result.ok, str(result)


def test_float32_stays_float32_and_close_to_im2col():
    wino = nb.Conv2D(32, 16, 3, padding="same", bias_initializer="random_normal", seed=0)
    im2col = nb.Conv2D(32, 16, 3, padding="same", bias_initializer="random_normal", seed=0)
    im2col.algorithm = "im2col"
    x = _rand((4, 14, 14, 32), seed=5, dtype=np.float32)
    y = wino.forward(x, training=True)
    assert y.dtype == np.float32
    np.testing.assert_allclose(y, im2col.forward(x, training=True), rtol=1e-4, atol=1e-5)
    g = _rand(y.shape, seed=6, dtype=np.float32)
    gx = wino.backward(g)
    assert gx.dtype == wino.weights.grad.dtype == np.float32
    np.testing.assert_allclose(gx, im2col.backward(g), rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(wino.weights.grad, im2col.weights.grad, rtol=1e-4, atol=1e-3)


def test_first_layer_and_regularizer():
    wino, im2col = _pair(8, 3, "same")
    for layer in (wino, im2col):
        layer.weight_regularizer = nb.L2(0.1)
        layer.input_grad = False
    x = _rand((2, 6, 6, 8), seed=7)
    g = _rand((2, 6, 6, 3), seed=8)
    wino.forward(x, training=True)
    im2col.forward(x, training=True)
    assert wino.backward(g) is None
    im2col.backward(g)
    np.testing.assert_allclose(wino.weights.grad, im2col.weights.grad, rtol=1e-12, atol=1e-12)


def test_workspaces_are_reused_and_follow_the_batch_size():
    layer, _ = _pair(8, 4, "same")
    x = _rand((3, 6, 6, 8), seed=9)
    layer.forward(x, training=True)
    layer.backward(_rand((3, 6, 6, 4), seed=10))
    first = {k: id(v) for k, v in layer._workspace.items()}
    layer.forward(x, training=True)
    assert {k: id(v) for k, v in layer._workspace.items()} == first
    expected = naive_conv(x[:2], layer.weights.value, layer.biases.value, (1, 1), (1, 1, 1, 1))
    np.testing.assert_allclose(layer.forward(x[:2], training=True), expected, rtol=1e-12)


def test_inference_in_blocks_and_threads(monkeypatch):
    layer, _ = _pair(8, 4, "same")
    x = _rand((5, 7, 6, 8), seed=11)
    whole = layer.forward(x)
    monkeypatch.setattr(conv_mod, "_IM2COL_BLOCK_BYTES", 1)  # one image per block
    np.testing.assert_allclose(layer.forward(x), whole, rtol=1e-12, atol=1e-12)
    monkeypatch.setenv("NABLANET_NUM_THREADS", "3")
    monkeypatch.setattr(parallel_mod, "MIN_BYTES_PER_THREAD", 1)
    np.testing.assert_allclose(layer.forward(x, training=True), whole, rtol=1e-12, atol=1e-12)


# -- the transforms are exact adjoints ---------------------------------------------------------
def test_output_transform_adjoint():
    m = _rand((16, 2, 3, 4, 5), seed=12)
    y = _rand((2, 6, 8, 5), seed=13)
    out = np.empty_like(y)
    winograd.output_transform(m, out)
    assert np.sum(out * y) == pytest.approx(np.sum(m * winograd.grad_output_transform(y)))


def test_input_transform_adjoint():
    xp = _rand((2, 8, 10, 3), seed=14)
    dv = _rand((16, 2, 3, 4, 3), seed=15)
    v = winograd.input_transform(xp, 3, 4)
    grad = np.zeros_like(xp)
    winograd.grad_input_transform(dv, grad)
    assert np.sum(v * dv) == pytest.approx(np.sum(xp * grad))


def test_weight_transform_adjoint():
    w = _rand((3, 3, 2, 4), seed=16)
    du = _rand((16, 2, 4), seed=17)
    lhs = np.sum(winograd.weight_transform(w) * du)
    assert lhs == pytest.approx(np.sum(w * winograd.weight_gradient(du)))


# -- fused with ReLU and 2x2 max pooling ---------------------------------------------------------
def _relu_conv(c_in=8, c_out=5, padding="same", seed=0):
    layer = nb.Conv2D(
        c_in,
        c_out,
        3,
        padding=padding,
        activation="relu",
        bias_initializer="random_normal",
        dtype="float64",
        seed=seed,
    )
    assert layer.algorithm == "winograd"
    return layer


@pytest.mark.parametrize(
    ("padding", "size"),
    [("same", (8, 8)), ("same", (7, 9)), ("valid", (9, 8)), ("valid", (4, 5)), ((2, 1), (5, 6))],
)
@pytest.mark.parametrize("zeros", [False, True])
def test_relu_maxpool_equals_the_two_layers(padding, size, zeros):
    rng = np.random.default_rng(1)
    x = rng.standard_normal((3, *size, 8))
    if zeros:  # blank regions: the convolution outputs the bias there, ties in every window
        x[:, : size[0] // 2] = 0
    fused, plain = _relu_conv(padding=padding), _relu_conv(padding=padding)
    pool = nb.MaxPool2D(2)
    assert fused.fuses_relu_maxpool(pool)
    expected = pool.forward(plain.forward(x, training=True), training=True)
    y = fused.forward_relu_maxpool(x, training=True)
    np.testing.assert_array_equal(y, expected)  # the same numbers: same ties, same winners
    np.testing.assert_array_equal(fused.forward_relu_maxpool(x), expected)
    g = rng.standard_normal(y.shape)
    np.testing.assert_allclose(
        fused.backward_relu_maxpool(g), plain.backward(pool.backward(g)), rtol=1e-12, atol=1e-12
    )
    for a, b in zip(fused.parameters(), plain.parameters()):
        np.testing.assert_allclose(a.grad, b.grad, rtol=1e-12, atol=1e-12)


def test_relu_maxpool_gradcheck():
    layer = _relu_conv(c_out=3)
    x = np.random.default_rng(2).standard_normal((2, 6, 5, 8))
    rng = np.random.default_rng(3)
    r = rng.standard_normal(layer.forward_relu_maxpool(x).shape)

    def loss():
        return float(np.sum(layer.forward_relu_maxpool(x, training=True) * r))

    layer.zero_grad()
    layer.forward_relu_maxpool(x, training=True)
    gx = layer.backward_relu_maxpool(r)
    analytic = [p.grad.copy() for p in layer.parameters()]
    values = [x] + [p.value for p in layer.parameters()]
    for value, grad in zip(values, [gx, *analytic]):
        numeric = nb.numerical_gradient(loss, value)
        assert relative_error(grad, numeric) < 1e-6


def test_relu_maxpool_rules_and_errors():
    layer = _relu_conv()
    assert not layer.fuses_relu_maxpool(nb.MaxPool2D(3))
    assert not layer.fuses_relu_maxpool(nb.MaxPool2D(2, stride=1))
    assert not layer.fuses_relu_maxpool(nb.AvgPool2D(2))
    layer.algorithm = "im2col"
    assert layer.fuses_relu_maxpool(nb.MaxPool2D(2))  # im2col fuses too (test_conv.py)
    assert (
        not _relu_conv().__class__(8, 4, 3, activation="tanh").fuses_relu_maxpool(nb.MaxPool2D(2))
    )
    with pytest.raises(nb.NablanetError, match="before forward_relu_maxpool"):
        _relu_conv().backward_relu_maxpool(np.ones((1, 1, 1, 5)))
    with pytest.raises(nb.NablanetError, match="pool \\(2, 2\\) is larger than the input"):
        _relu_conv(padding="valid").forward_relu_maxpool(np.ones((1, 3, 5, 8)))


def test_inference_between_forward_and_backward_keeps_the_pending_gradient():
    fused, plain = _relu_conv(), _relu_conv()
    pool = nb.MaxPool2D(2)
    x = np.random.default_rng(4).standard_normal((2, 6, 6, 8))
    g = np.random.default_rng(5).standard_normal((2, 3, 3, 5))
    fused.forward_relu_maxpool(x, training=True)
    fused.forward_relu_maxpool(x[:1])  # e.g. a prediction in between
    fused.forward(x[:1])
    pool.forward(plain.forward(x, training=True), training=True)
    np.testing.assert_allclose(
        fused.backward_relu_maxpool(g), plain.backward(pool.backward(g)), rtol=1e-12
    )


def test_a_model_uses_the_fused_pass():
    nb.set_seed(0)
    model = nb.Sequential(
        [
            nb.Conv2D(1, 8, 3, padding="same", activation="relu"),
            nb.MaxPool2D(2),
            nb.Conv2D(8, 8, 3, padding="same", activation="relu"),
            nb.MaxPool2D(2),
            nb.Flatten(),
            nb.Dense(2 * 2 * 8, 2, "softmax"),
        ]
    )
    model.compile("categorical_crossentropy", "adam")
    x = np.random.default_rng(6).random((4, 8, 8, 1), dtype=np.float32)
    model.train_step(x, np.array([0, 1, 0, 1]))
    assert model.layers[0]._pooled is not None and model.layers[0]._wino is None  # im2col
    assert model.layers[1]._relu_out is None  # MaxPool2D itself did not run
    assert model.layers[2]._pooled is not None and model.layers[2]._wino is not None
    assert model.predict(x).shape == (4, 2)


def test_algorithm_setting_is_checked():
    layer = nb.Conv2D(8, 4, 5)
    layer.algorithm = "im2col"
    with pytest.raises(nb.NablanetError, match="needs a 3x3 kernel and stride 1, got kernel_size"):
        layer.algorithm = "winograd"
    with pytest.raises(nb.NablanetError, match="'algorithm' parameter of Conv2D"):
        nb.Conv2D(8, 4, 3).algorithm = "fft"
    small = nb.Conv2D(1, 4, 3, padding="same")
    small.algorithm = "winograd"  # allowed on any 3x3 stride-1 layer
    assert small.forward(np.ones((1, 4, 4, 1), np.float32)).shape == (1, 4, 4, 4)


# -- the chunked pipeline (conv._WINOGRAD_CHUNK_BYTES) and the ReLU in the output transform -------
def _run_layer(layer, x, g, mode):
    """Output, input gradient and parameter gradients of one forward/backward in ``mode``."""
    layer.zero_grad()
    if mode == "pooled":
        y = layer.forward_relu_maxpool(x, training=True)
        gx = layer.backward_relu_maxpool(g[: y.shape[0], : y.shape[1], : y.shape[2]])
    else:
        y = layer.forward(x, training=True)
        gx = layer.backward(g[: y.shape[0], : y.shape[1], : y.shape[2]])
    return y, gx, [p.grad.copy() for p in layer.parameters()]


@pytest.mark.parametrize("mode", ["pooled", "relu", "linear"])
@pytest.mark.parametrize(
    ("padding", "size"), [("same", (8, 8)), ("same", (7, 9)), ("valid", (9, 6))]
)
@pytest.mark.parametrize("input_grad", [True, False])
def test_chunks_of_images_compute_what_one_chunk_does(monkeypatch, mode, padding, size, input_grad):
    layer = _relu_conv(padding=padding)
    if mode == "linear":
        layer.activation = nb.nn.layers.activations.deserialize(None)
    layer.input_grad = input_grad
    rng = np.random.default_rng(6)
    x = rng.standard_normal((5, *size, 8))
    g = rng.standard_normal((5, *size, 5))
    whole = _run_layer(layer, x, g, mode)
    predicted = layer.forward_relu_maxpool(x) if mode == "pooled" else layer.forward(x)
    th, tw = winograd.tiles(*layer.compute_output_shape(x.shape[1:])[:2])
    per_image = 16 * th * tw * 8 * x.itemsize  # the bytes of one image's V (c_in = 8 > c_out)
    assert conv_mod._chunk_images(per_image, 5) == 5  # one chunk by default
    for chunk_bytes, images in ((1, 1), (2 * per_image, 2)):  # chunks of 1 and of 2 images
        monkeypatch.setattr(conv_mod, "_WINOGRAD_CHUNK_BYTES", chunk_bytes)
        assert conv_mod._chunk_images(per_image, 5) == images
        y, gx, grads = _run_layer(layer, x, g, mode)
        np.testing.assert_allclose(y, whole[0], rtol=1e-12, atol=1e-12)
        if input_grad:
            np.testing.assert_allclose(gx, whole[1], rtol=1e-12, atol=1e-12)
        else:
            assert gx is None and whole[1] is None
        for a, b in zip(grads, whole[2]):
            np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)
        again = layer.forward_relu_maxpool(x) if mode == "pooled" else layer.forward(x)
        np.testing.assert_allclose(again, predicted, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize(
    ("padding", "size"), [("same", (8, 8)), ("same", (7, 9)), ("valid", (6, 5))]
)
def test_relu_in_the_output_transform_equals_im2col_relu(padding, size):
    wino, im2col = _relu_conv(padding=padding), _relu_conv(padding=padding)
    im2col.algorithm = "im2col"
    rng = np.random.default_rng(7)
    x = rng.standard_normal((3, *size, 8))
    x[:, : size[0] // 2] = 0  # outputs equal to the bias: some ReLUs exactly at their kink side
    y = wino.forward(x, training=True)
    np.testing.assert_allclose(y, im2col.forward(x, training=True), rtol=1e-12, atol=1e-12)
    assert wino._relu_out is y and wino._wino is not None
    wino.forward(x[:1])  # a prediction in between keeps the pending gradient
    g = rng.standard_normal(y.shape)
    np.testing.assert_allclose(wino.backward(g), im2col.backward(g), rtol=1e-12, atol=1e-12)
    for a, b in zip(wino.parameters(), im2col.parameters()):
        np.testing.assert_allclose(a.grad, b.grad, rtol=1e-12, atol=1e-12)
