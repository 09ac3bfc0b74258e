"""Fuzzing the readers of model files, checkpoints and configs (marked slow: thousands of cases).

Every mutated file either loads with exactly the original arrays or raises the project's own
error type (``ModelFileError`` / ``ConfigError``): no other exception, no hang.
"""

from __future__ import annotations

import io
import zipfile

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import nablanet as nb

pytestmark = pytest.mark.slow

FUZZ = settings(
    max_examples=1500,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def _trained_files():
    nb.set_seed(0)
    model = nb.Sequential(
        [nb.Dense(4, 6, activation="relu"), nb.Dropout(0.2), nb.Dense(6, 3, "softmax")]
    )
    model.compile(loss="categorical_crossentropy", optimizer="adam")
    x = np.random.default_rng(0).normal(size=(24, 4)).astype(np.float32)
    model.fit(x, np.arange(24) % 3, epochs=1, batch_size=8, verbose=0)
    import tempfile
    from pathlib import Path

    folder = Path(tempfile.mkdtemp())
    model_path = model.save(folder / "m.npz")
    ckpt_path = nb.save_checkpoint(
        folder / "c.npz", model, model.optimizer, epoch=1, history={"loss": [1.0]}, rng_states={}
    )
    return model, model_path.read_bytes(), ckpt_path.read_bytes()


MODEL, MODEL_BYTES, CKPT_BYTES = _trained_files()
ORIGINAL = {k: v.copy() for k, v in MODEL.state_dict().items()}


def _check_model(path):
    try:
        loaded = nb.load_model(path)
    except nb.ModelFileError:
        return
    state = loaded.state_dict()
    assert state.keys() == ORIGINAL.keys()
    for k, v in ORIGINAL.items():
        np.testing.assert_array_equal(state[k], v)


def _check_checkpoint(path):
    """As a resume reads it: the checkpoint's state, then its model (a checkpoint is a model
    file too, checked against its architecture)."""
    try:
        ckpt = nb.load_checkpoint(path)
        loaded = nb.load_model(path)
    except nb.ModelFileError:
        return
    state = loaded.state_dict()
    for k, v in ORIGINAL.items():
        np.testing.assert_array_equal(ckpt["weights"][k], v)
        np.testing.assert_array_equal(state[k], v)


mutation = st.one_of(
    st.tuples(
        st.just("flip"),
        st.lists(st.tuples(st.integers(0, 10**7), st.integers(1, 255)), min_size=1, max_size=8),
    ),
    st.tuples(st.just("truncate"), st.floats(0.0, 1.0)),
)


def _mutate(data: bytes, change) -> bytes:
    kind, arg = change
    if kind == "truncate":
        return data[: int(len(data) * arg)]
    out = bytearray(data)
    for pos, xor in arg:
        out[pos % len(out)] ^= xor
    return bytes(out)


@FUZZ
@given(change=mutation, which=st.sampled_from(["model", "checkpoint"]))
def test_mutated_bytes(tmp_path_factory, change, which):
    path = tmp_path_factory.mktemp("f") / "x.npz"
    path.write_bytes(_mutate(MODEL_BYTES if which == "model" else CKPT_BYTES, change))
    (_check_model if which == "model" else _check_checkpoint)(path)


def _members(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        return {n: zf.read(n) for n in zf.namelist()}


MEMBER_NAMES = sorted(_members(CKPT_BYTES))

dtypes = st.sampled_from(["<f4", "<f8", "<i8", "|u1", "|b1", "<U10", "|O", "<c8", "|V4", ">f4"])
shapes = st.lists(st.integers(0, 10**7), min_size=0, max_size=4).map(tuple)


@FUZZ
@given(
    which=st.sampled_from(["model", "checkpoint"]),
    drop=st.lists(st.sampled_from(MEMBER_NAMES), max_size=2),
    duplicate=st.lists(st.sampled_from(MEMBER_NAMES), max_size=2),
    reheader=st.lists(st.tuples(st.sampled_from(MEMBER_NAMES), shapes, dtypes), max_size=2),
)
def test_mutated_members(tmp_path_factory, which, drop, duplicate, reheader):
    import warnings

    members = _members(MODEL_BYTES if which == "model" else CKPT_BYTES)
    for name in drop:
        members.pop(name, None)
    for name, shape, dtype in reheader:
        if name not in members:
            continue
        buf = io.BytesIO()
        np.lib.format.write_array_header_1_0(
            buf, {"descr": dtype, "fortran_order": False, "shape": shape}
        )
        members[name] = buf.getvalue() + members[name][128:]
    path = tmp_path_factory.mktemp("f") / "x.npz"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # zipfile: duplicate name
        with zipfile.ZipFile(path, "w") as zf:
            for name, content in members.items():
                zf.writestr(name, content)
            for name in duplicate:
                if name in members:
                    zf.writestr(name, members[name])
    (_check_model if which == "model" else _check_checkpoint)(path)


VALID_CONFIG = """\
name: fuzz
data:
  dataset: breast_cancer
  split: {validation: 0.2, test: 0.2, seed: 0}
  preprocessing: {scale: standard}
model:
  layers:
    - {type: dense, units: 8, activation: relu}
    - {type: dropout, rate: 0.1}
    - {type: dense, units: 2, activation: softmax}
training:
  epochs: 2
  batch_size: 32
  optimizer: {name: adam, learning_rate: 0.01}
  loss: categorical_crossentropy
"""


@settings(max_examples=1500, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    edits=st.lists(
        st.tuples(
            st.integers(0, len(VALID_CONFIG) - 1),
            st.sampled_from(["delete", "insert", "replace"]),
            st.sampled_from(
                [
                    *":-{}[]#,'\"&*!|>%@` \n\t0123456789.-eEaz",
                    "null",
                    "~",
                    "1e999",
                    "- x",
                    "{{",
                    "]]",
                ]
            ),
        ),
        min_size=1,
        max_size=6,
    )
)
def test_mutated_configs(tmp_path_factory, edits):
    from nablanet import pipeline
    from nablanet.pipeline import ConfigError

    text = VALID_CONFIG
    for pos, kind, token in edits:
        pos = pos % max(len(text), 1)
        if kind == "delete":
            text = text[:pos] + text[pos + len(token) :]
        elif kind == "insert":
            text = text[:pos] + token + text[pos:]
        else:
            text = text[:pos] + token + text[pos + len(token) :]
    path = tmp_path_factory.mktemp("c") / "config.yaml"
    path.write_text(text, encoding="utf-8")
    try:
        pipeline.load_config(path)
    except ConfigError:
        pass
