"""One training step of nablanet against the hand-tuned NumPy loop, batch by batch.

Times ``zero_grad`` + ``train_step`` + ``optimizer.step`` of the benchmark MLP against
``TunedNumpyMLP._step`` on the same batch, alternating blocks of steps, and prints the minimum
and median milliseconds per step and their ratio per batch size. It isolates the framework's
own cost (layer calls, fresh gradient arrays, the fused loss) from shuffling, epochs and load
drift, and is the measurement behind docs/performance.md's per-step numbers.

    python benchmarks/bench_step.py                 # batch sizes 32, 128, 512
    python benchmarks/bench_step.py --batch-sizes 64 --blocks 30
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

# nablanet before NumPy: it sets OpenBLAS's thread timeout, read when NumPy loads
# (src/nablanet/__init__.py, docs/performance.md); the other frameworks run with it too.
import nablanet  # noqa: F401

# isort: split
from common import load_fashion_mnist
from frameworks import NablanetRunner, NumpyRunner


def measure(batch_sizes, blocks=15, steps=10, samples=4096, data=None):
    """``{batch: {"nablanet": [ms per step per block], "numpy": [...]}}``."""
    x, y = data if data is not None else load_fashion_mnist(None, samples)[:2]
    nb_runner, np_runner = NablanetRunner(), NumpyRunner()
    model, opt, tuned = nb_runner.model, nb_runner.model.optimizer, np_runner.model
    nb_runner.train_epoch(x, y, max(batch_sizes))  # first-call costs are not timed
    np_runner.train_epoch(x, y, max(batch_sizes))

    def nb_steps(xb, yb):
        for _ in range(steps):
            opt.zero_grad()
            model.train_step(xb, yb)
            opt.step()

    def np_steps(xb, yb):
        for _ in range(steps):
            tuned._step(xb, yb)

    out = {}
    for bs in batch_sizes:
        tuned._buffers(bs)
        xb, yb = x[:bs].copy(), y[:bs].copy()
        times = {"nablanet": [], "numpy": []}
        for _ in range(blocks):
            for name, fn in (("nablanet", nb_steps), ("numpy", np_steps)):
                t0 = time.perf_counter()
                fn(xb, yb)
                times[name].append((time.perf_counter() - t0) / steps * 1e3)
        out[bs] = times
    return out


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--batch-sizes", default="32,128,512")
    p.add_argument("--blocks", type=int, default=15)
    p.add_argument("--steps", type=int, default=10, help="steps per timed block")
    args = p.parse_args(argv)
    res = measure([int(b) for b in args.batch_sizes.split(",")], args.blocks, args.steps)
    print("| batch | nablanet ms/step (min, median) | tuned NumPy ms/step | ratio of minima |")
    print("| --- | --- | --- | --- |")
    for bs, t in res.items():
        a, b = t["nablanet"], t["numpy"]
        print(
            f"| {bs} | {min(a):.3f}, {statistics.median(a):.3f} | "
            f"{min(b):.3f}, {statistics.median(b):.3f} | {min(a) / min(b):.2f} |"
        )
    return res


if __name__ == "__main__":
    main()
