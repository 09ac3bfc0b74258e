"""ONNX export: every layer, activation and preprocessing step, every shipped config.

Each exported graph passes ``onnx.checker.check_model(full_check=True)`` and gives nablanet's
own outputs (``Sequential.predict``, or ``pipeline.predict`` on raw inputs) in two independent
runtimes, onnxruntime and ``onnx.reference``, to 1e-5 relative (float32). Whatever cannot be
exported is refused with an error naming it.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml

import nablanet as nb
from nablanet import data as nd
from nablanet import pipeline
from nablanet.cli import EXPORT_OPSETS, main
from nablanet.nn.layers import LAYER_REGISTRY
from nablanet.nn.layers import activations as acts
from nablanet.pipeline import export as ex
from nablanet.pipeline.export import registry
from nablanet.pipeline.trained import TrainedModel

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")
from onnx.reference import ReferenceEvaluator  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
CONFIGS = sorted((ROOT / "configs").glob("*.yaml"))


# -- helpers -------------------------------------------------------------------------------------
def assert_agree(got: np.ndarray, ref: np.ndarray, what: str = "") -> None:
    """float32 agreement: 1e-5 relative, entries near zero to 1e-5 of the largest output."""
    got, ref = np.asarray(got, np.float64), np.asarray(ref, np.float64)
    assert got.shape == ref.shape, f"{what}: shape {got.shape}, nablanet {ref.shape}"
    scale = max(float(np.abs(ref).max()), 1e-30)
    np.testing.assert_allclose(got, ref, rtol=1e-5, atol=1e-5 * scale, err_msg=what)


def run_both(proto, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The graph's output on ``x`` in onnxruntime and in onnx.reference."""
    onnx.checker.check_model(proto, full_check=True)
    session = ort.InferenceSession(proto.SerializeToString(), providers=["CPUExecutionProvider"])
    (out_ort,) = session.run(None, {"input": x})
    (out_ref,) = ReferenceEvaluator(proto).run(None, {"input": x})
    return out_ort, out_ref


def props(proto) -> dict[str, str]:
    return {p.key: p.value for p in proto.metadata_props}


def randomize(model: nb.Sequential, seed: int = 1) -> nb.Sequential:
    """Non-trivial batch-norm statistics and parameters (fresh ones are the identity)."""
    rng = np.random.default_rng(seed)
    for layer in model.layers:
        if isinstance(layer, nb.BatchNormalization):
            n = layer.n_features
            layer.running_mean[:] = rng.normal(0, 1, n)
            layer.running_var[:] = rng.uniform(0.3, 3.0, n)
            layer.gamma.value[:] = rng.normal(1, 0.5, n)
            layer.beta.value[:] = rng.normal(0, 0.5, n)
        for p in layer.parameters():
            if p.name in ("biases", "bias"):
                p.value[...] = rng.normal(0, 0.3, p.value.shape)
    return model


def check_network(model: nb.Sequential, sample_shape: tuple, n: int = 5, seed: int = 0):
    """Export the bare network of ``model`` and compare it with ``model.predict``."""
    trained = TrainedModel(model, task="multiclass", input_shape=tuple(sample_shape))
    proto = ex.build_onnx(trained)
    x = np.random.default_rng(seed).normal(0, 1, (n, *sample_shape)).astype(np.float32)
    ref = model.predict(x)
    out_ort, out_ref = run_both(proto, x)
    assert_agree(out_ort, ref, "onnxruntime")
    assert_agree(out_ref, ref, "onnx.reference")
    return proto


def cnn_body() -> list[nb.Layer]:
    return [
        nb.RandomTranslation(2),
        nb.Conv2D(1, 8, 3, padding="same", activation="relu"),
        nb.MaxPool2D(2),
        nb.BatchNormalization(8),
        nb.Conv2D(8, 8, 3, padding="same", activation="leaky_relu"),  # Winograd
        nb.AvgPool2D(2, stride=1),
        nb.Conv2D(8, 4, (2, 3), stride=2, padding="same", activation="tanh"),  # asymmetric pads
        nb.Flatten(),
        nb.Dropout(0.5),
    ]


