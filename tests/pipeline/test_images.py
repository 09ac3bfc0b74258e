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


# -- photos: converted to the model's colour mode and resized, each step said -------------------
from nablanet.pipeline import ImageSpec, image_to_sample  # noqa: E402


def test_a_grey_picture_for_a_colour_model_is_repeated_resized_and_said():
    grey = (np.arange(40 * 50) % 256).astype(np.uint8).reshape(40, 50)
    s = image_to_sample(Image.fromarray(grey), ImageSpec((32, 32, 3)))
    assert s.style == "photo" and s.x.shape == (32, 32, 3) and s.x.dtype == np.float32
    assert s.notes == [
        "repeated the greyscale image on 3 channels (the model takes RGB)",
        "resized 50x40 -> 32x32",
    ]
    expected = np.asarray(Image.fromarray(grey).resize((32, 32), Image.Resampling.BILINEAR))
    for c in range(3):
        np.testing.assert_array_equal(s.x[..., c], expected)
    np.testing.assert_array_equal(s.view[..., 0], expected)


def test_a_colour_picture_for_a_grey_photo_model_is_converted_and_said():
    rgb = np.zeros((8, 8, 3), np.uint8)
    rgb[..., 0] = 255
    s = image_to_sample(rgb, ImageSpec((8, 8, 1), style="photo"))
    assert s.notes == ["converted the colour image to greyscale (the model takes 1 channel)"]
    assert s.x.shape == (8, 8, 1) and float(s.x[0, 0, 0]) == float(
        np.asarray(Image.fromarray(rgb).convert("L"))[0, 0]
    )


def test_a_colour_picture_of_grey_content_is_not_called_colour():
    grey_rgb = np.full((8, 8, 3), 90, np.uint8)
    assert image_to_sample(grey_rgb, ImageSpec((8, 8, 1), style="photo")).notes == []
    assert image_to_sample(grey_rgb, ImageSpec((8, 8, 3))).notes == [
        "repeated the greyscale image on 3 channels (the model takes RGB)"
    ]


def test_transparency_is_white_paper_and_the_value_range_is_the_models():
    rgba = np.zeros((4, 4, 4), np.uint8)  # fully transparent
    s = image_to_sample(rgba, ImageSpec((4, 4, 3), value_range=(0.0, 16.0)))
    np.testing.assert_allclose(s.x, 16.0)
    assert s.view.max() == 255


def test_floats_in_unit_range_and_files(tmp_path):
    x = np.random.default_rng(0).random((6, 6, 3))
    a = image_to_sample(x, ImageSpec((6, 6, 3))).x
    np.testing.assert_array_equal(a, np.round(x * 255))
    path = tmp_path / "pic.jpg"
    Image.fromarray(np.full((30, 20, 3), (200, 100, 50), np.uint8)).save(path)
    assert image_to_sample(path, ImageSpec((6, 6, 3))).notes == ["resized 20x30 -> 6x6"]


def test_unreadable_missing_and_oversized_pictures_name_the_file(tmp_path, monkeypatch):
    fake = tmp_path / "notes.png"
    fake.write_text("not a picture")
    with pytest.raises(InputError, match=r"^notes.png: cannot read the image"):
        image_to_sample(fake, ImageSpec((8, 8, 3)))
    with pytest.raises(InputError, match=r"^gone.png: no such image file"):
        image_to_sample(tmp_path / "gone.png", ImageSpec((8, 8, 3)))
    big = tmp_path / "big.png"
    Image.fromarray(np.zeros((100, 100, 3), np.uint8)).save(big)
    monkeypatch.setenv("NABLANET_MAX_IMAGE_PIXELS", "5000")
    with pytest.raises(InputError, match=r"^big.png: the image .* refused"):
        image_to_sample(big, ImageSpec((8, 8, 3)))
    with pytest.raises(InputError, match=r"does not take images"):
        image_to_sample(big, ImageSpec.of((30,)))


def test_the_style_of_a_model_file_decides_the_path():
    canvas = np.full((200, 200, 3), 255, np.uint8)
    canvas[40:160, 90:110] = 0  # a "1"
    digit = image_to_sample(canvas, ImageSpec((28, 28, 1), background="dark"))
    assert digit.style == "digits" and digit.notes[0].startswith("read as a digit")
    assert "inverted the image (light background" in digit.notes[1]
    assert float(digit.x.max()) == 255.0 and float(digit.x[0, 0, 0]) == 0.0  # white on black
    photo = image_to_sample(canvas, ImageSpec((28, 28, 1), background="dark", style="photo"))
    assert photo.style == "photo" and float(photo.x[0, 0, 0]) == 255.0  # as it is


def test_a_colour_picture_for_a_digit_model_is_read_as_grey_ink_and_said():
    canvas = np.full((120, 120, 3), 255, np.uint8)
    canvas[20:100, 50:70] = (200, 0, 0)  # a red "1"
    s = image_to_sample(canvas, ImageSpec((28, 28, 1), background="dark"))
    assert s.style == "digits" and s.x.shape == (28, 28, 1)
    assert "converted the colour image to greyscale (the model takes 1 channel)" in s.notes
