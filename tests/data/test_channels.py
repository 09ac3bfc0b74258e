"""Per-channel standardization (CIFAR's input normalization): statistics per colour channel,
fitted on the data given (the training split), saved as JSON, applied to raw pixels."""

from __future__ import annotations

import json

import numpy as np
import pytest

from nablanet.data import (
    ChannelStandardizer,
    DataError,
    serialize_transformer,
    transformer_from_config,
)


def test_mean_and_std_per_channel_over_samples_and_pixels():
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, size=(50, 6, 5, 3), dtype=np.uint8)
    s = ChannelStandardizer().fit(x)
    flat = x.reshape(-1, 3).astype(np.float64)
    np.testing.assert_allclose(s.mean, flat.mean(axis=0), rtol=1e-6)
    np.testing.assert_allclose(s.scale, flat.std(axis=0), rtol=1e-6)
    z = s.transform(x)
    assert z.dtype == np.float32 and z.shape == x.shape
    np.testing.assert_allclose(z.reshape(-1, 3).mean(axis=0), 0.0, atol=1e-5)
    np.testing.assert_allclose(z.reshape(-1, 3).std(axis=0), 1.0, atol=1e-5)
    np.testing.assert_allclose(s.inverse_transform(z), x, atol=1e-3)


def test_streams_blocks_of_a_large_array_exactly(monkeypatch):
    import nablanet.data.preprocessing.scalers as pre

    monkeypatch.setattr(pre, "CHUNK_BYTES", 2000)  # many blocks
    x = np.random.default_rng(1).random((64, 4, 4, 3)) * 255
    s = ChannelStandardizer().fit(x)
    np.testing.assert_allclose(s.mean, x.reshape(-1, 3).mean(axis=0), rtol=1e-6)
    np.testing.assert_allclose(s.scale, x.reshape(-1, 3).std(axis=0), rtol=1e-6)


def test_round_trips_through_json_and_refuses_the_wrong_channels():
    x = np.random.default_rng(2).random((10, 3, 3, 3)).astype(np.float32)
    s = ChannelStandardizer().fit(x)
    spec = json.loads(json.dumps(serialize_transformer(s)))
    np.testing.assert_array_equal(transformer_from_config(spec).transform(x), s.transform(x))
    with pytest.raises(
        DataError, match=r"fitted on images with 3 channel\(s\), got .*\(2, 3, 3, 1\)"
    ):
        s.transform(np.zeros((2, 3, 3, 1)))
    with pytest.raises(DataError, match="not fitted yet"):
        ChannelStandardizer().transform(x)
    with pytest.raises(DataError, match=r"shape \(n_samples, \.\.\.\)"):
        ChannelStandardizer().fit(np.zeros((3, 4)))
