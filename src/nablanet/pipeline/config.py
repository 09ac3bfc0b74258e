"""The run configuration: YAML files -> a validated :class:`Config`.

Several files can be combined (later ones override earlier ones, mappings merged key by key, lists
replaced) and single values overridden with ``key.path=value`` strings (``--set`` on the command
line). Validation is strict: unknown keys and wrong types are errors naming the key path::

    model.layers[2].units: must be a positive integer, got -3

>>> cfg = config_from_dict({
...     "name": "xor", "data": {"dataset": "breast_cancer"},
...     "model": {"layers": [{"type": "dense", "units": 1, "activation": "sigmoid"}]},
...     "training": {"loss": "binary_crossentropy", "epochs": 5},
... })
>>> cfg.training.optimizer.name, cfg.training.batch_size
('adam', 32)
>>> apply_overrides({"training": {"epochs": 5}}, ["training.epochs=7"])["training"]["epochs"]
7
"""

from __future__ import annotations

import copy
import math
import os
import re
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Annotated, Any, Literal, overload

import yaml
from pydantic import (
    BeforeValidator,
    Field,
    PlainSerializer,
    PlainValidator,
    PrivateAttr,
    SerializeAsAny,
    ValidationError,
    model_validator,
)

from ._schema import (
    Fraction,
    NonNegativeFloat,
    NonNegativeInt,
    PositiveInt,
    StrictModel,
    fail_at,
    format_validation_error,
    tagged_union,
)
from ._tune_schema import TuneConfig
from .errors import ConfigError
from .reports import CLASSIFICATION_REPORT_METRICS, REGRESSION_REPORT_METRICS
from .specs import (
    LAYER_TYPES,
    OPTIMIZER_SPECS,
    SCHEDULER_SPECS,
    AdamSpec,
    LayerSpec,
    LossName,
    OptimizerSpec,
    SchedulerSpec,
)

__all__ = [
    "Config",
    "DataConfig",
    "DiagnosticsConfig",
    "EarlyStoppingConfig",
    "EvaluationConfig",
    "ModelConfig",
    "PreprocessingConfig",
    "TrainingConfig",
    "apply_overrides",
    "config_from_dict",
    "dump_config",
    "load_config",
    "merge_dicts",
    "read_yaml",
    "save_config",
]


# -- data ---------------------------------------------------------------------------------------
_Task = Literal["binary", "multiclass", "regression"]


class CsvSource(StrictModel):
    """``{csv: path/to/file.csv, target: column}``: a table with a header row.

    Optional: ``features`` (columns to use; default all but the target), ``task`` (default:
    inferred from the target), ``delimiter``, ``test`` (a second CSV used as the test split).
    """

    csv: str
    target: str
    features: list[str] | None = None
    task: _Task | None = None
    delimiter: str | None = None
    test: str | None = None


class NpzSource(StrictModel):
    """``{npz: path/to/file.npz}``: arrays ``x`` and ``y`` (optional ``x_test``, ``y_test``,
    ``class_names``, ``feature_names``)."""

    npz: str
    task: _Task | None = None
    class_names: list[str] | None = None
    feature_names: list[str] | None = None


class NpyFiles(StrictModel):
    x: str
    y: str
    x_test: str | None = None
    y_test: str | None = None


class NpySource(StrictModel):
    """``{npy: {x: x.npy, y: y.npy}}``: arrays in ``.npy`` files (memory-mapped when large)."""

    npy: NpyFiles
    mmap: bool | Literal["auto"] = "auto"
    task: _Task | None = None
    class_names: list[str] | None = None


class ImagesSource(StrictModel):
    """``{images: dir}``: one sub-folder of images per class (``dir/train`` and ``dir/test``
    make a predefined test split). Optional ``size: [height, width]``, ``color``."""

    images: str
    size: Annotated[list[PositiveInt], Field(min_length=2, max_length=2)] | None = None
    color: Literal["auto", "grayscale", "rgb"] = "auto"


