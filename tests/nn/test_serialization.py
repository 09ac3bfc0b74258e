"""Model files: exact round trips, no pickle, clear errors for bad files, atomic writes."""

from __future__ import annotations

import json
import zipfile

import numpy as np
import pytest

import nablanet as nb
from nablanet.nn import serialization


def _model(dtype="float32"):
    model = nb.Sequential(
        [
            nb.Dense(4, 6, "leaky_relu", dtype=dtype, weight_regularizer=nb.L2(0.01)),
            nb.Dropout(0.3, seed=2),
            nb.Dense(
                6,
                5,
                nb.LeakyReLU(0.2),
                dtype=dtype,
                weight_regularizer=nb.L1L2(0.01, 0.02),
                bias_regularizer=nb.L1(0.1),
                weight_initializer="xavier_normal",
            ),
            nb.Dense(5, 3, dtype=dtype),
            nb.Softmax(),
        ],
        name="roundtrip",
    )
    model.compile("categorical_crossentropy", nb.RMSprop(0.005, momentum=0.5), ["accuracy"])
    return model


def _xy(n=24, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, 4)).astype(np.float32)
    return x, rng.integers(0, 3, n)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_save_load_gives_identical_predictions(tmp_path, dtype):
    model = _model(dtype)
    x, y = _xy()
    model.fit(x, y, epochs=2, batch_size=8, verbose=0)
    path = model.save(tmp_path / "model.npz", metadata={"classes": ["a", "b", "c"]})
    assert path == tmp_path / "model.npz"
    loaded = nb.load_model(path)
    assert loaded.get_config() == model.get_config()
    assert loaded.name == "roundtrip"
    assert loaded.dtype == dtype
    np.testing.assert_array_equal(loaded.predict(x), model.predict(x))
    assert loaded.evaluate(x, y) == model.evaluate(x, y)
    assert loaded.metadata == {"classes": ["a", "b", "c"]}
    # the compile settings come back too
    assert isinstance(loaded.loss, nb.CategoricalCrossentropy)
    assert loaded.optimizer.get_config() == model.optimizer.get_config()
    assert loaded.metrics == ["accuracy"]
    assert loaded.layers[2].activation.alpha == 0.2
    assert loaded.layers[1].rate == 0.3
    assert loaded.regularization_loss() == pytest.approx(model.regularization_loss())
    # and it trains on
    loaded.fit(x, y, epochs=1, verbose=0)


def test_neuron_and_uncompiled_models(tmp_path):
    model = nb.Sequential([nb.Neuron(3, "sigmoid", dtype="float64")])
    model.save(tmp_path / "n.npz")
    x = np.random.default_rng(0).standard_normal((5, 3))
    loaded = nb.load_model(tmp_path / "n.npz")
    np.testing.assert_array_equal(loaded.predict(x), model.predict(x))
    assert loaded.loss is None
    model.compile("binary_crossentropy", "sgd")
    model.save(tmp_path / "n.npz")
    assert nb.load_model(tmp_path / "n.npz", compile=False).loss is None
    assert isinstance(nb.load_model(tmp_path / "n.npz").loss, nb.BinaryCrossentropy)


def test_metadata_with_numpy_values(tmp_path):
    model = _model()
    model.metadata = {"source": "unit test"}
    model.save(tmp_path / "m.npz", metadata={"n": np.int64(3), "acc": np.float32(0.5)})
    assert nb.load_model(tmp_path / "m.npz").metadata == {
        "source": "unit test",
        "n": 3,
        "acc": 0.5,
    }


def _all_files(tmp_path):
    model = _model()
    x, y = _xy()
    trainer = nb.Trainer(model, batch_size=8, callbacks=[nb.EarlyStopping("loss")], verbose=0)
    trainer.fit(x, y, epochs=2)
    return [
        model.save(tmp_path / "model.npz"),
        trainer.save_checkpoint(tmp_path / "ckpt.npz"),
    ]


def test_every_file_reads_without_pickle(tmp_path):
    for path in _all_files(tmp_path):
        with np.load(path, allow_pickle=False) as data:
            for key in data.files:
                array = data[key]  # would raise for an object array
                assert array.dtype != object, key
            header = json.loads(str(data["__nablanet__"][()]))
        assert header["format"] == "nablanet-model"
        assert header["format_version"] == serialization.FORMAT_VERSION
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


