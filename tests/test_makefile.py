"""The Makefile's targets, read with ``make -n`` (print the commands, run none) in a copy of the
repository's top level that has no ``.venv`` yet: what a fresh clone would run."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")


def dry_run(target: str, tmp_path: Path) -> str:
    for name in ("Makefile", "pyproject.toml"):
        shutil.copy(ROOT / name, tmp_path / name)
    proc = subprocess.run(
        ["make", "-n", target], cwd=tmp_path, capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def test_demo_installs_the_all_extras_without_the_test_tools(tmp_path):
    out = dry_run("demo", tmp_path)
    assert '-e ".[all]"' in out
    assert "dev" not in out
    assert "examples/demo.py" in out


def test_test_installs_the_dev_extras(tmp_path):
    out = dry_run("test", tmp_path)
    assert '-e ".[all,dev]"' in out
    assert "pytest" in out


def test_install_is_the_full_development_install(tmp_path):
    # .ci/run calls `make install` then `make test`
    assert '-e ".[all,dev]"' in dry_run("install", tmp_path)


def test_notebooks_installs_and_opens_jupyterlab(tmp_path):
    out = dry_run("notebooks", tmp_path)
    assert "notebooks]" in out and "jupyter lab notebooks/" in out
    assert "dev" not in out


@pytest.mark.parametrize(
    ("target", "script"),
    [("xor", "xor.py"), ("spiral", "spiral.py"), ("regression", "sine_regression.py"),
     ("mnist", "mnist.py")],
)  # fmt: skip
def test_course_targets_run_their_example(target, script, tmp_path):
    out = dry_run(target, tmp_path)
    assert f"examples/{script}" in out
    assert "dev" not in out


def test_the_notebooks_extra_exists():
    tomllib = pytest.importorskip("tomllib")
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"][
        "optional-dependencies"
    ]
    assert any(req.startswith("jupyterlab>=") for req in extras["notebooks"])
