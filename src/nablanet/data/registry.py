"""The dataset registry: ``load_dataset(spec)`` and ``list_datasets()``.

``spec`` is what a config file's ``data.dataset`` holds: a registry name (``"mnist"``) or a dict
describing user data (``{"csv": path, "target": column}``, ``{"npz": path}``,
``{"npy": {"x": path, "y": path}}``, ``{"images": folder}``).

>>> sorted(info.name for info in list_datasets())
['breast_cancer', 'cifar10', 'circles', 'diabetes', 'digits', 'fashion_mnist', 'gaussians', 'mnist', 'moons', 'spiral', 'xor']
>>> load_dataset("diabetes")
Dataset(name='diabetes', task='regression', x=(442, 10) float32, y=(442,) float32)
>>> load_dataset({"name": "spiral", "n_samples": 90, "noise": 0.1})
Dataset(name='spiral', task='multiclass', x=(90, 2) float32, y=(90,) int64, classes=['0', '1', '2'])
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from typing import Any

from . import builtin, cifar, toy
from .builtin import FASHION_MNIST, MNIST, IdxSource, find_idx_files, idx_search_dirs
from .dataset import Dataset
from .errors import DataError
from .fetch import resolve_data_dir
from .formats import load_from_spec


@dataclass(frozen=True)
class DatasetInfo:
    """What ``nablanet datasets`` shows about a registered dataset (no data is loaded).

    Examples
    --------
    >>> info = {i.name: i for i in list_datasets()}["digits"]
    >>> info.task, info.n_train, info.input_shape, info.available_offline
    ('multiclass', 1797, (8, 8, 1), True)
    """

    name: str
    task: str
    n_train: int
    n_test: int | None
    input_shape: tuple[int, ...]
    n_classes: int | None
    available_offline: bool
    location: str
    description: str

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["input_shape"] = list(self.input_shape)
        return d


Loader = Callable[..., Dataset]


@dataclass(frozen=True)
class _Entry:
    loader: Loader  # loader(data_dir=..., download=..., progress=..., **params) -> Dataset
    info: Callable[[str | os.PathLike[str] | None], DatasetInfo]
    #: the keyword parameters the loader takes besides the data folder (the toy generators')
    params: tuple[str, ...] = ()


_REGISTRY: dict[str, _Entry] = {}


def _normalize(name: str) -> str:
    return name.strip().lower().replace("-", "_")


def register_dataset(
    name: str,
    loader: Loader,
    info: DatasetInfo | Callable[[str | os.PathLike[str] | None], DatasetInfo],
    *,
    overwrite: bool = False,
    params: tuple[str, ...] = (),
) -> None:
    """Add a dataset to the registry.

    Parameters
    ----------
    name : str
        Registry name (``-`` and ``_`` are interchangeable in look-ups).
    loader : callable
        ``loader(data_dir=None, download=True, progress=True) -> Dataset``.
    info : DatasetInfo or callable
        Static info, or ``info(data_dir) -> DatasetInfo`` for availability that depends on the
        data directory.
    overwrite : bool
        Replace an existing entry of the same name.
    params : tuple of str
        Keyword parameters the loader takes (``{"name": ..., <param>: value}`` specs pass them).
    """
    key = _normalize(name)
    if key in _REGISTRY and not overwrite:
        raise DataError(f"a dataset named {key!r} is already registered")
    info_fn = info if callable(info) else (lambda data_dir, _info=info: _info)
    _REGISTRY[key] = _Entry(loader=loader, info=info_fn, params=tuple(params))


def _bundled(fn: Callable[[], Dataset]) -> Loader:
    def loader(
        data_dir: str | os.PathLike[str] | None = None, download: bool = True, progress: bool = True
    ) -> Dataset:
        return fn()

    return loader


def _bundled_info(
    name: str, task: str, n: int, shape: tuple[int, ...], n_classes: int | None, description: str
) -> DatasetInfo:
    return DatasetInfo(
        name=name,
        task=task,
        n_train=n,
        n_test=None,
        input_shape=shape,
        n_classes=n_classes,
        available_offline=importlib.util.find_spec("sklearn") is not None,
        location="bundled with scikit-learn",
        description=description,
    )


def _register_idx(source: IdxSource) -> None:
    def loader(
        data_dir: str | os.PathLike[str] | None = None, download: bool = True, progress: bool = True
    ) -> Dataset:
        return builtin.load_idx_dataset(source, data_dir, download=download, progress=progress)

    def info(data_dir: str | os.PathLike[str] | None = None) -> DatasetInfo:
        paths = find_idx_files(source, data_dir)
        where = (
            str(next(iter(paths.values())).parent)
            if paths
            else f"{idx_search_dirs(source, data_dir)[0]} (not downloaded yet)"
        )
        return DatasetInfo(
            name=source.name,
            task="multiclass",
            n_train=60000,
            n_test=10000,
            input_shape=(28, 28, 1),
            n_classes=len(source.class_names),
            available_offline=paths is not None,
            location=where,
            description=source.description,
        )

    register_dataset(source.name, loader, info)


_register_idx(MNIST)
_register_idx(FASHION_MNIST)


def _register_cifar(source: cifar.CifarSource) -> None:
    def loader(
        data_dir: str | os.PathLike[str] | None = None, download: bool = True, progress: bool = True
    ) -> Dataset:
        return cifar.load_cifar(source, data_dir, download=download, progress=progress)

    def info(data_dir: str | os.PathLike[str] | None = None) -> DatasetInfo:
        found = cifar.find_cifar(source, data_dir)
        where = (
            str(found[1])
            if found
            else f"{resolve_data_dir(data_dir) / source.folder} (not downloaded yet)"
        )
        return DatasetInfo(
            name=source.name,
            task="multiclass",
            n_train=source.records_per_file * len(source.train_files),
            n_test=source.records_per_file * len(source.test_files),
            input_shape=(32, 32, 3),
            n_classes=len(source.class_names),
            available_offline=found is not None,
            location=where,
            description=source.description,
        )

    register_dataset(source.name, loader, info)


_register_cifar(cifar.CIFAR10)
register_dataset(
    "breast_cancer",
    _bundled(builtin.load_breast_cancer),
    _bundled_info(
        "breast_cancer",
        "binary",
        569,
        (30,),
        2,
        "Wisconsin diagnostic breast cancer: malignant vs benign from 30 measurements.",
    ),
)
register_dataset(
    "digits",
    _bundled(builtin.load_digits),
    _bundled_info(
        "digits",
        "multiclass",
        1797,
        (8, 8, 1),
        10,
        "Handwritten digits 0-9, 8x8 grayscale (values 0..16); fast offline images.",
    ),
)
register_dataset(
    "diabetes",
    _bundled(builtin.load_diabetes),
    _bundled_info(
        "diabetes",
        "regression",
        442,
        (10,),
        None,
        "Diabetes progression after one year from 10 clinical features (regression).",
    ),
)


def _register_toy(name: str) -> None:
    _, defaults, description = toy.TOY_DATASETS[name]

    def loader(
        data_dir: str | os.PathLike[str] | None = None,
        download: bool = True,
        progress: bool = True,
        **params: Any,
    ) -> Dataset:
        return toy.make_toy(name, **params)

    n_classes = defaults.get("n_classes", 2)
    register_dataset(
        name,
        loader,
        DatasetInfo(
            name=name,
            task="binary" if n_classes == 2 else "multiclass",
            n_train=int(defaults["n_samples"]),
            n_test=None,
            input_shape=(2,),
            n_classes=int(n_classes),
            available_offline=True,
            location="generated",
            description=description,
        ),
        params=tuple(defaults),
    )


for _toy_name in toy.TOY_DATASETS:
    _register_toy(_toy_name)


def dataset_params(name: str) -> tuple[str, ...]:
    """The keyword parameters a registered dataset takes (empty for files on disk).

    >>> dataset_params("spiral")
    ('n_samples', 'noise', 'n_classes', 'seed')
    """
    entry = _REGISTRY.get(_normalize(name))
    return () if entry is None else entry.params


def list_datasets(data_dir: str | os.PathLike[str] | None = None) -> list[DatasetInfo]:
    """Info on every registered dataset, sorted by name: task, sizes, input shape, classes, and
    where it is cached / whether it loads offline. Loads no data and uses no network."""
    return [_REGISTRY[name].info(data_dir) for name in sorted(_REGISTRY)]


def load_dataset(
    spec: str | Mapping[str, Any],
    data_dir: str | os.PathLike[str] | None = None,
    *,
    download: bool = True,
    progress: bool = True,
) -> Dataset:
    """Load a dataset by registry name or from a user-data spec.

    Parameters
    ----------
    spec : str or dict
        A registry name (see :func:`list_datasets`; ``"fashion-mnist"`` works too), or
        ``{"name": <registry name>, <parameter>: value, ...}`` (the toy generators' ``n_samples``,
        ``noise``, ``n_classes``, ``seed``), ``{"csv": path, "target": column, ...}``,
        ``{"npz": path, ...}``, ``{"npy": {"x": path, "y": path}, "mmap": "auto", ...}``,
        ``{"images": folder, "size": [h, w], ...}`` (see :mod:`nablanet.data.formats`).
        Relative paths are relative to the working directory.
    data_dir : str or path-like, optional
        Where downloaded datasets are cached and looked for; default ``$NABLANET_DATA`` or
        ``~/.cache/nablanet``.
    download : bool
        Allow downloading a missing dataset.
    progress : bool
        Show a progress bar while downloading.

    Returns
    -------
    Dataset

    Raises
    ------
    DataError
        Unknown name, bad spec, missing or malformed files (one line naming the problem).
    """
    params: dict[str, Any] = {}
    if isinstance(spec, Mapping) and "name" in spec:
        params = {k: v for k, v in spec.items() if k != "name"}
        spec = spec["name"]
        if not isinstance(spec, str):
            raise DataError(f"a dataset name must be a string, got {type(spec).__name__}: {spec!r}")
    if isinstance(spec, str):
        entry = _REGISTRY.get(_normalize(spec))
        if entry is None:
            known = ", ".join(sorted(_REGISTRY))
            raise DataError(
                f"unknown dataset {spec!r}; built-in datasets are {known}, and user data is "
                "given as {'csv': path, 'target': column}, {'npz': path}, "
                "{'npy': {'x': path, 'y': path}} or {'images': folder}"
            )
        unknown = [k for k in params if k not in entry.params]
        if unknown:
            takes = f"it takes {', '.join(entry.params)}" if entry.params else "it takes none"
            raise DataError(f"dataset {spec!r}: unknown parameter {unknown[0]!r}; {takes}")
        return entry.loader(data_dir=data_dir, download=download, progress=progress, **params)
    if isinstance(spec, Mapping):
        return load_from_spec(dict(spec))
    raise DataError(f"a dataset spec must be a name or a dict, got {type(spec).__name__}: {spec!r}")