def test_checkpoint_contents(tmp_path):
    _, ckpt_path = _all_files(tmp_path)
    ckpt = nb.load_checkpoint(ckpt_path)
    assert ckpt["epoch"] == 2
    assert ckpt["optimizer"]["class_name"] == "RMSprop"
    assert {"layers.0.weights.square_avg", "layers.0.weights.momentum_buffer"} <= set(
        ckpt["optimizer_state"]
    )
    assert ckpt["callbacks"][0][0] == "EarlyStopping"
    assert "layers.0.weights" in ckpt["callbacks"][0][2]
    assert set(ckpt["rng"]) == {"trainer", "layers"}
    assert "layers.1" in ckpt["rng"]["layers"]  # the dropout layer's generator
    # a checkpoint is also a model file
    assert isinstance(nb.load_model(ckpt_path), nb.Sequential)


# -- bad files -------------------------------------------------------------------------------------
def _raises_naming(path, match=None):
    with pytest.raises(nb.ModelFileError) as err:
        nb.load_model(path)
    message = str(err.value)
    assert str(path) in message
    assert "\n" not in message
    if match:
        assert match in message, message
    return message


def test_missing_file(tmp_path):
    _raises_naming(tmp_path / "nope.npz", "no such model file")


def test_directory(tmp_path):
    _raises_naming(tmp_path, "is a directory")


