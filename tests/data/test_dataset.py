"""The Dataset record: validation, derived facts, task inference and target encoding."""

from __future__ import annotations

import json

import numpy as np
import pytest

from nablanet.data import DataError, Dataset, encode_targets, infer_task


def make(**kw):
    base = dict(x=np.zeros((4, 3), np.float32), y=np.array([0, 1, 1, 0]), task="binary")
    return Dataset(**{**base, **kw})


def test_defaults_and_derived_facts():
    ds = make()
    assert ds.class_names == ["0", "1"] and ds.input_shape == (3,) and ds.n_samples == 4
    assert ds.n_classes == 2 and ds.n_outputs == 1 and not ds.is_image
    assert ds.y.dtype == np.int64 and ds.x_test is None and not ds.has_test_split
    multi = make(y=np.array([0, 2, 1, 0]), task="multiclass")
    assert multi.class_names == ["0", "1", "2"] and multi.n_outputs == 3
    reg = make(y=np.arange(8.0).reshape(4, 2), task="regression")
    assert reg.y.dtype == np.float32 and reg.n_outputs == 2 and reg.n_classes is None
    img = Dataset(x=np.zeros((2, 28, 28, 1), np.uint8), y=np.array([3, 9]), task="multiclass")
    assert img.is_image and img.input_shape == (28, 28, 1) and img.n_classes == 10


def test_describe_is_json_and_repr_is_short():
    ds = make(feature_names=["a", "b", "c"], name="toy")
    text = json.dumps(ds.describe())
    assert '"n_train": 4' in text and '"feature_names": ["a", "b", "c"]' in text
    assert repr(ds) == (
        "Dataset(name='toy', task='binary', x=(4, 3) float32, y=(4,) int64, classes=['0', '1'])"
    )
    big = Dataset(x=np.zeros((30, 1)), y=np.arange(30) % 20, task="multiclass")
    assert "'...'" in repr(big) and len(repr(big)) < 200


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"task": "ranking"}, r"task must be one of binary, multiclass, regression, got 'ranking'"),
        ({"y": np.array([0, 1, 1])}, r"y has 3 samples but x has 4 \(shapes \(3,\) and \(4, 3\)\)"),
        ({"y": np.array([0, 1, 2, 0])}, r"a binary task needs 2 classes, got 3"),
        ({"y": np.array([0, 1, 5, 0]), "class_names": ["a", "b"]}, r"labels must lie in 0..1"),
        ({"y": np.array([0.0, 1.0, 1.0, 0.0])}, r"class labels must be integers of shape \(n,\)"),
        ({"x": np.zeros(4)}, r"x must have shape \(n_samples, ...features\), got \(4,\)"),
        ({"x": np.array([["a"]] * 4)}, r"x must hold numbers, got dtype <U1"),
        ({"input_shape": (2,)}, r"input_shape \(2,\) does not match x of shape \(4, 3\)"),
        ({"feature_names": ["a"]}, r"1 feature names for x of shape \(4, 3\)"),
        ({"x_test": np.zeros((2, 3))}, r"x_test and y_test must be given together"),
        ({"x_test": np.zeros((2, 5)), "y_test": np.zeros(2, int)}, r"x_test has shape \(2, 5\)"),
        ({"task": "regression", "class_names": ["a"]}, r"regression dataset has no class_names"),
        ({"task": "regression", "y": np.array([0, np.nan, 1, 2])}, r"contain NaN or inf"),
    ],
)
def test_validation_errors(kwargs, message):
    with pytest.raises(DataError, match=message) as info:
        make(**kwargs)
    assert "\n" not in str(info.value)


def test_subset_keeps_metadata_and_test_split():
    ds = make(x_test=np.ones((2, 3), np.float32), y_test=np.array([1, 0]), class_names=["n", "y"])
    sub = ds.subset([3, 0])
    assert sub.n_samples == 2 and sub.class_names == ["n", "y"] and sub.x_test is ds.x_test


@pytest.mark.parametrize(
    ("y", "task"),
    [
        (np.array(["a", "b", "a"]), "binary"),
        (np.array(["a", "b", "c"]), "multiclass"),
        (np.array([True, False]), "binary"),
        (np.array([0, 1, 2, 3]), "multiclass"),
        (np.array([1.0, 2.0, 1.0]), "binary"),
        (np.array([0.5, 1.0, 2.0]), "regression"),
        (np.arange(200), "regression"),  # too many distinct whole numbers for classes
        (np.eye(3)[[0, 1, 2, 1]], "multiclass"),  # one-hot rows
        (np.ones((4, 2)) * 0.5, "regression"),  # several regression targets
    ],
)
def test_infer_task(y, task):
    assert infer_task(y) == task


def test_encode_targets():
    y, y_test, task, names = encode_targets(np.array([3, 7, 3]), np.array([9, 7]))
    assert task == "multiclass" and names == ["3", "7", "9"]
    assert y.tolist() == [0, 1, 0] and y_test.tolist() == [2, 1]
    y, _, task, names = encode_targets(np.array([0, 2, 1]), class_names=["x", "y", "z"])
    assert y.tolist() == [0, 2, 1] and names == ["x", "y", "z"]
    with pytest.raises(DataError, match="do not fit 2 class names"):
        encode_targets(np.array([0, 2]), class_names=["x", "y"])
    y, _, task, names = encode_targets(np.eye(2)[[1, 0, 1]])
    assert task == "binary" and y.tolist() == [1, 0, 1] and names == ["0", "1"]
    y, _, task, names = encode_targets(np.array([[1.5], [2.5]]), task="regression")
    assert y.shape == (2,) and y.dtype == np.float32 and names is None
    with pytest.raises(DataError, match="task must be one of"):
        encode_targets(np.array([1, 2]), task="clustering")
