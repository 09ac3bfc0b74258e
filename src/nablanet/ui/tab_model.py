"""Tab 2, Model: the network and training settings as a form (or a config file), the model's
``summary()`` and the equivalent YAML to download."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import pipeline_api as api
from . import views
from .common import AppContext, error_text, ok
from .errors import UIError
from .model_form import (
    ACTIVATIONS,
    INITIALIZERS,
    KERNEL_SIZES,
    LOSSES_BY_TASK,
    MAX_CONV,
    MAX_HIDDEN,
    OPTIMIZERS,
    SCHEDULERS,
    ConvBlock,
    HiddenLayer,
    ModelForm,
    default_form,
    form_from_config,
    form_to_config,
)

if TYPE_CHECKING:
    import gradio as gr

    from .common import AppUI


@dataclass(slots=True)
class ModelTab:
    """The Model tab's components; ``form_inputs`` are the form's, in the order of :func:`form_values`, and ``outputs`` what a change of the form redraws.

    Filled in by :func:`build` (a misspelt name fails there: the class has slots).
    """

    custom_note: gr.Markdown = field(init=False)
    n_conv: gr.Slider = field(init=False)
    conv_rows: list[gr.Row] = field(init=False)
    conv_extra_row: gr.Row = field(init=False)
    n_hidden: gr.Slider = field(init=False)
    layer_rows: list[gr.Row] = field(init=False)
    loss: gr.Dropdown = field(init=False)
    config_file: gr.Dropdown = field(init=False)
    load_config_btn: gr.Button = field(init=False)
    status: gr.Markdown = field(init=False)
    summary: gr.Code = field(init=False)
    yaml_box: gr.Code = field(init=False)
    download_yaml: gr.DownloadButton = field(init=False)
    form_inputs: list[Any] = field(init=False)
    outputs: list[Any] = field(init=False)


#: number of form components (see :func:`form_values`)
N_FORM = 1 + 3 * MAX_HIDDEN + 15 + 1 + 3 * MAX_CONV + 3


def form_values(form: ModelForm) -> list[Any]:
    """The values of the form's components, in the order of ``ui.model.form_inputs``."""
    layers = list(form.layers)[:MAX_HIDDEN]
    n = len(layers)
    layers += [HiddenLayer() for _ in range(MAX_HIDDEN - n)]
    values: list[Any] = [max(1, n)]
    for layer in layers:
        values += [layer.units, layer.activation, layer.dropout]
    values += [
        form.initializer,
        form.l1,
        form.l2,
        form.loss,
        form.optimizer,
        form.learning_rate,
        form.scheduler,
        form.epochs,
        form.batch_size,
        form.validation_split,
        form.max_samples,
        form.early_stopping,
        form.patience,
        form.seed,
        form.name,
    ]
    blocks = list(form.conv)[:MAX_CONV]
    values.append(len(blocks))
    blocks += [ConvBlock(32 if i == 0 else 64) for i in range(len(blocks), MAX_CONV)]
    for block in blocks:
        values += [block.filters, block.kernel_size, block.pool]
    values += [form.batchnorm, form.shift, form.conv_dropout]
    return values


def form_from_values(values: list[Any], extra: dict[str, Any] | None) -> ModelForm:
    """The inverse of :func:`form_values` (``extra`` holds a loaded config's other parts)."""
    if len(values) != N_FORM:
        raise ValueError(f"expected {N_FORM} form values, got {len(values)}")
    n = int(values[0] or 1)
    layers = [
        HiddenLayer(values[1 + 3 * i], values[2 + 3 * i], values[3 + 3 * i] or 0.0)
        for i in range(n)
    ]
    rest = values[1 + 3 * MAX_HIDDEN :]
    conv_values = rest[15:]
    n_conv = int(conv_values[0] or 0)
    conv = [
        ConvBlock(
            conv_values[1 + 3 * i], int(conv_values[2 + 3 * i] or 3), bool(conv_values[3 + 3 * i])
        )
        for i in range(n_conv)
    ]
    batchnorm, shift, conv_dropout = conv_values[1 + 3 * MAX_CONV :]
    extra = extra or {}
    return ModelForm(
        layers=layers,
        conv=conv,
        batchnorm=bool(batchnorm),
        shift=shift or 0,
        conv_dropout=conv_dropout or 0.0,
        initializer=rest[0],
        l1=rest[1] or 0.0,
        l2=rest[2] or 0.0,
        loss=rest[3],
        optimizer=rest[4],
        learning_rate=rest[5],
        scheduler=rest[6],
        epochs=rest[7],
        batch_size=rest[8],
        validation_split=rest[9],
        max_samples=rest[10],
        early_stopping=rest[11],
        patience=rest[12],
        seed=rest[13],
        name=rest[14],
        custom_layers=extra.get("custom_layers"),
        base=extra.get("base"),
    )


