"""The error the UI shows in the page instead of crashing.

>>> try:
...     raise UIError("The sketch is empty: draw a digit first.")
... except ValueError as err:
...     print(err)
The sketch is empty: draw a digit first.
"""

from __future__ import annotations

from nablanet import NablanetError


class UIError(NablanetError):
    """A bad input typed, drawn or uploaded in the page; the message is one line for the user."""
