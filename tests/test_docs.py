"""The documentation cannot drift from the code.

* every ``pycon`` code block in ``docs/*.md`` runs as a doctest (blocks of one page share a
  namespace, in order, like a notebook);
* every docstring example in ``src/nablanet`` runs: pytest collects them (``--doctest-modules``,
  configured in pyproject.toml and conftest.py), and a test here checks that configuration;
* every public class exported by ``nablanet``, ``nablanet.nn``, ``nablanet.data`` and
  ``nablanet.pipeline`` has a docstring with an example (``>>>``), and every public name appears
  in ``docs/api.md``;
* ``docs/configuration.md`` documents every key of the config schema (with its default), and
  nothing else;
* ``docs/cli.md`` documents every command and option of the argument parser, and nothing else.
"""

from __future__ import annotations

import doctest
import importlib
import inspect
import math
import re
import typing
from pathlib import Path

import pytest

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


# --- docstring examples: pytest --doctest-modules over src/nablanet -----------------------------
def test_docstring_examples_are_collected():
    """The examples of every module run as tests of their own (``--doctest-modules`` over
    ``src/nablanet``, see conftest.py); this fails if the configuration stops collecting them."""
    tomllib = pytest.importorskip("tomllib")  # Python 3.11+
    options = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["pytest"]["ini_options"]
    assert "--doctest-modules" in options["addopts"].split()
    assert "src/nablanet" in options["testpaths"]
    assert set(options["doctest_optionflags"].split()) == {"ELLIPSIS", "NORMALIZE_WHITESPACE"}


# --- docs/configuration.md against the config schema -------------------------------------------
REQUIRED = object()
SCHEMA_COMMENT = re.compile(r"^<!-- schema: ?(\S*) -->$")


def _models_in(annotation) -> list[type]:
    """The pydantic models named anywhere in a field's type (unions, lists, Annotated...)."""
    from pydantic import BaseModel

    found: list[type] = []

    def visit(t) -> None:
        if isinstance(t, type) and issubclass(t, BaseModel):
            if t not in found:
                found.append(t)
            return
        for arg in typing.get_args(t):
            visit(arg)

    visit(annotation)
    return found


def _variants(models: list[type]) -> list[tuple[str | None, type, str | None]]:
    """``(tag, model, discriminator key)`` for each model a field may hold: the registered
    layer types, optimizers and schedulers for their base specs; the first key of each
    alternative of a plain union (``data.dataset``: csv, npz, npy, images)."""
    from nablanet.pipeline import specs

    out: list[tuple[str | None, type, str | None]] = []
    for model in models:
        if model is specs.LayerSpec:
            out += [(f"type={k}", t.spec, "type") for k, t in specs.LAYER_TYPES.items()]
        elif model is specs.OptimizerSpec:
            out += [(f"name={k}", s, "name") for k, s in specs.OPTIMIZER_SPECS.items()]
        elif model is specs.SchedulerSpec:
            out += [(f"name={k}", s, "name") for k, s in specs.SCHEDULER_SPECS.items()]
        else:
            out.append((None, model, None))
    if len(out) > 1:
        out = [(tag or next(iter(m.model_fields)), m, key) for tag, m, key in out]
    return out


def schema_keys(model=None, prefix: str = "", skip: str | None = None, out=None) -> dict:
    """``{key path: default}`` for every key of the config schema, e.g.
    ``training.optimizer[name=sgd].momentum: 0.0``; required keys map to ``REQUIRED``."""
    from nablanet.pipeline.config import Config

    model = Config if model is None else model
    out = {} if out is None else out
    for name, field in model.model_fields.items():
        if name == skip:
            continue
        path = f"{prefix}.{name}" if prefix else name
        if field.is_required():
            out[path] = REQUIRED
        elif field.default_factory is not None:
            out[path] = field.default_factory()
        else:
            out[path] = field.default
        for tag, sub, key in _variants(_models_in(field.annotation)):
            schema_keys(sub, f"{path}[{tag}]" if tag else path, key, out)
    return out


def documented_keys(text: str) -> dict[str, str]:
    """``{key path: default cell}`` from the tables that follow ``<!-- schema: PREFIX -->``."""
    rows: dict[str, str] = {}
    prefix = None
    for line in text.splitlines():
        match = SCHEMA_COMMENT.match(line.strip())
        if match:
            prefix = match.group(1)
            continue
        if prefix is None:
            continue
        if not line.startswith("|"):
            if line.strip() and rows:  # a paragraph after the table ends it
                prefix = None
            continue
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        key = cells[0].strip("`")
        if key.startswith("key") or set(key) <= {"-", " "}:
            continue  # header and separator rows
        path = f"{prefix}.{key}" if prefix else key
        assert path not in rows, f"docs/configuration.md documents {path} twice"
        rows[path] = cells[2]
    return rows


def _cell_value(cell: str):
    from nablanet.pipeline.config import parse_value

    return parse_value(cell.strip("`"))


def test_schema_walk_finds_the_keys():
    keys = schema_keys()
    assert keys["training.optimizer[name=sgd].momentum"] == 0.0
    assert keys["model.layers[type=dense].units"] is REQUIRED
    assert "data.dataset[csv].target" in keys


