"""Names -> objects: the one place that turns config names (``"adam"``, ``"relu"``, ``"he_normal"``)
into library objects, through the library's exact-name registries.

Layers are table-driven. Each ``type:`` of ``model.layers`` is one entry of :data:`LAYER_TYPES`:
a :class:`LayerSpec` subclass (the schema of its YAML keys, validated with pydantic) and a builder
``builder(spec, ctx) -> Layer`` that receives the input shape worked out from the data. Adding a
layer type takes a few lines::

    class Conv2DSpec(LayerSpec):
        type: Literal["conv2d"] = "conv2d"
        filters: PositiveInt
        kernel_size: PositiveInt = 3
        activation: Annotated[str | None, activation_name] = None

    def _build_conv2d(spec: Conv2DSpec, ctx: LayerContext) -> Layer:
        return nn.Conv2D(ctx.input_shape[0], spec.filters, spec.kernel_size, ...)

    def _build_random_translation(spec: RandomTranslationSpec, ctx: LayerContext) -> nn.Layer:
    _image_channels(spec, ctx)
    return nn.RandomTranslation(spec.max_shift)


register_layer_type("conv2d", Conv2DSpec, _build_conv2d)

Optimizers and schedulers are tables too (:data:`OPTIMIZER_SPECS`, :data:`SCHEDULER_SPECS`); their
defaults are read from the library's constructors, so the two never disagree.
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
from ..nn import optimizers as nn_optimizers
from ..nn import schedulers as nn_schedulers
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
from .errors import ConfigError

if TYPE_CHECKING:
    from .config import Config, EarlyStoppingConfig, TrainingConfig

__all__ = [
    "LAYER_TYPES",
    "OPTIMIZER_SPECS",
    "SCHEDULER_SPECS",
    "LayerContext",
    "LayerSpec",
    "LayerType",
    "activation_name",
    "build_early_stopping",
    "build_layers",
    "build_loss",
    "build_model",
    "build_optimizer",
    "build_scheduler",
    "initializer_name",
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


def _flat_features(spec: LayerSpec, ctx: LayerContext) -> int:
    if len(ctx.input_shape) != 1:
        raise ConfigError(
            f"{ctx.path} ({spec.type}) expects flat inputs (n_samples, n_features) but receives "
            f"samples of shape {ctx.input_shape}; set data.preprocessing.flatten: true or put a "
            f"flatten layer before it"
        )
    return ctx.input_shape[0]


def _regularizer(l1: float, l2: float) -> nn.Regularizer | None:
    if l1 and l2:
        return nn.L1L2(l1=l1, l2=l2)
    if l1:
        return nn.L1(l1)
    if l2:
        return nn.L2(l2)
    return None


def _build_dense(spec: DenseSpec, ctx: LayerContext) -> nn.Layer:
    n_inputs = _flat_features(spec, ctx)
    if spec.units == "auto":
        if not ctx.is_last:
            raise ConfigError(f"{ctx.path}.units: 'auto' is only allowed on the last layer")
        units = ctx.n_outputs
    else:
        units = spec.units
    return nn.Dense(
        n_inputs,
        units,
        activation=spec.activation,
        weight_initializer=spec.initializer,
        bias_initializer=spec.bias_initializer,
        weight_regularizer=_regularizer(spec.l1, spec.l2),
        dtype=ctx.dtype,
    )


def _build_dropout(spec: DropoutSpec, ctx: LayerContext) -> nn.Layer:
    return nn.Dropout(spec.rate)


def _build_activation(spec: ActivationSpec, ctx: LayerContext) -> nn.Layer:
    if spec.alpha is not None:
        if spec.activation != "leaky_relu":
            raise ConfigError(f"{ctx.path}.alpha: only applies to activation 'leaky_relu'")
        return nn.LeakyReLU(alpha=spec.alpha)
    return nn_activations.get(spec.activation)


register_layer_type("dense", DenseSpec, _build_dense)
register_layer_type("dropout", DropoutSpec, _build_dropout)
register_layer_type("activation", ActivationSpec, _build_activation)


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


class BatchNormSpec(LayerSpec):
    """``{type: batchnorm}``: normalizes the last axis (units of a dense, channels of a conv)."""

    type: Literal["batchnorm"] = "batchnorm"
    momentum: Fraction = _default(nn.BatchNormalization, "momentum")
    epsilon: PositiveFloat = _default(nn.BatchNormalization, "epsilon")


def _image_channels(spec: LayerSpec, ctx: LayerContext) -> int:
    if len(ctx.input_shape) != 3:
        raise ConfigError(
            f"{ctx.path} ({spec.type}) expects images of shape (height, width, channels) but "
            f"receives samples of shape {ctx.input_shape}; use an image dataset and keep "
            f"data.preprocessing.flatten unset or false"
        )
    return ctx.input_shape[2]


def _build_conv2d(spec: Conv2DSpec, ctx: LayerContext) -> nn.Layer:
    return nn.Conv2D(
        _image_channels(spec, ctx),
        spec.filters,
        spec.kernel_size,
        stride=spec.stride,
        padding=spec.padding,
        activation=spec.activation,
        use_bias=spec.use_bias,
        weight_initializer=spec.initializer,
        bias_initializer=spec.bias_initializer,
        weight_regularizer=_regularizer(spec.l1, spec.l2),
        dtype=ctx.dtype,
    )


def _build_pool2d(spec: Pool2DSpec, ctx: LayerContext) -> nn.Layer:
    _image_channels(spec, ctx)
    cls = nn.MaxPool2D if spec.type == "maxpool2d" else nn.AvgPool2D
    return cls(spec.pool_size, spec.stride)


def _build_shape_only(spec: ShapeOnlySpec, ctx: LayerContext) -> nn.Layer:
    if spec.type == "globalavgpool2d":
        _image_channels(spec, ctx)
        return nn.GlobalAveragePooling2D()
    return nn.Flatten()


def _build_random_translation(spec: RandomTranslationSpec, ctx: LayerContext) -> nn.Layer:
    _image_channels(spec, ctx)
    return nn.RandomTranslation(spec.max_shift)


register_layer_type("conv2d", Conv2DSpec, _build_conv2d)
register_layer_type("maxpool2d", Pool2DSpec, _build_pool2d)
register_layer_type("avgpool2d", Pool2DSpec, _build_pool2d)
register_layer_type("flatten", ShapeOnlySpec, _build_shape_only)
register_layer_type("globalavgpool2d", ShapeOnlySpec, _build_shape_only)
register_layer_type("random_translation", RandomTranslationSpec, _build_random_translation)
register_layer_type("reshape", ReshapeSpec, lambda spec, ctx: nn.Reshape(spec.target_shape))
register_layer_type(
    "batchnorm",
    BatchNormSpec,
    lambda spec, ctx: nn.BatchNormalization(
        ctx.input_shape[-1], momentum=spec.momentum, epsilon=spec.epsilon, dtype=ctx.dtype
    ),
)


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


def build_layers(
    layers: list[LayerSpec], input_shape: tuple[int, ...], n_outputs: int, dtype: str = "float32"
) -> list[nn.Layer]:
    """Build every layer, threading the sample shape through them.

    Raises
    ------
    ConfigError
        Naming ``model.layers[i]`` when a layer cannot take the shape it receives.
    """
    shape = tuple(int(s) for s in input_shape)
    out: list[nn.Layer] = []
    for i, spec in enumerate(layers):
        ctx = LayerContext(shape, n_outputs, i, i == len(layers) - 1, dtype)
        entry = LAYER_TYPES.get(spec.type)
        if entry is None:
            raise ConfigError(f"{ctx.path}.type: unknown layer type {spec.type!r}")
        try:
            layer = entry.build(spec, ctx)
            shape = tuple(layer.compute_output_shape(shape))
        except ConfigError:
            raise
        except nn.NablanetError as e:
            raise ConfigError(f"{ctx.path} ({spec.type}): {e}") from None
        out.append(layer)
    return out


def model_output_size(model: nn.Sequential, input_shape: tuple[int, ...]) -> int:
    shapes = model.output_shapes(tuple(input_shape))
    shape = shapes[-1]
    return int(shape[0]) if len(shape) == 1 else -1


# -- optimizers ---------------------------------------------------------------------------------
class OptimizerSpec(StrictModel):
    name: str

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


def build_optimizer(spec: OptimizerSpec) -> nn.Optimizer:
    """``{name: adam, learning_rate: 1e-3}`` -> ``Adam(learning_rate=1e-3)``."""
    try:
        return nn_optimizers.get(spec.name, **spec.kwargs())
    except nn.NablanetError as e:
        raise ConfigError(f"training.optimizer: {e}") from None


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


def build_scheduler(
    spec: SchedulerSpec | None, epochs: int, learning_rate: float
) -> nn.Scheduler | None:
    """The epoch scheduler, anchored at the optimizer's configured ``learning_rate`` (so that a
    resumed run follows the same schedule)."""
    if spec is None:
        return None
    try:
        return nn_schedulers.get(
            spec.name, initial_learning_rate=learning_rate, **spec.kwargs(epochs)
        )
    except nn.NablanetError as e:
        raise ConfigError(f"training.scheduler: {e}") from None


# -- loss, callbacks, model ---------------------------------------------------------------------
def build_loss(name: str) -> nn.Loss:
    try:
        return nn_losses.get(name)
    except nn.NablanetError as e:
        raise ConfigError(f"training.loss: {e}") from None


def build_early_stopping(spec: EarlyStoppingConfig | None) -> nn.EarlyStopping | None:
    if spec is None:
        return None
    try:
        return nn.EarlyStopping(
            monitor=spec.monitor,
            patience=spec.patience,
            min_delta=spec.min_delta,
            mode=spec.mode,
            restore_best_weights=spec.restore_best_weights,
        )
    except nn.NablanetError as e:
        raise ConfigError(f"training.early_stopping: {e}") from None


def check_loss_fits(training: TrainingConfig, layers: list[LayerSpec], task: str) -> None:
    """The loss must suit the task and the output activation (clear errors, not NaN later)."""
    loss = training.loss
    act = output_activation(layers)
    if task == "regression":
        if loss not in REGRESSION_LOSSES:
            raise ConfigError(
                f"training.loss: {loss!r} does not suit a regression dataset; use one of: "
                f"{', '.join(REGRESSION_LOSSES)}"
            )
        return
    if loss not in CLASSIFICATION_LOSSES:
        raise ConfigError(
            f"training.loss: {loss!r} does not suit a classification dataset ({task}); use "
            f"binary_crossentropy (one sigmoid output) or categorical_crossentropy (softmax)"
        )
    want = "sigmoid" if loss == "binary_crossentropy" else "softmax"
    if act != want:
        raise ConfigError(
            f"training.loss: {loss} needs a model that ends in a {want} activation; the last "
            f"layer's activation is {act or 'linear'}"
        )
    if loss == "binary_crossentropy" and task != "binary":
        raise ConfigError(
            f"training.loss: binary_crossentropy needs a binary dataset, this one is {task}; "
            f"use categorical_crossentropy with a softmax output"
        )


def n_model_outputs(layers: list[LayerSpec], task: str, n_classes: int, n_targets: int) -> int:
    """How many outputs the data asks for: 1 for binary with a sigmoid, k for softmax, the
    number of targets for regression."""
    if task == "regression":
        return n_targets
    if task == "binary" and output_activation(layers) == "sigmoid":
        return 1
    return n_classes


def build_model(
    config: Config,
    input_shape: tuple[int, ...],
    n_outputs: int,
    task: str | None = None,
    compile: bool = True,
) -> nn.Sequential:
    """The compiled ``Sequential`` of ``config.model`` for samples of ``input_shape``.

    Parameters
    ----------
    config : Config
    input_shape : tuple of int
        Shape of one preprocessed sample, e.g. ``(30,)`` or ``(784,)``.
    n_outputs : int
        Outputs the data asks for (see :func:`n_model_outputs`); the last layer must match.
    task : {"binary", "multiclass", "regression"}, optional
        When given, the loss is checked against it.
    compile : bool
        Compile with ``training.loss`` and ``training.optimizer``.

    Raises
    ------
    ConfigError
        Naming the key path, e.g. ``model.layers[2].units: the model has 3 outputs but the data
        needs 10``.
    """
    layers_spec = config.model.layers
    if task is not None:
        check_loss_fits(config.training, layers_spec, task)
    layers = build_layers(layers_spec, tuple(input_shape), n_outputs)
    model = nn.Sequential(layers, name=config.name)
    got = model_output_size(model, tuple(input_shape))
    if got != n_outputs:
        last = len(layers_spec) - 1
        raise ConfigError(
            f"model.layers[{last}]: the model has {got} outputs but the data needs {n_outputs} "
            f"(use units: {n_outputs}, or units: auto)"
        )
    if compile:
        model.compile(
            loss=build_loss(config.training.loss),
            optimizer=build_optimizer(config.training.optimizer),
        )
    return model


#: a loss name from the library's registry
LossName = Annotated[str, loss_name]
