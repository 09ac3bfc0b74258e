"""The tune benchmarks stay runnable (tiny sizes; no timing is checked)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
pytest.importorskip("optuna")


def run(script: str, *args: str) -> str:
    env_path = str(ROOT / "src")
    proc = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / script), *args],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "PYTHONPATH": env_path},
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


@pytest.mark.slow
def test_bench_tune_runs():
    out = run("bench_tune.py", "--trials", "2", "--epochs", "1")
    assert "| plain train |" in out and "| tune, default (SQLite) |" in out


@pytest.mark.slow
def test_bench_tune_storage_runs_and_every_trial_arrives_once():
    out = run("bench_tune_storage.py", "--trials", "3", "--workers", "2", "--sleep", "0.01")
    rows = [line for line in out.splitlines() if line.startswith(("| journal", "| sqlite"))]
    assert len(rows) == 2
    for row in rows:
        cells = [c.strip() for c in row.strip("|").split("|")]
        assert cells[2] == "6/6" and cells[3] == "yes" and cells[5] == "0", row
