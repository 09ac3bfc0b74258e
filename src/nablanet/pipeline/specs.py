"""The YAML schemas of the names a config may use: layer, optimizer and scheduler specs.

Every ``type:`` of ``model.layers`` is one entry of :data:`LAYER_TYPES`: a :class:`LayerSpec`
subclass (the schema of its YAML keys, validated with pydantic) and a builder
``builder(spec, ctx) -> Layer`` that receives the input shape worked out from the data (the
built-in builders live in :mod:`nablanet.pipeline.build`, which registers them). Optimizers and
schedulers are tables too (:data:`OPTIMIZER_SPECS`, :data:`SCHEDULER_SPECS`); their defaults are
read from the library's constructors, so the two never disagree. Names (activations,
initializers, losses) are checked against the library's exact-name registries.

Import direction: ``specs <- config <- build`` (this module knows neither of the other two).

>>> spec = Conv2DSpec(filters=8, padding="same")
>>> spec.kernel_size, spec.stride, spec.activation
(3, 1, None)
>>> sorted(OPTIMIZER_SPECS), SCHEDULER_SPECS["cosine"]().min_learning_rate
(['adagrad', 'adam', 'rmsprop', 'sgd'], 0.0)
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import PlainValidator
from pydantic_core import PydanticCustomError

from .. import nn
from ..nn import initializers as nn_initializers
from ..nn import losses as nn_losses
from ..nn.layers import activations as nn_activations
from ._schema import (
    Fraction,
    NonNegativeFloat,
    NonNegativeInt,
    PositiveFloat,
    PositiveInt,
    StrictModel,
    Units,
    name_in,
)

__all__ = [
    "CLASSIFICATION_LOSSES",
    "LAYER_TYPES",
    "OPTIMIZER_SPECS",
    "REGRESSION_LOSSES",
    "SCHEDULER_SPECS",
    "LayerBuilder",
    "LayerContext",
    "LayerSpec",
    "LayerType",
    "LossName",
    "OptimizerSpec",
    "SchedulerSpec",
    "activation_name",
    "initializer_name",
    "n_model_outputs",
    "output_activation",
    "register_layer_type",
]

# -- names checked against the library's registries (read at validation time) ------------------
activation_name = name_in(lambda: nn_activations.ACTIVATIONS, "activation")
initializer_name = name_in(lambda: nn_initializers.INITIALIZERS, "initializer")
loss_name = name_in(lambda: nn_losses.LOSSES, "loss")

#: losses for classification / regression (a config's loss must fit the dataset's task)
CLASSIFICATION_LOSSES = (
    "binary_crossentropy",
    "categorical_crossentropy",
    "sparse_categorical_crossentropy",
)
REGRESSION_LOSSES = tuple(n for n, cls in nn_losses.LOSSES.items() if cls.task == "regression")


def _default(cls: type, name: str) -> Any:
    """The default of ``cls.__init__``'s argument ``name`` (one source of truth)."""
    return inspect.signature(cls).parameters[name].default


# -- layers -------------------------------------------------------------------------------------
class LayerSpec(StrictModel):
    """Base of the schema of one entry of ``model.layers``; subclasses fix ``type``.

    >>> spec = DenseSpec(units=4, activation="relu")
    >>> spec.type, spec.initializer, spec.l2
    ('dense', 'he_normal', 0.0)
    """

    type: str


class DenseSpec(LayerSpec):
    """``{type: dense, units: 32, activation: relu, initializer: he_normal, l2: 1.0e-4}``.

    ``units: auto`` (last layer only) takes the number of outputs from the data.
    """

    type: Literal["dense"] = "dense"
    units: Units
    activation: Annotated[str, activation_name] | None = None
    initializer: Annotated[str, initializer_name] = _default(nn.Dense, "weight_initializer")
    bias_initializer: Annotated[str, initializer_name] = _default(nn.Dense, "bias_initializer")
    l1: NonNegativeFloat = 0.0
    l2: NonNegativeFloat = 0.0


class DropoutSpec(LayerSpec):
    """``{type: dropout, rate: 0.2}``."""

    type: Literal["dropout"] = "dropout"
    rate: Fraction = _default(nn.Dropout, "rate")


class ActivationSpec(LayerSpec):
    """``{type: activation, activation: leaky_relu, alpha: 0.1}``: a stand-alone activation."""

    type: Literal["activation"] = "activation"
    activation: Annotated[str, activation_name]
    alpha: PositiveFloat | None = None


@dataclass(frozen=True)
class LayerContext:
    """What a layer builder knows besides its spec.

    Attributes
    ----------
    input_shape : tuple of int
        Shape of one input sample of this layer (batch axis excluded), e.g. ``(30,)`` or
        ``(1, 28, 28)``; worked out from the data and the layers before.
    n_outputs : int
        Number of outputs the data asks of the model (for ``units: auto``).
    index : int
        Position of the layer in ``model.layers``.
    is_last : bool
    dtype : str

    >>> ctx = LayerContext(input_shape=(30,), n_outputs=1, index=2, is_last=True)
    >>> ctx.path
    'model.layers[2]'
    """

    input_shape: tuple[int, ...]
    n_outputs: int
    index: int
    is_last: bool
    dtype: str = "float32"

    @property
    def path(self) -> str:
        return f"model.layers[{self.index}]"


