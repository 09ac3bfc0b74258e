"""Conv2D: values against a direct loop formula, im2col/col2im, padding and strides, gradients,
errors, and a small CNN end to end (training, summary, save/load)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import nablanet as nb
from nablanet.nn.layers import _parallel as parallel_mod
from nablanet.nn.layers import conv as conv_mod
from nablanet.nn.layers import geometry as geometry_mod
from nablanet.nn.layers import im2col as im2col_mod
from nablanet.nn.layers.geometry import resolve_padding
from nablanet.nn.layers.im2col import col2im, im2col


def naive_conv(x, w, b, stride, pads):
    """The definition, with loops over output pixels (test-only reference)."""
    top, bottom, left, right = pads
    xp = np.pad(x, ((0, 0), (top, bottom), (left, right), (0, 0)))
    kh, kw, _, c_out = w.shape
    sh, sw = stride
    ho = (xp.shape[1] - kh) // sh + 1
    wo = (xp.shape[2] - kw) // sw + 1
    y = np.zeros((x.shape[0], ho, wo, c_out))
    for i in range(ho):
        for j in range(wo):
            patch = xp[:, i * sh : i * sh + kh, j * sw : j * sw + kw, :]
            y[:, i, j, :] = np.tensordot(patch, w, axes=([1, 2, 3], [0, 1, 2]))
    return y + (0 if b is None else b)


def _rand(shape, seed=0, dtype=np.float64):
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


# -- im2col / col2im --------------------------------------------------------------------------
@pytest.mark.parametrize("channels", [1, 3, 6])  # both layouts (few channels: transposed build)
@pytest.mark.parametrize(
    ("kernel", "stride"), [((3, 3), (1, 1)), ((2, 3), (2, 1)), ((1, 1), (3, 2))]
)
def test_im2col_rows_are_the_patches(channels, kernel, stride):
    x = _rand((2, 7, 6, channels))
    cols, (ho, wo) = im2col(x, kernel, stride)
    kh, kw = kernel
    assert cols.shape == (2 * ho * wo, kh * kw * channels)
    assert (ho, wo) == ((7 - kh) // stride[0] + 1, (6 - kw) // stride[1] + 1)
    cols = cols.reshape(2, ho, wo, -1)
    for i in range(ho):
        for j in range(wo):
            i0, j0 = i * stride[0], j * stride[1]
            patch = x[:, i0 : i0 + kh, j0 : j0 + kw, :].reshape(2, -1)
            np.testing.assert_array_equal(cols[:, i, j], patch)


@pytest.mark.parametrize("channels", [1, 5])
@pytest.mark.parametrize(
    ("kernel", "stride"), [((3, 3), (1, 1)), ((3, 2), (2, 2)), ((2, 2), (3, 1))]
)
def test_col2im_is_the_adjoint_of_im2col(channels, kernel, stride):
    # <im2col(x), c> == <x, col2im(c)> for all x, c: col2im is exactly the transpose
    x = _rand((3, 8, 7, channels), seed=1)
    cols, size = im2col(x, kernel, stride)
    c = _rand(cols.shape, seed=2)
    lhs = np.sum(cols * c)
    rhs = np.sum(x * col2im(c, x.shape, kernel, stride, size))
    assert lhs == pytest.approx(rhs, rel=1e-12)


def test_im2col_keeps_float32():
    x = _rand((2, 5, 5, 3), dtype=np.float32)
    cols, _ = im2col(x, (3, 3), (1, 1))
    assert cols.dtype == np.float32
    assert col2im(cols, x.shape, (3, 3), (1, 1), (3, 3)).dtype == np.float32


# -- forward values --------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("kernel", "stride", "padding", "size"),
    [
        (3, 1, 0, (6, 5)),
        (3, 1, "same", (6, 5)),
        (3, 1, "valid", (5, 5)),
        (2, 2, "same", (7, 5)),
        ((3, 2), (2, 1), (1, 2), (7, 6)),
        (5, 3, "same", (9, 8)),
        (4, 1, "same", (6, 6)),  # even kernel: the extra padding goes bottom/right
        (1, 1, 0, (3, 4)),
    ],
)
@pytest.mark.parametrize("c_in", [1, 2, 5])
def test_forward_matches_the_definition(kernel, stride, padding, size, c_in):
    layer = nb.Conv2D(
        c_in,
        3,
        kernel,
        stride=stride,
        padding=padding,
        bias_initializer="random_normal",
        dtype="float64",
        seed=0,
    )
    x = _rand((2, *size, c_in))
    pads = resolve_padding(layer.padding, size, layer.kernel_size, layer.stride)
    expected = naive_conv(x, layer.weights.value, layer.biases.value, layer.stride, pads)
    y = layer.forward(x)
    assert y.shape == (2, *layer.compute_output_shape((*size, c_in)))
    np.testing.assert_allclose(y, expected, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize(("size", "stride"), [(28, 1), (28, 2), (7, 2), (5, 3), (1, 1)])
def test_same_padding_keeps_ceil_size_over_stride(size, stride):
    layer = nb.Conv2D(1, 2, 3, stride=stride, padding="same")
    expected = -(-size // stride)
    assert layer.compute_output_shape((size, size, 1)) == (expected, expected, 2)
    assert layer.forward(np.zeros((1, size, size, 1), np.float32)).shape == (
        1,
        expected,
        expected,
        2,
    )


def test_activation_is_applied_and_kernel_layout():
    layer = nb.Conv2D(2, 4, (3, 2), padding="same", activation="relu", seed=0)
    assert layer.weights.shape == (3, 2, 2, 4)
    assert layer.biases.shape == (4,)
    assert layer.count_params() == 3 * 2 * 2 * 4 + 4
    x = _rand((2, 5, 5, 2), dtype=np.float32)
    z = layer.forward_linear(x)
    y = layer.forward(x)
    np.testing.assert_array_equal(y, np.maximum(z, 0))
    assert y.dtype == np.float32


def test_no_bias():
    layer = nb.Conv2D(2, 3, 3, use_bias=False, dtype="float64", seed=0)
    assert [p.name for p in layer.parameters()] == ["weights"]
    x = _rand((2, 4, 4, 2))
    expected = naive_conv(x, layer.weights.value, None, (1, 1), (0, 0, 0, 0))
    np.testing.assert_allclose(layer.forward(x), expected, rtol=1e-12)


def test_he_normal_fans_use_the_receptive_field():
    nb.set_seed(0)
    layer = nb.Conv2D(16, 64, 3)
    # fan_in = 3 * 3 * 16 = 144: std sqrt(2 / 144)
    assert layer.weights.value.std() == pytest.approx(np.sqrt(2 / 144), rel=0.05)


def test_float32_end_to_end_has_no_hidden_float64():
    layer = nb.Conv2D(3, 4, 3, padding="same", activation="relu")
    x = _rand((2, 6, 6, 3), dtype=np.float32)
    y = layer.forward(x, training=True)
    assert y.dtype == np.float32
    gx = layer.backward(np.ones_like(y))
    assert gx.dtype == np.float32
    assert layer.weights.grad.dtype == np.float32


# -- gradients -------------------------------------------------------------------------------
@settings(max_examples=30, deadline=None)
@given(
    n=st.integers(1, 3),
    size=st.tuples(st.integers(3, 7), st.integers(3, 7)),
    c_in=st.integers(1, 6),
    c_out=st.integers(1, 4),
    kernel=st.tuples(st.integers(1, 3), st.integers(1, 3)),
    stride=st.tuples(st.integers(1, 3), st.integers(1, 3)),
    padding=st.sampled_from(["valid", "same", 1, (0, 2)]),
    activation=st.sampled_from(["linear", "tanh", "sigmoid"]),
    seed=st.integers(0, 2**16),
)
def test_gradcheck_random_geometries(
    n, size, c_in, c_out, kernel, stride, padding, activation, seed
):
    layer = nb.Conv2D(
        c_in,
        c_out,
        kernel,
        stride=stride,
        padding=padding,
        activation=activation,
        bias_initializer="random_normal",
        dtype="float64",
        seed=seed,
    )
    x = np.random.default_rng(seed).standard_normal((n, *size, c_in))
    result = nb.gradcheck_layer(layer, x)
    assert result.ok, str(result)


@pytest.mark.parametrize(("c_in", "c_out", "kernel"), [(1, 12, 2), (3, 2, 3), (1, 1, 1)])
def test_gradcheck_both_weight_gradient_orientations(c_in, c_out, kernel):
    # kh * kw * c_in + 1 smaller or larger than c_out: dW is computed as (g^T cols)^T or cols^T g
    layer = nb.Conv2D(c_in, c_out, kernel, padding="same", dtype="float64", seed=0)
    result = nb.gradcheck_layer(layer, _rand((2, 4, 5, c_in), seed=4))
    assert result.ok, str(result)


def test_backward_accumulates_and_regularizer_adds():
    layer = nb.Conv2D(2, 3, 3, weight_regularizer=nb.L2(0.1), dtype="float64", seed=0)
    x = _rand((2, 5, 5, 2))
    y = layer.forward(x, training=True)
    g = _rand(y.shape, seed=3)
    layer.backward(g)
    once = layer.weights.grad.copy()
    layer.backward(g)
    np.testing.assert_allclose(layer.weights.grad, 2 * once)
    assert layer.regularization_loss() == pytest.approx(0.1 * np.sum(layer.weights.value**2))
    layer.zero_grad()
    layer.weight_regularizer = None
    layer.backward(g)
    np.testing.assert_allclose(once - layer.weights.grad, 2 * 0.1 * layer.weights.value)


def test_first_layer_skips_the_input_gradient():
    model = nb.Sequential([nb.Conv2D(1, 2, 3), nb.Flatten(), nb.Dense(8, 2, "softmax")])
    model.compile("categorical_crossentropy", "sgd")
    assert model.layers[0].input_grad is False
    x = _rand((3, 4, 4, 1), dtype=np.float32)
    model.layers[0].forward(x, training=True)
    assert model.layers[0].backward(np.ones((3, 2, 2, 2), np.float32)) is None
    assert model.layers[0].weights.grad.any()


def test_both_im2col_layouts_give_the_same_layer(monkeypatch):
    layer = nb.Conv2D(3, 4, 3, stride=2, padding="same", dtype="float64", seed=0)
    x = _rand((2, 7, 7, 3))
    g = _rand((2, 4, 4, 4), seed=1)
    results = []
    for threshold in (0, 8):  # 3 channels: the plain copy, then the transposed build
        monkeypatch.setattr(im2col_mod, "_TRANSPOSED_IM2COL_MAX_CHANNELS", threshold)
        layer.zero_grad()
        y = layer.forward(x, training=True)
        results.append((y, layer.backward(g), layer.weights.grad.copy()))
    for a, b in zip(*results):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)


def test_input_gradient_is_col2im_of_the_patch_gradients(monkeypatch):
    """backward's one-GEMM-per-offset input gradient equals the textbook col2im(G K^T)."""
    layer = nb.Conv2D(6, 4, 3, stride=(1, 2), padding="same", dtype="float64", seed=0)
    x = _rand((5, 7, 8, 6))
    y = layer.forward(x, training=True)
    g = _rand(y.shape, seed=1)
    pads = resolve_padding("same", (7, 8), (3, 3), (1, 2))
    xp = geometry_mod.pad_nhwc(x, pads)
    _, size = im2col_mod.im2col(xp, (3, 3), (1, 2))
    patch_grads = g.reshape(-1, 4) @ layer.weights.value.reshape(-1, 4).T
    top, _, left, _ = pads
    expected = im2col_mod.col2im(patch_grads, xp.shape, (3, 3), (1, 2), size)[
        :, top : top + 7, left : left + 8
    ]
    np.testing.assert_allclose(layer.backward(g), expected, rtol=1e-12, atol=1e-12)
    monkeypatch.setenv("NABLANET_NUM_THREADS", "3")  # the additions split over threads
    monkeypatch.setattr(parallel_mod, "MIN_BYTES_PER_THREAD", 1)
    np.testing.assert_allclose(layer.backward(g), expected, rtol=1e-12, atol=1e-12)


