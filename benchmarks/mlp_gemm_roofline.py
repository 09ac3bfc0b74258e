"""How close to the GEMM roofline can a batch-32 MLP epoch get? The matrix products alone.

The roofline fraction of ``run.py`` is ``6 x parameters x samples`` FLOPs over (the rate of one
large 2048^3 float32 GEMM x epoch time). At batch 32 the products are small (32 x 784 by
784 x 256 and smaller), and BLAS does not run them at its large-GEMM rate. This script times,
in alternating rounds with nablanet's ``fit`` epoch, a loop that does *only* the eight matrix
products of every step of the epoch (forward 3, weight gradients 3, input gradients 2, into
preallocated outputs, nothing else): the fraction that loop reaches is an upper bound for any
NumPy framework's epoch at that batch size.

    python benchmarks/mlp_gemm_roofline.py [--batch-size 32] [--samples 60000] [--rounds 5]
"""

from __future__ import annotations

import argparse
import itertools
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import nablanet  # noqa: F401  (before NumPy: OpenBLAS's thread timeout)

# isort: split
import numpy as np
from common import SIZES, gemm_gflops, n_params
from frameworks import NablanetRunner


def gemm_only_epoch(n: int, batch_size: int, sizes=SIZES) -> float:
    """Seconds for the matrix products of an epoch of ``n`` samples, and nothing else."""
    rng = np.random.default_rng(0)
    f32 = np.float32
    w = [rng.random((a, b), dtype=f32) for a, b in itertools.pairwise(sizes)]
    x = rng.random((batch_size, sizes[0]), dtype=f32)
    acts = [x] + [np.empty((batch_size, b), f32) for b in sizes[1:]]
    grads = [rng.random((batch_size, b), dtype=f32) for b in sizes[1:]]
    dw = [np.empty_like(m) for m in w]
    dx = [np.empty((batch_size, a), f32) for a in sizes[1:-1]]
    t0 = time.perf_counter()
    for _ in range(-(-n // batch_size)):
        for i, m in enumerate(w):
            np.matmul(acts[i], m, out=acts[i + 1])
        for i in reversed(range(len(w))):
            np.matmul(acts[i].T, grads[i], out=dw[i])
            if i > 0:
                np.matmul(grads[i], w[i].T, out=dx[i - 1])
    return time.perf_counter() - t0


def main(argv=None) -> dict:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--samples", type=int, default=60_000)
    p.add_argument("--rounds", type=int, default=5)
    args = p.parse_args(argv)
    rng = np.random.default_rng(0)
    x = rng.random((args.samples, SIZES[0]), dtype=np.float32)
    y = rng.integers(0, SIZES[-1], args.samples)
    runner = NablanetRunner()
    runner.train_epoch(x[:1024], y[:1024], args.batch_size)  # warm-up
    flops = 6.0 * n_params() * args.samples
    rows = {"gemm rate": [], "gemms only": [], "nablanet fit": []}
    for r in range(args.rounds):
        order = ["gemms only", "nablanet fit"] if r % 2 == 0 else ["nablanet fit", "gemms only"]
        rows["gemm rate"].append(gemm_gflops())
        for name in order:
            if name == "gemms only":
                rows[name].append(gemm_only_epoch(args.samples, args.batch_size))
            else:
                t0 = time.perf_counter()
                runner.train_epoch(x, y, args.batch_size)
                rows[name].append(time.perf_counter() - t0)
    rate = statistics.median(rows["gemm rate"])
    out = {"gemm_gflops": rate}
    print(
        f"batch {args.batch_size}, {args.samples} samples, {args.rounds} rounds; large-GEMM "
        f"rate {rate:.0f} GFLOP/s; load average {' '.join(f'{v:.1f}' for v in os.getloadavg())}"
    )
    for name in ("gemms only", "nablanet fit"):
        fractions = [flops / (g * 1e9 * t) for g, t in zip(rows["gemm rate"], rows[name])]
        out[name] = statistics.median(fractions)
        print(
            f"  {name:<13} {statistics.median(rows[name]):6.2f} s per epoch, "
            f"{statistics.median(fractions):.0%} of the roofline (rounds: "
            f"{', '.join(f'{f:.0%}' for f in fractions)})"
        )
    return out


if __name__ == "__main__":
    main()
