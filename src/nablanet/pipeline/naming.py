"""Run names: one convention for the CLI's configs and the UI's form.

A run is named ``<dataset>_<model kind>`` (``breast_cancer_mlp``, ``mnist_cnn``) and its
directory ``<name>-<YYYYmmdd-HHMMSS>`` (:func:`nablanet.pipeline.create_run_dir`). The shipped
configs follow it (``tests/pipeline/test_naming.py``), and so do the UI's default names.

>>> default_run_name("breast_cancer")
'breast_cancer_mlp'
>>> default_run_name("fashion_mnist", "cnn")
'fashion_mnist_cnn'
>>> default_run_name("my data (v2).csv")
'my_data_v2_mlp'
>>> run_dir_name("breast_cancer_mlp", "20261202-154500"), run_dir_name("x", "20261202-154500", 2)
('breast_cancer_mlp-20261202-154500', 'x-20261202-154500-2')
"""

from __future__ import annotations

import re

#: characters a run name keeps (a run directory is named after it)
_UNSAFE = re.compile(r"[^A-Za-z0-9._]+")


def default_run_name(dataset: str, kind: str = "mlp") -> str:
    """The name of a run of a ``kind`` of model (``mlp``, ``cnn``) on ``dataset`` (a registry
    name or a file name, whose suffix is dropped): ``<dataset>_<kind>``, safe for a folder."""
    stem = re.sub(r"\.(csv|tsv|txt|npz)$", "", dataset.strip(), flags=re.IGNORECASE)
    safe = _UNSAFE.sub("_", stem).strip("_.")[:40] or "data"
    return f"{safe}_{kind}"


#: the time stamp of a run directory (the UI's legends read it back: ``views.legend_labels``)
STAMP_FORMAT = "%Y%m%d-%H%M%S"


def run_dir_name(name: str, stamp: str, attempt: int = 1) -> str:
    """``<name>-<stamp>``, then ``-2``, ``-3``... for the runs of one second."""
    return f"{name}-{stamp}" if attempt == 1 else f"{name}-{stamp}-{attempt}"
