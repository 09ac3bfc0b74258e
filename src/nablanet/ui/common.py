"""What the tabs of the app share: the :class:`AppContext` (folders, the training session,
caches of datasets and models) and the way messages are shown in the page."""

from __future__ import annotations

import html
import json
import tempfile
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import pipeline_api as api
from . import views
from .errors import short_paths
from .queue import RunQueue

if TYPE_CHECKING:
    import gradio as gr

    from .tab_compare import CompareTab
    from .tab_data import DataTab
    from .tab_evaluate import EvaluateTab
    from .tab_model import ModelTab
    from .tab_playground import PlaygroundTab
    from .tab_predict import PredictTab
    from .tab_train import TrainTab

#: the Predict tab's "other model" entry
UPLOAD_MODEL = "__upload__"
UPLOAD_MODEL_LABEL = "Upload a model file / type a path…"


@dataclass
class AppContext:
    """State shared by every browser tab of one app.

    Attributes
    ----------
    runs_dir : Path
        Where runs are written and read.
    configs_dir : Path
        Example configs for the Model tab.
    data_dir : str or None
        Dataset cache folder.
    runs : RunQueue
        The app's line of training runs (each browser session has its own run in it).
    poll_seconds : float
        How often a page with a queued or training run asks for news.
    tmp_dir : Path
        Files made for download (YAML, predictions).
    """

    runs_dir: Path
    configs_dir: Path
    data_dir: str | None = None
    runs: RunQueue = field(default_factory=RunQueue)
    poll_seconds: float = 0.7
    tmp_dir: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="nablanet-ui-")))
    _datasets: OrderedDict = field(default_factory=OrderedDict, repr=False)
    _models: OrderedDict = field(default_factory=OrderedDict, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def dataset(self, spec: str | dict[str, Any]):
        """The dataset of a spec, loaded once (the last 3 are cached)."""
        key = json.dumps(spec, sort_keys=True)
        with self._lock:
            if key in self._datasets:
                self._datasets.move_to_end(key)
                return self._datasets[key]
        ds = api.load_dataset(spec, self.data_dir)
        with self._lock:
            self._datasets[key] = ds
            while len(self._datasets) > 3:
                self._datasets.popitem(last=False)
        return ds

    def trained(self, path: str | Path):
        """The ``TrainedModel`` of a run directory or model file (cached while unchanged)."""
        model_file = api.model_file(path)
        try:
            stamp = model_file.stat().st_mtime_ns
        except OSError:
            stamp = 0
        key = (str(model_file.resolve()), stamp)
        with self._lock:
            if key in self._models:
                return self._models[key]
        model = api.load_trained(path)
        with self._lock:
            self._models[key] = model
            while len(self._models) > 4:
                self._models.popitem(last=False)
        return model

    def run_choices(self) -> list[tuple[str, str]]:
        """(label, run directory) of every readable run, newest first."""
        return [(views.run_label(r), str(r.run_dir)) for r in api.list_runs(self.runs_dir)]

    def newest_finished_run(self) -> str | None:
        """The run directory the Evaluate tab opens on: the newest run with final metrics (a
        run still training, or one that died before its end, has empty tables), else the
        newest run, else None."""
        runs = api.list_runs(self.runs_dir)
        done = [r for r in runs if r.metrics is not None]
        return str((done or runs)[0].run_dir) if runs else None

    def model_choices(self) -> list[tuple[str, str]]:
        """The runs that have a model, plus the "other model" entry."""
        runs = [
            (views.run_label(r), str(r.run_dir))
            for r in api.list_runs(self.runs_dir)
            if r.model_path is not None
        ]
        return [*runs, (UPLOAD_MODEL_LABEL, UPLOAD_MODEL)]

    def config_files(self) -> list[tuple[str, str]]:
        """(file name, path) of the example configs."""
        if not self.configs_dir.is_dir():
            return []
        return [(p.name, str(p)) for p in sorted(self.configs_dir.glob("*.y*ml"))]


@dataclass(slots=True)
class AppUI:
    """Every component of the page: the states the tabs share, then each tab's components
    (a typed record per tab, built by that tab's ``build``).

    A new tab is a module ``tab_<name>.py`` with its components' dataclass, ``build(ui, ctx)``
    and ``wire(ui, ctx)``, a field here and a line in :data:`nablanet.ui.app.TABS`.
    """

    data_state: gr.State = field(init=False)  # {"spec", "task", "label"} of the chosen dataset
    form_extra: gr.State = field(init=False)  # a loaded config's parts the form does not show
    pending_form: gr.State = field(init=False)  # form values of a loaded config (dataset switch)
    data: DataTab = field(init=False)
    model: ModelTab = field(init=False)
    train: TrainTab = field(init=False)
    evaluate: EvaluateTab = field(init=False)
    predict: PredictTab = field(init=False)
    compare: CompareTab = field(init=False)
    studies: Any = field(init=False)  # tab_studies.StudiesTab
    playground: PlaygroundTab = field(init=False)


def with_request(fn):
    """Mark ``fn``'s first parameter, ``request``, for Gradio to fill with the browser session's
    ``gr.Request`` (Gradio finds it by its annotation, which it evaluates in the module, where
    ``from __future__ import annotations`` would leave only a string)."""
    import gradio as gr

    fn.__annotations__ = {"request": gr.Request}
    return fn


def ok(text: str) -> str:
    """A success line for a status area."""
    return f'<span class="nb-ok">✓ {html.escape(text)}</span>' if text else ""


def info(text: str) -> str:
    """A neutral hint for a status area."""
    return f'<span class="nb-info">{html.escape(text)}</span>' if text else ""


def error_text(err: Exception | str) -> str:
    """An error line for a status area: the message on one line, never a traceback, with
    uploaded files named by their own names (see :func:`~nablanet.ui.errors.short_paths`)."""
    text = short_paths(str(err) or type(err).__name__)
    return f'<span class="nb-error">⚠ {html.escape(text)}</span>'
