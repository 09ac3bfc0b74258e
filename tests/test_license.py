"""The LICENSE file is the license pyproject.toml declares."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def declared_license() -> str:
    """``project.license`` of pyproject.toml (``"MIT"`` or ``{ text = "MIT" }``); read with a
    pattern, since ``tomllib`` needs Python 3.11 and the project supports 3.10."""
    text = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    match = re.search(r'^license\s*=\s*(?:\{\s*text\s*=\s*)?"([^"]+)"', text, re.M)
    assert match, "pyproject.toml declares no license"
    return match.group(1)


def test_license_file_matches_pyproject():
    name = declared_license()
    text = (ROOT / "LICENSE").read_text(encoding="utf-8")
    assert name == "MIT", f"update LICENSE and this test for the {name} license"
    assert text.startswith("MIT License\n")
    assert "Permission is hereby granted, free of charge" in text
    assert "nablanet contributors" in text
