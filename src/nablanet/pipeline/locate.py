"""Where a model or a run is: model files, run directories and ``runs/latest``.

Every command that takes a model (``evaluate``, ``predict``, ``export``, the UI's loaders) and
every one that takes a run (``visualize``, ``train --resume``) resolves the path it is given
here, so the same three spellings work everywhere:

- a model file: ``runs/<run>/model.npz``, a checkpoint ``runs/<run>/checkpoints/best.npz``, or
  any ``.npz`` written by ``Sequential.save``;
- a run directory: ``runs/<run>`` stands for its ``model.npz``;
- ``runs/latest``: the newest run that saved its model, kept up to date by every training run
  (a symbolic link; where the file system has none, a one-line text file naming the run).

>>> import tempfile
>>> runs = Path(tempfile.mkdtemp())
>>> run = runs / "demo-20260101-120000"
>>> run.mkdir()
>>> _ = (run / "model.npz").write_bytes(b"")
>>> update_latest(run).name
'latest'
>>> resolve_run_path(runs / "latest") == run, resolve_model_path(runs / "latest") == run / "model.npz"
(True, True)
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

from .errors import InputError

__all__ = [
    "LATEST",
    "is_latest_pointer",
    "read_latest",
    "resolve_model_path",
    "resolve_run_path",
    "update_latest",
]

#: the name of the pointer to the newest run, inside the output directory (``runs/latest``)
LATEST = "latest"
MODEL_FILE = "model.npz"
CONFIG_FILE = "config.yaml"
# a fallback pointer file holds one run name; anything bigger is not one
_MAX_POINTER_BYTES = 4096


def is_latest_pointer(path: str | Path) -> bool:
    """Whether ``path`` is a ``latest`` pointer (the link, or the fallback file), not a run.

    ``list_runs`` skips it, so the newest run is not listed twice.
    """
    path = Path(path)
    return path.name == LATEST and (path.is_symlink() or path.is_file())


def read_latest(path: str | Path) -> Path:
    """The run directory a ``latest`` pointer (link or fallback file) names.

    Raises
    ------
    InputError
        A dangling link, or a pointer file that names no run directory.
    """
    path = Path(path)
    if path.is_symlink():
        target = Path(os.readlink(path))
        run = target if target.is_absolute() else path.parent / target
    else:
        try:
            if path.stat().st_size > _MAX_POINTER_BYTES:
                raise InputError(f"{path}: not a pointer to a run (too big)")
            name = path.read_text(encoding="utf-8").strip()
        except (OSError, UnicodeDecodeError) as e:
            raise InputError(f"{path}: unreadable pointer to the latest run ({e})") from None
        if not name or "\n" in name:
            raise InputError(f"{path}: not a pointer to a run (one run name expected)")
        run = Path(name) if Path(name).is_absolute() else path.parent / name
    if not run.is_dir():
        raise InputError(f"{path}: points at {run}, which no longer exists")
    return run


def update_latest(run_dir: str | Path) -> Path:
    """Point ``<output_dir>/latest`` (``run_dir``'s parent) at ``run_dir``; returns the pointer.

    The link is relative (``latest -> demo-20260101-120000``), so a copied or moved output
    directory keeps working. It is replaced atomically (a new link under a temporary name,
    renamed over the old one): a reader sees the old run or the new one, never nothing. Where
    symbolic links cannot be made (Windows without developer mode, some network file systems),
    a text file holding the run's name takes its place, also written and renamed.
    """
    run_dir = Path(run_dir)
    base = run_dir.parent
    pointer = base / LATEST
    fd, tmp_name = tempfile.mkstemp(dir=base, prefix=f".{LATEST}.", suffix=".tmp")
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        tmp.unlink()
        try:
            os.symlink(run_dir.name, tmp, target_is_directory=True)
        except (OSError, NotImplementedError, AttributeError):
            tmp.write_text(run_dir.name + "\n", encoding="utf-8")
        if pointer.is_dir() and not pointer.is_symlink():
            raise InputError(f"{pointer}: is a directory, not the pointer to the latest run")
        os.replace(tmp, pointer)
    finally:
        with contextlib.suppress(OSError):
            tmp.unlink()
    return pointer


def resolve_run_path(path: str | Path) -> Path:
    """``path`` as a run directory: itself, or the run ``runs/latest`` points at.

    A path that is neither is returned unchanged (the caller reports what is missing).
    """
    path = Path(path)
    if is_latest_pointer(path):
        return read_latest(path)
    return path


def resolve_model_path(path: str | os.PathLike[str]) -> Path:
    """The model file that ``path`` stands for (see the module's docstring).

    Raises
    ------
    InputError
        A run directory with no ``model.npz`` (still training, interrupted, or failed: its
        checkpoints are named), an output directory of runs (``runs/latest`` is suggested), a
        folder that holds no model, or a ``latest`` that is not there yet. Any other path that
        is not a folder is returned as it is: reading it says what is wrong with the file.
    """
    given = Path(path)
    if given.name == LATEST and not given.exists() and not given.is_symlink():
        raise InputError(
            f"{given}: no run has saved a model here yet (train one with nablanet train)"
        )
    path = resolve_run_path(given)
    if not path.is_dir():
        return path
    model = path / MODEL_FILE
    if model.is_file():
        return model
    if (path / CONFIG_FILE).is_file():
        checkpoints = sorted((path / "checkpoints").glob("*.npz"))
        saved = ", ".join(str(p.relative_to(path)) for p in checkpoints)
        hint = (
            f"; it has {saved} (pass one of them as the model)"
            if checkpoints
            else " and no checkpoint (it stopped before its first epoch ended)"
        )
        raise InputError(f"{path}: this run has no {MODEL_FILE} yet (still training?){hint}")
    if (path / LATEST).exists() or (path / LATEST).is_symlink():
        raise InputError(
            f"{path}: is a folder of runs, not a run; give one run, e.g. {path / LATEST} "
            "(the newest)"
        )
    raise InputError(f"{path}: is a folder without {MODEL_FILE}; give a model file or a run")
