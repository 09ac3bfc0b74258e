"""Safe model files: ``.npz`` written with ``allow_pickle=False``.

A model file holds the arrays (``weights/<dotted name>``) and one JSON document
(``__nablanet__``) with the architecture, the compile settings and free-form metadata. A
checkpoint adds ``__checkpoint__`` (epoch, history, RNG states, optimizer and callback settings)
and the arrays ``optimizer/<name>.<key>`` and ``callback/<i>/<name>``. Loading never unpickles, so a
model file from a stranger cannot run code. Files are written to a temporary name in the same
folder and renamed, so a crash never leaves a half-written file behind.
"""

from __future__ import annotations

import json
import os
import tempfile
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from ._validation import NablanetError

FORMAT = "nablanet-model"
FORMAT_VERSION = 1
HEADER_KEY = "__nablanet__"
CHECKPOINT_KEY = "__checkpoint__"


class ModelFileError(NablanetError):
    """A model or checkpoint file that cannot be read (missing, truncated, foreign, corrupt).

    >>> from nablanet.nn import load_model
    >>> try:
    ...     load_model("no_such_model.npz")
    ... except ModelFileError as e:
    ...     print(e)
    no_such_model.npz: no such model file
    """


def _json_default(obj):
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
            np.savez(f, **arrays)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
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


def read_npz(path: str | Path) -> dict[str, np.ndarray]:
    """All arrays of an ``.npz`` file, never unpickling; errors name the file."""
    path = Path(path)
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
        with np.load(path, allow_pickle=False) as data:
            return {key: data[key] for key in data.files}
    except (zipfile.BadZipFile, EOFError, OSError, KeyError) as e:
        raise ModelFileError(
            f"{path}: not a readable .npz model file (truncated or corrupt: {e})"
        ) from None
    except ValueError as e:
        raise ModelFileError(
            f"{path}: refused to load ({e}); model files never contain pickled objects"
        ) from None


def _header(arrays: dict, key: str, path: Path) -> dict:
    if key not in arrays:
        raise ModelFileError(f"{path}: not a nablanet model file (no '{key}' entry)")
    try:
        doc = json.loads(str(arrays[key][()]))
    except (json.JSONDecodeError, TypeError, ValueError) as e:
        raise ModelFileError(f"{path}: corrupt '{key}' entry ({e})") from None
    if not isinstance(doc, dict):
        raise ModelFileError(f"{path}: corrupt '{key}' entry (not a JSON object)")
    return doc


def model_arrays(
    model, metadata: dict | None = None, weights: dict[str, np.ndarray] | None = None
) -> dict[str, np.ndarray]:
    from .. import __version__

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
    model, path: str | Path, metadata: dict | None = None, overwrite: bool = True
) -> Path:
    """Save the architecture, weights, compile settings and ``metadata`` (JSON-able) to ``path``."""
    path = Path(path)
    if path.exists() and not overwrite:
        raise ModelFileError(f"{path}: exists already (pass overwrite=True to replace it)")
    return atomic_savez(path, model_arrays(model, metadata))


def _weights(arrays: dict) -> dict[str, np.ndarray]:
    return {k[len("weights/") :]: v for k, v in arrays.items() if k.startswith("weights/")}


def read_model_file(path: str | Path) -> tuple[dict, dict[str, np.ndarray], dict]:
    """``(header, weights, arrays)`` of a model or checkpoint file, validated."""
    path = Path(path)
    arrays = read_npz(path)
    header = _header(arrays, HEADER_KEY, path)
    if header.get("format") != FORMAT:
        raise ModelFileError(f"{path}: not a nablanet model file (format {header.get('format')!r})")
    if int(header.get("format_version", 0)) > FORMAT_VERSION:
        raise ModelFileError(
            f"{path}: written by a newer nablanet (format version "
            f"{header['format_version']}); upgrade nablanet to read it"
        )
    return header, _weights(arrays), arrays


def load_model(path: str | Path, compile: bool = True):
    """Rebuild a ``Sequential`` from a file written by ``model.save`` (or a checkpoint).

    The model's ``metadata`` dict is available as ``model.metadata``.
    """
    from .model import Sequential

    path = Path(path)
    header, weights, _ = read_model_file(path)
    try:
        model = Sequential.from_config(header["model"])
    except (KeyError, TypeError, NablanetError) as e:
        raise ModelFileError(f"{path}: corrupt architecture ({e})") from None
    try:
        model.load_state_dict(weights, strict=True)
    except NablanetError as e:
        raise ModelFileError(f"{path}: {e}") from None
    model.metadata = header.get("metadata", {})
    if compile and header.get("compile"):
        try:
            model.compile_from_config(header["compile"])
        except (KeyError, TypeError, NablanetError) as e:
            raise ModelFileError(f"{path}: corrupt compile settings ({e!r})") from None
    return model


# -- checkpoints --------------------------------------------------------------------------------
def save_checkpoint(
    path: str | Path,
    model,
    optimizer,
    epoch: int,
    history: dict,
    rng_states: dict,
    callbacks: list | None = None,
    scheduler=None,
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
    header, weights, arrays = read_model_file(path)
    doc = _header(arrays, CHECKPOINT_KEY, path)
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
