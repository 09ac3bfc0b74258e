"""Safe model files: ``.npz`` written with ``allow_pickle=False``.

A model file holds the arrays (``weights/<dotted name>``) and one JSON document
(``__nablanet__``) with the architecture, the compile settings and free-form metadata. A
checkpoint adds ``__checkpoint__`` (epoch, history, RNG states, optimizer and callback settings)
and the arrays ``optimizer/<name>.<key>`` and ``callback/<i>/<name>``. Loading never unpickles, so a
model file from a stranger cannot run code. Files are written to a temporary name in the same
folder and renamed, so a crash never leaves a half-written file behind.

This module knows the file format only: it takes any object with ``get_config``,
``compile_config`` and ``state_dict`` and never imports the model; ``load_model``, which builds
a ``Sequential`` from a file, lives next to it in :mod:`.model`.
"""

from __future__ import annotations

import errno
import json
import os
import tempfile
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from .._version import __version__
from .errors import NablanetError
from .npyfile import ArrayFileError, NpzArchive, format_bytes

if TYPE_CHECKING:  # pragma: no cover
    from .model import Sequential
    from .optimizers import Optimizer
    from .schedulers import Scheduler

FORMAT = "nablanet-model"
FORMAT_VERSION = 1
HEADER_KEY = "__nablanet__"
CHECKPOINT_KEY = "__checkpoint__"
MAX_HEADER_BYTES = 16 * 2**20  # a model's JSON description: real ones take a few KiB
MAX_LAYERS = 10_000
BUDGET_SLACK_BYTES = 1 << 16


class ModelFileError(NablanetError):
    """A model or checkpoint file that cannot be read (missing, truncated, foreign, corrupt).

    >>> from nablanet.nn import load_model
    >>> try:
    ...     load_model("no_such_model.npz")
    ... except ModelFileError as e:
    ...     print(e)
    no_such_model.npz: no such model file
    """


class DiskFullError(NablanetError):
    """The disk filled up while a file was written: the new file is discarded, the old one kept."""


def _json_default(obj: object) -> Any:
    if isinstance(obj, np.integer):
        return int(obj)
    if isinstance(obj, np.floating):
        return float(obj)
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    raise TypeError(f"not JSON serialisable: {type(obj).__name__}")


def _encode_json(doc: dict) -> np.ndarray:
    return np.array(json.dumps(doc, default=_json_default))


def atomic_savez(path: str | Path, arrays: dict[str, np.ndarray]) -> Path:
    """Write ``arrays`` to ``path`` (exactly that name) through a temporary file and a rename."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            # NumPy's stubs type the keywords of savez as allow_pickle: bool only
            np.savez(f, **arrays)  # type: ignore[arg-type]
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException as e:
        Path(tmp).unlink(missing_ok=True)
        if isinstance(e, OSError) and e.errno in (errno.ENOSPC, errno.EDQUOT):
            raise DiskFullError(
                f"{path}: no space left on the device while writing it; the file that was "
                "there before (if any) is unchanged"
            ) from None
        raise
    return path


def looks_like_pickle(path: str | Path) -> bool:
    """Whether ``path`` starts like a pickle of protocol 2 to 5 (``pickle.dump``'s default, and
    what ``Model.save`` of *Neural Networks from Scratch* writes); read without unpickling.

    >>> import pickle, tempfile, os
    >>> path = os.path.join(tempfile.mkdtemp(), "model.pkl")
    >>> with open(path, "wb") as f:
    ...     pickle.dump([1, 2], f)
    >>> looks_like_pickle(path)
    True
    """
    try:
        with open(path, "rb") as f:
            head = f.read(2)
    except OSError:
        return False
    return len(head) == 2 and head[0] == 0x80 and 2 <= head[1] <= 5


def _open_archive(path: Path) -> NpzArchive:
    """The file as an :class:`NpzArchive` (every member's header read and checked, no data)."""
    if not path.exists():
        raise ModelFileError(f"{path}: no such model file")
    if path.is_dir():
        raise ModelFileError(f"{path}: is a directory, not a model file")
    if looks_like_pickle(path):
        raise ModelFileError(
            f"{path}: a Python pickle, not a nablanet model file; nablanet never unpickles a "
            "file, because unpickling can run any code the file's author chose"
        )
    if not zipfile.is_zipfile(path):
        # also what a truncated .npz looks like (its zip directory sits at the end)
        raise ModelFileError(
            f"{path}: not a readable .npz model file (truncated, corrupt or another format)"
        )
    try:
        return NpzArchive(path)
    except ArrayFileError as e:
        raise ModelFileError(str(e)) from None


def _read_member(archive: NpzArchive, key: str) -> np.ndarray:
    try:
        return archive.read(key)
    except ArrayFileError as e:
        raise ModelFileError(str(e)) from None


def read_npz(path: str | Path) -> dict[str, np.ndarray]:
    """All arrays of an ``.npz`` file, never unpickling, every header checked before its data
    (:mod:`nablanet.nn.npyfile`); errors name the file and the member."""
    path = Path(path)
    with _open_archive(path) as archive:
        return {key: _read_member(archive, key) for key in archive.headers}


def _header(archive: NpzArchive, key: str, path: Path) -> dict:
    if key not in archive.headers:
        raise ModelFileError(f"{path}: not a nablanet model file (no '{key}' entry)")
    info = archive.headers[key]
    if info.dtype.kind != "U" or info.shape != ():
        raise ModelFileError(
            f"{path}: member {key!r}: expected one JSON text, got shape {info.shape} of "
            f"{info.dtype}"
        )
    if info.nbytes > MAX_HEADER_BYTES:
        raise ModelFileError(
            f"{path}: member {key!r}: {format_bytes(info.nbytes)} of JSON, more than the "
            f"{format_bytes(MAX_HEADER_BYTES)} a model's description may take"
        )
    try:
        doc = json.loads(str(_read_member(archive, key)[()]))
    except (json.JSONDecodeError, TypeError, ValueError, RecursionError) as e:
        raise ModelFileError(f"{path}: corrupt '{key}' entry ({e})") from None
    if not isinstance(doc, dict):
        raise ModelFileError(f"{path}: corrupt '{key}' entry (not a JSON object)")
    return doc


def model_arrays(
    model: Sequential, metadata: dict | None = None, weights: dict[str, np.ndarray] | None = None
) -> dict[str, np.ndarray]:
    header = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "nablanet_version": __version__,
        "model": model.get_config(),
        "compile": model.compile_config(),
        "metadata": metadata or {},
    }
    arrays = {HEADER_KEY: _encode_json(header)}
    for name, value in (model.state_dict() if weights is None else weights).items():
        arrays[f"weights/{name}"] = value
    return arrays


