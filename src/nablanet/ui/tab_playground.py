"""Tab 8, Playground: a small network learning a toy 2-D dataset, redrawn while it learns.

The data points over the model's decision regions, with the layer sizes, activation, learning
rate, L2 penalty and the data's noise adjustable (a change starts again, like Reset). While
playing, a ``gr.Timer`` ticks every half second: each tick trains whole epochs for at most
:data:`TRAIN_SECONDS` and redraws (so the picture follows every epoch of a long epoch, and
every half second of short ones). The regions are predicted on a coarse grid
(:class:`nablanet.pipeline.Playground`, NumPy only): a frame takes a few milliseconds (measured
in docs/diagnostics.md), so the page stays responsive on a 2-core machine. Beside it: the
per-layer gradient norms and the diagnostics' warnings.

The experiment lives in the browser session's ``gr.State``; nothing is written to disk.
"""

from __future__ import annotations

import html
import math
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pandas as pd

from . import pipeline_api as api
from .common import AppContext, error_text
from .errors import UIError

if TYPE_CHECKING:
    import gradio as gr

    from .common import AppUI

#: seconds of training per timer tick (of the 0.5 s between ticks)
TRAIN_SECONDS = 0.25
TICK_SECONDS = 0.5
LEARNING_RATES = (0.0001, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0)
L2_PENALTIES = (0.0, 0.0001, 0.001, 0.003, 0.01, 0.03, 0.1)
TABLE_COLUMNS = ["layer", "activation", "gradient norm", "update / weight", "dead", "saturated"]


@dataclass(slots=True)
class PlaygroundTab:
    """The Playground tab's components (filled in by :func:`build`)."""

    dataset: gr.Dropdown = field(init=False)
    noise: gr.Slider = field(init=False)
    layers: gr.Textbox = field(init=False)
    activation: gr.Dropdown = field(init=False)
    learning_rate: gr.Dropdown = field(init=False)
    optimizer: gr.Dropdown = field(init=False)
    l2: gr.Dropdown = field(init=False)
    play_btn: gr.Button = field(init=False)
    step_btn: gr.Button = field(init=False)
    reset_btn: gr.Button = field(init=False)
    image: gr.Image = field(init=False)
    status: gr.Markdown = field(init=False)
    table: gr.Dataframe = field(init=False)
    grad_plot: gr.LinePlot = field(init=False)
    warnings: gr.Markdown = field(init=False)
    timer: gr.Timer = field(init=False)
    state: gr.State = field(init=False)  # the session's Playground
    playing: gr.State = field(init=False)


def parse_layers(text: str) -> tuple[int, ...]:
    """``"16, 16"`` -> ``(16, 16)``; empty for no hidden layer.

    >>> parse_layers("8, 8 4"), parse_layers("")
    ((8, 8, 4), ())
    >>> parse_layers("8, x")
    Traceback (most recent call last):
    ...
    nablanet.ui.errors.UIError: Hidden layers: whole numbers separated by commas (e.g. 16, 16); got '8, x'.
    """
    parts = [p for p in re.split(r"[,\s]+", text or "") if p]
    if not all(p.isdigit() for p in parts):
        raise UIError(
            f"Hidden layers: whole numbers separated by commas (e.g. 16, 16); got {text!r}."
        )
    return tuple(int(p) for p in parts)


def new_playground(dataset, noise, layers, activation, learning_rate, optimizer, l2):
    """The Playground of the controls' values (errors as :class:`UIError`)."""
    return api.new_playground(
        dataset=dataset,
        noise=None if noise is None else float(noise),
        hidden=parse_layers(layers),
        activation=activation,
        learning_rate=float(learning_rate),
        optimizer=optimizer,
        l2=float(l2),
    )


def _fmt(v: Any, percent: bool = False) -> str:
    if v is None:
        return "–"
    if isinstance(v, float) and not math.isfinite(v):
        return str(v)
    return f"{v:.0%}" if percent else f"{v:.3g}"


def playground_view(pg) -> dict[str, Any]:
    """What the tab shows of a Playground: image, status line, layer table, gradient curves,
    warnings."""
    image = pg.frame()
    m = pg.metrics()
    if m["epoch"] == 0:
        status = "Epoch 0: press ▶ Play (or Step) to train."
    else:
        status = (
            f"Epoch {m['epoch']}: loss {_fmt(m['loss'])} (validation {_fmt(m['val_loss'])}), "
            f"accuracy {_fmt(m['accuracy'], True)} (validation {_fmt(m['val_accuracy'], True)})"
        )
    status += f" · frame {pg.last_frame_seconds * 1000:.0f} ms"
    rows = [
        [r["layer"], r["activation"] or "–", _fmt(r["grad_norm"]), _fmt(r["update_ratio"]),
         _fmt(r["dead"], True), _fmt(r["saturated"], True)]
        for r in pg.layer_table()
    ]  # fmt: skip
    records = []
    epochs = pg.diagnostics.epochs
    for name, norms in pg.gradient_history().items():
        for epoch, value in zip(epochs, norms):
            if value is not None and value > 0 and math.isfinite(value):
                records.append({"epoch": epoch, "log10 gradient norm": math.log10(value),
                                "layer": name})  # fmt: skip
    warnings = pg.warnings()
    text = (
        "\n".join(f"- ⚠ {html.escape(w)}" for w in warnings)
        if warnings
        else "No warnings: the gradients, units and losses look healthy."
    )
    return {
        "image": image,
        "status": status,
        "table": pd.DataFrame(rows, columns=TABLE_COLUMNS),
        "curves": pd.DataFrame(records, columns=["epoch", "log10 gradient norm", "layer"])
        if records
        else None,
        "warnings": text,
    }


