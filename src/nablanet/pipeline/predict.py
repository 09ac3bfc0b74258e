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

logger = logging.getLogger("nablanet")

#: raw inputs whose largest magnitude passes this look unscaled (a network trained on
#: standardised or [0, 1] inputs rarely sees values past a few units)
UNSCALED_MAGNITUDE = 10.0


def warn_if_unscaled(trained: TrainedModel, x: np.ndarray, source: str) -> bool:
    """Warn (logger ``nablanet``) when the model carries no preprocessing and ``x`` looks
    unscaled (values past :data:`UNSCALED_MAGNITUDE`): a model saved from Python without
    ``preprocessing=`` would get raw rows where it was trained on scaled ones. Returns whether
    it warned.

    >>> import nablanet as nb
    >>> from nablanet.pipeline.trained import trained_from_sequential
    >>> trained = trained_from_sequential(nb.Sequential([nb.Dense(2, 1, seed=0)]))
    >>> warn_if_unscaled(trained, np.array([[0.5, -1.2]]), "x"), warn_if_unscaled(trained, np.array([[250.0, 3.0]]), "x")
    (False, True)
    """
    if trained.preprocessing is not None or x.size == 0 or x.dtype.kind not in "biuf":
        return False
    finite = np.abs(x[np.isfinite(x)]) if x.dtype.kind == "f" else np.abs(x)
    largest = float(finite.max()) if finite.size else 0.0
    if largest <= UNSCALED_MAGNITUDE:
        return False
    where = trained.path if trained.path is not None else "the model"
    logger.warning(
        "%s holds no preprocessing, and %s looks unscaled (values up to %.4g): the inputs go to "
        "the network as they are. If it was trained on scaled data, save it with "
        "model.save(path, preprocessing=scaler)",
        where,
        source,
        largest,
    )
    return True


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
            assert self.values is not None  # a regression's predictions
            k = self.values.shape[1]
            return ["id", *(["prediction"] if k == 1 else [f"prediction_{j}" for j in range(k)])]
        assert self.class_names is not None  # a classification's predictions
        return ["id", "prediction", "probability", *(f"p_{c}" for c in self.class_names)]

    def rows(self) -> list[list[str]]:
        """One row of strings per sample, matching :meth:`header`."""
        out = []
        for i, sample in enumerate(self.ids):
            if self.task == "regression":
                assert self.values is not None
                out.append([sample, *(f"{v:.6g}" for v in self.values[i])])
            else:
                assert self.probabilities is not None
                assert self.labels is not None and self.classes is not None
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
    *,
    by_position: bool = False,
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
    by_position : bool
        A CSV header whose names are not the model's columns is refused; with ``by_position``
        (and as many columns as the model has) its columns are taken in order instead.

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
        x, names = read_inputs(inputs, trained, by_position=by_position)
        source = str(inputs)
    warn_if_unscaled(trained, np.asarray(x), source)
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
