"""Import directions: no circle among nablanet's modules, and ``nablanet.nn`` stays NumPy-only.

The module-level import graph is read from the sources with ``ast`` (nothing is imported):
an edge ``a -> b`` for every ``import``/``from ... import`` that runs when ``a`` is imported
(module level, class bodies, ``try``/``if`` blocks), but not inside functions and not under
``if TYPE_CHECKING:``. Importing ``pkg.mod`` also runs ``pkg/__init__.py``; that implicit edge is
left out (else every package importing its own submodules would be a circle).
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

import nablanet

ROOT = Path(nablanet.__file__).parent
PACKAGE = "nablanet"

# Allow-list of import circles still to break: sorted pairs of modules importing each other
# through a circle, e.g. ("nablanet.pipeline.build", "nablanet.pipeline.config"). Remove a pair
# once its circle is gone (test_known_circles_are_still_there fails on a stale entry). Empty
# since issue 13 broke the last ones (pipeline: specs <- config <- build).
KNOWN_CIRCLES: set[tuple[str, ...]] = set()


def _module_name(path: Path) -> str:
    parts = [PACKAGE, *path.relative_to(ROOT).with_suffix("").parts]
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


MODULES: dict[str, Path] = {_module_name(p): p for p in sorted(ROOT.rglob("*.py"))}


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(body: list[ast.stmt], in_functions: bool) -> Iterator[ast.Import | ast.ImportFrom]:
    """The import statements of ``body`` that run at import time (or, with ``in_functions``,
    also those inside functions)."""
    for node in body:
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            yield node
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            if in_functions:
                yield from _imports(node.body, in_functions)
        elif isinstance(node, ast.If) and _is_type_checking(node.test):
            yield from _imports(node.orelse, in_functions)
        else:
            for field in ("body", "orelse", "finalbody", "handlers", "cases"):
                for child in getattr(node, field, []) or []:
                    if isinstance(child, ast.stmt):
                        yield from _imports([child], in_functions)
                    elif hasattr(child, "body"):  # except handlers, match cases
                        yield from _imports(child.body, in_functions)


def _targets(module: str, node: ast.Import | ast.ImportFrom) -> Iterator[str]:
    """Full names of what ``node`` in ``module`` imports (modules where the name is one)."""
    if isinstance(node, ast.Import):
        for alias in node.names:
            yield alias.name
        return
    if node.level:
        is_package = MODULES[module].name == "__init__.py"
        base = module.split(".")
        base = base if is_package else base[:-1]
        base = base[: len(base) - (node.level - 1)]
        source = ".".join(base + ([node.module] if node.module else []))
    else:
        source = node.module or ""
    for alias in node.names:
        sub = f"{source}.{alias.name}"
        yield sub if sub in MODULES else source


def import_graph(in_functions: bool = False) -> dict[str, set[str]]:
    """``module -> {imported modules}`` (nablanet's own and foreign top-level names)."""
    graph: dict[str, set[str]] = {}
    for module, path in MODULES.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        edges = graph.setdefault(module, set())
        for node in _imports(tree.body, in_functions):
            for target in _targets(module, node):
                if target == "__future__":
                    continue
                if target.split(".")[0] == PACKAGE:
                    while target not in MODULES:  # an attribute imported as a name: its module
                        target = target.rsplit(".", 1)[0]
                    if target != module:
                        edges.add(target)
                else:
                    edges.add(target.split(".")[0])
    return graph


def circles(graph: dict[str, set[str]], within: str = PACKAGE) -> list[list[str]]:
    """The strongly connected components with more than one module among ``within``'s modules
    (Tarjan's algorithm), each sorted."""
    nodes = [m for m in graph if m == within or m.startswith(within + ".")]
    inside = set(nodes)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = [0]

    def visit(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v] & inside):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(max(limit, 10 * len(nodes)))
    try:
        for v in sorted(nodes):
            if v not in index:
                visit(v)
    finally:
        sys.setrecursionlimit(limit)
    return sorted(found)


def _circle_pairs(component: list[str], graph: dict[str, set[str]]) -> set[tuple[str, ...]]:
    """The circle as sorted pairs of modules importing each other through it (its edges)."""
    members = set(component)
    return {tuple(sorted((a, b))) for a in component for b in graph[a] & members}


# -- the checks --------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def lazy_graph() -> dict[str, set[str]]:
    return import_graph(in_functions=True)


def test_the_graph_sees_the_imports():
    graph = import_graph()
    assert "nablanet.nn.layers.base" in graph["nablanet.nn.layers.dense"]  # from .base import
    assert "nablanet.nn.initializers" in graph["nablanet.nn.layers.dense"]  # from .. import x
    assert "numpy" in graph["nablanet.nn.model"]
    # layers/base.py imports losses and plan under ``if TYPE_CHECKING:`` only
    assert not {"nablanet.nn.losses", "nablanet.nn.plan"} & graph["nablanet.nn.layers.base"]
    # the edges the direction checks below are about: specs <- config <- build
    assert "nablanet.pipeline.specs" in graph["nablanet.pipeline.config"]
    assert "nablanet.pipeline.config" in graph["nablanet.pipeline.build"]


