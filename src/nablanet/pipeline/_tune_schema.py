"""The ``tune:`` section of a config (validated with the rest of it; see ``docs/tuning.md``).

Only the shape of the section is checked here (types, ranges, names). That every ``space`` key is a
path into the config and that the metric is logged needs the rest of the config: the tune module
checks those before a study starts (:func:`nablanet.pipeline.tune.check_tune_config`).

>>> spec = TuneConfig.model_validate({
...     "metric": "val_accuracy",
...     "space": {"training.optimizer.learning_rate":
...               {"type": "float", "low": 1.0e-4, "high": 0.1, "log": True}},
... })
>>> spec.sampler.name, spec.pruner.name, spec.n_trials, spec.resolved_direction()
('tpe', 'median', 10, 'maximize')
"""

from __future__ import annotations

import math
import re
from typing import Literal

from pydantic import Field, model_validator

from ._schema import NonNegativeInt, PositiveFloat, PositiveInt, StrictModel, fail_at

__all__ = ["PrunerConfig", "SamplerConfig", "SpaceEntry", "TuneConfig", "default_direction"]

Scalar = bool | int | float | str | None
_STUDY_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
#: metrics that get better when they go down (the rest: accuracy, ... go up)
_LOWER_IS_BETTER = ("loss", "mse", "mae")


def default_direction(metric: str) -> str:
    """``"minimize"`` for losses and errors (``val_loss``, ``mae``), else ``"maximize"``.

    >>> default_direction("val_loss"), default_direction("val_accuracy")
    ('minimize', 'maximize')
    """
    return "minimize" if metric.removeprefix("val_") in _LOWER_IS_BETTER else "maximize"


class SpaceEntry(StrictModel):
    """One searched value: ``{type: float, low, high, log}``, ``{type: int, low, high, step}``
    or ``{type: categorical, choices: [...]}``."""

    type: Literal["float", "int", "categorical"]
    low: float | int | None = None
    high: float | int | None = None
    step: float | int | None = None
    log: bool = False
    choices: list[Scalar] | None = None

    @model_validator(mode="after")
    def _consistent(self) -> SpaceEntry:
        if self.type == "categorical":
            if not self.choices:
                fail_at(("choices",), "a categorical entry needs a non-empty list", self.choices)
            for key in ("low", "high", "step"):
                if getattr(self, key) is not None:
                    fail_at((key,), "is not used by a categorical entry (give choices)", None)
            if self.log:
                fail_at(("log",), "is not used by a categorical entry", True)
            return self
        if self.choices is not None:
            fail_at(("choices",), f"is only for categorical entries, not {self.type}", None)
        for key in ("low", "high"):
            value = getattr(self, key)
            if value is None:
                fail_at((key,), f"required for a {self.type} entry", None)
            if isinstance(value, bool) or not math.isfinite(value):
                fail_at((key,), "must be a finite number", value)
            if self.type == "int" and not isinstance(value, int):
                fail_at((key,), "must be an integer for an int entry", value)
        assert self.low is not None and self.high is not None  # checked just above
        if self.low >= self.high:
            fail_at(("low",), f"must be smaller than high ({self.high})", self.low)
        if self.log and self.low <= 0:
            fail_at(("low",), "must be > 0 with log: true", self.low)
        if self.step is not None:
            if isinstance(self.step, bool) or not self.step > 0:
                fail_at(("step",), "must be a positive number", self.step)
            if self.type == "int" and not isinstance(self.step, int):
                fail_at(("step",), "must be an integer for an int entry", self.step)
            if self.log:
                fail_at(("step",), "cannot be combined with log: true", self.step)
        return self


class SamplerConfig(StrictModel):
    """``tpe`` (default), ``random`` or ``grid`` (every space entry categorical); ``seed``
    makes one worker's proposals reproducible (leave it null when several workers share a
    study, or they all propose the same first trials)."""

    name: Literal["tpe", "random", "grid"] = "tpe"
    seed: NonNegativeInt | None = None
    n_startup_trials: PositiveInt = 10


class PrunerConfig(StrictModel):
    """``median`` (default): stop a trial whose metric is worse than the median of earlier
    trials at the same epoch; ``hyperband``; ``none``."""

    name: Literal["median", "hyperband", "none"] = "median"
    n_startup_trials: NonNegativeInt = 5
    n_warmup_steps: NonNegativeInt = 0
    min_resource: PositiveInt = 1
    reduction_factor: PositiveInt = 3


class TuneConfig(StrictModel):
    """``tune:`` a hyperparameter search over the rest of the config (``nablanet tune``)."""

    study: str | None = None
    metric: str = "val_loss"
    direction: Literal["minimize", "maximize"] | None = None
    n_trials: PositiveInt = 10
    max_trials: PositiveInt | None = None
    timeout_minutes: PositiveFloat | None = None
    sampler: SamplerConfig = Field(default_factory=SamplerConfig)
    pruner: PrunerConfig = Field(default_factory=PrunerConfig)
    space: dict[str, SpaceEntry]
    heartbeat_interval: PositiveInt = 10
    grace_period: PositiveInt = 60

    @model_validator(mode="after")
    def _cross_checks(self) -> TuneConfig:
        if self.study is not None and (not _STUDY_NAME.match(self.study) or len(self.study) > 100):
            fail_at(
                ("study",),
                "must start with a letter or digit and use only letters, digits, '.', '_', '-'",
                self.study,
            )
        if not self.space:
            fail_at(("space",), "must name at least one value to search", {})
        if self.sampler.name == "grid":
            for key, entry in self.space.items():
                if entry.type != "categorical":
                    fail_at(
                        ("space", key, "type"),
                        "the grid sampler needs every space entry to be categorical",
                        entry.type,
                    )
        if self.grace_period <= self.heartbeat_interval:
            fail_at(
                ("grace_period",),
                f"must be longer than heartbeat_interval ({self.heartbeat_interval} s)",
                self.grace_period,
            )
        return self

    def resolved_direction(self) -> str:
        """``direction``, or the default for ``metric``."""
        return self.direction or default_direction(self.metric)