def test_truncated_files(tmp_path):
    data = (_model().save(tmp_path / "m.npz")).read_bytes()
    for cut in (0, 10, len(data) // 3, len(data) // 2, len(data) - 30, len(data) - 1):
        path = tmp_path / f"cut{cut}.npz"
        path.write_bytes(data[:cut])
        _raises_naming(path, "not a readable .npz model file")


def test_corrupted_member(tmp_path):
    path = _model().save(tmp_path / "m.npz")
    data = bytearray(path.read_bytes())
    start = data.find(b"weights/layers.0.weights")
    data[start + 200 : start + 260] = b"\x00" * 60  # garbage inside the first weight array
    path.write_bytes(bytes(data))
    _raises_naming(path)


@pytest.mark.parametrize(
    "content", [b"hello, I am a text file\n", b"\x93NUMPY garbage", b"PK\x03\x04 not really"]
)
def test_foreign_bytes(tmp_path, content):
    path = tmp_path / "x.npz"
    path.write_bytes(content)
    _raises_naming(path, "not a readable .npz model file")


def test_foreign_npz_and_npy(tmp_path):
    np.savez(tmp_path / "f.npz", a=np.zeros(3))
    _raises_naming(tmp_path / "f.npz", "not a nablanet model file")
    np.save(tmp_path / "a.npy", np.zeros(3))
    _raises_naming(tmp_path / "a.npy", "not a readable .npz model file")


def test_pickled_object_array_is_refused(tmp_path):
    path = tmp_path / "evil.npz"
    arrays = serialization.model_arrays(_model())
    arrays["payload"] = np.array([{"run": "code"}], dtype=object)
    np.savez(path, **arrays)  # np.savez pickles object arrays
    message = _raises_naming(path, "refused to load")
    assert "pickle" in message


def test_a_pickle_is_refused_unread_and_named(tmp_path):
    import pickle

    path = tmp_path / "book.model"
    with open(path, "wb") as f:
        pickle.dump({"weights": np.zeros(3)}, f)  # what a pickling Model.save writes
    assert serialization.looks_like_pickle(path)
    message = _raises_naming(path, "a Python pickle, not a nablanet model file")
    assert "never unpickles" in message and "run any code" in message
    model_path = nb.Sequential([nb.Dense(2, 1)]).save(tmp_path / "m.npz")
    assert not serialization.looks_like_pickle(model_path)
    assert not serialization.looks_like_pickle(tmp_path / "missing.npz")


def _rewrite_header(path, out, change):
    with np.load(path, allow_pickle=False) as data:
        arrays = {k: data[k] for k in data.files}
    header = json.loads(str(arrays["__nablanet__"][()]))
    header = change(header)
    arrays["__nablanet__"] = np.array(header if isinstance(header, str) else json.dumps(header))
    np.savez(out, **arrays)
    return out


def test_bad_headers(tmp_path):
    path = _model().save(tmp_path / "m.npz")

    def newer(h):
        return {**h, "format_version": 99}

    def other_format(h):
        return {**h, "format": "keras"}

    def unknown_layer(h):
        h["model"]["layers"][0]["class_name"] = "Conv9D"
        return h

    def bad_loss(h):
        h["compile"]["loss"] = "HingeLoss"
        return h

    def no_layers(h):
        del h["model"]["layers"]
        return h

    cases = [
        (newer, "newer nablanet"),
        (other_format, "not a nablanet model file"),
        (unknown_layer, "Conv9D"),
        (bad_loss, "HingeLoss"),
        (no_layers, "corrupt architecture"),
        (lambda h: "{not json", "corrupt '__nablanet__' entry"),
        (lambda h: "[1, 2]", "not a JSON object"),
    ]
    for i, (change, match) in enumerate(cases):
        _raises_naming(_rewrite_header(path, tmp_path / f"h{i}.npz", change), match)


def test_weights_that_do_not_fit(tmp_path):
    path = _model().save(tmp_path / "m.npz")
    with np.load(path, allow_pickle=False) as data:
        arrays = {k: data[k] for k in data.files}
    wrong = dict(arrays)
    wrong["weights/layers.2.weights"] = np.zeros((6, 7), np.float32)
    np.savez(tmp_path / "shape.npz", **wrong)
    _raises_naming(
        tmp_path / "shape.npz",
        "shape mismatch for `layers.2.weights`: file has (6, 7), model has (6, 5)",
    )
    missing = {k: v for k, v in arrays.items() if k != "weights/layers.3.biases"}
    np.savez(tmp_path / "missing.npz", **missing)
    _raises_naming(tmp_path / "missing.npz", "missing `layers.3.biases`")


def test_load_checkpoint_of_a_plain_model_file(tmp_path):
    path = _model().save(tmp_path / "m.npz")
    with pytest.raises(nb.ModelFileError, match=r"no '__checkpoint__' entry"):
        nb.load_checkpoint(path)


# -- writing ---------------------------------------------------------------------------------------
def test_overwrite_and_parent_folders(tmp_path):
    model = _model()
    path = model.save(tmp_path / "a" / "b" / "model.npz")
    assert path.exists()
    with pytest.raises(nb.ModelFileError, match="exists already"):
        model.save(path, overwrite=False)
    model.save(path)  # overwrite=True by default


def test_a_failed_write_keeps_the_old_file(tmp_path, monkeypatch):
    model = _model()
    path = model.save(tmp_path / "model.npz")
    before = path.read_bytes()

    def broken_savez(file, **arrays):
        file.write(b"PK\x03\x04 half a file")
        raise OSError("disk full")

    monkeypatch.setattr(serialization.np, "savez", broken_savez)
    with pytest.raises(OSError, match="disk full"):
        model.save(path)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["model.npz"]
    monkeypatch.undo()
    assert zipfile.is_zipfile(path)
    nb.load_model(path)


@pytest.mark.parametrize(
    "loss_cls", sorted(set(nb.losses.LOSSES.values()), key=lambda cls: cls.__name__)
)
@pytest.mark.parametrize("opt_name", sorted(nb.optimizers.OPTIMIZERS))
def test_compile_settings_round_trip_for_every_loss_and_optimizer(tmp_path, loss_cls, opt_name):
    model = nb.Sequential([nb.Dense(3, 2)])
    model.compile(loss_cls(), nb.optimizers.get(opt_name, learning_rate=0.123))
    loaded = nb.load_model(model.save(tmp_path / "m.npz"))
    assert type(loaded.loss) is loss_cls
    assert type(loaded.optimizer) is type(model.optimizer)
    assert loaded.optimizer.get_config() == model.optimizer.get_config()
    assert loaded.metrics == model.metrics


def test_load_model_is_defined_once_next_to_sequential():
    """serialization.py knows the file format only; load_model lives with Sequential."""
    from nablanet.nn import model as model_mod

    assert not hasattr(serialization, "load_model") and not hasattr(serialization, "Sequential")
    assert nb.load_model is nb.nn.load_model is model_mod.load_model
    assert model_mod.load_model.__module__ == "nablanet.nn.model"
