"""Files from strangers: every header is checked before its data, nothing oversize is allocated.

Each crafted file here would, read with ``np.load``, allocate what its header claims or inflate a
compressed member whole. The loaders must refuse it with the project's one-line error, quickly
and in little memory.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import time
import zipfile

import numpy as np
import pytest

import nablanet as nb
from nablanet.nn import npyfile, serialization


def _model():
    nb.set_seed(0)
    model = nb.Sequential([nb.Dense(4, 8, activation="relu"), nb.Dense(8, 3, "softmax")])
    model.compile(loss="categorical_crossentropy", optimizer="adam")
    return model


def _npy_header(shape, dtype="<f4", fortran=False) -> bytes:
    buf = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        buf, {"descr": dtype, "fortran_order": fortran, "shape": tuple(shape)}
    )
    return buf.getvalue()


def _write_members(path, members, compress=zipfile.ZIP_STORED):
    """An .npz made by hand: ``members`` maps a name to the raw bytes of its .npy file, or to
    ``(header_bytes, n_zero_bytes)`` streamed into the archive without holding them."""
    with zipfile.ZipFile(path, "w", compression=compress) as zf:
        for name, content in members.items():
            if isinstance(content, bytes):
                zf.writestr(name, content)
                continue
            header, n_zeros = content
            with zf.open(name, "w", force_zip64=True) as f:
                f.write(header)
                chunk = bytes(1 << 20)
                left = n_zeros
                while left > 0:
                    f.write(chunk[: min(left, len(chunk))])
                    left -= min(left, len(chunk))
    return path


def _members_of(path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as zf:
        return {name: zf.read(name) for name in zf.namelist()}


def _raises(path, match):
    with pytest.raises(nb.ModelFileError) as err:
        nb.load_model(path)
    message = str(err.value)
    assert str(path) in message and "\n" not in message
    assert match in message, message
    return message


def test_a_header_claiming_terabytes_is_refused_before_allocating(tmp_path):
    path = _model().save(tmp_path / "m.npz")
    members = _members_of(path)
    # the weights' header claims (10^6, 10^6) float32 = 3.64 TiB; its data is what it was
    data = members["weights/layers.0.weights.npy"]
    members["weights/layers.0.weights.npy"] = _npy_header((10**6, 10**6)) + data[128:]
    bad = _write_members(tmp_path / "huge.npz", members)
    start = time.perf_counter()
    message = _raises(bad, "layers.0.weights")
    assert time.perf_counter() - start < 1.0
    assert "TiB" in message  # the claimed size is named


def test_a_claim_past_the_limit_is_refused_with_its_size(tmp_path, monkeypatch):
    monkeypatch.setenv(npyfile.ENV_LIMIT, "1M")
    path = tmp_path / "big.npz"
    _write_members(path, {"x.npy": (_npy_header((512, 1024)), 512 * 1024 * 4)})
    with pytest.raises(npyfile.ArrayFileError, match=r"2\.00 MiB.*limit of 1\.00 MiB"):
        npyfile.NpzArchive(path)


def test_a_zip_bomb_is_refused_without_inflating_it(tmp_path):
    """A 256 MiB member of zeros compressed to a few hundred KiB, whose header is honest about
    its size but whose shape does not fit the architecture: refused from the headers alone."""
    path = _model().save(tmp_path / "m.npz")
    members = _members_of(path)
    n = 256 * 2**20
    del members["weights/layers.0.weights.npy"]
    bomb = tmp_path / "bomb.npz"
    with zipfile.ZipFile(bomb, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name, content in members.items():
            zf.writestr(name, content)
    _write_members_append(bomb, "weights/layers.0.weights.npy", _npy_header((n // 4,)), n)
    assert bomb.stat().st_size < 2 * 2**20
    start = time.perf_counter()
    message = _raises(bomb, "shape mismatch for `layers.0.weights`")
    assert time.perf_counter() - start < 1.0
    assert "refused before reading it" in message


def _write_members_append(path, name, header, n_zeros):
    with zipfile.ZipFile(path, "a", compression=zipfile.ZIP_DEFLATED) as zf:
        with zf.open(name, "w", force_zip64=True) as f:
            f.write(header)
            chunk = bytes(1 << 20)
            left = n_zeros
            while left > 0:
                f.write(chunk[: min(left, len(chunk))])
                left -= min(left, len(chunk))


def test_a_stream_longer_than_its_header_is_refused_after_one_byte():
    header = npyfile.read_header(io.BytesIO(_npy_header((4,))), "x")
    stream = io.BytesIO(bytes(16) + bytes(10**6))
    with pytest.raises(npyfile.ArrayFileError, match="more data than its header promises"):
        npyfile.read_data(stream, header, "x")
    assert stream.tell() == 17  # read the promise and one byte, never the rest


def test_a_member_whose_directory_size_disagrees_with_its_header(tmp_path):
    path = _model().save(tmp_path / "m.npz")
    members = _members_of(path)
    data = members["weights/layers.1.weights.npy"]
    members["weights/layers.1.weights.npy"] = _npy_header((8, 300)) + data[128:]
    _raises(_write_members(tmp_path / "short.npz", members), "layers.1.weights")


def test_an_architecture_larger_than_the_weights_is_never_built(tmp_path):
    """The JSON says Dense(10^6, 10^6); the file's weights are tiny: refused before the
    3.6 TiB of parameters are allocated."""
    path = _model().save(tmp_path / "m.npz")
    members = _members_of(path)
    with zipfile.ZipFile(path) as zf, zf.open("__nablanet__.npy") as f:
        header = npyfile.read_header(f, "h")
        doc = json.loads(str(npyfile.read_data(f, header, "h")[()]))
    doc["model"]["layers"][0]["config"]["n_inputs"] = 10**6
    doc["model"]["layers"][0]["config"]["n_neurons"] = 10**6
    buf = io.BytesIO()
    np.save(buf, np.array(json.dumps(doc)))
    members["__nablanet__.npy"] = buf.getvalue()
    message = _raises(_write_members(tmp_path / "arch.npz", members), "architecture")
    assert "crafted" in message


def test_duplicated_and_foreign_members_are_refused(tmp_path):
    path = _model().save(tmp_path / "m.npz")
    members = _members_of(path)
    dup = tmp_path / "dup.npz"
    with zipfile.ZipFile(dup, "w") as zf, pytest.warns(UserWarning, match="Duplicate name"):
        for name, content in members.items():
            zf.writestr(name, content)
        zf.writestr("weights/layers.0.biases.npy", members["weights/layers.0.biases.npy"])
    _raises(dup, "appears twice")
    foreign = _write_members(tmp_path / "foreign.npz", {**members, "run.py": b"print(1)"})
    _raises(foreign, "not an .npy member")


def test_an_oversize_json_header_is_refused(tmp_path, monkeypatch):
    monkeypatch.setattr(serialization, "MAX_HEADER_BYTES", 1000)
    path = _model().save(tmp_path / "m.npz")
    _raises(path, "of JSON, more than")


def test_checkpoints_are_read_through_the_same_checks(tmp_path):
    model = _model()
    x = np.random.default_rng(0).normal(size=(16, 4)).astype(np.float32)
    y = np.arange(16) % 3
    model.fit(x, y, epochs=1, batch_size=8, verbose=0)
    path = nb.save_checkpoint(
        tmp_path / "c.npz", model, model.optimizer, epoch=1, history={}, rng_states={}
    )
    members = _members_of(path)
    key = next(k for k in members if k.startswith("optimizer/"))
    members[key] = _npy_header((10**6, 10**6)) + members[key][128:]
    bad = _write_members(tmp_path / "bad.npz", members)
    with pytest.raises(nb.ModelFileError, match=key.removesuffix(".npy")):
        nb.load_checkpoint(bad)


def test_data_files_are_read_through_the_same_checks(tmp_path):
    from nablanet.data import DataError, load_npy, load_npz

    bad_npy = tmp_path / "x.npy"
    bad_npy.write_bytes(_npy_header((10**6, 10**6)) + bytes(64))
    np.save(tmp_path / "y.npy", np.zeros(3, np.int64))
    with pytest.raises(DataError, match=r"truncated.*3\.64 TiB"):
        load_npy(bad_npy, tmp_path / "y.npy")
    bad_npz = _write_members(
        tmp_path / "d.npz",
        {"x.npy": _npy_header((10**6, 10**6)) + bytes(64), "y.npy": _npy_header((3,), "<i8")},
    )
    with pytest.raises(DataError, match="array 'x'"):
        load_npz(bad_npz)


# VmHWM (the peak resident memory of this process image); ru_maxrss would include the
# pytest process this one was forked from
_MEASURED = (
    "import sys\n"
    "from nablanet.cli import main\n"
    "rc = main(sys.argv[1:])\n"
    "status = open('/proc/self/status').read()\n"
    "peak = int(status.split('VmHWM:')[1].split()[0])\n"
    "print(f'PEAK_RSS_KIB={peak}', file=sys.stderr)\n"
    "sys.exit(rc)\n"
)


def _cli(*args, env=None):
    """The CLI in a fresh interpreter; stderr ends with the process's peak memory."""
    return subprocess.run(
        [sys.executable, "-c", _MEASURED, *args],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        timeout=120,
    )


