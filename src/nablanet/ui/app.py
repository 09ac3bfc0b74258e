"""The Gradio app: tabs over the pipeline (Data, Model, Train, Evaluate, Predict, Compare, Studies).

:func:`build_app` lays the page out; each tab lives in its own module (``tab_*.py``) with a
``build`` (components) and a ``wire`` (events) function, and its logic in plain functions tested
without a browser. All calls into the pipeline go through :mod:`nablanet.ui.pipeline_api`.

Key components carry stable ``elem_id`` values for tests and scripts: ``dataset``,
``train-button``, ``stop-button``, ``live-plot``, ``train-progress``, ``eval-metrics``,
``sketchpad``, ``prediction``, ``compare-runs`` and more (see the ``elem_id=`` arguments).
"""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

from . import pipeline_api as api
from . import tab_compare, tab_data, tab_evaluate, tab_model, tab_predict, tab_studies, tab_train
from .common import AppContext
from .session import TrainingSession

TITLE = (
    "# ∇ nablanet\nA neural-network framework written from scratch in NumPy. Pick data, build "
    "a network, train it, look at the results and try the model out."
)


def build_app(
    runs_dir: str | Path = "runs",
    configs_dir: str | Path = "configs",
    data_dir: str | Path | None = None,
    session: TrainingSession | None = None,
    poll_seconds: float = 0.7,
):
    """The Gradio ``Blocks`` of the whole UI (not launched; see :func:`nablanet.ui.launch`).

    Parameters
    ----------
    runs_dir : path
        Where training runs are written, and where the Evaluate, Predict and Compare tabs look.
    configs_dir : path
        Example configs (``*.yaml``) offered in the Model tab.
    data_dir : path, optional
        Dataset cache folder (default ``$NABLANET_DATA`` or ``~/.cache/nablanet``).
    session : TrainingSession, optional
        The background trainer (default: one running the pipeline's ``train``).
    poll_seconds : float
        How often the Train tab refreshes the live curves while training.

    Returns
    -------
    gradio.Blocks
        With the :class:`~nablanet.ui.common.AppContext` as ``app.nablanet_context``.
    """
    import gradio as gr

    ctx = AppContext(
        runs_dir=Path(runs_dir),
        configs_dir=Path(configs_dir),
        data_dir=None if data_dir is None else str(data_dir),
    )
    ctx.session = session or TrainingSession(
        train_fn=lambda cfg, cbs, ev: api.train_config(cfg, cbs, ev, data_dir=ctx.data_dir)
    )
    ui = SimpleNamespace()
    with gr.Blocks(title="nablanet", analytics_enabled=False, fill_width=True) as app:
        app.nablanet_context = ctx
        ui.data_state = gr.State(None)  # {"spec", "task", "label"} of the chosen dataset
        ui.form_extra = gr.State(None)  # a loaded config's parts the form does not show
        ui.pending_form = gr.State(None)  # form values of a loaded config (dataset switch)
        ui.seen_version = gr.State(-1)  # last training snapshot drawn
        gr.Markdown(TITLE, elem_id="app-title")
        with gr.Tabs(elem_id="tabs"):
            with gr.Tab("1 · Data", id="data", elem_id="tab-data"):
                tab_data.build(ui, ctx)
            with gr.Tab("2 · Model", id="model", elem_id="tab-model"):
                tab_model.build(ui, ctx)
            with gr.Tab("3 · Train", id="train", elem_id="tab-train"):
                tab_train.build(ui, ctx, poll_seconds)
            with gr.Tab("4 · Evaluate", id="evaluate", elem_id="tab-evaluate"):
                tab_evaluate.build(ui, ctx)
            with gr.Tab("5 · Predict", id="predict", elem_id="tab-predict"):
                tab_predict.build(ui, ctx)
            with gr.Tab("6 · Compare", id="compare", elem_id="tab-compare"):
                tab_compare.build(ui, ctx)
            with gr.Tab("7 · Studies", id="studies", elem_id="tab-studies"):
                tab_studies.build(ui, ctx)
        for tab in (tab_data, tab_model, tab_train, tab_evaluate, tab_predict, tab_compare):
            tab.wire(ui, ctx)
        tab_studies.wire(ui, ctx)

        def on_load():
            snap = ctx.session.snapshot()
            runs = ctx.run_choices()
            first = runs[0][1] if runs else None
            models = ctx.model_choices()
            first_model = models[0][1] if len(models) > 1 else None
            return (
                gr.Timer(active=snap.busy),
                gr.update(choices=runs, value=first),
                gr.update(choices=models, value=first_model),
                gr.update(choices=runs),
                gr.update(interactive=not snap.busy),
                gr.update(interactive=snap.busy),
            )

        app.load(
            on_load,
            None,
            [ui.timer, ui.eval_run, ui.pred_model, ui.cmp_runs, ui.train_btn, ui.stop_btn],
        )
    app.nablanet_ui = ui
    return app
