"""The documentation cannot drift from the code.

* every ``pycon`` code block in ``docs/*.md`` runs as a doctest (blocks of one page share a
  namespace, in order, like a notebook);
* every docstring example in the modules of ``nablanet`` outside ``nablanet.nn`` runs
  (``tests/test_doctests.py`` covers ``nablanet.nn``);
* every public class exported by ``nablanet``, ``nablanet.nn``, ``nablanet.data`` and
  ``nablanet.pipeline`` has a docstring with an example (``>>>``) and appears in ``docs/api.md``.

``docs/configuration.md`` and ``docs/cli.md`` are checked against the config schema and the
argument parser in ``tests/test_docs_reference.py``.
"""

from __future__ import annotations

import doctest
import importlib
import pkgutil
import re
from pathlib import Path

import pytest

import nablanet

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
FLAGS = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE

# --- Markdown pages ----------------------------------------------------------------------------
FENCE = re.compile(r"^```pycon[^\n]*\n(.*?)^```", re.DOTALL | re.MULTILINE)


def markdown_pages() -> list[Path]:
    return sorted(p for p in DOCS.glob("*.md") if FENCE.search(p.read_text(encoding="utf-8")))


def run_markdown_doctests(path: Path) -> tuple[int, int, str]:
    """(examples, failures, report) for the ``pycon`` blocks of one Markdown page."""
    text = path.read_text(encoding="utf-8")
    parser = doctest.DocTestParser()
    runner = doctest.DocTestRunner(optionflags=FLAGS, verbose=False)
    globs: dict = {"__name__": f"docs.{path.stem}"}
    out: list[str] = []
    for match in FENCE.finditer(text):
        line = text.count("\n", 0, match.start(1))
        test = parser.get_doctest(match.group(1), globs, path.name, str(path), line)
        runner.run(test, out=out.append, clear_globs=False)
        globs = test.globs  # DocTest copies its globals: carry them to the next block
    result = runner.summarize(verbose=False)
    return result.attempted, result.failed, "".join(out)


def test_markdown_pages_with_examples_exist():
    names = {p.name for p in markdown_pages()}
    assert {"backpropagation.md", "optimizers.md"} <= names, names


@pytest.mark.parametrize("page", markdown_pages(), ids=lambda p: p.name)
def test_markdown_examples(page, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # examples that write files write them here
    attempted, failed, report = run_markdown_doctests(page)
    assert attempted > 0
    assert failed == 0, f"{page.name}: {failed} of {attempted} examples failed\n{report}"


# --- docstring examples outside nablanet.nn ----------------------------------------------------
def modules_outside_nn() -> list[str]:
    names = ["nablanet"]
    for info in pkgutil.walk_packages(nablanet.__path__, prefix="nablanet."):
        if info.name == "nablanet.nn" or info.name.startswith("nablanet.nn."):
            continue  # tests/test_doctests.py runs these
        names.append(info.name)
    return sorted(names)


def test_modules_found():
    assert "nablanet.data.loader" in modules_outside_nn()


@pytest.mark.parametrize("name", modules_outside_nn())
def test_docstring_examples(name, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    try:
        module = importlib.import_module(name)
    except ImportError as e:  # an optional dependency (e.g. gradio) that is not installed
        pytest.skip(f"{name} needs {e.name}")
    runner = doctest.DocTestRunner(optionflags=FLAGS, verbose=False)
    out: list[str] = []
    for test in doctest.DocTestFinder().find(module, name):
        runner.run(test, out=out.append)
    result = runner.summarize(verbose=False)
    assert result.failed == 0, "".join(out)
