"""The benchmark suite stays runnable and its references stay correct (no timing here).

``benchmarks/`` is a folder of scripts, not a package: the tests put it on ``sys.path``. They run
every runner on a tiny synthetic problem, check the hand-written reference loops against each
other, run ``run.py`` end to end on tiny data and check the peak-memory child.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

BENCH = Path(__file__).resolve().parents[1] / "benchmarks"
sys.path.insert(0, str(BENCH))

import frameworks  # noqa: E402
import mlp_numpy  # noqa: E402
import run as bench_run  # noqa: E402

SIZES = (20, 16, 12, 10)


def toy_problem(n=240, seed=0):
    """Ten well-separated Gaussian blobs in 20 dimensions, float32, int64 labels."""
    rng = np.random.default_rng(seed)
    centers = rng.normal(0.0, 3.0, size=(10, SIZES[0]))
    y = rng.integers(0, 10, size=n).astype(np.int64)
    x = (centers[y] + rng.normal(0.0, 0.5, size=(n, SIZES[0]))).astype(np.float32)
    return x, y


@pytest.mark.parametrize("name", sorted(frameworks.RUNNERS))
def test_every_runner_learns_and_predicts_probabilities(name):
    if not frameworks.available(name):
        pytest.skip(f"{name} is not installed")
    x, y = toy_problem()
    runner = frameworks.RUNNERS[name](sizes=SIZES, seed=0)
    losses = [runner.train_epoch(x, y, 32) for _ in range(30)]
    assert all(np.isfinite(losses))
    assert losses[-1] < 0.5 * losses[0], losses
    p = np.asarray(runner.predict(x[:7]))
    assert p.shape == (7, 10)
    np.testing.assert_allclose(p.sum(axis=1), 1.0, atol=1e-5)
    assert np.mean(np.asarray(runner.predict(x)).argmax(axis=1) == y) > 0.6  # chance is 0.1


def test_tuned_loop_trains_exactly_like_the_textbook_loop():
    """The fast reference does the same arithmetic as the plain one (same seed, same batches)."""
    x, y = toy_problem(n=100)
    tuned = mlp_numpy.TunedNumpyMLP(SIZES, seed=3)
    naive = mlp_numpy.NaiveNumpyMLP(SIZES, seed=3)
    for _ in range(2):
        lt = tuned.train_epoch(x, y, 32)  # 100 = 3 x 32 + 4: a short last batch
        ln = naive.train_epoch(x, y, 32)
        assert lt == pytest.approx(ln, rel=1e-4)
    flat_naive = np.concatenate([p.ravel() for p in naive.params])
    np.testing.assert_allclose(tuned.flat, flat_naive, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(tuned.forward(x), naive.forward(x), rtol=1e-4, atol=1e-6)


def test_the_tuned_loop_keeps_everything_float32():
    x, y = toy_problem(n=64)
    tuned = mlp_numpy.TunedNumpyMLP(SIZES, seed=0)
    tuned.train_epoch(x, y, 16)
    for a in (tuned.flat, tuned.grad, tuned.m, tuned.v, *tuned.h, *tuned.d):
        assert a.dtype == np.float32


def test_run_py_end_to_end_on_tiny_data(monkeypatch, tmp_path, capsys):
    x, y = toy_problem(n=256)
    monkeypatch.setattr(bench_run, "SIZES", SIZES)
    monkeypatch.setattr(frameworks, "SIZES", SIZES)
    for cls in frameworks.RUNNERS.values():  # the runners' default sizes were bound at import
        monkeypatch.setattr(cls.__init__, "__defaults__", (SIZES, 0))
    monkeypatch.setattr(bench_run, "load_fashion_mnist", lambda *a: (x, y, x[:50], y[:50]))
    monkeypatch.setattr(bench_run, "gemm_gflops", lambda: 100.0)
    monkeypatch.setattr(bench_run, "PAUSE_S", 0.0)
    stem = tmp_path / "mlp"
    res = bench_run.main(
        [
            "--rounds",
            "2",
            "--batch-sizes",
            "32,128",
            "--frameworks",
            "nablanet,numpy",
            "--no-memory",
            "--no-cnn",
            "--output",
            str(stem),
        ]
    )
    epochs = res["training"]["epochs"]
    assert set(epochs) == {"nablanet", "numpy"}
    assert all(len(epochs[n][bs]) == 2 for n in epochs for bs in (32, 128))
    assert "fit_overhead" in res["targets"]
    assert res["targets"]["fit_overhead"]["value"] == pytest.approx(
        res["ratios"]["nablanet/numpy@128"]["median"]
    )
    text = stem.with_suffix(".md").read_text()
    assert "## Targets" in text and "fit() / hand-tuned NumPy loop" in text
    assert json.loads(stem.with_suffix(".json").read_text())["samples"] == 256
    assert "## Prediction: samples per second" in text


def test_paired_ratio_is_the_median_of_per_round_ratios():
    r = bench_run.paired_ratio([1.0, 4.0, 3.0], [2.0, 2.0, 2.0])
    assert r == {"median": 1.5, "min": 0.5, "max": 2.0, "n": 3}


def test_memory_child_reports_its_own_peak(tmp_path):
    """The peak is the child's own (a child of a big process must not inherit its peak)."""
    x = np.zeros((512, 784), np.float32)
    y = np.zeros(512, np.int64)
    np.save(tmp_path / "x.npy", x)
    np.save(tmp_path / "y.npy", y)
    ballast = np.ones(400 * 2**20 // 8)  # the parent holds 400 MiB while the child runs
    proc = subprocess.run(
        [
            sys.executable,
            str(BENCH / "memory_child.py"),
            "numpy",
            "--data",
            str(tmp_path / "x.npy"),
            str(tmp_path / "y.npy"),
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert ballast.sum() > 0
    assert out["samples"] == 512
    assert 0 < out["baseline_mb"] <= out["peak_mb"]
    if sys.platform.startswith("linux"):
        assert out["peak_mb"] < 400, out


def test_bench_cnn_runs_on_a_few_images(tmp_path, capsys):
    import bench_cnn

    out = tmp_path / "cnn.md"
    res = bench_cnn.main(
        ["--samples", "64", "--batch-size", "32", "--rounds", "2", "--output", str(out)]
    )
    assert res["steps"] == 2
    assert len(res["times"]["nablanet"]["train"]) == 2
    text = out.read_text()
    assert "| nablanet |" in text and "Reproduce:" in text
    if "pytorch" in res["times"]:
        assert len(res["round_ratios"]) == 2 and "Training ratio nablanet / PyTorch" in text


def test_bench_step_times_both_loops():
    import bench_step

    x, y = toy_problem(n=128)
    x784 = np.zeros((128, 784), np.float32)
    x784[:, :20] = x
    res = bench_step.measure([16, 32], blocks=2, steps=2, data=(x784, y))
    assert set(res) == {16, 32}
    assert all(len(t["nablanet"]) == 2 and len(t["numpy"]) == 2 for t in res.values())
    assert all(v > 0 for t in res.values() for v in t["nablanet"] + t["numpy"])


def test_bench_cnn_workloads_targets_and_peers(tmp_path, capsys):
    import bench_cnn

    out = tmp_path / "cnn.md"
    args = ["--workloads", "mnist-small,cifar", "--samples", "64", "--batch-size", "32"]
    res = bench_cnn.main(
        [*args, "--rounds", "1", "--peers", "--peer-samples", "32", "-o", str(out)]
    )
    assert set(res) == {"mnist-small", "cifar"}
    assert res["cifar"]["steps"] == 2
    text = out.read_text()
    assert "## cifar:" in text and "## mnist-small:" in text
    if "pytorch" in res["cifar"]["times"]:
        assert "| cifar: training step / PyTorch |" in text
    if frameworks.available("tinynn"):
        assert res["cifar"]["steps_of"]["tinynn"] == 1 and "| tinynn |" in text
    assert "numpy-ml: -," in text  # the peer that cannot run a CNN: a dash and why


def test_bench_cnn_reads_a_config_network(tmp_path):
    import bench_cnn

    missing = bench_cnn.config_workload(tmp_path / "absent.yaml")
    assert missing.unavailable and "absent.yaml" in missing.unavailable
    cfg = tmp_path / "c.yaml"
    cfg.write_text(
        "data: {dataset: cifar10}\nmodel:\n  layers:\n"
        "    - {type: random_flip}\n"
        "    - {type: conv2d, filters: 8, kernel_size: 3, padding: same, activation: relu}\n"
        "    - {type: batchnorm}\n    - {type: maxpool2d, pool_size: 2}\n"
        "    - {type: flatten}\n    - {type: dropout, rate: 0.5}\n"
        "    - {type: dense, units: 10, activation: softmax}\n"
    )
    wl = bench_cnn.config_workload(cfg)
    assert wl.unavailable is None and wl.input_shape == (32, 32, 3)
    assert [s[0] for s in wl.layers] == ["conv", "bn", "pool", "flatten", "dropout", "dense"]
    assert "random_flip" in wl.description
    x, _ = wl.data(4)
    assert wl.build_nablanet().predict(x).shape == (4, 10)


def test_bench_diagnostics_measures_both_workloads(monkeypatch):
    import bench_diagnostics

    x, y = toy_problem(n=64)
    small = {"tiny": ([x.shape[1], 8, int(y.max()) + 1], x, y, 16)}
    monkeypatch.setattr(bench_diagnostics, "workloads", lambda samples: small)
    res = bench_diagnostics.main(["--epochs", "2"])
    assert set(res["tiny"]) == {"without_cpu_s", "with_cpu_s", "overhead_percent", "hook_percent"}
    assert 0 < res["tiny"]["hook_percent"] < 100