LayerBuilder = Callable[[Any, LayerContext], nn.Layer]


@dataclass(frozen=True)
class LayerType:
    """One entry of the layer table: the YAML schema and the builder."""

    spec: type[LayerSpec]
    build: LayerBuilder


#: ``type:`` name -> schema + builder. Extend with :func:`register_layer_type`.
LAYER_TYPES: dict[str, LayerType] = {}


def register_layer_type(name: str, spec: type[LayerSpec], build: LayerBuilder) -> None:
    """Make ``{type: <name>, ...}`` available in ``model.layers``.

    Parameters
    ----------
    name : str
        The ``type`` value in YAML (exact, lower case).
    spec : LayerSpec subclass
        Its schema; unknown keys and wrong types become config errors with the key path.
    build : callable ``(spec, ctx: LayerContext) -> Layer``
        Raise :class:`~nablanet.pipeline.errors.ConfigError` (naming ``ctx.path``) when the
        input shape does not suit the layer.
    """
    if not (isinstance(spec, type) and issubclass(spec, LayerSpec)):
        raise TypeError(f"spec of layer type {name!r} must subclass LayerSpec")
    LAYER_TYPES[name] = LayerType(spec, build)


# -- convolutional layers (NHWC images: samples of shape (height, width, channels)) -------------
def _size_pair(v: Any) -> Any:
    ok = isinstance(v, int) and not isinstance(v, bool) and v > 0
    if isinstance(v, list):
        ok = len(v) == 2 and all(
            isinstance(e, int) and not isinstance(e, bool) and e > 0 for e in v
        )
    if not ok:
        raise PydanticCustomError("pair", "must be a positive integer or a list of two")
    return v


def _padding(v: Any) -> Any:
    if v in ("same", "valid") or (isinstance(v, int) and not isinstance(v, bool) and v >= 0):
        return v
    raise PydanticCustomError("padding", "must be 'same', 'valid' or a non-negative integer")


SizePair = Annotated[int | list[int], PlainValidator(_size_pair)]


class Conv2DSpec(LayerSpec):
    """``{type: conv2d, filters: 32, kernel_size: 3, padding: same, activation: relu}``."""

    type: Literal["conv2d"] = "conv2d"
    filters: PositiveInt
    kernel_size: SizePair = 3
    stride: SizePair = 1
    padding: Annotated[str | int, PlainValidator(_padding)] = "valid"
    activation: Annotated[str, activation_name] | None = None
    initializer: Annotated[str, initializer_name] = _default(nn.Conv2D, "weight_initializer")
    bias_initializer: Annotated[str, initializer_name] = _default(nn.Conv2D, "bias_initializer")
    use_bias: bool = True
    l1: NonNegativeFloat = 0.0
    l2: NonNegativeFloat = 0.0


class Pool2DSpec(LayerSpec):
    """``{type: maxpool2d, pool_size: 2}`` (``stride`` defaults to ``pool_size``)."""

    type: Literal["maxpool2d", "avgpool2d"] = "maxpool2d"
    pool_size: SizePair = 2
    stride: SizePair | None = None


class ShapeOnlySpec(LayerSpec):
    """``{type: flatten}`` or ``{type: globalavgpool2d}``."""

    type: Literal["flatten", "globalavgpool2d"] = "flatten"


class ReshapeSpec(LayerSpec):
    """``{type: reshape, target_shape: [28, 28, 1]}``."""

    type: Literal["reshape"] = "reshape"
    target_shape: list[int]


class RandomTranslationSpec(LayerSpec):
    """``{type: random_translation, max_shift: 2}``: shifts training images (augmentation)."""

    type: Literal["random_translation"] = "random_translation"
    max_shift: NonNegativeInt = _default(nn.RandomTranslation, "max_shift")


class RandomCropSpec(LayerSpec):
    """``{type: random_crop, padding: 4, padding_mode: reflect}``: pads each training image and
    crops a random window of its size (augmentation; CIFAR's recipe)."""

    type: Literal["random_crop"] = "random_crop"
    padding: NonNegativeInt = _default(nn.RandomCrop, "padding")
    padding_mode: Literal["constant", "reflect"] = _default(nn.RandomCrop, "padding_mode")


class RandomFlipSpec(LayerSpec):
    """``{type: random_flip, mode: horizontal}``: mirrors half of the training images
    (augmentation)."""

    type: Literal["random_flip"] = "random_flip"
    mode: Literal["horizontal", "vertical", "horizontal_and_vertical"] = _default(
        nn.RandomFlip, "mode"
    )


