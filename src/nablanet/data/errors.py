"""The one error type of :mod:`nablanet.data`.

>>> try:
...     raise DataError("data.csv: no column named 'label'")
... except ValueError as err:
...     print(err)
data.csv: no column named 'label'
"""

from __future__ import annotations


class DataError(ValueError):
    """A data file, spec or array is not usable; the message is one line naming the file,
    the column or the shape, what was expected and what was found."""
