"""Plots of a training run and of an evaluation, written as PNG files.

Every function draws one figure, writes it atomically (to a temporary name in the same folder,
then renamed) and returns the :class:`~pathlib.Path` it wrote; missing parent folders are created.

- :func:`plot_history` writes every plot a history supports (``loss.png``, ``accuracy.png``,
  ``mae.png``, ..., ``learning_rate.png``) into a folder;
- :func:`plot_loss`, :func:`plot_metric`, :func:`plot_learning_rate`: curves per epoch;
- :func:`plot_roc`, :func:`plot_roc_curves`: ROC curves with the chance diagonal;
- :func:`plot_confusion_matrix`: a heatmap with the count in every cell;
- :func:`plot_misclassified`: a grid of misclassified images;
- :func:`plot_regression`: predicted against true values, with the identity line;
- :func:`plot_gradient_norms`, :func:`plot_histograms` (a run's ``diagnostics.json``),
  :func:`plot_decision_boundary` (models of 2 input features), :func:`diagnostics_plots`.

One module per family: :mod:`.curves` (histories), :mod:`.classification` (ROC, confusion
matrix), :mod:`.images` (image grids), :mod:`.regression`, :mod:`.diagnostics` (inside the
network: gradients, histograms, decision regions); :mod:`._style` holds what they share.

A *history* is a mapping like Keras's ``History.history`` (or an object with such a
``.history`` attribute, like :class:`nablanet.nn.History`): ``{"loss": [...], "val_loss": [...],
"accuracy": [...], "val_accuracy": [...], "learning_rate": [...]}``, one value per epoch. Any key
may be missing; ``None``, NaN and infinite values are left out of the curves.

The figures use matplotlib's object-oriented API (:class:`matplotlib.figure.Figure`), never
``pyplot``: no GUI backend, no global state, safe in a web server's threads.

>>> import tempfile
>>> history = {"loss": [0.9, 0.5, 0.4], "val_loss": [1.0, 0.6, 0.55], "accuracy": [0.6, 0.8, 0.85]}
>>> with tempfile.TemporaryDirectory() as out:
...     print([p.name for p in plot_history(history, out)])
...     print(plot_roc([0.0, 0.1, 1.0], [0.0, 0.8, 1.0], 0.85, f"{out}/roc.png").read_bytes()[:4])
['loss.png', 'accuracy.png']
b'\\x89PNG'
"""

from .classification import plot_confusion_matrix, plot_roc, plot_roc_curves
from .curves import plot_history, plot_learning_rate, plot_loss, plot_metric
from .diagnostics import (
    diagnostics_plots,
    plot_decision_boundary,
    plot_gradient_norms,
    plot_histograms,
)
from .images import plot_misclassified
from .regression import plot_regression

__all__ = [
    "diagnostics_plots",
    "plot_confusion_matrix",
    "plot_decision_boundary",
    "plot_gradient_norms",
    "plot_histograms",
    "plot_history",
    "plot_learning_rate",
    "plot_loss",
    "plot_metric",
    "plot_misclassified",
    "plot_regression",
    "plot_roc",
    "plot_roc_curves",
]
