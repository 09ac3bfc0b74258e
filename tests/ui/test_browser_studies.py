"""The Studies tab in a real browser: a study made by ``nablanet tune`` is listed, its trials
come best first with their parameters, and the picked trials' curves are drawn."""

from __future__ import annotations

import re

import pytest

from .test_browser import goto_tab, legend_series, line_paths, wait_for, wait_text

pytestmark = [pytest.mark.browser, pytest.mark.timeout(240)]


def make_study(runs_dir) -> list:
    pytest.importorskip("optuna")
    from nablanet.pipeline import config_from_dict
    from nablanet.pipeline.tune import run_tune

    data = {
        "name": "bc",
        "data": {"dataset": "breast_cancer"},
        "model": {"layers": [{"type": "dense", "units": 1, "activation": "sigmoid"}]},
        "training": {"loss": "binary_crossentropy", "epochs": 3},
        "evaluation": {"plots": False},
        "output_dir": str(runs_dir),
        "tune": {
            "study": "ui_study",
            "metric": "val_accuracy",
            "sampler": {"name": "random", "seed": 0},
            "pruner": {"name": "none"},
            "space": {
                "training.optimizer.learning_rate": {"type": "float", "low": 1e-4, "high": 0.1}
            },
        },
    }
    return run_tune(config_from_dict(data), data, n_trials=4, plots=False).rows


def test_the_studies_tab_lists_trials_and_overlays_their_curves(page, ui_server):
    rows = make_study(ui_server.nablanet_context.runs_dir)
    goto_tab(page, "Studies")
    page.locator("#studies-refresh").click()
    page.locator("#studies-study input").click()
    page.get_by_role("option", name="ui_study", exact=True).click()
    text = wait_text(page, "#studies-table", r"COMPLETE")
    assert "training.optimizer.learning_rate" in text
    numbers = [int(n) for n in re.findall(r"^\s*(\d+)\s+COMPLETE", text, flags=re.M)]
    assert numbers == [r.number for r in rows]  # best first
    wait_text(page, "#studies-status", r"4 trials, 4 complete")
    # the three best trials are picked and drawn, one line each
    wait_for(lambda: len([d for d in line_paths(page, "studies-plot") if d]) == 3, "3 curves")
    best3 = {f"trial {r.number}" for r in rows[:3]}
    wait_for(lambda: legend_series(page, "studies-plot") == best3, "the 3 best in the legend")
    assert page.external_requests == []
