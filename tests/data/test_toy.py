"""The toy 2-D generators: shapes, determinism, class balance, the registry and config specs."""

from __future__ import annotations

import numpy as np
import pytest

from nablanet.data import DataError, list_datasets, load_dataset, make_toy
from nablanet.data.toy import TOY_DATASETS

NAMES = list(TOY_DATASETS)


@pytest.mark.parametrize("name", NAMES)
def test_shapes_dtypes_and_names(name):
    ds = make_toy(name, n_samples=101)
    assert ds.x.shape == (101, 2) and ds.x.dtype == np.float32
    assert ds.y.shape == (101,) and ds.y.dtype == np.int64
    assert ds.feature_names == ["x1", "x2"]
    assert ds.name == name and np.isfinite(ds.x).all()
    n_classes = TOY_DATASETS[name][1].get("n_classes", 2)
    assert len(ds.class_names) == n_classes
    assert ds.task == ("binary" if n_classes == 2 else "multiclass")


@pytest.mark.parametrize("name", NAMES)
def test_deterministic_for_a_seed_and_different_across_seeds(name):
    a, b = make_toy(name, seed=7), make_toy(name, seed=7)
    assert np.array_equal(a.x, b.x) and np.array_equal(a.y, b.y)
    assert not np.array_equal(a.x, make_toy(name, seed=8).x)


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("n_samples", [90, 97])
def test_classes_are_balanced(name, n_samples):
    ds = make_toy(name, n_samples=n_samples)
    counts = np.bincount(ds.y, minlength=len(ds.class_names))
    assert counts.sum() == n_samples and counts.max() - counts.min() <= 1


@pytest.mark.parametrize("name", NAMES)
def test_noise_scales_the_spread(name):
    clean, noisy = make_toy(name, noise=0.0, seed=1), make_toy(name, noise=1.0, seed=1)
    assert np.array_equal(clean.y, noisy.y)
    assert np.abs(noisy.x - clean.x).mean() > 0.1


def test_noiseless_shapes_are_what_their_names_say():
    circles = make_toy("circles", noise=0.0)
    radius = np.hypot(*circles.x.T)
    assert np.allclose(radius[circles.y == 0], 1.0) and np.allclose(radius[circles.y == 1], 0.5)
    xor = make_toy("xor", noise=0.0)
    assert np.array_equal(xor.y, (xor.x[:, 0] * xor.x[:, 1] < 0).astype(int))
    spiral = make_toy("spiral", noise=0.0, n_classes=4, n_samples=400)
    assert np.bincount(spiral.y).tolist() == [100] * 4
    assert np.hypot(*spiral.x.T).max() <= 1.0 + 1e-6
    blobs = make_toy("gaussians", noise=0.01, n_classes=3)
    centres = np.array([blobs.x[blobs.y == c].mean(axis=0) for c in range(3)])
    assert np.allclose(np.hypot(*centres.T), 1.5, atol=0.01)


def test_registry_lists_them_and_passes_parameters():
    infos = {i.name: i for i in list_datasets()}
    for name in NAMES:
        assert infos[name].input_shape == (2,) and infos[name].available_offline
    ds = load_dataset({"name": "spiral", "n_samples": 60, "noise": 0.0, "n_classes": 5, "seed": 2})
    assert ds.x.shape == (60, 2) and len(ds.class_names) == 5
    assert load_dataset("moons").x.shape == (600, 2)  # the defaults


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ({"name": "moons", "n_classes": 3}, "unknown parameter 'n_classes'"),
        ({"name": "breast_cancer", "noise": 0.1}, "it takes none"),
        ({"name": "spiral", "n_samples": 1}, "'n_samples' parameter of make_spiral"),
        ({"name": "xor", "noise": -1.0}, "'noise' parameter of make_xor"),
        ({"name": "spiral", "n_classes": 1}, "'n_classes' parameter of make_spiral"),
    ],
)
def test_bad_parameters_name_the_problem(spec, message):
    with pytest.raises(DataError, match=message):
        load_dataset(spec)


def test_a_config_trains_on_toy_data_given_either_way():
    from nablanet.pipeline.config import config_from_dict

    def config(data):
        return config_from_dict(
            {
                "data": data,
                "model": {"layers": [{"type": "dense", "units": "auto", "activation": "softmax"}]},
                "training": {"loss": "categorical_crossentropy", "epochs": 1},
            }
        )

    short = config({"dataset": "spiral", "n_samples": 600, "noise": 0.2})
    long = config({"dataset": {"name": "spiral", "n_samples": 600, "noise": 0.2}})
    assert short.data.dataset_spec() == long.data.dataset_spec()
    assert short.data.dataset_spec() == {"name": "spiral", "n_samples": 600, "noise": 0.2}
    assert short.data.dataset_label() == "spiral"
    assert config_from_dict(short.to_dict()).data.dataset_spec() == short.data.dataset_spec()
