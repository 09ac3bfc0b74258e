"""Errors of the pipeline: one clear line for the user, no traceback needed."""

from __future__ import annotations

from ..nn.errors import NablanetError


class PipelineError(NablanetError):
    """A user-facing error of the pipeline (bad input, bad file, impossible request).

    The CLI prints its message as one line and exits with code 2.

    >>> isinstance(PipelineError("x"), ValueError)
    True
    """


class ConfigError(PipelineError):
    """A configuration that does not validate; the message names the YAML key path.

    >>> from nablanet.pipeline import config_from_dict
    >>> try:
    ...     config_from_dict({"data": {"dataset": "breast_cancer"},
    ...                       "model": {"layers": [{"type": "dense", "units": -3}]},
    ...                       "training": {"loss": "mse", "epochs": 1}})
    ... except ConfigError as e:
    ...     print(e)
    model.layers[0].units: must be a positive integer or 'auto', got -3
    """


class RunDirError(PipelineError):
    """A run directory that cannot be created, found or resumed.

    >>> from nablanet.pipeline import load_run
    >>> try:
    ...     load_run("no/such/run")
    ... except RunDirError as e:
    ...     print(e)
    no/such/run: no such run directory
    """


class InputError(PipelineError):
    """Input data (files to evaluate or predict on) that does not fit the model: wrong feature
    count or shape, NaN values, unreadable or unsupported files.

    >>> issubclass(InputError, PipelineError)
    True
    """
