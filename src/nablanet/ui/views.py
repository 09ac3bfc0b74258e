"""What the Train, Evaluate and Compare tabs display, as pure functions of plain data.

Curves become long-format tables (``epoch``, ``value``, ``series``) for ``gr.LinePlot``; a
training snapshot becomes a progress bar; ``metrics.json`` becomes a table. No Gradio here.

>>> history = [{"epoch": 1, "loss": 0.7, "val_loss": 0.8}, {"epoch": 2, "loss": 0.5, "val_loss": 0.6}]
>>> curve_frame(history, "loss")
   epoch  value      series
0    1.0    0.7       train
1    2.0    0.5       train
2    1.0    0.8  validation
3    2.0    0.6  validation
"""

from __future__ import annotations

import html
import itertools
import math
import re
from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

SERIES_COLORS = {
    "train": "#4f46e5",
    "validation": "#f97316",
    "train (recent batches)": "#a5b4fc",
}


#: colours of the runs overlaid in the Compare tab, in turn
PALETTE = (
    "#4f46e5",
    "#f97316",
    "#16a34a",
    "#dc2626",
    "#0891b2",
    "#9333ea",
    "#ca8a04",
    "#db2777",
    "#475569",
    "#65a30d",
)


def _finite(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)


def metric_key(history: Sequence[Mapping[str, Any]] | Mapping[str, Any], task: str | None) -> str:
    """The training metric to plot next to the loss: accuracy, or mae for regression."""
    keys: set[str] = set()
    if isinstance(history, Mapping):
        keys = set(history)
    else:
        for row in history:
            keys.update(row)
    for key in ("accuracy", "mae", "mse"):
        if key in keys:
            return key
    return "mae" if task == "regression" else "accuracy"


def curves(rows: Sequence[tuple[float, float, str]]) -> pd.DataFrame:
    """A typed long-format table (float ``epoch`` and ``value``, str ``series``); typed even
    when empty, so that a plot never reads the epochs as categories."""
    return pd.DataFrame(
        {
            "epoch": pd.Series([r[0] for r in rows], dtype="float64"),
            "value": pd.Series([r[1] for r in rows], dtype="float64"),
            "series": pd.Series([r[2] for r in rows], dtype="object"),
        }
    )


def curve_frame(
    history: Sequence[Mapping[str, Any]],
    key: str,
    batch_points: Sequence[tuple[float, float]] = (),
) -> pd.DataFrame:
    """Long-format curves of ``key`` (train) and ``val_<key>`` (validation) per epoch; the
    optional batch points (fractional epoch, loss) become a third series."""
    rows: list[tuple[float, float, str]] = []
    for series, name in (("train", key), ("validation", f"val_{key}")):
        for r in history:
            v: Any = r.get(name)
            if _finite(v):
                rows.append((float(r["epoch"]), float(v), series))
    for x, v in batch_points:
        if _finite(v):
            rows.append((float(x), float(v), "train (recent batches)"))
    return curves(rows)


#: the live curves draw up to this many epochs as the categories 1, 2, 3...: on a number axis
#: Vega puts its ticks every 0.1, 0.2 or 0.5 epoch below about 12 epochs (a tick per 40 pixels)
CATEGORY_EPOCHS = 20
#: the order of those categories (Vega would sort them as text: 1, 10, 11, 2...)
EPOCH_ORDER = [str(i) for i in range(1, CATEGORY_EPOCHS + 1)]


def epoch_axis(frame: pd.DataFrame | None) -> str:
    """How a curve table's epochs are drawn: ``"category"`` (whole epochs 1..``CATEGORY_EPOCHS``,
    one tick each) or ``"number"`` (more epochs, or the batches' fractional epochs: Vega's
    ticks are then whole numbers or meant to be fractions).

    >>> epoch_axis(curve_frame([{"epoch": 1, "loss": 0.7}, {"epoch": 2, "loss": 0.5}], "loss"))
    'category'
    >>> epoch_axis(curve_frame([{"epoch": 1, "loss": 0.7}], "loss", [(0.5, 0.9)]))
    'number'
    """
    if frame is None or not len(frame):
        return "number"
    epochs = frame["epoch"]
    whole = bool((epochs == epochs.round()).all())
    return (
        "category" if whole and 1 <= epochs.min() and epochs.max() <= CATEGORY_EPOCHS else "number"
    )


