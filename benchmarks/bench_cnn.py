"""CNN training speed: nablanet against PyTorch on the CPU, same network, same data.

The network of issue #7 on 28x28x1 images, batch 128, Adam, softmax cross-entropy::

    conv3x3 32 (same, relu) - maxpool 2 - conv3x3 64 (same, relu) - maxpool 2 - flatten
    - dense 128 (relu) - dense 10 (softmax)

Both frameworks train on the same synthetic MNIST-shaped data (uniform pixels in [0, 1) with a
quarter set to zero, random labels: speed does not depend on the values) in one process, in
alternating rounds (nablanet first in odd rounds, PyTorch first in even ones, so that neither
always runs on a warmer or cooler machine). Each round trains each framework on ``--samples``
images (default 12,800 = 100 steps; ``--samples 60000`` for whole MNIST epochs), shuffled every
round. The medians over rounds are reported as seconds per step, extrapolated seconds per
60,000-image MNIST epoch, and the ratio nablanet / PyTorch. Inference (``predict`` on the same
images, batch 1,000) is reported too. Both use the BLAS/OpenMP threads they start with (set
``OMP_NUM_THREADS`` / ``OPENBLAS_NUM_THREADS`` before launching to pin them); the table records
the counts.

Run standalone (``python benchmarks/bench_cnn.py``) or import it and call :func:`main`. It prints
a table and writes ``benchmarks/results/cnn.md``.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from pathlib import Path

# nablanet before NumPy: it sets OpenBLAS's thread timeout, read when NumPy loads
# (src/nablanet/__init__.py, docs/performance.md); the other frameworks run with it too.
import nablanet as nb

# isort: split
import numpy as np

MNIST_TRAIN = 60_000
RESULTS = Path(__file__).resolve().parent / "results" / "cnn.md"
ARCHITECTURE = (
    "conv3x3 32 (same, relu) - maxpool 2 - conv3x3 64 (same, relu) - maxpool 2 - "
    "dense 128 (relu) - dense 10"
)


def synthetic_mnist(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """``n`` float32 images (n, 28, 28, 1) in [0, 1), a quarter of pixels zero, labels 0-9."""
    rng = np.random.default_rng(seed)
    x = rng.random((n, 28, 28, 1), dtype=np.float32)
    x[x < 0.25] = 0.0
    return x, rng.integers(0, 10, n)


def build_nablanet(seed: int = 0) -> nb.Sequential:
    nb.set_seed(seed)
    model = nb.Sequential(
        [
            nb.Conv2D(1, 32, 3, padding="same", activation="relu"),
            nb.MaxPool2D(2),
            nb.Conv2D(32, 64, 3, padding="same", activation="relu"),
            nb.MaxPool2D(2),
            nb.Flatten(),
            nb.Dense(7 * 7 * 64, 128, activation="relu"),
            nb.Dense(128, 10, activation="softmax"),
        ]
    )
    model.compile("categorical_crossentropy", nb.Adam(1e-3))
    return model


class TorchRunner:
    """The same network in PyTorch (NCHW, its native layout) with the same kind of loop."""

    def __init__(self, x: np.ndarray, y: np.ndarray, batch_size: int, seed: int = 0):
        import torch
        from torch import nn

        self.torch = torch
        torch.manual_seed(seed)
        self.net = nn.Sequential(
            nn.Conv2d(1, 32, 3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Conv2d(32, 64, 3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Flatten(),
            nn.Linear(7 * 7 * 64, 128),
            nn.ReLU(),
            nn.Linear(128, 10),
        )
        self.opt = torch.optim.Adam(self.net.parameters(), lr=1e-3)
        self.loss = nn.CrossEntropyLoss()
        self.x = torch.from_numpy(np.ascontiguousarray(x.transpose(0, 3, 1, 2)))
        self.y = torch.from_numpy(y.astype(np.int64))
        self.batch_size = batch_size
        self.gen = torch.Generator().manual_seed(seed)

    def train_epoch(self) -> None:
        torch = self.torch
        self.net.train()
        perm = torch.randperm(len(self.x), generator=self.gen)
        xs, ys = self.x[perm], self.y[perm]
        for i in range(0, len(xs), self.batch_size):
            self.opt.zero_grad(set_to_none=True)
            loss = self.loss(self.net(xs[i : i + self.batch_size]), ys[i : i + self.batch_size])
            loss.backward()
            self.opt.step()

    def predict(self) -> None:
        self.net.eval()
        with self.torch.no_grad():
            for i in range(0, len(self.x), 1000):
                self.net(self.x[i : i + 1000])


def _timed(fn) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def run(samples: int, batch_size: int, rounds: int, seed: int = 0) -> dict:
    """Alternating rounds; returns the medians and the raw times."""
    x, y = synthetic_mnist(samples, seed)
    model = build_nablanet(seed)
    steps = -(-samples // batch_size)

    def nb_train():
        model.fit(x, y, epochs=1, batch_size=batch_size, verbose=0)

    def nb_predict():
        model.predict(x, batch_size=1000)

    tasks = {"nablanet": (nb_train, nb_predict)}
    try:
        runner = TorchRunner(x, y, batch_size, seed)
        tasks["pytorch"] = (runner.train_epoch, runner.predict)
    except ImportError:
        runner = None

    # warm-up: one small batch each (allocations, BLAS/OpenMP thread pools)
    model.train_step(x[:batch_size], y[:batch_size])
    model.optimizer.zero_grad()
    if runner is not None:
        runner.net(runner.x[:batch_size]).sum().backward()
        runner.opt.zero_grad()

    times = {name: {"train": [], "predict": []} for name in tasks}
    order = list(tasks)
    for r in range(rounds):
        names = order if r % 2 == 0 else order[::-1]
        for name in names:
            train, predict = tasks[name]
            times[name]["train"].append(_timed(train))
            times[name]["predict"].append(_timed(predict))
            print(
                f"  round {r + 1}/{rounds} {name:<8} train {times[name]['train'][-1]:7.2f} s"
                f"  predict {times[name]['predict'][-1]:6.2f} s",
                flush=True,
            )
    result = {"samples": samples, "batch_size": batch_size, "steps": steps, "times": times}
    result["median"] = {
        name: {k: statistics.median(v) for k, v in t.items()} for name, t in times.items()
    }
    if "pytorch" in times:
        # each round's own ratio (both ran back to back), robust to slow drifts of the machine
        pairs = zip(times["nablanet"]["train"], times["pytorch"]["train"])
        result["round_ratios"] = [a / b for a, b in pairs]
    return result


def environment() -> dict[str, str]:
    env = {
        "cpu cores": str(os.cpu_count()),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "OMP/OPENBLAS/NABLANET threads": (
            f"{os.environ.get('OMP_NUM_THREADS', 'default')}/"
            f"{os.environ.get('OPENBLAS_NUM_THREADS', 'default')}/"
            f"{os.environ.get('NABLANET_NUM_THREADS', 'default')}"
        ),
        "load average (1, 5, 15 min) after the run": " ".join(f"{v:.1f}" for v in os.getloadavg()),
    }
    try:
        import torch

        env["torch"] = f"{torch.__version__} ({torch.get_num_threads()} threads)"
    except ImportError:
        env["torch"] = "not installed"
    return env


def report(result: dict) -> str:
    med, steps = result["median"], result["steps"]
    per_epoch = -(-MNIST_TRAIN // result["batch_size"])
    rows = [
        "| framework | s / step | s / MNIST epoch (469 steps) | predict s / 1k images | ratio |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    base = med.get("pytorch")
    for name, m in med.items():
        step = m["train"] / steps
        ratio = f"{m['train'] / base['train']:.2f} x" if base else "n/a"
        pred = m["predict"] / result["samples"] * 1000
        rows.append(f"| {name} | {step:.4f} | {step * per_epoch:.1f} | {pred:.3f} | {ratio} |")
    if base:
        r_pred = med["nablanet"]["predict"] / base["predict"]
        rounds = ", ".join(f"{r:.2f}" for r in result["round_ratios"])
        rows.append("")
        rows.append(
            f"Training ratio nablanet / PyTorch: **{med['nablanet']['train'] / base['train']:.2f}"
            f" x** (target <= 1.3 x; median of the per-round ratios "
            f"{statistics.median(result['round_ratios']):.2f} x, rounds: {rounds}); "
            f"inference ratio {r_pred:.2f} x."
        )
    return "\n".join(rows)


def write_markdown(result: dict, table: str, path: Path, command: str) -> Path:
    env = environment()
    lines = [
        "# CNN training speed: nablanet vs PyTorch (CPU)",
        "",
        f"Network: {ARCHITECTURE}; batch {result['batch_size']}, Adam, float32, synthetic "
        f"28x28x1 images. Medians of {len(next(iter(result['times'].values()))['train'])} "
        f"alternating rounds of {result['samples']:,} images ({result['steps']} steps) each; "
        "epoch times are per-step medians times 469.",
        "",
        table,
        "",
        "Environment: " + ", ".join(f"{k} {v}" for k, v in env.items()) + ".",
        "",
        f"Reproduce: `{command}`",
        "",
    ]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines))
    return path


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--samples", type=int, default=12_800, help="images per round")
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--output", type=Path, default=RESULTS, help="markdown report")
    parser.add_argument("--no-write", action="store_true", help="print only")
    args = parser.parse_args(argv)
    print(f"CNN benchmark: {ARCHITECTURE}")
    print(f"{args.samples} images per round, batch {args.batch_size}, {args.rounds} rounds")
    result = run(args.samples, args.batch_size, args.rounds, args.seed)
    table = report(result)
    print(table)
    if not args.no_write:
        command = "python benchmarks/bench_cnn.py " + " ".join(argv if argv is not None else [])
        path = write_markdown(result, table, args.output, command.strip())
        print(f"written {path}")
    return result


if __name__ == "__main__":
    main(sys.argv[1:])
