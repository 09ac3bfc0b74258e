"""What a config may say, for front ends: the names on offer and the schema's defaults.

A form (the web UI's Model tab) needs the activations, initializers, optimizers, schedulers and
losses it may offer, which loss goes with which output activation, and the default of every
setting it shows. :func:`describe_choices` reads them from the library's registries and the
config schema, so that a name added to a registry, or a default changed in the schema, reaches
the form without a second list to keep in step.

>>> choices = describe_choices()
>>> "relu" in choices.activations and "softmax" not in choices.activations
True
>>> choices.losses["regression"], choices.output_activation["binary_crossentropy"]
(('mse', 'mae'), 'sigmoid')
>>> choices.initializer_aliases["glorot_uniform"]
'xavier_uniform'
>>> choices.defaults["training.batch_size"], choices.layer_defaults["dropout"]["rate"]
(32, 0.5)
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from types import MappingProxyType
from typing import Any

from pydantic import BaseModel
from pydantic_core import PydanticUndefined

from ..nn import initializers as nn_initializers
from ..nn import losses as nn_losses
from ..nn.layers import activations as nn_activations
from .config import Config, DataConfig, EarlyStoppingConfig, TrainingConfig
from .specs import (
    CLASSIFICATION_LOSSES,
    LAYER_TYPES,
    OPTIMIZER_SPECS,
    REGRESSION_LOSSES,
    SCHEDULER_SPECS,
)

__all__ = ["TASKS", "Choices", "describe_choices"]

#: the tasks a dataset can have
TASKS = ("binary", "multiclass", "regression")

#: activations that only make sense on the output layer (they normalise across the outputs)
OUTPUT_ONLY_ACTIVATIONS = ("softmax",)
#: initializers that give every weight the same value: a hidden layer would never break symmetry
CONSTANT_INITIALIZERS = ("zeros", "ones")


@dataclass(frozen=True)
class Choices:
    """The names a config may use and the schema's defaults (see :func:`describe_choices`).

    Attributes
    ----------
    activations : tuple of str
        Activations of hidden layers (the registry's, less the output-only ones).
    initializers : tuple of str
        Distinct weight initializers, each under its first name in the registry.
    initializer_aliases : mapping of str to str
        Every initializer name -> the name in ``initializers`` of the same function.
    optimizers, schedulers : tuple of str
        The ``name`` values ``training.optimizer`` / ``training.scheduler`` accept.
    losses : mapping of task to tuple of str
        Distinct losses that suit a task, each under its first name.
    loss_aliases : mapping of str to str
        Every loss name -> its name in ``losses``.
    output_activation : mapping of str to str or None
        The activation the last layer needs for each loss (None: linear).
    layer_defaults : mapping of str to mapping of str to Any
        Layer type -> the defaults of its optional YAML keys.
    defaults : mapping of str to Any
        Dotted key path (``training.batch_size``, ``training.optimizer.learning_rate``,
        ``training.early_stopping.patience``, ...) -> the schema's default.
    """

    activations: tuple[str, ...]
    initializers: tuple[str, ...]
    initializer_aliases: Mapping[str, str]
    optimizers: tuple[str, ...]
    schedulers: tuple[str, ...]
    losses: Mapping[str, tuple[str, ...]]
    loss_aliases: Mapping[str, str]
    output_activation: Mapping[str, str | None]
    layer_defaults: Mapping[str, Mapping[str, Any]]
    defaults: Mapping[str, Any]


def _distinct(names: Any, registry: Mapping[str, Any]) -> tuple[tuple[str, ...], dict[str, str]]:
    """The names of distinct registry entries (first name wins) and every name -> that name."""
    first: dict[Any, str] = {}
    aliases: dict[str, str] = {}
    for name in names:
        key = registry[name]
        aliases[name] = first.setdefault(key, name)
    return tuple(first.values()), aliases


def _field_defaults(model: type[BaseModel], prefix: str) -> dict[str, Any]:
    out = {}
    for name, info in model.model_fields.items():
        if info.default is not PydanticUndefined:
            default = info.default
        elif info.default_factory is not None:
            continue  # a nested section: described by its own fields
        else:
            continue  # required
        if isinstance(default, BaseModel):
            continue
        out[f"{prefix}{name}"] = default
    return out


def _loss_activation(loss: str) -> str | None:
    """The output activation ``check_loss_fits`` asks of ``loss`` (None for regression)."""
    if loss in REGRESSION_LOSSES:
        return None
    return "sigmoid" if loss == "binary_crossentropy" else "softmax"


@lru_cache(maxsize=1)
def describe_choices() -> Choices:
    """The :class:`Choices` of this installation (read once from the registries and schema)."""
    activations = tuple(n for n in nn_activations.ACTIVATIONS if n not in OUTPUT_ONLY_ACTIVATIONS)
    inits, init_aliases = _distinct(nn_initializers.INITIALIZERS, nn_initializers.INITIALIZERS)
    inits = tuple(n for n in inits if n not in CONSTANT_INITIALIZERS)
    classification, class_aliases = _distinct(CLASSIFICATION_LOSSES, nn_losses.LOSSES)
    regression, reg_aliases = _distinct(REGRESSION_LOSSES, nn_losses.LOSSES)
    losses = {
        "binary": classification,
        "multiclass": tuple(n for n in classification if n != "binary_crossentropy"),
        "regression": regression,
    }
    all_losses = (*CLASSIFICATION_LOSSES, *REGRESSION_LOSSES)
    layer_defaults = {}
    for kind, entry in LAYER_TYPES.items():
        fields = _field_defaults(entry.spec, "")
        fields.pop("type", None)
        layer_defaults[kind] = MappingProxyType(fields)
    defaults = {
        **_field_defaults(Config, ""),
        **_field_defaults(DataConfig, "data."),
        **_field_defaults(TrainingConfig, "training."),
        **_field_defaults(EarlyStoppingConfig, "training.early_stopping."),
    }
    optimizer = TrainingConfig.model_fields["optimizer"].default
    defaults["training.optimizer.name"] = optimizer.name
    for name, value in optimizer.kwargs().items():
        defaults[f"training.optimizer.{name}"] = value
    return Choices(
        activations=activations,
        initializers=inits,
        initializer_aliases=MappingProxyType(init_aliases),
        optimizers=tuple(OPTIMIZER_SPECS),
        schedulers=tuple(SCHEDULER_SPECS),
        losses=MappingProxyType(losses),
        loss_aliases=MappingProxyType({**class_aliases, **reg_aliases}),
        output_activation=MappingProxyType({n: _loss_activation(n) for n in all_losses}),
        layer_defaults=MappingProxyType(layer_defaults),
        defaults=MappingProxyType(defaults),
    )
