"""Issue 14, the Python API's pipeline side: a model saved from Python with its preprocessing
is predicted on raw rows by ``nablanet predict``, a model without one warns on unscaled input,
a deferred-built model exports to ONNX, and the TensorBoard callback writes real event files.
"""

from __future__ import annotations

import logging
import struct
import sys

import numpy as np
import pytest

import nablanet as nb
from nablanet import data as nd
from nablanet import pipeline
from nablanet.cli import main


def _raw_rows(n=40, seed=0):
    """Rows on a scale far from the unit one (like the breast-cancer measurements)."""
    rng = np.random.default_rng(seed)
    x = rng.normal([500.0, 20.0, 0.1], [100.0, 5.0, 0.02], (n, 3)).astype(np.float32)
    y = (x[:, 0] > 500).astype(np.int64)
    return x, y


def _trained(x, y):
    model = nb.Sequential([nb.Dense(8, activation="relu"), nb.Dense(1, "sigmoid")])
    model.compile("binary_crossentropy", nb.Adam(0.05))
    return model


def test_save_with_preprocessing_makes_predict_scale_raw_rows(tmp_path, capsys):
    x, y = _raw_rows()
    scaler = nd.StandardScaler().fit(x)
    model = _trained(x, y)
    model.fit(scaler.transform(x), y, epochs=20, verbose=0)
    path = model.save(tmp_path / "model.npz", preprocessing=scaler)

    trained = pipeline.load_trained_model(path)
    assert type(trained.preprocessing).__name__ == "StandardScaler"
    expected = model.predict(scaler.transform(x))[:, 0]
    got = pipeline.predict(path, x)
    np.testing.assert_allclose(got.probabilities[:, 1], expected, rtol=1e-5)

    np.save(tmp_path / "rows.npy", x[:5])
    assert main(["predict", "--model", str(path), "--input", str(tmp_path / "rows.npy")]) == 0
    out, err = capsys.readouterr()
    assert "looks unscaled" not in err
    probabilities = [float(line.split(",")[2]) for line in out.splitlines()[1:6]]
    chosen = np.where(expected[:5] > 0.5, expected[:5], 1 - expected[:5])
    np.testing.assert_allclose(probabilities, chosen, rtol=1e-5)


def test_save_refuses_what_is_not_a_fitted_transformer(tmp_path):
    x, y = _raw_rows()
    model = _trained(x, y)
    model.build((None, 3))
    with pytest.raises(nb.NablanetError, match="StandardScaler is not fitted"):
        model.save(tmp_path / "m.npz", preprocessing=nd.StandardScaler())
    with pytest.raises(nb.NablanetError, match="takes a fitted transformer"):
        model.save(tmp_path / "m.npz", preprocessing=lambda a: a)
    assert not (tmp_path / "m.npz").exists()


def test_predict_warns_when_a_model_without_preprocessing_gets_unscaled_rows(tmp_path, caplog):
    x, y = _raw_rows()
    model = _trained(x, y)
    model.fit(x, y, epochs=1, verbose=0)
    path = model.save(tmp_path / "bare.npz")
    with caplog.at_level(logging.WARNING, logger="nablanet"):
        pipeline.predict(path, x[:3])
    (record,) = [r for r in caplog.records if "looks unscaled" in r.getMessage()]
    assert "holds no preprocessing" in record.getMessage()
    assert "model.save(path, preprocessing=scaler)" in record.getMessage()
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="nablanet"):
        pipeline.predict(path, np.zeros((2, 3), np.float32))  # scaled-looking input: silent
    assert not [r for r in caplog.records if "looks unscaled" in r.getMessage()]


def test_a_deferred_model_exports_to_onnx(tmp_path):
    onnx = pytest.importorskip("onnx")
    ort = pytest.importorskip("onnxruntime")
    model = nb.Sequential(
        [
            nb.Conv2D(filters=4, kernel_size=3, padding="same", activation="relu"),
            nb.MaxPool2D(2),
            nb.Flatten(),
            nb.Dense(units=3, activation="softmax"),
        ]
    )
    model.build((None, 6, 6, 1))
    path = model.save(tmp_path / "cnn.npz", metadata={"input_shape": [6, 6, 1]})
    result = pipeline.export_onnx(path, tmp_path / "cnn.onnx")
    proto = onnx.load(str(result.path))
    onnx.checker.check_model(proto, full_check=True)
    x = np.random.default_rng(0).normal(0, 1, (2, 6, 6, 1)).astype(np.float32)
    session = ort.InferenceSession(proto.SerializeToString(), providers=["CPUExecutionProvider"])
    (out,) = session.run(None, {session.get_inputs()[0].name: x})
    np.testing.assert_allclose(out, model.predict(x), rtol=1e-5, atol=1e-6)


# -- TensorBoard -------------------------------------------------------------------------------
def _read_events(path):
    """Every Event of a TensorBoard event file (records: u64 length, u32 crc, data, u32 crc)."""
    from tensorboardX.proto import event_pb2

    events, data = [], path.read_bytes()
    i = 0
    while i < len(data):
        (length,) = struct.unpack("<Q", data[i : i + 8])
        payload = data[i + 12 : i + 12 + length]
        events.append(event_pb2.Event.FromString(payload))
        i += 12 + length + 4
    return events


def _scalars(folder):
    out: dict[str, list[tuple[int, float]]] = {}
    (events_file,) = folder.glob("events.out.tfevents.*")
    for event in _read_events(events_file):
        for value in event.summary.value:
            out.setdefault(value.tag, []).append((event.step, value.simple_value))
    return out


def test_tensorboard_writes_event_files_tensorboard_reads(tmp_path):
    pytest.importorskip("tensorboardX")
    x = np.random.default_rng(0).standard_normal((32, 3)).astype(np.float32)
    y = (x[:, 0] > 0).astype(np.int64)
    model = nb.Sequential([nb.Dense(3, 4, "relu", seed=0), nb.Dense(4, 2, "softmax", seed=1)])
    model.compile("sparse_categorical_crossentropy", "adam")
    board = nb.TensorBoard(tmp_path / "logs", histogram_freq=1, update_freq="batch")
    history = model.fit(
        x, y, epochs=3, batch_size=16, validation_split=0.25, callbacks=[board], verbose=0
    )

    train = _scalars(tmp_path / "logs" / "train")
    validation = _scalars(tmp_path / "logs" / "validation")
    assert [s for s, _ in train["epoch_loss"]] == [0, 1, 2]
    np.testing.assert_allclose([v for _, v in train["epoch_loss"]], history["loss"], rtol=1e-6)
    np.testing.assert_allclose(
        [v for _, v in validation["epoch_loss"]], history["val_loss"], rtol=1e-6
    )
    assert "epoch_accuracy" in validation and "epoch_learning_rate" in train
    assert len(train["batch_loss"]) == 3 * 2  # 24 training samples, batches of 16


def test_tensorboard_without_tensorboardx_says_which_extra_to_install(monkeypatch):
    pytest.importorskip("tensorboardX")
    with pytest.raises(nb.NablanetError, match="'update_freq' parameter of TensorBoard"):
        nb.TensorBoard("logs", update_freq="sometimes")
    monkeypatch.setitem(sys.modules, "tensorboardX", None)  # import fails
    with pytest.raises(nb.NablanetError, match=r'pip install "nablanet\[tensorboard\]"'):
        nb.TensorBoard("logs")
