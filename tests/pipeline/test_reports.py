"""The metric reports (``nablanet.pipeline.reports``) against scikit-learn, on random inputs and
on the edge cases: the numbers of ``metrics.json`` and ``evaluation-*.json``."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pytest

from nablanet.nn.errors import NablanetError
from nablanet.nn.metrics import UndefinedMetricWarning
from nablanet.pipeline.reports import (
    CLASSIFICATION_REPORT_METRICS,
    REGRESSION_REPORT_METRICS,
    classification_metrics,
    filter_report,
    regression_metrics,
)

skm = pytest.importorskip("sklearn.metrics")


def quiet(fn, *args, **kwargs):
    """Call ``fn`` with every warning silenced (the reference's warnings are not under test)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fn(*args, **kwargs)


def softmax_rows(rng, n, k, signal=None):
    z = rng.normal(size=(n, k))
    if signal is not None:
        z[np.arange(n), signal] += 1.5
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def test_classification_metrics_binary_matches_sklearn():
    rng = np.random.default_rng(15)
    y = rng.integers(0, 2, 200)
    p1 = np.clip(0.5 + 0.3 * (y - 0.5) + rng.normal(scale=0.25, size=200), 0, 1)
    p1 = p1.astype(np.float32)
    m = classification_metrics(y, p1, "binary", class_names=["neg", "pos"])
    y_pred = (p1 > 0.5).astype(int)
    assert m["task"] == "binary"
    assert m["n_samples"] == 200
    assert m["n_classes"] == 2
    assert m["class_names"] == ["neg", "pos"]
    assert m["accuracy"] == pytest.approx(skm.accuracy_score(y, y_pred))
    assert m["precision"] == pytest.approx(skm.precision_score(y, y_pred))
    assert m["recall"] == pytest.approx(skm.recall_score(y, y_pred))
    assert m["f1"] == pytest.approx(skm.f1_score(y, y_pred))
    for avg in ("macro", "weighted"):
        assert m[f"precision_{avg}"] == pytest.approx(skm.precision_score(y, y_pred, average=avg))
        assert m[f"recall_{avg}"] == pytest.approx(skm.recall_score(y, y_pred, average=avg))
        assert m[f"f1_{avg}"] == pytest.approx(skm.f1_score(y, y_pred, average=avg))
    assert m["confusion_matrix"] == skm.confusion_matrix(y, y_pred).tolist()
    assert m["roc_auc"] == pytest.approx(skm.roc_auc_score(y, p1))
    fpr, tpr, thr = skm.roc_curve(y, p1)
    np.testing.assert_allclose(m["roc_curve"]["fpr"], fpr)
    np.testing.assert_allclose(m["roc_curve"]["tpr"], tpr)
    assert m["roc_curve"]["thresholds"][0] is None
    np.testing.assert_allclose(m["roc_curve"]["thresholds"][1:], thr[1:])
    assert m["log_loss"] == pytest.approx(skm.log_loss(y, p1.astype(np.float64)), rel=1e-6)
    assert m["per_class"]["pos"]["support"] == int(y.sum())
    json.dumps(m, allow_nan=False)  # strict JSON
    # the same predictions as (n, 1), (n, 2) and with one-hot targets
    two_col = np.stack([1 - p1, p1], axis=1)
    onehot = np.eye(2)[y]
    for yy, pp in [(y, p1[:, None]), (y, two_col), (onehot, two_col)]:
        other = classification_metrics(yy, pp, class_names=["neg", "pos"])
        assert other["confusion_matrix"] == m["confusion_matrix"]
        assert other["roc_auc"] == pytest.approx(m["roc_auc"])


def test_classification_metrics_multiclass_matches_sklearn():
    rng = np.random.default_rng(16)
    k = 4
    y = rng.integers(0, k, 150)
    prob = softmax_rows(rng, 150, k, signal=y).astype(np.float32)
    y_pred = prob.argmax(axis=1)
    m = classification_metrics(y, prob, task="multiclass")
    assert m["class_names"] == ["0", "1", "2", "3"]
    assert "precision" not in m and "roc_curve" not in m
    assert m["accuracy"] == pytest.approx(skm.accuracy_score(y, y_pred))
    for avg in ("macro", "weighted"):
        assert m[f"f1_{avg}"] == pytest.approx(skm.f1_score(y, y_pred, average=avg))
        assert m[f"precision_{avg}"] == pytest.approx(skm.precision_score(y, y_pred, average=avg))
    assert m["roc_auc"] == pytest.approx(skm.roc_auc_score(y, prob, multi_class="ovr"))
    per_class = skm.roc_auc_score(y, prob, multi_class="ovr", average=None)
    assert list(m["roc_auc_per_class"].values()) == pytest.approx(per_class.tolist())
    assert m["log_loss"] == pytest.approx(skm.log_loss(y, prob), rel=1e-5)
    assert len(m["confusion_matrix"]) == k
    json.dumps(m, allow_nan=False)


def test_classification_metrics_absent_and_never_predicted_classes():
    # class 2 is never in y_true and never predicted; class 1 is never predicted
    y = np.array([0, 0, 1, 1, 0])
    prob = np.array(
        [[0.9, 0.05, 0.05], [0.6, 0.3, 0.1], [0.7, 0.2, 0.1], [0.4, 0.35, 0.25], [0.8, 0.1, 0.1]]
    )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        m = classification_metrics(y, prob, "multiclass", ["a", "b", "c"])
    messages = [str(w.message) for w in caught if w.category is UndefinedMetricWarning]
    assert any("no predicted samples: ['b', 'c']" in msg for msg in messages)
    assert any("absent from y_true: ['c']" in msg for msg in messages)
    assert m["per_class"]["b"]["precision"] == 0.0
    assert m["roc_auc_per_class"]["c"] is None
    assert m["roc_auc"] == pytest.approx(
        np.mean([skm.roc_auc_score(y == c, prob[:, c]) for c in (0, 1)])
    )
    expected_f1 = quiet(skm.f1_score, y, prob.argmax(1), labels=[0, 1, 2], average="macro")
    assert m["f1_macro"] == pytest.approx(expected_f1)
    json.dumps(m, allow_nan=False)


def test_classification_metrics_single_class_has_no_auc():
    with pytest.warns(UndefinedMetricWarning):
        m = classification_metrics([1, 1, 1], [0.9, 0.8, 0.3])
    assert m["roc_auc"] is None and m["roc_curve"] is None
    assert m["accuracy"] == pytest.approx(2 / 3)
    json.dumps(m, allow_nan=False)


def test_classification_metrics_threshold():
    m = classification_metrics([0, 1, 1], [0.2, 0.6, 0.8], threshold=0.7)
    assert m["confusion_matrix"] == [[1, 0], [1, 1]]


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"y_true": [0, 1], "y_prob": [-2.0, 3.0]}, "probabilities in"),
        ({"y_true": [0, 1], "y_prob": [0.2, 0.9], "task": "regression"}, "'task'"),
        ({"y_true": [0, 2], "y_prob": [0.2, 0.9]}, r"class indices in \[0, 1\]"),
        ({"y_true": [0, 1, 1], "y_prob": [0.2, 0.9]}, "3 samples but y_prob has 2"),
        ({"y_true": [0, 1], "y_prob": [0.2, 0.9], "class_names": ["a"]}, "1 class_names"),
        ({"y_true": [0, 1], "y_prob": [0.2, 0.9], "task": "multiclass"}, "n_classes"),
        ({"y_true": [0, 1], "y_prob": np.full((2, 3), 1 / 3)}, "binary y_prob"),
    ],
)
def test_classification_metrics_errors(kwargs, match):
    with pytest.raises(NablanetError, match=match):
        classification_metrics(**kwargs)


