"""Every docstring example in ``nablanet.data`` runs and prints what it claims."""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import nablanet.data

MODULES = sorted(
    info.name for info in pkgutil.walk_packages(nablanet.data.__path__, prefix="nablanet.data.")
)


def test_modules_found():
    assert {"nablanet.data.idx", "nablanet.data.preprocessing.scalers"} <= set(MODULES)


@pytest.mark.parametrize("name", ["nablanet.data", *MODULES])
def test_docstring_examples(name, capsys):
    module = importlib.import_module(name)
    out: list[str] = []
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    for test in doctest.DocTestFinder().find(module, name):
        runner.run(test, out=out.append)
    result = runner.summarize(verbose=False)
    capsys.readouterr()
    assert result.attempted > 0, f"{name} has no docstring example"
    assert result.failed == 0, "".join(out)


def test_data_does_not_import_heavy_or_upper_layers():
    """Importing nablanet.data pulls in neither the pipeline's nor the UI's dependencies, and
    not scikit-learn (imported only if its bundled files cannot be read directly)."""
    import subprocess
    import sys

    code = (
        "import sys, nablanet.data; "
        "bad = [m for m in ('yaml', 'matplotlib', 'gradio', 'sklearn', 'PIL', 'tqdm', "
        "'nablanet.pipeline') if m in sys.modules]; print(bad)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
