"""Tab 6, Compare: overlay the validation curves of several runs, with their final metrics
and main settings side by side."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pandas as pd

from . import pipeline_api as api
from . import views
from .common import AppContext, error_text
from .errors import UIError

if TYPE_CHECKING:
    import gradio as gr

    from .common import AppUI


@dataclass(slots=True)
class CompareTab:
    """The Compare tab's components.

    Filled in by :func:`build` (a misspelt name fails there: the class has slots).
    """

    runs: gr.Dropdown = field(init=False)
    key: gr.Dropdown = field(init=False)
    refresh_btn: gr.Button = field(init=False)
    status: gr.Markdown = field(init=False)
    plot: gr.LinePlot = field(init=False)
    table: gr.Dataframe = field(init=False)
    series: gr.State = field(init=False)


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
    axis = views.epoch_axis(frame)  # whole epochs up to 20: one tick each, as on the Train tab
    return {
        "curves": views.on_epoch_axis(frame, axis) if len(frame) else None,
        "series": views.series_names(frame),
        "axis": axis,
        "table": views.compare_table(runs) if runs else pd.DataFrame(columns=EMPTY_TABLE),
        "status": error_text(" ".join(problems)) if problems else "",
    }


def build(ui: AppUI, ctx: AppContext) -> None:
    import gradio as gr

    ui.compare = CompareTab()

    with gr.Row(equal_height=False, elem_classes="nb-toolbar"):
        ui.compare.runs = gr.Dropdown(
            choices=[],
            multiselect=True,
            label="Runs to compare",
            elem_id="compare-runs",
            allow_custom_value=True,  # see tab_evaluate: a run picked just after a Refresh
            scale=5,
        )
        ui.compare.key = gr.Dropdown(
            choices=CURVES,
            value="val_loss",
            label="Curve",
            elem_id="compare-metric",
            scale=1,
            min_width=140,
        )
        ui.compare.refresh_btn = gr.Button("↻ Refresh", elem_id="compare-refresh", scale=1)
    ui.compare.status = gr.Markdown("", elem_id="compare-status")
    ui.compare.plot = gr.LinePlot(
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
    ui.compare.table = gr.Dataframe(
        value=pd.DataFrame(columns=EMPTY_TABLE),
        label="Final metrics and settings",
        interactive=False,
        wrap=False,
        elem_id="compare-table",
    )
    ui.compare.series = gr.State(None)  # {"names": runs drawn in the plot, "axis": epoch axis}


def wire(ui: AppUI, ctx: AppContext) -> None:
    import gradio as gr

    def compare(selected, key):
        view = compare_view(selected, key)
        # the curves alone; the title and the runs' colours follow in a chained event (a value
        # sent together with new settings could be drawn with the previous curves)
        drawn = {"names": view["series"], "axis": view["axis"]}
        return view["curves"], view["table"], view["status"], drawn

    def style(drawn, key):
        if not drawn or not drawn.get("names"):
            return gr.skip()
        sort = views.EPOCH_ORDER if drawn["axis"] == "category" else None
        colors = views.color_map(drawn["names"])
        return gr.update(title=key, y_title=key, color_map=colors, sort=sort)

    def refresh(current):
        choices = ctx.run_choices()
        values = {v for _, v in choices}
        return gr.update(choices=choices, value=[v for v in (current or []) if v in values])

    outputs = [ui.compare.plot, ui.compare.table, ui.compare.status, ui.compare.series]
    for event in (ui.compare.runs.change, ui.compare.key.change):
        event(compare, [ui.compare.runs, ui.compare.key], outputs).then(
            style, [ui.compare.series, ui.compare.key], [ui.compare.plot], show_progress="hidden"
        )
    ui.compare.refresh_btn.click(refresh, [ui.compare.runs], [ui.compare.runs])
