"""Pictures to model inputs: a drawing becomes an MNIST-like input, a photo a colour sample (no
browser needed)."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image, ImageDraw

from nablanet.pipeline import InputError
from nablanet.pipeline.images import (
    _max_filter,
    center_of_mass,
    ink_image,
    preprocess_digit,
    preprocess_for_shape,
    stroke_width,
)


def draw_seven(size: int = 400, offset=(0, 0), scale: float = 1.0, width: int = 24) -> np.ndarray:
    """A black "7" on an opaque white RGBA canvas, like the Sketchpad's composite."""
    img = Image.new("RGBA", (size, size), (255, 255, 255, 255))
    d = ImageDraw.Draw(img)
    ox, oy = offset

    def p(x, y):
        return (ox + x * scale, oy + y * scale)

    d.line([p(100, 80), p(260, 80), p(160, 320)], fill=(0, 0, 0, 255), width=width)
    return np.asarray(img)


def bbox(a: np.ndarray, thr: float = 0.1) -> tuple[int, int]:
    m = a > thr
    rows = np.flatnonzero(m.any(1))
    cols = np.flatnonzero(m.any(0))
    return rows[-1] - rows[0] + 1, cols[-1] - cols[0] + 1


def test_empty_white_canvas_is_a_clear_error():
    blank = np.full((200, 200, 4), 255, np.uint8)
    with pytest.raises(InputError, match="empty"):
        preprocess_digit(blank)


def test_transparent_canvas_counts_as_paper():
    # RGB black but fully transparent: nothing is drawn
    clear = np.zeros((100, 100, 4), np.uint8)
    with pytest.raises(InputError, match="empty"):
        preprocess_digit(clear, invert=True)


def test_no_image_and_wrong_types_are_clear_errors():
    with pytest.raises(InputError, match="draw a digit"):
        preprocess_digit(None)
    with pytest.raises(InputError, match="draw a digit"):
        preprocess_digit({"background": None, "layers": [], "composite": None})
    with pytest.raises(InputError, match="Expected an image"):
        preprocess_digit("not an image")
    with pytest.raises(InputError, match="shape"):
        preprocess_digit(np.zeros((10, 10, 7)))


def test_sketchpad_value_uses_the_composite():
    value = {"background": None, "layers": [], "composite": draw_seven()}
    out = preprocess_digit(value)
    assert out.shape == (28, 28) and out.dtype == np.float32


def test_mnist_rule_box_20_and_centre_of_mass():
    out = preprocess_digit(draw_seven())
    assert 0.0 <= out.min() and out.max() == pytest.approx(1.0)
    h, w = bbox(out)
    assert max(h, w) in (20, 21)  # longer side scaled to 20 pixels (+ a faint antialiased edge)
    cy, cx = center_of_mass(out)
    assert abs(cy - 13.5) <= 0.75 and abs(cx - 13.5) <= 0.75
    # white ink on black: the corners are background
    assert out[0, 0] == 0 and out[-1, -1] == 0


def test_position_and_size_on_the_canvas_do_not_matter():
    a = preprocess_digit(draw_seven())
    b = preprocess_digit(draw_seven(size=800, offset=(350, 300), scale=1.5, width=36))
    assert np.abs(a - b).mean() < 0.04


def test_thin_strokes_are_thickened_to_mnist_width():
    thin = preprocess_digit(draw_seven(width=2))
    normal = preprocess_digit(draw_seven(width=24))
    # without thickening, a 2-pixel pen on a 240-pixel drawing is ~0.2 pixel wide at 28x28
    assert stroke_width(thin > 0.5) >= 1.5
    assert (thin > 0.5).sum() >= 0.5 * (normal > 0.5).sum()
    raw = preprocess_digit(draw_seven(width=2), thicken=False)
    assert (raw > 0.5).sum() < (thin > 0.5).sum()


def test_dark_background_upload_is_not_inverted():
    digit = preprocess_digit(draw_seven())
    # an MNIST-style picture (white on black) read back gives the same digit
    upload = (np.stack([digit] * 3, axis=-1) * 255).astype(np.uint8)
    assert ink_image(upload)[0, 0] == 0.0
    again = preprocess_digit(upload)
    assert np.abs(again - digit).mean() < 0.03


def test_ink_image_reads_grey_float_and_pil():
    grey = np.ones((5, 5), np.float32)
    grey[2, 2] = 0.0
    ink = ink_image(grey)
    assert ink[2, 2] == 1.0 and ink[0, 0] == 0.0
    pil = Image.fromarray((grey * 255).astype(np.uint8))
    assert np.allclose(ink_image(pil), ink)


def test_digits_rule_fills_the_8x8_frame():
    out = preprocess_digit(draw_seven(), size=(8, 8), box=None, center="box")
    assert out.shape == (8, 8)
    assert bbox(out, thr=0.05)[0] == 8


def test_preprocess_for_shape():
    assert preprocess_for_shape(draw_seven(), (28, 28, 1)).shape == (1, 28, 28, 1)
    assert preprocess_for_shape(draw_seven(), (8, 8, 1)).shape == (1, 8, 8, 1)
    rgb = preprocess_for_shape(draw_seven(), (32, 32, 3))
    assert rgb.shape == (1, 32, 32, 3) and np.array_equal(rgb[..., 0], rgb[..., 2])
    with pytest.raises(InputError, match="does not take images"):
        preprocess_for_shape(draw_seven(), (30,))


def test_stroke_width_of_a_bar():
    m = np.zeros((200, 200), bool)
    m[50:150, 90:96] = True  # 100 long, 6 wide
    assert stroke_width(m) == pytest.approx(6, rel=0.15)
    assert stroke_width(np.zeros((4, 4), bool)) == 0.0


@pytest.mark.parametrize("size", [1, 2, 3, 4])
def test_max_filter_matches_brute_force(size):
    rng = np.random.default_rng(0)
    a = rng.random((9, 11)).astype(np.float32)
    got = _max_filter(a, size)
    before = size // 2
    want = np.zeros_like(a)
    for i in range(a.shape[0]):
        for j in range(a.shape[1]):
            i0, j0 = max(0, i - before), max(0, j - before)
            want[i, j] = a[i0 : i - before + size, j0 : j - before + size].max()
    assert np.array_equal(got, want)
