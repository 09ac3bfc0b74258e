"""The Model tab's form <-> a run configuration (the same YAML the CLI takes).

The form describes a multi-layer perceptron: hidden dense layers (units, activation, dropout
after it), one initializer and L1/L2 penalties for every dense layer, then an output layer whose
size comes from the data (``units: auto``) and whose activation follows the loss. For image data
it can put a convolutional front before the dense layers: up to ``MAX_CONV`` blocks of a 'same'
ReLU convolution (filters, kernel size), an optional 2x2 max pooling and optional batch
normalization, then a flatten; optionally random shifts of the training images first. Training
settings map one to one onto ``training:`` keys. :func:`form_to_config` builds the plain config
dict and validates it with the pipeline's schema; :func:`form_from_config` fills the form from a
config file (layers it cannot show are kept as they are, see ``ModelForm.custom_layers``).

>>> form = default_form("breast_cancer", "binary")
>>> cfg = form_to_config(form, "breast_cancer", "binary")
>>> [layer["type"] for layer in cfg["model"]["layers"]]
['dense', 'dropout', 'dense']
>>> cfg["model"]["layers"][-1]["activation"], cfg["training"]["loss"]
('sigmoid', 'binary_crossentropy')
"""

from __future__ import annotations

import copy
import math
import numbers
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from . import pipeline_api as api
from .errors import UIError

#: the names and defaults of the config schema and the library's registries (one source)
CHOICES = api.describe_choices()
ACTIVATIONS = CHOICES.activations
INITIALIZERS = CHOICES.initializers
OPTIMIZERS = CHOICES.optimizers
SCHEDULERS = ("none", *CHOICES.schedulers)
LOSSES_BY_TASK = CHOICES.losses
#: output activation that goes with each loss
OUTPUT_ACTIVATION = CHOICES.output_activation
_DEFAULT = CHOICES.defaults
_DENSE = CHOICES.layer_defaults["dense"]
_DROPOUT_RATE = CHOICES.layer_defaults["dropout"]["rate"]
#: most hidden layers the form shows
MAX_HIDDEN = 4
#: most convolution blocks the form shows
MAX_CONV = 3
KERNEL_SIZES = (3, 5)


@dataclass
class HiddenLayer:
    """One hidden dense layer of the form, with an optional dropout after it."""

    units: int = 64
    activation: str = "relu"
    dropout: float = 0.0


@dataclass
class ConvBlock:
    """One convolution block of the form: a 'same' ReLU convolution, then maybe a 2x2 max pool."""

    filters: int = 32
    kernel_size: int = 3
    pool: bool = True


@dataclass
class ModelForm:
    """Everything the Model tab's form holds.

    ``custom_layers`` holds the ``model.layers`` of a loaded config that the form cannot show
    (other layer types, per-layer settings); while set, it is used instead of ``layers``.
    ``base`` holds a loaded config's other keys (preprocessing, evaluation...), kept as they are.
    """

    layers: list[HiddenLayer] = field(default_factory=lambda: [HiddenLayer(64)])
    conv: list[ConvBlock] = field(default_factory=list)
    batchnorm: bool = False
    shift: int = 0
    conv_dropout: float = 0.0
    initializer: str = _DENSE["initializer"]
    l1: float = _DENSE["l1"]
    l2: float = _DENSE["l2"]
    loss: str = LOSSES_BY_TASK["multiclass"][0]
    optimizer: str = _DEFAULT["training.optimizer.name"]
    learning_rate: float = _DEFAULT["training.optimizer.learning_rate"]
    scheduler: str = "none"
    epochs: int = 20  # the form's choice (the schema has no default)
    batch_size: int = _DEFAULT["training.batch_size"]
    validation_split: float = _DEFAULT["data.validation_split"]
    max_samples: int | None = _DEFAULT["data.max_samples"]
    early_stopping: bool = True  # the form's choice: on, keeping the best weights
    patience: int = 5  # the form's choice: shorter than the schema's, for runs in a browser
    seed: int = _DEFAULT["seed"]
    name: str = _DEFAULT["name"]
    custom_layers: list[dict[str, Any]] | None = None
    base: dict[str, Any] | None = None


def default_loss(task: str) -> str:
    return LOSSES_BY_TASK.get(task, LOSSES_BY_TASK["multiclass"])[0]


