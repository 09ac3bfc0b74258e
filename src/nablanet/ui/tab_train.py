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
        "series": {
            "loss": views.series_names(loss),
            "metric": views.series_names(metric),
            "metric_key": key,
        },
    }


def plot_styles(series: dict[str, Any] | None, styled: dict[str, Any] | None):
    """The settings of the two plots that follow the curves just sent (see
    :func:`~nablanet.ui.views.color_map`): ``(loss, metric, styled)``, where a plot whose
    series have not changed since it was last styled gets None, and ``styled`` is the new
    record of what each plot shows (None for an empty plot, which draws afresh)."""
    series, styled = series or {}, dict(styled or {})
    key = series.get("metric_key") or "accuracy"
    out: list[dict[str, Any] | None] = []
    for name in ("loss", "metric"):
        names = tuple(series.get(name) or ())
        shown = (key, names) if name == "metric" else names
        if not names:
            styled[name] = None
            out.append(None)
        elif styled.get(name) == shown:
            out.append(None)
        else:
            styled[name] = shown
            props: dict[str, Any] = {"color_map": views.color_map(names, views.SERIES_COLORS)}
            if name == "metric":
                props.update(title=metric_title(key), y_title=key)
            out.append(props)
    return out[0], out[1], styled


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
        "x_lim": [0, None],  # from epoch 0, where the batch points start
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
    ui.live_series = gr.State(None)  # series of the curves last sent to the plots
    ui.live_styled = gr.State(None)  # series the plots were last styled for


def wire(ui: SimpleNamespace, ctx: AppContext) -> None:
    import gradio as gr

    def start(data_state, extra, *values):
        try:
            config = current_config(ctx, data_state, values, extra)
            steps = estimate_steps(config, ctx.dataset(data_state["spec"]))
            ctx.session.start(config, steps_per_epoch=steps)
        except UIError as e:
            return [error_text(e), *([gr.skip()] * 7)]
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
            view["series"],
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
            return [gr.skip(), progress, *([gr.skip()] * (4 + n_done))]
        view = live_view(snap, (data_state or {}).get("task"))
        # the values alone: new settings sent with them could redraw the old curves
        outs = [
            snap.version,
            view["progress"],
            view["status"],
            view["loss"],
            view["metric"],
            view["series"],
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

    def style(series, styled):
        loss, metric, styled = plot_styles(series, styled)
        skip = gr.skip()
        return [skip if p is None else gr.update(**p) for p in (loss, metric)] + [styled]

    restyle = (style, [ui.live_series, ui.live_styled],
               [ui.loss_plot, ui.metric_plot, ui.live_styled])  # fmt: skip
    ui.train_btn.click(
        start,
        [ui.data_state, ui.form_extra, *ui.form_inputs],
        [ui.train_status, ui.timer, ui.train_btn, ui.stop_btn, ui.progress, ui.loss_plot,
         ui.metric_plot, ui.live_series],
    ).then(*restyle, show_progress="hidden")  # fmt: skip
    ui.stop_btn.click(stop, None, [ui.train_status])
    ui.timer.tick(
        poll,
        [ui.seen_version, ui.data_state],
        [ui.seen_version, ui.progress, ui.train_status, ui.loss_plot, ui.metric_plot,
         ui.live_series, ui.timer, ui.train_btn, ui.stop_btn, ui.eval_run, ui.pred_model,
         ui.cmp_runs],
        show_progress="hidden",
    ).then(*restyle, show_progress="hidden")  # fmt: skip