# -- every layer and activation ------------------------------------------------------------------
def test_every_library_layer_and_activation_has_an_exporter():
    ours = {c for c in LAYER_REGISTRY.values() if c.__module__.startswith("nablanet.nn.")}
    missing = sorted(c.__name__ for c in ours - set(registry.LAYER_EXPORTERS) - {acts.Activation})
    assert not missing, f"layers without an ONNX exporter: {missing}"
    assert set(acts.ACTIVATIONS.values()) <= set(registry.ACTIVATION_EXPORTERS)


def test_a_cnn_with_every_image_layer_agrees():
    nb.set_seed(0)
    body = cnn_body()
    n_flat = int(np.prod(nb.Sequential(body).output_shapes((12, 12, 1))[-1]))
    model = randomize(
        nb.Sequential(
            [
                *body,
                nb.Dense(n_flat, 6, activation="sigmoid"),
                nb.BatchNormalization(6),
                nb.Dense(6, 3, activation="softmax"),
            ]
        )
    )
    assert model.layers[4].algorithm == "winograd" and model.layers[1].algorithm == "im2col"
    proto = check_network(model, (12, 12, 1), n=7)
    ops = [node.op_type for node in proto.graph.node]
    # one transpose into NCHW before the first convolution, one back before Flatten
    assert ops.count("Transpose") == 2 and ops[0] == "Transpose"
    assert ops.index("Reshape") == ops.index("Transpose", 1) + 1
    assert "Dropout" not in ops and len(model.layers) > ops.count("Conv") + 4


@pytest.mark.parametrize(
    "kernel, stride, padding, use_bias",
    [
        (3, 1, "same", True),
        (3, 1, "valid", False),
        ((2, 3), (2, 1), "same", True),
        (5, 2, (1, 2), True),
        (1, 1, 0, False),
        (4, 3, "same", True),
    ],
)
def test_conv2d_geometries_agree(kernel, stride, padding, use_bias):
    nb.set_seed(1)
    conv = nb.Conv2D(3, 5, kernel, stride=stride, padding=padding, use_bias=use_bias)
    check_network(randomize(nb.Sequential([conv])), (11, 9, 3), n=3)


@pytest.mark.parametrize("algorithm", ["im2col", "winograd"])
def test_conv2d_algorithms_export_the_same_convolution(algorithm):
    nb.set_seed(2)
    conv = nb.Conv2D(8, 6, 3, padding="same", activation="relu")
    conv.algorithm = algorithm
    model = randomize(nb.Sequential([conv, nb.MaxPool2D(2)]))  # the fused conv+relu+pool path
    check_network(model, (10, 10, 8), n=3)


@pytest.mark.parametrize(
    "layer",
    [
        nb.MaxPool2D(2),
        nb.MaxPool2D(3, stride=2),  # overlapping windows
        nb.MaxPool2D((2, 3)),  # trailing rows/columns dropped
        nb.AvgPool2D(2),
        nb.AvgPool2D(3, stride=1),
        nb.AvgPool2D((3, 2), stride=(2, 3)),
        nb.GlobalAveragePooling2D(),
    ],
    ids=repr,
)
def test_pooling_agrees(layer):
    check_network(nb.Sequential([layer]), (7, 9, 4))


@pytest.mark.parametrize("activation", sorted(acts.ACTIVATIONS))
def test_every_activation_agrees(activation):
    nb.set_seed(3)
    model = randomize(nb.Sequential([nb.Dense(6, 5, activation=activation)]))
    check_network(model, (6,), n=8)


