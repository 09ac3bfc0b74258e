"""Tab 1, Data: pick a dataset (or upload one); its size, task, classes, balance and samples."""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import data_view
from .common import AppContext, error_text, info, ok
from .errors import UIError, short_paths

UPLOAD_HINT = (
    "Upload a CSV file with a header row (then choose the target column), "
    "or an NPZ file with arrays x and y."
)

if TYPE_CHECKING:
    import gradio as gr

    from .common import AppUI


@dataclass(slots=True)
class DataTab:
    """The Data tab's components.

    Filled in by :func:`build` (a misspelt name fails there: the class has slots).
    """

    dataset: gr.Dropdown = field(init=False)
    upload_group: gr.Group = field(init=False)
    file: gr.File = field(init=False)
    target_col: gr.Dropdown = field(init=False)
    status: gr.Markdown = field(init=False)
    info: gr.Markdown = field(init=False)
    balance: gr.BarPlot = field(init=False)
    samples: gr.Plot = field(init=False)
    rows_table: gr.Dataframe = field(init=False)
    balance_style: gr.State = field(init=False)


def build(ui: AppUI, ctx: AppContext) -> None:
    import gradio as gr

    ui.data = DataTab()

    with gr.Row(equal_height=False):
        with gr.Column(scale=2, min_width=300):
            ui.data.dataset = gr.Dropdown(
                choices=data_view.dataset_choices(),
                value=None,
                label="Dataset",
                info="A built-in dataset, or your own file.",
                elem_id="dataset",
            )
            with gr.Group(visible=False) as ui.data.upload_group:
                ui.data.file = gr.File(
                    label="CSV (with a header row) or NPZ (arrays x and y)",
                    file_types=[".csv", ".npz"],
                    type="filepath",
                    elem_id="data-upload",
                )
                ui.data.target_col = gr.Dropdown(
                    choices=[],
                    label="Target column (what to predict)",
                    visible=False,
                    elem_id="target-column",
                )
            ui.data.status = gr.Markdown(info("Choose a dataset to begin."), elem_id="data-status")
        with gr.Column(scale=3):
            ui.data.info = gr.Markdown("", elem_id="dataset-info")
    with gr.Row(equal_height=False):
        with gr.Column(scale=2, min_width=300):
            ui.data.balance = gr.BarPlot(
                value=None,
                x="class",
                y="count",
                title="Class balance (training samples)",
                x_title="class",
                height=300,
                x_label_angle=-30,
                color_map=None,
                elem_id="class-balance",
            )
        with gr.Column(scale=3):
            ui.data.samples = gr.Plot(
                label="Samples", show_label=False, visible=False, elem_id="sample-grid"
            )
            ui.data.rows_table = gr.Dataframe(
                label="Sample rows",
                visible=False,
                interactive=False,
                max_height=330,
                elem_id="sample-rows",
            )
    ui.data.balance_style = gr.State(None)  # order of the classes and height of the bar plot


def show_dataset(ctx: AppContext, spec: str | dict[str, Any], label: str) -> dict[str, Any]:
    """Everything the tab shows about a dataset (raises :class:`UIError`)."""
    ds = ctx.dataset(spec)
    balance = data_view.class_balance(ds)
    return {
        "dataset": ds,
        "state": {"spec": spec, "task": ds.task, "label": data_view.spec_label(spec)},
        "info": data_view.describe(ds),
        "balance": balance,
        "balance_titles": data_view.balance_titles(ds),
        "order": list(balance["class"]),
        "grid": data_view.sample_grid(ds) if ds.is_image else None,
        "rows": None if ds.is_image else data_view.sample_table(ds),
        "status": ok(f"Loaded {label}: {ds.n_samples:,} samples."),
    }


def keep_upload(ctx: AppContext, path: str | Path) -> Path:
    """A copy of an uploaded file under ``<runs_dir>/.uploads`` (so runs can refer to it)."""
    src = Path(path)
    keep_dir = ctx.runs_dir / ".uploads"
    keep_dir.mkdir(parents=True, exist_ok=True)
    kept = keep_dir / src.name
    if not kept.exists() or kept.resolve() != src.resolve():
        shutil.copyfile(src, kept)
    return kept


