"""Tab 4, Evaluate: a run's test metrics, confusion matrix, ROC curve and misclassified
examples (the plots the pipeline wrote into the run directory), the diagnostics of the training
(warnings, gradient norms, histograms, decision regions); evaluation on other data."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pandas as pd

from . import data_view, views
from . import pipeline_api as api
from .common import AppContext, error_text, info
from .errors import UIError

if TYPE_CHECKING:
    import gradio as gr

    from .common import AppUI


@dataclass(slots=True)
class EvaluateTab:
    """The Evaluate tab's components.

    Filled in by :func:`build` (a misspelt name fails there: the class has slots).
    """

    run: gr.Dropdown = field(init=False)
    refresh_btn: gr.Button = field(init=False)
    headline: gr.Markdown = field(init=False)
    table: gr.Dataframe = field(init=False)
    per_class: gr.Dataframe = field(init=False)
    confusion: gr.Image = field(init=False)
    roc: gr.Image = field(init=False)
    misclassified: gr.Image = field(init=False)
    other_data: gr.Dropdown = field(init=False)
    other_file: gr.File = field(init=False)
    other_btn: gr.Button = field(init=False)
    other_out: gr.Markdown = field(init=False)
    diag_warnings: gr.Markdown = field(init=False)
    diag_gradients: gr.Image = field(init=False)
    diag_histograms: gr.Image = field(init=False)
    diag_boundary: gr.Image = field(init=False)


NOTHING = "Train a model (or pick a run) to see its metrics."


def run_view(run_dir: str | None) -> dict[str, Any]:
    """Headline, tables and plot paths of a run (raises UIError)."""
    if not run_dir:
        return {"headline": info(NOTHING), "metrics": None, "per_class": None, "plots": {}}
    run = api.load_run(run_dir)
    plots = {p.name: str(p) for p in run.plots if p.parent.name == "plots"}
    head = views.headline(run.metrics)
    if run.metrics is None:
        head = f"This run is {run.status}: it has no final metrics yet."
    return {
        "headline": f"**{run.name}** — {head}",
        "metrics": views.metrics_table(run.metrics),
        "per_class": views.per_class_table((run.metrics or {}).get("test")),
        "plots": plots,
    }


def diagnostics_text(run_dir: str | None) -> str:
    """The warnings of a run's diagnostics, one line each (Markdown)."""
    record = api.read_diagnostics(run_dir) if run_dir else None
    if record is None:
        return info("This run has no diagnostics (training.diagnostics.enabled was false).")
    warnings = record.get("warnings") or []
    epochs = record.get("epochs") or []
    head = f"Diagnostics of {len(epochs)} recorded epoch(s): "
    if not warnings:
        return head + "no warnings (gradients, units and losses looked healthy)."
    lines = [
        f"- ⚠ **{w['rule']}**{' (' + w['layer'] + ')' if w.get('layer') else ''}, epoch "
        f"{w['epoch']}: {w['message']}. *Try:* {w['advice']}"
        for w in warnings
    ]
    return head + f"{len(warnings)} warning(s)\n\n" + "\n".join(lines)


def other_data_view(ctx: AppContext, run_dir: str | None, dataset: str | None, file: str | None):
    """Markdown of an evaluation of a run's model on a dataset's test set or a labelled file."""
    if not run_dir:
        raise UIError("Pick a run first.")
    if not dataset and not file:
        raise UIError("Choose a dataset or upload a labelled CSV / NPZ file.")
    trained = ctx.trained(run_dir)
    result = api.evaluate(trained, file or dataset, output_dir=ctx.tmp_dir / "evaluations")
    m = result.metrics
    table = views.metrics_table({"test": m})
    lines = "\n".join(f"| {r.metric} | {r.test} |" for r in table.itertuples())
    source = m.get("source", "")
    return (
        f"**{source}** — {m.get('n_samples', '?')} samples\n\n| metric | value |\n|---|---|\n"
        f"{lines}"
    )


