"""The data side of nablanet: datasets, file formats, preprocessing, splits and batching.

This package imports NumPy and the standard library; scikit-learn (bundled datasets), Pillow
(image folders) and tqdm (download progress) are imported only when they are needed. It does not
import the library (:mod:`nablanet.nn`), and the library does not import it.

>>> from nablanet.data import load_dataset, train_val_test_split, StandardScaler, DataLoader
>>> ds = load_dataset("breast_cancer")
>>> ds.task, ds.x.shape, ds.class_names
('binary', (569, 30), ['malignant', 'benign'])
>>> parts = ds.split(val_fraction=0.1, test_fraction=0.2, seed=0)
>>> scaler = StandardScaler().fit(parts.x_train)
>>> xb, yb = next(iter(DataLoader(scaler.transform(parts.x_train), parts.y_train, 64, seed=0)))
>>> xb.shape, xb.dtype, yb.dtype
((64, 30), dtype('float32'), dtype('int64'))
"""

from .builtin import FASHION_MNIST, MNIST, IdxSource, load_idx_dataset
from .cifar import CIFAR10, CifarSource, load_cifar
from .dataset import TASKS, Dataset, encode_targets, infer_task
from .errors import DataError
from .fetch import DATA_ENV, default_data_dir, download_file
from .formats import csv_columns, load_csv, load_image_folder, load_npy, load_npz
from .idx import parse_idx, read_idx, write_idx
from .loader import DataLoader
from .preprocessing import (
    TRANSFORMER_REGISTRY,
    ChannelStandardizer,
    Compose,
    ImageFlattener,
    LabelEncoder,
    MinMaxScaler,
    OneHotEncoder,
    PixelScaler,
    StandardScaler,
    Transformer,
    serialize_transformer,
    transformer_from_config,
)
from .registry import (
    DatasetInfo,
    dataset_params,
    list_datasets,
    load_dataset,
    register_dataset,
)
from .split import Split, train_test_split, train_val_test_indices, train_val_test_split
from .toy import (
    TOY_DATASETS,
    make_circles,
    make_gaussians,
    make_moons,
    make_spiral,
    make_toy,
    make_xor,
)

__all__ = [
    "CIFAR10",
    "DATA_ENV",
    "FASHION_MNIST",
    "MNIST",
    "TASKS",
    "TOY_DATASETS",
    "TRANSFORMER_REGISTRY",
    "ChannelStandardizer",
    "CifarSource",
    "Compose",
    "DataError",
    "DataLoader",
    "Dataset",
    "DatasetInfo",
    "IdxSource",
    "ImageFlattener",
    "LabelEncoder",
    "MinMaxScaler",
    "OneHotEncoder",
    "PixelScaler",
    "Split",
    "StandardScaler",
    "Transformer",
    "csv_columns",
    "dataset_params",
    "default_data_dir",
    "download_file",
    "encode_targets",
    "infer_task",
    "list_datasets",
    "load_cifar",
    "load_csv",
    "load_dataset",
    "load_idx_dataset",
    "load_image_folder",
    "load_npy",
    "load_npz",
    "make_circles",
    "make_gaussians",
    "make_moons",
    "make_spiral",
    "make_toy",
    "make_xor",
    "parse_idx",
    "read_idx",
    "register_dataset",
    "serialize_transformer",
    "train_test_split",
    "train_val_test_indices",
    "train_val_test_split",
    "transformer_from_config",
    "write_idx",
]