def on_epoch_axis(frame: pd.DataFrame, axis: str) -> pd.DataFrame:
    """The table with its epochs as text (``"1"``, ``"2"``...) for a ``"category"`` axis."""
    if axis != "category":
        return frame
    out = frame.copy()
    out["epoch"] = out["epoch"].astype("int64").astype(str)
    return out


def series_names(frame: pd.DataFrame | None) -> tuple[str, ...]:
    """The series of a long-format curve table, in order of first appearance.

    >>> series_names(curve_frame([{"epoch": 1, "loss": 0.7, "val_loss": 0.8}], "loss"))
    ('train', 'validation')
    """
    if frame is None or not len(frame):
        return ()
    return tuple(str(s) for s in pd.unique(frame["series"]))


def color_map(names: Sequence[str], fixed: Mapping[str, str] | None = None) -> dict[str, str]:
    """A colour for each series: its colour in ``fixed``, else the next one of ``PALETTE``.

    Gradio draws a ``LinePlot`` afresh, with the series of its current value in the legend,
    only when a setting such as ``color_map`` changes; a new value alone keeps the series of
    the first drawing. So the tabs send a new value first and then, when its series differ,
    this map of exactly those series.

    >>> color_map(["run-a", "run-b"])
    {'run-a': '#4f46e5', 'run-b': '#f97316'}
    >>> color_map(["train (recent batches)", "train"], SERIES_COLORS)
    {'train (recent batches)': '#a5b4fc', 'train': '#4f46e5'}
    """
    fixed = fixed or {}
    free = itertools.cycle([c for c in PALETTE if c not in fixed.values()] or PALETTE)
    return {name: fixed[name] if name in fixed else next(free) for name in names}


def seconds_text(seconds: float) -> str:
    """``0.0014`` -> ``1.4 ms``, ``2.5`` -> ``2.50 s``, ``75`` -> ``75 s``.

    >>> seconds_text(0.0014), seconds_text(0.25), seconds_text(2.5), seconds_text(75.2)
    ('1.4 ms', '250 ms', '2.50 s', '75 s')
    """
    if seconds < 0.01:
        return f"{seconds * 1000:.1f} ms"
    if seconds < 1:
        return f"{seconds * 1000:.0f} ms"
    return f"{seconds:.2f} s" if seconds < 10 else f"{seconds:.0f} s"


def progress_html(snap: Any) -> str:
    """A progress bar with the epoch, batch, learning rate and timing of a training snapshot."""
    pct = round(100 * snap.fraction, 1)
    parts: list[str] = []
    if snap.status == "idle":
        parts.append("Not started: set up the data and the model, then press Start.")
    elif snap.status == "queued":
        parts.append(
            f"Waiting for a free slot: your run is number <b>{snap.position}</b> in the line"
        )
    elif snap.status == "cancelled":
        parts.append("Cancelled before it started.")
    else:
        running = snap.status in ("training", "stopping") and snap.step and snap.epoch < snap.epochs
        # while an epoch runs, its number (1-based); otherwise the epochs done
        parts.append(f"Epoch <b>{snap.epoch + 1 if running else snap.epoch}</b> / {snap.epochs}")
        if running:
            total = f" / {snap.steps_per_epoch}" if snap.steps_per_epoch else ""
            parts.append(f"batch {snap.step}{total}")
        if snap.learning_rate is not None:
            parts.append(f"learning rate <b>{snap.learning_rate:.3g}</b>")
        if snap.history:
            secs = [r.get("seconds", 0.0) for r in snap.history]
            parts.append(f"{seconds_text(sum(secs) / len(secs))}/epoch")
        parts.append(f"{snap.elapsed:.0f} s elapsed")
    state = html.escape(snap.status)
    return (
        f'<div class="nb-progress" data-status="{state}" data-epoch="{snap.epoch}" '
        f'data-position="{getattr(snap, "position", None) or 0}">'
        f'<div class="nb-progress-track"><div class="nb-progress-fill nb-{state}" '
        f'style="width:{pct}%"></div></div>'
        f'<div class="nb-progress-text"><span class="nb-badge nb-{state}">{state}</span> '
        + " · ".join(parts)
        + "</div></div>"
    )