class RegistrySource(StrictModel):
    """``{name: spiral, n_samples: 600, noise: 0.2}``: a registered dataset with the parameters
    its generator takes (the toy datasets: ``n_samples``, ``noise``, ``n_classes`` (spiral,
    gaussians), ``seed``; see ``nablanet datasets`` and docs/diagnostics.md)."""

    name: str
    n_samples: Annotated[int, Field(ge=2)] | None = None
    noise: NonNegativeFloat | None = None
    n_classes: Annotated[int, Field(ge=2)] | None = None
    seed: NonNegativeInt | None = None

    @model_validator(mode="after")
    def _known_parameters(self) -> RegistrySource:
        from ..data import dataset_params

        takes = dataset_params(self.name)
        for key in ("n_samples", "noise", "n_classes", "seed"):
            if getattr(self, key) is not None and key not in takes:
                fail_at(
                    (key,),
                    f"dataset {self.name!r} takes "
                    + (f"only {', '.join(takes)}" if takes else "no parameters"),
                    getattr(self, key),
                )
        return self


#: keys of ``data:`` that belong to a toy dataset (``{dataset: spiral, n_samples: 600}``)
_GENERATOR_KEYS = ("n_samples", "noise", "n_classes", "seed")

_SOURCES: dict[str, type[StrictModel]] = {
    "csv": CsvSource,
    "npz": NpzSource,
    "npy": NpySource,
    "images": ImagesSource,
}


def _dataset_source(value: Any) -> Any:
    if isinstance(value, str | CsvSource | NpzSource | NpySource | ImagesSource | RegistrySource):
        return value
    if isinstance(value, Mapping) and "name" in value and not any(k in value for k in _SOURCES):
        return RegistrySource.model_validate(dict(value))
    kinds = [k for k in _SOURCES if k in value] if isinstance(value, Mapping) else []
    if len(kinds) != 1:
        fail_at(
            (),
            "must be a registry name (see `nablanet datasets`) or a mapping with one of the keys "
            "name (plus generator parameters), csv (plus target), npz, npy or images",
            value,
        )
    return _SOURCES[kinds[0]].model_validate(dict(value))


def _dump_source(value: Any) -> Any:
    return value.model_dump(exclude_none=True) if isinstance(value, StrictModel) else value


DatasetSource = Annotated[
    str | CsvSource | NpzSource | NpySource | ImagesSource | RegistrySource,
    PlainValidator(_dataset_source),
    PlainSerializer(_dump_source),
]


class PreprocessingConfig(StrictModel):
    """How inputs (and regression targets) are transformed; fitted on the training split only.

    Attributes
    ----------
    scale : {"standard", "minmax", "unit", "per_channel", "none"} or None
        ``standard``: zero mean, unit variance per feature; ``minmax``: to [0, 1] per feature;
        ``unit``: pixel values / 255; ``per_channel``: images standardized with one mean and
        std per colour channel (CIFAR's usual normalization); ``none``. Default (null): ``standard`` for tables,
        ``unit`` for images.
    flatten : bool or None
        Flatten each image into a vector. Default (null): when the first layer is ``dense``.
    target_scale : {"standard", "none"} or None
        Regression targets. Default (null): ``standard`` (predictions are scaled back).
    """

    scale: Literal["standard", "minmax", "unit", "per_channel", "none"] | None = None
    flatten: bool | None = None
    target_scale: Literal["standard", "none"] | None = None


