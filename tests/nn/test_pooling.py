"""Pooling (max, average, global average) and the shape layers (Flatten, Reshape)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import nablanet as nb
from nablanet.nn.plan import build_plan


def _rand(shape, seed=0, dtype=np.float64):
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


def naive_pool(x, pool, stride, reduce):
    ph, pw = pool
    sh, sw = stride
    ho = (x.shape[1] - ph) // sh + 1
    wo = (x.shape[2] - pw) // sw + 1
    y = np.zeros((x.shape[0], ho, wo, x.shape[3]), x.dtype)
    for i in range(ho):
        for j in range(wo):
            y[:, i, j, :] = reduce(x[:, i * sh : i * sh + ph, j * sw : j * sw + pw, :], axis=(1, 2))
    return y


GEOMETRIES = [
    (2, None, (6, 6)),
    (2, None, (7, 5)),  # odd sizes: the last row/column is dropped
    (3, 2, (7, 8)),  # overlapping windows
    ((2, 3), (1, 2), (5, 7)),
    (2, 3, (8, 8)),  # gaps between windows
    (1, 1, (3, 3)),
]


# -- max pooling -----------------------------------------------------------------------------
@pytest.mark.parametrize(("pool", "stride", "size"), GEOMETRIES)
def test_maxpool_forward_matches_the_definition(pool, stride, size):
    layer = nb.MaxPool2D(pool, stride)
    x = _rand((2, *size, 3))
    y = layer.forward(x, training=True)
    np.testing.assert_array_equal(y, naive_pool(x, layer.pool_size, layer.stride, np.max))
    assert y.shape == (2, *layer.compute_output_shape((*size, 3)))
    np.testing.assert_array_equal(layer.forward(x, training=False), y)


@pytest.mark.parametrize(("pool", "stride", "size"), GEOMETRIES)
def test_maxpool_gradcheck(pool, stride, size):
    x = _rand((2, *size, 2), seed=1)  # continuous values: no ties
    result = nb.gradcheck_layer(nb.MaxPool2D(pool, stride), x)
    assert result.ok, str(result)


def test_maxpool_routes_each_gradient_to_exactly_one_tied_maximum():
    # an all-black MNIST-like patch: every window is a four-way tie of zeros
    x = np.zeros((2, 4, 4, 3), np.float32)
    x[0, 0, 1, 0] = 1.0  # one window with a unique maximum
    layer = nb.MaxPool2D(2)
    y = layer.forward(x, training=True)
    g = np.random.default_rng(0).uniform(1, 2, y.shape).astype(np.float32)
    gx = layer.backward(g)
    # the total is preserved (a `x == max` mask would multiply it by four on ties)
    assert gx.sum() == pytest.approx(g.sum(), rel=1e-6)
    # one non-zero per window, at the first maximum in row-major order
    windows = gx.reshape(2, 2, 2, 2, 2, 3)  # (n, i, u, j, v, c)
    assert np.all(np.count_nonzero(windows, axis=(2, 4)) == 1)
    assert gx[0, 0, 1, 0] == g[0, 0, 0, 0]  # the unique maximum wins
    assert gx[0, 0, 0, 0] == 0
    assert gx[1, 0, 0, 0] == g[1, 0, 0, 0]  # a tie: the first position wins
    assert gx[1, 2, 2, 1] == g[1, 1, 1, 1]


def test_maxpool_ties_with_overlapping_windows_still_route_once_per_window():
    x = np.zeros((1, 5, 5, 1))
    layer = nb.MaxPool2D(3, 1)
    y = layer.forward(x, training=True)
    gx = layer.backward(np.ones_like(y))
    assert gx.sum() == y.size  # each of the 9 windows sends its 1 to a single input
    # first maximum of each window = its top-left corner
    np.testing.assert_array_equal(gx[0, :3, :3, 0], np.ones((3, 3)))


def test_maxpool_keeps_dtype_and_accepts_large_pools():
    x = _rand((1, 17, 17, 2), dtype=np.float32)
    layer = nb.MaxPool2D(17)  # 289 offsets: argmax needs more than uint8
    y = layer.forward(x, training=True)
    assert y.dtype == np.float32
    np.testing.assert_array_equal(y[0, 0, 0], x[0].max(axis=(0, 1)))
    gx = layer.backward(np.ones_like(y))
    assert gx.dtype == np.float32
    assert gx.sum() == 2
    assert gx[0][x[0] == x[0].max(axis=(0, 1))].sum() == 2


# -- average pooling -------------------------------------------------------------------------
@pytest.mark.parametrize(("pool", "stride", "size"), GEOMETRIES)
def test_avgpool_forward_and_gradcheck(pool, stride, size):
    layer = nb.AvgPool2D(pool, stride)
    x = _rand((2, *size, 3))
    np.testing.assert_allclose(
        layer.forward(x), naive_pool(x, layer.pool_size, layer.stride, np.mean), rtol=1e-12
    )
    result = nb.gradcheck_layer(nb.AvgPool2D(pool, stride), x)
    assert result.ok, str(result)


def test_global_average_pooling():
    x = _rand((3, 4, 5, 2))
    layer = nb.GlobalAveragePooling2D()
    np.testing.assert_allclose(layer.forward(x), x.mean(axis=(1, 2)))
    assert layer.compute_output_shape((4, 5, 2)) == (2,)
    assert nb.gradcheck_layer(layer, x).ok


@settings(max_examples=25, deadline=None)
@given(
    kind=st.sampled_from([nb.MaxPool2D, nb.AvgPool2D]),
    pool=st.tuples(st.integers(1, 3), st.integers(1, 3)),
    stride=st.one_of(st.none(), st.tuples(st.integers(1, 3), st.integers(1, 3))),
    size=st.tuples(st.integers(3, 7), st.integers(3, 7)),
    seed=st.integers(0, 2**16),
)
def test_pooling_gradcheck_random_geometries(kind, pool, stride, size, seed):
    x = np.random.default_rng(seed).standard_normal((2, *size, 2))
    result = nb.gradcheck_layer(kind(pool, stride), x)
    assert result.ok, str(result)


# -- errors ----------------------------------------------------------------------------------
@pytest.mark.parametrize("cls", [nb.MaxPool2D, nb.AvgPool2D])
def test_pooling_errors(cls):
    name = cls.__name__
    with pytest.raises(nb.NablanetError, match=f"'pool_size' parameter of {name}"):
        cls(0)
    with pytest.raises(nb.NablanetError, match=f"'stride' parameter of {name}"):
        cls(2, (1, 0))
    layer = cls(3)
    with pytest.raises(nb.NablanetError, match="larger than the input"):
        layer.forward(np.zeros((1, 2, 5, 1), np.float32))
    with pytest.raises(nb.NablanetError, match="larger than the input"):
        layer.compute_output_shape((5, 2, 1))
    with pytest.raises(nb.NablanetError, match=r"got array of shape \(4, 25\)"):
        layer.forward(np.zeros((4, 25), np.float32))
    with pytest.raises(nb.NablanetError, match="before forward"):
        cls(2).backward(np.zeros((1, 1, 1, 1), np.float32))


def test_pooling_config_echoes_the_arguments():
    assert nb.MaxPool2D(2).get_config() == {"pool_size": 2, "stride": None}
    assert nb.MaxPool2D(2).stride == (2, 2)
    assert nb.AvgPool2D((3, 2), 1).get_config() == {"pool_size": [3, 2], "stride": 1}


# -- Flatten and Reshape ---------------------------------------------------------------------
def test_flatten_orders_features_row_column_channel():
    x = np.arange(2 * 2 * 3 * 4, dtype=np.float32).reshape(2, 2, 3, 4)
    layer = nb.Flatten()
    y = layer.forward(x, training=True)
    np.testing.assert_array_equal(y, x.reshape(2, 24))
    assert layer.compute_output_shape((2, 3, 4)) == (24,)
    np.testing.assert_array_equal(layer.backward(y), x)
    with pytest.raises(nb.NablanetError, match="Flatten"):
        layer.forward(np.zeros(3))


def test_reshape():
    layer = nb.Reshape((28, 28, 1))
    x = _rand((3, 784))
    y = layer.forward(x, training=True)
    assert y.shape == (3, 28, 28, 1)
    np.testing.assert_array_equal(layer.backward(y), x)
    assert nb.Reshape((-1, 4)).compute_output_shape((2, 6)) == (3, 4)
    assert nb.Reshape(12).compute_output_shape((3, 4)) == (12,)
    with pytest.raises(nb.NablanetError, match=r"cannot reshape input of shape \(5,\)"):
        nb.Reshape((2, 3)).compute_output_shape((5,))
    with pytest.raises(nb.NablanetError, match="cannot reshape"):
        nb.Reshape((-1, 4)).forward(np.zeros((2, 6)))
    for bad in [(), (0, 3), (-1, -1), (2.5,), "28x28"]:
        with pytest.raises(nb.NablanetError, match="'target_shape' parameter of Reshape"):
            nb.Reshape(bad)


@pytest.mark.parametrize("size", [(6, 6), (7, 9), (2, 3)])
def test_maxpool_2x2_fast_path_agrees_with_the_general_path(size):
    # integers in 0..2 after a ReLU-like clamp: ties everywhere
    x = np.maximum(np.random.default_rng(0).integers(-2, 3, (3, *size, 4)), 0).astype(np.float32)
    g = _rand((3, size[0] // 2, size[1] // 2, 4), seed=1, dtype=np.float32)
    fast = nb.MaxPool2D(2)
    y_fast = fast.forward(x, training=True)
    assert fast._right is not None  # the 2x2 tournament ran
    gx_fast = fast.backward(g)
    general = nb.MaxPool2D(2)
    y_general = general._forward_general(x, y_fast.shape[1:3], training=True)
    general._x_shape = x.shape
    assert general._argmax is not None
    np.testing.assert_array_equal(y_fast, y_general)
    np.testing.assert_array_equal(gx_fast, general.backward(g))


# -- ReLU after the pooling (Sequential runs Conv2D(relu) + MaxPool2D this way) ---------------
@pytest.mark.parametrize(("pool", "stride"), [(2, None), (3, 2), (2, 1)])
def test_forward_relu_equals_pooling_the_relu(pool, stride):
    rng = np.random.default_rng(0)
    # integers: many exact ties, among negatives, zeros and positives
    z = rng.integers(-3, 3, (2, 9, 8, 3)).astype(np.float64)
    g = rng.standard_normal((2, *nb.MaxPool2D(pool, stride).compute_output_shape((9, 8, 3))))
    separate, fused = nb.MaxPool2D(pool, stride), nb.MaxPool2D(pool, stride)
    relu = nb.ReLU()
    expected_y = separate.forward(relu.forward(z, training=True), training=True)
    expected_gx = relu.backward(separate.backward(g))
    np.testing.assert_array_equal(fused.forward_relu(z, training=True), expected_y)
    np.testing.assert_array_equal(fused.backward_relu(g), expected_gx)


def test_backward_relu_needs_forward_relu():
    with pytest.raises(nb.NablanetError, match="before forward_relu"):
        nb.MaxPool2D(2).backward_relu(np.ones((1, 1, 1, 1)))


def test_model_moves_the_relu_after_the_pool_with_the_same_results():
    def build():
        nb.set_seed(3)
        model = nb.Sequential(
            [
                nb.Conv2D(2, 8, 3, padding="same", activation="relu", dtype="float64"),
                nb.MaxPool2D(2),
                nb.Conv2D(8, 4, 3, padding="same", activation="relu", dtype="float64"),
                nb.MaxPool2D(2),
                nb.Flatten(),
                nb.Dense(2 * 2 * 4, 3, "softmax", dtype="float64"),
            ]
        )
        model.compile("categorical_crossentropy", "sgd")
        return model

    fused, plain = build(), build()
    assert [step.kind for step in fused.plan.steps] == ["conv_relu_maxpool"] * 2 + ["layer"] * 2
    # every layer on its own (the loss still fused with the softmax, as in `fused`)
    plain._plan = build_plan(plain.layers, plain.loss, fuse_layers=False)
    assert plain.plan is plain._plan  # kept: built for these layers and this loss
    rng = np.random.default_rng(1)
    x = np.maximum(rng.standard_normal((5, 8, 8, 2)), 0)  # zeros: ties in the pools
    y = rng.integers(0, 3, 5)
    for model in (fused, plain):
        model.optimizer.zero_grad()
        model.train_step(x, y)
    np.testing.assert_array_equal(fused.predict(x), plain.predict(x))
    for a, b in zip(fused.parameters(), plain.parameters()):
        np.testing.assert_allclose(a.grad, b.grad, rtol=1e-12, atol=1e-15)
    assert fused.layers[0].weights.grad.any()
    result = nb.gradcheck_model(fused, x, y)
    assert result.ok, str(result)
