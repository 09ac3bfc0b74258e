"""The web UI: a Gradio app over :mod:`nablanet.pipeline` (``nablanet ui``).

Importing this package is cheap: Gradio is imported only when the app is built.
"""

from __future__ import annotations
