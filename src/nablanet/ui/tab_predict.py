"""Tab 5, Predict: draw or upload a digit for an image model; fill a form or upload a CSV for a
tabular one. Works with any run of ``runs/``, an uploaded ``model.npz`` or a typed path."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from . import pipeline_api as api
from .common import UPLOAD_MODEL, AppContext, error_text, info, ok
from .errors import UIError

if TYPE_CHECKING:
    import gradio as gr

    from .common import AppUI


@dataclass(slots=True)
class PredictTab:
    """The Predict tab's components.

    Filled in by :func:`build` (a misspelt name fails there: the class has slots).
    """

    model: gr.Dropdown = field(init=False)
    refresh_btn: gr.Button = field(init=False)
    upload_row: gr.Row = field(init=False)
    model_file: gr.File = field(init=False)
    model_path: gr.Textbox = field(init=False)
    info: gr.Markdown = field(init=False)
    image_col: gr.Column = field(init=False)
    sketch: gr.Sketchpad = field(init=False)
    image: gr.File = field(init=False)
    preview: gr.Image = field(init=False)
    predict_btn: gr.Button = field(init=False)
    tab_col: gr.Column = field(init=False)
    feat_table: gr.Dataframe = field(init=False)
    sample_btn: gr.Button = field(init=False)
    predict_row_btn: gr.Button = field(init=False)
    csv: gr.File = field(init=False)
    table: gr.Dataframe = field(init=False)
    download: gr.DownloadButton = field(init=False)
    status: gr.Markdown = field(init=False)
    prediction: gr.Label = field(init=False)


def model_source(choice: str | None, path_text: str | None, file: str | None) -> str:
    """The model the user picked: a run directory, an uploaded file or a typed path."""
    if choice == UPLOAD_MODEL:
        source = file or (path_text or "").strip()
        if not source:
            raise UIError("Upload a model.npz or type the path of a run directory.")
        if not Path(source).exists():
            raise UIError(f"{source}: no such file or folder.")
        return str(source)
    if not choice:
        raise UIError("Pick a model first.")
    return str(choice)


def describe_model(trained: Any, source: str) -> str:
    meta = trained.metadata or {}
    name = Path(source).name
    if name == "model.npz":
        name = Path(source).parent.name
    classes = trained.class_names
    parts = [
        f"**{name}**",
        f"trained on `{meta.get('dataset', 'unknown data')}`",
        trained.task,
        f"inputs: {trained.describe_inputs()}",
    ]
    if classes:
        parts.append("classes: " + ", ".join(classes[:10]) + (" …" if len(classes) > 10 else ""))
    return " · ".join(parts)


def label_value(preds: Any, index: int = 0) -> str | dict[str, float]:
    """What ``gr.Label`` shows for sample ``index``: class probabilities, or the value."""
    if preds.task == "regression":
        return f"{float(preds.values[index, 0]):.4g}"
    return {c: float(p) for c, p in zip(preds.class_names, preds.probabilities[index])}


#: the pictures the upload offers (opened by :func:`nablanet.pipeline.image_to_sample`)
PICTURE_TYPES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp", ".tif", ".tiff")


def picture_input(upload: str | None, sketch: Any) -> Any:
    """What the Predict button reads: the uploaded picture when there is one, else the drawing.

    >>> picture_input("/tmp/gradio/ab12cd34/seven.png", {"composite": None})
    '/tmp/gradio/ab12cd34/seven.png'
    >>> picture_input(None, {"composite": None})
    {'composite': None}
    """
    return upload if upload else sketch


def predict_drawing(ctx: AppContext, source: str, image: Any) -> dict[str, Any]:
    """Turn a sketch or picture into the model's input (the one path of ``nablanet predict``,
    :func:`nablanet.pipeline.image_to_sample`) and predict it (raises UIError)."""
    trained = ctx.trained(source)
    if not trained.is_image:
        raise UIError(
            f"This model takes {trained.describe_inputs()}, not drawings: use the form instead."
        )
    sample = api.image_to_sample(image, trained)
    preds = api.predict(trained, sample.x[np.newaxis])
    small = sample.view if sample.view.shape[2] == 3 else sample.view[:, :, 0]
    zoom = max(1, 224 // max(small.shape[:2]))
    preview = np.repeat(np.repeat(small, zoom, axis=0), zoom, axis=1)
    top = preds.labels[0] if preds.labels else label_value(preds)
    conf = float(preds.probabilities[0].max()) if preds.probabilities is not None else None
    notes = "; ".join(n for n in sample.notes if not n.startswith("read as a digit"))
    status = ok(
        f"Prediction: {top}"
        + (f" ({conf:.0%})" if conf is not None else "")
        + (f" ({notes})" if notes else "")
    )
    return {"preview": preview, "label": label_value(preds), "status": status}


def shown_value(value: Any) -> float:
    """A number as the data wrote it: the shortest decimal that reads back as the same value
    in the array's own precision (a float32 18.61 is 18.61, not 18.610000610351562).

    >>> shown_value(np.float32(18.61)), shown_value(np.float64(0.1) + 0.2), shown_value(3)
    (18.61, 0.30000000000000004, 3.0)
    """
    if isinstance(value, np.floating):
        return float(np.format_float_positional(value, unique=True, trim="-"))
    return float(value)


def feature_frame(trained: Any, row: np.ndarray | None = None) -> pd.DataFrame:
    """The Predict form of a tabular model: one row per feature (name, value), the values in
    the data's own precision (see :func:`shown_value`)."""
    names = trained.feature_names or [f"x{j}" for j in range(trained.n_features)]
    values = np.zeros(len(names)) if row is None else np.asarray(row).ravel()
    return pd.DataFrame({"feature": names, "value": [shown_value(v) for v in values]})


