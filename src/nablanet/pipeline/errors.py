"""Errors of the pipeline: one clear line for the user, no traceback needed."""

from __future__ import annotations

from ..nn._validation import NablanetError


class PipelineError(NablanetError):
    """A user-facing error of the pipeline (bad input, bad file, impossible request)."""


class ConfigError(PipelineError):
    """A configuration that does not validate; the message names the YAML key path, e.g.
    ``model.layers[2].units: must be a positive integer, got -3``."""


class RunDirError(PipelineError):
    """A run directory that cannot be created, found or resumed."""


class InputError(PipelineError):
    """Input data (files to evaluate or predict on) that does not fit the model."""
