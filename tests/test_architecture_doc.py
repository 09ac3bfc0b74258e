"""docs/architecture.md's table "Where each concept lives" names every module, and only modules."""

from __future__ import annotations

import re
from pathlib import Path

import nablanet

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = Path(nablanet.__file__).resolve().parent
DOC = ROOT / "docs" / "architecture.md"


def _table_files() -> list[str]:
    text = DOC.read_text(encoding="utf-8")
    section = text.split("## Where each concept lives", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("|")]
    files = []
    for row in rows[2:]:  # after the header and its rule
        cells = [c.strip() for c in re.split(r"(?<!\\)\|", row)[1:-1]]
        files += re.findall(r"`([^`]+\.py)`", cells[-1])
    return files


def test_the_table_is_found():
    files = _table_files()
    assert "nn/plan.py" in files and "pipeline/run.py" in files


def test_every_module_has_a_row_and_every_row_a_module():
    modules = {p.relative_to(PACKAGE).as_posix() for p in PACKAGE.rglob("*.py")}
    listed = _table_files()
    missing = sorted(modules - set(listed))
    stale = sorted(set(listed) - modules)
    twice = sorted({f for f in listed if listed.count(f) > 1})
    assert not missing, f"modules without a row in docs/architecture.md: {missing}"
    assert not stale, f"rows of docs/architecture.md naming no module: {stale}"
    assert not twice, f"modules with two rows in docs/architecture.md: {twice}"
