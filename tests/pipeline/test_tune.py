"""``nablanet tune``: the space parser and config substitution, pruning, the CLI end to end on
breast cancer (several trials, reruns continue, best.yaml trains, --show runs nothing), and bad
input (one line, exit status 2). Worker processes and PostgreSQL: test_tune_workers.py."""

from __future__ import annotations

import copy
import json
import re
import sys
from pathlib import Path

import pytest
import yaml

from nablanet.cli import main
from nablanet.pipeline import ConfigError, config_from_dict, train
from nablanet.pipeline.tune import (
    TrialReporter,
    check_tune_config,
    load_study,
    load_tune_config,
    logged_metrics,
    objective_value,
    suggest,
    trial_config,
    trial_histories,
)

from .conftest import breast_cancer_config, write_config

optuna = pytest.importorskip("optuna")

SPACE = {
    "training.optimizer.learning_rate": {"type": "float", "low": 1.0e-3, "high": 0.1, "log": True},
    "training.batch_size": {"type": "categorical", "choices": [32, 64]},
    "model.layers[0].units": {"type": "int", "low": 4, "high": 16, "step": 4},
    "model.layers[1].rate": {"type": "float", "low": 0.0, "high": 0.5},
}


def tune_config(tmp_path: Path, **tune) -> dict:
    """The fast breast-cancer config (2 epochs, 8 units, no plots) with a tune: section."""
    data = breast_cancer_config(tmp_path, epochs=2)
    data["tune"] = {
        "study": "bc_study",
        "metric": "val_accuracy",
        "n_trials": 2,
        "sampler": {"name": "random", "seed": 0},
        "pruner": {"name": "none"},
        "space": copy.deepcopy(SPACE),
        **tune,
    }
    return data


def run_cli(capsys, *argv) -> tuple[int, str, str]:
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def study_trials(folder: Path, name: str = "bc_study"):
    storage = f"sqlite:///{folder / 'study.db'}"
    return optuna.load_study(study_name=name, storage=storage).get_trials()


# -- schema and space ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ({"type": "float", "low": 0.5, "high": 0.5}, "tune.space.k.low: must be smaller than high"),
        ({"type": "float", "low": 0.0, "high": 1.0, "log": True}, "must be > 0 with log: true"),
        ({"type": "int", "low": 1.5, "high": 4}, "must be an integer for an int entry"),
        ({"type": "floaty", "low": 0, "high": 1}, "tune.space.k.type: must be one of"),
        ({"type": "categorical", "choices": []}, "needs a non-empty list"),
        ({"type": "float", "high": 1.0}, "tune.space.k.low: required for a float entry"),
        ({"type": "int", "low": 1, "high": 9, "step": 2, "log": True}, "cannot be combined"),
    ],
)
def test_space_entries_are_validated_with_key_paths(tmp_path, entry, message):
    data = tune_config(tmp_path, space={"k": entry})
    with pytest.raises(ConfigError, match=re.escape(message)) as info:
        config_from_dict(data)
    assert "\n" not in str(info.value)


@pytest.mark.parametrize(
    ("tune", "message"),
    [
        ({"sampler": {"name": "cmaes"}}, "tune.sampler.name: must be one of"),
        ({"pruner": {"name": "median-ish"}}, "tune.pruner.name: must be one of"),
        ({"sampler": {"name": "grid"}}, "the grid sampler needs every space entry"),
        ({"heartbeat_interval": 10, "grace_period": 5}, "tune.grace_period: must be longer"),
        ({"n_trial": 3}, "tune.n_trial: unknown key (did you mean 'n_trials'?)"),
        ({"direction": "up"}, "tune.direction: must be one of"),
    ],
)
def test_tune_section_errors_name_the_key(tmp_path, tune, message):
    with pytest.raises(ConfigError, match=re.escape(message)):
        config_from_dict(tune_config(tmp_path, **tune))


def test_a_config_without_tune_is_unchanged_and_trains(tmp_path):
    cfg = config_from_dict(breast_cancer_config(tmp_path))
    assert cfg.tune is None
    assert "tune" not in cfg.to_dict()  # ordinary runs' config.yaml has no tune: null
    with_tune = config_from_dict(tune_config(tmp_path))
    assert with_tune.tune.resolved_direction() == "maximize"
    assert config_from_dict(with_tune.to_dict()).tune == with_tune.tune  # round trip