def last_epoch_line(history: Sequence[Mapping[str, Any]]) -> str:
    """``loss 0.312 · val_loss 0.298 · accuracy 0.912 · val_accuracy 0.921`` (last epoch)."""
    if not history:
        return ""
    last = history[-1]
    keys = [k for k in last if k not in ("epoch", "seconds", "learning_rate")]
    keys.sort(key=lambda k: (k.startswith("val_"), k))
    return " · ".join(f"{k} {last[k]:.4g}" for k in keys if _finite(last[k]))


# -- metrics --------------------------------------------------------------------------------------
_SCALARS = (
    "accuracy",
    "precision",
    "recall",
    "f1",
    "precision_macro",
    "recall_macro",
    "f1_macro",
    "roc_auc",
    "log_loss",
    "loss",
    "mse",
    "rmse",
    "mae",
    "r2",
)


def metrics_table(metrics: Mapping[str, Any] | None) -> pd.DataFrame:
    """``metrics.json`` as a table: one row per metric, one column per split."""
    if not metrics:
        return pd.DataFrame(columns=["metric"])
    splits = [s for s in ("train", "validation", "test") if isinstance(metrics.get(s), Mapping)]
    names: list[str] = []
    for s in splits:
        for k in _SCALARS:
            if _finite(metrics[s].get(k)) and k not in names:
                names.append(k)
    names.sort(key=_SCALARS.index)
    data: dict[str, list[Any]] = {"metric": names}
    for s in splits:
        data[s] = [
            round(float(metrics[s][k]), 4) if _finite(metrics[s].get(k)) else None for k in names
        ]
    return pd.DataFrame(data)


def per_class_table(report: Mapping[str, Any] | None) -> pd.DataFrame:
    """Precision / recall / F1 / support per class of a test report (classification)."""
    per = (report or {}).get("per_class")
    if not per:
        return pd.DataFrame(columns=["class"])
    if isinstance(per, Mapping):
        items = list(per.items())
    else:
        items = [(row.get("class", str(i)), row) for i, row in enumerate(per)]
    rows = []
    for name, row in items:
        rows.append(
            {
                "class": str(name),
                **{
                    k: (round(float(row[k]), 4) if _finite(row.get(k)) else row.get(k))
                    for k in ("precision", "recall", "f1", "support")
                    if k in row
                },
            }
        )
    return pd.DataFrame(rows)


def headline(metrics: Mapping[str, Any] | None) -> str:
    """One Markdown line of a run's test results: ``**Test accuracy 0.965** · loss 0.09 ...``."""
    if not metrics:
        return "No metrics yet."
    test = metrics.get("test") or metrics.get("validation") or {}
    where = "Test" if metrics.get("test") else "Validation"
    keys = ("accuracy", "f1", "roc_auc", "loss") if "accuracy" in test else ("r2", "rmse", "mae")
    parts = [f"{k} **{test[k]:.4f}**" for k in keys if _finite(test.get(k))]
    status = metrics.get("status", "")
    epochs = metrics.get("epochs")
    best = metrics.get("best_epoch")
    tail = f" — {status}, {epochs} epoch(s)" + (f", best epoch {best}" if best else "")
    return f"{where}: " + " · ".join(parts) + tail if parts else f"{where}: no metrics{tail}"


# -- runs -----------------------------------------------------------------------------------------
def layers_text(config: Mapping[str, Any] | None) -> str:
    """``dense 64 relu → dropout 0.1 → dense auto softmax`` of a config's layers."""
    if not config:
        return ""
    parts = []
    for spec in (config.get("model") or {}).get("layers", []):
        kind = spec.get("type", "?")
        if kind == "dense":
            act = spec.get("activation")
            parts.append(f"dense {spec.get('units')}" + (f" {act}" if act else ""))
        elif kind == "dropout":
            parts.append(f"dropout {spec.get('rate')}")
        else:
            extra = spec.get("filters") or spec.get("activation") or ""
            parts.append(f"{kind} {extra}".strip())
    return " → ".join(parts)