def save_model(
    model: Sequential, path: str | Path, metadata: dict | None = None, overwrite: bool = True
) -> Path:
    """Save the architecture, weights, compile settings and ``metadata`` (JSON-able) to ``path``."""
    path = Path(path)
    if path.exists() and not overwrite:
        raise ModelFileError(f"{path}: exists already (pass overwrite=True to replace it)")
    return atomic_savez(path, model_arrays(model, metadata))


WEIGHTS_PREFIX = "weights/"


def _weights(arrays: dict) -> dict[str, np.ndarray]:
    n = len(WEIGHTS_PREFIX)
    return {k[n:]: v for k, v in arrays.items() if k.startswith(WEIGHTS_PREFIX)}


def _open_model_file(path: Path) -> tuple[dict, NpzArchive]:
    archive = _open_archive(path)
    try:
        header = _header(archive, HEADER_KEY, path)
        if header.get("format") != FORMAT:
            raise ModelFileError(
                f"{path}: not a nablanet model file (format {header.get('format')!r})"
            )
        if int(header.get("format_version", 0)) > FORMAT_VERSION:
            raise ModelFileError(
                f"{path}: written by a newer nablanet (format version "
                f"{header['format_version']}); upgrade nablanet to read it"
            )
    except BaseException:
        archive.close()
        raise
    return header, archive


def open_model_file(path: str | Path) -> tuple[dict, NpzArchive]:
    """``(header, archive)``: the file's JSON header and its members' checked ``.npy`` headers,
    no array data read yet. The caller closes the archive (``with archive: ...``)."""
    path = Path(path)
    header, archive = _open_model_file(path)
    try:
        model = header.get("model")
        layers = model.get("layers") if isinstance(model, dict) else None
        if not isinstance(layers, list):
            raise ModelFileError(f"{path}: corrupt architecture (no list of layers)")
        if len(layers) > MAX_LAYERS:
            raise ModelFileError(
                f"{path}: corrupt architecture ({len(layers)} layers, at most {MAX_LAYERS})"
            )
    except BaseException:
        archive.close()
        raise
    return header, archive


def weights_budget(archive: NpzArchive) -> int:
    """Bytes an architecture read from this file may allocate: what its weights really take.

    Used with :func:`nablanet.nn.initializers.allocation_budget`, so that a crafted JSON
    (``Dense(10**6, 10**6)`` beside small weights) is refused before it is built.
    """
    stored = (info for key, info in archive.headers.items() if key.startswith(WEIGHTS_PREFIX))
    return sum(info.nbytes for info in stored) + BUDGET_SLACK_BYTES


