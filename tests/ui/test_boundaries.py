"""The UI goes through the pipeline: only ``ui/pipeline_api.py`` imports :mod:`nablanet.pipeline`
or :mod:`nablanet.data`, and it imports their public packages, never a module inside them."""

from __future__ import annotations

import ast
from pathlib import Path

import nablanet.ui

UI = Path(nablanet.ui.__file__).resolve().parent
DOOR = "pipeline_api.py"


def imported_modules(path: Path) -> list[str]:
    names = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names += [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
    return names


def test_only_the_door_imports_the_pipeline_and_only_its_public_names():
    problems = []
    for path in sorted(UI.glob("*.py")):
        for name in imported_modules(path):
            inside = name.startswith(("nablanet.pipeline.", "nablanet.data."))
            package = name in ("nablanet.pipeline", "nablanet.data")
            if inside or (package and path.name != DOOR):
                problems.append(f"{path.name} imports {name}")
    # ``from nablanet import pipeline`` / ``data`` are the public packages
    assert problems == []


def test_the_door_uses_public_pipeline_functions_only():
    from nablanet import pipeline

    text = (UI / DOOR).read_text(encoding="utf-8")
    calls = {
        node.attr
        for node in ast.walk(ast.parse(text))
        if isinstance(node, ast.Attribute)
        and isinstance(node.value, ast.Call)
        and getattr(node.value.func, "id", "") == "_pipeline"
    }
    assert calls and calls <= set(pipeline.__all__), calls - set(pipeline.__all__)
