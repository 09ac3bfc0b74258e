"""Config -> objects: the builders that turn a validated :class:`~nablanet.pipeline.config.Config`
into library objects (layers, the compiled model, optimizer, scheduler, loss, early stopping).

The schemas they read live in :mod:`nablanet.pipeline.specs`; this module registers the builder
of every built-in layer type there. Adding a layer type takes a schema and a builder::

    from typing import Literal

    from pydantic import PositiveInt

    from nablanet import nn
    from nablanet.pipeline import LayerContext, LayerSpec, register_layer_type


    class Conv2DSpec(LayerSpec):
        type: Literal["conv2d"] = "conv2d"
        filters: PositiveInt
        kernel_size: PositiveInt = 3


    def _build_conv2d(spec: Conv2DSpec, ctx: LayerContext) -> nn.Layer:
        channels = ctx.input_shape[-1]  # NHWC samples (height, width, channels): channels last
        return nn.Conv2D(channels, spec.filters, spec.kernel_size)


    register_layer_type("conv2d", Conv2DSpec, _build_conv2d)

Import direction: ``specs <- config <- build``.
"""

from __future__ import annotations

from .. import nn
from ..nn import losses as nn_losses
from ..nn import optimizers as nn_optimizers
from ..nn import schedulers as nn_schedulers
from ..nn.layers import activations as nn_activations
from .config import Config, EarlyStoppingConfig, TrainingConfig
from .errors import ConfigError
from .specs import (
    CLASSIFICATION_LOSSES,
    LAYER_TYPES,
    REGRESSION_LOSSES,
    ActivationSpec,
    BatchNormSpec,
    Conv2DSpec,
    DenseSpec,
    DropoutSpec,
    LayerContext,
    LayerSpec,
    OptimizerSpec,
    Pool2DSpec,
    RandomCropSpec,
    RandomFlipSpec,
    RandomTranslationSpec,
    ReshapeSpec,
    SchedulerSpec,
    ShapeOnlySpec,
    output_activation,
    register_layer_type,
)

__all__ = [
    "build_early_stopping",
    "build_layers",
    "build_loss",
    "build_model",
    "build_optimizer",
    "build_scheduler",
    "check_loss_fits",
]


# -- layers -------------------------------------------------------------------------------------
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


def _build_random_crop(spec: RandomCropSpec, ctx: LayerContext) -> nn.Layer:
    _image_channels(spec, ctx)
    return nn.RandomCrop(spec.padding, spec.padding_mode)


def _build_random_flip(spec: RandomFlipSpec, ctx: LayerContext) -> nn.Layer:
    _image_channels(spec, ctx)
    return nn.RandomFlip(spec.mode)


register_layer_type("conv2d", Conv2DSpec, _build_conv2d)
register_layer_type("maxpool2d", Pool2DSpec, _build_pool2d)
register_layer_type("avgpool2d", Pool2DSpec, _build_pool2d)
register_layer_type("flatten", ShapeOnlySpec, _build_shape_only)
register_layer_type("globalavgpool2d", ShapeOnlySpec, _build_shape_only)
register_layer_type("random_translation", RandomTranslationSpec, _build_random_translation)
register_layer_type("random_crop", RandomCropSpec, _build_random_crop)
register_layer_type("random_flip", RandomFlipSpec, _build_random_flip)
register_layer_type("reshape", ReshapeSpec, lambda spec, ctx: nn.Reshape(spec.target_shape))
register_layer_type(
    "batchnorm",
    BatchNormSpec,
    lambda spec, ctx: nn.BatchNormalization(
        ctx.input_shape[-1], momentum=spec.momentum, epsilon=spec.epsilon, dtype=ctx.dtype
    ),
)


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


# -- optimizers and schedulers ------------------------------------------------------------------
def build_optimizer(spec: OptimizerSpec) -> nn.Optimizer:
    """``{name: adam, learning_rate: 1e-3}`` -> ``Adam(learning_rate=1e-3)``."""
    try:
        return nn_optimizers.get(spec.name, **spec.kwargs())
    except nn.NablanetError as e:
        raise ConfigError(f"training.optimizer: {e}") from None


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
        Outputs the data asks for (see :func:`~nablanet.pipeline.specs.n_model_outputs`); the last layer must match.
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