class DataConfig(StrictModel):
    """``data:`` where the samples come from and how they are split and preprocessed.

    ``test_split`` applies when the dataset has no test set of its own (MNIST has one).
    ``max_samples`` keeps a random subset of the training pool (quick experiments).
    """

    dataset: DatasetSource
    validation_split: Fraction = 0.15
    test_split: Fraction = 0.15
    stratify: bool = True
    max_samples: PositiveInt | None = None
    preprocessing: PreprocessingConfig = Field(default_factory=PreprocessingConfig)

    @model_validator(mode="before")
    @classmethod
    def _generator_keys_into_dataset(cls, data: Any) -> Any:
        # `data: {dataset: spiral, n_samples: 600, noise: 0.2}` is short for
        # `data: {dataset: {name: spiral, n_samples: 600, noise: 0.2}}`
        if isinstance(data, Mapping) and any(k in data for k in _GENERATOR_KEYS):
            ds = data.get("dataset")
            if isinstance(ds, str) or (isinstance(ds, Mapping) and "name" in ds):
                data = dict(data)
                name = {"name": ds} if isinstance(ds, str) else dict(ds)
                for key in _GENERATOR_KEYS:
                    if key in data:
                        name[key] = data.pop(key)
                data["dataset"] = name
        return data

    @model_validator(mode="after")
    def _splits_leave_training_data(self) -> DataConfig:
        if self.validation_split + self.test_split >= 1.0:
            fail_at(
                ("validation_split",),
                f"validation_split + test_split must be < 1 to leave training samples "
                f"(test_split is {self.test_split})",
                self.validation_split,
            )
        return self

    def dataset_spec(self) -> str | dict[str, Any]:
        """The dataset as :func:`nablanet.data.load_dataset` takes it."""
        ds = self.dataset
        return ds if isinstance(ds, str) else ds.model_dump(exclude_none=True)

    def dataset_label(self) -> str:
        """``"mnist"``, or ``"csv:/path/to/file.csv"`` for user data."""
        ds = self.dataset
        if isinstance(ds, str):
            return ds
        if isinstance(ds, RegistrySource):
            return ds.name
        kind = next(iter(type(ds).model_fields))
        value = getattr(ds, kind)
        return f"{kind}:{value.x if isinstance(value, NpyFiles) else value}"


# -- model --------------------------------------------------------------------------------------
_layer = tagged_union(lambda: {k: t.spec for k, t in LAYER_TYPES.items()}, "type", "layer type")


class ModelConfig(StrictModel):
    """``model:`` a list of layers, e.g. ``{type: dense, units: 32, activation: relu}``.

    The input size of the first layer comes from the data; ``units: auto`` on the last layer
    takes the number of outputs from it too.
    """

    layers: list[SerializeAsAny[Annotated[LayerSpec, BeforeValidator(_layer)]]]

    @model_validator(mode="after")
    def _not_empty(self) -> ModelConfig:
        if not self.layers:
            fail_at(("layers",), "must list at least one layer", [])
        return self


# -- training -----------------------------------------------------------------------------------
def _named(registry: Mapping[str, Any], kind: str, default: str | None = None) -> BeforeValidator:
    dispatch = tagged_union(lambda: registry, "name", kind)

    def before(value: Any) -> Any:
        if isinstance(value, str):  # `optimizer: adam` is short for `{name: adam}`
            value = {"name": value}
        elif default is not None and isinstance(value, Mapping) and "name" not in value:
            value = {"name": default, **value}
        return dispatch(value)

    return BeforeValidator(before)


_MONITORED = ("loss", "accuracy", "mae", "mse")
_MONITOR_NAMES = tuple(p + m for p in ("", "val_") for m in _MONITORED)


class EarlyStoppingConfig(StrictModel):
    """Stop when ``monitor`` has not improved for ``patience`` epochs; the best weights are kept."""

    monitor: Literal[_MONITOR_NAMES] = "val_loss"  # type: ignore[valid-type]
    patience: NonNegativeInt = 10
    min_delta: NonNegativeFloat = 0.0
    mode: Literal["auto", "min", "max"] = "auto"
    restore_best_weights: bool = True


class CheckpointConfig(StrictModel):
    """``checkpoints/best.npz`` is written whenever ``monitor`` improves (``last.npz`` every
    epoch)."""

    monitor: Literal[_MONITOR_NAMES] = "val_loss"  # type: ignore[valid-type]
    mode: Literal["auto", "min", "max"] = "auto"


class DiagnosticsConfig(StrictModel):
    """``training.diagnostics:`` per-layer statistics and warnings (:class:`nablanet.Diagnostics`)
    written to the run's ``diagnostics.json``; ``enabled: false`` turns them off. ``every``: record
    every n-th epoch, or ``auto`` (default): as often as keeps their cost under 3 % of the
    training time."""

    enabled: bool = True
    every: PositiveInt | Literal["auto"] = "auto"


