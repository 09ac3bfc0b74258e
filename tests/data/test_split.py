"""Seeded splits: sizes, disjointness, stratification proportions, predefined test splits."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from nablanet.data import (
    DataError,
    DataLoader,
    Dataset,
    train_val_test_indices,
    train_val_test_split,
)


def test_sizes_disjoint_and_complete():
    x = np.arange(1000).reshape(500, 2)
    y = np.arange(500) % 5
    parts = train_val_test_split(x, y, val_fraction=0.2, test_fraction=0.1, seed=1)
    assert [len(parts.x_train), len(parts.x_val), len(parts.x_test)] == [350, 100, 50]
    ids = np.concatenate([parts.x_train[:, 0], parts.x_val[:, 0], parts.x_test[:, 0]]) // 2
    assert sorted(ids.tolist()) == list(range(500))
    assert (parts.y_train == (parts.x_train[:, 0] // 2) % 5).all()  # rows stay paired


def test_same_seed_same_split_other_seed_other_split():
    x, y = np.arange(300)[:, None], np.arange(300) % 3
    a = train_val_test_split(x, y, 0.1, 0.1, seed=7)
    b = train_val_test_split(x, y, 0.1, 0.1, seed=7)
    c = train_val_test_split(x, y, 0.1, 0.1, seed=8)
    np.testing.assert_array_equal(a.x_test, b.x_test)
    assert not np.array_equal(a.x_test, c.x_test)


def test_stratified_proportions_on_imbalanced_classes():
    y = np.repeat([0, 1, 2], [700, 250, 50])
    parts = train_val_test_split(
        np.zeros((1000, 1)), y, val_fraction=0.15, test_fraction=0.2, seed=0
    )
    assert np.bincount(parts.y_test, minlength=3).tolist() == [140, 50, 10]
    # 15% of 250 is 37.5 and of 50 is 7.5: the one spare sample goes to the larger class
    assert np.bincount(parts.y_val, minlength=3).tolist() == [105, 38, 7]
    plain = train_val_test_split(np.zeros((1000, 1)), y, 0.15, 0.2, seed=0, stratify=False)
    assert len(plain.y_test) == 200  # same sizes without stratification


def test_string_labels_and_singleton_classes_stay_in_training():
    y = np.array(["a"] * 20 + ["b"] * 20 + ["rare"])
    parts = train_val_test_split(np.zeros((41, 1)), y, 0.2, 0.2, seed=0)
    assert "rare" in parts.y_train
    assert (parts.y_test == "a").sum() == (parts.y_test == "b").sum() == 4


def test_regression_targets_are_not_stratified():
    y = np.linspace(0, 1, 100).astype(np.float32)
    parts = train_val_test_split(np.zeros((100, 1)), y, 0.1, 0.3, seed=0)
    assert len(parts.y_test) == 30 and parts.y_test.dtype == np.float32


def test_without_targets_and_with_zero_fractions():
    parts = train_val_test_split(np.arange(10)[:, None], None, 0.0, 0.0, seed=0)
    assert len(parts.x_train) == 10 and parts.x_val.shape == (0, 1) and parts.y_train is None
    tiny = train_val_test_split(np.arange(10)[:, None], None, 0.01, 0.01, seed=0)
    assert len(tiny.x_val) == len(tiny.x_test) == 1  # a positive fraction gets one sample


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"val_fraction": 1.0}, r"'val_fraction' parameter .* \[0, 1\). Got 1.0"),
        ({"test_fraction": -0.1}, r"'test_fraction' parameter"),
        ({"val_fraction": 0.5, "test_fraction": 0.5}, r"must be below 1"),
        ({"val_fraction": "0.1"}, r"Got '0.1' instead"),
    ],
)
def test_bad_fractions(kwargs, message):
    with pytest.raises(DataError, match=message):
        train_val_test_split(np.zeros((10, 1)), np.zeros(10), **kwargs)


def test_length_mismatch_and_too_few_samples():
    with pytest.raises(
        DataError, match=r"x has 10 samples but y has 9 \(shapes \(10, 2\) and \(9,\)\)"
    ):
        train_val_test_split(np.zeros((10, 2)), np.zeros(9))
    with pytest.raises(DataError, match="still train on some"):
        train_val_test_split(np.zeros((2, 1)), None, 0.4, 0.4)


@settings(max_examples=60, deadline=None)
@given(
    counts=st.lists(st.integers(1, 60), min_size=2, max_size=6),
    val=st.floats(0, 0.45),
    test=st.floats(0, 0.45),
    seed=st.integers(0, 2**31),
)
def test_stratified_split_properties(counts, val, test, seed):
    y = np.repeat(np.arange(len(counts)), counts)
    n = len(y)
    assume(
        n
        - (0 if val == 0 else max(1, round(n * val)))
        - (0 if test == 0 else max(1, round(n * test)))
        >= 1
    )
    tr, va, te = train_val_test_indices(n, y, val, test, seed=seed)
    assert sorted(np.concatenate([tr, va, te]).tolist()) == list(range(n))
    n_test = 0 if test == 0 else max(1, round(n * test))
    per_class = np.bincount(y[te], minlength=len(counts))
    counts = np.asarray(counts)
    assert len(te) <= n_test
    # every class keeps at least one training sample, and no class is over-represented in test
    assert (np.bincount(y[tr], minlength=len(counts)) >= 1).all()
    assert (per_class <= np.ceil(counts * n_test / n)).all()
    if (counts * n_test / n <= counts - 1).all():  # no class is capped: exact total, fair shares
        assert len(te) == n_test
        assert (per_class >= np.floor(counts * n_test / n)).all()


def test_dataset_split_respects_a_predefined_test_split():
    ds = Dataset(
        x=np.zeros((100, 2), np.float32),
        y=np.arange(100) % 2,
        task="binary",
        x_test=np.ones((7, 2), np.float32),
        y_test=np.zeros(7, np.int64),
    )
    parts = ds.split(val_fraction=0.2, test_fraction=0.3, seed=0)
    assert len(parts.x_train) == 80 and len(parts.x_val) == 20
    assert parts.x_test is ds.x_test and parts.y_test is ds.y_test
    assert parts.y_val.sum() == 10  # stratified
    own = Dataset(x=np.zeros((100, 2), np.float32), y=np.arange(100) % 2, task="binary")
    assert [len(a) for a in own.split(0.2, 0.3, seed=0)[::2]] == [50, 20, 30]


def test_indices_split_a_memory_mapped_array_without_copying(tmp_path):
    x = np.lib.format.open_memmap(tmp_path / "x.npy", mode="w+", dtype=np.float32, shape=(200, 3))
    x[:] = np.arange(200, dtype=np.float32)[:, None]
    y = np.arange(200) % 4
    train, _, _ = train_val_test_indices(len(x), y, 0.1, 0.1, seed=0)
    seen = []
    for xb, yb in DataLoader(x, y, batch_size=32, indices=train, seed=0):
        assert (xb[:, 0].astype(int) % 4 == yb).all()
        seen.extend(xb[:, 0].astype(int).tolist())
    assert sorted(seen) == sorted(train.tolist())


def test_train_test_split_as_scikit_learn():
    # found by QA: `from nablanet.data import train_test_split` (scikit-learn's habit) failed
    from nablanet.data import train_test_split

    x = np.arange(200, dtype=np.float32).reshape(100, 2)
    y = np.array([0] * 80 + [1] * 20)
    x_train, x_test, y_train, y_test = train_test_split(x, y, test_size=0.2, random_state=0)
    assert x_train.shape == (80, 2) and x_test.shape == (20, 2) and y_test.shape == (20,)
    np.testing.assert_array_equal(y_train, y[(x_train[:, 0] // 2).astype(int)])  # rows kept
    assert sorted(np.concatenate([x_train[:, 0], x_test[:, 0]])) == list(x[:, 0])  # a partition
    np.testing.assert_array_equal(x_test, train_test_split(x, y, 0.2, random_state=0)[1])
    _, _, _, strat = train_test_split(x, y, test_size=0.25, random_state=1, stratify=y)
    assert np.bincount(strat).tolist() == [20, 5]
    a, b = train_test_split(x, test_size=10, random_state=0)
    assert a.shape == (90, 2) and b.shape == (10, 2)
    with pytest.raises(DataError, match="stratify=y"):
        train_test_split(x, y, stratify=1 - y)
