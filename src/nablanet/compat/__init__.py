"""Bridges from other APIs onto nablanet's engine.

* :mod:`nablanet.compat.nnfs`: the names of *Neural Networks from Scratch in Python* (Kinsley &
  Kukieła): ``Model``, ``Layer_Dense``, ``Optimizer_Adam``, ... (docs/from-nnfs.md).

A bridge imports only :mod:`nablanet.nn` and builds nablanet objects: it never computes a forward
pass, a gradient or an update of its own.
"""