class TrainingConfig(StrictModel):
    """``training:`` loss, optimizer, schedule, epochs, batches, early stopping, checkpoints."""

    loss: LossName
    optimizer: SerializeAsAny[
        Annotated[OptimizerSpec, _named(OPTIMIZER_SPECS, "optimizer", "adam")]
    ] = AdamSpec()
    scheduler: (
        SerializeAsAny[Annotated[SchedulerSpec, _named(SCHEDULER_SPECS, "scheduler")]] | None
    ) = None
    epochs: PositiveInt
    batch_size: PositiveInt = 32
    shuffle: bool = True
    early_stopping: EarlyStoppingConfig | None = None
    checkpoint: CheckpointConfig = Field(default_factory=CheckpointConfig)
    terminate_on_nan: bool = True
    diagnostics: DiagnosticsConfig = Field(default_factory=DiagnosticsConfig)


class EvaluationConfig(StrictModel):
    """``evaluation:`` metrics reported on the test split (default: all that suit the task) and
    whether plots are drawn."""

    metrics: list[Literal[CLASSIFICATION_REPORT_METRICS + REGRESSION_REPORT_METRICS]] | None = None  # type: ignore[valid-type]
    plots: bool = True


_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


class Config(StrictModel):
    """A whole run: ``name``, ``seed``, ``data``, ``model``, ``training``, ``evaluation``,
    ``output_dir`` (and ``tune``, read by ``nablanet tune`` only). See ``docs/pipeline.md`` for
    every key.

    Build it with :func:`load_config` (YAML files + overrides) or :func:`config_from_dict`;
    every default is filled in.

    >>> cfg = Config.model_validate({
    ...     "data": {"dataset": "diabetes"},
    ...     "model": {"layers": [{"type": "dense", "units": 1}]},
    ...     "training": {"loss": "mse", "epochs": 10},
    ... })
    >>> cfg.name, cfg.training.batch_size, cfg.training.optimizer.learning_rate
    ('run', 32, 0.001)
    """

    name: str = "run"
    seed: NonNegativeInt = 42
    data: DataConfig
    model: ModelConfig
    training: TrainingConfig
    evaluation: EvaluationConfig = Field(default_factory=EvaluationConfig)
    output_dir: str = "runs"
    #: a hyperparameter search over the rest of the config (``nablanet tune``, docs/tuning.md)
    tune: TuneConfig | None = None
    _notes: list[str] = PrivateAttr(default_factory=list)

    @model_validator(mode="after")
    def _cross_checks(self) -> Config:
        if not _NAME.match(self.name) or len(self.name) > 100:
            fail_at(
                ("name",),
                "must start with a letter or digit and use only letters, digits, '.', '_', '-'",
                self.name,
            )
        monitors = [("checkpoint", self.training.checkpoint.monitor)]
        if self.training.early_stopping is not None:
            monitors.append(("early_stopping", self.training.early_stopping.monitor))
        for section, monitor in monitors:
            if monitor.startswith("val_") and self.data.validation_split == 0:
                fail_at(
                    ("training", section, "monitor"),
                    "needs a validation set but data.validation_split is 0; monitor "
                    f"{monitor.removeprefix('val_')!r} or set a validation_split",
                    monitor,
                )
        self._fit_warmup()
        return self

    def _fit_warmup(self) -> None:
        """A cosine warm-up must end before ``t_max``. With ``t_max`` left to its default
        (``training.epochs``), a short run of a config (``--set training.epochs=1``) shortens
        the warm-up to ``epochs - 1`` and says so in :attr:`notes`; an explicit ``t_max`` that
        the warm-up does not fit in is the user's contradiction, and an error."""
        sched: Any = self.training.scheduler  # a scheduler spec with warmup_epochs, if any
        warmup = getattr(sched, "warmup_epochs", 0)
        if not warmup:
            return
        explicit = getattr(sched, "t_max", None)
        t_max = explicit or self.training.epochs
        if warmup < t_max:
            return
        if explicit:
            fail_at(
                ("training", "scheduler", "warmup_epochs"),
                f"must be smaller than training.scheduler.t_max ({t_max})",
                warmup,
            )
        sched.warmup_epochs = t_max - 1
        self._notes.append(
            f"training.scheduler.warmup_epochs: {warmup} warm-up epoch(s) do not fit in a "
            f"{t_max}-epoch run; using {t_max - 1}"
        )

    @property
    def notes(self) -> list[str]:
        """What validation changed in the config, one line each (a run logs them): e.g. a
        warm-up shortened to fit ``training.epochs``."""
        return list(self._notes)

    def to_dict(self) -> dict[str, Any]:
        """Plain data (every default filled in), as written to a run's ``config.yaml``
        (without ``tune:`` when there is none)."""
        return self.model_dump(mode="json", exclude={"tune"} if self.tune is None else None)

    def to_yaml(self) -> str:
        return dump_config(self)