def test_configuration_md_documents_every_key_of_the_schema():
    documented = documented_keys((DOCS / "configuration.md").read_text(encoding="utf-8"))
    schema = schema_keys()
    missing = sorted(set(schema) - set(documented))
    unknown = sorted(set(documented) - set(schema))
    assert not missing, "keys of the config schema missing in docs/configuration.md: " + ", ".join(
        missing
    )
    assert not unknown, "docs/configuration.md documents keys the schema does not have: " + (
        ", ".join(unknown)
    )


def test_configuration_md_states_the_schema_defaults():
    from pydantic import BaseModel

    documented = documented_keys((DOCS / "configuration.md").read_text(encoding="utf-8"))
    wrong = []
    for path, default in schema_keys().items():
        cell = documented.get(path)
        if cell is None or isinstance(default, BaseModel):
            continue  # missing rows are reported above; sections are described in words
        if default is REQUIRED:
            if cell != "required":
                wrong.append(f"{path}: documented {cell!r}, the schema requires it")
            continue
        value = _cell_value(cell)
        same = (
            math.isclose(value, default)
            if isinstance(default, float) and isinstance(value, int | float)
            else value == default and type(value) is type(default)
        )
        if not same:
            wrong.append(f"{path}: documented {cell}, the schema's default is {default!r}")
    assert not wrong, "wrong defaults in docs/configuration.md:\n" + "\n".join(wrong)


# --- docs/cli.md against the argument parser ---------------------------------------------------
OPTIONS_COMMENT = re.compile(r"^<!-- options: (\S+) -->$")
COMMON_OPTIONS = {"-h", "--help", "--log-level", "--debug"}  # documented once, for `nablanet`


def parser_options() -> dict[str, set[str]]:
    """``{"nablanet": {...}, "train": {"--config", ...}, ...}``: every option string."""
    import argparse

    from nablanet.cli import build_parser

    parser = build_parser()
    out = {"nablanet": {s for a in parser._actions for s in a.option_strings}}
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                out[name] = {s for a in sub._actions for s in a.option_strings} - COMMON_OPTIONS
    return out


def documented_options(text: str) -> dict[str, set[str]]:
    """``{command: {option strings}}`` from the tables after ``<!-- options: COMMAND -->``."""
    out: dict[str, set[str]] = {}
    command = None
    for line in text.splitlines():
        match = OPTIONS_COMMENT.match(line.strip())
        if match:
            command = match.group(1)
            out.setdefault(command, set())
            continue
        if command is None:
            continue
        if not line.startswith("|"):
            if line.strip() and out[command]:
                command = None
            continue
        first = line.strip().strip("|").split("|")[0]
        out[command].update(re.findall(r"`(-{1,2}[A-Za-z][\w-]*)", first))
    return out


def test_cli_md_documents_every_command_and_option():
    documented = documented_options((DOCS / "cli.md").read_text(encoding="utf-8"))
    actual = parser_options()
    assert set(documented) == set(actual), (
        f"commands: documented {sorted(documented)}, the parser has {sorted(actual)}"
    )
    problems = []
    for command, options in actual.items():
        for option in sorted(options - documented[command]):
            problems.append(f"{command} {option}: not documented in docs/cli.md")
        for option in sorted(documented[command] - options):
            problems.append(f"{command} {option}: documented but not an option of the parser")
    assert not problems, "\n".join(problems)


def test_cli_md_has_a_section_per_command():
    text = (DOCS / "cli.md").read_text(encoding="utf-8")
    for command in parser_options():
        if command != "nablanet":
            assert f"## `nablanet {command}`" in text, f"docs/cli.md has no section for {command}"


# --- public classes: an example each, and a place in docs/api.md ------------------------------
PUBLIC_PACKAGES = ["nablanet", "nablanet.nn", "nablanet.data", "nablanet.pipeline"]


def public_classes() -> dict[str, type]:
    """``{"package.Name": class}`` for every class in the packages' ``__all__``."""
    found: dict[str, type] = {}
    for package in PUBLIC_PACKAGES:
        try:
            module = importlib.import_module(package)
        except ImportError:
            continue
        for name in getattr(module, "__all__", []):
            obj = getattr(module, name, None)
            if inspect.isclass(obj) and obj.__module__.startswith("nablanet"):
                found.setdefault(f"{obj.__module__}.{obj.__qualname__}", obj)
    return found


def test_public_classes_found():
    names = public_classes()
    assert "nablanet.nn.layers.dense.Dense" in names
    assert "nablanet.data.loader.DataLoader" in names


def test_every_public_name_is_in_the_api_reference():
    text = (DOCS / "api.md").read_text(encoding="utf-8")
    missing = sorted(
        name
        for package in PUBLIC_PACKAGES
        for name in getattr(_import_or_none(package), "__all__", [])
        if f"`{name}" not in text and not name.isupper()
    )
    assert not missing, "docs/api.md does not mention: " + ", ".join(missing)


def _import_or_none(name: str):
    try:
        return importlib.import_module(name)
    except ImportError:
        return None
