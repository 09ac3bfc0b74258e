"""CIFAR-10 (binary version): the archive path, the extracted-folder path, the download, and
every refusal (missing, truncated, corrupt files; crafted archives). The files are small ones
made here in the exact format (records of 1 label byte + 3072 channel-major pixels)."""

from __future__ import annotations

import dataclasses
import hashlib
import io
import tarfile
from pathlib import Path

import numpy as np
import pytest

from nablanet.data import CIFAR10, DataError, list_datasets, load_cifar, load_dataset
from nablanet.data.cifar import (
    find_cifar,
    parse_cifar_records,
    read_cifar_archive,
    synthetic_cifar_bytes,
    write_synthetic_cifar,
)

N = 6  # records per file in these tests (the real files hold 10 000)


def tiny(**changes):
    return dataclasses.replace(CIFAR10, **{"records_per_file": N, "md5": None, **changes})


def md5_of(path: Path) -> str:
    return hashlib.md5(path.read_bytes()).hexdigest()


def test_records_decode_channel_major_to_nhwc():
    data, images, labels = synthetic_cifar_bytes(5, seed=3)
    x, y = parse_cifar_records(data, "t.bin", records=5)
    np.testing.assert_array_equal(x, images)
    np.testing.assert_array_equal(y, labels)
    # the first 1024 pixel bytes are red, row-major: byte 1 + 32*r + c is x[0, r, c, 0]
    raw = np.frombuffer(data, np.uint8)
    assert x[0, 2, 5, 0] == raw[1 + 32 * 2 + 5]
    assert x[0, 2, 5, 1] == raw[1 + 1024 + 32 * 2 + 5]
    assert x[0, 2, 5, 2] == raw[1 + 2048 + 32 * 2 + 5]
    assert x.flags.c_contiguous and x.dtype == np.uint8 and y.dtype == np.int64


def test_registry_lists_cifar10_and_where_it_is(tmp_path):
    info = {i.name: i for i in list_datasets(tmp_path)}["cifar10"]
    assert (info.n_train, info.n_test, info.input_shape, info.n_classes) == (
        50000,
        10000,
        (32, 32, 3),
        10,
    )
    assert not info.available_offline and "not downloaded yet" in info.location
    write_synthetic_cifar(tmp_path / "cifar10")
    info = {i.name: i for i in list_datasets(tmp_path)}["cifar10"]
    assert info.available_offline and info.location.endswith("cifar-10-batches-bin")


def test_extracted_folder(tmp_path):
    source = tiny()
    folder = write_synthetic_cifar(tmp_path / "cifar10", source, seed=1)
    ds = load_cifar(source, tmp_path, download=False)
    assert ds.x.shape == (5 * N, 32, 32, 3) and ds.x.dtype == np.uint8
    assert ds.x_test.shape == (N, 32, 32, 3) and ds.task == "multiclass"
    assert ds.class_names[:2] == ["airplane", "automobile"] and ds.value_range == (0.0, 255.0)
    expected = np.concatenate(
        [synthetic_cifar_bytes(N, 1 + i)[1] for i in range(5)]
    )  # data_batch_1..5 in order
    np.testing.assert_array_equal(ds.x, expected)
    assert ds.source == str(folder)


def test_class_names_come_from_the_meta_file(tmp_path):
    source = tiny()
    folder = write_synthetic_cifar(tmp_path / "cifar10", source)
    (folder / "batches.meta.txt").write_text("\n".join(f"c{i}" for i in range(10)) + "\n\n")
    assert load_cifar(source, tmp_path).class_names == [f"c{i}" for i in range(10)]
    (folder / "batches.meta.txt").write_text("a\nb\n")
    with pytest.raises(DataError, match=r"batches.meta.txt: expected 10 class names"):
        load_cifar(source, tmp_path)