def default_form(dataset: str, task: str) -> ModelForm:
    """A sensible starting network for a dataset (quick to train on a laptop)."""
    loss = default_loss(task)
    name = api.default_run_name(dataset)
    if dataset in ("mnist", "fashion_mnist"):
        return ModelForm(
            layers=[HiddenLayer(128, "relu", 0.1), HiddenLayer(64, "relu")],
            loss=loss,
            epochs=5,
            batch_size=128,
            early_stopping=True,
            patience=3,
            name=name,
        )
    if dataset == "cifar10":  # colour photos: a small CNN (configs/cifar10_cnn.yaml is bigger)
        return ModelForm(
            layers=[HiddenLayer(128, "relu", 0.3)],
            conv=[ConvBlock(32), ConvBlock(64), ConvBlock(64)],
            batchnorm=True,
            shift=2,
            epochs=10,
            batch_size=64,
            early_stopping=True,
            patience=3,
            loss=loss,
            name=api.default_run_name(dataset, "cnn"),
        )
    if dataset == "digits":
        return ModelForm(
            layers=[HiddenLayer(64, "relu")], loss=loss, epochs=30, batch_size=32, name=name
        )
    if task == "regression":
        return ModelForm(
            layers=[HiddenLayer(32, "relu"), HiddenLayer(16, "relu")],
            loss=loss,
            learning_rate=3e-3,
            epochs=60,
            batch_size=32,
            patience=10,
            name=name,
        )
    return ModelForm(
        layers=[HiddenLayer(32, "relu", 0.1)], loss=loss, epochs=30, batch_size=32, name=name
    )


# -- checks with messages for people who fill a form, not YAML ----------------------------------
def _whole(value: Any, what: str, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value):
        raise UIError(f"{what} must be a whole number, got {value!r}.")
    # typeshed's numbers.Real has no __int__; every Real a form sends (int, float, NumPy) has one
    whole = int(value)  # type: ignore[call-overload]
    if float(value) != whole:
        raise UIError(f"{what} must be a whole number, got {value}.")
    if whole < minimum:
        raise UIError(f"{what} must be at least {minimum}, got {whole}.")
    return whole


def _number(value: Any, what: str, low: float, high: float | None = None, *, open_low=False):
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value):
        raise UIError(f"{what} must be a number, got {value!r}.")
    value = float(value)
    too_low = value <= low if open_low else value < low
    if too_low or (high is not None and value >= high):
        span = f"{'>' if open_low else '≥'} {low:g}" + (f" and < {high:g}" if high else "")
        raise UIError(f"{what} must be {span}, got {value:g}.")
    return value


def _choice(value: Any, options: Sequence[str], what: str) -> str:
    if value not in options:
        raise UIError(f"{what} must be one of {', '.join(options)}, got {value!r}.")
    return str(value)


