"""The overhead of ``nablanet tune`` per trial, against a plain training of the same config.

Every trial trains the same config (the space is one categorical with a single choice), so the
difference between a trial and a plain :func:`nablanet.pipeline.train` is the tune machinery:
asking the sampler, the storage's writes (trial, parameters, one reported value per epoch,
heartbeats), the pruner's question every epoch and the trial's bookkeeping. Measured in one
process (interpreter start-up is the same for both and left out), on the default storage
(SQLite in the study folder) and, with ``--postgres URL``, on PostgreSQL.

    python benchmarks/bench_tune.py [--trials 10] [--epochs 3] [--postgres postgresql://...]

Needs the ``tune`` extra. docs/performance.md quotes its output.
"""

from __future__ import annotations

import argparse
import copy
import logging
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path


def base_config(out: Path, epochs: int) -> dict:
    return {
        "name": "bench",
        "seed": 0,
        "data": {"dataset": "breast_cancer"},
        "model": {
            "layers": [
                {"type": "dense", "units": 16, "activation": "relu"},
                {"type": "dense", "units": 1, "activation": "sigmoid"},
            ]
        },
        "training": {"loss": "binary_crossentropy", "epochs": epochs},
        "evaluation": {"plots": False},
        "output_dir": str(out),
        "tune": {
            "metric": "val_loss",
            "sampler": {"name": "tpe"},
            "pruner": {"name": "median", "n_startup_trials": 2},
            "space": {
                "training.optimizer.learning_rate": {"type": "categorical", "choices": [1e-3]}
            },
        },
    }


def time_plain(data: dict, n: int) -> list[float]:
    from nablanet.pipeline import config_from_dict, train

    plain = {k: v for k, v in data.items() if k != "tune"}
    cfg = config_from_dict(plain)
    train(cfg, progress=False)  # warm-up: dataset cache, imports
    times = []
    for _ in range(n):
        t0 = time.perf_counter()
        train(cfg, progress=False)
        times.append(time.perf_counter() - t0)
    return times


def time_tune(data: dict, n: int, storage: str | None) -> dict:
    from nablanet.pipeline import config_from_dict
    from nablanet.pipeline.tune import run_tune

    data = copy.deepcopy(data)
    data["tune"]["study"] = f"bench-{uuid.uuid4().hex[:8]}"
    cfg = config_from_dict(data)
    t0 = time.perf_counter()
    result = run_tune(cfg, data, storage=storage, n_trials=n, plots=False)
    total = time.perf_counter() - t0
    durations = [r.duration_s for r in result.rows if r.duration_s is not None]
    return {"total": total, "trial": durations, "n": len(result.rows)}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--trials", type=int, default=10)
    p.add_argument("--epochs", type=int, default=3)
    p.add_argument("--postgres", metavar="URL", help="also measure this PostgreSQL storage")
    args = p.parse_args(argv)
    logging.getLogger("nablanet").setLevel(logging.WARNING)
    with tempfile.TemporaryDirectory() as tmp:
        data = base_config(Path(tmp) / "runs", args.epochs)
        plain = time_plain(data, args.trials)
        rows = [("plain train", statistics.median(plain), None, None)]
        storages = [("default (SQLite)", None)]
        if args.postgres:
            storages.append(("PostgreSQL", args.postgres))
        for label, url in storages:
            r = time_tune(data, args.trials, url)
            per_trial = statistics.median(r["trial"])
            fixed = r["total"] - sum(r["trial"])
            rows.append((f"tune, {label}", per_trial, per_trial - rows[0][1], fixed))
    print(f"breast cancer, 16-unit MLP, {args.epochs} epochs, {args.trials} trials, median")
    print("| what | s per run/trial | overhead per trial (s) | fixed per process (s) |")
    print("| --- | --- | --- | --- |")
    for what, t, over, fixed in rows:
        print(
            f"| {what} | {t:.3f} | {'' if over is None else f'{over:+.3f}'} | "
            f"{'' if fixed is None else f'{fixed:.2f}'} |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