def build(ui: AppUI, ctx: AppContext) -> None:
    import gradio as gr

    ui.evaluate = EvaluateTab()

    with gr.Row(equal_height=False, elem_classes="nb-toolbar"):
        # allow_custom_value: Gradio would refuse a run picked just after a Refresh, before it
        # stored the new choices, with a toast of its own; an unknown run gets our message
        ui.evaluate.run = gr.Dropdown(
            choices=[], label="Run", elem_id="eval-run", scale=5, allow_custom_value=True
        )
        ui.evaluate.refresh_btn = gr.Button("↻ Refresh", elem_id="eval-refresh", scale=1)
    ui.evaluate.headline = gr.Markdown(info(NOTHING), elem_id="eval-headline")
    with gr.Row(equal_height=False):
        ui.evaluate.table = gr.Dataframe(
            value=pd.DataFrame(columns=["metric", "train", "validation", "test"]),
            label="Metrics",
            interactive=False,
            elem_id="eval-metrics",
            max_height=360,
        )
        ui.evaluate.per_class = gr.Dataframe(
            value=pd.DataFrame(columns=["class", "precision", "recall", "f1", "support"]),
            label="Per class (test split)",
            interactive=False,
            elem_id="eval-per-class",
            max_height=360,
        )
    with gr.Row(equal_height=False):
        # no label badges: they would cover the titles the figures carry
        image: dict[str, Any] = {
            "type": "filepath",
            "interactive": False,
            "buttons": ["fullscreen"],
            "height": 380,
            "show_label": False,
        }
        ui.evaluate.confusion = gr.Image(
            label="Confusion matrix (test split)", elem_id="eval-confusion", **image
        )
        ui.evaluate.roc = gr.Image(label="ROC curve (test split)", elem_id="eval-roc", **image)
    ui.evaluate.misclassified = gr.Image(
        label="Misclassified examples (test split)",
        type="filepath",
        interactive=False,
        visible=False,
        show_label=False,
        elem_id="eval-misclassified",
        buttons=["fullscreen"],
    )
    with gr.Accordion("Evaluate this model on other data", open=False):
        with gr.Row(equal_height=True):
            ui.evaluate.other_data = gr.Dropdown(
                choices=[(label, f"dataset:{v}") for label, v in data_view.dataset_choices()[:-1]],
                label="A dataset's test set",
                elem_id="eval-other-dataset",
                scale=2,
            )
            ui.evaluate.other_file = gr.File(
                label="…or a labelled CSV / NPZ",
                file_types=[".csv", ".npz"],
                type="filepath",
                elem_id="eval-other-file",
                scale=2,
                height=120,
            )
            ui.evaluate.other_btn = gr.Button("Evaluate", elem_id="eval-other-button", scale=1)
        ui.evaluate.other_out = gr.Markdown("", elem_id="eval-other-result")
    with gr.Accordion("Inside the network: diagnostics of the training", open=False):
        ui.evaluate.diag_warnings = gr.Markdown("", elem_id="eval-diagnostics")
        with gr.Row(equal_height=False):
            ui.evaluate.diag_gradients = gr.Image(
                label="Gradient norm per layer", elem_id="eval-gradient-norms", **image
            )
            ui.evaluate.diag_boundary = gr.Image(
                label="Decision regions (2 input features)", elem_id="eval-decision", **image
            )
        ui.evaluate.diag_histograms = gr.Image(
            label="Histograms, first vs last epoch", elem_id="eval-histograms", **image
        )


def wire(ui: AppUI, ctx: AppContext) -> None:
    import gradio as gr

    outputs = [ui.evaluate.headline, ui.evaluate.table, ui.evaluate.per_class, ui.evaluate.confusion, ui.evaluate.roc,
               ui.evaluate.misclassified, ui.evaluate.diag_warnings, ui.evaluate.diag_gradients,
               ui.evaluate.diag_histograms, ui.evaluate.diag_boundary]  # fmt: skip

    def show(run_dir):
        try:
            view = run_view(run_dir)
        except UIError as e:
            return [error_text(e), None, None, None, None, gr.update(value=None, visible=False),
                    "", None, None, None]  # fmt: skip
        plots = view["plots"]
        mis = plots.get("misclassified.png")
        try:
            diag = diagnostics_text(run_dir) if run_dir else ""
        except UIError as e:
            diag = error_text(e)
        regression = "regression.png" in plots
        return [
            view["headline"],
            view["metrics"],
            gr.update(value=view["per_class"], visible=not regression),
            plots.get("confusion_matrix.png") or plots.get("regression.png"),
            gr.update(value=plots.get("roc.png"), visible=not regression),
            gr.update(value=mis, visible=mis is not None),
            diag,
            plots.get("gradient_norms.png"),
            plots.get("histograms.png"),
            plots.get("decision_boundary.png"),
        ]

    def refresh(current):
        choices = ctx.run_choices()
        values = [v for _, v in choices]
        value = current if current in values else ctx.newest_finished_run()
        return gr.update(choices=choices, value=value)

    def other(run_dir, dataset, file):
        try:
            return other_data_view(ctx, run_dir, dataset, file)
        except UIError as e:
            return error_text(e)

    ui.evaluate.run.change(show, [ui.evaluate.run], outputs)
    ui.evaluate.refresh_btn.click(refresh, [ui.evaluate.run], [ui.evaluate.run]).then(
        show, [ui.evaluate.run], outputs
    )
    ui.evaluate.other_btn.click(
        other,
        [ui.evaluate.run, ui.evaluate.other_data, ui.evaluate.other_file],
        [ui.evaluate.other_out],
    )
