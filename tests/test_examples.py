"""Every example script runs with its ``--small`` flag and saves its figure, so none can rot.

Each script runs in a subprocess from a temporary working directory, exactly as a user would
start it (``python examples/<name>.py --small --output DIR``).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"

# script -> figure files it must write
# what the (small) run must print: the examples must still *work*, not only run
EXPECTED_OUTPUT = {
    "xor.py": "accuracy 1.00",
    # the toy dataset of the registry, and the Diagnostics callback's per-layer gradient norms
    "spiral.py": "0.dense: gradient norm",
    # an empty data folder: MNIST is not there, so the script must fall back to the bundled
    # digits (and never try the network)
    "mnist.py": "Falling back to scikit-learn's 8x8 digits",
    "breast_cancer.py": "test accuracy",
    # the book's progress lines, and the model loaded back from its .npz file
    "nnfs_spiral.py": "validation, acc: ",
}
# extra arguments per script
EXTRA_ARGS = {"mnist.py": ["--data-dir", "{tmp}/empty-data-dir"]}
FIGURES = {
    "breast_cancer.py": ["breast_cancer.png"],
    "mnist.py": ["mnist.png"],
    "xor.py": ["xor.png"],
    "spiral.py": ["spiral.png"],
    "sine_regression.py": ["sine_regression.png"],
    "nnfs_spiral.py": ["nnfs_spiral.png"],
}


def run_example(script: str, tmp_path: Path, *extra: str) -> subprocess.CompletedProcess:
    # one BLAS thread: small matrix products are fastest single-threaded, and parallel test runs
    # on a small machine do not oversubscribe it
    env = {
        **os.environ,
        "MPLBACKEND": "Agg",
        "OMP_NUM_THREADS": "1",
        "OPENBLAS_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
    }
    return subprocess.run(
        [sys.executable, str(EXAMPLES / script), "--small", "--output", str(tmp_path), *extra],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize("script", sorted(FIGURES))
def test_example_runs_and_saves_its_figure(script, tmp_path):
    extra = [a.format(tmp=tmp_path) for a in EXTRA_ARGS.get(script, [])]
    result = run_example(script, tmp_path, *extra)
    assert result.returncode == 0, f"{script} failed:\n{result.stdout}\n{result.stderr}"
    for name in FIGURES[script]:
        figure = tmp_path / name
        assert figure.is_file(), f"{script} did not write {name}; output:\n{result.stdout}"
        assert figure.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", f"{name} is not a PNG"
        assert figure.stat().st_size > 10_000, f"{name} looks empty"
        # the script says where its figure is (`make xor` and the others rely on it)
        assert f"figure saved to {figure}" in result.stdout, result.stdout
    if script in EXPECTED_OUTPUT:
        assert EXPECTED_OUTPUT[script] in result.stdout, result.stdout


def test_every_example_script_is_tested():
    scripts = {p.name for p in EXAMPLES.glob("*.py") if not p.name.startswith("_")}
    scripts.discard("demo.py")  # the pipeline's demo, tested with the pipeline
    assert scripts == set(FIGURES), f"untested or missing examples: {scripts ^ set(FIGURES)}"


def test_examples_have_small_and_output_options():
    for script in FIGURES:
        result = subprocess.run(
            [sys.executable, str(EXAMPLES / script), "--help"],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert result.returncode == 0, result.stderr
        for option in ("--small", "--quick", "--output"):
            assert option in result.stdout, f"{script} --help does not list {option}"