def test_space_keys_must_be_paths_into_the_config(tmp_path):
    data = tune_config(
        tmp_path, space={"model.layers[0].unit": {"type": "int", "low": 4, "high": 8}}
    )
    cfg = config_from_dict(data)
    with pytest.raises(ConfigError) as info:
        check_tune_config(cfg, data)
    assert str(info.value) == (
        "tune.space.model.layers[0].unit: not a path into the config "
        "(nearest valid key: model.layers[0].units)"
    )
    data["tune"]["space"] = {"model.layers[7].units": {"type": "int", "low": 4, "high": 8}}
    with pytest.raises(ConfigError, match=r"layers\[7\].units: not a path.*nearest valid key"):
        check_tune_config(config_from_dict(data), data)


def test_values_that_do_not_fit_the_config_are_caught_before_any_trial(tmp_path):
    data = tune_config(
        tmp_path, space={"training.batch_size": {"type": "float", "low": 8, "high": 64}}
    )
    with pytest.raises(
        ConfigError, match=r"tune.space.training.batch_size: the value 8.0 does not"
    ):
        check_tune_config(config_from_dict(data), data)


def test_the_metric_must_be_logged(tmp_path):
    data = tune_config(tmp_path, metric="val_f1")
    with pytest.raises(ConfigError) as info:
        check_tune_config(config_from_dict(data), data)
    assert str(info.value) == (
        "tune.metric: 'val_f1' is not logged for this config; available: loss, accuracy, "
        "val_loss, val_accuracy"
    )
    data = tune_config(tmp_path, metric="val_mae")
    data["training"]["loss"] = "mse"
    data["model"]["layers"][-1]["activation"] = "linear"
    assert "val_mae" in logged_metrics(config_from_dict(data))


def test_trial_config_puts_values_at_their_paths_and_leaves_the_base_alone(tmp_path):
    data = tune_config(tmp_path)
    data["training"]["optimizer"] = "adam"  # the short form: a name only
    before = copy.deepcopy(data)
    cfg = trial_config(
        data,
        {
            "training.optimizer.learning_rate": 0.02,
            "model.layers[0].units": 12,
            "model.layers[1].rate": 0.3,
            "training.batch_size": 64,
        },
    )
    assert data == before
    assert cfg.tune is None
    assert cfg.training.optimizer.name == "adam"
    assert cfg.training.optimizer.learning_rate == 0.02
    assert (cfg.model.layers[0].units, cfg.model.layers[1].rate) == (12, 0.3)
    assert cfg.training.batch_size == 64
    assert cfg.training.epochs == 2  # the rest is the base


def test_suggest_draws_every_entry_inside_its_range(tmp_path):
    spec = config_from_dict(tune_config(tmp_path)).tune
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=1))
    for _ in range(20):
        params = suggest(study.ask(), spec.space)
        assert 1e-3 <= params["training.optimizer.learning_rate"] <= 0.1
        assert params["training.batch_size"] in (32, 64)
        assert params["model.layers[0].units"] in (4, 8, 12, 16)
        assert 0.0 <= params["model.layers[1].rate"] <= 0.5
    dist = study.trials[0].distributions["training.optimizer.learning_rate"]
    assert dist.log and (dist.low, dist.high) == (1e-3, 0.1)


# -- pruning and the objective ------------------------------------------------------------------
class FakeTrainer:
    stop_training = False