def row_values(frame: Any, trained: Any) -> np.ndarray:
    """The ``value`` column of the form as float32, with a clear error for a bad cell."""
    if frame is None or len(frame) == 0:
        raise UIError("The form is empty: pick a tabular model first.")
    df = frame if isinstance(frame, pd.DataFrame) else pd.DataFrame(frame)
    if df.shape[1] < 2:
        raise UIError("The form needs a feature column and a value column.")
    out = []
    for name, cell in zip(df.iloc[:, 0], df.iloc[:, 1]):
        text = "" if cell is None else str(cell).strip()
        if not text:
            raise UIError(f"Feature '{name}' is empty: type a number.")
        try:
            value = float(text)
        except ValueError:
            raise UIError(f"Feature '{name}': {text!r} is not a number.") from None
        if not np.isfinite(value):
            raise UIError(f"Feature '{name}': {text!r} is not a finite number.")
        out.append(value)
    if len(out) != trained.n_features:
        raise UIError(f"The model expects {trained.n_features} features, the form has {len(out)}.")
    return np.asarray(out, dtype=np.float32)


def predict_row(ctx: AppContext, source: str, frame: Any) -> dict[str, Any]:
    trained = ctx.trained(source)
    if trained.is_image:
        raise UIError("This model takes images: draw or upload one instead.")
    preds = api.predict(trained, row_values(frame, trained)[None, :])
    shown = preds.labels[0] if preds.labels else label_value(preds)
    return {"label": label_value(preds), "status": ok(f"Prediction: {shown}")}


def predict_upload(ctx: AppContext, source: str, path: str) -> dict[str, Any]:
    """Predictions of every sample of an uploaded CSV / NPY / NPZ file (raises UIError)."""
    trained = ctx.trained(source)
    preds = api.predict_file(trained, path)
    if len(preds) == 0:
        raise UIError(f"{Path(path).name}: no samples in the file.")
    frame = pd.DataFrame(preds.rows(), columns=preds.header())
    out = ctx.tmp_dir / f"predictions-{Path(path).stem}.csv"
    preds.to_csv(out)
    first = replace(
        preds,
        ids=preds.ids[:1],
        classes=None if preds.classes is None else preds.classes[:1],
        labels=None if preds.labels is None else preds.labels[:1],
        probabilities=None if preds.probabilities is None else preds.probabilities[:1],
        values=None if preds.values is None else preds.values[:1],
    )
    return {
        "table": frame,
        "file": str(out),
        "label": label_value(first),
        "status": ok(f"{len(preds)} predictions (the first one is shown below)."),
    }


