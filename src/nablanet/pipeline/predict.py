"""Prediction on raw inputs with a saved model: ``.npy``/``.npz``/``.csv`` files, images, arrays."""

from __future__ import annotations

import csv
import io
import logging
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .images import image_to_sample
from .inputs import read_inputs
from .trained import TrainedModel, load_trained_model

__all__ = ["Predictions", "predict"]

logger = logging.getLogger("nablanet.pipeline")


def _is_pil_image(value: Any) -> bool:
    pil = sys.modules.get("PIL.Image")  # a PIL image implies PIL is imported already
    return pil is not None and isinstance(value, pil.Image)


@dataclass
class Predictions:
    """Predictions for a batch of raw samples.

    Attributes
    ----------
    ids : list of str
        Row numbers, or image file names.
    task : str
    classes : ndarray of shape (n,) or None
        Predicted class indices (classification).
    labels : list of str or None
        Predicted class names (classification).
    probabilities : ndarray of shape (n, n_classes) or None
    values : ndarray of shape (n, n_targets) or None
        Regression predictions in the targets' original units.
    class_names : list of str or None

    >>> p = Predictions(["0"], "binary", classes=np.array([1]), labels=["yes"],
    ...                 probabilities=np.array([[0.1, 0.9]]), class_names=["no", "yes"])
    >>> print(p.to_csv(), end="")
    id,prediction,probability,p_no,p_yes
    0,yes,0.900000,0.100000,0.900000
    """

    ids: list[str]
    task: str
    classes: np.ndarray | None = None
    labels: list[str] | None = None
    probabilities: np.ndarray | None = None
    values: np.ndarray | None = None
    class_names: list[str] | None = None

    def __len__(self) -> int:
        return len(self.ids)

    def header(self) -> list[str]:
        if self.task == "regression":
            k = self.values.shape[1]
            return ["id", *(["prediction"] if k == 1 else [f"prediction_{j}" for j in range(k)])]
        return ["id", "prediction", "probability", *(f"p_{c}" for c in self.class_names)]

    def rows(self) -> list[list[str]]:
        """One row of strings per sample, matching :meth:`header`."""
        out = []
        for i, sample in enumerate(self.ids):
            if self.task == "regression":
                out.append([sample, *(f"{v:.6g}" for v in self.values[i])])
            else:
                p = self.probabilities[i]
                out.append(
                    [sample, self.labels[i], f"{p[self.classes[i]]:.6f}", *(f"{v:.6f}" for v in p)]
                )
        return out

    def to_csv(self, path: str | Path | None = None) -> str:
        """CSV text (header + rows); also written to ``path`` when given."""
        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\n")
        writer.writerow(self.header())
        writer.writerows(self.rows())
        text = buf.getvalue()
        if path is not None:
            path = Path(path)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
        return text


def predict(
    model: str | Path | TrainedModel,
    inputs: str | Path | np.ndarray | Any,
    ids: list[str] | None = None,
) -> Predictions:
    """Predict on raw inputs (preprocessing from the model file is applied).

    Parameters
    ----------
    model : path of a model file (``runs/<run>/model.npz``) or a TrainedModel
    inputs : path (``.npy``, ``.npz``, ``.csv``, an image, a folder of images), ndarray, or a
        PIL image
        Raw samples of the model's input shape (a single sample is fine), e.g. rows of the 30
        breast-cancer measurements or 28x28 digit images. An image file or a PIL image of any
        size and colour mode goes through :func:`~nablanet.pipeline.images.image_to_sample`,
        as in ``nablanet predict`` and the UI.
    ids : list of str, optional
        Names of the samples of an array input (default: row numbers).

    Returns
    -------
    Predictions

    Raises
    ------
    InputError
        Unreadable input, wrong feature count or shape, NaN values.
    nablanet.nn.ModelFileError
        Missing or corrupt model file.
    """
    trained = model if isinstance(model, TrainedModel) else load_trained_model(model)
    if _is_pil_image(inputs):
        sample = image_to_sample(inputs, trained)
        for note in sample.notes:
            logger.info("image: %s", note)
        x, names, source = sample.x[np.newaxis], ids or ["image"], "image"
    elif isinstance(inputs, np.ndarray):
        x = trained.check_inputs(inputs, "input array")
        names = ids or [str(i) for i in range(len(x))]
        source = "input array"
    else:
        x, names = read_inputs(inputs, trained)
        source = str(inputs)
    out = trained.outputs(trained.transform(x, source))
    if trained.task == "regression":
        return Predictions(names, trained.task, values=trained.values(out))
    probs = trained.probabilities(out)
    classes = probs.argmax(axis=1)
    class_names = trained.class_names or [str(k) for k in range(probs.shape[1])]
    return Predictions(
        names,
        trained.task,
        classes=classes,
        labels=[class_names[k] for k in classes],
        probabilities=probs,
        class_names=class_names,
    )