def test_median_pruning_with_a_fake_objective():
    """Trials that report the same curve complete; one far worse is pruned at the first step
    past the warm-up, and the training is asked to stop there."""
    study = optuna.create_study(
        direction="minimize",
        pruner=optuna.pruners.MedianPruner(n_startup_trials=2, n_warmup_steps=1),
    )
    stopped_at = {}

    def objective(trial):
        bad = trial.number >= 2
        reporter = TrialReporter(trial, "val_loss")
        trainer = FakeTrainer()
        reporter.set_trainer(trainer)
        for epoch in range(5):
            loss = (5.0 if bad else 1.0) / (epoch + 1)
            reporter.on_epoch_end(epoch, {"val_loss": loss, "loss": loss})
            if trainer.stop_training:
                stopped_at[trial.number] = epoch
                assert reporter.stop_status == "pruned"
                raise optuna.TrialPruned()
        return loss

    study.optimize(objective, n_trials=4)
    states = [t.state.name for t in study.trials]
    assert states == ["COMPLETE", "COMPLETE", "PRUNED", "PRUNED"]
    assert stopped_at == {2: 1, 3: 1}  # epoch 0 is warm-up
    assert study.trials[2].intermediate_values == {0: 5.0, 1: 2.5}


def test_reporter_skips_missing_and_nan_values():
    class Trial:
        def __init__(self):
            self.reported = []

        def report(self, v, s):
            self.reported.append((s, v))

        def should_prune(self):
            return False

    cb = TrialReporter(Trial(), "val_accuracy")
    cb.set_trainer(FakeTrainer())
    cb.on_epoch_end(0, {"loss": 1.0})
    cb.on_epoch_end(1, {"val_accuracy": float("nan")})
    cb.on_epoch_end(2, {"val_accuracy": 0.9})
    assert cb.trial.reported == [(2, 0.9)]


def test_objective_is_the_metric_of_the_final_weights(tmp_path):
    data = breast_cancer_config(tmp_path)
    with_restore = config_from_dict(data)
    history = {"val_loss": [0.5, 0.3, 0.4]}
    assert objective_value(history, {"best_epoch": 2}, with_restore, "val_loss") == 0.3
    data["training"]["early_stopping"] = None
    assert objective_value(history, {"best_epoch": 2}, config_from_dict(data), "val_loss") == 0.4
    assert objective_value({}, {}, with_restore, "val_loss") != objective_value(
        {}, {}, with_restore, "val_loss"
    )  # nan


def test_train_into_a_given_directory_with_metadata_and_a_stop_status(tmp_path):
    """The two small hooks of pipeline.train that tune uses."""
    from nablanet import nn

    class StopAfterFirst(nn.Callback):
        stop_status = None

        def on_epoch_end(self, epoch, logs=None):
            self.stop_status = "pruned"
            self.trainer.stop_training = True

    run_dir = tmp_path / "study" / "trial-0003"
    run_dir.mkdir(parents=True)
    cfg = config_from_dict(breast_cancer_config(tmp_path))
    result = train(
        cfg,
        callbacks=[StopAfterFirst()],
        run_dir=run_dir,
        metadata={"tune": {"study": "s", "trial": 3}},
        progress=False,
    )
    assert result.run_dir == run_dir and result.status == "pruned"
    metrics = json.loads((run_dir / "metrics.json").read_text())
    assert metrics["status"] == "pruned" and metrics["epochs"] == 1
    assert metrics["tune"] == {"study": "s", "trial": 3}
    from nablanet.pipeline import load_trained_model

    assert load_trained_model(run_dir / "model.npz").metadata["tune"]["trial"] == 3
    from nablanet.pipeline import RunDirError

    with pytest.raises(RunDirError, match="must be an existing, empty directory"):
        train(cfg, run_dir=run_dir, progress=False)  # a finished run is never overwritten


