"""The search space: ``tune.space`` keys are paths into the config (``--set`` syntax), each
trial's config is the base config with the sampled values put at those paths.

No Optuna here except :func:`suggest`, which takes a trial object.

>>> base = {
...     "data": {"dataset": "breast_cancer"},
...     "model": {"layers": [{"type": "dense", "units": 1, "activation": "sigmoid"}]},
...     "training": {"loss": "binary_crossentropy", "epochs": 2},
... }
>>> cfg = trial_config(base, {"training.optimizer.learning_rate": 0.01,
...                           "model.layers[0].l2": 1e-3})
>>> cfg.training.optimizer.learning_rate, cfg.model.layers[0].l2
(0.01, 0.001)
"""

from __future__ import annotations

import difflib
from collections.abc import Iterator, Mapping
from typing import Any

from ... import nn
from .._tune_schema import SpaceEntry, TuneConfig
from ..config import Config, apply_overrides, config_from_dict
from ..errors import ConfigError

__all__ = [
    "candidate_values",
    "check_tune_config",
    "config_paths",
    "logged_metrics",
    "suggest",
    "trial_config",
]


def config_paths(data: Any, prefix: str = "") -> Iterator[str]:
    """Every path of a plain config in ``--set`` syntax (``model.layers[0].units``), leaves and
    sections.

    >>> sorted(config_paths({"a": {"b": 1}, "c": [{"d": 2}]}))
    ['a', 'a.b', 'c', 'c[0]', 'c[0].d']
    """
    if isinstance(data, Mapping):
        for key, value in data.items():
            path = f"{prefix}.{key}" if prefix else str(key)
            yield path
            yield from config_paths(value, path)
    elif isinstance(data, list):
        for i, value in enumerate(data):
            path = f"{prefix}[{i}]"
            yield path
            yield from config_paths(value, path)


def _leaf_paths(data: Any) -> dict[str, Any]:
    from ..config import _split_key

    out = {}
    for path in config_paths(data):
        node = data
        for part in _split_key(path):
            node = node[part]
        if not isinstance(node, Mapping | list):
            out[path] = node
    return out


def logged_metrics(config: Config) -> list[str]:
    """The names training logs each epoch for this config (``loss``, ``accuracy``, their
    ``val_`` twins when there is a validation split), as :class:`nablanet.nn.Sequential`
    compiles them."""
    from ...nn.metrics import DEFAULT_TRAINING_METRICS

    loss = nn.losses.get(config.training.loss)
    metrics = list(DEFAULT_TRAINING_METRICS.get(loss.task, ()))
    keys = ["loss", *metrics]
    if config.data.validation_split > 0:
        keys += [f"val_{k}" for k in keys]
    return keys


def candidate_values(entry: SpaceEntry) -> list[Any]:
    """The values checked before a study starts: both ends of a range, every choice."""
    if entry.type == "categorical":
        return list(entry.choices or [])
    assert entry.low is not None and entry.high is not None  # a range: the schema checked them
    if entry.type == "int":
        return [int(entry.low), int(entry.high)]
    return [float(entry.low), float(entry.high)]


def trial_config(base: Mapping[str, Any], params: Mapping[str, Any]) -> Config:
    """The base config (plain data, without ``tune:``) with ``params`` (``{path: value}``) put
    at their paths, validated."""
    data = {k: v for k, v in base.items() if k != "tune"}
    return config_from_dict(apply_overrides(data, dict(params)))


def check_tune_config(config: Config, base: Mapping[str, Any]) -> TuneConfig:
    """Everything about ``config.tune`` that needs the rest of the config, before anything
    runs: each space key is a path into the config (else the nearest one is named), the values
    at both ends of each range (and each choice) make a valid config, and the metric is logged.

    Raises
    ------
    ConfigError
        One line naming ``tune.<key>``.
    """
    spec = config.tune
    if spec is None:
        raise ConfigError(
            "tune: the config has no tune: section (see docs/tuning.md for an example)"
        )
    resolved = config.to_dict()
    resolved.pop("tune", None)
    leaves = _leaf_paths(resolved)
    for key in spec.space:
        if key.startswith("tune.") or key == "tune":
            raise ConfigError(f"tune.space.{key}: cannot search the tune: section itself")
        if key not in leaves:
            nearest = difflib.get_close_matches(key, list(leaves), n=1, cutoff=0.0)
            raise ConfigError(
                f"tune.space.{key}: not a path into the config"
                + (f" (nearest valid key: {nearest[0]})" if nearest else "")
            )
    available = logged_metrics(config)
    if spec.metric not in available:
        raise ConfigError(
            f"tune.metric: {spec.metric!r} is not logged for this config; available: "
            f"{', '.join(available)}"
        )
    for key, entry in spec.space.items():
        for value in candidate_values(entry):
            try:
                cfg = trial_config(base, {key: value})
            except ConfigError as e:
                raise ConfigError(
                    f"tune.space.{key}: the value {value!r} does not fit: {e}"
                ) from None
            logged = logged_metrics(cfg)
            if spec.metric not in logged:
                raise ConfigError(
                    f"tune.metric: {spec.metric!r} is not logged when {key} is {value!r}; "
                    f"available: {', '.join(logged)}"
                )
    return spec


def suggest(trial: Any, space: Mapping[str, SpaceEntry]) -> dict[str, Any]:
    """Ask an ``optuna.Trial`` for one value of each entry: ``{path: value}``."""
    params: dict[str, Any] = {}
    for key, e in space.items():
        if e.type == "float":
            assert e.low is not None and e.high is not None  # a range: the schema checked them
            params[key] = trial.suggest_float(
                key, float(e.low), float(e.high), step=e.step, log=e.log
            )
        elif e.type == "int":
            assert e.low is not None and e.high is not None
            params[key] = trial.suggest_int(
                key, int(e.low), int(e.high), step=int(e.step or 1), log=e.log
            )
        else:
            params[key] = trial.suggest_categorical(key, list(e.choices or []))
    return params
