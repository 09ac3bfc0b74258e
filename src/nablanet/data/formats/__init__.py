"""User data: CSV files, NumPy ``.npy`` / ``.npz`` files and folders of images.

Every loader returns a :class:`~nablanet.data.Dataset` and raises a one-line
:class:`~nablanet.data.DataError` naming the file, the column or the shape when the data is not
usable. Nothing is ever unpickled (``allow_pickle=False``).

One module per format family: :mod:`~nablanet.data.formats.table` (CSV),
:mod:`~nablanet.data.formats.arrays` (``.npz`` / ``.npy``, memory-mapped when large),
:mod:`~nablanet.data.formats.images` (image folders); :mod:`~nablanet.data.formats.spec` turns
a config's data spec into a call of the right loader.

>>> from nablanet.data.formats import load_from_spec
>>> load_from_spec({"npz": "missing.npz"})
Traceback (most recent call last):
    ...
nablanet.data.errors.DataError: missing.npz: .npz file not found
"""

from .arrays import load_npy, load_npz
from .images import load_image_folder
from .spec import load_from_spec
from .table import csv_columns, load_csv

__all__ = ["csv_columns", "load_csv", "load_from_spec", "load_image_folder", "load_npy", "load_npz"]