def test_inference_in_blocks_matches_one_pass(monkeypatch):
    layer = nb.Conv2D(3, 4, 3, stride=2, padding="same", bias_initializer="random_normal", seed=0)
    x = _rand((5, 9, 8, 3), dtype=np.float32)
    whole = layer.forward(x)
    monkeypatch.setattr(conv_mod, "_IM2COL_BLOCK_BYTES", 1)  # one image per block
    np.testing.assert_allclose(layer.forward(x), whole, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(layer.forward(x, training=True), whole, rtol=1e-6, atol=1e-6)
    assert layer.forward(x).dtype == np.float32


@pytest.mark.parametrize("channels", [3, 6])  # the transposed and the plain im2col matrix
def test_relu_after_each_block_equals_relu_after_the_whole_batch(monkeypatch, channels):
    kwargs = {"padding": "same", "bias_initializer": "random_normal", "dtype": "float64"}
    fused = nb.Conv2D(channels, 4, 3, activation="relu", seed=0, **kwargs)
    linear = nb.Conv2D(channels, 4, 3, seed=0, **kwargs)
    for layer in (fused, linear):
        layer.algorithm = "im2col"
    x = _rand((5, 7, 6, channels))
    g = _rand((5, 7, 6, 4), seed=1)
    expected = np.maximum(linear.forward(x, training=True), 0)
    expected_gx = linear.backward(g * (expected > 0))
    monkeypatch.setattr(conv_mod, "_IM2COL_BLOCK_BYTES", 1)  # one image per block
    for training in (False, True):
        np.testing.assert_allclose(fused.forward(x, training), expected, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(fused.backward(g), expected_gx, rtol=1e-12, atol=1e-12)
    for a, b in zip(fused.parameters(), linear.parameters()):
        np.testing.assert_allclose(a.grad, b.grad, rtol=1e-12, atol=1e-12)


def _run_small_cnn(seed=0):
    layers = [
        nb.Conv2D(2, 4, 3, padding="same", activation="relu", seed=1),
        nb.MaxPool2D(2),
        nb.Conv2D(4, 5, 3, stride=1, padding=1, activation="relu", seed=2),
        nb.MaxPool2D(3, 2),
        nb.AvgPool2D(1),
    ]
    x = _rand((7, 9, 10, 2), seed=seed, dtype=np.float32)
    h = x
    for layer in layers:
        h = layer.forward(h, training=True)
    g = _rand(h.shape, seed=seed + 1, dtype=np.float32)
    for layer in reversed(layers):
        g = layer.backward(g)
    return h, g, [p.grad.copy() for layer in layers for p in layer.parameters()]


@pytest.mark.parametrize("threads", ["2", "3", "8"])
def test_threaded_blocks_give_identical_results(monkeypatch, threads):
    from nablanet.nn.layers import _parallel

    monkeypatch.setenv("NABLANET_NUM_THREADS", "1")
    serial = _run_small_cnn()
    monkeypatch.setenv("NABLANET_NUM_THREADS", threads)
    monkeypatch.setattr(_parallel, "MIN_BYTES_PER_THREAD", 1)  # split even tiny arrays
    calls = []
    original = _parallel.for_each_block

    def counting(fn, n, nbytes):
        calls.append(min(int(threads), n))
        original(fn, n, nbytes)

    for module in (conv_mod, geometry_mod, im2col_mod, nb.nn.layers.pooling):
        monkeypatch.setattr(module, "for_each_block", counting)
    threaded = _run_small_cnn()
    assert max(calls) > 1  # the work was really split
    for a, b in zip(serial[:2], threaded[:2]):
        np.testing.assert_array_equal(a, b)
    for a, b in zip(serial[2], threaded[2]):
        np.testing.assert_array_equal(a, b)


def test_num_threads_follows_the_environment(monkeypatch):
    from nablanet.nn.layers._parallel import num_threads

    monkeypatch.setenv("NABLANET_NUM_THREADS", "3")
    assert num_threads() == 3
    monkeypatch.setenv("NABLANET_NUM_THREADS", "0")
    assert num_threads() == 1
    monkeypatch.setenv("NABLANET_NUM_THREADS", "many")
    assert num_threads() == 1
    monkeypatch.delenv("NABLANET_NUM_THREADS")
    assert num_threads() >= 1


# -- errors ----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"in_channels": 0, "out_channels": 2}, "in_channels"),
        ({"in_channels": 1, "out_channels": -2}, "out_channels"),
        ({"in_channels": 1, "out_channels": 2, "kernel_size": 0}, "kernel_size"),
        ({"in_channels": 1, "out_channels": 2, "kernel_size": (3, 3, 3)}, "kernel_size"),
        ({"in_channels": 1, "out_channels": 2, "stride": 1.5}, "stride"),
        ({"in_channels": 1, "out_channels": 2, "padding": "full"}, "padding"),
        ({"in_channels": 1, "out_channels": 2, "padding": -1}, "padding"),
        ({"in_channels": 1, "out_channels": 2, "activation": "swish"}, "swish"),
        ({"in_channels": 1, "out_channels": 2, "weight_initializer": "nope"}, "nope"),
        ({"in_channels": 1, "out_channels": 2, "dtype": "int32"}, "dtype"),
    ],
)
def test_bad_arguments_raise_clear_errors(kwargs, match):
    with pytest.raises(nb.NablanetError, match=match):
        nb.Conv2D(**kwargs)


