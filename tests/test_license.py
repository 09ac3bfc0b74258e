"""The LICENSE file is the license pyproject.toml declares."""

from __future__ import annotations

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_license_file_matches_pyproject():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    declared = project["license"]
    name = declared["text"] if isinstance(declared, dict) else declared
    text = (ROOT / "LICENSE").read_text(encoding="utf-8")
    assert name == "MIT", f"update this test for the {name} license"
    assert text.startswith("MIT License\n")
    assert "Permission is hereby granted, free of charge" in text
    assert "nablanet contributors" in text
