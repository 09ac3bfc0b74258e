"""Small helpers shared by the example scripts: the command line and figure saving.

Everything that teaches something lives in the examples themselves; this module only holds the
boring parts (``--small``/``--quick``, ``--output DIR``, ``--seed``, saving a figure headlessly).
"""

from __future__ import annotations

import argparse
from pathlib import Path

DEFAULT_OUTPUT = Path("runs") / "examples"


def parser(description: str) -> argparse.ArgumentParser:
    """An argument parser with the options every example shares."""
    p = argparse.ArgumentParser(description=description)
    p.add_argument(
        "--small",
        "--quick",
        dest="small",
        action="store_true",
        help="a few seconds' run on less data and fewer epochs (used by the test suite)",
    )
    p.add_argument(
        "--output",
        type=Path,
        default=DEFAULT_OUTPUT,
        metavar="DIR",
        help=f"folder for the figure (default: {DEFAULT_OUTPUT})",
    )
    p.add_argument("--seed", type=int, default=0, help="random seed (default: 0)")
    return p


def pyplot():
    """``matplotlib.pyplot`` with the non-interactive Agg backend (works with no display)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def save(fig, output: Path, name: str) -> Path:
    """Save ``fig`` as ``output/name`` (folders created) and print where it went."""
    output.mkdir(parents=True, exist_ok=True)
    path = output / name
    fig.savefig(path, dpi=120, bbox_inches="tight")
    print(f"figure saved to {path}")
    return path
