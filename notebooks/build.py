"""Build the course notebooks (``notebooks/*.ipynb``) from their sources in ``notebooks/src/``.

    python notebooks/build.py           # write the notebooks
    python notebooks/build.py --check   # exit 1 if a notebook differs from its source

Each source is a Python file in the "percent" format: a line ``# %%`` starts a code cell and
``# %% [markdown]`` a Markdown cell, whose lines are comments (``# text``). The sources are plain
Python, so they are linted and diffed like the rest of the code; the notebooks are written
without outputs (run them in Jupyter, or let the test suite execute them).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import nbformat

HERE = Path(__file__).resolve().parent
SOURCES = HERE / "src"
MARKER = "# %%"


def parse_cells(text: str) -> list[tuple[str, str]]:
    """``[(kind, source), ...]`` with kind ``"code"`` or ``"markdown"``."""
    cells: list[tuple[str, list[str]]] = []
    for line in text.splitlines():
        if line.startswith(MARKER):
            kind = "markdown" if "[markdown]" in line else "code"
            cells.append((kind, []))
        elif cells:
            cells[-1][1].append(line)
        elif line.strip() and not line.startswith("#"):
            raise ValueError(f"code before the first '{MARKER}' cell marker: {line!r}")
    out = []
    for kind, lines in cells:
        if kind == "markdown":
            lines = [_uncomment(line) for line in lines]
        source = "\n".join(lines).strip("\n")
        if source:
            out.append((kind, source))
    return out


def _uncomment(line: str) -> str:
    if line.strip() in ("", "#"):
        return ""
    if not line.startswith("# "):
        raise ValueError(f"a Markdown cell line must start with '# ': {line!r}")
    return line[2:]


def build_notebook(source: Path) -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    nb.metadata = {
        "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
        "language_info": {"name": "python"},
    }
    for i, (kind, text) in enumerate(parse_cells(source.read_text(encoding="utf-8"))):
        cell = (
            nbformat.v4.new_markdown_cell(text)
            if kind == "markdown"
            else nbformat.v4.new_code_cell(text)
        )
        cell.id = f"{source.stem[:2]}-{i:03d}"  # stable ids: rebuilding changes nothing
        nb.cells.append(cell)
    nbformat.validate(nb)
    return nb


def render(source: Path) -> str:
    return nbformat.writes(build_notebook(source)) + "\n"


def targets() -> dict[Path, Path]:
    """``{source: notebook}`` for every source."""
    return {src: HERE / f"{src.stem}.ipynb" for src in sorted(SOURCES.glob("[0-9]*.py"))}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only check, write nothing")
    args = parser.parse_args(argv)
    stale = []
    for src, dst in targets().items():
        text = render(src)
        if dst.exists() and dst.read_text(encoding="utf-8") == text:
            continue
        if args.check:
            stale.append(dst.name)
        else:
            dst.write_text(text, encoding="utf-8")
            print(f"wrote {dst.relative_to(HERE.parent)}")
    if stale:
        print(f"out of date (run python notebooks/build.py): {', '.join(stale)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