def test_activation_layers_leaky_slope_and_softmax_over_image_channels():
    nb.set_seed(4)
    model = nb.Sequential(
        [
            nb.Conv2D(2, 4, 3, activation=acts.LeakyReLU(alpha=0.3)),  # our slope, not 0.01
            nb.Tanh(),
            nb.Conv2D(4, 3, 1, activation="softmax"),  # over the channels, in NCHW: axis 1
            nb.ReLU(),
        ]
    )
    proto = check_network(randomize(model), (6, 5, 2))
    leaky = [n for n in proto.graph.node if n.op_type == "LeakyRelu"]
    assert onnx.helper.get_attribute_value(leaky[0].attribute[0]) == pytest.approx(0.3)
    # an image output comes back in NHWC: the graph's output is (batch, 4, 3, 3)
    out = proto.graph.output[0].type.tensor_type.shape.dim
    assert [d.dim_param or d.dim_value for d in out] == ["batch", 4, 3, 3]


def test_dense_neuron_batchnorm_dropout_and_reshapes():
    nb.set_seed(5)
    model = nb.Sequential(
        [
            nb.BatchNormalization(12),  # on features
            nb.Reshape((2, 3, 2)),  # flat -> NHWC image
            nb.BatchNormalization(2),  # on image channels
            nb.Conv2D(2, 3, 2, padding="same", activation="relu"),
            nb.GlobalAveragePooling2D(),
            nb.Dense(3, 4, activation="tanh"),
            nb.Reshape((2, 1, 2)),
            nb.Flatten(),
            nb.Dropout(0.2),
            nb.Neuron(4, activation="sigmoid"),
        ]
    )
    check_network(randomize(model, seed=7), (12,), n=6)


def test_batchnorm_on_raw_images_uses_its_epsilon():
    bn = nb.BatchNormalization(3, epsilon=0.5)  # a large epsilon: visible if ignored
    model = randomize(nb.Sequential([bn, nb.Flatten()]))
    model.layers[0].running_var[:] = [0.01, 0.1, 1.0]
    proto = check_network(model, (4, 4, 3))
    node = next(n for n in proto.graph.node if n.op_type == "BatchNormalization")
    assert onnx.helper.get_attribute_value(node.attribute[0]) == pytest.approx(0.5)


@pytest.mark.parametrize("opset", [14, 15, 17, 18, 19, 21])
def test_opsets_in_range_agree_and_pin_the_ir_version(opset):
    nb.set_seed(6)
    model = randomize(nb.Sequential([*cnn_body()[:4], nb.Flatten(), nb.Dense(288, 3, "softmax")]))
    trained = TrainedModel(model, task="multiclass", input_shape=(12, 12, 1))
    proto = ex.build_onnx(trained, opset=opset)
    assert proto.opset_import[0].version == opset
    assert proto.ir_version == ex.ir_version_for(opset)
    x = np.random.default_rng(0).normal(size=(3, 12, 12, 1)).astype(np.float32)
    out_ort, out_ref = run_both(proto, x)
    assert_agree(out_ort, model.predict(x))
    assert_agree(out_ref, model.predict(x))


def test_default_is_opset_17_ir_8_and_the_cli_agrees():
    model = nb.Sequential([nb.Dense(2, 2)])
    proto = ex.build_onnx(TrainedModel(model, task="regression", input_shape=(2,)))
    assert (proto.opset_import[0].version, proto.ir_version) == (17, 8)
    assert EXPORT_OPSETS == (ex.DEFAULT_OPSET, ex.MIN_OPSET, ex.MAX_OPSET)


def test_the_batch_dimension_is_dynamic():
    nb.set_seed(7)
    model = nb.Sequential([nb.Dense(3, 2, activation="softmax")])
    proto = ex.build_onnx(TrainedModel(model, task="multiclass", input_shape=(3,)))
    session = ort.InferenceSession(proto.SerializeToString())
    for n in (1, 17, 300):
        x = np.random.default_rng(n).normal(size=(n, 3)).astype(np.float32)
        assert_agree(session.run(None, {"input": x})[0], model.predict(x))