class BatchNormSpec(LayerSpec):
    """``{type: batchnorm}``: normalizes the last axis (units of a dense, channels of a conv)."""

    type: Literal["batchnorm"] = "batchnorm"
    momentum: Fraction = _default(nn.BatchNormalization, "momentum")
    epsilon: PositiveFloat = _default(nn.BatchNormalization, "epsilon")


def output_activation(layers: list[LayerSpec]) -> str | None:
    """Name of the activation that ends the model (``None`` = linear)."""
    for spec in reversed(layers):
        if isinstance(spec, ActivationSpec):
            return spec.activation
        if isinstance(spec, DropoutSpec):
            continue
        act = getattr(spec, "activation", None)
        return act if act != "linear" else None
    return None


def n_model_outputs(layers: list[LayerSpec], task: str, n_classes: int, n_targets: int) -> int:
    """How many outputs the data asks for: 1 for binary with a sigmoid, k for softmax, the
    number of targets for regression."""
    if task == "regression":
        return n_targets
    if task == "binary" and output_activation(layers) == "sigmoid":
        return 1
    return n_classes


# -- optimizers ---------------------------------------------------------------------------------
class OptimizerSpec(StrictModel):
    name: str
    if TYPE_CHECKING:  # every registered optimizer has one (declared for the type checker)
        learning_rate: float

    def kwargs(self) -> dict[str, Any]:
        return self.model_dump(exclude={"name"})


class SGDSpec(OptimizerSpec):
    name: Literal["sgd"] = "sgd"
    learning_rate: PositiveFloat = _default(nn.SGD, "learning_rate")
    momentum: Fraction = _default(nn.SGD, "momentum")
    nesterov: bool = _default(nn.SGD, "nesterov")


class AdamSpec(OptimizerSpec):
    name: Literal["adam"] = "adam"
    learning_rate: PositiveFloat = _default(nn.Adam, "learning_rate")
    beta_1: Fraction = _default(nn.Adam, "beta_1")
    beta_2: Fraction = _default(nn.Adam, "beta_2")
    epsilon: PositiveFloat = _default(nn.Adam, "epsilon")


class RMSpropSpec(OptimizerSpec):
    name: Literal["rmsprop"] = "rmsprop"
    learning_rate: PositiveFloat = _default(nn.RMSprop, "learning_rate")
    rho: Fraction = _default(nn.RMSprop, "rho")
    epsilon: PositiveFloat = _default(nn.RMSprop, "epsilon")
    momentum: Fraction = _default(nn.RMSprop, "momentum")


class AdagradSpec(OptimizerSpec):
    name: Literal["adagrad"] = "adagrad"
    learning_rate: PositiveFloat = _default(nn.Adagrad, "learning_rate")
    lr_decay: NonNegativeFloat = _default(nn.Adagrad, "lr_decay")
    initial_accumulator_value: NonNegativeFloat = _default(nn.Adagrad, "initial_accumulator_value")
    epsilon: PositiveFloat = _default(nn.Adagrad, "epsilon")


OPTIMIZER_SPECS: dict[str, type[OptimizerSpec]] = {
    "sgd": SGDSpec,
    "adam": AdamSpec,
    "rmsprop": RMSpropSpec,
    "adagrad": AdagradSpec,
}


# -- schedulers ---------------------------------------------------------------------------------
class SchedulerSpec(StrictModel):
    name: str

    def kwargs(self, epochs: int) -> dict[str, Any]:
        return self.model_dump(exclude={"name"})


class StepDecaySpec(SchedulerSpec):
    """``lr = lr0 * gamma ** (epoch // step_size)``."""

    name: Literal["step"] = "step"
    step_size: PositiveInt = _default(nn.StepDecay, "step_size")
    gamma: PositiveFloat = _default(nn.StepDecay, "gamma")


class ExponentialDecaySpec(SchedulerSpec):
    """``lr = lr0 * gamma ** epoch``."""

    name: Literal["exponential"] = "exponential"
    gamma: PositiveFloat = _default(nn.ExponentialDecay, "gamma")


class CosineSpec(SchedulerSpec):
    """Cosine annealing over ``t_max`` epochs (default: ``training.epochs``), optional warm-up."""

    name: Literal["cosine"] = "cosine"
    t_max: PositiveInt | None = None
    min_learning_rate: NonNegativeFloat = _default(nn.CosineAnnealing, "min_learning_rate")
    warmup_epochs: NonNegativeInt = _default(nn.CosineAnnealing, "warmup_epochs")

    def kwargs(self, epochs: int) -> dict[str, Any]:
        out = self.model_dump(exclude={"name"})
        out["t_max"] = self.t_max or epochs
        return out


SCHEDULER_SPECS: dict[str, type[SchedulerSpec]] = {
    "step": StepDecaySpec,
    "exponential": ExponentialDecaySpec,
    "cosine": CosineSpec,
}


#: a loss name from the library's registry
LossName = Annotated[str, loss_name]
