"""CNN training speed: nablanet against PyTorch on the CPU, same networks, same data.

Workloads (``--workloads``, comma-separated or ``all``; default ``mnist``), batch 128, Adam,
softmax cross-entropy, float32:

- ``mnist``: the benchmark CNN of issue #7 on 28x28x1 images: conv3x3 32 (same, relu) - maxpool 2
  - conv3x3 64 (same, relu) - maxpool 2 - flatten - dense 128 (relu) - dense 10 (softmax);
- ``mnist-small``: conv16 - pool - conv32 - pool - dense 64 - dense 10 on 28x28x1;
- ``cifar``: a CIFAR-like network on 32x32x3 images: conv32 - conv32 - pool - conv64 - pool -
  dense 128 - dense 10 (two convolutions in a row, a first one with 3 input channels);
- ``cifar10-config``: the network of ``configs/cifar10_cnn.yaml`` (read from the config's
  ``model.layers``: conv2d, maxpool2d, batchnorm, dropout, flatten, dense), when the file exists.

Both frameworks train on the same synthetic images (uniform pixels in [0, 1) with a quarter set
to zero, random labels: speed does not depend on the values) in one process, in alternating
rounds (nablanet first in odd rounds, PyTorch first in even ones, so that neither always runs on
a warmer or cooler machine). Each round trains each framework on ``--samples`` images (default
12,800 = 100 steps), shuffled every round. Reported: the medians over rounds as seconds per step,
the ratio nablanet / PyTorch (and the median of the per-round ratios), inference (``predict`` on
the same images, batch 1,000) as a throughput ratio, and with ``--memory`` the peak memory of a
training process per framework (one subprocess each, ``VmHWM``). Both use the BLAS/OpenMP threads
they start with (set ``OMP_NUM_THREADS`` / ``OPENBLAS_NUM_THREADS`` before launching to pin
them); the report records the counts and the load average. With ``--peers`` the from-scratch
NumPy frameworks of the ``bench`` extra run in the same rounds on ``--peer-samples`` images
(tinynn; numpy-ml cannot run these networks in reasonable time: a dash and a footnote).

    python benchmarks/bench_cnn.py                                  # the benchmark CNN
    python benchmarks/bench_cnn.py --workloads all --memory --peers # the table of issue #19

Run standalone or import it and call :func:`main`. It prints a table and writes
``benchmarks/results/cnn.md``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

# nablanet before NumPy: it sets OpenBLAS's thread timeout, read when NumPy loads
# (src/nablanet/__init__.py, docs/performance.md); the other frameworks run with it too.
import nablanet as nb

# isort: split
import numpy as np

MNIST_TRAIN = 60_000
HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results" / "cnn.md"
CIFAR10_CONFIG = HERE.parent / "configs" / "cifar10_cnn.yaml"

#: the targets of issue #19, by row of the table
TARGETS = {"train": ("<=", 0.9), "predict": (">=", 1.2), "memory": ("<=", 1.0)}


# -- workloads ------------------------------------------------------------------------------------
# A network is a list of layer specs, translated to both frameworks: ("conv", filters),
# ("pool",), ("bn",), ("dropout", rate), ("flatten",), ("dense", units, activation). Convolutions
# are 3x3 "same" with ReLU, poolings 2x2 max; the last dense layer has the softmax.
@dataclass
class Workload:
    name: str
    description: str
    input_shape: tuple[int, int, int]  # (height, width, channels)
    layers: list[tuple]
    #: why it cannot run (e.g. a missing config): the report shows a dash and this footnote
    unavailable: str | None = None

    def data(self, n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
        """``n`` float32 images in [0, 1), a quarter of pixels zero, labels 0-9."""
        rng = np.random.default_rng(seed)
        x = rng.random((n, *self.input_shape), dtype=np.float32)
        x[x < 0.25] = 0.0
        return x, rng.integers(0, 10, n)

    def build_nablanet(self, seed: int = 0) -> nb.Sequential:
        nb.set_seed(seed)
        h, w, c = self.input_shape
        layers = []
        for spec in self.layers:
            kind = spec[0]
            if kind == "conv":
                layers.append(nb.Conv2D(c, spec[1], 3, padding="same", activation="relu"))
                c = spec[1]
            elif kind == "pool":
                layers.append(nb.MaxPool2D(2))
                h, w = h // 2, w // 2
            elif kind == "bn":
                layers.append(nb.BatchNormalization(c))
            elif kind == "dropout":
                layers.append(nb.Dropout(spec[1]))
            elif kind == "flatten":
                layers.append(nb.Flatten())
                c = h * w * c
            elif kind == "dense":
                layers.append(nb.Dense(c, spec[1], activation=spec[2]))
                c = spec[1]
        model = nb.Sequential(layers)
        model.compile("categorical_crossentropy", nb.Adam(1e-3))
        return model

    def torch_runner(self, x, y, batch_size, seed=0) -> TorchRunner:
        return TorchRunner(self, x, y, batch_size, seed)


def _cnn(*convs_pools, dense: int) -> list[tuple]:
    return [*convs_pools, ("flatten",), ("dense", dense, "relu"), ("dense", 10, "softmax")]


def config_workload(path: Path = CIFAR10_CONFIG) -> Workload:
    """The network of a YAML config's ``model.layers`` (32x32x3 unless the dataset says 28x28x1)."""
    shown = path.relative_to(HERE.parent) if path.is_relative_to(HERE.parent) else path.name
    name, desc = "cifar10-config", f"the network of {shown}"
    if not path.exists():
        return Workload(name, desc, (32, 32, 3), [], unavailable=f"{path.name} not found")
    import yaml

    cfg = yaml.safe_load(path.read_text())
    dataset = str(cfg.get("data", {}).get("dataset", "cifar10"))
    shape = (28, 28, 1) if "mnist" in dataset else (32, 32, 3)
    layers, skipped = [], []
    for spec in cfg["model"]["layers"]:
        kind = spec.get("type")
        if kind == "conv2d":
            ok = spec.get("kernel_size", 3) in (3, [3, 3]) and spec.get("padding") == "same"
            ok = ok and spec.get("activation", "relu") == "relu" and spec.get("stride", 1) == 1
            if not ok:
                return Workload(name, desc, shape, [], unavailable=f"unsupported conv2d {spec}")
            layers.append(("conv", int(spec["filters"])))
        elif kind == "maxpool2d" and spec.get("pool_size", 2) in (2, [2, 2]):
            layers.append(("pool",))
        elif kind == "batchnorm":
            layers.append(("bn",))
        elif kind == "dropout":
            layers.append(("dropout", float(spec.get("rate", 0.5))))
        elif kind == "flatten":
            layers.append(("flatten",))
        elif kind == "dense":
            layers.append(("dense", int(spec["units"]), spec.get("activation")))
        elif kind and kind.startswith("random_"):
            skipped.append(kind)  # augmentation: not part of the network's arithmetic
        else:
            return Workload(name, desc, shape, [], unavailable=f"layer type {kind!r} not mapped")
    if skipped:
        desc += f" (without its augmentation layers: {', '.join(skipped)})"
    return Workload(name, desc, shape, layers)


