"""Studies found on disk, for the UI: each ``<runs>/<study>/study.db`` (the default storage)
and its trials, best first, with their learning curves.

>>> list_studies("no/such/folder")
[]
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import RunDirError
from ..rundir import load_run
from .results import TrialRow, trial_rows
from .storage import DEFAULT_STORAGE_FILE, StorageError, default_storage_url, import_optuna

__all__ = ["StudyInfo", "list_studies", "load_study", "trial_histories"]


@dataclass
class StudyInfo:
    """A study read back for display.

    Attributes
    ----------
    name : str
    folder : Path
    metric : str or None
        What the study optimizes (``tune.metric`` when it was created).
    direction : {"minimize", "maximize"}
    rows : list of TrialRow
        Best first.

    >>> StudyInfo("s", Path("runs/s"), "val_loss", "minimize", []).n_complete
    0
    """

    name: str
    folder: Path
    metric: str | None
    direction: str
    rows: list[TrialRow]

    @property
    def n_complete(self) -> int:
        return sum(r.state == "COMPLETE" for r in self.rows)


def list_studies(output_dir: str | Path = "runs") -> list[Path]:
    """The study folders under ``output_dir`` (those holding a ``study.db``), newest first."""
    base = Path(output_dir)
    if not base.is_dir():
        return []
    found = [d for d in base.iterdir() if (d / DEFAULT_STORAGE_FILE).is_file()]
    return sorted(found, key=lambda d: (d / DEFAULT_STORAGE_FILE).stat().st_mtime, reverse=True)


def load_study(folder: str | Path, storage: str | None = None) -> StudyInfo:
    """The study of a study folder (its ``study.db``, or the study of the folder's name in
    ``storage``), trials best first."""
    folder = Path(folder)
    if storage is None and not (folder / DEFAULT_STORAGE_FILE).is_file():
        raise RunDirError(f"{folder}: not a study folder (no {DEFAULT_STORAGE_FILE})")
    optuna = import_optuna()
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    url = storage or default_storage_url(folder)
    summaries = optuna.get_all_study_summaries(url, include_best_trial=False)
    names = [s.study_name for s in summaries]
    name = folder.name if folder.name in names else (names[0] if len(names) == 1 else None)
    if name is None:
        raise StorageError(f"{folder}: no study named {folder.name!r} in {url}")
    study = optuna.load_study(study_name=name, storage=url)
    return StudyInfo(
        name=name,
        folder=folder,
        metric=study.user_attrs.get("metric"),
        direction=study.direction.name.lower(),
        rows=trial_rows(study),
    )


def trial_histories(rows: list[TrialRow]) -> dict[str, dict[str, list[Any]]]:
    """``{"trial 7": history}`` for the trials whose run directory is readable here."""
    out = {}
    for row in rows:
        if not row.run_dir:
            continue
        try:
            run = load_run(row.run_dir)
        except RunDirError:
            continue
        if run.history:
            out[f"trial {row.number}"] = run.history
    return out