# -- the command, end to end --------------------------------------------------------------------
def test_tune_end_to_end_reruns_continue_and_best_trains(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    path = write_config(tmp_path / "tune.yaml", tune_config(tmp_path, n_trials=3))
    code, out, err = run_cli(capsys, "tune", "--config", path, "--no-plots")
    assert code == 0, err
    folder = tmp_path / "runs" / "bc_study"
    assert "study bc_study in sqlite:///" in out and "3 complete" in out
    trials = study_trials(folder)
    assert [t.number for t in trials] == [0, 1, 2]
    for t in trials:
        run_dir = Path(t.user_attrs["run_dir"])
        assert run_dir == (folder / f"trial-{t.number:04d}").resolve()
        metrics = json.loads((run_dir / "metrics.json").read_text())
        assert metrics["tune"]["trial"] == t.number and metrics["tune"]["study"] == "bc_study"
        assert metrics["tune"]["params"] == t.params
        saved = yaml.safe_load((run_dir / "config.yaml").read_text())
        assert "tune" not in saved
        assert saved["model"]["layers"][0]["units"] == t.params["model.layers[0].units"]
        assert t.value == pytest.approx(
            json.loads((run_dir / "history.json").read_text())["val_accuracy"][
                metrics["best_epoch"] - 1
            ]
        )
    first_metrics = (folder / "trial-0000" / "metrics.json").stat().st_mtime_ns

    # a second worker run goes on with the study: new numbers, old trials untouched
    code, out, err = run_cli(capsys, "tune", "--config", path, "--n-trials", "2", "--no-plots")
    assert code == 0, err
    assert [t.number for t in study_trials(folder)] == [0, 1, 2, 3, 4]
    assert (folder / "trial-0000" / "metrics.json").stat().st_mtime_ns == first_metrics
    assert sorted(p.name for p in folder.glob("trial-*")) == [f"trial-{i:04d}" for i in range(5)]

    # the table is best first; trials.csv has every trial
    best = max((t for t in study_trials(folder)), key=lambda t: t.value)
    table = out.splitlines()
    header = next(i for i, line in enumerate(table) if line.startswith("trial "))
    assert float(table[header + 1].split()[2]) == pytest.approx(best.value, rel=1e-4)
    rows = (folder / "trials.csv").read_text().splitlines()
    assert len(rows) == 6 and rows[0].startswith("number,state,val_accuracy")

    # --show runs nothing
    code, out, _ = run_cli(capsys, "tune", "--config", path, "--show", "--no-plots")
    assert code == 0 and "5 complete" in out
    assert len(study_trials(folder)) == 5

    # best.yaml is the best trial's complete config, without tune:, and it trains
    best_yaml = folder / "best.yaml"
    saved = yaml.safe_load(best_yaml.read_text())
    assert "tune" not in saved
    assert (
        saved["training"]["optimizer"]["learning_rate"]
        == best.params["training.optimizer.learning_rate"]
    )
    assert saved["model"]["layers"][1]["rate"] == best.params["model.layers[1].rate"]
    code, out, err = run_cli(capsys, "train", "--config", best_yaml)
    assert code == 0, err
    assert "completed" in out

    # the UI's view of the study: trials best first, with their curves
    info = load_study(folder)
    assert info.metric == "val_accuracy" and info.direction == "maximize"
    assert info.rows[0].number == best.number and info.n_complete == 5
    curves = trial_histories(info.rows[:2])
    assert list(curves) == [f"trial {r.number}" for r in info.rows[:2]]
    assert len(curves[f"trial {best.number}"]["val_accuracy"]) == 2


def test_pruned_trials_stop_early_keep_their_run_and_are_marked(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    lr = "training.optimizer.learning_rate"
    pruner = {"name": "median", "n_startup_trials": 1, "n_warmup_steps": 0}
    good = tune_config(tmp_path, metric="val_loss", n_trials=2)  # pruner: none
    good["training"]["epochs"] = 4
    good["tune"]["space"] = {lr: {"type": "float", "low": 0.05, "high": 0.06}}
    bad = copy.deepcopy(good)  # a worker with a median pruner and hopeless learning rates
    bad["tune"].update(n_trials=1, pruner=pruner)
    bad["tune"]["space"] = {lr: {"type": "float", "low": 1.0e-7, "high": 2.0e-7}}
    assert (
        run_cli(capsys, "tune", "--config", write_config(tmp_path / "g.yaml", good), "--no-plots")[
            0
        ]
        == 0
    )
    code, out, err = run_cli(
        capsys, "tune", "--config", write_config(tmp_path / "b.yaml", bad), "--no-plots"
    )
    assert code == 0, err
    assert "Trial 2 pruned after epoch 1" in err
    folder = tmp_path / "runs" / "bc_study"
    trials = study_trials(folder)
    assert [t.state.name for t in trials] == ["COMPLETE", "COMPLETE", "PRUNED"]
    assert list(trials[2].intermediate_values) == [0]
    run = folder / "trial-0002"
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["status"] == "pruned" and metrics["epochs"] == 1
    assert (run / "model.npz").is_file()
    assert "PRUNED" in out


@pytest.mark.slow
def test_study_plots_are_written(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    path = write_config(tmp_path / "tune.yaml", tune_config(tmp_path, n_trials=3))
    code, out, err = run_cli(capsys, "tune", "--config", path)
    assert code == 0, err
    assert out.strip().endswith("plots")
    plots = tmp_path / "runs" / "bc_study" / "plots"
    names = sorted(p.name for p in plots.glob("*.png"))
    assert names == [
        "optimization_history.png",
        "parallel_coordinate.png",
        "param_importances.png",
        "slice.png",
    ]
    for p in plots.glob("*.png"):
        assert p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and p.stat().st_size > 5000


# -- bad input: one line, exit status 2 ---------------------------------------------------------
def expect_usage_error(capsys, *argv) -> str:
    code, out, err = run_cli(capsys, *argv)
    assert code == 2, (code, out, err)
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("nablanet: error: "), err
    assert "Traceback" not in err
    return lines[0]


def test_bad_input_exits_2_with_one_line(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    path = write_config(tmp_path / "t.yaml", tune_config(tmp_path))
    line = expect_usage_error(capsys, "tune", "--config", path, "--set", "tune.space={}")
    assert "tune.space: must name at least one value" in line
    bad = tune_config(
        tmp_path,
        space={"training.optimiser.learning_rate": SPACE["training.optimizer.learning_rate"]},
    )
    line = expect_usage_error(capsys, "tune", "--config", write_config(tmp_path / "b.yaml", bad))
    assert "nearest valid key: training.optimizer.learning_rate" in line
    line = expect_usage_error(capsys, "tune", "--config", path, "--set", "tune.metric=val_f1")
    assert "'val_f1' is not logged" in line
    line = expect_usage_error(capsys, "tune", "--config", path, "--set", "tune.sampler.name=bayes")
    assert "tune.sampler.name: must be one of" in line
    line = expect_usage_error(capsys, "tune", "--config", path, "--set", "tune.pruner=asha")
    assert "tune.pruner" in line
    code, _, err = run_cli(capsys, "tune", "--config", path, "--n-trials", "0")  # argparse's usage
    assert code == 2 and "argument --n-trials: must be a positive integer, got '0'" in err
    no_tune = write_config(tmp_path / "n.yaml", breast_cancer_config(tmp_path))
    assert "no tune: section" in expect_usage_error(capsys, "tune", "--config", no_tune)
    assert not (tmp_path / "runs").exists()  # nothing was started


def test_a_study_that_exists_with_another_direction(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    path = write_config(tmp_path / "t.yaml", tune_config(tmp_path, n_trials=1))
    assert run_cli(capsys, "tune", "--config", path, "--no-plots")[0] == 0
    line = expect_usage_error(
        capsys, "tune", "--config", path, "--set", "tune.direction=minimize", "--no-plots"
    )
    assert "study 'bc_study'" in line and "exists with direction maximize" in line
    line = expect_usage_error(capsys, "tune", "--config", path, "--set", "tune.metric=accuracy")
    assert "optimizes 'val_accuracy'" in line
    line = expect_usage_error(capsys, "tune", "--config", path, "--show", "--study", "other")
    assert "no study here" in line
    assert len(study_trials(tmp_path / "runs" / "bc_study")) == 1  # nothing lost


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("postgresql//host/db", "not a database URL"),
        ("redis://127.0.0.1/0", "unsupported database 'redis'"),
        ("postgresql://user:secret@/db", "the URL names no host"),
        ("postgresql+psycopg2://u@127.0.0.1/db", "pip install psycopg2-binary"),
        ("mysql://u@127.0.0.1/db", "pip install mysqlclient"),
    ],
)
def test_bad_storage_urls(tmp_path, capsys, monkeypatch, url, message):
    monkeypatch.chdir(tmp_path)
    path = write_config(tmp_path / "t.yaml", tune_config(tmp_path))
    line = expect_usage_error(capsys, "tune", "--config", path, "--storage", url)
    assert message in line
    assert "secret" not in line


def test_a_server_that_does_not_answer_is_named_within_seconds(tmp_path, capsys, monkeypatch):
    import socket
    import time

    monkeypatch.chdir(tmp_path)
    with socket.socket() as s:  # a free port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    path = write_config(tmp_path / "t.yaml", tune_config(tmp_path))
    t0 = time.perf_counter()
    line = expect_usage_error(
        capsys, "tune", "--config", path, "--storage", f"postgresql://u:pw@127.0.0.1:{port}/db"
    )
    assert time.perf_counter() - t0 < 10
    assert f"the database server at 127.0.0.1:{port}" in line and "pw" not in line.split("(")[0]


def test_without_optuna_the_error_names_the_extra(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setitem(sys.modules, "optuna", None)  # import optuna -> ImportError
    path = write_config(tmp_path / "t.yaml", tune_config(tmp_path))
    line = expect_usage_error(capsys, "tune", "--config", path)
    assert "pip install 'nablanet[tune]'" in line


def test_load_tune_config_keeps_the_plain_data(tmp_path):
    data = tune_config(tmp_path)
    path = write_config(tmp_path / "t.yaml", data)
    cfg, base = load_tune_config([path], ["training.epochs=3"])
    assert cfg.training.epochs == 3 and base["training"]["epochs"] == 3
    assert base["tune"]["space"] == SPACE


# -- stopping: Ctrl-C, max_trials, grid --------------------------------------------------------
def test_ctrl_c_ends_the_current_trial_as_fail_and_exits_130(tmp_path, capsys, monkeypatch):
    from nablanet.pipeline.tune import runner

    monkeypatch.chdir(tmp_path)
    real_train = runner.train
    calls = []

    def interrupted_second_time(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return real_train(*args, **kwargs)

    monkeypatch.setattr(runner, "train", interrupted_second_time)
    path = write_config(tmp_path / "t.yaml", tune_config(tmp_path, n_trials=5))
    code, _, err = run_cli(capsys, "tune", "--config", path, "--no-plots")
    assert code == 130 and "interrupted" in err
    trials = study_trials(tmp_path / "runs" / "bc_study")
    assert [t.state.name for t in trials] == ["COMPLETE", "FAIL"]  # no third trial started
    assert Path(trials[1].user_attrs["run_dir"]).is_dir()  # its run directory stays
    # running the command again goes on with the study
    monkeypatch.setattr(runner, "train", real_train)
    code, _, err = run_cli(capsys, "tune", "--config", path, "--n-trials", "1", "--no-plots")
    assert code == 0, err
    assert [t.state.name for t in study_trials(tmp_path / "runs" / "bc_study")] == [
        "COMPLETE",
        "FAIL",
        "COMPLETE",
    ]


def test_max_trials_caps_the_whole_study(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    path = write_config(tmp_path / "t.yaml", tune_config(tmp_path, n_trials=2, max_trials=3))
    assert run_cli(capsys, "tune", "--config", path, "--no-plots")[0] == 0
    assert run_cli(capsys, "tune", "--config", path, "--no-plots")[0] == 0  # stops at 3
    assert len(study_trials(tmp_path / "runs" / "bc_study")) == 3
    code, _, err = run_cli(capsys, "tune", "--config", path, "--no-plots")
    assert code == 0 and "nothing to run" in err
    assert len(study_trials(tmp_path / "runs" / "bc_study")) == 3


def test_grid_search_and_the_hyperband_pruner(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    data = tune_config(
        tmp_path,
        n_trials=5,
        sampler={"name": "grid"},
        pruner={"name": "hyperband", "min_resource": 1, "reduction_factor": 2},
        space={"training.batch_size": {"type": "categorical", "choices": [32, 128]}},
    )
    code, _, err = run_cli(
        capsys, "tune", "--config", write_config(tmp_path / "g.yaml", data), "--no-plots"
    )
    assert code == 0, err
    trials = study_trials(tmp_path / "runs" / "bc_study")
    assert sorted(t.params["training.batch_size"] for t in trials) == [32, 128]  # grid done
    from nablanet.pipeline.tune import runner

    cfg = config_from_dict(data)
    assert isinstance(runner._pruner(optuna, cfg.tune, 2), optuna.pruners.HyperbandPruner)
    assert isinstance(runner._sampler(optuna, cfg.tune), optuna.samplers.GridSampler)
