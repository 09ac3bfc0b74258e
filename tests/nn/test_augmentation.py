"""RandomTranslation: each training image is shifted by its own random offset; identity at
inference (its gradient check and config round trip run with every layer in test_layers.py)."""

from __future__ import annotations

import numpy as np
import pytest

import nablanet as nb


def shifted(img: np.ndarray, dy: int, dx: int) -> np.ndarray:
    """``img`` (H, W, C) moved down by ``dy`` and right by ``dx``, zeros moved in."""
    h, w, _ = img.shape
    out = np.zeros_like(img)
    out[max(dy, 0) : h + min(dy, 0), max(dx, 0) : w + min(dx, 0)] = img[
        max(-dy, 0) : h + min(-dy, 0), max(-dx, 0) : w + min(-dx, 0)
    ]
    return out


def test_each_image_is_shifted_by_its_own_offset_within_range():
    rng = np.random.default_rng(0)
    x = rng.random((300, 6, 7, 2)).astype(np.float32)
    layer = nb.RandomTranslation(2, seed=1)
    y = layer.forward(x, training=True)
    assert y.shape == x.shape and y.dtype == np.float32
    seen = set()
    for img, out in zip(x, y, strict=True):
        matches = [
            (dy, dx)
            for dy in range(-2, 3)
            for dx in range(-2, 3)
            if np.array_equal(out, shifted(img, dy, dx))
        ]
        assert len(matches) == 1, matches
        seen.add(matches[0])
    assert len(seen) == 25  # every offset of -2..2 x -2..2 occurs over 300 images


def test_identity_at_inference_and_with_no_shift():
    x = np.random.default_rng(0).random((4, 5, 5, 1)).astype(np.float32)
    assert nb.RandomTranslation(3, seed=0).forward(x, training=False) is x
    assert nb.RandomTranslation(0, seed=0).forward(x, training=True) is x
    layer = nb.RandomTranslation(2, seed=0)
    layer.forward(x, training=False)
    g = np.ones_like(x)
    assert layer.backward(g) is g


def test_backward_is_the_adjoint_of_the_shift():
    """<shift(x), g> == <x, backward(g)> for the same draw."""
    rng = np.random.default_rng(2)
    x = rng.standard_normal((16, 5, 4, 3))
    g = rng.standard_normal((16, 5, 4, 3))
    layer = nb.RandomTranslation(3, seed=4)
    y = layer.forward(x, training=True)
    gx = layer.backward(g)
    assert gx.shape == x.shape
    np.testing.assert_allclose(np.sum(y * g), np.sum(x * gx), rtol=1e-12)


def test_reproducible_with_a_seed_and_with_set_seed():
    x = np.random.default_rng(0).random((8, 6, 6, 1)).astype(np.float32)
    a = nb.RandomTranslation(2, seed=5).forward(x, training=True)
    b = nb.RandomTranslation(2, seed=5).forward(x, training=True)
    np.testing.assert_array_equal(a, b)
    nb.set_seed(3)
    c = nb.RandomTranslation(2).forward(x, training=True)
    nb.set_seed(3)
    d = nb.RandomTranslation(2).forward(x, training=True)
    np.testing.assert_array_equal(c, d)


def test_errors_name_the_shape_and_the_parameter():
    with pytest.raises(nb.NablanetError, match=r"RandomTranslation expected images .* \(4, 784\)"):
        nb.RandomTranslation(2).forward(np.zeros((4, 784), np.float32), training=True)
    with pytest.raises(nb.NablanetError, match="'max_shift' parameter of RandomTranslation"):
        nb.RandomTranslation(-1)
    with pytest.raises(nb.NablanetError, match="'max_shift' parameter"):
        nb.RandomTranslation(1.5)


def test_a_model_with_augmentation_trains_saves_and_predicts_unshifted(tmp_path):
    nb.set_seed(0)
    rng = np.random.default_rng(0)
    x = np.zeros((64, 8, 8, 1), np.float32)
    y = rng.integers(0, 2, 64)
    x[y == 0, 1:7, 3:5] = 1.0  # vertical bar
    x[y == 1, 3:5, 1:7] = 1.0  # horizontal bar
    model = nb.Sequential(
        [
            nb.RandomTranslation(1),
            nb.Conv2D(1, 4, 3, padding="same", activation="relu"),
            nb.Flatten(),
            nb.Dense(256, 2, activation="softmax"),
        ]
    )
    model.compile(loss="categorical_crossentropy", optimizer=nb.Adam(0.01))
    model.fit(x, y, epochs=20, batch_size=16, verbose=0)
    assert model.evaluate(x, y, return_dict=True)["accuracy"] == 1.0
    p1 = model.predict(x)
    np.testing.assert_array_equal(p1, model.predict(x))  # inference is deterministic
    model.save(tmp_path / "m.npz")
    again = nb.load_model(tmp_path / "m.npz")
    assert isinstance(again.layers[0], nb.RandomTranslation) and again.layers[0].max_shift == 1
    np.testing.assert_allclose(again.predict(x), p1, rtol=1e-6)


