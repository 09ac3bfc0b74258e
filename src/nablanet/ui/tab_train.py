"""Tab 3, Train: start and stop a run; live loss and metric curves, progress and learning rate.

Training runs in the :class:`~nablanet.ui.session.TrainingSession`'s thread; a ``gr.Timer``
polls its snapshot while it runs, so the page stays responsive.
"""

from __future__ import annotations

import math
from types import SimpleNamespace
from typing import Any

from . import views
from .common import AppContext, error_text
from .errors import UIError
from .tab_model import current_config


def estimate_steps(config: dict[str, Any], dataset: Any) -> int | None:
    """Batches per epoch the config will take on ``dataset`` (before the split is made)."""
    try:
        data, training = config["data"], config["training"]
        n = int(dataset.n_samples)
        if data.get("max_samples"):
            n = min(n, int(data["max_samples"]))
        held = float(data.get("validation_split", 0.15))
        if dataset.x_test is None:
            held += float(data.get("test_split", 0.15))
        return max(1, math.ceil(n * (1.0 - held) / int(training["batch_size"])))
    except (KeyError, TypeError, ValueError, AttributeError):
        return None


def metric_title(key: str) -> str:
    return key.upper() if len(key) <= 3 else key.capitalize()


def live_view(snap: Any, task: str | None) -> dict[str, Any]:
    """What the tab shows for a training snapshot."""
    key = views.metric_key(snap.history, task)
    status = views.last_epoch_line(snap.history)
    if snap.status == "failed":
        status = error_text(snap.message)
    elif snap.message:
        status = f"{snap.message}  \n{status}" if status else snap.message
    if snap.run_dir:
        status += f"  \nRun directory: `{snap.run_dir}`"
    loss = views.curve_frame(snap.history, "loss", snap.batch_points)
    metric = views.curve_frame(snap.history, key)
    return {
        "progress": views.progress_html(snap),
        "status": status,
        "loss": loss if len(loss) else None,
        "metric": metric if len(metric) else None,
        "metric_key": key,
    }


def build(ui: SimpleNamespace, ctx: AppContext, poll_seconds: float) -> None:
    import gradio as gr

    with gr.Row():
        ui.train_btn = gr.Button(
            "▶ Start training", variant="primary", elem_id="train-button", scale=3
        )
        ui.stop_btn = gr.Button(
            "■ Stop", variant="stop", elem_id="stop-button", interactive=False, scale=1
        )
    ui.progress = gr.HTML(views.progress_html(ctx.session.snapshot()), elem_id="train-progress")
    ui.train_status = gr.Markdown("", elem_id="train-status")
    plot_args = {
        "x": "epoch",
        "y": "value",
        "color": "series",
        "color_map": views.SERIES_COLORS,
        "x_title": "epoch",
        "height": 330,
    }
    with gr.Row(equal_height=True):
        ui.loss_plot = gr.LinePlot(
            None, title="Loss", y_title="loss", elem_id="live-plot", **plot_args
        )
        ui.metric_plot = gr.LinePlot(
            None, title="Accuracy", y_title="accuracy", elem_id="live-metric-plot", **plot_args
        )
    ui.timer = gr.Timer(poll_seconds, active=False)


def wire(ui: SimpleNamespace, ctx: AppContext) -> None:
    import gradio as gr

    def start(data_state, extra, *values):
        try:
            config = current_config(ctx, data_state, values, extra)
            steps = estimate_steps(config, ctx.dataset(data_state["spec"]))
            ctx.session.start(config, steps_per_epoch=steps)
        except UIError as e:
            return [error_text(e), *([gr.skip()] * 6)]
        view = live_view(ctx.session.snapshot(), (data_state or {}).get("task"))
        title = "MAE" if (data_state or {}).get("task") == "regression" else "Accuracy"
        return [
            view["status"],
            gr.Timer(active=True),
            gr.update(interactive=False),
            gr.update(interactive=True),
            view["progress"],
            None,
            gr.update(value=None, title=title, y_title=title.lower()),
        ]

    def stop():
        if ctx.session.stop():
            return "Stopping after the current batch…"
        return "Nothing is training."

    n_done = 6

    def poll(seen, data_state):
        snap = ctx.session.snapshot()
        done = not snap.busy
        if snap.version == seen and not done:  # only the clock moved
            progress = views.progress_html(snap)
            return [gr.skip(), progress, *([gr.skip()] * (3 + n_done))]
        view = live_view(snap, (data_state or {}).get("task"))
        key = view["metric_key"]
        outs = [
            snap.version,
            view["progress"],
            view["status"],
            view["loss"],
            gr.update(value=view["metric"], title=metric_title(key), y_title=key),
        ]
        if not done:
            return outs + [gr.skip()] * n_done
        runs = ctx.run_choices()
        new = snap.run_dir or gr.skip()
        return [
            *outs,
            gr.Timer(active=False),
            gr.update(interactive=True),
            gr.update(interactive=False),
            gr.update(choices=runs, value=new),
            gr.update(choices=ctx.model_choices(), value=new),
            gr.update(choices=runs),
        ]

    ui.train_btn.click(
        start,
        [ui.data_state, ui.form_extra, *ui.form_inputs],
        [ui.train_status, ui.timer, ui.train_btn, ui.stop_btn, ui.progress, ui.loss_plot,
         ui.metric_plot],
    )  # fmt: skip
    ui.stop_btn.click(stop, None, [ui.train_status])
    ui.timer.tick(
        poll,
        [ui.seen_version, ui.data_state],
        [ui.seen_version, ui.progress, ui.train_status, ui.loss_plot, ui.metric_plot, ui.timer,
         ui.train_btn, ui.stop_btn, ui.eval_run, ui.pred_model, ui.cmp_runs],
        show_progress="hidden",
    )  # fmt: skip
