"""The registry and the built-in datasets (MNIST-format loading from generated files, and the
scikit-learn bundled sets)."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest

from nablanet.data import (
    FASHION_MNIST,
    MNIST,
    DataError,
    Dataset,
    DatasetInfo,
    default_data_dir,
    list_datasets,
    load_dataset,
    load_idx_dataset,
    register_dataset,
)
from nablanet.data.idx import idx_bytes

from .conftest import IDX_NAMES, make_tiny_idx


@pytest.mark.parametrize("gz", [True, False])
def test_idx_dataset_from_cache_folder(tiny_idx, tmp_path, gz):
    tiny_idx.write(tmp_path / "tiny", gz=gz)
    ds = load_idx_dataset(tiny_idx.source(), tmp_path, download=False)
    assert ds.task == "multiclass" and ds.name == "tiny"
    assert ds.x.shape == (30, 6, 6, 1) and ds.x.dtype == np.uint8
    assert ds.y.dtype == np.int64 and ds.y.tolist() == tiny_idx.y.tolist()
    np.testing.assert_array_equal(ds.x_test[..., 0], tiny_idx.x_test)
    assert ds.input_shape == (6, 6, 1) and ds.is_image and ds.value_range == (0.0, 255.0)
    assert ds.class_names == [str(i) for i in range(10)] and ds.n_outputs == 10


def test_data_dir_may_be_the_dataset_folder_itself(tiny_idx, tmp_path):
    tiny_idx.write(tmp_path / "somewhere")
    ds = load_idx_dataset(tiny_idx.source(), tmp_path / "somewhere", download=False)
    assert len(ds.x) == 30


def test_nablanet_data_env_is_the_default_root(tiny_idx, tmp_path, monkeypatch):
    monkeypatch.setenv("NABLANET_DATA", str(tmp_path / "env-root"))
    assert default_data_dir() == tmp_path / "env-root"
    tiny_idx.write(tmp_path / "env-root" / "tiny")
    assert len(load_idx_dataset(tiny_idx.source(), download=False).x) == 30


def test_home_cache_when_env_is_unset(tmp_path, monkeypatch):
    monkeypatch.delenv("NABLANET_DATA")
    monkeypatch.setenv("HOME", str(tmp_path))
    assert default_data_dir() == tmp_path / ".cache" / "nablanet"


def test_system_folder_is_searched(tiny_idx, tmp_path):
    system = tiny_idx.write(tmp_path / "usr-share" / "fashion")
    source = tiny_idx.source(system_dirs=(str(system),))
    ds = load_idx_dataset(source, tmp_path / "empty-cache", download=False)
    assert ds.source == str(system)
    assert "/usr/share/datasets/fashion-mnist" in FASHION_MNIST.system_dirs


def test_real_dataset_folders_and_checksums():
    assert (MNIST.folder, FASHION_MNIST.folder) == ("mnist", "fashion-mnist")
    assert set(MNIST.md5) == set(IDX_NAMES) == set(FASHION_MNIST.md5)
    assert MNIST.md5["train-labels-idx1-ubyte"] == "a25bea736e30d166cdddb491f175f624"
    assert FASHION_MNIST.class_names[9] == "Ankle boot"


def test_corrupted_cached_file_is_reported(tiny_idx, tmp_path):
    folder = tiny_idx.write(tmp_path / "tiny", gz=False)
    path = folder / IDX_NAMES[1]
    data = bytearray(path.read_bytes())
    data[-1] = (data[-1] + 1) % 10
    path.write_bytes(bytes(data))
    with pytest.raises(DataError, match=r"train-labels-idx1-ubyte: MD5 .* delete it"):
        load_idx_dataset(tiny_idx.source(), tmp_path, download=False)
    # verify=False reads it anyway
    assert len(load_idx_dataset(tiny_idx.source(), tmp_path, download=False, verify=False).y)


def test_label_count_must_match_image_count(tmp_path):
    tiny = make_tiny_idx()
    tiny.raw[IDX_NAMES[1]] = idx_bytes(np.zeros(29, dtype=np.uint8))
    tiny.write(tmp_path / "tiny")
    with pytest.raises(DataError, match=r"expected 30 labels .* got shape \(29,\)"):
        load_idx_dataset(tiny.source(md5={}), tmp_path, download=False)


def test_breast_cancer():
    ds = load_dataset("breast_cancer")
    assert ds.x.shape == (569, 30) and ds.x.dtype == np.float32
    assert ds.task == "binary" and ds.class_names == ["malignant", "benign"]
    assert np.bincount(ds.y).tolist() == [212, 357]
    assert len(ds.feature_names) == 30 and ds.feature_names[0] == "mean radius"
    assert ds.x_test is None and ds.n_outputs == 1


def test_digits_are_small_images():
    ds = load_dataset("digits")
    assert ds.x.shape == (1797, 8, 8, 1) and ds.x.dtype == np.uint8
    assert int(ds.x.max()) == 16 and ds.value_range == (0.0, 16.0)
    assert ds.task == "multiclass" and ds.n_classes == 10


def test_diabetes_is_regression_on_raw_features():
    ds = load_dataset("diabetes")
    assert ds.task == "regression" and ds.class_names is None and ds.n_classes is None
    assert ds.x.shape == (442, 10) and ds.y.dtype == np.float32 and ds.y.shape == (442,)
    assert ds.feature_names[:4] == ["age", "sex", "bmi", "bp"]
    assert 18 <= ds.x[:, 0].min() and ds.x[:, 0].max() <= 80  # ages in years: unscaled
    assert 25 <= ds.y.min() and ds.y.max() <= 346 and ds.n_outputs == 1


def test_list_datasets(tmp_path, tiny_idx):
    infos = {i.name: i for i in list_datasets(tmp_path)}
    assert set(infos) >= {"mnist", "fashion_mnist", "breast_cancer", "digits", "diabetes"}
    assert infos["mnist"].available_offline is False
    assert str(tmp_path / "mnist") in infos["mnist"].location
    assert infos["diabetes"].task == "regression" and infos["diabetes"].available_offline
    assert infos["mnist"].n_train == 60000 and infos["mnist"].input_shape == (28, 28, 1)
    json.dumps([i.to_dict() for i in infos.values()])
    tiny_idx.write(tmp_path / "mnist")
    assert {i.name: i for i in list_datasets(tmp_path)}["mnist"].available_offline


def test_names_are_normalised_and_unknown_names_listed():
    assert load_dataset({"name": "Breast-Cancer"}).name == "breast_cancer"
    with pytest.raises(
        DataError, match=r"unknown dataset 'cifar100'; built-in datasets are .*mnist"
    ):
        load_dataset("cifar100")
    with pytest.raises(DataError, match="must be a name or a dict"):
        load_dataset(42)


def test_register_dataset(tmp_path):
    def loader(data_dir=None, download=True, progress=True):
        return Dataset(
            x=np.zeros((3, 2), np.float32),
            y=np.array([0, 1, 0]),
            task="binary",
            name="toy_for_test",
        )

    info = DatasetInfo("toy_for_test", "binary", 3, None, (2,), 2, True, "memory", "toy")
    register_dataset("toy_for_test", loader, info)
    try:
        assert load_dataset("toy-for-test").name == "toy_for_test"
        assert "toy_for_test" in [i.name for i in list_datasets()]
        with pytest.raises(DataError, match="already registered"):
            register_dataset("toy_for_test", loader, info)
    finally:
        from nablanet.data import registry

        registry._REGISTRY.pop("toy_for_test")


def test_idx_source_is_replaceable():
    mirror = dataclasses.replace(MNIST, mirrors=("http://127.0.0.1:1/",))
    assert mirror.md5 == MNIST.md5 and mirror.mirrors == ("http://127.0.0.1:1/",)
    assert isinstance(Path(MNIST.folder), Path)


def test_bundled_files_read_directly_match_scikit_learn():
    """The fast path (scikit-learn's CSV files, read without importing scikit-learn) gives the
    very arrays and names of the scikit-learn functions."""
    from nablanet.data import builtin

    for fn in (builtin._breast_cancer_arrays, builtin._digits_arrays, builtin._diabetes_arrays):
        fast, slow = fn(fast=True), fn(fast=False)
        assert len(fast) == len(slow)
        for a, b in zip(fast, slow, strict=True):
            if isinstance(a, list):
                assert a == b, fn.__name__
            else:
                np.testing.assert_array_equal(np.asarray(a, np.float64), b, err_msg=fn.__name__)


def test_bundled_datasets_fall_back_to_scikit_learn(monkeypatch):
    from nablanet.data import builtin

    monkeypatch.setattr(builtin, "_bundled_file", lambda name: None)
    ds = load_dataset("diabetes")
    assert ds.x.shape == (442, 10) and ds.feature_names[0] == "age"