def check_form(form: ModelForm, task: str) -> ModelForm:
    """The form with numbers made ints where needed; a :class:`UIError` naming the field when a
    value is missing or out of range."""
    if form.custom_layers is None:
        if not form.layers:
            raise UIError("Add at least one hidden layer (or load a config).")
        layers = []
        for i, layer in enumerate(form.layers, start=1):
            layers.append(
                HiddenLayer(
                    units=_whole(layer.units, f"Hidden layer {i}: units"),
                    activation=_choice(
                        layer.activation, ACTIVATIONS, f"Hidden layer {i}: activation"
                    ),
                    dropout=_number(layer.dropout or 0.0, f"Hidden layer {i}: dropout", 0.0, 1.0),
                )
            )
    else:
        layers = list(form.layers)
    conv: list[ConvBlock] = []
    shift = 0
    if form.custom_layers is None:
        if len(form.conv) > MAX_CONV:
            raise UIError(f"At most {MAX_CONV} convolution blocks.")
        for i, block in enumerate(form.conv, start=1):
            kernel = _whole(block.kernel_size, f"Convolution {i}: kernel size")
            if kernel not in KERNEL_SIZES:
                sizes = " or ".join(map(str, KERNEL_SIZES))
                raise UIError(f"Convolution {i}: kernel size must be {sizes}, got {kernel}.")
            filters = _whole(block.filters, f"Convolution {i}: filters")
            conv.append(ConvBlock(filters=filters, kernel_size=kernel, pool=bool(block.pool)))
        shift = _whole(form.shift or 0, "Random shift (pixels)", minimum=0) if conv else 0
        conv_dropout = form.conv_dropout or 0.0
        conv_dropout = _number(conv_dropout, "Dropout after the convolutions", 0.0, 1.0)
    else:
        conv_dropout = 0.0
    losses = LOSSES_BY_TASK.get(task, tuple(OUTPUT_ACTIVATION))
    max_samples = form.max_samples
    if max_samples in (None, 0, ""):
        max_samples = None
    else:
        max_samples = _whole(max_samples, "Max training samples", minimum=10)
    return replace(
        form,
        layers=layers,
        conv=conv,
        batchnorm=bool(form.batchnorm) and bool(conv),
        shift=shift,
        conv_dropout=conv_dropout if conv else 0.0,
        initializer=_choice(form.initializer, INITIALIZERS, "Initializer"),
        l1=_number(form.l1 or 0.0, "L1 penalty", 0.0),
        l2=_number(form.l2 or 0.0, "L2 penalty", 0.0),
        loss=_choice(form.loss, losses, f"Loss (for a {task} dataset)"),
        optimizer=_choice(form.optimizer, OPTIMIZERS, "Optimizer"),
        learning_rate=_number(form.learning_rate, "Learning rate", 0.0, open_low=True),
        scheduler=_choice(form.scheduler or "none", SCHEDULERS, "Scheduler"),
        epochs=_whole(form.epochs, "Epochs"),
        batch_size=_whole(form.batch_size, "Batch size"),
        validation_split=_number(form.validation_split, "Validation split", 0.0, 0.9),
        max_samples=max_samples,
        early_stopping=bool(form.early_stopping),
        patience=_whole(form.patience, "Patience", minimum=0),
        seed=_whole(form.seed, "Seed", minimum=0),
        name=(str(form.name).strip() or "run"),
    )


# -- form -> config -----------------------------------------------------------------------------
def _layers(form: ModelForm) -> list[dict[str, Any]]:
    if form.custom_layers is not None:
        return copy.deepcopy(form.custom_layers)
    dense_extra: dict[str, Any] = {"initializer": form.initializer}
    if form.l1:
        dense_extra["l1"] = form.l1
    if form.l2:
        dense_extra["l2"] = form.l2
    out: list[dict[str, Any]] = []
    if form.conv:
        if form.shift:
            out.append({"type": "random_translation", "max_shift": form.shift})
        for block in form.conv:
            out.append(
                {
                    "type": "conv2d",
                    "filters": block.filters,
                    "kernel_size": block.kernel_size,
                    "padding": "same",
                    "activation": "relu",
                    **dense_extra,
                }
            )
            if block.pool:
                out.append({"type": "maxpool2d", "pool_size": 2})
            if form.batchnorm:
                out.append({"type": "batchnorm"})
        out.append({"type": "flatten"})
        if form.conv_dropout:
            out.append({"type": "dropout", "rate": form.conv_dropout})
    for layer in form.layers:
        out.append(
            {"type": "dense", "units": layer.units, "activation": layer.activation, **dense_extra}
        )
        if layer.dropout:
            out.append({"type": "dropout", "rate": layer.dropout})
    head: dict[str, Any] = {"type": "dense", "units": "auto"}
    act = OUTPUT_ACTIVATION.get(form.loss)
    if act is not None:
        head["activation"] = act
    head["initializer"] = "xavier_uniform" if act in ("sigmoid", "softmax") else form.initializer
    for key in ("l1", "l2"):
        if key in dense_extra:
            head[key] = dense_extra[key]
    out.append(head)
    return out


