"""Transformers: fitted numbers, round trips, zero-variance features, JSON configs."""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from nablanet.data import (
    TRANSFORMER_REGISTRY,
    ChannelStandardizer,
    Compose,
    DataError,
    ImageFlattener,
    LabelEncoder,
    MinMaxScaler,
    OneHotEncoder,
    PixelScaler,
    StandardScaler,
    serialize_transformer,
    transformer_from_config,
)
from nablanet.data.preprocessing import scalers


@pytest.fixture
def tabular():
    rng = np.random.default_rng(0)
    x = rng.normal(loc=[5.0, -3.0, 100.0], scale=[2.0, 0.1, 30.0], size=(200, 3))
    return x.astype(np.float32)


def json_round_trip(t):
    return transformer_from_config(json.loads(json.dumps(serialize_transformer(t))))


def fitted_examples():
    rng = np.random.default_rng(1)
    images = rng.integers(0, 256, size=(6, 4, 4, 1), dtype=np.uint8)
    tab = rng.normal(size=(10, 3)).astype(np.float32)
    labels = np.array([0, 2, 1, 2])
    colour = rng.integers(0, 256, size=(5, 3, 3, 3), dtype=np.uint8)
    return [
        (StandardScaler().fit(tab), tab),
        (StandardScaler(per_feature=False).fit(images), images),
        (MinMaxScaler(feature_range=(-1, 1)).fit(tab), tab),
        (PixelScaler(max_value=16), images),
        (ChannelStandardizer().fit(colour), colour),
        (ImageFlattener().fit(images), images),
        (OneHotEncoder().fit(labels), labels),
        (LabelEncoder().fit(np.array(["b", "a", "c"])), np.array(["c", "a"])),
        (LabelEncoder().fit(np.array([10, 30, 20])), np.array([30, 10])),
        (Compose([PixelScaler(), ImageFlattener(), StandardScaler()]).fit(images), images),
    ]


@pytest.mark.parametrize(
    ("transformer", "x"),
    fitted_examples(),
    ids=lambda v: type(v).__name__ if not isinstance(v, np.ndarray) else "",
)
def test_config_is_json_and_rebuilds_the_same_transformer(transformer, x):
    config = transformer.get_config()
    text = json.dumps(config)  # plain JSON: lists of floats, no arrays
    rebuilt = json_round_trip(transformer)
    assert json.dumps(rebuilt.get_config()) == text
    assert type(rebuilt) is type(transformer)
    np.testing.assert_array_equal(rebuilt.transform(x), transformer.transform(x))
    out = transformer.transform(x)
    np.testing.assert_array_equal(
        rebuilt.inverse_transform(out), transformer.inverse_transform(out)
    )


def test_every_registered_transformer_is_covered():
    covered = {type(t).__name__ for t, _ in fitted_examples()}
    assert set(TRANSFORMER_REGISTRY) == covered


def test_standard_scaler(tabular):
    scaler = StandardScaler().fit(tabular)
    z = scaler.transform(tabular)
    assert z.dtype == np.float32
    np.testing.assert_allclose(z.mean(axis=0), 0, atol=1e-5)
    np.testing.assert_allclose(z.std(axis=0), 1, rtol=1e-4)
    np.testing.assert_allclose(scaler.inverse_transform(z), tabular, rtol=1e-5, atol=1e-4)
    np.testing.assert_allclose(scaler.mean, tabular.astype(np.float64).mean(axis=0), rtol=1e-6)


def test_scalers_use_the_training_numbers_only(tabular):
    train, test = tabular[:100], tabular[100:] + 1000
    scaler = StandardScaler().fit(train)
    expected = (test - train.astype(np.float64).mean(0)) / train.astype(np.float64).std(0)
    np.testing.assert_allclose(scaler.transform(test), expected, rtol=1e-4)