# -- RandomCrop (pad + crop) and RandomFlip -------------------------------------------------------
def test_random_crop_with_zero_padding_is_the_translation_of_the_same_draw():
    x = np.random.default_rng(0).random((50, 6, 5, 3)).astype(np.float32)
    crop = nb.RandomCrop(2, seed=7).forward(x, training=True)
    shift = nb.RandomTranslation(2, seed=7).forward(x, training=True)
    np.testing.assert_array_equal(crop, shift)


def test_random_crop_reflect_windows_come_from_the_mirrored_image():
    rng = np.random.default_rng(1)
    x = rng.random((40, 5, 6, 2))
    layer = nb.RandomCrop(2, padding_mode="reflect", seed=3)
    y = layer.forward(x, training=True)
    padded = np.pad(x, ((0, 0), (2, 2), (2, 2), (0, 0)), mode="reflect")
    offsets = set()
    for img, pad, out in zip(x, padded, y, strict=True):
        found = [
            (a, b)
            for a in range(5)
            for b in range(5)
            if np.array_equal(out, pad[a : a + 5, b : b + 6])
        ]
        assert found, "each output is a window of the reflect-padded image"
        offsets.add(found[0])
        assert img.shape == out.shape
    assert len(offsets) > 10
    # no black border: every output pixel is a pixel of its image
    assert (y > 0).all()


@pytest.mark.parametrize("mode", ["constant", "reflect"])
def test_random_crop_backward_is_the_adjoint(mode):
    rng = np.random.default_rng(2)
    x, g = rng.standard_normal((2, 12, 4, 5, 3))
    layer = nb.RandomCrop(3, padding_mode=mode, seed=4)
    y = layer.forward(x, training=True)
    np.testing.assert_allclose(np.sum(y * g), np.sum(x * layer.backward(g)), rtol=1e-12)


def test_random_flip_flips_about_half_the_images_and_is_its_own_adjoint():
    rng = np.random.default_rng(0)
    x = rng.random((400, 3, 4, 2))
    layer = nb.RandomFlip(seed=1)
    y = layer.forward(x, training=True)
    same = np.all(y == x, axis=(1, 2, 3))
    mirrored = np.all(y == x[:, :, ::-1], axis=(1, 2, 3))
    assert np.all(same | mirrored)
    assert 150 < mirrored.sum() < 250
    g = rng.random(x.shape)
    np.testing.assert_allclose(np.sum(y * g), np.sum(x * layer.backward(g)), rtol=1e-12)
    both = nb.RandomFlip("horizontal_and_vertical", seed=2)
    yb = both.forward(x, training=True)
    kinds = [x, x[:, :, ::-1], x[:, ::-1], x[:, ::-1, ::-1]]
    hits = np.stack([np.all(yb == k, axis=(1, 2, 3)) for k in kinds])
    assert hits.any(axis=0).all() and hits.sum(axis=1).min() > 50
    np.testing.assert_allclose(np.sum(yb * g), np.sum(x * both.backward(g)), rtol=1e-12)


def test_flip_and_crop_are_the_identity_at_inference_and_reproducible():
    x = np.random.default_rng(0).random((4, 6, 6, 3)).astype(np.float32)
    for layer in (nb.RandomFlip(seed=0), nb.RandomCrop(2, "reflect", seed=0)):
        assert layer.forward(x, training=False) is x
        g = np.ones_like(x)
        assert layer.backward(g) is g
    a = nb.RandomFlip(seed=5).forward(x, training=True)
    np.testing.assert_array_equal(a, nb.RandomFlip(seed=5).forward(x, training=True))


def test_flip_and_crop_errors_name_the_parameter_and_the_shape():
    with pytest.raises(nb.NablanetError, match="'padding' parameter of RandomCrop"):
        nb.RandomCrop(-1)
    with pytest.raises(nb.NablanetError, match="'padding_mode' parameter of RandomCrop"):
        nb.RandomCrop(2, "wrap")
    with pytest.raises(nb.NablanetError, match="'mode' parameter of RandomFlip"):
        nb.RandomFlip("diagonal")
    with pytest.raises(nb.NablanetError, match=r"RandomFlip expected images .* \(4, 3072\)"):
        nb.RandomFlip().forward(np.zeros((4, 3072), np.float32), training=True)
    with pytest.raises(nb.NablanetError, match=r"RandomCrop expected images .* \(4, 3072\)"):
        nb.RandomCrop(2).forward(np.zeros((4, 3072), np.float32), training=True)
