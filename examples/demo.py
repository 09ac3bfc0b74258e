"""The pipeline end to end on breast cancer: train -> evaluate -> predict -> visualize.

This is what ``make demo`` runs. Every step is the ``nablanet`` command shown in its heading, run
in-process; the same commands work in a shell. No network is needed: the breast-cancer data is
bundled with scikit-learn.

    python examples/demo.py            # the full run (100 epochs with early stopping, seconds)
    python examples/demo.py --small    # 5 epochs, no plots (used by the test suite)
"""

from __future__ import annotations

import argparse
import csv
import os
import shlex
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CONFIG = ROOT / "configs" / "breast_cancer.yaml"


def step(number: int, title: str, argv: list[str]) -> None:
    from nablanet.cli import main

    print(f"\n=== {number}/4 {title}: nablanet {shlex.join(argv)}", flush=True)
    code = main(argv)
    if code != 0:
        print(f"demo: step {number} failed with exit code {code}", file=sys.stderr)
        sys.exit(code)


def write_samples(path: Path, per_class: int = 3) -> Path:
    """A few raw rows of each class (the 30 measurements, no label), as a user would bring them."""
    import numpy as np
    from sklearn.datasets import load_breast_cancer

    bunch = load_breast_cancer()
    rows = np.concatenate([np.flatnonzero(bunch.target == c)[-per_class:] for c in (0, 1)])
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(bunch.feature_names)
        for i in rows:
            writer.writerow(f"{v:g}" for v in bunch.data[i])
    truth = ", ".join(bunch.target_names[bunch.target[i]] for i in rows)
    print(f"(wrote {len(rows)} unlabelled samples to {path}; their true labels: {truth})")
    return path


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument(
        "--small",
        "--quick",
        dest="small",
        action="store_true",
        help="5 epochs and no plots: a few seconds (used by the test suite)",
    )
    p.add_argument(
        "--output",
        type=Path,
        default=Path("runs"),
        metavar="DIR",
        help="where the run directory is created (default: runs)",
    )
    args = p.parse_args(argv)

    from nablanet.pipeline import list_runs

    out = args.output
    overrides = ["--set", f"output_dir={out}"]
    if args.small:
        overrides += ["--set", "training.epochs=5", "--set", "evaluation.plots=false"]
    step(1, "train", ["train", "--config", str(CONFIG), *overrides, "--no-progress"])
    run = list_runs(out)[0].run_dir
    model = str(run / "model.npz")
    evaluate = ["evaluate", "--model", model] + (["--no-plots"] if args.small else [])
    step(2, "evaluate on the held-out test split", evaluate)
    samples = write_samples(out / "demo_samples.csv")
    step(3, "predict on raw inputs", ["predict", "--model", model, "--input", str(samples)])
    step(4, "plot the learning curves", ["visualize", "--history", str(run / "history.json")])
    print(
        f"\nEverything is in {run}/ (config.yaml, train.log, history.json, metrics.json, "
        "model.npz, checkpoints/, plots/)"
    )
    print(next_steps(run, samples))
    return 0


def _shown(path: Path) -> str:
    """``path`` relative to the working directory when it is below it (what a user types)."""
    try:
        # abspath, not resolve: runs/latest stays runs/latest, not the run it links to
        return str(Path(os.path.abspath(path)).relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def venv_hint() -> str:
    """How to reach the ``nablanet`` command of the environment running this script."""
    if sys.prefix == sys.base_prefix:  # not a virtual environment: pip put it on the PATH
        return "The commands below are the `nablanet` command this Python installed."
    bin_dir = Path(sys.prefix) / ("Scripts" if os.name == "nt" else "bin")
    on_path = os.environ.get("PATH", "").split(os.pathsep)
    if any(p and Path(p).resolve() == bin_dir.resolve() for p in on_path):
        return "The commands below are on your PATH (the virtual environment is active)."
    venv = _shown(Path(sys.prefix))
    if os.name == "nt":
        return f"The commands are in {venv}: first run {venv}\\Scripts\\activate."
    return (
        f"The commands are in {venv}/: first `source {venv}/bin/activate` "
        f"(or type {venv}/bin/nablanet instead of nablanet)."
    )


def next_steps(run: Path, samples: Path) -> str:
    """The commands to try after the demo (printed at its end)."""
    run_dir, samples_csv = _shown(run), _shown(samples)
    latest = _shown(run.parent / "latest")
    lines = [
        "",
        "=== Next, try it yourself",
        venv_hint(),
        f"  nablanet evaluate --model {run_dir}  # a run directory stands for its model.npz",
        f"  nablanet predict --model {latest} --input {samples_csv}  # {latest}: the newest run",
        "  nablanet train --config configs/breast_cancer.yaml --set training.epochs=20",
        "  nablanet train --config configs/diabetes.yaml  # a regression",
        "  nablanet ui  # the web app, on http://127.0.0.1:7860",
        "  nablanet --help  # every command (docs/cli.md)",
        "From the repository: make xor, make spiral, make regression, make mnist (the course "
        "examples), make notebooks (JupyterLab on the course notebooks).",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
