"""The Gradio app: tabs over the pipeline (Data, Model, Train, Evaluate, Predict, Compare, Studies,
Playground).

:func:`build_app` lays the page out from :data:`TABS`; each tab lives in its own module
(``tab_*.py``) with a dataclass of its components, a ``build`` (components) and a ``wire``
(events) function, and its logic in plain functions tested without a browser. All calls into
the pipeline go through :mod:`nablanet.ui.pipeline_api`. To add a tab: write its module, add a
field for its components to :class:`~nablanet.ui.common.AppUI` and a line to :data:`TABS`.

One app serves many people (``nablanet ui --host 0.0.0.0``): each browser session has its own
run in the app's :class:`~nablanet.ui.queue.RunQueue` and sees only that run on the Train tab;
the Evaluate, Predict and Compare tabs list everyone's runs. When a page closes, its run leaves
the line (or is stopped after the queue's ``abandon_timeout``).

Key components carry stable ``elem_id`` values for tests and scripts: ``dataset``,
``train-button``, ``stop-button``, ``live-plot``, ``train-progress``, ``eval-metrics``,
``sketchpad``, ``prediction``, ``compare-runs`` and more (see the ``elem_id=`` arguments).
"""

from __future__ import annotations

from pathlib import Path
from types import ModuleType

from . import pipeline_api as api
from . import (
    tab_compare,
    tab_data,
    tab_evaluate,
    tab_model,
    tab_playground,
    tab_predict,
    tab_studies,
    tab_train,
)
from .common import AppContext, AppUI, with_request
from .queue import DEFAULT_ABANDON_TIMEOUT, RunQueue, owner_of
from .session import TrainFn

TITLE = (
    "# ∇ nablanet\nA neural-network framework written from scratch in NumPy. Pick data, build "
    "a network, train it, look at the results and try the model out."
)

#: the tabs in page order: (label, id, module with ``build(ui, ctx)`` and ``wire(ui, ctx)``)
TABS: tuple[tuple[str, str, ModuleType], ...] = (
    ("1 · Data", "data", tab_data),
    ("2 · Model", "model", tab_model),
    ("3 · Train", "train", tab_train),
    ("4 · Evaluate", "evaluate", tab_evaluate),
    ("5 · Predict", "predict", tab_predict),
    ("6 · Compare", "compare", tab_compare),
    ("7 · Studies", "studies", tab_studies),
    ("8 · Playground", "playground", tab_playground),
)


def build_app(
    runs_dir: str | Path = "runs",
    configs_dir: str | Path = "configs",
    data_dir: str | Path | None = None,
    train_fn: TrainFn | None = None,
    poll_seconds: float = 0.7,
    max_concurrent_runs: int = 1,
    abandon_timeout: float = DEFAULT_ABANDON_TIMEOUT,
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
    train_fn : callable, optional
        ``train_fn(config, callbacks, stop_event)`` of every run (default: the pipeline's
        ``train`` through :func:`nablanet.ui.pipeline_api.train_config`).
    poll_seconds : float
        How often the Train tab refreshes the live curves (and the place in the line).
    max_concurrent_runs : int
        Runs that train at the same time; the others wait in a fair line.
    abandon_timeout : float
        Seconds a run may go on training after its page was closed; then it is stopped (it
        keeps its best weights and its run directory) and frees its slot.

    Returns
    -------
    gradio.Blocks
        With the :class:`~nablanet.ui.common.AppContext` as ``app.nablanet_context`` and the
        :class:`~nablanet.ui.common.AppUI` as ``app.nablanet_ui``.
    """
    import gradio as gr

    ctx = AppContext(
        runs_dir=Path(runs_dir),
        configs_dir=Path(configs_dir),
        data_dir=None if data_dir is None else str(data_dir),
        poll_seconds=poll_seconds,
    )
    ctx.runs = RunQueue(
        train_fn=train_fn
        or (lambda cfg, cbs, ev: api.train_config(cfg, cbs, ev, data_dir=ctx.data_dir)),
        slots=max_concurrent_runs,
        abandon_timeout=abandon_timeout,
    )
    ui = AppUI()
    with gr.Blocks(title="nablanet", analytics_enabled=False, fill_width=True) as app:
        app.nablanet_context = ctx
        ui.data_state = gr.State(None)
        ui.form_extra = gr.State(None)
        ui.pending_form = gr.State(None)
        gr.Markdown(TITLE, elem_id="app-title")
        with gr.Tabs(elem_id="tabs"):
            for label, tab_id, module in TABS:
                with gr.Tab(label, id=tab_id, elem_id=f"tab-{tab_id}"):
                    module.build(ui, ctx)
        for _, _, module in TABS:
            module.wire(ui, ctx)

        def on_load():
            runs = ctx.run_choices()
            first = ctx.newest_finished_run()
            models = ctx.model_choices()
            first_model = models[0][1] if len(models) > 1 else None
            return (
                gr.update(choices=runs, value=first),
                gr.update(choices=models, value=first_model),
                gr.update(choices=runs),
            )

        @with_request
        def on_unload(request):
            try:
                ctx.runs.abandon(owner_of(request))
            except Exception:  # a page that never had a session: nothing to free
                pass

        app.load(on_load, None, [ui.evaluate.run, ui.predict.model, ui.compare.runs])
        app.unload(on_unload)
    app.nablanet_ui = ui
    return app