def current_config(ctx: AppContext, data_state, values, extra) -> dict[str, Any]:
    """The run config of the page: the Data tab's dataset + the Model tab's form."""
    if not data_state or not data_state.get("spec"):
        raise UIError("Pick a dataset in the Data tab first.")
    form = form_from_values(list(values), extra)
    if form.conv and form.custom_layers is None:
        shape = tuple(ctx.dataset(data_state["spec"]).input_shape or ())
        if len(shape) != 3:
            raise UIError(
                f"Convolution blocks need images (height, width, channels), but "
                f"{data_state.get('label') or 'this dataset'} has samples of shape {shape}: set "
                "the number of convolution blocks to 0, or pick an image dataset."
            )
    config = form_to_config(form, data_state["spec"], data_state["task"])
    config["output_dir"] = str(ctx.runs_dir)
    return config


def defaults_for(name: str, task: str, pending: list[Any] | None) -> tuple[list[Any], list[str]]:
    """Form values for a newly chosen dataset (a just-loaded config's, if any) and the losses
    that suit its task."""
    values = pending if pending is not None else form_values(default_form(name, task))
    return values, list(LOSSES_BY_TASK[task])


def model_view(ctx: AppContext, data_state, extra, values) -> dict[str, Any]:
    """Summary, YAML text and the path of the YAML file for download (raises UIError)."""
    config = current_config(ctx, data_state, values, extra)
    yaml_text = api.validated(config).to_yaml()
    summary = api.model_summary(config, ctx.dataset(data_state["spec"]))
    safe = "".join(c if c.isalnum() or c in "._-" else "_" for c in str(config["name"]))
    path = ctx.tmp_dir / f"{safe}.yaml"
    path.write_text(yaml_text, encoding="utf-8")
    return {"config": config, "yaml": yaml_text, "summary": summary, "path": str(path)}


def refresh_model_fn(ctx: AppContext):
    """The event handler that redraws summary, YAML and status from the form."""
    import gradio as gr

    def refresh(data_state, extra, *values):
        note = gr.update(visible=False)
        if extra and extra.get("custom_layers"):
            note = gr.update(
                value="ℹ The loaded config has layers the form cannot show; they are used as "
                "they are: "
                + views.layers_text({"model": {"layers": extra["custom_layers"]}})
                + ". Change the number of hidden layers to go back to the form.",
                visible=True,
            )
        if not data_state:
            return (
                "",
                "",
                gr.update(value=None),
                error_text("Pick a dataset in the Data tab first."),
                note,
            )
        try:
            view = model_view(ctx, data_state, extra, values)
        except UIError as e:
            return "", "", gr.update(value=None), error_text(e), note
        status = ok("The model is ready: go to the Train tab.")
        return view["summary"], view["yaml"], gr.update(value=view["path"]), status, note

    return refresh


def load_config_file(path: str | None) -> tuple[list[Any], dict[str, Any], Any]:
    """Form values, extra state and dataset spec of a config file (raises UIError)."""
    if not path:
        raise UIError("Choose a config file first.")
    raw = api.read_config_file(path)
    form, spec = form_from_config(raw)
    return form_values(form), {"custom_layers": form.custom_layers, "base": form.base}, spec


