"""Reference twin: Conv2D, pooling and batch normalization against PyTorch (CPU, float32).

Skipped when PyTorch is absent. nablanet is NHWC with (kh, kw, c_in, c_out) kernels; PyTorch is
NCHW with (c_out, c_in, kh, kw) weights: the tests permute between the two.
"""

from __future__ import annotations

import numpy as np
import pytest

import nablanet as nb

torch = pytest.importorskip("torch")
F = torch.nn.functional

pytestmark = pytest.mark.torch

RTOL, ATOL = 1e-4, 1e-5


def to_nchw(x: np.ndarray):
    return torch.tensor(np.ascontiguousarray(x.transpose(0, 3, 1, 2)), requires_grad=True)


def from_nchw(t) -> np.ndarray:
    return t.detach().numpy().transpose(0, 2, 3, 1)


def _rand(shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype(np.float32)


@pytest.mark.parametrize(
    ("c_in", "c_out", "kernel", "stride", "padding", "size"),
    [
        (1, 8, 3, 1, "same", (28, 28)),
        (3, 4, 3, 1, 0, (9, 8)),
        (5, 6, (3, 2), (2, 1), (1, 0), (11, 9)),
        (4, 2, 5, 2, 2, (12, 12)),
        (2, 3, 1, 1, 0, (5, 5)),
        (6, 3, 4, 1, "same", (7, 7)),  # even kernel: asymmetric "same" padding
        # 3x3 stride 1 with >= 8 input channels: the Winograd path
        (32, 16, 3, 1, "same", (14, 14)),
        (8, 5, 3, 1, 0, (9, 6)),
        (16, 4, 3, 1, "same", (7, 7)),  # odd output: cropped tiles
    ],
)
@pytest.mark.filterwarnings("ignore:Using padding='same' with even kernel")
def test_conv2d_matches_torch(c_in, c_out, kernel, stride, padding, size):
    layer = nb.Conv2D(
        c_in, c_out, kernel, stride=stride, padding=padding, bias_initializer="random_normal"
    )
    x = _rand((3, *size, c_in), seed=1)
    y = layer.forward(x, training=True)
    g = _rand(y.shape, seed=2)
    gx = layer.backward(g)

    w = torch.tensor(layer.weights.value.transpose(3, 2, 0, 1).copy(), requires_grad=True)
    b = torch.tensor(layer.biases.value.copy(), requires_grad=True)
    xt = to_nchw(x)
    yt = F.conv2d(xt, w, b, stride=stride, padding=padding)
    yt.backward(to_nchw(g).detach())

    np.testing.assert_allclose(y, from_nchw(yt), rtol=RTOL, atol=ATOL)
    np.testing.assert_allclose(gx, from_nchw(xt.grad), rtol=RTOL, atol=ATOL)
    np.testing.assert_allclose(
        layer.weights.grad, w.grad.numpy().transpose(2, 3, 1, 0), rtol=RTOL, atol=1e-4
    )
    np.testing.assert_allclose(layer.biases.grad, b.grad.numpy(), rtol=RTOL, atol=1e-4)


@pytest.mark.parametrize(("pool", "stride"), [(2, None), (3, 2), ((2, 3), (1, 2)), (2, 1)])
def test_maxpool2d_matches_torch_including_ties(pool, stride):
    # ReLU-like data with many exact zeros and repeated values: plenty of ties
    rng = np.random.default_rng(0)
    x = np.maximum(rng.integers(-3, 3, (2, 9, 8, 3)), 0).astype(np.float32)
    layer = nb.MaxPool2D(pool, stride)
    y = layer.forward(x, training=True)
    g = _rand(y.shape, seed=3)
    gx = layer.backward(g)

    xt = to_nchw(x)
    yt = F.max_pool2d(xt, pool, stride=stride if stride is not None else pool)
    yt.backward(to_nchw(g).detach())
    np.testing.assert_array_equal(y, from_nchw(yt))
    np.testing.assert_allclose(gx, from_nchw(xt.grad), rtol=RTOL, atol=ATOL)


@pytest.mark.parametrize(("pool", "stride"), [(2, None), (3, 2), ((2, 3), (1, 2))])
def test_avgpool2d_matches_torch(pool, stride):
    x = _rand((2, 9, 8, 3))
    layer = nb.AvgPool2D(pool, stride)
    y = layer.forward(x, training=True)
    g = _rand(y.shape, seed=3)
    gx = layer.backward(g)
    xt = to_nchw(x)
    yt = F.avg_pool2d(xt, pool, stride=stride if stride is not None else pool)
    yt.backward(to_nchw(g).detach())
    np.testing.assert_allclose(y, from_nchw(yt), rtol=RTOL, atol=ATOL)
    np.testing.assert_allclose(gx, from_nchw(xt.grad), rtol=RTOL, atol=ATOL)


@pytest.mark.parametrize("images", [True, False])
def test_batchnorm_matches_torch(images):
    shape = (8, 5, 4, 3) if images else (16, 3)
    bn = nb.BatchNormalization(3, momentum=0.8, epsilon=1e-3)
    bn.gamma.value[...] = [0.5, 2.0, -1.0]
    bn.beta.value[...] = [0.1, -0.3, 1.0]
    ref = (torch.nn.BatchNorm2d if images else torch.nn.BatchNorm1d)(3, eps=1e-3, momentum=0.2)
    with torch.no_grad():
        ref.weight[...] = torch.tensor(bn.gamma.value)
        ref.bias[...] = torch.tensor(bn.beta.value)

    def to_torch(a):
        t = to_nchw(a) if images else torch.tensor(a, requires_grad=True)
        return t

    def back(t):
        return from_nchw(t) if images else t.detach().numpy()

    for step in range(3):  # a few steps: the running statistics must agree too
        x = _rand(shape, seed=10 + step) * 2 + 1
        g = _rand(shape, seed=20 + step)
        bn.zero_grad()
        y = bn.forward(x, training=True)
        gx = bn.backward(g)
        ref.train()
        ref.zero_grad()
        xt = to_torch(x)
        yt = ref(xt)
        yt.backward(to_torch(g).detach())
        np.testing.assert_allclose(y, back(yt), rtol=RTOL, atol=ATOL)
        np.testing.assert_allclose(gx, back(xt.grad), rtol=RTOL, atol=ATOL)
        np.testing.assert_allclose(bn.gamma.grad, ref.weight.grad.numpy(), rtol=RTOL, atol=1e-4)
        np.testing.assert_allclose(bn.beta.grad, ref.bias.grad.numpy(), rtol=RTOL, atol=1e-4)
        np.testing.assert_allclose(bn.running_mean, ref.running_mean.numpy(), rtol=RTOL, atol=ATOL)
        np.testing.assert_allclose(bn.running_var, ref.running_var.numpy(), rtol=RTOL, atol=ATOL)
    ref.eval()
    x = _rand(shape, seed=99)
    with torch.no_grad():
        expected = back(ref(to_torch(x).detach()))
    np.testing.assert_allclose(bn.forward(x, training=False), expected, rtol=RTOL, atol=ATOL)


def test_a_whole_cnn_matches_torch_gradients():
    nb.set_seed(0)
    model = nb.Sequential(
        [
            nb.Conv2D(1, 8, 3, padding="same", activation="relu", bias_initializer="random_normal"),
            nb.MaxPool2D(2),
            nb.BatchNormalization(8),
            nb.Conv2D(8, 6, 3, padding="same", activation="relu"),  # Winograd
            nb.MaxPool2D(2),
            nb.Flatten(),
            nb.Dense(7 * 7 * 6, 10, "softmax"),
        ]
    )
    model.compile("categorical_crossentropy", "sgd")
    rng = np.random.default_rng(0)
    x = np.maximum(rng.standard_normal((6, 28, 28, 1)), 0).astype(np.float32)  # zeros: ties
    y = rng.integers(0, 10, 6)
    model.optimizer.zero_grad()
    loss, _ = model.train_step(x, y)

    conv1, _, bn, conv2, _, _, dense = model.layers
    assert (conv1.algorithm, conv2.algorithm) == ("im2col", "winograd")

    def conv_params(layer):
        w = torch.tensor(layer.weights.value.transpose(3, 2, 0, 1).copy(), requires_grad=True)
        b = torch.tensor(layer.biases.value.copy(), requires_grad=True)
        return w, b

    w1, b1 = conv_params(conv1)
    w2, b2 = conv_params(conv2)
    gamma = torch.tensor(bn.gamma.value.copy(), requires_grad=True)
    beta = torch.tensor(bn.beta.value.copy(), requires_grad=True)
    wd = torch.tensor(dense.weights.value.T.copy(), requires_grad=True)
    bd = torch.tensor(dense.biases.value.copy(), requires_grad=True)
    h = F.max_pool2d(F.relu(F.conv2d(to_nchw(x).detach(), w1, b1, padding=1)), 2)
    h = F.batch_norm(h, None, None, gamma, beta, training=True, eps=bn.epsilon)
    h = F.max_pool2d(F.relu(F.conv2d(h, w2, b2, padding=1)), 2)
    h = h.permute(0, 2, 3, 1).flatten(1)  # NHWC feature order, as nablanet's Flatten
    loss_t = F.cross_entropy(F.linear(h, wd, bd), torch.tensor(y))
    loss_t.backward()

    assert loss == pytest.approx(loss_t.item(), rel=1e-5)
    pairs = [
        (conv1.weights.grad, w1.grad.numpy().transpose(2, 3, 1, 0)),
        (conv1.biases.grad, b1.grad.numpy()),
        (bn.gamma.grad, gamma.grad.numpy()),
        (bn.beta.grad, beta.grad.numpy()),
        (conv2.weights.grad, w2.grad.numpy().transpose(2, 3, 1, 0)),
        (conv2.biases.grad, b2.grad.numpy()),
        (dense.weights.grad, wd.grad.numpy().T),
        (dense.biases.grad, bd.grad.numpy()),
    ]
    for ours, theirs in pairs:
        np.testing.assert_allclose(ours, theirs, rtol=1e-3, atol=1e-5)
