"""The web UI: a Gradio app over :mod:`nablanet.pipeline` (``nablanet ui``, ``make ui``).

Importing this package is cheap: Gradio is imported only when the app is built.

>>> from nablanet.ui import build_parser
>>> build_parser().parse_args([]).host
'127.0.0.1'
"""

from __future__ import annotations

from typing import Any

from .launch import add_arguments, build_parser, launch, main, run

__all__ = ["add_arguments", "build_app", "build_parser", "launch", "main", "run"]


def build_app(*args: Any, **kwargs: Any):
    """See :func:`nablanet.ui.app.build_app` (imports Gradio)."""
    from .app import build_app as _build_app

    return _build_app(*args, **kwargs)
