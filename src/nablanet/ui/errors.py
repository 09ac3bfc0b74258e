"""The error the UI shows in the page instead of crashing, and the clean-up of its message.

>>> try:
...     raise UIError("The sketch is empty: draw a digit first.")
... except ValueError as err:
...     print(err)
The sketch is empty: draw a digit first.
>>> short_paths("/tmp/gradio/5f0c9e1a/train.csv: no target column 'target'")
"train.csv: no target column 'target'"
"""

from __future__ import annotations

import re
from pathlib import Path

from nablanet import NablanetError

#: a file Gradio keeps an upload in: ``<tmp>/gradio/<hash>/<the file's own name>``
_UPLOAD_PATH = re.compile(r"(?:[A-Za-z]:)?[^\s'\"`(]*[/\\]gradio[/\\][0-9a-fA-F]{6,}[/\\]")


class UIError(NablanetError):
    """A bad input typed, drawn or uploaded in the page; the message is one line for the user."""


def short_paths(text: str, *paths: str | Path | None) -> str:
    """``text`` with every Gradio upload path, and each of ``paths``, cut to the file's own name
    (the user uploaded ``train.csv``, not ``/tmp/gradio/<hash>/train.csv``); one line."""
    for path in paths:
        if path:
            text = text.replace(str(path), Path(path).name)
    text = _UPLOAD_PATH.sub("", text)
    return " ".join(text.split())
