"""Every docstring example in ``nablanet.nn`` runs and prints what it claims.

Modules are found by walking the package, so new modules are covered automatically.
"""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import nablanet.nn

MODULES = sorted(
    info.name for info in pkgutil.walk_packages(nablanet.nn.__path__, prefix="nablanet.nn.")
)


def test_modules_found():
    assert "nablanet.nn.layers.dense" in MODULES
    assert "nablanet.nn.optimizers" in MODULES


@pytest.mark.parametrize("name", ["nablanet.nn", *MODULES])
def test_docstring_examples(name, capsys):
    module = importlib.import_module(name)
    runner_out = []
    finder = doctest.DocTestFinder()
    runner = doctest.DocTestRunner(
        optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE, verbose=False
    )
    for test in finder.find(module, name):
        runner.run(test, out=runner_out.append)
    result = runner.summarize(verbose=False)
    capsys.readouterr()
    assert result.failed == 0, "".join(runner_out)