# -- preprocessing -------------------------------------------------------------------------------
def _fitted(transformer, x):
    return transformer.fit(x)


@pytest.mark.parametrize(
    "steps",
    [
        lambda: [nd.StandardScaler()],
        lambda: [nd.StandardScaler(per_feature=False)],
        lambda: [nd.MinMaxScaler(feature_range=(-1.0, 2.0))],
        lambda: [nd.PixelScaler(max_value=16.0), nd.StandardScaler()],
    ],
    ids=["standard", "standard-global", "minmax", "pixel+standard"],
)
def test_table_preprocessing_is_in_the_graph(steps):
    rng = np.random.default_rng(0)
    x_train = rng.uniform(0, 16, (50, 4)).astype(np.float32)
    x_train[:, 3] = 5.0  # a constant feature: scale 1 / span 1, as nablanet does
    pre = nd.Compose(steps()).fit(x_train)
    nb.set_seed(0)
    model = randomize(nb.Sequential([nb.Dense(4, 3, activation="softmax")]))
    trained = TrainedModel(model, task="multiclass", input_shape=(4,), preprocessing=pre)
    x = rng.uniform(-2, 20, (9, 4)).astype(np.float32)
    ref = pipeline.predict(trained, x).probabilities
    for out in run_both(ex.build_onnx(trained), x):
        assert_agree(out, ref)
    # without it: the bare network on preprocessed inputs
    bare = ex.build_onnx(trained, preprocessing=False)
    assert props(bare)["preprocessing"] == "not included"
    for out in run_both(bare, trained.transform(x)):
        assert_agree(out, model.predict(trained.transform(x)))


def test_image_preprocessing_flattens_and_scales_raw_pixels():
    rng = np.random.default_rng(1)
    images = rng.integers(0, 256, (40, 6, 5, 1)).astype(np.uint8)
    pre = nd.Compose([nd.ImageFlattener(), nd.StandardScaler()]).fit(images)
    nb.set_seed(1)
    model = randomize(nb.Sequential([nb.Dense(30, 4, activation="softmax")]))
    trained = TrainedModel(model, task="multiclass", input_shape=(6, 5, 1), preprocessing=pre)
    proto = ex.build_onnx(trained)
    dims = proto.graph.input[0].type.tensor_type.shape.dim
    assert [d.dim_param or d.dim_value for d in dims] == ["batch", 6, 5, 1]  # raw NHWC pixels
    x = rng.integers(0, 256, (5, 6, 5, 1)).astype(np.float32)
    for out in run_both(proto, x):
        assert_agree(out, pipeline.predict(trained, x).probabilities)


def test_regression_targets_are_scaled_back():
    rng = np.random.default_rng(2)
    x_train = rng.normal(5, 3, (60, 3)).astype(np.float32)
    y_train = rng.normal(150, 40, (60, 2)).astype(np.float32)
    nb.set_seed(2)
    model = randomize(nb.Sequential([nb.Dense(3, 8, "relu"), nb.Dense(8, 2)]))
    for target in (nd.StandardScaler(), nd.MinMaxScaler()):
        trained = TrainedModel(
            model,
            task="regression",
            input_shape=(3,),
            preprocessing=nd.StandardScaler().fit(x_train),
            target_preprocessing=target.fit(y_train),
        )
        proto = ex.build_onnx(trained)
        assert proto.graph.output[0].name == "values"
        x = rng.normal(5, 3, (7, 3)).astype(np.float32)
        ref = pipeline.predict(trained, x).values
        assert np.abs(ref).mean() > 20  # in the targets' units, not standardized
        for out in run_both(proto, x):
            assert_agree(out, ref)