def test_archive_is_checked_extracted_once_and_then_read_as_a_folder(tmp_path):
    archive = write_synthetic_cifar(tmp_path / "cifar10", tiny(), archive=True)
    source = tiny(md5=md5_of(archive))
    ds = load_cifar(source, tmp_path, download=False)
    folder = tmp_path / "cifar10" / "cifar-10-batches-bin"
    assert ds.source == str(folder) and sorted(p.name for p in folder.iterdir()) == sorted(
        [*source.files, "batches.meta.txt"]
    )
    assert find_cifar(source, tmp_path) == ("folder", folder)
    again = load_cifar(source, tmp_path, download=False)
    np.testing.assert_array_equal(again.x, ds.x)


def test_archive_in_a_read_only_folder_is_read_in_memory(tmp_path, monkeypatch):
    archive = write_synthetic_cifar(tmp_path / "cifar10", tiny(), archive=True)
    import nablanet.data.cifar as cifar

    monkeypatch.setattr(cifar, "_extract", lambda *a: None)
    ds = load_cifar(tiny(), tmp_path)
    assert ds.source == str(archive) and ds.x.shape == (5 * N, 32, 32, 3)


def test_archive_with_a_wrong_md5_is_refused_naming_it(tmp_path):
    archive = write_synthetic_cifar(tmp_path / "cifar10", tiny(), archive=True)
    with pytest.raises(DataError, match=r"cifar-10-binary.tar.gz: MD5 is [0-9a-f]{32}, expected"):
        load_cifar(tiny(md5="0" * 32), tmp_path)
    assert not (tmp_path / "cifar10" / "cifar-10-batches-bin").exists()
    assert archive.exists()  # a user's file is never deleted


def test_the_real_md5_is_the_publishers():
    assert CIFAR10.md5 == "c32a1d4ab5d03f1284b67883e8d87530"
    assert CIFAR10.file_bytes == 30_730_000


@pytest.mark.parametrize(
    ("change", "match"),
    [
        (lambda f: (f / "data_batch_3.bin").unlink(), r"data_batch_3.bin: missing"),
        (
            lambda f: (f / "test_batch.bin").write_bytes((f / "test_batch.bin").read_bytes()[:-5]),
            r"test_batch.bin: truncated: 18433 bytes, expected 18438",
        ),
        (
            lambda f: (f / "data_batch_1.bin").write_bytes(
                (f / "data_batch_1.bin").read_bytes() + b"x"
            ),
            r"data_batch_1.bin: wrong size: 18439 bytes",
        ),
    ],
)
def test_folder_with_a_missing_or_badly_sized_file_is_refused_naming_it(tmp_path, change, match):
    folder = write_synthetic_cifar(tmp_path / "cifar10", tiny())
    change(folder)
    with pytest.raises(DataError, match=match):
        load_cifar(tiny(), tmp_path, download=False)


def test_folder_with_a_label_out_of_range_is_refused_naming_the_file_and_record(tmp_path):
    folder = write_synthetic_cifar(tmp_path / "cifar10", tiny())
    raw = bytearray((folder / "data_batch_2.bin").read_bytes())
    raw[3 * 3073] = 10
    (folder / "data_batch_2.bin").write_bytes(bytes(raw))
    with pytest.raises(DataError, match=r"data_batch_2.bin: record 3 has label 10, expected 0-9"):
        load_cifar(tiny(), tmp_path)


def _tar(path: Path, members: list[tuple[tarfile.TarInfo, bytes | None]]) -> Path:
    with tarfile.open(path, "w:gz") as tar:
        for info, data in members:
            tar.addfile(info, None if data is None else io.BytesIO(data))
    return path


def _file(name: str, data: bytes) -> tuple[tarfile.TarInfo, bytes]:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    return info, data


def _good_members(source) -> list[tuple[tarfile.TarInfo, bytes]]:
    return [
        _file(f"cifar-10-batches-bin/{n}", synthetic_cifar_bytes(N, i)[0])
        for i, n in enumerate(source.files)
    ]


