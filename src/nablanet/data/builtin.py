"""The built-in datasets: MNIST and Fashion-MNIST (IDX files, downloaded and cached) and three
small sets bundled with scikit-learn (``breast_cancer``, ``digits``, ``diabetes``), which work
offline.

Where MNIST-like files are looked for, in order:

1. ``<data_dir>/<folder>/`` and ``<data_dir>/`` itself, when ``data_dir`` is given;
   otherwise ``$NABLANET_DATA/<folder>/`` or ``~/.cache/nablanet/<folder>/``;
2. system folders (Fashion-MNIST: ``/usr/share/datasets/fashion-mnist``, Debian's
   ``dataset-fashion-mnist`` package).

Each of the four files may be gzip-compressed (``.gz``) or plain. When they are missing they are
downloaded into the first folder of step 1. The MD5 of the decompressed content is checked on
download and on every load.

>>> MNIST.files
('train-images-idx3-ubyte', 'train-labels-idx1-ubyte', 't10k-images-idx3-ubyte', 't10k-labels-idx1-ubyte')
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .dataset import Dataset
from .errors import DataError
from .fetch import DATA_ENV, download_file, resolve_data_dir
from .idx import read_idx

IDX_FILES = (
    "train-images-idx3-ubyte",
    "train-labels-idx1-ubyte",
    "t10k-images-idx3-ubyte",
    "t10k-labels-idx1-ubyte",
)


@dataclass(frozen=True)
class IdxSource:
    """Where an MNIST-format dataset lives and how to check it.

    Every field can be replaced (``dataclasses.replace``) to point the loader at other mirrors or
    at small generated files in tests.

    Parameters
    ----------
    name : str
        Registry name, e.g. ``"mnist"``.
    folder : str
        Sub-folder of the data directory, e.g. ``"mnist"`` or ``"fashion-mnist"``.
    title : str
        Human-readable name for messages.
    mirrors : tuple of str
        Base URLs tried in order; a file's URL is ``mirror + name + ".gz"``.
    md5 : mapping of str to str
        MD5 of each *decompressed* file, by file name (a file missing from it is not checked).
    class_names : tuple of str
    system_dirs : tuple of str
        Read-only folders where a system package may have installed the files.

    Examples
    --------
    >>> import dataclasses
    >>> local = dataclasses.replace(MNIST, mirrors=("http://127.0.0.1:8000/",))
    >>> local.folder, local.md5["t10k-labels-idx1-ubyte"]
    ('mnist', '27ae3e4e09519cfbb04c329615203637')
    """

    name: str
    folder: str
    title: str
    mirrors: tuple[str, ...]
    md5: Mapping[str, str] = field(default_factory=dict)
    class_names: tuple[str, ...] = tuple(str(i) for i in range(10))
    system_dirs: tuple[str, ...] = ()
    description: str = ""
    files: tuple[str, ...] = IDX_FILES


MNIST = IdxSource(
    name="mnist",
    folder="mnist",
    title="MNIST",
    mirrors=(
        "https://ossci-datasets.s3.amazonaws.com/mnist/",
        "https://storage.googleapis.com/cvdf-datasets/mnist/",
        "http://yann.lecun.com/exdb/mnist/",
    ),
    md5={
        "train-images-idx3-ubyte": "6bbc9ace898e44ae57da46a324031adb",
        "train-labels-idx1-ubyte": "a25bea736e30d166cdddb491f175f624",
        "t10k-images-idx3-ubyte": "2646ac647ad5339dbf082846283269ea",
        "t10k-labels-idx1-ubyte": "27ae3e4e09519cfbb04c329615203637",
    },
    description="Handwritten digits 0-9, 28x28 grayscale; 60000 train + 10000 test images.",
)

FASHION_MNIST = IdxSource(
    name="fashion_mnist",
    folder="fashion-mnist",
    title="Fashion-MNIST",
    mirrors=(
        "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
        "https://storage.googleapis.com/tensorflow/tf-keras-datasets/",
    ),
    md5={
        "train-images-idx3-ubyte": "f4a8712d7a061bf5bd6d2ca38dc4d50a",
        "train-labels-idx1-ubyte": "9018921c3c673c538a1fc5bad174d6f9",
        "t10k-images-idx3-ubyte": "8181f5470baa50b63fa0f6fddb340f0a",
        "t10k-labels-idx1-ubyte": "15d484375f8d13e6eb1aabb0c3f46965",
    },
    class_names=(
        "T-shirt/top",
        "Trouser",
        "Pullover",
        "Dress",
        "Coat",
        "Sandal",
        "Shirt",
        "Sneaker",
        "Bag",
        "Ankle boot",
    ),
    system_dirs=("/usr/share/datasets/fashion-mnist",),
    description="Zalando clothing images in 10 classes, 28x28 grayscale; 60000 train + 10000 test.",
)


def _file_in(folder: Path, name: str) -> Path | None:
    for candidate in (folder / f"{name}.gz", folder / name):
        if candidate.is_file():
            return candidate
    return None


def idx_search_dirs(
    source: IdxSource, data_dir: str | os.PathLike[str] | None = None
) -> list[Path]:
    """Folders searched for ``source``'s files, in order; the first is the download target."""
    root = resolve_data_dir(data_dir)
    dirs = [root / source.folder]
    if data_dir is not None:
        dirs.append(root)
    dirs.extend(Path(d) for d in source.system_dirs)
    return dirs


