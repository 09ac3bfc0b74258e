"""Where a CNN training step goes: per plan step (forward, backward), per Winograd transform,
im2col, the GEMMs and the optimizer, against PyTorch's whole step in the same process.

    python benchmarks/profile_cnn.py                 # the CIFAR-like network, batch 128
    python benchmarks/profile_cnn.py --workload mnist --steps 30

Every stage is timed with ``time.perf_counter`` around the call (the wrappers cost about 1 us
each); reported are medians over the steps (each stage's calls in a step summed) after a warm-up, in milliseconds. The PyTorch step is
timed in alternating blocks with nablanet's, and the ratio of the medians is printed with the
load average, since absolute times on a shared machine drift.
"""

from __future__ import annotations

import argparse
import collections
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import nablanet  # noqa: F401  (before NumPy: OpenBLAS thread timeout)

# isort: split
import numpy as np
from bench_cnn import WORKLOADS

from nablanet.nn.layers import conv as conv_mod
from nablanet.nn.layers import winograd

#: per stage, the seconds of each step (the calls of one step summed)
TIMES: dict[str, list[float]] = collections.defaultdict(list)
#: the current step's sums
CURRENT: dict[str, float] = collections.defaultdict(float)


def timed(name, fn):
    def wrapper(*args, **kwargs):
        t0 = time.perf_counter()
        try:
            return fn(*args, **kwargs)
        finally:
            CURRENT[name] += time.perf_counter() - t0

    return wrapper


def instrument(model) -> None:
    for k, step in enumerate(model.plan.body):
        label = f"{k}:{step!r}"
        step.forward = timed(f"{label} forward", step.forward)
        step.backward = timed(f"{label} backward", step.backward)
    out = model.plan.output
    out.train = timed(f"out:{out!r} forward+backward", out.train)
    model.optimizer.step = timed("optimizer step", model.optimizer.step)
    for name in (
        "input_transform",
        "output_transform",
        "output_transform_relu_maxpool",
        "grad_output_transform",
        "grad_input_transform",
        "grad_relu_maxpool",
        "weight_transform",
        "weight_gradient",
    ):
        if hasattr(winograd, name):
            setattr(winograd, name, timed(f"  winograd.{name}", getattr(winograd, name)))
    for name in ("im2col", "im2col_pooled", "pad_nhwc", "_relu_maxpool_quads"):
        if hasattr(conv_mod, name):
            setattr(conv_mod, name, timed(f"  conv.{name}", getattr(conv_mod, name)))
    conv_mod.np = _TimedNumpy(np)


class _TimedNumpy:
    """``np`` for conv.py with ``matmul`` timed (the GEMMs: ``@`` is not seen)."""

    def __init__(self, np_):
        self._np = np_
        self.matmul = timed("  np.matmul (conv.py)", np_.matmul)

    def __getattr__(self, name):
        return getattr(self._np, name)


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--workload", default="cifar", choices=sorted(WORKLOADS))
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--steps", type=int, default=20)
    p.add_argument(
        "--algorithm",
        action="append",
        default=[],
        metavar="INDEX=NAME",
        help="set layer INDEX's Conv2D.algorithm (im2col, winograd); repeatable",
    )
    args = p.parse_args(argv)
    wl = WORKLOADS[args.workload]
    bs = args.batch_size
    x, y = wl.data(bs * 4, 0)
    model = wl.build_nablanet(0)
    for item in args.algorithm:
        index, name = item.split("=")
        model.layers[int(index)].algorithm = name
    xb, yb = x[:bs], y[:bs]
    for _ in range(3):
        model.train_step(xb, yb)
        model.optimizer.step()
        model.optimizer.zero_grad()
    print(model.plan)
    try:
        runner = wl.torch_runner(x, y, bs, 0)
    except ImportError:
        runner = None

    def nb_step():
        model.optimizer.zero_grad()
        model.train_step(xb, yb)
        model.optimizer.step()

    whole = {"nablanet": [], "pytorch": []}
    for _ in range(3):
        if runner is not None:
            runner.step(0)
    for _ in range(args.steps):
        t0 = time.perf_counter()
        nb_step()
        whole["nablanet"].append(time.perf_counter() - t0)
        if runner is not None:
            t0 = time.perf_counter()
            runner.step(0)
            whole["pytorch"].append(time.perf_counter() - t0)
    instrument(model)
    for _ in range(args.steps):
        t0 = time.perf_counter()
        CURRENT.clear()
        nb_step()
        CURRENT["whole step (instrumented)"] = time.perf_counter() - t0
        for name, seconds in CURRENT.items():
            TIMES[name].append(seconds)
    print(f"\n{args.workload}: {wl.description}, batch {bs}, medians of {args.steps} steps (ms)")
    for name, v in TIMES.items():
        print(f"  {name:<70} {1e3 * statistics.median(v):8.2f}")
    nbm = statistics.median(whole["nablanet"])
    print(f"\nwhole step, uninstrumented: nablanet {1e3 * nbm:.2f} ms", end="")
    if whole["pytorch"]:
        tm = statistics.median(whole["pytorch"])
        print(f", PyTorch {1e3 * tm:.2f} ms, ratio {nbm / tm:.2f} x", end="")
    print(f"; load average {' '.join(f'{v:.1f}' for v in os.getloadavg())}")


if __name__ == "__main__":
    main()
