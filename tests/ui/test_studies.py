"""The Studies tab's logic (no browser): a study's trials best first with their parameters,
and the curves of picked trials overlaid; the tab is part of the app."""

from __future__ import annotations

import pytest

optuna = pytest.importorskip("optuna")


@pytest.fixture(scope="module")
def study_folder(tmp_path_factory):
    from nablanet.pipeline import tune

    tmp = tmp_path_factory.mktemp("studies")
    data = {
        "name": "bc",
        "seed": 1,
        "data": {"dataset": "breast_cancer"},
        "model": {
            "layers": [
                {"type": "dense", "units": 4, "activation": "relu"},
                {"type": "dense", "units": 1, "activation": "sigmoid"},
            ]
        },
        "training": {"loss": "binary_crossentropy", "epochs": 2},
        "evaluation": {"plots": False},
        "output_dir": str(tmp / "runs"),
        "tune": {
            "metric": "val_accuracy",
            "sampler": {"name": "random", "seed": 0},
            "pruner": {"name": "none"},
            "space": {
                "training.optimizer.learning_rate": {"type": "float", "low": 1e-4, "high": 0.1}
            },
        },
    }
    from nablanet.pipeline import config_from_dict

    result = tune.run_tune(config_from_dict(data), data, n_trials=4, plots=False)
    return tmp / "runs", result


def test_studies_are_listed_and_their_trials_come_best_first(study_folder):
    from nablanet.ui import tab_studies

    runs, result = study_folder
    choices = tab_studies.study_choices(runs)
    assert choices == [("bc", str(runs / "bc"))]
    view = tab_studies.study_view(choices[0][1], None, "val_accuracy")
    table = view["table"]
    values = list(table["val_accuracy"])
    assert values == sorted(values, reverse=True)  # maximize: best first
    assert list(table["trial"]) == [r.number for r in result.rows]
    assert "training.optimizer.learning_rate" in table.columns
    assert view["picked"] == list(table["trial"])[:3]  # the three best, picked at first
    assert "4 trials, 4 complete" in view["status"]


def test_picked_trials_curves_are_overlaid(study_folder):
    from nablanet.ui import tab_studies

    runs, result = study_folder
    worst = result.rows[-1].number
    view = tab_studies.study_view(str(runs / "bc"), [worst, 99], "val_loss")
    assert view["picked"] == [worst]  # unknown trial numbers are dropped
    curves = view["curves"]
    assert set(curves["series"]) == {f"trial {worst}"}
    assert list(curves["epoch"]) == [1, 2]
    view = tab_studies.study_view(str(runs / "bc"), [], "val_loss")
    assert view["curves"] is None


def test_a_folder_that_is_not_a_study_is_reported(tmp_path):
    from nablanet.ui import tab_studies

    view = tab_studies.study_view(str(tmp_path), None, "val_loss")
    assert "not a study folder" in view["status"] and view["choices"] == []


def test_the_app_has_a_studies_tab(study_folder):
    pytest.importorskip("gradio")
    from nablanet.ui.app import build_app

    runs, _ = study_folder
    app = build_app(runs_dir=runs)
    ui = app.nablanet_ui
    assert ui.studies.st_study.choices == [("bc", str(runs / "bc"))]
    assert ui.studies.st_table.elem_id == "studies-table"