def workloads() -> dict[str, Workload]:
    return {
        "mnist": Workload(
            "mnist",
            "conv3x3 32 (same, relu) - maxpool 2 - conv3x3 64 (same, relu) - maxpool 2 - "
            "dense 128 (relu) - dense 10, 28x28x1",
            (28, 28, 1),
            _cnn(("conv", 32), ("pool",), ("conv", 64), ("pool",), dense=128),
        ),
        "mnist-small": Workload(
            "mnist-small",
            "conv16 - pool - conv32 - pool - dense 64 - dense 10, 28x28x1",
            (28, 28, 1),
            _cnn(("conv", 16), ("pool",), ("conv", 32), ("pool",), dense=64),
        ),
        "cifar": Workload(
            "cifar",
            "conv32 - conv32 - pool - conv64 - pool - dense 128 - dense 10, 32x32x3",
            (32, 32, 3),
            _cnn(("conv", 32), ("conv", 32), ("pool",), ("conv", 64), ("pool",), dense=128),
        ),
        "cifar10-config": config_workload(),
    }


WORKLOADS = workloads()
ARCHITECTURE = WORKLOADS["mnist"].description


def synthetic_mnist(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """``n`` float32 images (n, 28, 28, 1) in [0, 1), a quarter of pixels zero, labels 0-9."""
    return WORKLOADS["mnist"].data(n, seed)


def build_nablanet(seed: int = 0) -> nb.Sequential:
    return WORKLOADS["mnist"].build_nablanet(seed)


class TorchRunner:
    """The same network in PyTorch (NCHW, its native layout) with the same kind of loop."""

    def __init__(self, workload: Workload, x: np.ndarray, y: np.ndarray, batch_size: int, seed=0):
        import torch
        from torch import nn

        self.torch = torch
        torch.manual_seed(seed)
        h, w, c = workload.input_shape
        mods = []
        for spec in workload.layers:
            kind = spec[0]
            if kind == "conv":
                mods += [nn.Conv2d(c, spec[1], 3, padding=1), nn.ReLU()]
                c = spec[1]
            elif kind == "pool":
                mods.append(nn.MaxPool2d(2))
                h, w = h // 2, w // 2
            elif kind == "bn":
                mods.append(nn.BatchNorm2d(c) if h else nn.BatchNorm1d(c))
            elif kind == "dropout":
                mods.append(nn.Dropout(spec[1]))
            elif kind == "flatten":
                mods.append(nn.Flatten())
                c, h = h * w * c, 0
            elif kind == "dense":
                mods.append(nn.Linear(c, spec[1]))
                if spec[2] == "relu":
                    mods.append(nn.ReLU())
                c = spec[1]
        self.net = nn.Sequential(*mods)  # the softmax is in CrossEntropyLoss
        self.opt = torch.optim.Adam(self.net.parameters(), lr=1e-3)
        self.loss = nn.CrossEntropyLoss()
        self.x = torch.from_numpy(np.ascontiguousarray(x.transpose(0, 3, 1, 2)))
        self.y = torch.from_numpy(y.astype(np.int64))
        self.batch_size = batch_size
        self.gen = torch.Generator().manual_seed(seed)

    def step(self, i: int) -> None:
        """One training step on the batch at ``i`` (unshuffled; for profiling)."""
        self.net.train()
        b = self.batch_size
        self.opt.zero_grad(set_to_none=True)
        self.loss(self.net(self.x[i : i + b]), self.y[i : i + b]).backward()
        self.opt.step()

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


class TinynnRunner:
    """The same network in tinynn (NHWC like nablanet; ``Conv2D``, ``MaxPool2D``, ``Dense``,
    ``ReLU``, ``Flatten``; ``SoftmaxCrossEntropy`` on one-hot float32 targets; ``Adam``)."""

    def __init__(self, workload: Workload, x, y, batch_size, seed=0):
        from tinynn.core.layer import Conv2D, Dense, Dropout, Flatten, MaxPool2D, ReLU
        from tinynn.core.loss import SoftmaxCrossEntropy
        from tinynn.core.model import Model
        from tinynn.core.net import Net
        from tinynn.core.optimizer import Adam

        np.random.seed(seed)  # noqa: NPY002  (tinynn draws from NumPy's global generator)
        c = workload.input_shape[2]
        layers = []
        for spec in workload.layers:
            kind = spec[0]
            if kind == "conv":
                layers += [Conv2D([3, 3, c, spec[1]]), ReLU()]
                c = spec[1]
            elif kind == "pool":
                layers.append(MaxPool2D([2, 2], [2, 2]))
            elif kind == "dropout":
                layers.append(Dropout(1 - spec[1]))
            elif kind == "flatten":
                layers.append(Flatten())
            elif kind == "dense":
                layers.append(Dense(spec[1]))
                if spec[2] == "relu":
                    layers.append(ReLU())
            else:
                raise NotImplementedError(f"tinynn runner: no {kind!r} layer mapped")
        self.model = Model(Net(layers), SoftmaxCrossEntropy(), Adam(lr=1e-3))
        self.x, self.y = x, np.eye(10, dtype=np.float32)[y]
        self.batch_size = batch_size
        self.rng = np.random.default_rng(seed)

    def train_epoch(self) -> None:
        self.model.is_training = True
        perm = self.rng.permutation(len(self.x))
        for i in range(0, len(self.x), self.batch_size):
            idx = perm[i : i + self.batch_size]
            pred = self.model.forward(self.x[idx])
            _, grads = self.model.backward(pred, self.y[idx])
            self.model.apply_grads(grads)

    def predict(self) -> None:
        self.model.is_training = False
        for i in range(0, len(self.x), 1000):
            self.model.forward(self.x[i : i + 1000])


#: why a peer cannot run the CNN workloads (a dash and this footnote in the report)
PEER_NOTES = {
    "numpy-ml": (
        "numpy-ml 0.1.2: its Pool2D loops over output pixels in Python: 2.0 s forward and 8.1 s "
        "backward for one 32-image batch of the first pooling of the mnist network (measured), "
        "hours for a round of 100 steps of 128, so it is not run"
    ),
}


def _timed(fn) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def run(
    samples: int,
    batch_size: int,
    rounds: int,
    seed: int = 0,
    workload: str = "mnist",
    peers: bool = False,
    peer_samples: int = 1280,
) -> dict:
    """Alternating rounds; returns the medians and the raw times. With ``peers``, tinynn trains
    in the same rounds on the first ``peer_samples`` images (it is much slower)."""
    wl = WORKLOADS[workload]
    x, y = wl.data(samples, seed)
    model = wl.build_nablanet(seed)
    steps = -(-samples // batch_size)

    def nb_train():
        model.fit(x, y, epochs=1, batch_size=batch_size, verbose=0)

    def nb_predict():
        model.predict(x, batch_size=1000)

    tasks = {"nablanet": (nb_train, nb_predict)}
    try:
        runner = wl.torch_runner(x, y, batch_size, seed)
        tasks["pytorch"] = (runner.train_epoch, runner.predict)
    except ImportError:
        runner = None
    peer_steps = {}
    if peers:
        try:
            n_peer = min(peer_samples, samples)
            tiny = TinynnRunner(wl, x[:n_peer], y[:n_peer], batch_size, seed)
            tasks["tinynn"] = (tiny.train_epoch, tiny.predict)
            peer_steps["tinynn"] = -(-n_peer // batch_size)
        except (ImportError, NotImplementedError) as exc:
            print(f"  tinynn left out: {exc}")

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
                f"  [{workload}] round {r + 1}/{rounds} {name:<8} train "
                f"{times[name]['train'][-1]:7.2f} s  predict {times[name]['predict'][-1]:6.2f} s",
                flush=True,
            )
    result = {
        "workload": workload,
        "samples": samples,
        "batch_size": batch_size,
        "steps": steps,
        "times": times,
        "load": os.getloadavg(),
        #: steps (and images) per round of each framework: the peers run fewer
        "steps_of": {name: peer_steps.get(name, steps) for name in tasks},
        "samples_of": {
            name: min(peer_samples, samples) if name in peer_steps else samples for name in tasks
        },
    }
    result["median"] = {
        name: {k: statistics.median(v) for k, v in t.items()} for name, t in times.items()
    }
    for name in peer_steps:  # per-step ratios nablanet / peer, round by round
        pairs = zip(times["nablanet"]["train"], times[name]["train"])
        result[f"peer_ratios_{name}"] = [(a / steps) / (b / peer_steps[name]) for a, b in pairs]
    if "pytorch" in times:
        # each round's own ratio (both ran back to back), robust to slow drifts of the machine
        pairs = zip(times["nablanet"]["train"], times["pytorch"]["train"])
        result["round_ratios"] = [a / b for a, b in pairs]
        pairs = zip(times["pytorch"]["predict"], times["nablanet"]["predict"])
        result["predict_throughput_ratios"] = [a / b for a, b in pairs]
    return result


# -- peak memory: one subprocess per framework and workload --------------------------------------
def _vm_hwm_mb() -> float | None:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


def _vm_rss_mb() -> float | None:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


def memory_child(framework: str, workload: str, samples: int, batch_size: int) -> dict:
    """Train one epoch of ``samples`` images in this process; its peak resident set (MiB)."""
    wl = WORKLOADS[workload]
    x, y = wl.data(samples)
    if framework == "pytorch":
        runner = wl.torch_runner(x, y, batch_size)
        del x, y  # the runner holds its own NCHW copy
        baseline = _vm_rss_mb()
        runner.train_epoch()
    else:
        model = wl.build_nablanet()
        baseline = _vm_rss_mb()
        model.fit(x, y, epochs=1, batch_size=batch_size, verbose=0)
    return {"framework": framework, "baseline_mb": baseline, "peak_mb": _vm_hwm_mb()}


def measure_memory(workload: str, samples: int, batch_size: int) -> dict:
    out = {}
    for framework in ("nablanet", "pytorch"):
        cmd = [
            sys.executable,
            str(Path(__file__).resolve()),
            "--memory-child",
            framework,
            "--workloads",
            workload,
            "--samples",
            str(samples),
            "--batch-size",
            str(batch_size),
        ]
        proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if proc.returncode == 0:
            out[framework] = json.loads(proc.stdout.strip().splitlines()[-1])
        else:
            print(f"  memory of {framework} failed: {proc.stderr.strip().splitlines()[-1:]}")
    return out


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
    """The per-framework table of one workload."""
    med, steps = result["median"], result["steps"]
    per_epoch = -(-MNIST_TRAIN // result["batch_size"])
    rows = [
        "| framework | s / step | s / 60k-image epoch | predict s / 1k images | ratio |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    base = med.get("pytorch")
    steps_of = result.get("steps_of", {})
    samples_of = result.get("samples_of", {})
    for name, m in med.items():
        step = m["train"] / steps_of.get(name, steps)
        ratio = f"{step / (base['train'] / steps):.2f} x" if base else "n/a"
        pred = m["predict"] / samples_of.get(name, result["samples"]) * 1000
        rows.append(f"| {name} | {step:.4f} | {step * per_epoch:.1f} | {pred:.3f} | {ratio} |")
    if base:
        r_pred = med["nablanet"]["predict"] / base["predict"]
        rounds = ", ".join(f"{r:.2f}" for r in result["round_ratios"])
        rows.append("")
        rows.append(
            f"Training ratio nablanet / PyTorch: **{med['nablanet']['train'] / base['train']:.2f}"
            f" x** (median of the per-round ratios "
            f"{statistics.median(result['round_ratios']):.2f} x, rounds: {rounds}); "
            f"inference time ratio {r_pred:.2f} x (throughput {1 / r_pred:.2f} x)."
        )
    for key, ratios in result.items():
        if key.startswith("peer_ratios_"):
            rows.append(
                f"Per step, nablanet / {key[12:]}: {statistics.median(ratios):.2f} x "
                f"(rounds: {', '.join(f'{r:.2f}' for r in ratios)}; it trained on "
                f"{samples_of[key[12:]]} images per round)."
            )
    for peer, note in PEER_NOTES.items():
        if result.get("peers"):
            rows.append(f"{peer}: -, {note}.")
    return "\n".join(rows)


def _verdict(kind: str, value: float) -> str:
    op, limit = TARGETS[kind]
    ok = value <= limit if op == "<=" else value >= limit
    return f"{op} {limit} x: {'met' if ok else 'not met'}"


def targets_table(results: dict[str, dict], memory: dict[str, dict]) -> str:
    """The rows of issue #19: training step ratio per workload, predict throughput, memory."""
    rows = [
        "| workload (batch 128, Adam, float32) | measured | target |",
        "| --- | ---: | --- |",
    ]
    notes = []
    for name, wl in WORKLOADS.items():
        res = results.get(name)
        if res is None and wl.unavailable and name in results.get("_requested", ()):
            notes.append(f"{name}: {wl.unavailable}")
            rows.append(f"| {name}: training step / PyTorch | -[{len(notes)}] | <= 0.9 x |")
            continue
        if res is None or "round_ratios" not in res:
            continue
        r = statistics.median(res["round_ratios"])
        rows.append(f"| {name}: training step / PyTorch | {r:.2f} x | {_verdict('train', r)} |")
        p = statistics.median(res["predict_throughput_ratios"])
        rows.append(
            f"| {name}: predict throughput (batch 1000) / PyTorch | {p:.2f} x | "
            f"{_verdict('predict', p)} |"
        )
        mem = memory.get(name, {})
        if "nablanet" in mem and "pytorch" in mem:
            a, b = mem["nablanet"], mem["pytorch"]
            m = a["peak_mb"] / b["peak_mb"]
            rows.append(
                f"| {name}: training peak memory / PyTorch | {m:.2f} x ({a['peak_mb']:.0f} / "
                f"{b['peak_mb']:.0f} MiB; above the data and model: "
                f"{a['peak_mb'] - a['baseline_mb']:.0f} / {b['peak_mb'] - b['baseline_mb']:.0f}) "
                f"| {_verdict('memory', m)} |"
            )
    rows += ["", *(f"[{i}] {n}" for i, n in enumerate(notes, 1))]
    return "\n".join(rows)


def write_markdown(result: dict, table: str, path: Path, command: str) -> Path:
    """Write the report of one workload (``result``) or of several (``table`` already joined)."""
    env = environment()
    lines = [
        "# CNN training speed: nablanet vs PyTorch (CPU)",
        "",
        f"Batch {result['batch_size']}, Adam, float32, synthetic images. Medians of "
        f"{len(next(iter(result['times'].values()))['train'])} alternating rounds of "
        f"{result['samples']:,} images ({result['steps']} steps) each; epoch times are per-step "
        "medians times 469.",
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
    """Run the workloads; returns the result of the only one, else ``{workload: result}``."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workloads", default="mnist", help="comma-separated, or 'all'")
    parser.add_argument("--samples", type=int, default=12_800, help="images per round")
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--memory", action="store_true", help="peak memory, one process each")
    parser.add_argument(
        "--peers", action="store_true", help="also the NumPy peers (tinynn; the bench extra)"
    )
    parser.add_argument("--peer-samples", type=int, default=1280, help="their images per round")
    parser.add_argument("--memory-child", choices=("nablanet", "pytorch"), help=argparse.SUPPRESS)
    parser.add_argument("--output", "-o", type=Path, default=RESULTS, help="markdown report")
    parser.add_argument("--no-write", action="store_true", help="print only")
    args = parser.parse_args(argv)
    names = list(WORKLOADS) if args.workloads == "all" else args.workloads.split(",")
    for name in names:
        if name not in WORKLOADS:
            parser.error(f"unknown workload {name!r}: choose from {', '.join(WORKLOADS)}")
    if args.memory_child:
        out = memory_child(args.memory_child, names[0], args.samples, args.batch_size)
        print(json.dumps(out))
        return out
    results: dict = {"_requested": names}
    memory: dict = {}
    sections = []
    for name in names:
        wl = WORKLOADS[name]
        if wl.unavailable:
            print(f"{name}: skipped ({wl.unavailable})")
            continue
        print(f"CNN benchmark [{name}]: {wl.description}")
        print(f"{args.samples} images per round, batch {args.batch_size}, {args.rounds} rounds")
        res = results[name] = run(
            args.samples,
            args.batch_size,
            args.rounds,
            args.seed,
            name,
            peers=args.peers,
            peer_samples=args.peer_samples,
        )
        res["peers"] = args.peers
        if args.memory:
            memory[name] = measure_memory(name, args.samples, args.batch_size)
        table = report(res)
        print(table)
        sections.append(f"## {name}: {wl.description}\n\n{table}")
    done = {k: v for k, v in results.items() if k != "_requested"}
    if len(names) > 1 or args.memory:
        summary = targets_table(results, memory)
        print(
            "\nTargets of issue #19 (ratios; load average "
            f"{' '.join(f'{v:.1f}' for v in os.getloadavg())}):\n{summary}"
        )
        sections.insert(0, "## Targets\n\n" + summary)
    if not args.no_write and done:
        command = "python benchmarks/bench_cnn.py " + " ".join(argv if argv is not None else [])
        first = next(iter(done.values()))
        path = write_markdown(first, "\n\n".join(sections), args.output, command.strip())
        print(f"written {path}")
    if len(names) == 1 and names[0] in done:
        return done[names[0]]
    return done


if __name__ == "__main__":
    main(sys.argv[1:])
