"""Preprocessing transformers, fitted on the training split only and saved with the model.

Every transformer has ``fit(x)``, ``transform(x)``, ``fit_transform(x)``, ``inverse_transform(x)``
and ``get_config()`` / ``from_config(config)``. The config holds the constructor arguments *and*
the fitted numbers as plain JSON values (lists of floats), so a model file can store its
preprocessing as JSON and prediction uses exactly the numbers of training.
:func:`serialize_transformer` adds the class name; :func:`transformer_from_config` reverses it.

Reductions in ``fit`` run block by block in float64, so fitting on a memory-mapped array bigger
than RAM streams it from disk. Outputs are ``float32`` (labels: ``int64``).

>>> import json
>>> import numpy as np
>>> x_train = np.array([[1.0, 10.0], [3.0, 10.0]], dtype=np.float32)
>>> scaler = StandardScaler().fit(x_train)
>>> scaler.transform(x_train).tolist()   # the constant column stays finite
[[-1.0, 0.0], [1.0, 0.0]]
>>> spec = json.loads(json.dumps(serialize_transformer(scaler)))
>>> transformer_from_config(spec).transform(np.array([[2.0, 10.0]])).tolist()
[[0.0, 0.0]]

One module per concept: :mod:`~nablanet.data.preprocessing.base` (the interface, the registry
of classes, serialization), :mod:`~nablanet.data.preprocessing.scalers` (standardization,
min-max, per-channel standardization of images), :mod:`~nablanet.data.preprocessing.images` (pixel scaling, flattening),
:mod:`~nablanet.data.preprocessing.labels` (label and one-hot encoding) and
:mod:`~nablanet.data.preprocessing.compose` (transformers in order). Importing this package
registers every class, so :func:`transformer_from_config` finds them all.
"""

from .base import TRANSFORMER_REGISTRY, Transformer, serialize_transformer, transformer_from_config
from .compose import Compose
from .images import ImageFlattener, PixelScaler
from .labels import LabelEncoder, OneHotEncoder
from .scalers import ChannelStandardizer, MinMaxScaler, StandardScaler

__all__ = [
    "TRANSFORMER_REGISTRY",
    "ChannelStandardizer",
    "Compose",
    "ImageFlattener",
    "LabelEncoder",
    "MinMaxScaler",
    "OneHotEncoder",
    "PixelScaler",
    "StandardScaler",
    "Transformer",
    "serialize_transformer",
    "transformer_from_config",
]
