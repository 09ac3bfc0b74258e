"""Downloads against a loopback HTTP server on 127.0.0.1: success, mirror fallback, checksum
mismatch, interrupted transfers; the cache never keeps a half-written file."""

from __future__ import annotations

import gzip
import hashlib
import socket
from pathlib import Path

import pytest

from nablanet.data import DataError, download_file, load_dataset, load_idx_dataset

from .conftest import IDX_NAMES


def _files(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_download_writes_file_and_shows_progress(server, tmp_path, capsys):
    body = gzip.compress(b"hello world" * 1000)
    url = server.serve("/f.gz", body)
    dest = download_file(
        url,
        tmp_path / "cache" / "f.gz",
        expected_md5=hashlib.md5(b"hello world" * 1000).hexdigest(),
    )
    assert dest.read_bytes() == body
    assert _files(tmp_path / "cache") == ["f.gz"]  # no temporary file left
    assert "f.gz" in capsys.readouterr().err  # the tqdm bar names the file


def test_checksum_mismatch_leaves_nothing(server, tmp_path):
    url = server.serve("/f.gz", gzip.compress(b"corrupted content"))
    folder = tmp_path / "cache"
    with pytest.raises(DataError, match="checksum mismatch") as info:
        download_file(url, folder / "f.gz", expected_md5="0" * 32, progress=False)
    assert url in str(info.value) and "0" * 32 in str(info.value)
    assert _files(folder) == []


def test_interrupted_transfer_leaves_nothing(server, tmp_path):
    url = server.serve("/f.gz", b"x" * 100_000, mode="truncate")
    folder = tmp_path / "cache"
    with pytest.raises(DataError, match="interrupted after 50000 of 100000 bytes"):
        download_file(url, folder / "f.gz", progress=False)
    assert _files(folder) == []


def test_failed_download_keeps_the_existing_file(server, tmp_path):
    dest = tmp_path / "f.gz"
    dest.write_bytes(b"old")
    url = server.serve("/f.gz", b"new" * 10, mode="truncate")
    with pytest.raises(DataError):
        download_file(url, dest, progress=False)
    assert dest.read_bytes() == b"old"
    assert _files(tmp_path) == ["f.gz"]


def test_http_error_and_refused_connection(server, tmp_path):
    with pytest.raises(DataError, match="HTTP error 404"):
        download_file(server.url + "/absent.gz", tmp_path / "a.gz", progress=False)
    url = f"http://127.0.0.1:{_closed_port()}/a.gz"
    with pytest.raises(DataError, match="cannot connect"):
        download_file(url, tmp_path / "a.gz", progress=False)
    assert _files(tmp_path) == []


def _serve_tiny(server, tiny, prefix="/m1", mode="ok"):
    for name, raw in tiny.raw.items():
        server.serve(f"{prefix}/{name}.gz", gzip.compress(raw), mode=mode)
    return server.url + prefix + "/"


def test_dataset_download_falls_back_to_the_next_mirror(server, tiny_idx, tmp_path):
    good = _serve_tiny(server, tiny_idx, "/good")
    source = tiny_idx.source(mirrors=(server.url + "/empty/", good))
    ds = load_idx_dataset(source, tmp_path, progress=False)
    assert ds.x.shape == (30, 6, 6, 1) and ds.x_test.shape == (10, 6, 6, 1)
    assert (ds.x[..., 0] == tiny_idx.x).all() and (ds.y == tiny_idx.y).all()
    assert _files(tmp_path / "tiny") == sorted(f"{n}.gz" for n in IDX_NAMES)
    assert ds.source == str(tmp_path / "tiny")
    # a second load reads the cache and makes no request
    n_requests = len(server.requests)
    load_idx_dataset(source, tmp_path, progress=False)
    assert len(server.requests) == n_requests


def test_dataset_download_with_a_corrupted_file_caches_nothing(server, tiny_idx, tmp_path):
    url = _serve_tiny(server, tiny_idx)
    bad = bytearray(tiny_idx.raw[IDX_NAMES[0]])
    bad[100] ^= 0xFF  # one flipped byte: same length, wrong content
    server.serve(f"/m1/{IDX_NAMES[0]}.gz", gzip.compress(bytes(bad)))
    source = tiny_idx.source(mirrors=(url,))
    with pytest.raises(DataError) as info:
        load_idx_dataset(source, tmp_path, progress=False)
    text = str(info.value)
    assert "checksum mismatch" in text and f"{IDX_NAMES[0]}.gz" in text
    assert f"put {IDX_NAMES[0]}.gz" in text and str(tmp_path / "tiny") in text
    assert "\n" not in text
    assert _files(tmp_path / "tiny") == []


def test_dataset_download_interrupted(server, tiny_idx, tmp_path):
    source = tiny_idx.source(mirrors=(_serve_tiny(server, tiny_idx, mode="truncate"),))
    with pytest.raises(DataError, match="download interrupted"):
        load_idx_dataset(source, tmp_path, progress=False)
    assert _files(tmp_path / "tiny") == []


def test_only_missing_files_are_downloaded(server, tiny_idx, tmp_path):
    url = _serve_tiny(server, tiny_idx)
    folder = tmp_path / "tiny"
    folder.mkdir()
    for name in IDX_NAMES[:2]:  # two files already there, uncompressed
        (folder / name).write_bytes(tiny_idx.raw[name])
    ds = load_idx_dataset(tiny_idx.source(mirrors=(url,)), tmp_path, progress=False)
    assert sorted(server.requests) == sorted(f"/m1/{n}.gz" for n in IDX_NAMES[2:])
    assert (ds.y_test == tiny_idx.y_test).all()


def test_offline_without_cache_says_where_to_put_the_files(tiny_idx, tmp_path):
    with pytest.raises(DataError) as info:
        load_idx_dataset(tiny_idx.source(), tmp_path, download=False)
    text = str(info.value)
    assert str(tmp_path / "tiny") in text and "NABLANET_DATA" in text
    for name in IDX_NAMES:
        assert f"{name}.gz" in text


def test_unreachable_mirror_error_says_where_to_put_the_files(tiny_idx, tmp_path):
    source = tiny_idx.source(mirrors=(f"http://127.0.0.1:{_closed_port()}/",))
    with pytest.raises(DataError, match=r"cannot connect.*put .* in .*tiny") as info:
        load_idx_dataset(source, tmp_path, progress=False)
    assert "\n" not in str(info.value)
    assert _files(tmp_path / "tiny") == []


def test_registry_mnist_offline_error_names_the_cache_folder(tmp_path):
    with pytest.raises(DataError, match=r"MNIST is not in .*mnist and downloading is off"):
        load_dataset("mnist", data_dir=tmp_path, download=False)
    with pytest.raises(DataError, match=r"fashion-mnist"):
        load_dataset("fashion-mnist", data_dir=tmp_path, download=False)
