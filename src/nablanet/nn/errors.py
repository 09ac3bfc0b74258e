"""The public error type of nablanet.

Every user-facing error of the library (and, through subclasses, of the data package and the
pipeline) is a :class:`NablanetError`: a ``ValueError`` whose message is one line naming the
thing, the expected value and what was received. The CLI prints it and exits with status 2.
"""

from __future__ import annotations

__all__ = ["NablanetError"]


class NablanetError(ValueError):
    """Base class for user-facing errors: the message is one line naming what is wrong.

    >>> from nablanet.nn import Dense
    >>> try:
    ...     Dense(3, -1)
    ... except NablanetError as e:
    ...     print(e)
    The 'n_neurons' parameter of Dense must be a positive integer. Got -1 instead.
    >>> issubclass(NablanetError, ValueError)
    True
    """
