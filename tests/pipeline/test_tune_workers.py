"""Several ``nablanet tune`` processes on one study, for real: worker subprocesses of the CLI
at once on the default storage (SQLite in the study folder) and on a PostgreSQL server.

No trial is lost or run twice, the total is the sum of the workers' ``--n-trials``, and a
worker killed with SIGKILL costs only its current trial, which another worker marks FAIL
after the grace period (kept at 2 s here by ``tune.grace_period``).

The PostgreSQL tests need ``NABLANET_TEST_POSTGRES_URL`` (``.ci/run`` starts a throwaway
server with ``.ci/start-postgres.sh`` and sets it). Without it they skip, except under CI
(``CI=true``), where a missing server is a failure.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from .conftest import breast_cancer_config, write_config

optuna = pytest.importorskip("optuna")

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def postgres_url() -> str:
    url = os.environ.get("NABLANET_TEST_POSTGRES_URL")
    if not url:
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(
                "CI is set but NABLANET_TEST_POSTGRES_URL is not: .ci/run must start the "
                "PostgreSQL server (.ci/start-postgres.sh) for these tests"
            )
        pytest.skip("NABLANET_TEST_POSTGRES_URL is not set (start one: .ci/start-postgres.sh)")
    pytest.importorskip("psycopg")
    return url


def worker_config(tmp_path: Path, epochs: int = 2) -> Path:
    data = breast_cancer_config(tmp_path, epochs=epochs)
    data["training"]["early_stopping"] = None
    data["training"]["scheduler"] = None
    data["tune"] = {
        "study": "shared",
        "metric": "val_loss",
        "sampler": {"name": "random"},
        "pruner": {"name": "none"},
        "heartbeat_interval": 1,
        "grace_period": 2,
        "space": {
            "training.optimizer.learning_rate": {
                "type": "float",
                "low": 1.0e-3,
                "high": 0.05,
                "log": True,
            },
            "model.layers[0].units": {"type": "int", "low": 4, "high": 12},
        },
    }
    return write_config(tmp_path / "tune.yaml", data)


def start_worker(tmp_path: Path, config: Path, n_trials: int, *extra: str) -> subprocess.Popen:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT / "src"), env.get("PYTHONPATH", "")])
    cmd = [sys.executable, "-m", "nablanet.cli", "tune", "--config", str(config)]
    cmd += ["--n-trials", str(n_trials), "--no-plots", *extra]
    return subprocess.Popen(
        cmd, cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def finish(proc: subprocess.Popen, timeout: float = 150) -> str:
    out, err = proc.communicate(timeout=timeout)
    assert proc.returncode == 0, f"worker exited {proc.returncode}:\n{out}\n{err}"
    return out


def load(storage: str, name: str):
    return optuna.load_study(study_name=name, storage=storage)


def check_every_trial_once(study, folder: Path, total: int) -> None:
    trials = study.get_trials()
    assert sorted(t.number for t in trials) == list(range(total))  # none lost, none twice
    assert all(t.state.name == "COMPLETE" for t in trials), [t.state.name for t in trials]
    run_dirs = [Path(t.user_attrs["run_dir"]) for t in trials]
    assert len(set(run_dirs)) == total
    for t, run_dir in zip(trials, run_dirs):
        assert run_dir.parent == folder.resolve()
        metrics = json.loads((run_dir / "metrics.json").read_text())
        assert metrics["tune"]["trial"] == t.number and metrics["status"] == "completed"
    assert len(list(folder.glob("trial-*"))) == total


def run_workers(tmp_path, n_trials: list[int], *extra: str) -> list[str]:
    config = worker_config(tmp_path)
    procs = [start_worker(tmp_path, config, n, *extra) for n in n_trials]
    return [finish(p) for p in procs]


@pytest.mark.parametrize(
    "n_trials",
    [
        pytest.param([2, 3], id="2-workers"),
        pytest.param([2, 1, 2], id="3-workers", marks=pytest.mark.slow),
    ],
)
def test_workers_share_the_default_storage(tmp_path, n_trials):
    run_workers(tmp_path, n_trials)
    folder = tmp_path / "runs" / "shared"
    study = load(f"sqlite:///{folder / 'study.db'}", "shared")
    check_every_trial_once(study, folder, sum(n_trials))


@pytest.mark.parametrize(
    "n_trials",
    [
        pytest.param([2, 2], id="2-workers"),
        pytest.param([1, 2, 2], id="3-workers", marks=pytest.mark.slow),
    ],
)
def test_workers_share_a_postgresql_study(tmp_path, postgres_url, n_trials):
    name = f"shared-{uuid.uuid4().hex[:10]}"
    outs = run_workers(tmp_path, n_trials, "--storage", postgres_url, "--study", name)
    assert all(f"study {name} in postgresql" in out for out in outs)
    check_every_trial_once(load(postgres_url, name), tmp_path / "runs" / name, sum(n_trials))


def kill_during_a_trial(tmp_path, storage: str, name: str, *extra: str) -> None:
    """Worker A starts a long trial and is SIGKILLed while it trains; after the grace period
    worker B runs two trials: A's trial ends FAIL, B's complete, nothing stays RUNNING."""
    config = worker_config(tmp_path, epochs=2)
    a = start_worker(tmp_path, config, 1, "--set", "training.epochs=3000", *extra)
    deadline = time.monotonic() + 90
    folder = tmp_path / "runs" / name
    try:
        while True:  # wait until A is inside its trial, training (a checkpoint written)
            assert a.poll() is None, a.communicate()
            assert time.monotonic() < deadline, "worker A never started training"
            if (folder / "trial-0000" / "checkpoints" / "last.npz").exists():
                break
            time.sleep(0.2)
        assert [t.state.name for t in load(storage, name).get_trials()] == ["RUNNING"]
    finally:
        a.send_signal(signal.SIGKILL)
        a.wait()
    assert a.returncode == -signal.SIGKILL
    time.sleep(3)  # past the grace period (2 s)
    finish(start_worker(tmp_path, config, 2, *extra))
    trials = load(storage, name).get_trials()
    assert [t.state.name for t in trials] == ["FAIL", "COMPLETE", "COMPLETE"]
    assert (folder / "trial-0000" / "config.yaml").exists()  # its run directory stays
    assert not (folder / "trial-0000" / "metrics.json").exists()


@pytest.mark.slow
def test_a_killed_worker_costs_only_its_trial(tmp_path):
    folder = tmp_path / "runs" / "shared"
    kill_during_a_trial(tmp_path, f"sqlite:///{folder / 'study.db'}", "shared")


@pytest.mark.slow
def test_a_killed_worker_costs_only_its_trial_on_postgresql(tmp_path, postgres_url):
    name = f"killed-{uuid.uuid4().hex[:10]}"
    kill_during_a_trial(tmp_path, postgres_url, name, "--storage", postgres_url, "--study", name)