def test_bad_inputs_name_the_expected_shape():
    layer = nb.Conv2D(1, 2, 3)
    with pytest.raises(nb.NablanetError, match=r"\(8, 784\).*channels last"):
        layer.forward(np.zeros((8, 784), np.float32))
    with pytest.raises(nb.NablanetError, match=r"\(n_samples, height, width, 1\).*\(2, 5, 5, 3\)"):
        layer.forward(np.zeros((2, 5, 5, 3), np.float32))
    with pytest.raises(nb.NablanetError, match="does not fit"):
        layer.forward(np.zeros((2, 2, 2, 1), np.float32))
    with pytest.raises(nb.NablanetError, match="does not fit"):
        layer.compute_output_shape((2, 5, 1))
    with pytest.raises(nb.NablanetError, match=r"\(height, width, 1\)"):
        layer.compute_output_shape((784,))
    with pytest.raises(nb.NablanetError, match="before forward"):
        nb.Conv2D(1, 2, 3).backward(np.zeros((1, 2, 2, 2), np.float32))


# -- in a model ------------------------------------------------------------------------------
def _bars(n, seed=0):
    """8x8 images holding one horizontal (class 0) or vertical (class 1) bar, plus noise."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    x = rng.normal(0, 0.1, (n, 8, 8, 1)).astype(np.float32)
    pos = rng.integers(1, 7, n)
    for cls in (0, 1):
        idx = np.flatnonzero(y == cls)
        if cls == 0:
            x[idx, pos[idx], :, 0] += 1
        else:
            x[idx, :, pos[idx], 0] += 1
    return x, y


def _small_cnn():
    return nb.Sequential(
        [
            nb.Conv2D(1, 4, 3, padding="same", activation="relu"),
            nb.MaxPool2D(2),
            nb.BatchNormalization(4),
            nb.Conv2D(4, 6, 3, padding="same", activation="relu"),
            nb.GlobalAveragePooling2D(),
            nb.Dense(6, 2, "softmax"),
        ]
    )


def test_a_small_cnn_learns_bar_orientation():
    x, y = _bars(256)
    model = _small_cnn()
    model.compile("categorical_crossentropy", nb.Adam(0.02))
    history = model.fit(x, y, epochs=8, batch_size=32, verbose=0, seed=0)
    assert history.history["loss"][-1] < history.history["loss"][0]
    x_test, y_test = _bars(200, seed=1)
    assert model.evaluate(x_test, y_test, return_dict=True)["accuracy"] >= 0.95


def test_model_gradcheck_through_conv_pool_flatten_dense():
    model = nb.Sequential(
        [
            nb.Conv2D(2, 3, 3, padding="same", activation="tanh", dtype="float64"),
            nb.MaxPool2D(2),
            nb.Conv2D(3, 2, 2, stride=1, activation="tanh", dtype="float64"),
            nb.Flatten(),
            nb.Dense(8, 3, "softmax", dtype="float64"),
        ]
    )
    model.compile("categorical_crossentropy", "sgd")
    x = _rand((4, 6, 6, 2))
    result = nb.gradcheck_model(model, x, np.array([0, 1, 2, 1]))
    assert result.ok, str(result)


def test_summary_lists_output_shapes():
    model = nb.Sequential(
        [
            nb.Conv2D(1, 32, 3, padding="same", activation="relu"),
            nb.MaxPool2D(2),
            nb.Conv2D(32, 64, 3, padding="same", activation="relu"),
            nb.MaxPool2D(2),
            nb.Flatten(),
            nb.Dense(3136, 128, "relu"),
            nb.Dense(128, 10, "softmax"),
        ]
    )
    assert model.output_shapes((28, 28, 1)) == [
        (28, 28, 32),
        (14, 14, 32),
        (14, 14, 64),
        (7, 7, 64),
        (3136,),
        (128,),
        (10,),
    ]
    text = model.summary((28, 28, 1), print_fn=None)
    assert "Conv2D (relu)" in text
    assert "(None, 28, 28, 32)" in text
    assert "(None, 7, 7, 64)" in text
    assert f"{320 + 18496 + 3136 * 128 + 128 + 1290:,}" in text


def test_save_and_load_round_trip(tmp_path):
    x, y = _bars(64)
    model = _small_cnn()
    model.compile("categorical_crossentropy", nb.Adam(0.01))
    model.fit(x, y, epochs=2, batch_size=16, verbose=0)
    path = model.save(tmp_path / "cnn.npz")
    loaded = nb.load_model(path)
    assert [type(layer).__name__ for layer in loaded.layers] == [
        type(layer).__name__ for layer in model.layers
    ]
    assert loaded.get_config() == model.get_config()
    np.testing.assert_array_equal(loaded.predict(x), model.predict(x))
    # the batch-norm running statistics travelled too (they are not at their initial values)
    np.testing.assert_array_equal(loaded.layers[2].running_mean, model.layers[2].running_mean)
    assert model.layers[2].running_mean.any()


# -- im2col fused with ReLU and 2x2 max pooling ------------------------------------------------
def test_im2col_pooled_rows_are_im2col_rows_by_window_position():
    x = _rand((2, 7, 6, 3))
    full, (ho, wo) = im2col(x, (2, 2), (1, 1))
    full = full.reshape(2, ho, wo, -1)
    pooled = im2col_mod.im2col_pooled(x, (2, 2), (1, 1), (ho // 2, wo // 2))
    pooled = pooled.reshape(2, 2, 2, ho // 2, wo // 2, -1)
    for a in range(2):
        for b in range(2):
            np.testing.assert_array_equal(
                pooled[a, b], full[:, a : 2 * (ho // 2) : 2, b : 2 * (wo // 2) : 2]
            )


@pytest.mark.parametrize(
    ("c_in", "kernel", "stride", "padding", "size"),
    [
        (1, 3, 1, "same", (8, 8)),  # the transposed patch matrix (few channels)
        (5, 3, 1, "same", (7, 9)),  # odd output: the last row and column are not pooled
        (3, 2, 2, 0, (11, 10)),
        (6, (3, 2), (1, 2), (1, 0), (9, 12)),
        (2, 5, 1, 2, (6, 6)),
    ],
)
@pytest.mark.parametrize("zeros", [False, True])
def test_im2col_relu_maxpool_equals_the_two_layers(c_in, kernel, stride, padding, size, zeros):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((3, *size, c_in))
    if zeros:  # blank regions: the outputs there are the bias, ties in every window
        x[:, : size[0] // 2] = 0

    def make():
        return nb.Conv2D(
            c_in,
            4,
            kernel,
            stride=stride,
            padding=padding,
            activation="relu",
            bias_initializer="random_normal",
            dtype="float64",
            seed=1,
        )

    fused, plain, pool = make(), make(), nb.MaxPool2D(2)
    assert fused.algorithm == "im2col" and fused.fuses_relu_maxpool(pool)
    expected = pool.forward(plain.forward(x, training=True), training=True)
    y = fused.forward_relu_maxpool(x, training=True)
    np.testing.assert_allclose(y, expected, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(fused.forward_relu_maxpool(x), expected, rtol=1e-12, atol=1e-12)
    g = rng.standard_normal(y.shape)
    np.testing.assert_allclose(
        fused.backward_relu_maxpool(g), plain.backward(pool.backward(g)), rtol=1e-12, atol=1e-12
    )
    for a, b in zip(fused.parameters(), plain.parameters()):
        np.testing.assert_allclose(a.grad, b.grad, rtol=1e-12, atol=1e-12)


def test_im2col_relu_maxpool_first_layer_and_inference_blocks(monkeypatch):
    layer = nb.Conv2D(1, 3, 3, padding="same", activation="relu", dtype="float64", seed=0)
    layer.input_grad = False
    x = _rand((5, 6, 6, 1), seed=3)
    y = layer.forward_relu_maxpool(x, training=True)
    assert layer.backward_relu_maxpool(_rand(y.shape, seed=4)) is None
    assert layer.weights.grad.any()
    monkeypatch.setattr(conv_mod, "_IM2COL_BLOCK_BYTES", 1)  # one image per block
    np.testing.assert_allclose(layer.forward_relu_maxpool(x), y, rtol=1e-12)


def test_a_model_fuses_only_2x2_max_pools():
    nb.set_seed(0)
    model = nb.Sequential(
        [
            nb.Conv2D(2, 4, 3, padding="same", activation="relu", dtype="float64"),
            nb.MaxPool2D(3, 2),  # not 2x2: the ReLU moves after MaxPool2D's own pass
            nb.Conv2D(4, 3, 3, padding="same", activation="relu", dtype="float64"),
            nb.AvgPool2D(2),  # not max: no fusion
            nb.Flatten(),
            nb.Dense(3, 2, "softmax", dtype="float64"),
        ]
    )
    model.compile("categorical_crossentropy", "sgd")
    x = np.maximum(_rand((4, 7, 7, 2), seed=5), 0)
    y = np.array([0, 1, 1, 0])
    model.train_step(x, y)
    # Conv2D + MaxPool2D(3, 2), then Conv2D, AvgPool2D, Flatten alone; Dense joins the loss
    assert [step.kind for step in model.plan.body] == ["conv_maxpool_relu"] + ["layer"] * 3
    assert model.layers[0]._pooled is None and model.layers[1]._relu_out is not None
    assert nb.gradcheck_model(model, x, y).ok
