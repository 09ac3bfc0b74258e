"""The package ``nablanet.data``: every module shows an example, and importing it stays light.

The examples themselves run as tests of their own (``--doctest-modules`` over ``src/nablanet``).
"""

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
def test_every_module_has_a_docstring_example(name):
    module = importlib.import_module(name)
    examples = sum(len(t.examples) for t in doctest.DocTestFinder().find(module, name))
    assert examples > 0, f"{name} has no docstring example"


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
