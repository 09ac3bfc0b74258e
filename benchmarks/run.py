"""MLP benchmark suite (issue #6): nablanet against a hand-tuned NumPy loop, PyTorch and sklearn.

One process trains the same 784-256-128-10 MLP (ReLU, softmax cross-entropy, Adam 1e-3) on
Fashion-MNIST with every framework, in alternating rounds: in every round each framework trains
one epoch per batch size, in an order that is reversed every other round, so that drifts of the
machine's load hit everyone alike. A float32 GEMM (2048 x 2048 x 2048) is timed in every round
too; the roofline fraction of an epoch is ``6 x parameters x samples`` FLOPs over (median GEMM
rate x epoch time). Reported are medians with min-max over rounds, and ratios as the median of the
per-round ratios (paired measurements, robust to load drift). Prediction throughput (batch 1 and
10000) and the peak memory of a training process (one subprocess per framework,
``VmHWM``, its high-water mark) follow. The CNN benchmark (``bench_cnn.py``) runs after, when present.

    python benchmarks/run.py            # the full suite (what `make bench` runs)
    python benchmarks/run.py --quick    # fewer rounds on 12000 samples, for a smoke test

PyTorch and scikit-learn are optional: a framework that cannot be imported is left out. Results go
to ``benchmarks/results/mlp.md`` and ``mlp.json`` (``--output`` changes the stem).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

# nablanet before NumPy: it sets OpenBLAS's thread timeout, read when NumPy loads
# (src/nablanet/__init__.py, docs/performance.md); the other frameworks run with it too.
import nablanet  # noqa: E402, F401

# isort: split
import frameworks  # noqa: E402
import numpy as np  # noqa: E402
from common import (  # noqa: E402
    SIZES,
    gemm_gflops,
    load_average,
    load_fashion_mnist,
    machine,
    n_params,
    summary,
)
from frameworks import RUNNERS, available  # noqa: E402

RESULTS = HERE / "results"
DEFAULT_FRAMEWORKS = ("nablanet", "numpy", "torch", "sklearn", "numpy-naive", "tinynn", "numpy-ml")
#: frameworks timed only at batch 128 (they are slow, have one target each, or are the
#: from-scratch peers of the README's comparison: the ``bench`` extra)
ONLY_128 = ("sklearn", "numpy-naive", "tinynn", "numpy-ml")
PAUSE_S = 0.2  # between two timed epochs: lets the previous library's worker threads go idle

TARGETS = {
    # key: (description, comparison, threshold)
    "train_32": ("train epoch, batch 32: nablanet / torch", "<=", 0.50),
    "train_128": ("train epoch, batch 128: nablanet / torch", "<=", 0.60),
    "roofline_128": ("train epoch, batch 128: fraction of the GEMM roofline", ">=", 0.40),
    "train_512": ("train epoch, batch 512: nablanet / torch", "<=", 0.80),
    "fit_overhead": ("fit() / hand-tuned NumPy loop, batch 128", "<=", 1.10),
    "predict_1": ("predict() throughput, batch 1: nablanet / torch", ">=", 2.5),
    "predict_10000": ("predict() throughput, batch 10000: nablanet / torch", ">=", 1.2),
    "sklearn_128": ("train epoch, batch 128: nablanet / sklearn MLPClassifier", "<=", 0.70),
    "memory": ("peak memory of training, batch 128: nablanet / torch", "<=", 1.0),
}


def log(msg: str) -> None:
    print(msg, flush=True)


# -- measurements ---------------------------------------------------------------------------------
def time_training(names, x, y, batch_sizes, rounds, seed=0):
    """``{"epochs": {name: {bs: [seconds per round]}}, "loss": ..., "gemm": [GFLOP/s per round]}``."""
    runners = {(n, bs): RUNNERS[n](seed=seed) for n in names for bs in batch_sizes}
    plan = [(n, bs) for bs in batch_sizes for n in names if bs == 128 or n not in ONLY_128]
    warm = min(len(x), 20 * max(batch_sizes))
    for key in plan:  # first-call costs (imports, allocations) are not timed
        runners[key].train_epoch(x[:warm], y[:warm], key[1])
    epochs: dict = {n: {} for n in names}
    losses: dict = {n: {} for n in names}
    gemm = []
    for r in range(rounds):
        gemm.append(gemm_gflops())
        order = plan if r % 2 == 0 else plan[::-1]
        for name, bs in order:
            time.sleep(PAUSE_S)
            t0 = time.perf_counter()
            loss = runners[name, bs].train_epoch(x, y, bs)
            dt = time.perf_counter() - t0
            epochs[name].setdefault(bs, []).append(dt)
            losses[name].setdefault(bs, []).append(float(loss))
        line = "  ".join(f"{n}/{bs}={epochs[n][bs][-1]:.2f}s" for n, bs in plan if bs in epochs[n])
        log(
            f"  round {r + 1}/{rounds}: gemm {gemm[-1]:.0f} GFLOP/s  {line}  (load {load_average()})"
        )
    return {"epochs": epochs, "loss": losses, "gemm": gemm, "runners": runners}


def time_predict(runners, x_test, n_single, repeats):
    """Samples per second of ``predict`` at batch 1 and batch ``len(x_test)``, alternating."""
    out = {name: {"1": [], str(len(x_test)): []} for name in runners}
    singles = [x_test[i : i + 1] for i in range(n_single)]
    for runner in runners.values():
        for xb in singles[:20]:
            runner.predict(xb)
        runner.predict(x_test)
    names = list(runners)
    for r in range(repeats):
        order = names if r % 2 == 0 else names[::-1]
        for name in order:
            predict = runners[name].predict
            time.sleep(PAUSE_S)
            t0 = time.perf_counter()
            for xb in singles:
                predict(xb)
            out[name]["1"].append(n_single / (time.perf_counter() - t0))
            time.sleep(PAUSE_S)
            t0 = time.perf_counter()
            predict(x_test)
            out[name][str(len(x_test))].append(len(x_test) / (time.perf_counter() - t0))
    return out


def measure_memory(names, batch_size, x, y):
    """Peak RSS of a training process per framework (each in its own subprocess).

    The children read the same float32 data from ``.npy`` files, so their peak is the training's,
    not the dataset loader's.
    """
    out = {}
    with tempfile.TemporaryDirectory() as tmp:
        xp, yp = Path(tmp) / "x.npy", Path(tmp) / "y.npy"
        np.save(xp, x)
        np.save(yp, y)
        for name in names:
            cmd = [sys.executable, str(HERE / "memory_child.py"), name]
            cmd += ["--batch-size", str(batch_size), "--data", str(xp), str(yp)]
            proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
            if proc.returncode != 0:
                log(f"  memory of {name} failed: {proc.stderr.strip().splitlines()[-1:]}")
                continue
            out[name] = json.loads(proc.stdout.strip().splitlines()[-1])
            log(
                f"  {name}: peak {out[name]['peak_mb']:.0f} MiB (data and model loaded: "
                f"{out[name]['baseline_mb']:.0f} MiB)"
            )
    return out


# -- report ---------------------------------------------------------------------------------------
def paired_ratio(a: list[float], b: list[float]) -> dict:
    """Median (and min-max) of the per-round ratios a[i] / b[i]."""
    ratios = [p / q for p, q in zip(a, b)]
    return summary(ratios)


def fmt_s(s: dict) -> str:
    return f"{s['median']:.2f} ({s['min']:.2f}-{s['max']:.2f})"


def fmt_r(s: dict) -> str:
    return f"{s['median']:.2f} ({s['min']:.2f}-{s['max']:.2f})"


def evaluate_targets(res: dict) -> dict:
    ep = res["training"]["epochs"]
    ratios = res["ratios"]
    found = {}
    for bs in (32, 128, 512):
        if f"nablanet/torch@{bs}" in ratios:
            found[f"train_{bs}"] = ratios[f"nablanet/torch@{bs}"]["median"]
    if "nablanet" in ep and 128 in ep["nablanet"]:
        found["roofline_128"] = res["roofline"]["nablanet"][128]
    if "nablanet/numpy@128" in ratios:
        found["fit_overhead"] = ratios["nablanet/numpy@128"]["median"]
    if "nablanet/sklearn@128" in ratios:
        found["sklearn_128"] = ratios["nablanet/sklearn@128"]["median"]
    pred = res.get("predict_ratios", {})
    for key in ("1", str(res.get("predict_big", 10000))):
        if key in pred:
            found["predict_1" if key == "1" else "predict_10000"] = pred[key]["median"]
    mem = res.get("memory", {})
    if "nablanet" in mem and "torch" in mem:
        found["memory"] = mem["nablanet"]["peak_mb"] / mem["torch"]["peak_mb"]
    out = {}
    for key, value in found.items():
        desc, op, threshold = TARGETS[key]
        met = value <= threshold if op == "<=" else value >= threshold
        out[key] = {"description": desc, "value": value, "target": f"{op} {threshold}", "met": met}
    return out


def markdown(res: dict) -> str:
    lines = []
    m = res["machine"]
    lines.append(f"# MLP benchmark ({res['date']})")
    lines.append("")
    lines.append(
        f"Machine: {m['cpu']}, {m['cores']} cores; Python {m['python']}, NumPy {m['numpy']} "
        f"({m['blas']}); PyTorch {m.get('torch', '-')}; scikit-learn {m.get('scikit-learn', '-')}; "
        f"nablanet at {m.get('git', '?')}. Load average before / after: {res['load_before']} / "
        f"{res['load_after']}."
    )
    lines.append("")
    lines.append(
        f"Model 784-256-128-10 (ReLU, softmax cross-entropy, Adam 1e-3), float32, "
        f"Fashion-MNIST {res['samples']} training samples; {res['rounds']} alternating rounds; "
        f"command `{res['command']}`. Times are medians (min-max) over rounds; a ratio is the "
        f"median (min-max) of the per-round ratios. GEMM: {res['gemm']['median']:.0f} GFLOP/s "
        f"({res['gemm']['min']:.0f}-{res['gemm']['max']:.0f}), float32 2048^3 through NumPy."
    )
    lines.append("")
    lines.append("## Targets")
    lines.append("")
    lines.append("| target | measured | goal | met |")
    lines.append("| --- | --- | --- | --- |")
    for t in res["targets"].values():
        value = f"{t['value']:.0%}" if "roofline" in t["description"] else f"{t['value']:.2f}"
        lines.append(
            f"| {t['description']} | {value} | {t['target']} | {'yes' if t['met'] else '**no**'} |"
        )
    lines.append("")
    ep = res["training"]["epochs"]
    names = [n for n in res["frameworks"] if ep.get(n)]
    lines.append("## Training: seconds per epoch")
    lines.append("")
    lines.append("| batch | " + " | ".join(names) + " | nablanet / torch | nablanet / numpy |")
    lines.append("| --- |" + " --- |" * (len(names) + 2))
    for bs in res["batch_sizes"]:
        cells = [fmt_s(summary(ep[n][bs])) if bs in ep[n] else "" for n in names]
        r_t = res["ratios"].get(f"nablanet/torch@{bs}")
        r_n = res["ratios"].get(f"nablanet/numpy@{bs}")
        lines.append(
            f"| {bs} | "
            + " | ".join(cells)
            + f" | {fmt_r(r_t) if r_t else '-'} | {fmt_r(r_n) if r_n else '-'} |"
        )
    peers = [f"nablanet/{p}@128" for p in ("sklearn", "tinynn", "numpy-ml")]
    peers = [k for k in peers if k in res["ratios"]] + [
        f"nablanet/{p}@128" for p in res.get("left_out", {}) if p in ("tinynn", "numpy-ml")
    ]
    if peers:
        lines.append("")
        lines.append(
            "Against the NumPy peers, batch 128 (median (min-max) of the per-round ratios):"
        )
        lines.append("")
        lines.append("| ratio | epoch time |")
        lines.append("| --- | --- |")
        notes = []
        for key in peers:
            if key in res["ratios"]:
                lines.append(f"| {key.split('@')[0]} | {fmt_r(res['ratios'][key])} |")
            else:
                peer = key.split("/")[1].split("@")[0]
                notes.append(f"{peer}: {res['left_out'][peer]}")
                lines.append(f"| {key.split('@')[0]} | -[{len(notes)}] |")
        lines += [""] + [f"[{i}] {n}" for i, n in enumerate(notes, 1)] if notes else []
    lines.append("")
    lines.append(
        "Fraction of the GEMM roofline (6 x params x samples FLOPs at the median GEMM rate):"
    )
    lines.append("")
    roof_names = [n for n in names if n in res["roofline"]]
    lines.append("| batch | " + " | ".join(roof_names) + " |")
    lines.append("| --- |" + " --- |" * len(roof_names))
    for bs in res["batch_sizes"]:
        cells = [
            f"{res['roofline'][n][bs]:.0%}" if bs in res["roofline"][n] else "" for n in roof_names
        ]
        lines.append(f"| {bs} | " + " | ".join(cells) + " |")
    if res.get("predict"):
        lines.append("")
        lines.append("## Prediction: samples per second")
        lines.append("")
        pnames = list(res["predict"])
        lines.append("| batch | " + " | ".join(pnames) + " | nablanet / torch |")
        lines.append("| --- |" + " --- |" * (len(pnames) + 1))
        for key in ("1", str(res["predict_big"])):
            cells = [f"{statistics.median(res['predict'][n][key]):,.0f}" for n in pnames]
            r = res.get("predict_ratios", {}).get(key)
            lines.append(f"| {key} | " + " | ".join(cells) + f" | {fmt_r(r) if r else '-'} |")
    if res.get("memory"):
        lines.append("")
        lines.append("## Peak memory of a training process (MiB)")
        lines.append("")
        lines.append("| framework | data and model loaded | peak (VmHWM) |")
        lines.append("| --- | --- | --- |")
        for name, m_ in res["memory"].items():
            lines.append(f"| {name} | {m_['baseline_mb']:.0f} | {m_['peak_mb']:.0f} |")
    lines.append("")
    lines.append(
        "Mean training loss of the last epoch (sanity: every framework trains the same model): "
        + ", ".join(
            f"{n} {statistics.median(res['training']['loss'][n][128]):.3f}"
            for n in names
            if 128 in res["training"]["loss"][n]
        )
        + " (batch 128)."
    )
    return "\n".join(lines) + "\n"


# -- main -----------------------------------------------------------------------------------------
def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true", help="3 rounds on 12000 samples")
    p.add_argument("--rounds", type=int, default=None, help="rounds (default 5, quick 3)")
    p.add_argument("--samples", type=int, default=None, help="training samples (default all)")
    p.add_argument("--batch-sizes", default="32,128,512")
    p.add_argument(
        "--frameworks", default=",".join(DEFAULT_FRAMEWORKS), help="comma-separated runners"
    )
    p.add_argument("--data-dir", default=None, help="where Fashion-MNIST is (or goes)")
    p.add_argument("--no-memory", action="store_true", help="skip the peak-memory subprocesses")
    p.add_argument("--no-predict", action="store_true", help="skip prediction throughput")
    p.add_argument("--no-cnn", action="store_true", help="skip bench_cnn.py")
    p.add_argument("--output", default=str(RESULTS / "mlp"), help="results path stem")
    p.add_argument("--no-write", action="store_true", help="print only")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> dict:
    argv = sys.argv[1:] if argv is None else argv
    args = parse_args(argv)
    rounds = args.rounds or (3 if args.quick else 5)
    samples = args.samples or (12_000 if args.quick else None)
    batch_sizes = [int(b) for b in args.batch_sizes.split(",")]
    names = []
    left_out: dict[str, str] = {}
    for name in args.frameworks.split(","):
        if name not in RUNNERS:
            raise SystemExit(f"unknown framework {name!r}; choose from {sorted(RUNNERS)}")
        if available(name):
            names.append(name)
        else:
            left_out[name] = f"not installed ({frameworks.OPTIONAL[name][1]})"
            log(f"{name} is not installed: left out")
    info = machine()
    if "torch" in names:
        import torch

        info["torch"] = torch.__version__
    load_before = load_average()
    log(f"machine: {info}")
    log(f"load average: {load_before}")
    x, y, x_test, _ = load_fashion_mnist(args.data_dir, samples)
    log(
        f"data: {x.shape} {x.dtype}, test {x_test.shape}; frameworks {names}; "
        f"batch sizes {batch_sizes}; {rounds} rounds"
    )

    t_start = time.perf_counter()
    log("training epochs:")
    tr = time_training(names, x, y, batch_sizes, rounds)
    gemm = summary(tr["gemm"])
    flops = 6.0 * n_params(SIZES) * len(x)
    epochs = tr["epochs"]
    roofline = {
        n: {bs: flops / (gemm["median"] * 1e9 * statistics.median(ts)) for bs, ts in e.items()}
        for n, e in epochs.items()
        if n in ("nablanet", "numpy", "torch")
    }
    ratios = {}
    for other in ("torch", "numpy", "sklearn", "tinynn", "numpy-ml"):
        if other in epochs and "nablanet" in epochs:
            for bs in batch_sizes:
                if bs in epochs[other] and bs in epochs["nablanet"]:
                    ratios[f"nablanet/{other}@{bs}"] = paired_ratio(
                        epochs["nablanet"][bs], epochs[other][bs]
                    )
    res = {
        "date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "command": "python benchmarks/run.py " + " ".join(argv),
        "machine": info,
        "load_before": load_before,
        "samples": len(x),
        "rounds": rounds,
        "batch_sizes": batch_sizes,
        "frameworks": names,
        "left_out": left_out,
        "gemm": gemm,
        "training": {"epochs": epochs, "loss": tr["loss"]},
        "roofline": roofline,
        "ratios": ratios,
    }

    if not args.no_predict:
        log("prediction throughput:")
        pred_names = [n for n in ("nablanet", "numpy", "torch") if n in names]
        runners = {n: tr["runners"][n, batch_sizes[0]] for n in pred_names}
        big = x_test[:10_000]
        pred = time_predict(runners, big, 200 if args.quick else 1000, rounds)
        res["predict"] = pred
        res["predict_big"] = len(big)
        if "torch" in pred and "nablanet" in pred:
            res["predict_ratios"] = {
                k: paired_ratio(pred["nablanet"][k], pred["torch"][k]) for k in pred["nablanet"]
            }
        for n, d in pred.items():
            log(
                "  "
                + n
                + ": "
                + ", ".join(f"batch {k}: {statistics.median(v):,.0f}/s" for k, v in d.items())
            )

    if not args.no_memory:
        log("peak memory (one subprocess each):")
        mem_names = [n for n in ("nablanet", "numpy", "torch") if n in names]
        res["memory"] = measure_memory(mem_names, 128, x, y)

    res["load_after"] = load_average()
    res["seconds"] = time.perf_counter() - t_start
    res["targets"] = evaluate_targets(res)
    text = markdown(res)
    log("")
    log(text)
    if not args.no_write:
        stem = Path(args.output)
        stem.parent.mkdir(parents=True, exist_ok=True)
        stem.with_suffix(".md").write_text(text)
        stem.with_suffix(".json").write_text(json.dumps(res, indent=1, default=_jsonable))
        log(f"written {stem.with_suffix('.md')} and {stem.with_suffix('.json')}")

    if not args.no_cnn and (HERE / "bench_cnn.py").exists():
        log("\nCNN benchmark (bench_cnn.py):")
        import bench_cnn

        cnn_argv = ["--workloads", "all", "--memory", "--peers"]
        cnn_argv += ["--rounds", "2", "--samples", "2560"] if args.quick else []
        if args.no_write:
            cnn_argv.append("--no-write")
        bench_cnn.main(cnn_argv)
    return res


def _jsonable(obj):
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, dict):
        return {str(k): v for k, v in obj.items()}
    return str(obj)


if __name__ == "__main__":
    # the BLAS and PyTorch thread pools keep their defaults; say so when someone pinned them
    pinned = {
        k: os.environ[k] for k in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS") if k in os.environ
    }
    if pinned:
        log(f"note: thread counts pinned by the environment: {pinned}")
    main()
