"""Tab 3, Train: start and stop a run; live loss and metric curves, progress and learning rate.

Each browser session has its own run in the app's :class:`~nablanet.ui.queue.RunQueue`: Start
puts it in the line (it starts at once when a slot is free), and a ``gr.Timer`` polls that
run's snapshot while it waits or trains, so the page shows its place in the line, then the
live curves, and stays responsive. Stop cancels a waiting run or stops a training one; the
tab only ever shows the run of its own session.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from . import views
from .common import AppContext, error_text, with_request
from .errors import UIError
from .tab_model import current_config

if TYPE_CHECKING:
    import gradio as gr

    from .common import AppUI


@dataclass(slots=True)
class TrainTab:
    """The Train tab's components (each browser session sees its own run in them).

    Filled in by :func:`build` (a misspelt name fails there: the class has slots).
    """

    train_btn: gr.Button = field(init=False)
    stop_btn: gr.Button = field(init=False)
    progress: gr.HTML = field(init=False)
    status: gr.Markdown = field(init=False)
    loss_plot: gr.LinePlot = field(init=False)
    metric_plot: gr.LinePlot = field(init=False)
    timer: gr.Timer = field(init=False)
    live_series: gr.State = field(init=False)
    live_styled: gr.State = field(init=False)
    seen_version: gr.State = field(init=False)


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
    axes = {"loss": views.epoch_axis(loss), "metric": views.epoch_axis(metric)}
    return {
        "progress": views.progress_html(snap),
        "status": status,
        "loss": views.on_epoch_axis(loss, axes["loss"]) if len(loss) else None,
        "metric": views.on_epoch_axis(metric, axes["metric"]) if len(metric) else None,
        "metric_key": key,
        "series": {
            "loss": views.series_names(loss),
            "metric": views.series_names(metric),
            "metric_key": key,
            "axes": axes,
        },
    }


def plot_styles(series: dict[str, Any] | None, styled: dict[str, Any] | None):
    """The settings of the two plots that follow the curves just sent (see
    :func:`~nablanet.ui.views.color_map`): ``(loss, metric, styled)``, where a plot whose
    series have not changed since it was last styled gets None, and ``styled`` is the new
    record of what each plot shows (None for an empty plot, which draws afresh)."""
    series, styled = series or {}, dict(styled or {})
    key = series.get("metric_key") or "accuracy"
    axes = series.get("axes") or {}
    out: list[dict[str, Any] | None] = []
    for name in ("loss", "metric"):
        names = tuple(series.get(name) or ())
        axis = axes.get(name, "number")
        shown = (key, names) if name == "metric" else names
        if axis != "number":  # a new kind of epoch axis is a new drawing
            shown = (shown, axis)
        if not names:
            styled[name] = None
            out.append(None)
        elif styled.get(name) == shown:
            out.append(None)
        else:
            styled[name] = shown
            props: dict[str, Any] = {"color_map": views.color_map(names, views.SERIES_COLORS)}
            if axis == "category":
                props["sort"] = views.EPOCH_ORDER
            elif axes:
                props["sort"] = None
            if name == "metric":
                props.update(title=metric_title(key), y_title=key)
            out.append(props)
    return out[0], out[1], styled


def build(ui: AppUI, ctx: AppContext) -> None:
    import gradio as gr

    from .session import Snapshot

    ui.train = TrainTab()
    with gr.Row():
        ui.train.train_btn = gr.Button(
            "▶ Start training", variant="primary", elem_id="train-button", scale=3
        )
        ui.train.stop_btn = gr.Button(
            "■ Stop / cancel", variant="stop", elem_id="stop-button", interactive=False, scale=1
        )
    ui.train.progress = gr.HTML(views.progress_html(Snapshot()), elem_id="train-progress")
    ui.train.status = gr.Markdown("", elem_id="train-status")
    plot_args: dict[str, Any] = {
        "x": "epoch",
        "y": "value",
        "color": "series",
        "color_map": views.SERIES_COLORS,
        "x_title": "epoch",
        # no x_lim: the axis fits the points (the first epoch at the left edge, not 0)
        "height": 330,
    }
    with gr.Row(equal_height=True):
        ui.train.loss_plot = gr.LinePlot(
            None, title="Loss", y_title="loss", elem_id="live-plot", **plot_args
        )
        ui.train.metric_plot = gr.LinePlot(
            None, title="Accuracy", y_title="accuracy", elem_id="live-metric-plot", **plot_args
        )
    ui.train.timer = gr.Timer(ctx.poll_seconds, active=False)
    ui.train.live_series = gr.State(None)  # series of the curves last sent to the plots
    ui.train.live_styled = gr.State(None)  # series the plots were last styled for
    ui.train.seen_version = gr.State(-1)  # last snapshot drawn


def wire(ui: AppUI, ctx: AppContext) -> None:
    import gradio as gr

    from .queue import owner_of

    t = ui.train

    @with_request
    def start(request, data_state, extra, *values):
        try:
            owner = owner_of(request)
            config = current_config(ctx, data_state, values, extra)
            steps = estimate_steps(config, ctx.dataset(data_state["spec"]))
            ctx.runs.submit(owner, config, steps_per_epoch=steps)
        except UIError as e:
            return [error_text(e), *([gr.skip()] * 7)]
        view = live_view(ctx.runs.snapshot(owner), (data_state or {}).get("task"))
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

    @with_request
    def stop(request):
        try:
            return ctx.runs.cancel(owner_of(request))
        except UIError as e:
            return error_text(e)

    n_done = 6

    @with_request
    def poll(request, seen, data_state):
        snap = ctx.runs.snapshot(owner_of(request))
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
        new = {} if snap.run_dir is None else {"value": snap.run_dir}  # none when cancelled
        return [
            *outs,
            gr.Timer(active=False),
            gr.update(interactive=True),
            gr.update(interactive=False),
            gr.update(choices=runs, **new),
            gr.update(choices=ctx.model_choices(), **new),
            gr.update(choices=runs),
        ]

    def style(series, styled):
        loss, metric, styled = plot_styles(series, styled)
        skip = gr.skip()
        return [skip if p is None else gr.update(**p) for p in (loss, metric)] + [styled]

    restyle = (style, [t.live_series, t.live_styled], [t.loss_plot, t.metric_plot, t.live_styled])
    t.train_btn.click(
        start,
        [ui.data_state, ui.form_extra, *ui.model.form_inputs],
        [t.status, t.timer, t.train_btn, t.stop_btn, t.progress, t.loss_plot, t.metric_plot,
         t.live_series],
    ).then(*restyle, show_progress="hidden")  # fmt: skip
    t.stop_btn.click(stop, None, [t.status])
    t.timer.tick(
        poll,
        [t.seen_version, ui.data_state],
        [t.seen_version, t.progress, t.status, t.loss_plot, t.metric_plot, t.live_series,
         t.timer, t.train_btn, t.stop_btn, ui.evaluate.run, ui.predict.model, ui.compare.runs],
        show_progress="hidden",
    ).then(*restyle, show_progress="hidden")  # fmt: skip
