"""Parameters and the flat buffer they may share."""

from __future__ import annotations

import numpy as np
import pytest

import nablanet as nb
from nablanet.nn.parameter import Parameter, flat_buffers, flatten_parameters


def test_parameter_basics():
    p = Parameter(np.arange(6, dtype=np.float32).reshape(2, 3), "weights")
    assert p.shape == (2, 3) and p.size == 6 and p.dtype == np.float32
    assert p.grad.shape == (2, 3) and p.grad.dtype == np.float32 and not p.grad.any()
    p.grad += 1
    p.zero_grad()
    assert not p.grad.any()
    assert repr(p) == "Parameter(name='weights', shape=(2, 3), dtype=float32)"


def test_flatten_keeps_values_and_makes_views():
    rng = np.random.default_rng(0)
    params = [
        Parameter(rng.standard_normal((3, 2)), "a"),
        Parameter(rng.standard_normal(2), "b"),
        Parameter(np.array(0.5), "c"),  # a scalar, like Neuron.bias
    ]
    before = [p.value.copy() for p in params]
    for p in params:
        p.grad += 1.0
    flat_v, flat_g = flatten_parameters(params)
    assert flat_v.shape == (9,) and flat_g.shape == (9,)
    for p, b in zip(params, before):
        np.testing.assert_array_equal(p.value, b)
        assert np.shares_memory(p.value, flat_v) and np.shares_memory(p.grad, flat_g)
    np.testing.assert_array_equal(flat_g, np.ones(9))  # gradients are kept too
    flat_v[:] = 7.0
    assert params[2].value == 7.0 and (params[0].value == 7.0).all()
    v, g = flat_buffers(params)
    assert v is flat_v and g is flat_g


def test_flat_buffers_detects_separate_or_reordered_parameters():
    params = [Parameter(np.ones(2), "a"), Parameter(np.ones(3), "b")]
    assert flat_buffers(params) is None
    flatten_parameters(params)
    assert flat_buffers(params) is not None
    assert flat_buffers(params[::-1]) is None  # not in buffer order
    assert flat_buffers(params[:1]) is None  # does not cover the whole buffer
    assert flat_buffers([]) is None


def test_flatten_rejects_mixed_dtypes():
    params = [Parameter(np.ones(2, np.float32), "a"), Parameter(np.ones(2), "b")]
    with pytest.raises(ValueError, match="mixed dtypes"):
        flatten_parameters(params)
    assert flatten_parameters([])[0].size == 0


def test_get_rng_and_set_seed():
    nb.set_seed(3)
    a = nb.get_rng().random(3)
    nb.set_seed(3)
    np.testing.assert_array_equal(nb.get_rng().random(3), a)
    np.testing.assert_array_equal(nb.get_rng(5).random(2), np.random.default_rng(5).random(2))
    g = np.random.default_rng(1)
    assert nb.get_rng(g) is g
    # successive generators are independent streams
    assert not np.array_equal(nb.get_rng().random(3), nb.get_rng().random(3))
