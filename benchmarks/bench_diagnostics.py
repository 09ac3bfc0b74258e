"""What ``nablanet.Diagnostics`` costs, relative to an epoch of training.

Two measurements. (1) The time spent inside the callback's hooks, divided by the epoch's time,
in the same run: robust on a loaded machine, since both are measured under the same load.
(2) The same model trained with and without the callback, alternating epochs (so that load
drift hits both alike): median CPU seconds per epoch of each and the difference in percent
(noisy where other processes share the cores). Two workloads: the 784-128-64-10 MLP of the other benchmarks on synthetic
MNIST-sized inputs, and the spiral toy data with a 2-64-64-3 MLP (tiny epochs: the worst case,
since the callback's work per epoch does not shrink with the data).

    python benchmarks/bench_diagnostics.py                      # both workloads
    python benchmarks/bench_diagnostics.py --epochs 10 --samples 20000
"""

from __future__ import annotations

import argparse
import itertools
import statistics
import time

import numpy as np

# nablanet before NumPy: it sets OpenBLAS's thread timeout (docs/performance.md)
import nablanet as nb
from nablanet.data import make_toy


def _mlp(sizes, seed=0):
    layers = []
    for i, (a, b) in enumerate(itertools.pairwise(sizes)):
        act = "softmax" if i == len(sizes) - 2 else "relu"
        layers.append(nb.Dense(a, b, activation=act, seed=seed + i))
    model = nb.Sequential(layers)
    model.compile(loss="categorical_crossentropy", optimizer=nb.Adam(1e-3))
    return model


def workloads(samples: int):
    rng = np.random.default_rng(0)
    x = rng.random((samples, 784), dtype=np.float32)
    y = rng.integers(0, 10, samples)
    spiral = make_toy("spiral", n_samples=600, seed=0)
    return {
        f"mlp 784-128-64-10, {samples} samples, batch 64": ([784, 128, 64, 10], x, y, 64),
        "spiral 2-64-64-3, 600 samples, batch 32": ([2, 64, 64, 3], spiral.x, spiral.y, 32),
    }


class TimedDiagnostics(nb.Diagnostics):
    """Diagnostics that add up the seconds spent in their own hooks."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.hook_seconds = 0.0

    def _timed(name):
        def hook(self, *args, **kwargs):
            t0 = time.perf_counter()
            getattr(nb.Diagnostics, name)(self, *args, **kwargs)
            self.hook_seconds += time.perf_counter() - t0

        return hook

    on_epoch_begin = _timed("on_epoch_begin")
    on_batch_end = _timed("on_batch_end")
    on_epoch_end = _timed("on_epoch_end")


def measure(sizes, x, y, batch_size, epochs: int) -> dict[str, list[float]]:
    """CPU seconds per epoch without and with the callback (epochs alternate), and the share
    of each epoch's wall time spent in the callback's hooks."""
    plain, diag = _mlp(sizes), _mlp(sizes)
    cb = TimedDiagnostics(log_warnings=False)
    trainers = {
        "without": nb.Trainer(plain, batch_size=batch_size, verbose=0, seed=0),
        "with": nb.Trainer(diag, batch_size=batch_size, verbose=0, seed=0, callbacks=[cb]),
    }
    times: dict[str, list[float]] = {"without": [], "with": [], "hook_share": []}
    for epoch in range(epochs + 1):
        for name, trainer in trainers.items():
            before = cb.hook_seconds
            c0, t0 = time.process_time(), time.perf_counter()
            trainer.fit(x, y, epochs=epoch + 1, initial_epoch=epoch)
            cpu, wall = time.process_time() - c0, time.perf_counter() - t0
            if epoch:  # the first epoch warms up (allocations, the probe)
                times[name].append(cpu)
                if name == "with":
                    times["hook_share"].append((cb.hook_seconds - before) / wall)
    return times


def main(argv=None) -> dict[str, dict[str, float]]:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--epochs", type=int, default=8)
    ap.add_argument("--samples", type=int, default=10000)
    args = ap.parse_args(argv)
    results = {}
    for label, (sizes, x, y, bs) in workloads(args.samples).items():
        t = measure(sizes, x, y, bs, args.epochs)
        without, with_ = statistics.median(t["without"]), statistics.median(t["with"])
        overhead = (with_ - without) / without * 100
        share = statistics.median(t["hook_share"]) * 100
        results[label] = {
            "without_cpu_s": without,
            "with_cpu_s": with_,
            "overhead_percent": overhead,
            "hook_percent": share,
        }
        print(
            f"{label}: Diagnostics(every=1) hooks {share:.1f} % of the epoch; CPU per epoch "
            f"{without * 1e3:.1f} ms without, {with_ * 1e3:.1f} ms with ({overhead:+.1f} %)"
        )
    return results


if __name__ == "__main__":
    main()
