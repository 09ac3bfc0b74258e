"""Shared pieces of the benchmarks: data, the GEMM rate, the machine, statistics.

The benchmarks use Fashion-MNIST from the data package (``nablanet.data.load_dataset``), flattened
to ``(n, 784)`` float32 in [0, 1] with int64 labels, identical for every framework. The data
directory is ``--data-dir``, else ``$NABLANET_DATA``, else the project's development mirror
``../shared/datasets`` next to the repository when it exists, else the download cache.
"""

from __future__ import annotations

import itertools
import os
import platform
import statistics
import subprocess
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
DEV_MIRROR = REPO.parent / "shared" / "datasets"

#: the MLP of issue #6
SIZES = (784, 256, 128, 10)


def n_params(sizes=SIZES) -> int:
    return sum(a * b + b for a, b in itertools.pairwise(sizes))


def resolve_data_dir(data_dir: str | None) -> str | None:
    if data_dir:
        return data_dir
    if os.environ.get("NABLANET_DATA"):
        return None  # the data package reads it
    if DEV_MIRROR.is_dir():
        return str(DEV_MIRROR)
    return None


def load_fashion_mnist(data_dir: str | None = None, samples: int | None = None):
    """``(x_train, y_train, x_test, y_test)``: float32 ``(n, 784)`` in [0, 1], int64 labels."""
    from nablanet.data import load_dataset

    ds = load_dataset("fashion_mnist", data_dir=resolve_data_dir(data_dir), progress=False)

    def flat(x):
        out = x.reshape(len(x), -1).astype(np.float32)
        out *= np.float32(1.0 / 255.0)
        return out

    x, y = flat(ds.x), ds.y.astype(np.int64)
    if samples is not None and samples < len(x):
        x, y = x[:samples], y[:samples]
    return x, y, flat(ds.x_test), ds.y_test.astype(np.int64)


def gemm_gflops(n: int = 2048, repeats: int = 3) -> float:
    """Best float32 ``n x n`` matrix-product rate of NumPy's BLAS, in GFLOP/s."""
    rng = np.random.default_rng(0)
    a = rng.random((n, n), dtype=np.float32)
    b = rng.random((n, n), dtype=np.float32)
    out = np.empty((n, n), dtype=np.float32)
    np.matmul(a, b, out=out)
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        np.matmul(a, b, out=out)
        best = min(best, time.perf_counter() - t0)
    return 2.0 * n**3 / best / 1e9


def blas_info() -> str:
    """NumPy's BLAS and its thread count (via threadpoolctl, installed with scikit-learn)."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return ""
    parts = [
        f"{d.get('internal_api')} {d.get('version')} ({d.get('num_threads')} threads, "
        f"{d.get('architecture')})"
        for d in threadpool_info()
        if d.get("user_api") == "blas"
    ]
    return "; ".join(dict.fromkeys(parts))


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine() -> dict:
    """What the numbers were measured on."""
    info = {
        "cpu": cpu_model(),
        "cores": len(os.sched_getaffinity(0))
        if hasattr(os, "sched_getaffinity")
        else os.cpu_count(),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "blas": blas_info(),
        "platform": platform.platform(),
    }
    try:
        import sklearn

        info["scikit-learn"] = sklearn.__version__
    except ImportError:
        pass
    try:
        info["git"] = subprocess.run(
            ["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            check=False,
        ).stdout.strip()
    except OSError:
        pass
    return info


def load_average() -> str:
    try:
        return " ".join(f"{v:.2f}" for v in os.getloadavg())
    except OSError:  # pragma: no cover
        return "?"


def summary(values: list[float]) -> dict:
    """Median, min, max of a list of measurements."""
    return {
        "median": statistics.median(values),
        "min": min(values),
        "max": max(values),
        "n": len(values),
    }