def _split_peak(stderr: str) -> tuple[list[str], float]:
    lines = stderr.strip().splitlines()
    assert lines[-1].startswith("PEAK_RSS_KIB="), stderr
    return lines[:-1], int(lines[-1].split("=")[1]) / 1024


def test_cli_predict_refuses_hostile_files_fast_in_little_memory(tmp_path):
    """Through the CLI as a user runs it: exit status 2, one line, no traceback."""
    path = _model().save(tmp_path / "m.npz")
    members = _members_of(path)
    data = members["weights/layers.0.weights.npy"]
    members["weights/layers.0.weights.npy"] = _npy_header((10**6, 10**6)) + data[128:]
    bad_model = _write_members(tmp_path / "huge.npz", members)
    inputs = tmp_path / "x.npy"
    np.save(inputs, np.zeros((2, 4), np.float32))
    huge_input = tmp_path / "huge_input.npy"
    huge_input.write_bytes(_npy_header((10**6, 10**6)) + bytes(64))
    for args in (
        ["predict", "--model", str(bad_model), "--input", str(inputs)],
        ["predict", "--model", str(path), "--input", str(huge_input)],
    ):
        start = time.perf_counter()
        proc = _cli(*args)
        assert time.perf_counter() - start < 30  # interpreter start included
        assert proc.returncode == 2, proc.stderr
        lines, peak_mib = _split_peak(proc.stderr)
        assert len(lines) == 1 and "Traceback" not in proc.stderr, proc.stderr
        assert peak_mib < 400, f"peak memory {peak_mib:.0f} MiB"
        assert "MemoryError" not in proc.stderr


def test_cli_memory_error_is_one_line(tmp_path, monkeypatch, capsys):
    from nablanet import cli

    def boom(args):
        raise MemoryError("Unable to allocate 3.64 TiB")

    parser = cli.build_parser()
    monkeypatch.setattr(cli, "build_parser", lambda: parser)
    args = parser.parse_args(["datasets"])
    monkeypatch.setattr(parser, "parse_args", lambda argv=None: args)
    args.func = boom
    assert cli.main(["datasets"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "not enough memory" in err and "MemoryError" not in err