def random_sample(ctx: AppContext, source: str) -> dict[str, Any]:
    """A random test sample of the model's dataset, for the form."""
    trained = ctx.trained(source)
    spec = ((trained.metadata or {}).get("config") or {}).get("data", {}).get("dataset")
    if spec is None or trained.is_image:
        raise UIError("This model file does not record a tabular dataset to take a sample from.")
    ds = ctx.dataset(spec)
    x, y = (ds.x_test, ds.y_test) if ds.x_test is not None else (ds.x, ds.y)
    i = int(np.random.default_rng().integers(len(x)))
    if ds.class_names is not None:
        truth = f"true class: {ds.class_names[int(y[i])]}"
    else:
        truth = f"true value: {float(np.ravel(y[i])[0]):.4g}"
    return {"frame": feature_frame(trained, x[i]), "status": info(f"Sample {i} ({truth}).")}


def build(ui: AppUI, ctx: AppContext) -> None:
    import gradio as gr

    ui.predict = PredictTab()

    with gr.Row(equal_height=False, elem_classes="nb-toolbar"):
        ui.predict.model = gr.Dropdown(
            choices=[],
            label="Model (a run, or your own model file)",
            elem_id="predict-model",
            allow_custom_value=True,  # see tab_evaluate: a run picked just after a Refresh
            scale=5,
        )
        ui.predict.refresh_btn = gr.Button("↻ Refresh", elem_id="predict-refresh", scale=1)
    with gr.Row(visible=False) as ui.predict.upload_row:
        ui.predict.model_file = gr.File(
            label="model.npz",
            file_types=[".npz"],
            type="filepath",
            elem_id="predict-model-file",
            height=120,
        )
        ui.predict.model_path = gr.Textbox(
            label="…or the path of a run directory or model.npz (press Enter)",
            elem_id="predict-model-path",
        )
    ui.predict.info = gr.Markdown(info("Pick a model."), elem_id="predict-info")
    with gr.Column(visible=False) as ui.predict.image_col:
        ui.predict.sketch = gr.Sketchpad(
            label="Draw a digit (dark ink on the white canvas)",
            canvas_size=(420, 420),
            height=470,
            brush=gr.Brush(default_size=18, colors=["#000000"], color_mode="fixed"),
            layers=False,
            type="numpy",
            image_mode="RGBA",
            elem_id="sketchpad",
        )
        with gr.Row(equal_height=True):
            # a file, opened by image_to_sample: gr.Image would open it before our code runs and
            # show Gradio's own error for a file that is not a picture
            ui.predict.image = gr.File(
                label="…or upload a picture (PNG, JPEG)",
                file_types=list(PICTURE_TYPES),
                type="filepath",
                height=240,
                elem_id="predict-image",
            )
            ui.predict.preview = gr.Image(
                label="What the model sees",
                interactive=False,
                height=240,
                elem_id="predict-preview",
                buttons=[],
            )
        ui.predict.predict_btn = gr.Button("Predict", variant="primary", elem_id="predict-button")
    with gr.Column(visible=False) as ui.predict.tab_col:
        with gr.Row(equal_height=False):
            with gr.Column(scale=3):
                ui.predict.feat_table = gr.Dataframe(
                    headers=["feature", "value"],
                    datatype=["str", "number"],
                    interactive=True,
                    static_columns=[0],
                    label="One sample (edit the values)",
                    max_height=420,
                    elem_id="predict-form",
                )
                with gr.Row():
                    ui.predict.sample_btn = gr.Button(
                        "Random test sample", elem_id="predict-sample"
                    )
                    ui.predict.predict_row_btn = gr.Button(
                        "Predict", variant="primary", elem_id="predict-row-button"
                    )
            with gr.Column(scale=2):
                ui.predict.csv = gr.File(
                    label="…or a CSV of samples (same columns)",
                    file_types=[".csv", ".npy", ".npz"],
                    type="filepath",
                    elem_id="predict-csv",
                    height=140,
                )
                ui.predict.table = gr.Dataframe(
                    label="Predictions",
                    interactive=False,
                    visible=False,
                    max_height=300,
                    elem_id="predict-table",
                )
                ui.predict.download = gr.DownloadButton(
                    "Download predictions", visible=False, elem_id="predict-download"
                )
    ui.predict.status = gr.Markdown("", elem_id="predict-status")
    ui.predict.prediction = gr.Label(label="Prediction", num_top_classes=5, elem_id="prediction")


