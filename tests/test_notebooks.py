"""The course notebooks run top to bottom on small data, and are committed executed.

Each notebook is executed with nbclient in a fresh ``python3`` kernel running this interpreter
(its folder goes first on ``PATH``), with ``NABLANET_SMALL=1``. The notebooks are generated from
``notebooks/src/*.py`` by ``notebooks/build.py --execute``; a test checks their cells are up to
date, another that the committed outputs are there (a student reads them before running
anything), small, and free of this machine's paths.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
EXPECTED = [
    "01_from_neuron_to_mlp.ipynb",
    "02_optimizers_regularization_initialization.ipynb",
    "03_pipeline_on_mnist.ipynb",
]
# one BLAS thread: these small matrix products are fastest single-threaded, and test runs on a
# shared 2-core machine do not oversubscribe it
ONE_THREAD = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


def load_builder():
    spec = importlib.util.spec_from_file_location("notebook_build", NOTEBOOKS / "build.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def notebooks() -> list[Path]:
    return sorted(NOTEBOOKS.glob("*.ipynb"))


def test_the_notebooks_exist():
    assert [p.name for p in notebooks()] == EXPECTED


def test_notebooks_are_built_from_their_sources():
    builder = load_builder()
    targets = builder.targets()
    assert sorted(p.name for p in targets.values()) == EXPECTED
    for source, notebook in targets.items():
        assert builder.cells_text(notebook) == builder.render(source), (
            f"{notebook.name} is out of date with {source.name}: run "
            "python notebooks/build.py --execute"
        )


# the whole notebook, its figures included (palette PNGs, notebooks/build.py)
MAX_NOTEBOOK_BYTES = 1_500_000


@pytest.mark.parametrize("path", notebooks(), ids=lambda p: p.name)
def test_notebook_is_committed_executed(path):
    nb = nbformat.read(path, as_version=4)
    code = [cell for cell in nb.cells if cell.cell_type == "code"]
    # one run top to bottom, in order, every cell
    assert [cell.execution_count for cell in code] == list(range(1, len(code) + 1)), (
        f"{path.name}: not executed top to bottom: run python notebooks/build.py --execute"
    )
    for i, cell in enumerate(code):
        kinds = [o.get("output_type") for o in cell.outputs]
        assert "error" not in kinds, f"{path.name}: code cell {i} holds an error"
        assert "execution" not in cell.metadata, f"{path.name}: code cell {i} records timings"
        if "plt.show()" in cell.source:
            assert any("image/png" in o.get("data", {}) for o in cell.outputs), (
                f"{path.name}: code cell {i} shows a figure but holds none"
            )
        if "print(" in cell.source:
            assert any(o.get("output_type") == "stream" for o in cell.outputs), (
                f"{path.name}: code cell {i} prints but holds no output"
            )
    assert path.stat().st_size < MAX_NOTEBOOK_BYTES, f"{path.name}: outputs too large"


@pytest.mark.parametrize("path", notebooks(), ids=lambda p: p.name)
def test_notebook_outputs_hold_no_machine_paths(path):
    nb = nbformat.read(path, as_version=4)
    texts = []
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            texts.append(output.get("text", ""))
            texts += [v for k, v in output.get("data", {}).items() if k.startswith("text/")]
    text = "\n".join(texts)
    for marker in ("/tmp/", "/home/", "/root/", "/work/", "nablanet-notebook-", "/Users/"):
        assert marker not in text, f"{path.name}: an output names a path of this machine ({marker})"


@pytest.mark.parametrize("path", notebooks(), ids=lambda p: p.name)
def test_notebook_runs(path, tmp_path, monkeypatch):
    # the kernel spec runs "python": make it this interpreter (the project's virtual environment)
    bin_dir = str(Path(sys.executable).parent)
    monkeypatch.setenv("PATH", bin_dir + os.pathsep + os.environ.get("PATH", ""))
    monkeypatch.setenv("NABLANET_SMALL", "1")
    # an empty data cache: notebook 3 must fall back to the bundled digits, never download
    monkeypatch.setenv("NABLANET_DATA", str(tmp_path / "empty-data-cache"))
    for key, value in ONE_THREAD.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("PYDEVD_DISABLE_FILE_VALIDATION", "1")
    nb = nbformat.read(path, as_version=4)
    client = nbclient.NotebookClient(
        nb,
        timeout=300,
        kernel_name="python3",
        resources={"metadata": {"path": str(tmp_path)}},  # the kernel's working directory
    )
    try:
        client.execute()
    except nbclient.exceptions.CellExecutionError as e:
        pytest.fail(f"{path.name} failed:\n{e}")
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            assert output.get("output_type") != "error", f"{path.name}: {output}"