def run_label(info: Any) -> str:
    """Dropdown label of a run: ``name · status · test accuracy 0.96``."""
    m = info.metrics or {}
    test = m.get("test") or {}
    score = ""
    for key in ("accuracy", "r2"):
        if _finite(test.get(key)):
            score = f" · test {key} {test[key]:.3f}"
            break
    return f"{info.name} · {info.status}{score}"


def compare_table(runs: Sequence[Any]) -> pd.DataFrame:
    """Final metrics and the main settings of several runs (``RunInfo`` objects)."""
    rows = []
    for info in runs:
        cfg = info.config.to_dict() if info.config is not None else {}
        m = info.metrics or {}
        test = m.get("test") or {}
        val = m.get("validation") or {}
        tr = cfg.get("training", {})
        opt = tr.get("optimizer", {}) if isinstance(tr.get("optimizer"), Mapping) else {}
        row = {
            "run": info.name,
            "dataset": m.get("dataset") or (cfg.get("data") or {}).get("dataset"),
            "status": info.status,
            "epochs": m.get("epochs"),
            "best epoch": m.get("best_epoch"),
        }
        for key in ("accuracy", "f1", "roc_auc", "loss", "r2", "rmse", "mae"):
            if _finite(test.get(key)):
                row[f"test {key}"] = round(float(test[key]), 4)
        for key in ("accuracy", "loss", "mae"):
            if _finite(val.get(key)):
                row[f"val {key}"] = round(float(val[key]), 4)
        row.update(
            {
                "layers": layers_text(cfg),
                "optimizer": opt.get("name"),
                "learning rate": opt.get("learning_rate"),
                "batch size": tr.get("batch_size"),
                "time (s)": m.get("training_time_s"),
            }
        )
        rows.append(row)
    return pd.DataFrame(rows)


#: Vega cuts a legend label past 160 pixels, about 28 characters of its 10-pixel font
LEGEND_CHARS = 28
_STAMPED = re.compile(r"^(?P<base>.+)-(?P<date>\d{8})-(?P<time>\d{6})(?P<n>-\d+)?$")


def legend_labels(names: Sequence[str], limit: int = LEGEND_CHARS) -> list[str]:
    """Labels for the runs of a legend that fit in ``limit`` characters and keep what tells
    the runs apart: the date of a run directory's stamp goes when all share it, the time is
    written ``15:45:00``, and a long name loses its middle, never its end.

    >>> legend_labels(["breast_cancer_mlp-20261202-154500", "digits_mlp-20261202-154812"])
    ['breast_cancer_mlp 15:45:00', 'digits_mlp 15:48:12']
    >>> legend_labels(["a_really_long_dataset_name_mlp-20261202-154500"])
    ['a_rea…aset_name_mlp 15:45:00']
    >>> legend_labels(["short-run", "other"])
    ['short-run', 'other']
    """
    names = [str(n) for n in names]
    if all(len(n) <= limit for n in names):
        return names
    parsed = [_STAMPED.match(n) for n in names]
    same_day = all(parsed) and len({m["date"] for m in parsed if m}) == 1
    labels = []
    for name, m in zip(names, parsed):
        if m is None:
            base, tail = name, ""
        else:
            t = m["time"]
            clock = f"{t[:2]}:{t[2:4]}:{t[4:]}"
            day = "" if same_day else f"{m['date'][4:6]}-{m['date'][6:]} "
            base, tail = m["base"], f" {day}{clock}{m['n'] or ''}"
        room = limit - len(tail)
        if len(base) > room:
            head = min(5, max(1, room // 3))
            base = base[:head] + "…" + base[len(base) - (room - head - 1) :]
        labels.append(base + tail)
    return labels if len(set(labels)) == len(labels) else names


def compare_frame(runs: Sequence[Any], key: str) -> pd.DataFrame:
    """Long-format curves of ``key`` (e.g. ``val_loss``) for several runs (series = the run's
    :func:`legend_labels` label, so the legend does not cut what tells them apart)."""
    rows = []
    labels = legend_labels([info.name for info in runs])
    for info, label in zip(runs, labels):
        hist = info.history or {}
        values = hist.get(key) or []
        for i, v in enumerate(values):  # history.json counts epochs from 0
            if _finite(v):
                rows.append((float(i + 1), float(v), label))
    return curves(rows)
