"""Tab 7, Studies: the hyperparameter studies of ``nablanet tune`` found in the runs folder.

A study's trials are listed best first with their parameters; picked trials' learning curves
are overlaid. Everything comes from :mod:`nablanet.pipeline.tune` (``list_studies``,
``load_study``, ``trial_histories``); Optuna is needed only when a study is opened.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from . import pipeline_api as api
from .common import AppContext, AppUI, error_text
from .errors import UIError


@dataclass
class StudiesTab:
    """The Studies tab's components."""

    st_key: Any = field(init=False)
    st_plot: Any = field(init=False)
    st_refresh: Any = field(init=False)
    st_status: Any = field(init=False)
    st_study: Any = field(init=False)
    st_table: Any = field(init=False)
    st_trials: Any = field(init=False)


CURVES = ["val_loss", "val_accuracy", "val_mae", "loss", "accuracy", "mae"]
EMPTY_TABLE = ["trial", "state", "value", "epochs", "run"]


def study_choices(runs_dir: str | Path) -> list[tuple[str, str]]:
    """``(label, folder)`` of each study folder under ``runs_dir``, newest first."""
    return [(p.name, str(p)) for p in api.list_studies(runs_dir)]


def trials_table(info: Any) -> pd.DataFrame:
    """One row per trial, best first: number, state, value, epochs, parameters, run."""
    keys = sorted({k for r in info.rows for k in r.params})
    metric = info.metric or "value"
    rows = []
    for r in info.rows:
        row = {"trial": r.number, "state": r.state, metric: r.value, "epochs": r.epochs}
        row.update({k: r.params.get(k) for k in keys})
        row["run"] = Path(r.run_dir).name if r.run_dir else ""
        rows.append(row)
    return pd.DataFrame(rows, columns=["trial", "state", metric, "epochs", *keys, "run"])


def curves_frame(histories: dict[str, dict[str, list]], key: str) -> pd.DataFrame:
    """Long format ``epoch, value, series`` of ``key`` for each trial's history."""
    parts = []
    for name, history in histories.items():
        values = history.get(key) or []
        epochs = history.get("epoch") or list(range(len(values)))
        parts += [
            {"epoch": int(e) + 1, "value": float(v), "series": name}
            for e, v in zip(epochs, values)
            if v is not None
        ]
    return pd.DataFrame(parts, columns=["epoch", "value", "series"])


def study_view(folder: str | None, picked: list[int] | None, key: str) -> dict[str, Any]:
    """The table, trial choices, curves and message for a study folder and picked trials."""
    empty = {
        "table": pd.DataFrame(columns=EMPTY_TABLE),
        "choices": [],
        "picked": [],
        "curves": None,
        "status": "",
    }
    if not folder:
        return empty
    try:
        info = api.load_study(folder)
    except UIError as e:
        return {**empty, "status": error_text(e)}
    choices = [(r.label(), r.number) for r in info.rows]
    numbers = {r.number for r in info.rows}
    if picked is None:  # a study just opened: the three best trials
        picked = [r.number for r in info.rows if r.state in ("COMPLETE", "PRUNED")][:3]
    picked = [n for n in picked if n in numbers]
    chosen = [r for r in info.rows if r.number in picked]
    frame = curves_frame(api.trial_histories(chosen), key)
    direction = "highest" if info.direction == "maximize" else "lowest"
    status = (
        f"**{info.name}**: {len(info.rows)} trials, {info.n_complete} complete; best first "
        f"({direction} {info.metric}). Trials' run directories open in the other tabs."
    )
    return {
        "table": trials_table(info),
        "choices": choices,
        "picked": picked,
        "curves": frame if len(frame) else None,
        "status": status,
    }


def build(ui: AppUI, ctx: AppContext) -> None:
    ui.studies = StudiesTab()
    import gradio as gr

    with gr.Row(equal_height=False):
        ui.studies.st_study = gr.Dropdown(
            choices=study_choices(ctx.runs_dir),
            value=None,
            label="Study",
            elem_id="studies-study",
            scale=3,
            allow_custom_value=False,
        )
        ui.studies.st_key = gr.Dropdown(
            choices=CURVES, value="val_loss", label="Curve", elem_id="studies-metric", scale=1
        )
        ui.studies.st_refresh = gr.Button("↻ Refresh", elem_id="studies-refresh", scale=1)
    ui.studies.st_status = gr.Markdown("", elem_id="studies-status")
    ui.studies.st_table = gr.Dataframe(
        value=pd.DataFrame(columns=EMPTY_TABLE),
        label="Trials, best first",
        interactive=False,
        wrap=False,
        elem_id="studies-table",
    )
    ui.studies.st_trials = gr.Dropdown(
        choices=[], multiselect=True, label="Trials to overlay", elem_id="studies-trials"
    )
    ui.studies.st_plot = gr.LinePlot(
        None, x="epoch", y="value", color="series", height=360, elem_id="studies-plot"
    )


def wire(ui: AppUI, ctx: AppContext) -> None:
    import gradio as gr

    def refresh(current):
        choices = study_choices(ctx.runs_dir)
        values = [v for _, v in choices]
        return gr.update(choices=choices, value=current if current in values else None)

    def open_study(folder, key):
        view = study_view(folder, None, key)
        return (
            view["table"],
            gr.update(choices=view["choices"], value=view["picked"]),
            view["curves"],
            view["status"],
        )

    def overlay(folder, picked, key):
        return study_view(folder, picked or [], key)["curves"]

    def style(key):  # after the curves, as in the Compare tab
        return gr.update(title=key, y_title=key)

    ui.studies.st_refresh.click(refresh, [ui.studies.st_study], [ui.studies.st_study])
    ui.studies.st_study.change(
        open_study,
        [ui.studies.st_study, ui.studies.st_key],
        [ui.studies.st_table, ui.studies.st_trials, ui.studies.st_plot, ui.studies.st_status],
    )
    for event in (ui.studies.st_trials.change, ui.studies.st_key.change):
        event(
            overlay,
            [ui.studies.st_study, ui.studies.st_trials, ui.studies.st_key],
            [ui.studies.st_plot],
        ).then(style, [ui.studies.st_key], [ui.studies.st_plot], show_progress="hidden")