def find_idx_files(
    source: IdxSource, data_dir: str | os.PathLike[str] | None = None
) -> dict[str, Path] | None:
    """Paths of the four files from the first folder that holds all of them, else None."""
    for folder in idx_search_dirs(source, data_dir):
        found = {name: _file_in(folder, name) for name in source.files}
        if all(found.values()):
            return found  # type: ignore[return-value]
    return None


def _where_to_put(source: IdxSource, target: Path) -> str:
    names = ", ".join(f"{n}.gz" for n in source.files)
    return (
        f"put {names} (gzip or plain) in {target}, or set {DATA_ENV} to a folder that holds "
        f"{source.folder}/"
    )


def fetch_idx_files(
    source: IdxSource, data_dir: str | os.PathLike[str] | None = None, *, progress: bool = True
) -> dict[str, Path]:
    """Download the files of ``source`` that are missing from its cache folder.

    Each file is tried on every mirror in turn; a file that fails on all of them raises a
    :class:`DataError` that lists the reasons and says where to put the files by hand.
    """
    target = idx_search_dirs(source, data_dir)[0]
    paths: dict[str, Path] = {}
    for name in source.files:
        existing = _file_in(target, name)
        if existing is not None:
            paths[name] = existing
            continue
        reasons = []
        for mirror in source.mirrors:
            url = mirror.rstrip("/") + f"/{name}.gz"
            try:
                paths[name] = download_file(
                    url,
                    target / f"{name}.gz",
                    expected_md5=source.md5.get(name),
                    progress=progress,
                )
                break
            except DataError as err:
                reasons.append(str(err))
        else:
            tried = "; ".join(reasons) if reasons else "no mirrors configured"
            raise DataError(
                f"{source.title}: could not download {name}.gz ({tried}); "
                + _where_to_put(source, target)
            )
    return paths


def load_idx_dataset(
    source: IdxSource,
    data_dir: str | os.PathLike[str] | None = None,
    *,
    download: bool = True,
    progress: bool = True,
    verify: bool = True,
) -> Dataset:
    """Load an MNIST-format dataset, downloading it first when it is not found.

    Parameters
    ----------
    source : IdxSource
    data_dir : str or path-like, optional
        Data directory (see the module's search order).
    download : bool
        Download missing files; when False a missing dataset raises a :class:`DataError` that
        says where to put the files.
    progress : bool
        Progress bar while downloading.
    verify : bool
        Check the MD5 of every file's decompressed content.

    Returns
    -------
    Dataset
        ``x`` of shape ``(60000, 28, 28, 1)`` ``uint8`` (raw pixels 0..255), ``y`` ``int64``,
        and the predefined test split in ``x_test``, ``y_test``.
    """
    paths = find_idx_files(source, data_dir)
    if paths is None:
        target = idx_search_dirs(source, data_dir)[0]
        if not download:
            raise DataError(
                f"{source.title} is not in {target} and downloading is off: "
                + _where_to_put(source, target)
            )
        paths = fetch_idx_files(source, data_dir, progress=progress)
    arrays = {
        name: read_idx(path, source.md5.get(name) if verify else None)
        for name, path in paths.items()
    }
    parts = []
    for split in ("train", "t10k"):
        img_name, lab_name = f"{split}-images-idx3-ubyte", f"{split}-labels-idx1-ubyte"
        images, labels = arrays[img_name], arrays[lab_name]
        if images.ndim != 3 or images.dtype != np.uint8:
            raise DataError(
                f"{paths[img_name]}: expected uint8 images of shape (n, rows, cols), got "
                f"{images.shape} {images.dtype}"
            )
        if labels.ndim != 1 or len(labels) != len(images):
            raise DataError(
                f"{paths[lab_name]}: expected {len(images)} labels of shape (n,) to match "
                f"{paths[img_name].name}, got shape {labels.shape}"
            )
        if labels.size and labels.max() >= len(source.class_names):
            raise DataError(
                f"{paths[lab_name]}: label {int(labels.max())} is out of range for "
                f"{len(source.class_names)} classes"
            )
        parts.append((images[..., np.newaxis], labels.astype(np.int64)))
    (x, y), (x_test, y_test) = parts
    return Dataset(
        x=x,
        y=y,
        task="multiclass",
        name=source.name,
        class_names=list(source.class_names),
        x_test=x_test,
        y_test=y_test,
        value_range=(0.0, 255.0),
        description=source.description,
        source=str(paths[IDX_FILES[0]].parent),
    )


# -- scikit-learn's bundled data ---------------------------------------------------------------
# Importing ``sklearn.datasets`` pulls in SciPy and takes seconds, so the small CSV files that
# scikit-learn ships are read directly when they are where scikit-learn keeps them and have the
# expected shape; otherwise the scikit-learn functions are called. A test checks both agree.