def test_the_circle_finder_finds_circles():
    graph = {
        "nablanet.a": {"nablanet.b"},
        "nablanet.b": {"nablanet.c", "numpy"},
        "nablanet.c": {"nablanet.a"},
        "nablanet.d": {"nablanet.a"},
    }
    assert circles(graph) == [["nablanet.a", "nablanet.b", "nablanet.c"]]
    assert _circle_pairs(circles(graph)[0], graph) == {
        ("nablanet.a", "nablanet.b"),
        ("nablanet.b", "nablanet.c"),
        ("nablanet.a", "nablanet.c"),
    }


def test_no_import_circles():
    graph = import_graph()
    unexpected = []
    for component in circles(graph):
        pairs = _circle_pairs(component, graph)
        if not pairs <= KNOWN_CIRCLES:
            unexpected.append(f"{' <-> '.join(component)} (edges {sorted(pairs - KNOWN_CIRCLES)})")
    assert not unexpected, "import circles:\n" + "\n".join(unexpected)


def test_known_circles_are_still_there():
    """An allow-listed pair whose circle is gone must leave KNOWN_CIRCLES."""
    graph = import_graph()
    present = set().union(*(_circle_pairs(c, graph) for c in circles(graph)))
    assert KNOWN_CIRCLES <= present, f"stale KNOWN_CIRCLES entries: {KNOWN_CIRCLES - present}"


@pytest.mark.parametrize(
    "subpackage",
    ["nablanet.nn", "nablanet.data", "nablanet.pipeline", "nablanet.ui", "nablanet.compat"],
)
def test_no_circles_even_through_imports_inside_functions(subpackage, lazy_graph):
    """No subpackage has a circle hidden behind a lazy import either."""
    assert circles(lazy_graph, within=subpackage) == []


# (module, modules it must not import, lazily or not): the layers of docs/architecture.md
FORBIDDEN_IMPORTS = [
    # the config's schemas know neither the config nor the builders: specs <- config <- build
    ("nablanet.pipeline.specs", {"nablanet.pipeline.config", "nablanet.pipeline.build"}),
    ("nablanet.pipeline.config", {"nablanet.pipeline.build"}),
    # run directories are read without the training orchestration
    ("nablanet.pipeline.rundir", {"nablanet.pipeline.run", "nablanet.pipeline.finish"}),
    # the data layer knows nothing of the pipeline or the UI
    ("nablanet.data", {"nablanet.pipeline", "nablanet.ui"}),
    ("nablanet.nn", {"nablanet.data", "nablanet.pipeline", "nablanet.ui", "nablanet.compat"}),
    ("nablanet.pipeline", {"nablanet.ui"}),
]


def _within(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


def test_data_reads_only_the_safe_file_reader_of_nn(lazy_graph):
    """``nablanet.data`` uses one module of the library: the header-first ``.npy`` reader."""
    used = {
        target
        for module, targets in lazy_graph.items()
        if _within(module, "nablanet.data")
        for target in targets
        if _within(target, "nablanet.nn")
    }
    assert used <= {"nablanet.nn.npyfile"}, sorted(used)


@pytest.mark.parametrize(
    ("source", "forbidden"), FORBIDDEN_IMPORTS, ids=[s for s, _ in FORBIDDEN_IMPORTS]
)
def test_import_directions(source, forbidden, lazy_graph):
    graph = lazy_graph
    bad = sorted(
        f"{module} -> {target}"
        for module, targets in graph.items()
        if _within(module, source)
        for target in targets
        if any(_within(target, f) for f in forbidden)
    )
    assert not bad, f"imports against the layers' direction: {bad}"


# nn may read the version string from this dependency-free leaf module (the model files record it)
NN_MAY_IMPORT = {"numpy", "nablanet._version"}


def test_nn_imports_only_numpy_and_the_standard_library():
    graph = import_graph(in_functions=True)  # a lazy ``import yaml`` counts too
    stdlib = set(sys.stdlib_module_names)
    bad = {}
    for module, targets in graph.items():
        if module == "nablanet.nn" or module.startswith("nablanet.nn."):
            foreign = {
                t
                for t in targets
                if t not in stdlib
                and t not in NN_MAY_IMPORT
                and not (t == "nablanet.nn" or t.startswith("nablanet.nn."))
            }
            if foreign:
                bad[module] = sorted(foreign)
    assert not bad, f"nablanet.nn imports more than NumPy and the standard library: {bad}"


def test_the_nn_check_would_see_a_foreign_import(tmp_path, monkeypatch):
    """The two checks above see an ``import yaml`` in a function and a circle behind one."""
    src = tmp_path / "nablanet"
    (src / "nn").mkdir(parents=True)
    (src / "__init__.py").write_text("")
    (src / "nn" / "__init__.py").write_text("from . import a\n")
    (src / "nn" / "a.py").write_text(
        "import numpy\n\ndef f():\n    import yaml\n    from . import b\n"
    )
    (src / "nn" / "b.py").write_text("from .a import f\n")
    monkeypatch.setattr(sys.modules[__name__], "ROOT", src)
    monkeypatch.setattr(
        sys.modules[__name__], "MODULES", {_module_name(p): p for p in sorted(src.rglob("*.py"))}
    )
    lazy = import_graph(in_functions=True)
    assert lazy["nablanet.nn.a"] == {"numpy", "yaml", "nablanet.nn.b"}
    assert import_graph()["nablanet.nn.a"] == {"numpy"}
    assert circles(lazy, within="nablanet.nn") == [["nablanet.nn.a", "nablanet.nn.b"]]
    assert circles(import_graph(), within="nablanet.nn") == []