def test_regression_metrics_report_matches_sklearn():
    rng = np.random.default_rng(17)
    y = rng.normal(size=50).astype(np.float32)
    pred = y + rng.normal(size=50).astype(np.float32) * 0.3
    m = regression_metrics(y, pred)
    assert m["task"] == "regression" and m["n_samples"] == 50
    assert m["mse"] == pytest.approx(skm.mean_squared_error(y, pred), rel=1e-6)
    assert m["rmse"] == pytest.approx(skm.root_mean_squared_error(y, pred), rel=1e-6)
    assert m["mae"] == pytest.approx(skm.mean_absolute_error(y, pred), rel=1e-6)
    assert m["r2"] == pytest.approx(skm.r2_score(y, pred), rel=1e-6)
    json.dumps(m, allow_nan=False)
    with pytest.warns(UndefinedMetricWarning):
        assert regression_metrics([1.0], [2.0])["r2"] is None


def test_reports_are_the_public_functions():
    """Each number of a report is the public metric function's, bit for bit."""
    from nablanet.nn import metrics as M

    rng = np.random.default_rng(18)
    k = 5
    y = rng.integers(0, k - 1, 120)  # the last class never occurs: it counts in the averages
    prob = softmax_rows(rng, 120, k, signal=y).astype(np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UndefinedMetricWarning)
        m = classification_metrics(y, prob, "multiclass")
    y_pred = prob.argmax(axis=1)
    labels = np.arange(k)
    assert m["accuracy"] == M.accuracy_score(y, y_pred)
    assert m["confusion_matrix"] == M.confusion_matrix(y, y_pred, labels=labels).tolist()
    for average in ("macro", "weighted"):
        p, r, f, _ = M.precision_recall_fscore_support(
            y, y_pred, labels=labels, average=average, zero_division=0.0
        )
        assert (m[f"precision_{average}"], m[f"recall_{average}"], m[f"f1_{average}"]) == (p, r, f)
    p, r, f, _ = M.precision_recall_fscore_support(
        y, y_pred, labels=labels, average=None, zero_division=0.0
    )
    assert [m["per_class"][str(c)]["f1"] for c in labels] == f.tolist()
    assert m["log_loss"] == quiet(M.log_loss, y, prob.astype(np.float64), labels=labels)
    per_class = [quiet(M.roc_auc_score, y == c, prob[:, c].astype(np.float64)) for c in labels]
    assert list(m["roc_auc_per_class"].values())[:-1] == per_class[:-1]
    assert m["roc_auc_per_class"][str(k - 1)] is None

    pred = rng.normal(size=(30, 2))
    target = pred + rng.normal(size=(30, 2))
    r = regression_metrics(target, pred)
    assert (r["mse"], r["rmse"], r["mae"], r["r2"]) == (
        M.mean_squared_error(target, pred),
        M.root_mean_squared_error(target, pred),
        M.mean_absolute_error(target, pred),
        M.r2_score(target, pred),
    )


def test_filter_report_keeps_what_evaluation_metrics_names():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UndefinedMetricWarning)
        m = classification_metrics([0, 1, 1, 0], [0.2, 0.9, 0.4, 0.1])
    only = filter_report({**m, "loss": 0.5}, ["f1"])
    assert {"f1", "f1_macro", "f1_weighted", "per_class", "loss", "task"} <= set(only)
    assert "accuracy" not in only and "roc_auc" not in only
    assert filter_report(m, None) is m
    for name in CLASSIFICATION_REPORT_METRICS:  # every accepted name keeps something
        assert set(filter_report(m, [name])) - set(filter_report(m, ["__none__"]))
    r = regression_metrics([1.0, 2.0, 3.0], [1.0, 2.5, 3.0])
    for name in REGRESSION_REPORT_METRICS:
        assert name in filter_report(r, [name])
