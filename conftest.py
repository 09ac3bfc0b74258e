"""pytest's setup for the docstring examples of ``src/nablanet`` (``--doctest-modules``).

``make test`` collects ``tests/`` and ``src/nablanet`` (``testpaths`` in pyproject.toml), so
every ``>>>`` example of every module runs as a test item of its own, with the flags
``ELLIPSIS`` and ``NORMALIZE_WHITESPACE``. Modules that import an optional extra are left out of
collection when the extra is missing (the examples would fail for a reason that is not theirs);
with every extra installed (``pip install -e ".[all,dev]"``, as CI does) all of them run.

Each example starts like a test of ``tests/``: from the global seed 0 and, so that an example
that writes a file writes it there, in a fresh temporary directory.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parent / "src" / "nablanet"

#: module or package under src/nablanet -> the top-level imports its examples need
OPTIONAL_EXTRAS: dict[str, tuple[str, ...]] = {
    "pipeline": ("yaml", "pydantic", "matplotlib"),
    "cli.py": ("yaml", "pydantic", "matplotlib"),
    "ui": ("gradio", "yaml", "pydantic", "matplotlib"),
    "pipeline/tune": ("optuna", "sqlalchemy"),
    "data/formats/images.py": ("PIL",),
}


def _missing(modules: tuple[str, ...]) -> bool:
    return any(importlib.util.find_spec(m) is None for m in modules)


collect_ignore = [str(SRC / path) for path, needs in OPTIONAL_EXTRAS.items() if _missing(needs)]


@pytest.fixture(autouse=True)
def _doctest_setup(request: pytest.FixtureRequest) -> None:
    if isinstance(request.node, pytest.DoctestItem):
        import nablanet as nb

        nb.set_seed(0)
        request.getfixturevalue("monkeypatch").chdir(request.getfixturevalue("tmp_path"))