# -- reading, merging, overriding ----------------------------------------------------------------
def read_yaml(path: str | Path) -> dict[str, Any]:
    """A YAML mapping from ``path`` (``yaml.safe_load``; an empty file is ``{}``)."""
    path = Path(path)
    if not path.exists():
        raise ConfigError(f"{path}: no such config file")
    if path.is_dir():
        raise ConfigError(f"{path}: is a directory, not a config file")
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise ConfigError(f"{path}: cannot read ({e})") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f" line {mark.line + 1}, column {mark.column + 1}:" if mark else ""
        problem = getattr(e, "problem", None) or str(e).splitlines()[0]
        raise ConfigError(f"{path}:{where} invalid YAML ({problem})") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(
            f"{path}: the top level must be a mapping of keys, got {type(data).__name__}"
        )
    return data


def merge_dicts(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    """Deep merge: mappings merge key by key, anything else (lists included) is replaced."""
    out = copy.deepcopy(dict(base))
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = merge_dicts(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


_TOKEN = re.compile(r"([^.\[\]]+)|\[(-?\d+)\]")


def _split_key(key: str) -> list[str | int]:
    parts: list[str | int] = []
    pos = 0
    for m in _TOKEN.finditer(key):
        gap = key[pos : m.start()]
        if gap not in ("", "."):
            raise ConfigError(f"--set {key}: malformed key path")
        name, index = m.groups()
        parts.append(int(index) if index is not None else name)
        pos = m.end()
    if not parts or key[pos:] not in ("",):
        raise ConfigError(f"--set {key}: malformed key path")
    return parts


def parse_value(text: str) -> Any:
    """A ``--set`` value as YAML (``5`` -> 5, ``[a, b]`` -> list, ``null``), with ``1e-3`` read
    as a number (YAML 1.1 would keep it a string)."""
    try:
        value = yaml.safe_load(text) if text.strip() else None
    except yaml.YAMLError:
        return text
    if isinstance(value, str):
        try:
            number = float(value)
        except ValueError:
            return value
        if math.isfinite(number) and re.fullmatch(r"[-+]?[\d.]+(e[-+]?\d+)?", value.strip(), re.I):
            return number
    return value


def _set_path(data: dict[str, Any], parts: list[str | int], value: Any, original: str) -> None:
    node: Any = data
    for depth, part in enumerate(parts):
        last = depth == len(parts) - 1
        where = ".".join(str(p) for p in parts[: depth + 1])
        if isinstance(node, list):
            if isinstance(part, str) and re.fullmatch(r"-?\d+", part):
                part = int(part)
            if not isinstance(part, int):
                raise ConfigError(f"--set {original}: {where} indexes a list; use [index]")
            if not -len(node) <= part < len(node):
                raise ConfigError(
                    f"--set {original}: index {part} is out of range (the list has "
                    f"{len(node)} entries)"
                )
        elif isinstance(node, dict):
            if isinstance(part, int):
                raise ConfigError(f"--set {original}: {where} is not a list")
        else:
            raise ConfigError(f"--set {original}: cannot set a key inside a {type(node).__name__}")
        if last:
            node[part] = value
            return
        if isinstance(node, dict) and not isinstance(node.get(part), dict | list):
            # `optimizer: adam` is short for `{name: adam}`: keep the name when setting a key
            node[part] = {"name": node[part]} if isinstance(node.get(part), str) else {}
        node = node[part]


def apply_overrides(
    data: Mapping[str, Any], overrides: Iterable[str] | Mapping[str, Any] = ()
) -> dict[str, Any]:
    """Apply ``["training.epochs=5", "model.layers[0].units=64"]`` (or ``{"training.epochs": 5}``)
    to a copy of ``data``."""
    out = copy.deepcopy(dict(data))
    items: list[tuple[str, Any, str]] = []
    if isinstance(overrides, Mapping):
        items = [(k, v, f"{k}={v}") for k, v in overrides.items()]
    else:
        for text in overrides:
            if "=" not in text:
                raise ConfigError(f"--set {text}: expected key.path=value")
            key, raw = text.split("=", 1)
            items.append((key.strip(), parse_value(raw), text))
    for key, value, original in items:
        _set_path(out, _split_key(key), value, original)
    return out


@overload
def _absolute(path: str, base: Path) -> str: ...
@overload
def _absolute(path: None, base: Path) -> None: ...
@overload
def _absolute(path: str | None, base: Path) -> str | None: ...
def _absolute(path: str | None, base: Path) -> str | None:
    if path is None:
        return None
    p = Path(os.path.expanduser(path))
    return str(p if p.is_absolute() else (base / p).resolve())


def _absolute_paths(config: Config, base: Path) -> Config:
    ds = config.data.dataset
    if isinstance(ds, CsvSource):
        ds.csv = _absolute(ds.csv, base)
        ds.test = _absolute(ds.test, base)
    elif isinstance(ds, NpzSource):
        ds.npz = _absolute(ds.npz, base)
    elif isinstance(ds, ImagesSource):
        ds.images = _absolute(ds.images, base)
    elif isinstance(ds, NpySource):
        for key in ("x", "y", "x_test", "y_test"):
            setattr(ds.npy, key, _absolute(getattr(ds.npy, key), base))
    return config


def config_from_dict(data: Mapping[str, Any], base_dir: str | Path | None = None) -> Config:
    """Validate plain data into a :class:`Config`; file paths in ``data.dataset`` are made
    absolute (relative to ``base_dir``, default: the working directory).

    Raises
    ------
    ConfigError
        One line naming the key path of each problem.
    """
    if not isinstance(data, Mapping):
        raise ConfigError(f"a config must be a mapping of keys, got {type(data).__name__}")
    try:
        config = Config.model_validate(dict(data))
    except ValidationError as e:
        raise ConfigError(format_validation_error(e)) from None
    return _absolute_paths(config, Path(base_dir) if base_dir else Path.cwd())


def load_config(
    paths: str | Path | Sequence[str | Path] = (),
    overrides: Iterable[str] | Mapping[str, Any] = (),
    base: Mapping[str, Any] | None = None,
) -> Config:
    """Read, merge, override and validate a configuration.

    Parameters
    ----------
    paths : path or list of paths
        YAML files; later ones override earlier ones.
    overrides : list of ``"key.path=value"`` strings, or a mapping ``{"key.path": value}``
        Applied last (``--set``).
    base : mapping, optional
        Plain data merged under the files (e.g. a run's saved config when resuming).

    Returns
    -------
    Config

    Raises
    ------
    ConfigError
        Missing/unreadable files, invalid YAML, unknown keys, wrong types, impossible values.
    """
    if isinstance(paths, str | Path):
        paths = [paths]
    data: dict[str, Any] = dict(base or {})
    for path in paths:
        data = merge_dicts(data, read_yaml(path))
    if not data and not overrides:
        raise ConfigError("no configuration given: pass --config FILE (see configs/)")
    data = apply_overrides(data, overrides)
    return config_from_dict(data)


def dump_config(config: Config) -> str:
    """YAML text of a config with every default filled in (key order as in the schema)."""
    return yaml.safe_dump(config.to_dict(), sort_keys=False, default_flow_style=None, width=100)


def save_config(config: Config, path: str | Path) -> Path:
    path = Path(path)
    path.write_text(dump_config(config), encoding="utf-8")
    return path