# -- the shipped configs, trained for a moment on data of the right shape ------------------------
def _synthetic_dataset(config_path: Path, tmp_path: Path, n: int = 96) -> Path:
    """An .npz like the config's dataset (shape, task, classes; uint8 pixels for images)."""
    name = yaml.safe_load(config_path.read_text())["data"]["dataset"]
    name = name["name"] if isinstance(name, dict) else name  # {name: spiral, n_samples: ...}
    info = {i.name: i for i in nd.list_datasets()}[name]
    shape = tuple(info.input_shape)
    rng = np.random.default_rng(len(name))
    if len(shape) == 3:
        x = rng.integers(0, 256, (n, *shape)).astype(np.uint8)
    else:
        x = rng.normal(10, 4, (n, *shape)).astype(np.float32)
    if info.task == "regression":
        y = (x.reshape(n, -1)[:, :3].sum(axis=1) * 7 + 100).astype(np.float32)
    else:
        y = np.arange(n) % info.n_classes
    path = tmp_path / f"{name}.npz"
    np.savez(path, x=x, y=y, class_names=np.array([f"c{k}" for k in range(info.n_classes or 0)]))
    return path


def _train_tiny(config_path: Path, tmp_path: Path, dataset) -> Path:
    config = pipeline.load_config(
        [config_path],
        [
            f"data.dataset={json.dumps(dataset)}",
            "training.epochs=3",  # more than any warm-up of the configs
            "training.batch_size=32",
            "evaluation.plots=false",
            f"output_dir={tmp_path / 'runs'}",
        ],
    )
    return pipeline.train(config).model_path


def _check_against_predict(model_path: Path, x: np.ndarray, tmp_path: Path) -> dict:
    result = pipeline.export_onnx(model_path, tmp_path / "model.onnx")
    proto = onnx.load(result.path)
    preds = pipeline.predict(model_path, x)
    if preds.task == "regression":
        ref = preds.values
    elif preds.probabilities.shape[1] == 2 and result.output_shape == ("batch", 1):
        ref = preds.probabilities[:, 1:]  # a sigmoid model: P(second class), (N, 1)
    else:
        ref = preds.probabilities
    out_ort, out_ref = run_both(proto, x.astype(np.float32))
    assert_agree(out_ort, ref, "onnxruntime")
    assert_agree(out_ref, ref, "onnx.reference")
    return props(proto)


@pytest.mark.parametrize("config_path", CONFIGS, ids=lambda p: p.stem)
def test_every_shipped_config_exports_and_agrees_with_predict(config_path, tmp_path):
    data = _synthetic_dataset(config_path, tmp_path)
    model_path = _train_tiny(config_path, tmp_path, {"npz": str(data)})
    raw = np.load(data)["x"][:6].astype(np.float32)
    meta = _check_against_predict(model_path, raw, tmp_path)
    trained = pipeline.load_trained_model(model_path)
    assert meta["task"] == trained.task
    assert json.loads(meta["input_shape"]) == ["batch", *trained.input_shape]
    if trained.class_names:
        assert json.loads(meta["class_names"]) == trained.class_names


def test_real_tables_breast_cancer_and_diabetes(tmp_path):
    pytest.importorskip("sklearn")
    for name in ("breast_cancer", "diabetes"):
        model_path = _train_tiny(ROOT / "configs" / f"{name}.yaml", tmp_path / name, name)
        raw = nd.load_dataset(name).x[:40]
        meta = _check_against_predict(model_path, raw, tmp_path / name)
        if name == "breast_cancer":
            assert json.loads(meta["class_names"]) == ["malignant", "benign"]
            assert "'benign'" in meta["output"]


def test_real_images_digits_cnn(tmp_path):
    pytest.importorskip("sklearn")
    config = yaml.safe_load((ROOT / "configs" / "mnist_cnn.yaml").read_text())
    config["model"]["layers"][1]["filters"] = 8  # 8x8 digits: a smaller CNN of the same kind
    config["model"]["layers"][4]["filters"] = 8
    path = tmp_path / "digits_cnn.yaml"
    path.write_text(yaml.safe_dump(config))
    model_path = _train_tiny(path, tmp_path, "digits")
    raw = nd.load_dataset("digits").x[:30]  # pixel values 0..16
    _check_against_predict(model_path, raw, tmp_path)


