"""Reading a study back: trials best first, ``best.yaml``, ``trials.csv`` and plots.

These are the functions ``nablanet tune --show`` and the UI's Studies tab call.
"""

from __future__ import annotations

import csv
import io
import logging
import math
import os
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..config import dump_config, load_config
from ..rundir import CONFIG_FILE
from .space import trial_config

__all__ = [
    "BEST_FILE",
    "TRIALS_FILE",
    "TrialRow",
    "format_trials_table",
    "trial_rows",
    "write_study_files",
]

logger = logging.getLogger("nablanet.tune")

BEST_FILE = "best.yaml"
TRIALS_FILE = "trials.csv"
PLOTS_DIR = "plots"


@dataclass
class TrialRow:
    """One trial of a study, as the table, ``trials.csv`` and the UI show it.

    Attributes
    ----------
    number : int
    state : str
        ``COMPLETE``, ``PRUNED``, ``FAIL``, ``RUNNING`` or ``WAITING``.
    value : float or None
        The objective (the metric) of a complete trial; the last reported value of a pruned one.
    params : dict of str to value
        The sampled values, keyed by their config paths.
    run_dir : str or None
        The trial's run directory (on the machine that ran it).
    duration_s : float or None
    epochs : int
        Epochs reported (the metric once per epoch).

    >>> row = TrialRow(3, "COMPLETE", 0.97, {"training.batch_size": 32}, "runs/s/trial-0003")
    >>> row.label()
    'trial 3 (COMPLETE, 0.97)'
    """

    number: int
    state: str
    value: float | None
    params: dict[str, Any]
    run_dir: str | None = None
    duration_s: float | None = None
    epochs: int = 0
    user_attrs: dict[str, Any] = field(default_factory=dict)

    def label(self) -> str:
        value = "-" if self.value is None else f"{self.value:.4g}"
        return f"trial {self.number} ({self.state}, {value})"


def _row(trial: Any) -> TrialRow:
    value = trial.value
    if value is None and trial.intermediate_values:
        value = trial.intermediate_values[max(trial.intermediate_values)]
    duration = trial.duration.total_seconds() if trial.duration is not None else None
    return TrialRow(
        number=trial.number,
        state=trial.state.name,
        value=None if value is None or not math.isfinite(value) else float(value),
        params=dict(trial.params),
        run_dir=trial.user_attrs.get("run_dir"),
        duration_s=duration,
        epochs=len(trial.intermediate_values),
        user_attrs=dict(trial.user_attrs),
    )


_STATE_ORDER = {"COMPLETE": 0, "PRUNED": 1, "RUNNING": 2, "WAITING": 3, "FAIL": 4}


def trial_rows(study: Any) -> list[TrialRow]:
    """Every trial of an ``optuna.Study``, best first: complete trials by value (in the
    study's direction), then pruned ones by their last value, then the rest by number."""
    maximize = study.direction.name == "MAXIMIZE"
    rows = [_row(t) for t in study.get_trials(deepcopy=False)]

    def key(r: TrialRow) -> tuple[int, int, float, int]:
        rank = _STATE_ORDER.get(r.state, 5)
        if r.value is None or rank > 1:
            return (rank, 1, 0.0, r.number)
        return (rank, 0, -r.value if maximize else r.value, r.number)

    return sorted(rows, key=key)


def format_trials_table(rows: Sequence[TrialRow], metric: str, limit: int = 10) -> str:
    """A plain-text table of the first ``limit`` rows (best first)."""
    shown = list(rows[:limit])
    keys = sorted({k for r in shown for k in r.params})
    header = ["trial", "state", metric, *keys, "run_dir"]
    table = [header]
    for r in shown:
        cells = [str(r.number), r.state, "-" if r.value is None else f"{r.value:.5g}"]
        for k in keys:
            v = r.params.get(k)
            cells.append("-" if v is None else (f"{v:.4g}" if isinstance(v, float) else str(v)))
        cells.append(r.run_dir or "-")
        table.append(cells)
    widths = [max(len(row[i]) for row in table) for i in range(len(header))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip() for row in table]
    if len(rows) > limit:
        lines.append(f"... {len(rows) - limit} more in {TRIALS_FILE}")
    return "\n".join(lines)


