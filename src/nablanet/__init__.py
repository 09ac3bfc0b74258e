"""nablanet: a deep-learning framework written from scratch in NumPy.

>>> import nablanet as nb
>>> model = nb.Sequential([nb.Dense(4, 3, activation="softmax")])
"""

import os as _os
import sys as _sys

from ._version import __version__ as __version__  # re-exported: nablanet.__version__

# NumPy's OpenBLAS keeps its worker threads spinning for about 2**28 cycles (~0.1 s) after each
# matrix product. Between two products nablanet runs element-wise work in threads of its own
# (layers/_parallel.py), and a spinning BLAS thread takes a core from it: a convolutional
# network's training step was 1.3 x slower. 2**16 cycles keeps the workers warm across
# back-to-back products and lets them sleep during the element-wise work. OpenBLAS reads the
# variable when NumPy is first imported, so this only applies when nablanet comes first (the
# CLI and the UI always do); a value set by the user is kept. See docs/performance.md.
if "numpy" not in _sys.modules:
    _os.environ.setdefault("OPENBLAS_THREAD_TIMEOUT", "16")

from .nn import *  # noqa: F403  (the library's public API: nb.Sequential, nb.Dense, ...)
from .nn import __all__ as _nn_all

__all__ = list(_nn_all)


def __getattr__(name: str):
    # nablanet.export_onnx and nablanet.TensorBoard without importing the pipeline (pydantic, yaml...) or onnx at
    # `import nablanet`: the library stays NumPy only until the export is asked for
    if name == "export_onnx":
        from .pipeline.export import export_onnx

        return export_onnx
    if name == "TensorBoard":  # tensorboardX, imported only when a TensorBoard is created
        from .pipeline.tensorboard import TensorBoard

        return TensorBoard
    raise AttributeError(f"module 'nablanet' has no attribute {name!r}")
