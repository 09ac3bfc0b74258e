"""The version of nablanet (one place: the package, the CLI and the model files read it)."""

__version__ = "0.1.0"
