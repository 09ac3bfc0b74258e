"""Loss functions.

Every loss has ``loss(y_true, y_pred) -> float`` (the mean over the batch) and
``gradient(y_true, y_pred) -> ndarray`` (``dL/dy_pred``, same shape as ``y_pred``).

Softmax + categorical cross-entropy and sigmoid + binary cross-entropy also exist *fused*
(:class:`SoftmaxCrossentropy`, :class:`SigmoidBinaryCrossentropy`): they take the logits ``z`` and
their gradient is simply ``(p - y) / n``. A ``Sequential`` model that ends in softmax (sigmoid) and
is compiled with categorical (binary) cross-entropy uses the fused loss automatically: its
execution plan (:mod:`nablanet.nn.plan`) asks the last layer's ``fuse_with_loss``, which asks
:meth:`Loss.fused_with`.

>>> y_pred = np.array([[0.9, 0.1], [0.2, 0.8]])
>>> round(CategoricalCrossentropy().loss(np.array([0, 1]), y_pred), 4)
0.1643
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from .errors import NablanetError
from .layers.activations import sigmoid

if TYPE_CHECKING:  # pragma: no cover
    from .layers.activations import Activation

EPSILON = 1e-7


def _match(y_true: np.ndarray, y_pred: np.ndarray, owner: str) -> np.ndarray:
    """Targets as an array of ``y_pred``'s shape and dtype ((n,) targets fit (n, 1) outputs)."""
    y_true = np.asarray(y_true)
    if y_true.shape != y_pred.shape:
        if y_true.size == y_pred.size and y_true.shape[:1] == y_pred.shape[:1]:
            y_true = y_true.reshape(y_pred.shape)
        else:
            hint = ""
            if "Binary" in owner and y_true.ndim == 1 and y_pred.ndim == 2 and y_pred.shape[1] > 1:
                hint = (
                    f": for class labels and {y_pred.shape[1]} softmax outputs use "
                    "loss='sparse_categorical_crossentropy', or for two classes one sigmoid "
                    "output, Dense(1, activation='sigmoid')"
                )
            raise NablanetError(
                f"{owner}: targets of shape {y_true.shape} do not match predictions of shape "
                f"{y_pred.shape}{hint}"
            )
    if y_true.dtype != y_pred.dtype:
        y_true = y_true.astype(y_pred.dtype)
    return y_true


def _labels_or_onehot(
    y_true: np.ndarray, y_pred: np.ndarray, owner: str
) -> tuple[np.ndarray | None, np.ndarray | None]:
    """``(labels, None)`` for integer class labels, ``(None, onehot)`` for one-hot targets."""
    y_true = np.asarray(y_true)
    n, k = y_pred.shape[0], y_pred.shape[-1]
    if y_true.shape == y_pred.shape and y_pred.ndim == 2 and k > 1:
        return None, y_true.astype(y_pred.dtype, copy=False)
    if y_true.ndim == 2 and y_true.shape[1] == 1:
        y_true = y_true[:, 0]
    if y_true.ndim != 1 or y_true.shape[0] != n:
        raise NablanetError(
            f"{owner}: targets of shape {y_true.shape} do not match predictions of shape "
            f"{y_pred.shape}; give integer labels of shape ({n},) or one-hot of shape ({n}, {k})"
        )
    if y_true.dtype.kind == "f":
        if not np.all(np.mod(y_true, 1) == 0):
            raise NablanetError(f"{owner}: class labels must be whole numbers")
    labels = y_true.astype(np.intp, copy=False)
    if labels.size and (labels.min() < 0 or labels.max() >= k):
        raise NablanetError(
            f"{owner}: class labels must lie in [0, {k - 1}], got values in "
            f"[{labels.min()}, {labels.max()}]"
        )
    return labels, None


def _per_sample_mean(values: np.ndarray) -> np.ndarray:
    """The mean over every axis but the first: ``(n, ...) -> (n,)``."""
    return values.reshape(values.shape[0], -1).mean(axis=1)


