"""``nablanet tune``: hyperparameter search on Optuna, one training run per trial.

The ``tune:`` section of a config names the metric, the sampler, the pruner and the search
space (paths into the rest of the config); every trial is an ordinary run directory
``<output_dir>/<study>/trial-0007/``. Studies live in SQLite by default
(``<output_dir>/<study>/study.db``, shared by the workers of one machine) or in PostgreSQL/MySQL
for workers on several machines. Optuna is imported only when a study is opened: the rest of
nablanet never needs it (``pip install 'nablanet[tune]'``). See ``docs/tuning.md``.

>>> from nablanet.pipeline.tune import config_paths
>>> sorted(config_paths({"training": {"epochs": 3}}))
['training', 'training.epochs']
"""

from .._tune_schema import PrunerConfig, SamplerConfig, SpaceEntry, TuneConfig, default_direction
from .results import BEST_FILE, TRIALS_FILE, TrialRow, format_trials_table, trial_rows
from .runner import (
    Study,
    TrialReporter,
    TuneResult,
    load_tune_config,
    objective_value,
    open_study,
    run_tune,
    show_study,
)
from .space import check_tune_config, config_paths, logged_metrics, suggest, trial_config
from .storage import StorageError, default_storage_url, open_storage
from .studies import StudyInfo, list_studies, load_study, trial_histories

__all__ = [
    "BEST_FILE",
    "TRIALS_FILE",
    "PrunerConfig",
    "SamplerConfig",
    "SpaceEntry",
    "StorageError",
    "Study",
    "StudyInfo",
    "TrialReporter",
    "TrialRow",
    "TuneConfig",
    "TuneResult",
    "check_tune_config",
    "config_paths",
    "default_direction",
    "default_storage_url",
    "format_trials_table",
    "list_studies",
    "load_study",
    "load_tune_config",
    "logged_metrics",
    "objective_value",
    "open_storage",
    "open_study",
    "run_tune",
    "show_study",
    "suggest",
    "trial_config",
    "trial_histories",
    "trial_rows",
]
