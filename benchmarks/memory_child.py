"""Peak memory of one framework training the benchmark MLP, in a process of its own.

``python benchmarks/memory_child.py FRAMEWORK [--batch-size B] [--samples N] [--epochs E]
[--data X.npy Y.npy]`` loads Fashion-MNIST as the speed benchmark does (``--data``: the float32
images and int64 labels saved by ``run.py``, read with ``np.load``, so that the data loader's own
peak does not hide the training's), trains ``E`` epochs and prints one JSON line: the resident set
after loading the data and building the model (``baseline_mb``) and the process's peak resident
set (``peak_mb``, ``VmHWM``; see :func:`peak_mb`). ``run.py`` starts one per framework.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
from pathlib import Path

# nablanet before NumPy: it sets OpenBLAS's thread timeout, read when NumPy loads
# (src/nablanet/__init__.py, docs/performance.md); the other frameworks run with it too.
import nablanet  # noqa: F401

# isort: split
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import load_fashion_mnist
from frameworks import RUNNERS


def _status_mb(key: str) -> float | None:
    """A ``/proc/self/status`` memory line (``VmRSS``, ``VmHWM``) in MiB; None off Linux."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


def rss_mb() -> float:
    """The current resident set size in MiB (Linux), else the peak so far."""
    rss = _status_mb("VmRSS")
    return peak_mb() if rss is None else rss


def peak_mb() -> float:
    """This process's peak resident set in MiB.

    On Linux ``VmHWM`` of ``/proc/self/status``: ``getrusage().ru_maxrss`` is carried over
    through ``execve`` from the parent (a child of a 900 MiB benchmark process reports at
    least 900 MiB whatever it does), while ``VmHWM`` belongs to the new address space.
    """
    hwm = _status_mb("VmHWM")
    if hwm is not None:
        return hwm
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("framework", choices=sorted(RUNNERS))
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--samples", type=int, default=None)
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--data", nargs=2, metavar=("X_NPY", "Y_NPY"), default=None)
    args = parser.parse_args(argv)
    if args.data:
        x, y = np.load(args.data[0]), np.load(args.data[1])
        if args.samples:
            x, y = x[: args.samples], y[: args.samples]
    else:
        x, y, _, _ = load_fashion_mnist(args.data_dir, args.samples)
    runner = RUNNERS[args.framework]()
    baseline = rss_mb()
    for _ in range(args.epochs):
        runner.train_epoch(x, y, args.batch_size)
    out = {
        "framework": args.framework,
        "batch_size": args.batch_size,
        "samples": len(x),
        "baseline_mb": round(baseline, 1),
        "peak_mb": round(peak_mb(), 1),
    }
    print(json.dumps(out))
    return out


if __name__ == "__main__":
    main()
