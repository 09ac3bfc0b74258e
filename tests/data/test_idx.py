"""The IDX reader and writer: header, magic numbers, element types, truncated and corrupt files."""

from __future__ import annotations

import gzip
import struct

import numpy as np
import pytest

from nablanet.data import DataError, parse_idx, read_idx, write_idx
from nablanet.data.idx import idx_bytes, md5_hex


def test_header_bytes_of_a_known_array():
    data = idx_bytes(np.arange(6, dtype=np.uint8).reshape(2, 3))
    # magic 00 00 08 02, then the sizes 2 and 3 as big-endian uint32, then the 6 bytes
    assert data == bytes.fromhex("000008020000000200000003000102030405")


def test_parse_hand_written_label_file():
    # the start of an MNIST label file: magic 0x00000801, 3 items, labels 5 0 4
    data = bytes.fromhex("00000801") + struct.pack(">I", 3) + bytes([5, 0, 4])
    labels = parse_idx(data)
    assert labels.dtype == np.uint8 and labels.shape == (3,)
    assert labels.tolist() == [5, 0, 4]


def test_parse_hand_written_big_endian_int32_and_float32():
    ints = bytes.fromhex("00000c01") + struct.pack(">I", 2) + struct.pack(">ii", 1, -2)
    assert parse_idx(ints).tolist() == [1, -2]
    floats = bytes.fromhex("00000d01") + struct.pack(">I", 2) + struct.pack(">ff", 1.5, -0.25)
    out = parse_idx(floats)
    assert out.dtype == np.float32 and out.dtype.isnative
    assert out.tolist() == [1.5, -0.25]


@pytest.mark.parametrize("dtype", [np.uint8, np.int8, np.int16, np.int32, np.float32, np.float64])
def test_round_trip_every_element_type(dtype, tmp_path):
    rng = np.random.default_rng(1)
    array = (rng.normal(size=(3, 4, 5)) * 50).astype(dtype)
    for name in ("a.idx", "a.idx.gz"):
        path = write_idx(tmp_path / name, array)
        back = read_idx(path)
        assert back.dtype == np.dtype(dtype) and back.shape == array.shape
        np.testing.assert_array_equal(back, array)
        back[0] = 0  # the result is a writable copy, not a view of the file bytes
    assert (tmp_path / "a.idx.gz").read_bytes()[:2] == b"\x1f\x8b"
    assert (tmp_path / "a.idx").read_bytes()[:2] == b"\x00\x00"


def test_gzip_is_recognised_by_content_not_name(tmp_path):
    array = np.arange(12, dtype=np.uint8).reshape(3, 4)
    path = tmp_path / "images-idx3-ubyte"  # no .gz suffix, but compressed
    path.write_bytes(gzip.compress(idx_bytes(array)))
    np.testing.assert_array_equal(read_idx(path), array)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "only 0 bytes|0 bytes"),
        (b"\x00\x00\x08", "3 bytes"),
        (bytes.fromhex("08030000") + b"\x00" * 8, "magic number 0x08030000"),
        (
            bytes.fromhex("00000701") + struct.pack(">I", 1) + b"\x00",
            "unknown IDX element type 0x07",
        ),
        (bytes.fromhex("00000800"), "0 dimensions"),
        (bytes.fromhex("00000803") + struct.pack(">I", 2), "truncated IDX header"),
        (bytes.fromhex("00000802") + struct.pack(">II", 2, 3) + b"\x01" * 5, "truncated IDX data"),
        (bytes.fromhex("00000801") + struct.pack(">I", 2) + b"\x01" * 3, "trailing bytes"),
    ],
)
def test_malformed_files_raise_one_line_errors(data, message, tmp_path):
    path = tmp_path / "bad-idx1-ubyte"
    path.write_bytes(data)
    with pytest.raises(DataError, match=message) as info:
        read_idx(path)
    text = str(info.value)
    assert str(path) in text and "\n" not in text


def test_truncated_data_error_names_shape_and_sizes(tmp_path):
    images = np.zeros((10, 28, 28), dtype=np.uint8)
    data = idx_bytes(images)[:-100]
    path = tmp_path / "train-images-idx3-ubyte"
    path.write_bytes(data)
    with pytest.raises(DataError, match=r"\(10, 28, 28\) of uint8 needs 7840 bytes, found 7740"):
        read_idx(path)


def test_truncated_gzip_raises(tmp_path):
    compressed = gzip.compress(idx_bytes(np.arange(1000, dtype=np.int32)))
    path = tmp_path / "t10k-labels-idx1-ubyte.gz"
    path.write_bytes(compressed[: len(compressed) // 2])
    with pytest.raises(DataError, match="corrupt or truncated gzip"):
        read_idx(path)


def test_checksum_of_decompressed_content(tmp_path):
    array = np.arange(20, dtype=np.uint8)
    raw = idx_bytes(array)
    path = write_idx(tmp_path / "x.gz", array)
    np.testing.assert_array_equal(read_idx(path, expected_md5=md5_hex(raw)), array)
    # the MD5 of the gzip bytes is not what is checked
    with pytest.raises(DataError, match="MD5 of the decompressed content"):
        read_idx(path, expected_md5=md5_hex(path.read_bytes()))


def test_missing_file(tmp_path):
    with pytest.raises(DataError, match="file not found"):
        read_idx(tmp_path / "nope")


def test_writer_rejects_unsupported_dtype(tmp_path):
    with pytest.raises(DataError, match="IDX cannot store dtype int64"):
        write_idx(tmp_path / "a.idx", np.arange(3, dtype=np.int64))
