"""Which default storage for `nablanet tune`: Optuna's journal file or SQLite, with 2-4 workers.

Each worker is a separate process running ``--trials`` trials of a cheap objective (three
suggestions, three reported steps, a short sleep standing in for training) on one shared study.
For each storage and number of workers it reports the wall time, the storage's cost per trial
(wall time minus the sleeping, per trial and worker), errors raised in the workers, and whether
every trial arrived exactly once (numbers 0..N-1, one per trial, none left RUNNING).

    python benchmarks/bench_tune_storage.py [--trials 30] [--workers 2 3 4] [--sleep 0.05]

Needs the ``tune`` extra (optuna). The numbers in docs/tuning.md come from this script.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import sys
import tempfile
import time
from pathlib import Path


def storage_for(kind: str, folder: Path):
    import optuna

    if kind == "journal":
        from optuna.storages.journal import JournalFileBackend

        return optuna.storages.JournalStorage(JournalFileBackend(str(folder / "study.journal")))
    from nablanet.pipeline.tune.storage import default_storage_url, open_storage

    # what `nablanet tune` uses: 60 s lock timeout, WAL, heartbeats every 10 s
    return open_storage(default_storage_url(folder), heartbeat_interval=10, grace_period=60)


def worker(kind: str, folder: str, n_trials: int, sleep: float, out) -> None:
    import warnings

    import optuna

    warnings.filterwarnings("ignore")
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    errors = []
    elapsed = float("nan")
    try:
        study = optuna.create_study(
            storage=storage_for(kind, Path(folder)), study_name="bench", load_if_exists=True
        )

        def objective(trial):
            x = trial.suggest_float("lr", 1e-4, 1e-1, log=True)
            u = trial.suggest_int("units", 8, 256, step=8)
            b = trial.suggest_categorical("batch", [32, 64, 128])
            for step in range(3):
                time.sleep(sleep / 3)
                trial.report(x * u / b + step, step)
            return x * u / b

        t0 = time.perf_counter()
        study.optimize(objective, n_trials=n_trials, catch=(Exception,))
        elapsed = time.perf_counter() - t0
    except Exception as e:  # the worker itself fell over (a locked database, ...)
        errors.append(f"{type(e).__name__}: {e}")
    out.put((errors, elapsed))


def measure(kind: str, n_workers: int, n_trials: int, sleep: float) -> dict:
    import optuna

    ctx = mp.get_context("spawn")
    with tempfile.TemporaryDirectory() as tmp:
        # create the study once, so the workers' start-up does not race on the schema
        optuna.create_study(storage=storage_for(kind, Path(tmp)), study_name="bench")
        q = ctx.Queue()
        procs = [
            ctx.Process(target=worker, args=(kind, tmp, n_trials, sleep, q))
            for _ in range(n_workers)
        ]
        t0 = time.perf_counter()
        for p in procs:
            p.start()
        results = [q.get() for _ in procs]
        errors = [e for errs, _ in results for e in errs]
        optimize_s = [t for _, t in results]
        for p in procs:
            p.join()
        wall = time.perf_counter() - t0
        trials = optuna.load_study(
            storage=storage_for(kind, Path(tmp)), study_name="bench"
        ).get_trials(deepcopy=False)
    numbers = sorted(t.number for t in trials)
    expected = n_workers * n_trials
    states: dict[str, int] = {}
    for t in trials:
        states[t.state.name] = states.get(t.state.name, 0) + 1
    return {
        "storage": kind,
        "workers": n_workers,
        "trials": len(trials),
        "expected": expected,
        "exactly_once": numbers == list(range(expected)),
        "states": states,
        "errors": errors,
        "wall_s": round(wall, 2),
        # storage time per trial: what a worker's optimize() spent beyond its sleeping
        # (start-up and imports left out), averaged over the workers
        "overhead_ms_per_trial": round(
            1000 * (sum(optimize_s) / len(optimize_s) - n_trials * sleep) / n_trials, 1
        ),
    }


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--trials", type=int, default=30, help="trials per worker")
    p.add_argument("--workers", type=int, nargs="+", default=[2, 3, 4])
    p.add_argument("--sleep", type=float, default=0.05, help="seconds of 'training' per trial")
    p.add_argument("--json", action="store_true")
    args = p.parse_args(argv)
    rows = [
        measure(kind, n, args.trials, args.sleep)
        for n in args.workers
        for kind in ("journal", "sqlite")
    ]
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    print(
        "| storage | workers | trials | exactly once | states | errors | wall (s) | ms per trial |"
    )
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    for r in rows:
        print(
            f"| {r['storage']} | {r['workers']} | {r['trials']}/{r['expected']} | "
            f"{'yes' if r['exactly_once'] else 'NO'} | {r['states']} | {len(r['errors'])} | "
            f"{r['wall_s']} | {r['overhead_ms_per_trial']} |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
