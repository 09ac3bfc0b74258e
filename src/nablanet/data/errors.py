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
    the column or the shape, what was expected and what was found.

    Examples
    --------
    >>> from nablanet.data import load_dataset
    >>> try:
    ...     load_dataset("cifar-1000")
    ... except DataError as err:
    ...     print(str(err)[:41])
    unknown dataset 'cifar-1000'; built-in da
    """
