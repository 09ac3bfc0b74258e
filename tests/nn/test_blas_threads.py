"""Importing nablanet sets OpenBLAS's thread timeout, unless NumPy came first or the user set it."""

import os
import subprocess
import sys

import pytest


def _timeout_after(code: str, env_value: str | None) -> str:
    env = {k: v for k, v in os.environ.items() if k != "OPENBLAS_THREAD_TIMEOUT"}
    if env_value is not None:
        env["OPENBLAS_THREAD_TIMEOUT"] = env_value
    code += "; import os; print(os.environ.get('OPENBLAS_THREAD_TIMEOUT', 'unset'))"
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    return out.stdout.strip()


@pytest.mark.parametrize(
    "code, env_value, expected",
    [
        ("import nablanet", None, "16"),  # set before NumPy loads its BLAS
        ("import nablanet", "20", "20"),  # the user's value is kept
        ("import numpy; import nablanet", None, "unset"),  # too late: not pretended
    ],
)
def test_openblas_thread_timeout(code, env_value, expected):
    assert _timeout_after(code, env_value) == expected