_CELL_NUCLEUS_FEATURES = (
    "radius", "texture", "perimeter", "area", "smoothness", "compactness", "concavity",
    "concave points", "symmetry", "fractal dimension",
)  # fmt: skip
BREAST_CANCER_FEATURES = (
    [f"mean {f}" for f in _CELL_NUCLEUS_FEATURES]
    + [f"{f} error" for f in _CELL_NUCLEUS_FEATURES]
    + [f"worst {f}" for f in _CELL_NUCLEUS_FEATURES]
)
DIABETES_FEATURES = ["age", "sex", "bmi", "bp", "s1", "s2", "s3", "s4", "s5", "s6"]


def _bundled_file(name: str) -> Path | None:
    """Path of a data file shipped with scikit-learn, found without importing it."""
    import importlib.util

    try:
        spec = importlib.util.find_spec("sklearn")
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / "datasets" / "data" / name
    return path if path.is_file() else None


def _read_bundled(
    name: str, shape: tuple[int, int], skiprows: int = 0, delimiter: str | None = ","
) -> np.ndarray | None:
    path = _bundled_file(name)
    if path is None:
        return None
    try:
        data = np.loadtxt(path, delimiter=delimiter, skiprows=skiprows, ndmin=2)
    except (ValueError, OSError):
        return None
    return data if data.shape == shape else None


def _sklearn_datasets() -> Any:
    try:
        from sklearn import datasets
    except ImportError:  # pragma: no cover - scikit-learn is in the data extra
        raise DataError(
            "the bundled datasets need scikit-learn: pip install 'nablanet[data]'"
        ) from None
    return datasets


def _breast_cancer_arrays(fast: bool = True) -> tuple[np.ndarray, np.ndarray, list[str], list[str]]:
    table = _read_bundled("breast_cancer.csv", (569, 31), skiprows=1) if fast else None
    if table is not None:
        return table[:, :30], table[:, 30], ["malignant", "benign"], BREAST_CANCER_FEATURES
    bunch = _sklearn_datasets().load_breast_cancer()
    names = [str(c) for c in bunch.target_names]
    return bunch.data, bunch.target, names, [str(f) for f in bunch.feature_names]


def _digits_arrays(fast: bool = True) -> tuple[np.ndarray, np.ndarray]:
    table = _read_bundled("digits.csv.gz", (1797, 65)) if fast else None
    if table is not None:
        return table[:, :64].reshape(-1, 8, 8), table[:, 64]
    bunch = _sklearn_datasets().load_digits()
    return bunch.images, bunch.target


def _diabetes_arrays(fast: bool = True) -> tuple[np.ndarray, np.ndarray, list[str]]:
    data = _read_bundled("diabetes_data_raw.csv.gz", (442, 10), delimiter=None) if fast else None
    target = _read_bundled("diabetes_target.csv.gz", (442, 1), delimiter=None) if fast else None
    if data is not None and target is not None:
        return data, target[:, 0], DIABETES_FEATURES
    bunch = _sklearn_datasets().load_diabetes(scaled=False)
    return bunch.data, bunch.target, [str(f) for f in bunch.feature_names]


def load_breast_cancer() -> Dataset:
    """Wisconsin diagnostic breast cancer: 569 x 30 measurements, binary (0 malignant,
    1 benign), from scikit-learn's bundled copy."""
    x, y, class_names, feature_names = _breast_cancer_arrays()
    return Dataset(
        x=x.astype(np.float32),
        y=y.astype(np.int64),
        task="binary",
        name="breast_cancer",
        class_names=class_names,
        feature_names=feature_names,
        description="Wisconsin diagnostic breast cancer: 569 tumours, 30 features, "
        "malignant vs benign.",
        source="scikit-learn (bundled)",
    )


def load_digits() -> Dataset:
    """scikit-learn's 8x8 handwritten digits: 1797 images ``(8, 8, 1)`` ``uint8`` with values
    0..16, 10 classes."""
    images, target = _digits_arrays()
    return Dataset(
        x=images.astype(np.uint8)[..., np.newaxis],
        y=target.astype(np.int64),
        task="multiclass",
        name="digits",
        class_names=[str(i) for i in range(10)],
        value_range=(0.0, 16.0),
        description="Handwritten digits 0-9, 8x8 grayscale with values 0..16; 1797 images.",
        source="scikit-learn (bundled)",
    )


def load_diabetes() -> Dataset:
    """Diabetes progression (regression): 442 patients x 10 raw (unscaled) features; the target
    is a disease-progression score one year later (25..346)."""
    x, y, feature_names = _diabetes_arrays()
    return Dataset(
        x=x.astype(np.float32),
        y=y.astype(np.float32),
        task="regression",
        name="diabetes",
        feature_names=feature_names,
        description="Diabetes progression after one year (regression): 442 patients, "
        "10 features (age, sex, bmi, bp, six blood serum measurements).",
        source="scikit-learn (bundled)",
    )
