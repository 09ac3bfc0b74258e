"""nablanet: a deep-learning framework written from scratch in NumPy.

>>> import nablanet as nb
>>> model = nb.Sequential([nb.Dense(4, 3, activation="softmax")])
"""

__version__ = "0.1.0"

from .nn import *  # noqa: F403  (the library's public API: nb.Sequential, nb.Dense, ...)
from .nn import __all__ as _nn_all

__all__ = list(_nn_all)
