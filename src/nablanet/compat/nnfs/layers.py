"""Layers, activations and losses of the book: nablanet's own objects, built with its defaults."""

from __future__ import annotations

from nablanet.nn import (
    L1L2,
    BinaryCrossentropy,
    CategoricalCrossentropy,
    Dense,
    Dropout,
    Linear,
    MeanAbsoluteError,
    MeanSquaredError,
    ReLU,
    Sigmoid,
    Softmax,
    SoftmaxCrossentropy,
)

#: the book's weights, ``0.01 * np.random.randn(n_inputs, n_neurons)``
BOOK_WEIGHT_INITIALIZER = {"name": "random_normal", "stddev": 0.01}


def _penalty(l1: float, l2: float) -> L1L2 | None:
    return L1L2(l1=l1, l2=l2) if (l1 or l2) else None


def Layer_Dense(
    n_inputs: int,
    n_neurons: int,
    weight_regularizer_l1: float = 0,
    weight_regularizer_l2: float = 0,
    bias_regularizer_l1: float = 0,
    bias_regularizer_l2: float = 0,
    *,
    weight_initializer: str | dict = BOOK_WEIGHT_INITIALIZER,
    seed: int | None = None,
) -> Dense:
    """A :class:`~nablanet.nn.Dense` without activation, weights ``0.01 * randn`` as in the
    book (``weight_initializer="he_normal"`` is nablanet's default), penalties as ``L1L2``."""
    return Dense(
        n_inputs,
        n_neurons,
        weight_initializer=dict(weight_initializer)
        if isinstance(weight_initializer, dict)
        else weight_initializer,
        weight_regularizer=_penalty(weight_regularizer_l1, weight_regularizer_l2),
        bias_regularizer=_penalty(bias_regularizer_l1, bias_regularizer_l2),
        seed=seed,
    )


def Layer_Dropout(rate: float, *, seed: int | None = None) -> Dropout:
    """:class:`~nablanet.nn.Dropout`; ``rate`` is the fraction dropped, as in the book."""
    return Dropout(rate, seed=seed)


def Layer_Input() -> Linear:
    """The identity (``Model`` needs no input layer; the book adds one inside ``finalize``)."""
    return Linear()


def Activation_ReLU() -> ReLU:
    """:class:`~nablanet.nn.ReLU` as a layer of its own."""
    return ReLU()


def Activation_Softmax() -> Softmax:
    """:class:`~nablanet.nn.Softmax`; fused with categorical cross-entropy in training."""
    return Softmax()


def Activation_Sigmoid() -> Sigmoid:
    """:class:`~nablanet.nn.Sigmoid`; fused with binary cross-entropy in training."""
    return Sigmoid()


def Activation_Linear() -> Linear:
    """:class:`~nablanet.nn.Linear` (the identity), the book's regression output."""
    return Linear()


def Loss_CategoricalCrossentropy() -> CategoricalCrossentropy:
    """:class:`~nablanet.nn.CategoricalCrossentropy` (labels as indices or one-hot)."""
    return CategoricalCrossentropy()


def Loss_BinaryCrossentropy() -> BinaryCrossentropy:
    """:class:`~nablanet.nn.BinaryCrossentropy`."""
    return BinaryCrossentropy()


def Loss_MeanSquaredError() -> MeanSquaredError:
    """:class:`~nablanet.nn.MeanSquaredError`."""
    return MeanSquaredError()


def Loss_MeanAbsoluteError() -> MeanAbsoluteError:
    """:class:`~nablanet.nn.MeanAbsoluteError`."""
    return MeanAbsoluteError()


def Activation_Softmax_Loss_CategoricalCrossentropy() -> SoftmaxCrossentropy:
    """:class:`~nablanet.nn.SoftmaxCrossentropy` on logits (``Model`` picks it by itself)."""
    return SoftmaxCrossentropy()