def build(ui: AppUI, ctx: AppContext) -> None:
    import gradio as gr

    ui.model = ModelTab()
    d, hidden = ModelForm(), HiddenLayer()  # the form's defaults (most are the schema's)
    # The numbers have no `minimum=`: Gradio would refuse a value below it with a toast of its
    # own before the form's handler runs, leaving the old summary and "The model is ready"
    # beside it. The form's checks (model_form.check_form) name the field in the status.

    ui.model.custom_note = gr.Markdown("", visible=False, elem_id="custom-layers-note")
    with gr.Row(equal_height=False):
        with gr.Column(scale=3, min_width=400):
            with gr.Group():
                gr.Markdown(
                    "**Convolution blocks** (image data) — each a 'same' ReLU convolution, "
                    "then a 2x2 max pooling if ticked; a flatten follows the last one.",
                    padding=True,
                )
                ui.model.n_conv = gr.Slider(
                    0,
                    MAX_CONV,
                    value=0,
                    step=1,
                    label="Number of convolution blocks (0: a plain MLP)",
                    elem_id="n-conv",
                )
                ui.model.conv_rows, conv_inputs = [], []
                for i in range(MAX_CONV):
                    with gr.Row(visible=False) as row:
                        filters = gr.Number(
                            value=32 if i == 0 else 64,
                            precision=0,
                            label=f"Block {i + 1}: filters",
                            elem_id=f"filters-{i + 1}",
                            min_width=100,
                        )
                        kernel = gr.Dropdown(
                            choices=list(KERNEL_SIZES),
                            value=3,
                            label="kernel size",
                            elem_id=f"kernel-{i + 1}",
                            min_width=100,
                        )
                        pool = gr.Checkbox(
                            value=True, label="max-pool 2x2 after", elem_id=f"pool-{i + 1}"
                        )
                    ui.model.conv_rows.append(row)
                    conv_inputs += [filters, kernel, pool]
                with gr.Row(visible=False) as ui.model.conv_extra_row:
                    batchnorm = gr.Checkbox(
                        value=False,
                        label="batch normalization after each block",
                        elem_id="batchnorm",
                    )
                    shift = gr.Number(
                        value=0,
                        precision=0,
                        label="random shifts of training images (pixels)",
                        elem_id="shift",
                    )
                    conv_dropout = gr.Slider(
                        0.0,
                        0.8,
                        value=0.0,
                        step=0.05,
                        label="dropout after the flatten",
                        elem_id="conv-dropout",
                    )
            with gr.Group():
                gr.Markdown(
                    "**Hidden layers** — the output layer is added to fit the data.", padding=True
                )
                ui.model.n_hidden = gr.Slider(
                    1,
                    MAX_HIDDEN,
                    value=1,
                    step=1,
                    label="Number of hidden layers",
                    elem_id="n-hidden",
                )
                ui.model.layer_rows, layer_inputs = [], []
                for i in range(MAX_HIDDEN):
                    with gr.Row(visible=(i == 0)) as row:
                        units = gr.Number(
                            value=hidden.units,
                            precision=0,
                            label=f"Layer {i + 1}: units",
                            elem_id=f"units-{i + 1}",
                            min_width=100,
                        )
                        act = gr.Dropdown(
                            choices=list(ACTIVATIONS),
                            value=hidden.activation,
                            label="activation",
                            elem_id=f"activation-{i + 1}",
                            min_width=120,
                        )
                        drop = gr.Slider(
                            0.0,
                            0.8,
                            value=0.0,
                            step=0.05,
                            label="dropout after",
                            elem_id=f"dropout-{i + 1}",
                            min_width=140,
                        )
                    ui.model.layer_rows.append(row)
                    layer_inputs += [units, act, drop]
                with gr.Row():
                    initializer = gr.Dropdown(
                        choices=list(INITIALIZERS),
                        value=d.initializer,
                        label="Weight initializer",
                        elem_id="initializer",
                    )
                    l1 = gr.Number(value=0.0, label="L1 penalty", elem_id="l1")
                    l2 = gr.Number(value=0.0, label="L2 penalty", elem_id="l2")
            with gr.Group():
                gr.Markdown("**Training**", padding=True)
                with gr.Row():
                    ui.model.loss = gr.Dropdown(
                        choices=list(LOSSES_BY_TASK["multiclass"]),
                        value=d.loss,
                        label="Loss",
                        elem_id="loss",
                        scale=2,
                        min_width=200,
                    )
                    optimizer = gr.Dropdown(
                        choices=list(OPTIMIZERS),
                        value=d.optimizer,
                        label="Optimizer",
                        elem_id="optimizer",
                        min_width=110,
                    )
                    lr = gr.Number(
                        value=d.learning_rate,
                        label="Learning rate",
                        elem_id="learning-rate",
                        min_width=110,
                    )
                    scheduler = gr.Dropdown(
                        choices=list(SCHEDULERS),
                        value=d.scheduler,
                        label="LR schedule",
                        elem_id="scheduler",
                        min_width=120,
                    )
                with gr.Row():
                    epochs = gr.Number(
                        value=d.epochs, precision=0, label="Epochs", elem_id="epochs"
                    )
                    batch_size = gr.Number(
                        value=d.batch_size,
                        precision=0,
                        label="Batch size",
                        elem_id="batch-size",
                    )
                    val_split = gr.Slider(
                        0.0,
                        0.5,
                        value=d.validation_split,
                        step=0.05,
                        label="Validation split",
                        elem_id="validation-split",
                    )
                    max_samples = gr.Number(
                        value=None,
                        precision=0,
                        label="Max samples (empty: all)",
                        elem_id="max-samples",
                    )
                with gr.Row():
                    early = gr.Checkbox(
                        value=d.early_stopping,
                        label="Early stopping (keeps the best weights)",
                        elem_id="early-stopping",
                    )
                    patience = gr.Number(
                        value=d.patience,
                        precision=0,
                        label="Patience (epochs)",
                        elem_id="patience",
                    )
                    seed = gr.Number(value=d.seed, precision=0, label="Seed", elem_id="seed")
                    run_name = gr.Textbox(value=d.name, label="Run name", elem_id="run-name")
            with gr.Row(equal_height=False, elem_classes="nb-toolbar"):
                ui.model.config_file = gr.Dropdown(
                    choices=ctx.config_files(),
                    value=None,
                    label="…or start from a config file",
                    elem_id="config-file",
                    scale=3,
                )
                ui.model.load_config_btn = gr.Button("Load config", elem_id="load-config", scale=1)
        with gr.Column(scale=2, min_width=360):
            ui.model.status = gr.Markdown("", elem_id="model-status")
            ui.model.summary = gr.Code(
                value="",
                language=None,
                label="Model summary",
                interactive=False,
                elem_id="model-summary",
                lines=9,
            )
            ui.model.yaml_box = gr.Code(
                value="",
                language="yaml",
                label="Equivalent YAML config",
                interactive=False,
                elem_id="config-yaml",
                lines=14,
                max_lines=28,
                wrap_lines=True,
            )
            ui.model.download_yaml = gr.DownloadButton(
                "Download YAML", value=None, elem_id="download-yaml", variant="secondary"
            )
    ui.model.form_inputs = [
        ui.model.n_hidden, *layer_inputs, initializer, l1, l2, ui.model.loss, optimizer, lr, scheduler,
        epochs, batch_size, val_split, max_samples, early, patience, seed, run_name,
        ui.model.n_conv, *conv_inputs, batchnorm, shift, conv_dropout,
    ]  # fmt: skip
    assert len(ui.model.form_inputs) == N_FORM
    ui.model.outputs = [
        ui.model.summary,
        ui.model.yaml_box,
        ui.model.download_yaml,
        ui.model.status,
        ui.model.custom_note,
    ]