def form_to_config(
    form: ModelForm, dataset: str | Mapping[str, Any], task: str, *, validate: bool = True
) -> dict[str, Any]:
    """The run configuration (plain data, as in a YAML file) the form describes.

    Parameters
    ----------
    form : ModelForm
    dataset : str or dict
        ``data.dataset``: a registry name or a user-data spec (``{"csv": ..., "target": ...}``).
    task : {"binary", "multiclass", "regression"}
        The dataset's task (chooses the losses on offer).
    validate : bool
        Check the result with the pipeline's schema too.

    Raises
    ------
    UIError
        A field out of range (named as in the form), or the config's own validation message.
    """
    form = check_form(form, task)
    base = copy.deepcopy(form.base or {})
    data = dict(base.get("data") or {})
    data["dataset"] = copy.deepcopy(dataset) if not isinstance(dataset, str) else dataset
    data["validation_split"] = form.validation_split
    if form.max_samples is not None:
        data["max_samples"] = form.max_samples
    else:
        data.pop("max_samples", None)
    training = dict(base.get("training") or {})
    training.update(
        {
            "loss": form.loss,
            "optimizer": {"name": form.optimizer, "learning_rate": form.learning_rate},
            "epochs": form.epochs,
            "batch_size": form.batch_size,
        }
    )
    if form.scheduler == "none":
        training.pop("scheduler", None)
    else:
        old: Any = training.get("scheduler")
        keep = isinstance(old, Mapping) and old.get("name") == form.scheduler
        training["scheduler"] = dict(old) if keep else {"name": form.scheduler}
    if form.early_stopping:
        monitor = "val_loss" if form.validation_split > 0 else "loss"
        training["early_stopping"] = {"monitor": monitor, "patience": form.patience}
    else:
        training.pop("early_stopping", None)
    if form.validation_split == 0:
        training["checkpoint"] = {"monitor": "loss"}
    elif isinstance(training.get("checkpoint"), Mapping) and str(
        training["checkpoint"].get("monitor", "")
    ) in ("loss", "accuracy", "mae", "mse"):
        training.pop("checkpoint")
    config = {
        **base,
        "name": form.name,
        "seed": form.seed,
        "data": data,
        "model": {"layers": _layers(form)},
        "training": training,
    }
    if validate:
        validate_config(config)
    return config


def validate_config(config: Mapping[str, Any]):
    """The pipeline's validated ``Config`` of plain data; its error as a :class:`UIError`."""
    return api.validated(config)


# -- config -> form -----------------------------------------------------------------------------
#: settings the form always writes (a layer with other values is custom)
_FIXED: dict[str, dict[str, Any]] = {
    "conv2d": {"padding": "same", "activation": "relu"},
    "maxpool2d": {"pool_size": 2},
}
#: keys of each layer type that the form shows (their values are read, whatever they are)
_SHOWN = {
    "dense": {"units", "activation", "initializer", "l1", "l2"},
    "conv2d": {"filters", "kernel_size", "initializer", "l1", "l2"},
    "dropout": {"rate"},
    "random_translation": {"max_shift"},
}


def _plain(spec: Mapping[str, Any]) -> dict[str, Any]:
    """``spec`` without the keys that hold the form's fixed settings or, for the keys the form
    does not show, the schema's defaults."""
    kind: Any = spec.get("type")
    fixed = _FIXED.get(kind, {})
    defaults = CHOICES.layer_defaults.get(kind, {})
    shown = _SHOWN.get(kind, set())
    out = {}
    for key, value in spec.items():
        if key in fixed:
            if value == fixed[key]:
                continue
        elif key not in shown and key in defaults and value == defaults[key]:
            continue
        out[key] = value
    return out


def _shared_settings(spec: Mapping[str, Any]) -> dict[str, Any]:
    return {k: spec.get(k, _DENSE[k]) for k in ("initializer", "l1", "l2")}


def _conv_from_layers(layers: list[Any]) -> tuple | None:
    """The convolutional front of ``layers``: ``(blocks, batchnorm, shift, dropout after the
    flatten, shared settings, the layers after it)``, or None when the form cannot show it."""
    specs = [_plain(spec) for spec in layers]
    i, shift = 0, 0
    if specs and specs[0].get("type") == "random_translation":
        default_shift = CHOICES.layer_defaults["random_translation"]["max_shift"]
        shift, i = int(specs[0].get("max_shift", default_shift)), 1
    blocks: list[ConvBlock] = []
    batchnorm: bool | None = None
    shared: dict[str, Any] | None = None
    while i < len(specs) and specs[i].get("type") == "conv2d":
        spec = specs[i]
        if not set(spec) <= {"type", "filters", "kernel_size", "initializer", "l1", "l2"}:
            return None
        if spec.get("kernel_size", 3) not in KERNEL_SIZES:
            return None
        settings = _shared_settings(spec)
        if shared is not None and settings != shared:
            return None
        shared = settings
        i += 1
        pool = i < len(specs) and specs[i] == {"type": "maxpool2d"}
        i += pool
        bn = i < len(specs) and specs[i] == {"type": "batchnorm"}
        i += bn
        if batchnorm is not None and bn != batchnorm:
            return None
        batchnorm = bn
        blocks.append(ConvBlock(int(spec["filters"]), int(spec.get("kernel_size", 3)), pool))
    if not blocks:
        return None if shift else ([], False, 0, 0.0, None, layers)
    if len(blocks) > MAX_CONV or i >= len(specs) or specs[i] != {"type": "flatten"}:
        return None
    i += 1
    dropout = 0.0
    if i < len(specs) and specs[i].get("type") == "dropout":
        dropout, i = float(specs[i].get("rate", _DROPOUT_RATE)), i + 1
    return blocks, bool(batchnorm), shift, dropout, shared, layers[i:]