def read_weights(
    archive: NpzArchive, expected: dict[str, tuple[int, ...]], path: str | Path
) -> dict[str, np.ndarray]:
    """The weights named in ``expected`` (name -> shape), every header compared first.

    Missing or unexpected names and shape mismatches are refused before any data is read.
    """
    stored = {
        key[len(WEIGHTS_PREFIX) :]: info
        for key, info in archive.headers.items()
        if key.startswith(WEIGHTS_PREFIX)
    }
    missing = sorted(set(expected) - set(stored))
    unexpected = sorted(set(stored) - set(expected))
    if missing or unexpected:
        parts = []
        if missing:
            parts.append("missing " + ", ".join(f"`{m}`" for m in missing))
        if unexpected:
            parts.append("unexpected " + ", ".join(f"`{u}`" for u in unexpected))
        raise ModelFileError(f"{path}: state dict does not match the model: " + "; ".join(parts))
    for name, shape in expected.items():
        info = stored[name]
        if info.shape != tuple(shape):
            raise ModelFileError(
                f"{path}: shape mismatch for `{name}`: file has {info.shape}, model has "
                f"{tuple(shape)} (member '{WEIGHTS_PREFIX}{name}', refused before reading it)"
            )
        if info.dtype.kind not in "fiub":
            raise ModelFileError(
                f"{path}: member '{WEIGHTS_PREFIX}{name}': dtype {info.dtype} is not numeric"
            )
    return {name: _read_member(archive, WEIGHTS_PREFIX + name) for name in expected}


# -- checkpoints --------------------------------------------------------------------------------
def save_checkpoint(
    path: str | Path,
    model: Sequential,
    optimizer: Optimizer,
    epoch: int,
    history: dict,
    rng_states: dict,
    callbacks: list | None = None,
    scheduler: Scheduler | None = None,
    metadata: dict | None = None,
    weights: dict[str, np.ndarray] | None = None,
) -> Path:
    """A full training state: model file + optimizer state, epoch, history, RNG, callbacks.

    ``weights`` (a state dict) replaces the model's current weights in the file.
    """
    arrays = model_arrays(model, metadata, weights)
    opt_state = optimizer.state_dict()
    scalars = {k: v for k, v in opt_state.items() if not isinstance(v, np.ndarray)}
    for key, value in opt_state.items():
        if isinstance(value, np.ndarray):
            arrays[f"optimizer/{key}"] = value
    callback_states = []
    for i, cb in enumerate(callbacks or []):
        state, cb_arrays = cb.get_state()
        callback_states.append({"class_name": type(cb).__name__, "state": state})
        for name, value in cb_arrays.items():
            arrays[f"callback/{i}/{name}"] = value
    doc = {
        "epoch": int(epoch),
        "history": history,
        "rng": rng_states,
        "optimizer": {
            "class_name": type(optimizer).__name__,
            "config": optimizer.get_config(),
            **scalars,
        },
        "scheduler": None
        if scheduler is None
        else {"class_name": type(scheduler).__name__, "config": scheduler.get_config()},
        "callbacks": callback_states,
    }
    arrays[CHECKPOINT_KEY] = _encode_json(doc)
    return atomic_savez(path, arrays)


def load_checkpoint(path: str | Path) -> dict[str, Any]:
    """Read a checkpoint: ``{"header", "weights", "epoch", "history", "rng", "optimizer_state",
    "optimizer", "scheduler", "callbacks": [(class_name, state, arrays)]}``."""
    path = Path(path)
    header, archive = _open_model_file(path)
    with archive:
        doc = _header(archive, CHECKPOINT_KEY, path)
        arrays = {key: _read_member(archive, key) for key in archive.headers}
    weights = _weights(arrays)
    try:
        return _checkpoint_parts(header, weights, arrays, doc)
    except (KeyError, TypeError, ValueError, AttributeError) as e:
        raise ModelFileError(f"{path}: corrupt '{CHECKPOINT_KEY}' entry ({e!r})") from None


def _checkpoint_parts(header: dict, weights: dict, arrays: dict, doc: dict) -> dict[str, Any]:
    opt = doc.get("optimizer", {})
    opt_state = {k: v for k, v in opt.items() if k not in ("class_name", "config")}
    opt_state.update(
        {k[len("optimizer/") :]: v for k, v in arrays.items() if k.startswith("optimizer/")}
    )
    callbacks = []
    for i, entry in enumerate(doc.get("callbacks", [])):
        prefix = f"callback/{i}/"
        cb_arrays = {k[len(prefix) :]: v for k, v in arrays.items() if k.startswith(prefix)}
        callbacks.append((entry["class_name"], entry["state"], cb_arrays))
    return {
        "header": header,
        "weights": weights,
        "epoch": int(doc["epoch"]),
        "history": doc.get("history", {}),
        "rng": doc.get("rng", {}),
        "optimizer": opt,
        "optimizer_state": opt_state,
        "scheduler": doc.get("scheduler"),
        "callbacks": callbacks,
    }