def wire(ui: AppUI, ctx: AppContext) -> None:
    import gradio as gr

    refresh = refresh_model_fn(ctx)
    refresh_inputs = [ui.data_state, ui.form_extra, *ui.model.form_inputs]

    def on_hidden_count(n):
        n = int(n or 1)
        return [gr.update(visible=i < n) for i in range(MAX_HIDDEN)]

    def on_conv_count(n):
        n = int(n or 0)
        return [gr.update(visible=i < n) for i in range(MAX_CONV)] + [gr.update(visible=n > 0)]

    def back_to_form(extra):
        if extra and extra.get("custom_layers"):
            return {**extra, "custom_layers": None}
        return extra

    def on_load_config(path, current_choice, extra):
        skip_form = [gr.skip()] * N_FORM
        try:
            values, new_extra, spec = load_config_file(path)
        except UIError as e:
            return [gr.skip(), extra, None, error_text(e), *skip_form]
        message = f"Loaded {Path(path).name}."
        if isinstance(spec, str):
            if spec == current_choice:
                return [gr.skip(), new_extra, None, ok(message), *values]
            return [spec, new_extra, values, ok(message + " Its dataset is now selected."), *values]
        message += " It trains on your own data file: upload that file in the Data tab."
        return [gr.skip(), new_extra, None, ok(message), *values]

    ui.model.n_hidden.change(on_hidden_count, [ui.model.n_hidden], ui.model.layer_rows)
    ui.model.n_hidden.input(back_to_form, [ui.form_extra], [ui.form_extra])
    ui.model.n_conv.change(
        on_conv_count, [ui.model.n_conv], [*ui.model.conv_rows, ui.model.conv_extra_row]
    )
    ui.model.n_conv.input(back_to_form, [ui.form_extra], [ui.form_extra])
    for comp in ui.model.form_inputs:
        comp.input(
            refresh,
            refresh_inputs,
            ui.model.outputs,
            trigger_mode="always_last",
            show_progress="hidden",
        )
    ui.model.load_config_btn.click(
        on_load_config,
        [ui.model.config_file, ui.data.dataset, ui.form_extra],
        [ui.data.dataset, ui.form_extra, ui.pending_form, ui.model.status, *ui.model.form_inputs],
    ).then(refresh, refresh_inputs, ui.model.outputs)
