"""The model a config builds for a dataset, without training it: for previews (the UI's model
summary) and checks before a run is queued.

The preprocessing is fitted on the first few samples only (enough for the shapes), and the
model is built the way a run builds it: the global seed set to ``config.seed`` and the layers
drawn under :data:`~nablanet.pipeline.seeding.SEED_LOCK`, so a preview never disturbs a
training run in another thread.

>>> from nablanet import data
>>> from nablanet.pipeline import config_from_dict
>>> cfg = config_from_dict({
...     "data": {"dataset": "breast_cancer"},
...     "model": {"layers": [{"type": "dense", "units": 8, "activation": "relu"},
...                          {"type": "dense", "units": "auto", "activation": "sigmoid"}]},
...     "training": {"loss": "binary_crossentropy", "epochs": 1},
... })
>>> preview = build_model_for(cfg, data.load_dataset("breast_cancer"))
>>> preview.input_shape, preview.n_outputs, preview.model.count_params()
((30,), 1, 257)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .. import data as nd
from .. import nn
from .build import build_model
from .config import Config
from .prepare import build_preprocessing
from .seeding import SEED_LOCK
from .specs import n_model_outputs

__all__ = ["ModelPreview", "build_model_for"]

#: samples the preprocessing is fitted on for a preview (the shapes, not the statistics, matter)
PREVIEW_SAMPLES = 32


@dataclass
class ModelPreview:
    """The untrained model of a config for a dataset.

    Attributes
    ----------
    model : nablanet.nn.Sequential
        Built and compiled (loss and optimizer of the config).
    input_shape : tuple of int
        The shape of one preprocessed sample (what the first layer receives).
    n_outputs : int
        Outputs the data asks for.
    """

    model: nn.Sequential
    input_shape: tuple[int, ...]
    n_outputs: int

    def summary(self) -> str:
        """``Sequential.summary()`` text: layers, output shapes, parameter counts."""
        text = self.model.summary(self.input_shape, print_fn=None)
        assert text is not None  # print_fn=None: returned, not printed
        return text


def build_model_for(config: Config, dataset: nd.Dataset) -> ModelPreview:
    """The model ``config`` builds for ``dataset``, with the shapes a run would give it.

    Raises
    ------
    ConfigError
        The layers do not fit the data (naming ``model.layers[i]``), or the loss the task.
    nablanet.NablanetError
        The library refuses a layer's settings.
    """
    pre = build_preprocessing(config, dataset)
    few = np.asarray(dataset.x[: min(len(dataset.x), PREVIEW_SAMPLES)])
    shape = tuple(int(s) for s in pre.fit_transform(few).shape[1:])
    n_targets = 1 if dataset.y.ndim == 1 else int(dataset.y.shape[1])
    n_out = n_model_outputs(config.model.layers, dataset.task, dataset.n_classes or 0, n_targets)
    with SEED_LOCK:
        nn.set_seed(config.seed)
        model = build_model(config, shape, n_out, task=dataset.task)
    return ModelPreview(model=model, input_shape=shape, n_outputs=n_out)