# -- the command line ----------------------------------------------------------------------------
def test_cli_export_refuses_to_overwrite_without_force(tmp_path, capsys):
    config = ROOT / "configs" / "breast_cancer.yaml"
    model_path = _train_tiny(config, tmp_path, {"npz": str(_synthetic_dataset(config, tmp_path))})
    run_dir = model_path.parent
    assert main(["export", "--model", str(run_dir), "--format", "onnx"]) == 0
    out = capsys.readouterr().out
    written = run_dir / "model.onnx"
    assert written.is_file() and f"{written}: ONNX opset 17 (IR 8)" in out
    assert "input (batch, 30) float32 -> probabilities (batch, 1)" in out
    before = written.read_bytes()
    assert main(["export", "--model", str(model_path), "--output", str(written)]) == 2
    err = capsys.readouterr().err
    assert re.search(r"model\.onnx: exists already \(pass --force", err), err
    assert written.read_bytes() == before
    bare = tmp_path / "out" / "bare.onnx"
    args = ["export", "--model", str(model_path), "--output", str(bare), "--no-preprocessing"]
    assert main([*args, "--opset", "14"]) == 0
    assert "preprocessing: not included" in capsys.readouterr().out
    assert onnx.load(bare).opset_import[0].version == 14
    assert main([*args, "--force"]) == 0
    assert onnx.load(bare).opset_import[0].version == 17
    assert main(["export", "--model", str(model_path), "--output", str(model_path)]) == 2
    assert "is the model file being exported" in capsys.readouterr().err
    assert main(["export", "--model", str(tmp_path / "nope.npz")]) == 2
    assert "nope.npz" in capsys.readouterr().err


# -- refusals ------------------------------------------------------------------------------------
@pytest.fixture
def unregistered():
    """Classes defined by a test leave the layer and transformer registries as they were."""
    layers, transformers = dict(LAYER_REGISTRY), dict(nd.TRANSFORMER_REGISTRY)
    yield
    LAYER_REGISTRY.clear()
    LAYER_REGISTRY.update(layers)
    nd.TRANSFORMER_REGISTRY.clear()
    nd.TRANSFORMER_REGISTRY.update(transformers)


def test_an_unknown_layer_is_refused_by_name(unregistered):
    class Doubling(nb.Layer):
        def forward(self, x, training=False):
            return 2 * x

    class WideDense(nb.Dense):  # a subclass may compute something else: not taken for Dense
        pass

    for layer in (Doubling(), WideDense(3, 3)):
        model = nb.Sequential([nb.Dense(3, 3), layer])
        trained = TrainedModel(model, task="regression", input_shape=(3,))
        name = type(layer).__name__
        with pytest.raises(
            ex.ExportError, match=rf"layers\.1: the layer {name} cannot be exported"
        ):
            ex.build_onnx(trained)


def test_an_unknown_activation_is_refused_by_name(unregistered):
    class Swish(acts.Activation):
        name = "swish"

        def forward(self, x, training=False):
            return x * acts.sigmoid(x)

    model = nb.Sequential([nb.Dense(3, 2, activation=Swish())])
    with pytest.raises(ex.ExportError, match=r"layers\.0: the activation Swish cannot be"):
        ex.build_onnx(TrainedModel(model, task="regression", input_shape=(3,)))


def test_an_unknown_preprocessing_step_is_refused_by_name(unregistered):
    class Clip(nd.Transformer):
        def transform(self, x):
            return np.clip(np.asarray(x, np.float32), 0, 1)

    model = nb.Sequential([nb.Dense(2, 2)])
    for pre in (nd.Compose([nd.StandardScaler().fit(np.eye(2)), Clip()]), nd.OneHotEncoder(2)):
        trained = TrainedModel(model, task="regression", input_shape=(2,), preprocessing=pre)
        name = type(pre.steps[-1] if isinstance(pre, nd.Compose) else pre).__name__
        with pytest.raises(ex.ExportError, match=rf"preprocessing step {name} cannot be expor"):
            ex.build_onnx(trained)
        ex.build_onnx(trained, preprocessing=False)  # the bare network still exports