def _atomic_write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as f:
            f.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def _trials_csv(rows: Sequence[TrialRow], metric: str) -> str:
    keys = sorted({k for r in rows for k in r.params})
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["number", "state", metric, "duration_s", "epochs", *keys, "run_dir"])
    for r in sorted(rows, key=lambda r: r.number):
        writer.writerow(
            [
                r.number,
                r.state,
                "" if r.value is None else repr(r.value),
                "" if r.duration_s is None else round(r.duration_s, 3),
                r.epochs,
                *["" if r.params.get(k) is None else r.params[k] for k in keys],
                r.run_dir or "",
            ]
        )
    return out.getvalue()


def _best_yaml(best: TrialRow, base: dict[str, Any] | None, study_name: str, metric: str) -> str:
    header = (
        f"# The best trial of study {study_name}: trial {best.number}, {metric} = {best.value}\n"
        f"# nablanet train --config best.yaml\n"
    )
    run_config = Path(best.run_dir) / CONFIG_FILE if best.run_dir else None
    if run_config is not None and run_config.is_file():
        config = load_config([run_config])
    elif base is not None:  # the trial ran on another machine: rebuild it from its values
        config = trial_config(base, best.params)
    else:
        raise FileNotFoundError(f"{run_config}: the best trial's config is not on this machine")
    return header + dump_config(config)


def _plots(study: Any, folder: Path) -> list[Path]:
    import warnings

    import matplotlib

    if "matplotlib.pyplot" not in __import__("sys").modules:
        matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from optuna.visualization import matplotlib as ovm

    complete = [t for t in study.get_trials(deepcopy=False) if t.state.name == "COMPLETE"]
    wanted: list[tuple[str, Callable[[Any], Any]]] = [
        ("optimization_history", ovm.plot_optimization_history)
    ]
    if len(complete) >= 2 and len({k for t in complete for k in t.params}) >= 1:
        wanted += [
            ("param_importances", ovm.plot_param_importances),
            ("parallel_coordinate", ovm.plot_parallel_coordinate),
            ("slice", ovm.plot_slice),
        ]
    written = []
    for name, fn in wanted:
        path = folder / PLOTS_DIR / f"{name}.png"
        try:
            # rc_context: Optuna switches the global style to ggplot; the run plots keep theirs
            with warnings.catch_warnings(), matplotlib.rc_context():
                warnings.simplefilter("ignore")  # Optuna's matplotlib plots are "experimental"
                ax = fn(study)
                first = ax.flat[0] if hasattr(ax, "flat") else ax
                fig: Any = first.figure  # a Figure (Axes.figure is typed Figure | SubFigure)
                fig.set_size_inches(max(fig.get_size_inches()[0], 7.0), 4.8)
                fig.tight_layout()
                path.parent.mkdir(parents=True, exist_ok=True)
                fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}.", suffix=".png")
                os.close(fd)
                fig.savefig(tmp, dpi=110, facecolor="white")
            os.replace(tmp, path)
            plt.close(fig)
            written.append(path)
        except Exception as e:  # a plot must never lose a study's results
            logger.warning("Could not draw %s: %s", name, " ".join(str(e).split()))
    return written


def write_study_files(
    study: Any,
    folder: str | Path,
    metric: str,
    base: dict[str, Any] | None = None,
    plots: bool = True,
) -> dict[str, Any]:
    """Write ``best.yaml`` (when a trial completed), ``trials.csv`` and ``plots/*.png`` into
    the study's folder. Returns ``{"rows", "best", "best_yaml", "trials_csv", "plots"}``."""
    folder = Path(folder)
    rows = trial_rows(study)
    out: dict[str, Any] = {"rows": rows, "best": None, "best_yaml": None, "plots": []}
    out["trials_csv"] = _atomic_write(folder / TRIALS_FILE, _trials_csv(rows, metric))
    complete = [r for r in rows if r.state == "COMPLETE" and r.value is not None]
    if complete:
        best = complete[0]
        out["best"] = best
        try:
            out["best_yaml"] = _atomic_write(
                folder / BEST_FILE, _best_yaml(best, base, study.study_name, metric)
            )
        except (OSError, ValueError) as e:
            logger.warning("Could not write %s: %s", BEST_FILE, e)
    if plots and rows:
        out["plots"] = _plots(study, folder)
    return out