def pick_target(columns: list[str], current: str | None) -> str:
    """The current target column if the file has it, else a likely one (``target``, ``label``,
    ``y``, ``class``), else the last column."""
    if current in columns:
        return current
    lowered = [c.lower() for c in columns]
    for name in ("target", "label", "y", "class"):
        if name in lowered:
            return columns[lowered.index(name)]
    return columns[-1]


def wire(ui: AppUI, ctx: AppContext) -> None:
    import gradio as gr

    from . import tab_model

    n_form = len(ui.model.form_inputs)
    outputs = [
        ui.data_state,
        ui.data.info,
        ui.data.balance,
        ui.data.samples,
        ui.data.rows_table,
        ui.data.status,
        ui.data.upload_group,
        ui.data.target_col,
        ui.form_extra,
        ui.pending_form,
        ui.model.loss,
        ui.data.balance_style,
        *ui.model.form_inputs,
    ]

    def cleared(status: str, upload_visible: bool, extra, target=None) -> list[Any]:
        return [
            None,
            "",
            None,
            gr.update(visible=False),
            gr.update(visible=False),
            status,
            gr.update(visible=upload_visible),
            gr.skip() if target is None else target,
            extra,
            None,
            gr.skip(),
            None,
            *([gr.skip()] * n_form),
        ]

    def shown(view, name: str, pending, extra, upload_visible: bool, target=None) -> list[Any]:
        values, losses = tab_model.defaults_for(name, view["state"]["task"], pending)
        # the bars alone; their order and the height follow in a chained event (a value sent
        # together with new settings could be drawn with the previous bars)
        style = {
            "sort": view["order"],
            "y_lim": [0, float(view["balance"]["count"].max()) * 1.08],
            **view["balance_titles"],
        }
        return [
            view["state"],
            view["info"],
            view["balance"],
            gr.update(value=view["grid"], visible=view["grid"] is not None),
            gr.update(value=view["rows"], visible=view["rows"] is not None),
            view["status"],
            gr.update(visible=upload_visible),
            gr.skip() if target is None else target,
            extra if pending is not None else None,
            None,
            gr.update(choices=losses),
            style,
            *values,
        ]

    def on_dataset(choice, pending, extra):
        if not choice:
            return cleared(info("Choose a dataset to begin."), False, extra)
        if choice == data_view.UPLOAD:
            return cleared(info(UPLOAD_HINT), True, extra)
        try:
            view = show_dataset(ctx, choice, choice)
        except UIError as e:
            return cleared(error_text(e), False, extra)
        return shown(view, choice, pending, extra, False)

    def on_upload(path, target, pending, extra):
        if not path:
            return cleared(info(UPLOAD_HINT), True, extra, gr.update(visible=False))
        kept = None
        try:
            kept = keep_upload(ctx, path)
            target_update = gr.update(visible=False, value=None)
            if kept.suffix.lower() == ".csv":
                columns = data_view.csv_columns(kept)
                target = pick_target(columns, target)
                target_update = gr.update(choices=columns, value=target, visible=True)
            spec = data_view.upload_spec(kept, target)
            view = show_dataset(ctx, spec, kept.name)
        except UIError as e:  # the file by its own name, not its copy's or Gradio's path
            return cleared(error_text(short_paths(str(e), kept, path)), True, extra)
        return shown(view, kept.stem, pending, extra, True, target_update)

    def style_balance(style):
        return gr.skip() if not style else gr.update(**style)

    refresh = (
        tab_model.refresh_model_fn(ctx),
        [ui.data_state, ui.form_extra, *ui.model.form_inputs],
    )
    restyle = (style_balance, [ui.data.balance_style], [ui.data.balance])
    upload_inputs = [ui.data.file, ui.data.target_col, ui.pending_form, ui.form_extra]
    for event, fn, inputs in (
        (ui.data.dataset.change, on_dataset, [ui.data.dataset, ui.pending_form, ui.form_extra]),
        (ui.data.file.upload, on_upload, upload_inputs),
        (ui.data.target_col.input, on_upload, upload_inputs),
    ):
        event(fn, inputs, outputs).then(*restyle, show_progress="hidden").then(
            *refresh, ui.model.outputs
        )
