"""Tab 6, Compare: overlay the validation curves of several runs, with their final metrics
and main settings side by side."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pandas as pd

from . import pipeline_api as api
from . import views
from .common import AppContext, error_text
from .errors import UIError

CURVES = ["val_loss", "val_accuracy", "val_mae", "loss", "accuracy", "mae"]
#: columns of the table before any run is picked
EMPTY_TABLE = ["run", "dataset", "status", "epochs", "best epoch", "layers", "optimizer"]


def compare_view(run_dirs: list[str] | None, key: str) -> dict[str, Any]:
    """Curves, table and messages for the selected runs (unreadable runs are reported)."""
    runs, problems = [], []
    for run_dir in run_dirs or []:
        try:
            runs.append(api.load_run(run_dir))
        except UIError as e:
            problems.append(str(e))
    frame = views.compare_frame(runs, key)
    missing = [r.name for r in runs if not (r.history or {}).get(key)]
    if missing:
        problems.append(f"No {key} curve in: {', '.join(missing)}.")
    return {
        "curves": frame if len(frame) else None,
        "series": views.series_names(frame),
        "table": views.compare_table(runs) if runs else pd.DataFrame(columns=EMPTY_TABLE),
        "status": error_text(" ".join(problems)) if problems else "",
    }


def build(ui: SimpleNamespace, ctx: AppContext) -> None:
    import gradio as gr

    with gr.Row(equal_height=False, elem_classes="nb-toolbar"):
        ui.cmp_runs = gr.Dropdown(
            choices=[],
            multiselect=True,
            label="Runs to compare",
            elem_id="compare-runs",
            scale=5,
        )
        ui.cmp_key = gr.Dropdown(
            choices=CURVES,
            value="val_loss",
            label="Curve",
            elem_id="compare-metric",
            scale=1,
            min_width=140,
        )
        ui.cmp_refresh = gr.Button("↻ Refresh", elem_id="compare-refresh", scale=1)
    ui.cmp_status = gr.Markdown("", elem_id="compare-status")
    ui.cmp_plot = gr.LinePlot(
        None,
        x="epoch",
        y="value",
        color="series",
        title="val_loss",
        x_title="epoch",
        y_title="val_loss",
        height=360,
        elem_id="compare-plot",
    )
    ui.cmp_table = gr.Dataframe(
        value=pd.DataFrame(columns=EMPTY_TABLE),
        label="Final metrics and settings",
        interactive=False,
        wrap=False,
        elem_id="compare-table",
    )
    ui.cmp_series = gr.State(())  # the runs drawn in the plot


def wire(ui: SimpleNamespace, ctx: AppContext) -> None:
    import gradio as gr

    def compare(selected, key):
        view = compare_view(selected, key)
        # the curves alone; the title and the runs' colours follow in a chained event (a value
        # sent together with new settings could be drawn with the previous curves)
        return view["curves"], view["table"], view["status"], view["series"]

    def style(series, key):
        if not series:
            return gr.skip()
        return gr.update(title=key, y_title=key, color_map=views.color_map(series))

    def refresh(current):
        choices = ctx.run_choices()
        values = {v for _, v in choices}
        return gr.update(choices=choices, value=[v for v in (current or []) if v in values])

    outputs = [ui.cmp_plot, ui.cmp_table, ui.cmp_status, ui.cmp_series]
    for event in (ui.cmp_runs.change, ui.cmp_key.change):
        event(compare, [ui.cmp_runs, ui.cmp_key], outputs).then(
            style, [ui.cmp_series, ui.cmp_key], [ui.cmp_plot], show_progress="hidden"
        )
    ui.cmp_refresh.click(refresh, [ui.cmp_runs], [ui.cmp_runs])
