"""``make demo`` (examples/demo.py) runs the whole pipeline, from a fresh working directory."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_demo_runs_end_to_end(tmp_path):
    env = {**os.environ, "MPLBACKEND": "Agg", "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}
    proc = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "demo.py"), "--small", "--output", "out"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    for n in (1, 2, 3, 4):
        assert f"=== {n}/4 " in proc.stdout
    (run,) = [p for p in (tmp_path / "out").iterdir() if p.is_dir() and not p.is_symlink()]
    assert (tmp_path / "out" / "latest").resolve() == run.resolve()
    assert (run / "model.npz").is_file() and (run / "metrics.json").is_file()
    assert (run / "plots" / "loss.png").is_file()  # written by the visualize step
    predictions = [line for line in proc.stdout.splitlines() if line[:2] in ("0,", "5,")]
    assert predictions[0].split(",")[1] == "malignant"
    assert predictions[1].split(",")[1] == "benign"
    # it ends with the next commands to try, and where the `nablanet` command is
    tail = proc.stdout[proc.stdout.index("=== Next, try it yourself") :]
    assert f"nablanet evaluate --model {Path('out') / run.name}" in tail
    assert f"nablanet predict --model {Path('out') / 'latest'} --input" in tail
    assert "nablanet ui" in tail
    if sys.prefix != sys.base_prefix:  # a virtual environment, not active in the child
        assert "/bin/activate" in tail and "/bin/nablanet" in tail