def test_zero_variance_features_give_no_nan():
    x = np.array([[1.0, 7.0], [2.0, 7.0], [3.0, 7.0]], dtype=np.float32)
    for t in (StandardScaler(), MinMaxScaler()):
        out = t.fit_transform(x)
        assert np.isfinite(out).all(), type(t).__name__
        assert (out[:, 1] == 0).all()
        np.testing.assert_allclose(t.inverse_transform(out), x, rtol=1e-6)
    everything_constant = np.full((5, 2), 3.3, dtype=np.float32)
    assert np.isfinite(StandardScaler(per_feature=False).fit_transform(everything_constant)).all()


def test_chunked_fit_matches_numpy_on_offset_data(monkeypatch):
    monkeypatch.setattr(scalers, "CHUNK_BYTES", 64)  # many tiny blocks
    rng = np.random.default_rng(3)
    x = 1e6 + rng.normal(size=(333, 2))  # a large offset is where naive formulas lose digits
    scaler = StandardScaler().fit(x)
    np.testing.assert_allclose(scaler.mean, x.mean(axis=0), rtol=1e-7)
    np.testing.assert_allclose(scaler.scale, x.std(axis=0), rtol=1e-5)
    mm = MinMaxScaler().fit(x)
    np.testing.assert_allclose(mm.data_min, x.min(axis=0).astype(np.float32))


@settings(max_examples=40, deadline=None)
@given(
    arrays(
        np.float64,
        st.tuples(st.integers(2, 30), st.integers(1, 4)),
        elements=st.floats(-1e4, 1e4, allow_nan=False),
    )
)
def test_scaler_round_trips(x):
    for t in (StandardScaler(), MinMaxScaler(feature_range=(-1, 1))):
        out = t.fit_transform(x)
        assert np.isfinite(out).all()
        span = np.abs(x).max() + 1
        np.testing.assert_allclose(t.inverse_transform(out), x, atol=2e-3 * span)
        back = json_round_trip(t)
        np.testing.assert_array_equal(back.transform(x), out)


def test_min_max_scaler_range(tabular):
    mm = MinMaxScaler(feature_range=(-1.0, 1.0)).fit(tabular)
    out = mm.transform(tabular)
    np.testing.assert_allclose(out.min(axis=0), -1, atol=1e-6)
    np.testing.assert_allclose(out.max(axis=0), 1, atol=1e-6)
    with pytest.raises(DataError, match=r"'feature_range' parameter of MinMaxScaler"):
        MinMaxScaler(feature_range=(1, 1))


def test_pixel_scaler():
    images = np.array([[[0], [255]], [[51], [102]]], dtype=np.uint8)[None]
    out = PixelScaler().fit_transform(images)
    assert out.dtype == np.float32 and out.min() == 0 and out.max() == 1
    np.testing.assert_array_equal(np.round(PixelScaler().inverse_transform(out)), images)
    assert PixelScaler(max_value=16).transform(np.array([[16, 8]]))[0].tolist() == [1.0, 0.5]
    with pytest.raises(DataError, match="'max_value' parameter of PixelScaler"):
        PixelScaler(max_value=0)


def test_flatten_is_a_view_and_reversible():
    images = np.arange(2 * 28 * 28, dtype=np.uint8).reshape(2, 28, 28, 1)
    flat = ImageFlattener().fit(images)
    out = flat.transform(images)
    assert out.shape == (2, 784) and np.shares_memory(out, images)
    np.testing.assert_array_equal(flat.inverse_transform(out), images)
    with pytest.raises(
        DataError, match=r"fitted on samples of shape \(28, 28, 1\), got .*\(2, 784\)"
    ):
        flat.transform(out)
    with pytest.raises(DataError, match=r"expects shape \(n, 784\)"):
        flat.inverse_transform(np.zeros((2, 10)))


def test_one_hot_encoder():
    enc = OneHotEncoder().fit(np.array([0, 1, 3]))
    assert enc.n_classes == 4
    out = enc.transform(np.array([3, 0, 0.0]))
    assert out.dtype == np.float32 and out.tolist() == [[0, 0, 0, 1], [1, 0, 0, 0], [1, 0, 0, 0]]
    assert enc.inverse_transform(out).tolist() == [3, 0, 0]
    with pytest.raises(DataError, match=r"label 4 is outside 0..3"):
        enc.transform(np.array([1, 4]))
    with pytest.raises(DataError, match="use LabelEncoder first"):
        enc.transform(np.array(["a"]))
    with pytest.raises(DataError, match="not fitted yet"):
        OneHotEncoder().transform(np.array([0]))