def test_other_refusals(tmp_path):
    model = nb.Sequential([nb.Dense(2, 2, dtype="float64")])
    with pytest.raises(ex.ExportError, match=r"layer 0 \(Dense\) is float64"):
        ex.build_onnx(TrainedModel(model, task="regression", input_shape=(2,)))
    model = nb.Sequential([nb.Dense(2, 2)])
    trained = TrainedModel(model, task="regression", input_shape=(2,))
    for opset in (13, 22, "17", True):
        with pytest.raises(ex.ExportError, match="'opset' parameter of export_onnx must be"):
            ex.build_onnx(trained, opset=opset)
    conv = nb.Sequential([nb.Conv2D(1, 2, 3)])
    with pytest.raises(ex.ExportError, match=r"give input_shape=\(height, width, channels\)"):
        ex.build_onnx(conv)
    ex.build_onnx(conv, input_shape=(5, 5, 1))
    with pytest.raises(ex.ExportError, match=r"layers\.0: Conv2D expected input of shape"):
        ex.build_onnx(conv, input_shape=(5, 5, 3))
    unfitted = TrainedModel(
        model, task="regression", input_shape=(2,), preprocessing=nd.StandardScaler()
    )
    with pytest.raises(ex.ExportError, match="StandardScaler is not fitted"):
        ex.export_onnx(unfitted, tmp_path / "m.onnx")
    with pytest.raises(ex.ExportError, match="expects a model file"):
        ex.export_onnx(42, tmp_path / "m.onnx")
    assert not (tmp_path / "m.onnx").exists()


def test_export_onnx_from_python_writes_atomically_and_never_overwrites(tmp_path):
    nb.set_seed(8)
    model = nb.Sequential([nb.Dense(4, 3, activation="softmax")])
    model.metadata = {"task": "multiclass", "class_names": ["a", "b", "c"], "input_shape": [4]}
    path = tmp_path / "sub" / "m.onnx"
    result = nb.export_onnx(model, path)
    assert result.path == path and sorted(p.name for p in path.parent.iterdir()) == ["m.onnx"]
    meta = props(onnx.load(path))
    assert json.loads(meta["class_names"]) == ["a", "b", "c"]
    assert (meta["input_name"], meta["output_name"]) == ("input", "probabilities")
    with pytest.raises(ex.ExportError, match="exists already"):
        nb.export_onnx(model, path)
    nb.export_onnx(model, path, overwrite=True, opset=21)
    assert onnx.load(path).opset_import[0].version == 21


def test_without_onnx_a_clear_error(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "onnx", None)  # import onnx -> ImportError
    model = nb.Sequential([nb.Dense(2, 2)])
    with pytest.raises(ex.ExportError, match=r"pip install 'nablanet\[onnx\]'"):
        nb.export_onnx(TrainedModel(model, task="regression", input_shape=(2,)), tmp_path / "m")