def build(ui: AppUI, ctx: AppContext) -> None:
    import gradio as gr

    choices = api.playground_choices()
    ui.playground = p = PlaygroundTab()
    first = playground_view(new_playground("spiral", 0.2, "16, 16", "relu", 0.01, "adam", 0.0))
    gr.Markdown(
        "Watch a small network learn a toy 2-D dataset: the points are the training data, the "
        "colours the class the network predicts there (paler where it is unsure). Changing a "
        "setting starts again.",
        elem_id="playground-intro",
    )
    with gr.Row(equal_height=False):
        with gr.Column(scale=1, min_width=240):
            p.dataset = gr.Dropdown(
                choices=list(choices["datasets"]), value="spiral", label="Data",
                elem_id="playground-dataset",
            )  # fmt: skip
            p.noise = gr.Slider(0.0, 1.0, value=0.2, step=0.05, label="Noise",
                                elem_id="playground-noise")  # fmt: skip
            p.layers = gr.Textbox(
                value="16, 16", label="Hidden layers (units, comma separated)",
                elem_id="playground-layers",
            )  # fmt: skip
            p.activation = gr.Dropdown(
                choices=list(choices["activations"]), value="relu", label="Activation",
                elem_id="playground-activation",
            )  # fmt: skip
            p.learning_rate = gr.Dropdown(
                choices=[str(v) for v in LEARNING_RATES], value="0.01", label="Learning rate",
                elem_id="playground-lr",
            )  # fmt: skip
            p.optimizer = gr.Dropdown(
                choices=list(choices["optimizers"]), value="adam", label="Optimizer",
                elem_id="playground-optimizer",
            )  # fmt: skip
            p.l2 = gr.Dropdown(
                choices=[str(v) for v in L2_PENALTIES], value="0.0", label="L2 regularization",
                elem_id="playground-l2",
            )  # fmt: skip
            with gr.Row():
                p.play_btn = gr.Button("▶ Play", variant="primary", elem_id="playground-play")
                p.step_btn = gr.Button("Step", elem_id="playground-step")
                p.reset_btn = gr.Button("↺ Reset", elem_id="playground-reset")
        with gr.Column(scale=2, min_width=340):
            p.image = gr.Image(
                first["image"], type="numpy", format="png", label="Decision regions",
                interactive=False, height=360, elem_id="playground-image",
            )  # fmt: skip
            p.status = gr.Markdown(first["status"], elem_id="playground-status")
        with gr.Column(scale=2, min_width=320):
            p.table = gr.Dataframe(
                value=pd.DataFrame(columns=TABLE_COLUMNS), label="Layers (last epoch)",
                interactive=False, wrap=False, elem_id="playground-layers-table",
            )  # fmt: skip
            p.grad_plot = gr.LinePlot(
                None, x="epoch", y="log10 gradient norm", color="layer",
                title="Gradient norm per layer (log10)", height=220,
                elem_id="playground-gradients",
            )  # fmt: skip
            p.warnings = gr.Markdown("", elem_id="playground-warnings")
    p.timer = gr.Timer(TICK_SECONDS, active=False)
    p.state = gr.State(None)
    p.playing = gr.State(False)


def wire(ui: AppUI, ctx: AppContext) -> None:
    import gradio as gr

    p = ui.playground
    controls = [p.dataset, p.noise, p.layers, p.activation, p.learning_rate, p.optimizer, p.l2]
    shown = [p.image, p.status, p.table, p.grad_plot, p.warnings]

    def show(pg):
        v = playground_view(pg)
        return [v["image"], v["status"], v["table"], v["curves"], v["warnings"]]

    def reset(*values):
        try:
            pg = new_playground(*values)
        except UIError as e:
            return [gr.skip(), error_text(e), *([gr.skip()] * 3), gr.skip()]
        return [*show(pg), pg]

    def ensure(pg, values):
        return pg if pg is not None else new_playground(*values)

    def play(playing, pg, *values):
        try:
            pg = ensure(pg, values)
        except UIError as e:
            return [gr.skip(), gr.skip(), gr.skip(), error_text(e), gr.skip()]
        playing = not playing
        label = "❚❚ Pause" if playing else "▶ Play"
        return [playing, gr.Timer(active=playing), gr.update(value=label), gr.skip(), pg]

    def tick(pg, playing):
        if pg is None or not playing:  # a tick queued before Pause
            return [gr.skip()] * len(shown)
        pg.train_for(TRAIN_SECONDS)
        return show(pg)

    def step(pg, *values):
        try:
            pg = ensure(pg, values)
        except UIError as e:
            return [gr.skip(), error_text(e), *([gr.skip()] * 3), gr.skip()]
        pg.train_for(0.0, max_epochs=1)
        return [*show(pg), pg]

    reset_out = [*shown, p.state]
    p.reset_btn.click(reset, controls, reset_out)
    for c in (p.dataset, p.activation, p.learning_rate, p.optimizer, p.l2):
        c.change(reset, controls, reset_out, show_progress="hidden")
    p.noise.release(reset, controls, reset_out, show_progress="hidden")
    p.layers.submit(reset, controls, reset_out, show_progress="hidden")
    p.layers.blur(reset, controls, reset_out, show_progress="hidden")
    p.play_btn.click(
        play, [p.playing, p.state, *controls], [p.playing, p.timer, p.play_btn, p.status, p.state]
    )
    p.step_btn.click(step, [p.state, *controls], reset_out)
    p.timer.tick(tick, [p.state, p.playing], shown, show_progress="hidden")