def test_label_encoder_strings():
    enc = LabelEncoder().fit(np.array(["virginica", "setosa", "setosa", "versicolor"]))
    assert enc.classes.tolist() == ["setosa", "versicolor", "virginica"]
    codes = enc.transform(np.array(["virginica", "setosa"]))
    assert codes.dtype == np.int64 and codes.tolist() == [2, 0]
    assert enc.inverse_transform(codes).tolist() == ["virginica", "setosa"]
    with pytest.raises(DataError, match=r"unknown label 'rose'"):
        enc.transform(np.array(["rose"]))
    with pytest.raises(DataError, match=r"unknown label 'aaa'"):
        enc.transform(np.array(["aaa"]))  # sorts before every class
    with pytest.raises(DataError, match="index out of"):
        enc.inverse_transform(np.array([3]))


def test_compose(tabular):
    pipe = Compose([StandardScaler(), MinMaxScaler()])
    out = pipe.fit_transform(tabular)
    assert out.min() == pytest.approx(0, abs=1e-6) and out.max() == pytest.approx(1, abs=1e-6)
    np.testing.assert_allclose(pipe.inverse_transform(out), tabular, rtol=1e-4, atol=1e-3)
    again = Compose([StandardScaler(), MinMaxScaler()]).fit(tabular)
    np.testing.assert_array_equal(again.transform(tabular), out)
    assert len(pipe) == 2 and isinstance(pipe[0], StandardScaler) and pipe.is_fitted
    nested = json_round_trip(Compose([pipe, ImageFlattener().fit(out)]))
    np.testing.assert_array_equal(nested.transform(tabular), out)


def test_errors_of_unfitted_and_mismatched_transformers(tabular):
    with pytest.raises(DataError, match=r"StandardScaler is not fitted yet; call fit\(x_train\)"):
        StandardScaler().transform(tabular)
    scaler = StandardScaler().fit(tabular)
    with pytest.raises(
        DataError, match=r"fitted on samples of shape \(3,\), got an array of shape \(4, 2\)"
    ):
        scaler.transform(np.zeros((4, 2)))
    with pytest.raises(DataError, match="contains NaN or inf"):
        StandardScaler().fit(np.array([[1.0], [np.nan]]))
    with pytest.raises(DataError, match="cannot fit on an empty array"):
        MinMaxScaler().fit(np.zeros((0, 3)))
    with pytest.raises(DataError, match="expects numbers"):
        StandardScaler().fit(np.array([["a"]]))


def test_config_errors():
    with pytest.raises(
        DataError, match=r"unknown transformer class 'Whitener'; known: .*StandardScaler"
    ):
        transformer_from_config({"class_name": "Whitener", "config": {}})
    with pytest.raises(DataError, match=r"must be \{'class_name'"):
        transformer_from_config({"mean": [0.0]})
    with pytest.raises(DataError, match=r"StandardScaler config: unknown key 'mu'"):
        StandardScaler.from_config({"mu": [1.0]})
    unfitted = json_round_trip(StandardScaler())
    assert not unfitted.is_fitted and unfitted.get_config()["mean"] is None


def test_model_files_of_earlier_versions_name_the_former_classes():
    """Model files written before the rename hold ``Pipeline`` and ``Flatten``: they load."""
    images = np.arange(2 * 4 * 4, dtype=np.uint8).reshape(2, 4, 4, 1)
    spec = serialize_transformer(Compose([PixelScaler(), ImageFlattener()]).fit(images))
    spec["class_name"] = "Pipeline"
    spec["config"]["steps"][1]["class_name"] = "Flatten"
    old = json_round_trip(transformer_from_config(spec))
    assert isinstance(old, Compose) and isinstance(old[1], ImageFlattener)
    assert old.transform(images).shape == (2, 16)
    assert "Flatten" not in TRANSFORMER_REGISTRY and "Pipeline" not in TRANSFORMER_REGISTRY