def wire(ui: AppUI, ctx: AppContext) -> None:
    import gradio as gr

    sources = [ui.predict.model, ui.predict.model_path, ui.predict.model_file]

    def choose(choice, path_text, file):
        row = gr.update(visible=choice == UPLOAD_MODEL)
        hidden = [gr.update(visible=False), gr.update(visible=False), None, None, ""]
        try:
            source = model_source(choice, path_text, file)
            trained = ctx.trained(source)
        except UIError as e:
            message = info(str(e)) if choice in (None, UPLOAD_MODEL) else error_text(e)
            return [row, message, *hidden]
        text = describe_model(trained, source)
        if trained.is_image:
            return [row, text, gr.update(visible=True), gr.update(visible=False), None, None, ""]
        try:
            view = random_sample(ctx, source)
            frame, status = view["frame"], view["status"]
        except UIError:
            frame, status = feature_frame(trained), ""
        return [row, text, gr.update(visible=False), gr.update(visible=True), frame, None, status]

    def drawing(choice, path_text, file, image):
        try:
            view = predict_drawing(ctx, model_source(choice, path_text, file), image)
        except UIError as e:
            return None, None, error_text(e)
        return view["preview"], view["label"], view["status"]

    def form(choice, path_text, file, frame):
        try:
            view = predict_row(ctx, model_source(choice, path_text, file), frame)
        except UIError as e:
            return None, error_text(e)
        return view["label"], view["status"]

    def sample(choice, path_text, file):
        try:
            view = random_sample(ctx, model_source(choice, path_text, file))
        except UIError as e:
            return gr.skip(), error_text(e)
        return view["frame"], view["status"]

    def upload(choice, path_text, file, path):
        hide = [gr.update(visible=False), gr.update(visible=False)]
        if not path:
            return [*hide, gr.skip(), ""]
        try:
            view = predict_upload(ctx, model_source(choice, path_text, file), path)
        except UIError as e:
            return [*hide, None, error_text(e)]
        return [
            gr.update(value=view["table"], visible=True),
            gr.update(value=view["file"], visible=True),
            view["label"],
            view["status"],
        ]

    def refresh(current):
        choices = ctx.model_choices()
        values = [v for _, v in choices]
        return gr.update(choices=choices, value=current if current in values else None)

    chosen = [ui.predict.upload_row, ui.predict.info, ui.predict.image_col, ui.predict.tab_col, ui.predict.feat_table,
              ui.predict.prediction, ui.predict.status]  # fmt: skip
    ui.predict.model.change(choose, sources, chosen)
    ui.predict.model_file.upload(choose, sources, chosen)
    ui.predict.model_path.submit(choose, sources, chosen)
    ui.predict.refresh_btn.click(refresh, [ui.predict.model], [ui.predict.model])
    drawn = [ui.predict.preview, ui.predict.prediction, ui.predict.status]
    ui.predict.sketch.change(
        drawing,
        [*sources, ui.predict.sketch],
        drawn,
        trigger_mode="always_last",
        show_progress="hidden",
    )

    def button(choice, path_text, file, upload, sketch):
        return drawing(choice, path_text, file, picture_input(upload, sketch))

    ui.predict.predict_btn.click(button, [*sources, ui.predict.image, ui.predict.sketch], drawn)
    ui.predict.image.upload(drawing, [*sources, ui.predict.image], drawn)
    ui.predict.sample_btn.click(sample, sources, [ui.predict.feat_table, ui.predict.status])
    ui.predict.predict_row_btn.click(
        form, [*sources, ui.predict.feat_table], [ui.predict.prediction, ui.predict.status]
    )
    ui.predict.csv.upload(
        upload, [*sources, ui.predict.csv],
        [ui.predict.table, ui.predict.download, ui.predict.prediction, ui.predict.status],
    )  # fmt: skip