class Loss:
    """Base class: subclasses implement ``loss`` and ``gradient``.

    ``loss(y_true, y_pred)`` is a float (a mean over the batch); ``gradient(y_true, y_pred)`` is
    ``dL/dy_pred``, an array of ``y_pred``'s shape; calling the loss is ``loss``.

    >>> mse = get("mse")
    >>> isinstance(mse, Loss), mse(np.array([0.0, 0.0]), np.array([[1.0], [3.0]]))
    (True, 5.0)
    """

    name: str = ""
    #: "classification" or "regression": which training metrics suit the loss
    #: (:data:`nablanet.nn.metrics.TRAINING_METRICS`) and which one is the default
    task: str = "classification"
    #: (activation name, fused loss class) when this loss fuses with an output activation
    fuses_with: tuple[str, type] | None = None
    #: the loss's ``from_logits`` meaning (Keras' argument): True for the fused losses on
    #: logits, False for the cross-entropies on probabilities, None where it means nothing
    from_logits: bool | None = None

    def __init__(self, **kwargs: Any) -> None:
        # Keras' CategoricalCrossentropy(from_logits=True) & co.: one line, not a TypeError
        for key, value in kwargs.items():
            owner = type(self).__name__
            if key == "from_logits" and self.from_logits is not None:
                if bool(value) == self.from_logits:
                    continue  # the meaning of this class: accepted as Keras writes it
                other = {
                    "CategoricalCrossentropy": "SoftmaxCrossentropy()",
                    "BinaryCrossentropy": "SigmoidBinaryCrossentropy()",
                    "SoftmaxCrossentropy": "CategoricalCrossentropy()",
                    "SigmoidBinaryCrossentropy": "BinaryCrossentropy()",
                }.get(owner, "the other cross-entropy")
                where = "logits" if value else "probabilities"
                raise NablanetError(
                    f"{owner} takes {'probabilities' if value else 'logits'}: for {where} use "
                    f"{other} (a softmax or sigmoid output compiled with the cross-entropy "
                    "trains on the logits already)"
                )
            raise NablanetError(f"{owner} takes no argument {key!r} (it has no parameters)")

    def loss(self, y_true: np.ndarray, y_pred: np.ndarray) -> float:
        raise NotImplementedError

    def gradient(self, y_true: np.ndarray, y_pred: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def loss_and_gradient(self, y_true: np.ndarray, y_pred: np.ndarray) -> tuple[float, np.ndarray]:
        return self.loss(y_true, y_pred), self.gradient(y_true, y_pred)

    def sample_losses(self, y_true: np.ndarray, y_pred: np.ndarray) -> np.ndarray:
        """The loss of every sample, shape ``(n_samples,)``: ``loss`` is their mean, and row
        ``i`` of ``gradient`` is ``d sample_losses[i] / d y_pred[i]`` divided by ``n_samples``,
        so weighting a sample scales its gradient row (``fit(sample_weight=...)``)."""
        raise NotImplementedError(f"{type(self).__name__} does not implement sample_losses")

    def weighted_loss_gradient_output(
        self, y_true: np.ndarray, y_pred: np.ndarray, sample_weight: np.ndarray
    ) -> tuple[float, np.ndarray, np.ndarray]:
        """``(sum(w * sample_losses) / n, gradient with row i scaled by w_i, outputs)``: the
        loss of ``fit(sample_weight=...)`` (Keras' ``sum_over_batch_size`` reduction). For a
        fused loss the outputs are its activation's (probabilities); else ``y_pred``."""
        w = np.asarray(sample_weight, dtype=y_pred.dtype)
        if hasattr(self, "loss_gradient_output"):
            _, grad, out = self.loss_gradient_output(y_true, y_pred)
        else:
            grad, out = self.gradient(y_true, y_pred), y_pred
        loss = float(np.mean(w * self.sample_losses(y_true, y_pred)))
        grad *= w.reshape((-1,) + (1,) * (grad.ndim - 1))
        return loss, grad, out

    def fused_with(self, activation: Activation) -> Loss | None:
        """The loss on the *inputs* of ``activation`` (the logits) that equals this loss after
        it, with a ``loss_gradient_output(y_true, y_pred)`` method (``y_pred`` the logits), or None when there is none.

        The layers' ``fuse_with_loss`` hooks ask it (see :mod:`nablanet.nn.plan`).

        >>> from nablanet.nn.layers import Softmax, Tanh
        >>> CategoricalCrossentropy().fused_with(Softmax()), MeanSquaredError().fused_with(Softmax())
        (SoftmaxCrossentropy(), None)
        >>> CategoricalCrossentropy().fused_with(Tanh()) is None
        True
        """
        if self.fuses_with is None:
            return None
        name, fused_cls = self.fuses_with
        return fused_cls() if getattr(activation, "name", None) == name else None

    def __call__(self, y_true: np.ndarray, y_pred: np.ndarray) -> float:
        return self.loss(y_true, y_pred)

    def get_config(self) -> dict:
        return {}

    @classmethod
    def from_config(cls, config: dict) -> Loss:
        return cls(**config)

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class MeanSquaredError(Loss):
    """``mean((y_pred - y_true)^2)`` over all elements; gradient ``2 (y_pred - y_true) / size``.

    >>> y_true, y_pred = np.array([[0.0, 0.0]]), np.array([[1.0, 2.0]])
    >>> MeanSquaredError().loss(y_true, y_pred), MeanSquaredError().gradient(y_true, y_pred).tolist()
    (2.5, [[1.0, 2.0]])
    """

    name = "mse"
    task = "regression"

    def loss(self, y_true: np.ndarray, y_pred: np.ndarray) -> float:
        d = y_pred - _match(y_true, y_pred, "MeanSquaredError")
        return float(np.mean(d * d))

    def gradient(self, y_true: np.ndarray, y_pred: np.ndarray) -> np.ndarray:
        d = y_pred - _match(y_true, y_pred, "MeanSquaredError")
        return d * y_pred.dtype.type(2.0 / d.size)

    def sample_losses(self, y_true: np.ndarray, y_pred: np.ndarray) -> np.ndarray:
        d = y_pred - _match(y_true, y_pred, "MeanSquaredError")
        return _per_sample_mean(d * d)


class MeanAbsoluteError(Loss):
    """``mean(|y_pred - y_true|)``; gradient ``sign(y_pred - y_true) / size``.

    >>> y_true, y_pred = np.array([[0.0, 0.0]]), np.array([[1.0, -2.0]])
    >>> MeanAbsoluteError().loss(y_true, y_pred), MeanAbsoluteError().gradient(y_true, y_pred).tolist()
    (1.5, [[0.5, -0.5]])
    """

    name = "mae"
    task = "regression"

    def loss(self, y_true: np.ndarray, y_pred: np.ndarray) -> float:
        return float(np.mean(np.abs(y_pred - _match(y_true, y_pred, "MeanAbsoluteError"))))

    def gradient(self, y_true: np.ndarray, y_pred: np.ndarray) -> np.ndarray:
        d = y_pred - _match(y_true, y_pred, "MeanAbsoluteError")
        return np.sign(d) * y_pred.dtype.type(1.0 / d.size)

    def sample_losses(self, y_true: np.ndarray, y_pred: np.ndarray) -> np.ndarray:
        return _per_sample_mean(np.abs(y_pred - _match(y_true, y_pred, "MeanAbsoluteError")))


class BinaryCrossentropy(Loss):
    """``-mean(y log p + (1 - y) log(1 - p))`` on probabilities ``p`` (clipped to [eps, 1-eps]).

    >>> p, y = np.array([[0.9], [0.2]]), np.array([1, 0])
    >>> round(BinaryCrossentropy().loss(y, p), 4)            # -(log 0.9 + log 0.8) / 2
    0.1643
    """

    from_logits = False
    name = "binary_crossentropy"

    def loss(self, y_true: np.ndarray, y_pred: np.ndarray) -> float:
        y = _match(y_true, y_pred, "BinaryCrossentropy")
        p = np.clip(y_pred, EPSILON, 1 - EPSILON)
        return float(-np.mean(y * np.log(p) + (1 - y) * np.log1p(-p)))

    def gradient(self, y_true: np.ndarray, y_pred: np.ndarray) -> np.ndarray:
        y = _match(y_true, y_pred, "BinaryCrossentropy")
        p = np.clip(y_pred, EPSILON, 1 - EPSILON)
        return (p - y) / (p * (1 - p)) / y_pred.dtype.type(y.size)

    def sample_losses(self, y_true: np.ndarray, y_pred: np.ndarray) -> np.ndarray:
        y = _match(y_true, y_pred, "BinaryCrossentropy")
        p = np.clip(y_pred, EPSILON, 1 - EPSILON)
        return _per_sample_mean(-(y * np.log(p) + (1 - y) * np.log1p(-p)))


class CategoricalCrossentropy(Loss):
    """``-mean_n sum_k y_nk log p_nk`` on probabilities; labels as integers or one-hot.

    >>> p = np.array([[0.7, 0.2, 0.1], [0.1, 0.1, 0.8]])
    >>> loss = CategoricalCrossentropy()
    >>> round(loss.loss(np.array([0, 2]), p), 4) == round(loss.loss(np.eye(3)[[0, 2]], p), 4)
    True
    >>> loss.gradient(np.array([0, 2]), p).round(3).tolist()     # -1 / (n p) at the labels
    [[-0.714, 0.0, 0.0], [0.0, 0.0, -0.625]]
    """

    from_logits = False
    name = "categorical_crossentropy"

    def loss(self, y_true: np.ndarray, y_pred: np.ndarray) -> float:
        labels, onehot = _labels_or_onehot(y_true, y_pred, "CategoricalCrossentropy")
        p = np.clip(y_pred, EPSILON, 1.0)
        if labels is not None:
            return float(-np.mean(np.log(p[np.arange(len(labels)), labels])))
        return float(-np.sum(onehot * np.log(p)) / y_pred.shape[0])

    def gradient(self, y_true: np.ndarray, y_pred: np.ndarray) -> np.ndarray:
        labels, onehot = _labels_or_onehot(y_true, y_pred, "CategoricalCrossentropy")
        n = y_pred.shape[0]
        p = np.clip(y_pred, EPSILON, 1.0)
        if labels is not None:
            grad = np.zeros_like(y_pred)
            rows = np.arange(n)
            grad[rows, labels] = -1.0 / (p[rows, labels] * n)
            return grad
        assert onehot is not None  # _labels_or_onehot: labels or one-hot targets
        return -onehot / (p * y_pred.dtype.type(n))

    def sample_losses(self, y_true: np.ndarray, y_pred: np.ndarray) -> np.ndarray:
        labels, onehot = _labels_or_onehot(y_true, y_pred, "CategoricalCrossentropy")
        p = np.clip(y_pred, EPSILON, 1.0)
        if labels is not None:
            return -np.log(p[np.arange(len(labels)), labels])
        return -np.sum(onehot * np.log(p), axis=-1)


class SoftmaxCrossentropy(Loss):
    """Softmax and categorical cross-entropy fused, on logits ``z`` of shape (n, k).

    loss ``= mean_n (logsumexp(z_n) - sum_k y_nk z_nk)`` and ``dL/dz = (softmax(z) - y) / n``:
    no Jacobian of softmax, no log of zero.

    >>> z = np.array([[2.0, 0.0, 0.0], [1e4, -1e4, 0.0]])         # logits, (n, k) = (2, 3)
    >>> loss, grad, p = SoftmaxCrossentropy().loss_gradient_output(np.array([0, 1]), z)
    >>> round(loss, 2)                                            # finite for saturated logits
    10000.12
    >>> grad.round(3).tolist()                                    # (p - onehot) / n
    [[-0.107, 0.053, 0.053], [0.5, -0.5, 0.0]]
    """

    from_logits = True
    name = "softmax_crossentropy"

    def loss(self, y_true: np.ndarray, y_pred: np.ndarray) -> float:
        return self.loss_and_gradient(y_true, y_pred)[0]

    def gradient(self, y_true: np.ndarray, y_pred: np.ndarray) -> np.ndarray:
        return self.loss_and_gradient(y_true, y_pred)[1]

    def loss_and_gradient(self, y_true: np.ndarray, y_pred: np.ndarray) -> tuple[float, np.ndarray]:
        loss, grad, _ = self.loss_gradient_output(y_true, y_pred)
        return loss, grad

    def loss_gradient_output(
        self, y_true: np.ndarray, y_pred: np.ndarray
    ) -> tuple[float, np.ndarray, np.ndarray]:
        """Loss, ``dL/dz`` and the probabilities ``softmax(z)`` in one pass; ``y_pred`` holds
        the logits ``z``."""
        z = y_pred
        labels, onehot = _labels_or_onehot(y_true, z, "SoftmaxCrossentropy")
        n = z.shape[0]
        # log p = z - max - log(sum exp(z - max)): exact even where p underflows to 0
        shifted = z - np.max(z, axis=-1, keepdims=True)
        p = np.exp(shifted)
        total = np.sum(p, axis=-1, keepdims=True)
        p /= total
        log_total = np.log(total)[:, 0]
        rows = np.arange(n)
        if labels is not None:
            loss = float(np.mean(log_total - shifted[rows, labels]))
            grad = p.copy()
            grad[rows, labels] -= 1
        else:
            assert onehot is not None  # _labels_or_onehot: labels or one-hot targets
            loss = float((np.dot(onehot.sum(axis=-1), log_total) - np.sum(onehot * shifted)) / n)
            grad = p - onehot
        grad *= z.dtype.type(1.0 / n)
        return loss, grad, p

    def sample_losses(self, y_true: np.ndarray, y_pred: np.ndarray) -> np.ndarray:
        z = y_pred
        labels, onehot = _labels_or_onehot(y_true, z, "SoftmaxCrossentropy")
        shifted = z - np.max(z, axis=-1, keepdims=True)
        log_total = np.log(np.sum(np.exp(shifted), axis=-1))
        if labels is not None:
            return log_total - shifted[np.arange(z.shape[0]), labels]
        assert onehot is not None  # _labels_or_onehot: labels or one-hot targets
        return onehot.sum(axis=-1) * log_total - np.sum(onehot * shifted, axis=-1)


class SigmoidBinaryCrossentropy(Loss):
    """Sigmoid and binary cross-entropy fused, on logits ``z``.

    loss ``= mean(max(z, 0) - z y + log(1 + exp(-|z|)))`` and ``dL/dz = (sigmoid(z) - y) / size``.

    >>> z, y = np.array([[0.0], [100.0]]), np.array([1, 0])
    >>> loss, grad, p = SigmoidBinaryCrossentropy().loss_gradient_output(y, z)
    >>> round(loss, 4), grad.round(3).tolist(), p.round(3).tolist()
    (50.3466, [[-0.25], [0.5]], [[0.5], [1.0]])
    """

    from_logits = True
    name = "sigmoid_binary_crossentropy"

    def loss(self, y_true: np.ndarray, y_pred: np.ndarray) -> float:
        return self.loss_and_gradient(y_true, y_pred)[0]

    def gradient(self, y_true: np.ndarray, y_pred: np.ndarray) -> np.ndarray:
        return self.loss_and_gradient(y_true, y_pred)[1]

    def loss_and_gradient(self, y_true: np.ndarray, y_pred: np.ndarray) -> tuple[float, np.ndarray]:
        loss, grad, _ = self.loss_gradient_output(y_true, y_pred)
        return loss, grad

    def loss_gradient_output(
        self, y_true: np.ndarray, y_pred: np.ndarray
    ) -> tuple[float, np.ndarray, np.ndarray]:
        """Loss, ``dL/dz`` and the probabilities ``sigmoid(z)``; ``y_pred`` holds the logits."""
        z = y_pred
        y = _match(y_true, z, "SigmoidBinaryCrossentropy")
        loss = float(np.mean(np.maximum(z, 0) - z * y + np.log1p(np.exp(-np.abs(z)))))
        p = sigmoid(z)
        grad = (p - y) * z.dtype.type(1.0 / y.size)
        return loss, grad, p

    def sample_losses(self, y_true: np.ndarray, y_pred: np.ndarray) -> np.ndarray:
        z = y_pred
        y = _match(y_true, z, "SigmoidBinaryCrossentropy")
        return _per_sample_mean(np.maximum(z, 0) - z * y + np.log1p(np.exp(-np.abs(z))))


CategoricalCrossentropy.fuses_with = ("softmax", SoftmaxCrossentropy)
BinaryCrossentropy.fuses_with = ("sigmoid", SigmoidBinaryCrossentropy)

LOSSES: dict[str, type[Loss]] = {
    "mse": MeanSquaredError,
    "mean_squared_error": MeanSquaredError,
    "mae": MeanAbsoluteError,
    "mean_absolute_error": MeanAbsoluteError,
    "binary_crossentropy": BinaryCrossentropy,
    "categorical_crossentropy": CategoricalCrossentropy,
    "sparse_categorical_crossentropy": CategoricalCrossentropy,
    "softmax_crossentropy": SoftmaxCrossentropy,
    "sigmoid_binary_crossentropy": SigmoidBinaryCrossentropy,
}


def get(spec: str | dict | Loss) -> Loss:
    """A loss from its name (``"mse"``, ``"categorical_crossentropy"``, ...) or an instance."""
    if isinstance(spec, Loss):
        return spec
    if isinstance(spec, str) and spec in LOSSES:
        return LOSSES[spec]()
    if isinstance(spec, str):  # Keras also takes class names: loss="MeanSquaredError"
        by_class = {cls.__name__: cls for cls in LOSSES.values()}
        by_class["SparseCategoricalCrossentropy"] = LOSSES["sparse_categorical_crossentropy"]
        if spec in by_class:
            return by_class[spec]()
    options = ", ".join(sorted(LOSSES))
    raise NablanetError(f"Unknown loss {spec!r}; choose one of: {options}.")


#: class names that model files written by earlier versions may hold
_FORMER_CLASS_NAMES = {"SoftmaxCrossEntropy": "SoftmaxCrossentropy"}


def from_class_name(class_name: str) -> Loss:
    """The loss a model file names by its class (``compile_config()["loss"]``).

    >>> from_class_name("MeanSquaredError")
    MeanSquaredError()
    """
    class_name = _FORMER_CLASS_NAMES.get(class_name, class_name)
    for cls in LOSSES.values():
        if cls.__name__ == class_name:
            return cls()
    known = ", ".join(sorted({cls.__name__ for cls in LOSSES.values()}))
    raise NablanetError(f"Unknown loss class {class_name!r}; known: {known}.")
