"""The book's accuracy objects and its ``predictions`` of an output activation."""

from __future__ import annotations

import numpy as np

from nablanet.nn import BinaryCrossentropy, MeanAbsoluteError, MeanSquaredError, Sigmoid, Softmax


class Accuracy:
    """The book's accuracy: ``calculate(predictions, y)`` for a batch, accumulated over a pass
    (``new_pass()``, ``calculate_accumulated()``)."""

    def __init__(self):
        self.new_pass()

    def init(self, y, reinit: bool = False) -> None:
        """Set what depends on the training targets (nothing, except for regression)."""

    def compare(self, predictions, y) -> np.ndarray:
        raise NotImplementedError

    def calculate(self, predictions, y) -> float:
        comparisons = self.compare(np.asarray(predictions), np.asarray(y))
        correct, total = float(np.count_nonzero(comparisons)), comparisons.size
        self.accumulated_sum += correct
        self.accumulated_count += total
        return correct / max(total, 1)

    def calculate_accumulated(self) -> float:
        return self.accumulated_sum / max(self.accumulated_count, 1)

    def new_pass(self) -> None:
        self.accumulated_sum, self.accumulated_count = 0.0, 0

    def get_config(self) -> dict:
        return {}


class Accuracy_Categorical(Accuracy):
    """Predicted classes against labels (indices or one-hot); ``binary=True`` compares the
    thresholded sigmoid outputs element by element."""

    def __init__(self, *, binary: bool = False):
        self.binary = bool(binary)
        super().__init__()

    def compare(self, predictions, y):
        y = np.asarray(y)
        if not self.binary and y.ndim == 2:
            y = y.argmax(axis=1) if y.shape[1] > 1 else y[:, 0]
        return np.asarray(predictions) == y.reshape(np.shape(predictions))

    def get_config(self):
        return {"binary": self.binary}


class Accuracy_Regression(Accuracy):
    """The fraction of outputs within ``precision = std(y) / 250`` of the target (set by
    ``init`` from the training targets)."""

    def __init__(self):
        self.precision: float | None = None
        super().__init__()

    def init(self, y, reinit=False):
        if self.precision is None or reinit:
            self.precision = float(np.std(y) / 250)

    def compare(self, predictions, y):
        predictions = np.asarray(predictions)
        return np.absolute(predictions - np.asarray(y).reshape(predictions.shape)) < self.precision

    def get_config(self):
        return {"precision": self.precision}


_ACCURACIES = {
    "Accuracy_Categorical": Accuracy_Categorical,
    "Accuracy_Regression": Accuracy_Regression,
}


def _default_accuracy(loss) -> Accuracy:
    if isinstance(loss, MeanSquaredError | MeanAbsoluteError):
        return Accuracy_Regression()
    return Accuracy_Categorical(binary=isinstance(loss, BinaryCrossentropy))


def _accuracy_from_config(config: dict | None, loss) -> Accuracy:
    if not config or config.get("class_name") not in _ACCURACIES:
        return _default_accuracy(loss)
    if config["class_name"] == "Accuracy_Regression":
        accuracy = Accuracy_Regression()
        accuracy.precision = config.get("precision")
        return accuracy
    return Accuracy_Categorical(binary=bool(config.get("binary", False)))


def _predictions(layer, outputs: np.ndarray) -> np.ndarray:
    """The book's ``output_layer_activation.predictions``: classes, 0/1 or the values."""
    act = getattr(layer, "activation", layer)
    if isinstance(act, Softmax):
        return np.argmax(outputs, axis=1)
    if isinstance(act, Sigmoid):
        return (outputs > 0.5) * 1
    return outputs


class _OutputActivation:
    """What ``model.output_layer_activation`` is for: ``predictions(outputs)``."""

    def __init__(self, layer):
        self.layer = layer

    def predictions(self, outputs):
        return _predictions(self.layer, np.asarray(outputs))