def test_crafted_archive_members_outside_the_folder_are_never_written(tmp_path):
    source = tiny()
    root = tmp_path / "data"
    (root / "cifar10").mkdir(parents=True)
    evil = [
        _file("../escaped.txt", b"pwned"),
        _file("/tmp/absolute-nablanet-test.txt", b"pwned"),
        _file("cifar-10-batches-bin/../../escaped2.txt", b"pwned"),
        _file("cifar-10-batches-bin/readme.html", b"<html>"),
    ]
    link = tarfile.TarInfo("cifar-10-batches-bin/link-to-passwd")
    link.type, link.linkname = tarfile.SYMTYPE, "/etc/passwd"
    _tar(root / "cifar10" / source.archive, [*evil, (link, None), *_good_members(source)])
    ds = load_cifar(source, root)
    assert ds.x.shape == (5 * N, 32, 32, 3)
    written = sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*") if p.is_file())
    assert written == sorted(
        [
            "data/cifar10/cifar-10-binary.tar.gz",
            *(f"data/cifar10/cifar-10-batches-bin/{n}" for n in source.files),
        ]
    )
    assert not Path("/tmp/absolute-nablanet-test.txt").exists()


@pytest.mark.parametrize("kind", [tarfile.SYMTYPE, tarfile.LNKTYPE])
def test_crafted_archive_with_a_link_in_place_of_a_data_file_is_refused(tmp_path, kind):
    source = tiny()
    members = _good_members(source)
    link = tarfile.TarInfo("cifar-10-batches-bin/data_batch_4.bin")
    link.type, link.linkname = kind, "/etc/passwd"
    members[3] = (link, None)
    archive = _tar(tmp_path / "cifar10.tar.gz", members)
    with pytest.raises(DataError, match=r"member cifar-10-batches-bin/data_batch_4.bin is a link"):
        read_cifar_archive(source, archive)


def test_crafted_archive_duplicate_missing_wrong_size_and_corrupt(tmp_path):
    source = tiny()
    good = _good_members(source)
    dup = _tar(tmp_path / "dup.tar.gz", [*good, good[0]])
    with pytest.raises(DataError, match=r"data_batch_1.bin appears twice"):
        read_cifar_archive(source, dup)
    missing = _tar(tmp_path / "missing.tar.gz", good[:-1])
    with pytest.raises(DataError, match=r"no member cifar-10-batches-bin/test_batch.bin"):
        read_cifar_archive(source, missing)
    short = _tar(tmp_path / "short.tar.gz", [*good[:2], _file(good[2][0].name, b"x" * 10)])
    with pytest.raises(DataError, match=r"data_batch_3.bin is 10 bytes, expected 18438"):
        read_cifar_archive(source, short)
    junk = tmp_path / "junk.tar.gz"
    junk.write_bytes(b"\x1f\x8b not really gzip")
    with pytest.raises(DataError, match=r"junk.tar.gz: not a readable tar.gz archive"):
        read_cifar_archive(source, junk)


def test_download_checks_the_archive_md5_before_keeping_it(server, tmp_path):
    archive = write_synthetic_cifar(tmp_path / "src", tiny(), archive=True)
    body = archive.read_bytes()
    url = server.serve("/cifar-10-binary.tar.gz", body)
    root = tmp_path / "cache"
    bad = tiny(urls=(url,), md5="f" * 32)
    with pytest.raises(DataError, match=r"could not download cifar-10-binary.tar.gz .*checksum"):
        load_cifar(bad, root, progress=False)
    assert not any(p.is_file() for p in root.rglob("*"))  # nothing half-verified is kept
    good = tiny(urls=(url,), md5=hashlib.md5(body).hexdigest())
    ds = load_cifar(good, root, progress=False)
    assert ds.x.shape == (5 * N, 32, 32, 3)
    assert (root / "cifar10" / "cifar-10-binary.tar.gz").read_bytes() == body


def test_offline_without_files_says_where_to_put_them(tmp_path):
    with pytest.raises(DataError, match=r"CIFAR-10 is not in .*cifar10 and downloading is off"):
        load_dataset("cifar10", tmp_path, download=False)