def _hidden_from_layers(layers: list[Any]) -> tuple[list[HiddenLayer], dict[str, Any]] | None:
    """Hidden layers + shared dense settings, or None when the form cannot show the layers."""
    if not layers or not all(isinstance(spec, Mapping) for spec in layers):
        return None
    head = layers[-1]
    if head.get("type") != "dense":
        return None
    hidden: list[HiddenLayer] = []
    shared: dict[str, Any] | None = None
    allowed = {"type", "units", "activation", "initializer", "l1", "l2"}
    for spec in layers[:-1]:
        spec = _plain(spec)
        kind = spec.get("type")
        if kind == "dropout" and hidden and hidden[-1].dropout == 0:
            hidden[-1].dropout = float(spec.get("rate", _DROPOUT_RATE))
            continue
        if kind != "dense" or not set(spec) <= allowed or spec.get("units") == "auto":
            return None
        settings = _shared_settings(spec)
        if shared is None:
            shared = settings
        elif settings != shared:
            return None
        activation = spec.get("activation") or "linear"
        if activation not in ACTIVATIONS:
            return None
        hidden.append(HiddenLayer(int(spec["units"]), activation, 0.0))
    if not hidden or len(hidden) > MAX_HIDDEN:
        return None
    return hidden, shared or {}


def _parse_layers(layers: list[Any]):
    """``(hidden, conv, batchnorm, shift, conv_dropout, shared)`` of layers the form can show,
    else None."""
    if not layers or not all(isinstance(spec, Mapping) for spec in layers):
        return None
    front = _conv_from_layers(layers)
    if front is None:
        return None
    conv, batchnorm, shift, conv_dropout, conv_shared, rest = front
    parsed = _hidden_from_layers(rest)
    if parsed is None:
        return None
    hidden, shared = parsed
    if conv_shared is not None and conv_shared != _shared_settings(shared):
        return None
    return hidden, conv, batchnorm, shift, conv_dropout, shared


def form_from_config(config: Mapping[str, Any]) -> tuple[ModelForm, str | None]:
    """Fill the form from a config (plain data); returns the form and the dataset spec.

    Layers the form cannot show (other layer types, settings that differ per layer) are kept
    in ``custom_layers``; the other sections the form does not cover are kept in ``base``.
    """
    valid = validate_config(config).to_dict()
    training = valid["training"]
    layers = valid["model"]["layers"]
    parsed = _parse_layers(layers)
    form = ModelForm(base={k: v for k, v in valid.items() if k not in ("model",)})
    if parsed is None:
        form.custom_layers = layers
        form.layers = []
    else:
        form.layers, form.conv, form.batchnorm, form.shift, form.conv_dropout, shared = parsed
        initializer = shared.get("initializer", _DENSE["initializer"])
        initializer = CHOICES.initializer_aliases.get(initializer, initializer)
        if initializer not in INITIALIZERS:  # a constant initializer: keep the layers as they are
            form.custom_layers, form.layers = layers, []
        else:
            form.initializer = initializer
        form.l1 = float(shared.get("l1", _DENSE["l1"]))
        form.l2 = float(shared.get("l2", _DENSE["l2"]))
    form.loss = CHOICES.loss_aliases.get(training["loss"], training["loss"])
    form.optimizer = training["optimizer"]["name"]
    form.learning_rate = float(training["optimizer"]["learning_rate"])
    sched = training.get("scheduler")
    form.scheduler = sched["name"] if sched else "none"
    form.epochs = int(training["epochs"])
    form.batch_size = int(training["batch_size"])
    form.validation_split = float(valid["data"]["validation_split"])
    form.max_samples = valid["data"].get("max_samples")
    es = training.get("early_stopping")
    form.early_stopping = es is not None
    form.patience = int(es["patience"]) if es else ModelForm.patience
    form.seed = int(valid["seed"])
    form.name = str(valid["name"])
    dataset = valid["data"]["dataset"]
    return form, dataset
