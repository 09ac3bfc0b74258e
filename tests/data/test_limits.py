"""Images and CSV files from strangers: refused by their claims, before they are decoded whole."""

from __future__ import annotations

import time

import numpy as np
import pytest

from nablanet.data import DataError, limits, load_csv, load_image_folder


def _png(path, size, mode="L"):
    from PIL import Image

    Image.new(mode, size).save(path)
    return path


def test_an_image_past_the_pixel_limit_is_refused_before_decoding(tmp_path, monkeypatch):
    monkeypatch.setenv(limits.ENV_IMAGE_PIXELS, "10000")
    for name in ("a", "b"):
        (tmp_path / name).mkdir()
        _png(tmp_path / name / "small.png", (8, 8))
    _png(tmp_path / "b" / "bomb.png", (400, 400))  # 160 000 pixels: 16 x the limit
    with pytest.raises(DataError, match=r"bomb\.png: the image claims more than 10000 pixels"):
        load_image_folder(tmp_path)


def test_an_image_between_pillows_warning_and_error_is_refused_too(tmp_path, monkeypatch):
    """Pillow only warns up to twice its limit; we refuse past the limit itself."""
    monkeypatch.setenv(limits.ENV_IMAGE_PIXELS, "10000")
    path = _png(tmp_path / "big.png", (120, 120))  # 14 400 pixels: 1.44 x the limit
    with pytest.raises(DataError, match="more than 10000"), limits.open_image(path):
        pass


def test_the_pixel_limit_restores_pillows_own(tmp_path, monkeypatch):
    from PIL import Image

    before = Image.MAX_IMAGE_PIXELS
    with limits.open_image(_png(tmp_path / "ok.png", (4, 4))) as img:
        assert img.size == (4, 4)
    assert before == Image.MAX_IMAGE_PIXELS


def test_a_csv_file_past_the_size_limit_is_refused_without_reading_it(tmp_path, monkeypatch):
    monkeypatch.setenv(limits.ENV_CSV_BYTES, "1000")
    path = tmp_path / "t.csv"
    path.write_text("a,b,y\n" + "1,2,0\n" * 400)
    with pytest.raises(DataError, match=r"t\.csv: 2\.\d+ KiB, more than the 1000 bytes"):
        load_csv(path, target="y")


def test_a_csv_line_past_the_limit_is_refused_in_bounded_memory(tmp_path, monkeypatch):
    monkeypatch.setenv(limits.ENV_CSV_LINE_BYTES, "4096")
    path = tmp_path / "t.csv"
    with path.open("w") as f:
        f.write("a,b,y\n1,2,0\n")
        f.write("1" * 5_000_000)  # one 5 MB line with no newline
    start = time.perf_counter()
    with pytest.raises(DataError, match=r"line 3 is longer than 4\.00 KiB"):
        load_csv(path, target="y")
    assert time.perf_counter() - start < 1.0


def test_a_line_exactly_at_the_limit_is_accepted(tmp_path, monkeypatch):
    monkeypatch.setenv(limits.ENV_CSV_LINE_BYTES, "6")
    path = tmp_path / "t.csv"
    path.write_text("a,b,y\n1,2,0\n3,4,1\n")  # each line: 5 characters + newline
    assert limits.check_text_file(path) == 3
    ds = load_csv(path, target="y")
    np.testing.assert_array_equal(ds.x, [[1, 2], [3, 4]])


def test_a_bad_limit_setting_is_named(tmp_path, monkeypatch):
    monkeypatch.setenv(limits.ENV_CSV_BYTES, "lots")
    path = tmp_path / "t.csv"
    path.write_text("a,y\n1,0\n")
    with pytest.raises(DataError, match="NABLANET_MAX_CSV_BYTES='lots'"):
        load_csv(path, target="y")
