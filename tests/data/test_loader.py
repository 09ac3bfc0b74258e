"""DataLoader: batch sizes, views without shuffling, reproducible shuffling, alignment."""

from __future__ import annotations

import numpy as np
import pytest

from nablanet.data import DataError, DataLoader, PixelScaler


@pytest.fixture
def data():
    x = np.arange(100, dtype=np.float32).reshape(50, 2)  # row i is (2i, 2i+1)
    y = np.arange(50)
    return x, y


def test_unshuffled_batches_are_views_in_order(data):
    x, y = data
    batches = list(DataLoader(x, y, batch_size=16, shuffle=False))
    assert [len(xb) for xb, _ in batches] == [16, 16, 16, 2]
    assert all(np.shares_memory(xb, x) for xb, _ in batches)
    np.testing.assert_array_equal(np.concatenate([yb for _, yb in batches]), y)


def test_shuffled_epoch_covers_each_sample_once_and_stays_aligned(data):
    x, y = data
    loader = DataLoader(x, y, batch_size=8, shuffle=True, seed=0)
    seen = []
    for xb, yb in loader:
        assert (xb[:, 0] == 2 * yb).all()
        assert not np.shares_memory(xb, x)  # a gathered batch, not the dataset
        seen.extend(yb.tolist())
    assert sorted(seen) == list(range(50)) and seen != list(range(50))
    assert len(loader) == 7


def test_epochs_differ_but_are_reproducible(data):
    x, y = data

    def epochs(seed):
        loader = DataLoader(x, y, batch_size=10, seed=seed)
        return [np.concatenate([yb for _, yb in loader]).tolist() for _ in range(2)]

    first, second = epochs(3)
    assert first != second
    assert epochs(3) == [first, second]
    assert epochs(4)[0] != first


def test_state_restores_the_next_epoch(data):
    x, y = data
    loader = DataLoader(x, y, batch_size=10, seed=1)
    list(loader)
    state = loader.get_state()
    expected = [yb.tolist() for _, yb in loader]
    other = DataLoader(x, y, batch_size=10, seed=99)
    other.set_state(state)
    assert [yb.tolist() for _, yb in other] == expected


def test_drop_last(data):
    x, y = data
    loader = DataLoader(x, y, batch_size=16, shuffle=True, drop_last=True, seed=0)
    assert len(loader) == 3 and [len(b) for b, _ in loader] == [16, 16, 16]
    assert len(DataLoader(x, y, batch_size=50, drop_last=True)) == 1
    assert len(DataLoader(x, y, batch_size=64, drop_last=True)) == 0


def test_x_only_indices_and_transforms(data):
    x, y = data
    only_x = list(DataLoader(x, batch_size=20, shuffle=False))
    assert isinstance(only_x[0], np.ndarray) and len(only_x) == 3
    subset = np.array([5, 1, 9])
    got = [yb.tolist() for _, yb in DataLoader(x, y, batch_size=2, shuffle=False, indices=subset)]
    assert got == [[1, 5], [9]]  # batch indices are sorted for disk locality
    images = np.full((4, 2, 2, 1), 255, dtype=np.uint8)
    scaled = next(
        iter(
            DataLoader(
                images,
                np.arange(4),
                batch_size=4,
                transform=PixelScaler(),
                target_transform=lambda t: t * 10,
            )
        )
    )
    assert scaled[0].dtype == np.float32 and scaled[0].max() == 1.0
    assert sorted(scaled[1].tolist()) == [0, 10, 20, 30]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"batch_size": 0}, r"'batch_size' parameter of DataLoader must be a positive integer"),
        ({"batch_size": 2.5}, r"Got 2.5 instead"),
        ({"indices": np.array([0, 60])}, r"indices must lie in 0..49, found 0..60"),
        ({"indices": np.array([0.5])}, r"indices must be a 1-D integer array"),
    ],
)
def test_bad_arguments(data, kwargs, message):
    x, y = data
    with pytest.raises(DataError, match=message):
        DataLoader(x, y, **kwargs)


def test_length_mismatch_names_shapes(data):
    x, _ = data
    with pytest.raises(
        DataError, match=r"x has 50 samples but y has 49 \(shapes \(50, 2\) and \(49,\)\)"
    ):
        DataLoader(x, np.zeros(49))