def test_importing_nablanet_does_not_import_onnx():
    code = (
        "import sys, nablanet, nablanet.nn, nablanet.pipeline, nablanet.cli\n"
        "nablanet.cli.build_parser(); nablanet.export_onnx\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('onnx', 'onnxruntime'))\n"
        "assert not bad, bad\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)


# -- the documentation's example ---------------------------------------------------------------
def test_the_onnxruntime_example_of_docs_export_md_runs(tmp_path, monkeypatch):
    text = (ROOT / "docs" / "export.md").read_text(encoding="utf-8")
    block = re.findall(r"```python\n(.*?)```", text, flags=re.S)[0]
    rng = np.random.default_rng(0)
    pre = nd.Compose([nd.PixelScaler(255.0)])
    nb.set_seed(9)
    model = nb.Sequential(
        [
            nb.Conv2D(1, 4, 3, activation="relu"),
            nb.GlobalAveragePooling2D(),
            nb.Dense(4, 10, activation="softmax"),
        ]
    )
    names = [str(k) for k in range(10)]
    trained = TrainedModel(
        model, task="multiclass", class_names=names, input_shape=(28, 28, 1), preprocessing=pre
    )
    monkeypatch.chdir(tmp_path)
    ex.export_onnx(trained, "model.onnx")
    digits = rng.integers(0, 256, (3, 28, 28, 1)).astype(np.uint8)
    np.save("digits.npy", digits)
    namespace: dict = {}
    exec(compile(block, "docs/export.md", "exec"), namespace)
    assert_agree(namespace["probabilities"], pipeline.predict(trained, digits).probabilities)


def test_a_new_transformer_is_one_small_exporter_and_per_channel_numbers_broadcast(
    unregistered, monkeypatch
):
    class ChannelScaler(nd.Transformer):  # like a per-channel standardization of colour images
        state = ("mean",)

        def __init__(self):
            self.mean = None

        def fit(self, x, y=None):
            self.mean = np.asarray(x, np.float32).mean(axis=(0, 1, 2))
            return self

        def transform(self, x):
            return np.asarray(x, np.float32) - self.mean

    monkeypatch.setattr(registry, "PREPROCESSING_EXPORTERS", dict(registry.PREPROCESSING_EXPORTERS))

    @ex.preprocessing_exporter(ChannelScaler)
    def _channel_scaler(g, s, t, name):
        mean = ex.feature_constant(g, s.mean, t, f"{name}/mean", name)  # (C,) against NHWC
        return ex.apply_op(g, "Sub", t, mean, f"{name}/sub")

    rng = np.random.default_rng(3)
    images = rng.uniform(0, 255, (30, 4, 4, 3)).astype(np.float32)
    scaler = ChannelScaler().fit(images)
    nb.set_seed(10)
    model = randomize(nb.Sequential([nb.Conv2D(3, 2, 3), nb.Flatten(), nb.Dense(8, 2, "softmax")]))
    trained = TrainedModel(model, task="multiclass", input_shape=(4, 4, 3), preprocessing=scaler)
    x = rng.uniform(0, 255, (4, 4, 4, 3)).astype(np.float32)
    for out in run_both(ex.build_onnx(trained), x):
        assert_agree(out, pipeline.predict(trained, x).probabilities)
    scaler.mean = np.zeros(4, dtype=np.float32)  # 4 numbers for 3 channels: refused
    with pytest.raises(ex.ExportError, match=r"fitted on samples of shape \(4,\), the graph"):
        ex.build_onnx(trained)


def test_colour_cnn_with_flip_crop_and_per_channel_standardization():
    """A CIFAR-like model: raw RGB pixels in, per-channel standardization and the augmentation
    layers (the identity at inference) in the graph, the same probabilities as predict."""
    rng = np.random.default_rng(3)
    images = rng.integers(0, 256, (30, 8, 8, 3)).astype(np.uint8)
    pre = nd.Compose([nd.ChannelStandardizer()]).fit(images)
    nb.set_seed(3)
    model = randomize(
        nb.Sequential(
            [
                nb.RandomFlip(),
                nb.RandomCrop(2, padding_mode="reflect"),
                nb.Conv2D(3, 4, 3, padding="same", activation="relu"),
                nb.MaxPool2D(2),
                nb.Flatten(),
                nb.Dense(64, 3, activation="softmax"),
            ]
        )
    )
    trained = TrainedModel(model, task="multiclass", input_shape=(8, 8, 3), preprocessing=pre)
    proto = ex.build_onnx(trained)
    assert "ChannelStandardizer" in props(proto)["preprocessing"]
    x = rng.integers(0, 256, (6, 8, 8, 3)).astype(np.float32)
    for out in run_both(proto, x):
        assert_agree(out, pipeline.predict(trained, x).probabilities)
