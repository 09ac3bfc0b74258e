"""nablanet.nn.metrics against scikit-learn, on random inputs and on the edge cases."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nablanet.nn import metrics as M
from nablanet.nn.errors import NablanetError

skm = pytest.importorskip("sklearn.metrics")
SkUndefined = pytest.importorskip("sklearn.exceptions").UndefinedMetricWarning


def quiet(fn, *args, **kwargs):
    """Call ``fn`` with every warning silenced (the reference's warnings are not under test)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fn(*args, **kwargs)


def warned(fn, *args, category=Warning, **kwargs):
    """``(result, list of warnings of category)`` of a call."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out = fn(*args, **kwargs)
    return out, [w for w in caught if issubclass(w.category, category)]


def random_labels(rng, n, classes, p=None):
    return rng.choice(np.asarray(classes), size=n, p=p)


def random_cases(seed=0, n_cases=15):
    """Pairs (y_true, y_pred) of varied sizes, label sets and imbalances."""
    rng = np.random.default_rng(seed)
    for i in range(n_cases):
        n = int(rng.integers(1, 60))
        k = int(rng.integers(2, 7))
        offset = int(rng.integers(-3, 10))
        classes = np.arange(k) * int(rng.integers(1, 4)) + offset
        y_true = random_labels(rng, n, classes)
        # sometimes predict from fewer classes, so that some class is never predicted
        pred_classes = classes[: max(1, k - (i % 3))]
        y_pred = random_labels(rng, n, pred_classes)
        yield y_true, y_pred


# ------------------------------------------------------------------------------------------
# accuracy, confusion matrix
# ------------------------------------------------------------------------------------------


def test_accuracy_matches_sklearn():
    for y_true, y_pred in random_cases(1):
        assert M.accuracy_score(y_true, y_pred) == pytest.approx(skm.accuracy_score(y_true, y_pred))
        assert M.accuracy_score(y_true, y_pred, normalize=False) == skm.accuracy_score(
            y_true, y_pred, normalize=False
        )


def test_accuracy_returns_python_float_and_accepts_columns():
    out = M.accuracy_score(np.array([[1], [0], [1]]), np.array([1, 1, 1]))
    assert type(out) is float
    assert out == pytest.approx(2 / 3)


def test_confusion_matrix_matches_sklearn():
    for y_true, y_pred in random_cases(2):
        expected = skm.confusion_matrix(y_true, y_pred)
        got = M.confusion_matrix(y_true, y_pred)
        assert got.dtype == np.int64
        np.testing.assert_array_equal(got, expected)
        for normalize in ("true", "pred", "all"):
            np.testing.assert_allclose(
                M.confusion_matrix(y_true, y_pred, normalize=normalize),
                skm.confusion_matrix(y_true, y_pred, normalize=normalize),
            )


def test_confusion_matrix_with_labels_reordered_subset_and_unseen():
    rng = np.random.default_rng(3)
    y_true = rng.integers(0, 5, 80)
    y_pred = rng.integers(0, 5, 80)
    for labels in ([4, 2, 0], [0, 1, 2, 3, 4, 7], [3], [9, 3, 1]):
        np.testing.assert_array_equal(
            M.confusion_matrix(y_true, y_pred, labels=labels),
            quiet(skm.confusion_matrix, y_true, y_pred, labels=labels),
        )


def test_confusion_matrix_string_labels():
    y_true = np.array(["cat", "dog", "bird", "dog", "cat"])
    y_pred = np.array(["cat", "cat", "bird", "dog", "bird"])
    np.testing.assert_array_equal(
        M.confusion_matrix(y_true, y_pred), skm.confusion_matrix(y_true, y_pred)
    )
    np.testing.assert_array_equal(
        M.confusion_matrix(y_true, y_pred, labels=["dog", "cat"]),
        skm.confusion_matrix(y_true, y_pred, labels=["dog", "cat"]),
    )


def test_confusion_matrix_all_one_class():
    np.testing.assert_array_equal(M.confusion_matrix([3, 3, 3], [3, 3, 3]), [[3]])


def test_confusion_matrix_is_vectorised_on_a_large_input():
    rng = np.random.default_rng(4)
    y_true = rng.integers(0, 10, 200_000)
    y_pred = rng.integers(0, 10, 200_000)
    cm = M.confusion_matrix(y_true, y_pred)
    assert cm.sum() == 200_000
    np.testing.assert_array_equal(cm, skm.confusion_matrix(y_true, y_pred))


@pytest.mark.parametrize(
    ("y_true", "y_pred", "match"),
    [
        ([0, 1, 1], [0, 1], "inconsistent numbers of samples"),
        ([], [], "empty"),
        ([0.5, 1.0], [0, 1], "continuous"),
        (["a", "b"], [0, 1], "Mix of label input types"),
        ([[0, 1], [1, 0]], [0, 1], r"1-D array .* got shape \(2, 2\)"),
        ([0.0, np.nan], [0, 1], "NaN"),
    ],
)
def test_bad_label_inputs_are_named(y_true, y_pred, match):
    with pytest.raises(NablanetError, match=match):
        M.confusion_matrix(y_true, y_pred)


def test_confusion_matrix_bad_labels_argument():
    with pytest.raises(NablanetError, match="At least one label"):
        M.confusion_matrix([0, 1], [0, 1], labels=[5])
    with pytest.raises(NablanetError, match="unique"):
        M.confusion_matrix([0, 1], [0, 1], labels=[0, 0])
    with pytest.raises(NablanetError, match="normalize"):
        M.confusion_matrix([0, 1], [0, 1], normalize="rows")


# ------------------------------------------------------------------------------------------
# precision, recall, F-score
# ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("average", ["micro", "macro", "weighted", None])
@pytest.mark.parametrize("zero_division", ["warn", 0.0, 1.0, np.nan])
def test_prfs_matches_sklearn(average, zero_division):
    for y_true, y_pred in random_cases(5, n_cases=10):
        for beta in (1.0, 0.5, 2.0) if zero_division == "warn" else (1.0,):
            expected = quiet(
                skm.precision_recall_fscore_support,
                y_true,
                y_pred,
                beta=beta,
                average=average,
                zero_division=zero_division,
            )
            got = quiet(
                M.precision_recall_fscore_support,
                y_true,
                y_pred,
                beta=beta,
                average=average,
                zero_division=zero_division,
            )
            for g, e in zip(got[:3], expected[:3]):
                np.testing.assert_allclose(g, e, equal_nan=True)
            if average is None:
                np.testing.assert_array_equal(got[3], expected[3])
            else:
                assert got[3] is None
                assert isinstance(got[0], float)


@pytest.mark.parametrize("fn", ["precision_score", "recall_score", "f1_score"])
@pytest.mark.parametrize("average", ["micro", "macro", "weighted", None])
def test_scores_and_their_warnings_match_sklearn(fn, average):
    """Same values, and a warning exactly when scikit-learn warns."""
    for y_true, y_pred in random_cases(6):
        expected, sk_warnings = warned(
            getattr(skm, fn), y_true, y_pred, average=average, category=SkUndefined
        )
        got, our_warnings = warned(
            getattr(M, fn), y_true, y_pred, average=average, category=M.UndefinedMetricWarning
        )
        np.testing.assert_allclose(got, expected)
        assert bool(our_warnings) == bool(sk_warnings), (fn, average, y_true, y_pred)
        if sk_warnings:
            assert str(our_warnings[0].message) == str(sk_warnings[0].message)


def test_undefined_metric_warning_is_a_user_warning():
    assert issubclass(M.UndefinedMetricWarning, UserWarning)


def test_class_never_predicted_gives_zero_and_warns():
    y_true = [0, 1, 2, 2, 1]
    y_pred = [0, 1, 1, 1, 1]  # class 2 never predicted
    with pytest.warns(M.UndefinedMetricWarning, match="no predicted samples"):
        p = M.precision_score(y_true, y_pred, average=None)
    np.testing.assert_allclose(p, [1.0, 0.5, 0.0])
    with pytest.warns(M.UndefinedMetricWarning):
        assert M.precision_score(y_true, y_pred, average="macro") == pytest.approx(0.5)
    # recall of that class is well defined (0), F1 too
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        np.testing.assert_allclose(M.recall_score(y_true, y_pred, average=None), [1, 1, 0])
        np.testing.assert_allclose(M.f1_score(y_true, y_pred, average=None), [1, 2 / 3, 0])


def test_binary_nothing_predicted_positive():
    with pytest.warns(M.UndefinedMetricWarning, match="due to no predicted samples"):
        assert M.precision_score([0, 1, 1], [0, 0, 0]) == 0.0
    assert M.precision_score([0, 1, 1], [0, 0, 0], zero_division=1.0) == 1.0
    assert math.isnan(M.precision_score([0, 1, 1], [0, 0, 0], zero_division=np.nan))


def test_all_one_class():
    for fn in (M.precision_score, M.recall_score, M.f1_score):
        got = quiet(fn, [0, 0, 0], [0, 0, 0])
        assert got == quiet(getattr(skm, fn.__name__), [0, 0, 0], [0, 0, 0]) == 0.0
        assert quiet(fn, [1, 1], [1, 1]) == 1.0
    assert M.accuracy_score([2, 2, 2], [2, 2, 2]) == 1.0


def test_binary_pos_label_and_string_labels():
    y_true = np.array(["spam", "ham", "spam", "spam", "ham"])
    y_pred = np.array(["spam", "spam", "ham", "spam", "ham"])
    for fn in ("precision_score", "recall_score", "f1_score"):
        for pos in ("spam", "ham"):
            assert getattr(M, fn)(y_true, y_pred, pos_label=pos) == pytest.approx(
                getattr(skm, fn)(y_true, y_pred, pos_label=pos)
            )
    with pytest.raises(NablanetError, match="pos_label=1 is not a valid label"):
        M.f1_score(y_true, y_pred)
    # labels not starting at 0
    assert M.f1_score([3, 7, 7, 3], [3, 7, 3, 3], pos_label=7) == pytest.approx(
        skm.f1_score([3, 7, 7, 3], [3, 7, 3, 3], pos_label=7)
    )


def test_binary_average_rejects_multiclass_and_bad_average():
    with pytest.raises(NablanetError, match="Target is multiclass but average='binary'"):
        M.precision_score([0, 1, 2], [0, 1, 2])
    with pytest.raises(NablanetError, match="'average' parameter"):
        M.precision_score([0, 1], [0, 1], average="samples")
    with pytest.raises(NablanetError, match="zero_division"):
        M.precision_score([0, 1], [0, 1], zero_division=2)
    with pytest.raises(NablanetError, match="beta"):
        M.precision_recall_fscore_support([0, 1], [0, 1], beta=-1)


def test_pos_label_ignored_warning_outside_binary():
    with pytest.warns(UserWarning, match="pos_label"):
        M.f1_score([0, 1, 2], [0, 1, 2], average="macro", pos_label=2)


def test_prfs_with_labels_argument_matches_sklearn():
    rng = np.random.default_rng(7)
    y_true = rng.integers(0, 5, 50)
    y_pred = rng.integers(0, 4, 50)
    for labels in ([0, 1], [4, 2], [1, 2, 3, 4, 8]):
        for average in ("micro", "macro", "weighted", None):
            got = quiet(
                M.precision_recall_fscore_support, y_true, y_pred, labels=labels, average=average
            )
            expected = quiet(
                skm.precision_recall_fscore_support, y_true, y_pred, labels=labels, average=average
            )
            for g, e in zip(got[:3], expected[:3]):
                np.testing.assert_allclose(g, e)


label_arrays = st.integers(1, 40).flatmap(
    lambda n: st.tuples(
        st.lists(st.integers(-2, 4), min_size=n, max_size=n),
        st.lists(st.integers(-2, 4), min_size=n, max_size=n),
    )
)


@settings(max_examples=60, deadline=None)
@given(label_arrays, st.sampled_from(["micro", "macro", "weighted"]))
def test_prfs_property_against_sklearn(pair, average):
    y_true, y_pred = pair
    got = quiet(M.precision_recall_fscore_support, y_true, y_pred, average=average)
    expected = quiet(skm.precision_recall_fscore_support, y_true, y_pred, average=average)
    np.testing.assert_allclose(got[:3], expected[:3])
    np.testing.assert_array_equal(
        M.confusion_matrix(y_true, y_pred), quiet(skm.confusion_matrix, y_true, y_pred)
    )


# ------------------------------------------------------------------------------------------
# classification report, log loss
# ------------------------------------------------------------------------------------------


def assert_nested_close(got, expected):
    assert list(got) == list(expected)
    for key, value in expected.items():
        if isinstance(value, dict):
            assert got[key] == pytest.approx(value), key
        else:
            assert got[key] == pytest.approx(value), key


def test_classification_report_matches_sklearn_dict():
    for y_true, y_pred in random_cases(8, n_cases=15):
        expected = quiet(skm.classification_report, y_true, y_pred, output_dict=True)
        assert_nested_close(quiet(M.classification_report, y_true, y_pred), expected)
    y_true, y_pred = [0, 1, 2, 2, 1], [0, 2, 2, 2, 0]
    names = ["a", "b", "c"]
    expected = quiet(
        skm.classification_report, y_true, y_pred, target_names=names, output_dict=True
    )
    assert_nested_close(
        quiet(M.classification_report, y_true, y_pred, target_names=names), expected
    )
    # a subset of labels gives "micro avg" rather than "accuracy"
    expected = quiet(skm.classification_report, y_true, y_pred, labels=[0, 2], output_dict=True)
    got = quiet(M.classification_report, y_true, y_pred, labels=[0, 2])
    assert "micro avg" in got
    assert_nested_close(got, expected)
    with pytest.raises(NablanetError, match="target_names"):
        M.classification_report(y_true, y_pred, target_names=["a"])


def test_log_loss_matches_sklearn():
    rng = np.random.default_rng(9)
    for k in (2, 3, 6):
        logits = rng.normal(size=(40, k)) * 3
        prob = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
        y = rng.integers(0, k, 40)
        y[:k] = np.arange(k)
        assert M.log_loss(y, prob) == pytest.approx(skm.log_loss(y, prob))
        assert M.log_loss(y, prob, normalize=False) == pytest.approx(
            skm.log_loss(y, prob, normalize=False)
        )
        assert M.log_loss(y, prob.astype(np.float32)) == pytest.approx(
            skm.log_loss(y, prob.astype(np.float32)), rel=1e-5
        )
    p1 = rng.uniform(size=30)
    yb = rng.integers(0, 2, 30)
    assert M.log_loss(yb, p1) == pytest.approx(skm.log_loss(yb, p1))
    # certain and wrong: clipped, finite
    assert math.isfinite(M.log_loss([0, 1], [1.0, 0.0]))
    # labels when y_true misses a class
    prob = np.array([[0.2, 0.5, 0.3], [0.6, 0.3, 0.1]])
    assert M.log_loss([1, 0], prob, labels=[0, 1, 2]) == pytest.approx(
        skm.log_loss([1, 0], prob, labels=[0, 1, 2])
    )
    with pytest.raises(NablanetError, match="different numbers of classes"):
        M.log_loss([1, 0], prob)
    with pytest.raises(NablanetError, match="greater than 1"):
        M.log_loss([0, 1], [0.5, 1.5])
    with pytest.warns(UserWarning, match="do not sum to one"):
        M.log_loss([0, 1], [[0.5, 0.6], [0.2, 0.8]])


# ------------------------------------------------------------------------------------------
# ROC
# ------------------------------------------------------------------------------------------


def binary_score_cases(seed=10, n_cases=25):
    rng = np.random.default_rng(seed)
    for i in range(n_cases):
        n = int(rng.integers(2, 80))
        y = rng.integers(0, 2, n)
        y[0], y[1] = 0, 1
        score = rng.normal(size=n) + y
        if i % 2:
            score = np.round(score, 1)  # many ties
        if i % 5 == 0:
            score = rng.integers(0, 3, n).astype(float)  # heavy ties
        yield y, score


@pytest.mark.parametrize("drop_intermediate", [True, False])
def test_roc_curve_matches_sklearn_exactly(drop_intermediate):
    for y, score in binary_score_cases():
        got = M.roc_curve(y, score, drop_intermediate=drop_intermediate)
        expected = skm.roc_curve(y, score, drop_intermediate=drop_intermediate)
        for g, e in zip(got, expected):
            assert g.shape == e.shape
            np.testing.assert_allclose(g, e)
        assert got[2][0] == np.inf


def test_roc_curve_labels_and_pos_label():
    y = np.array([-1, 1, 1, -1, 1])
    s = np.array([0.1, 0.8, 0.3, 0.4, 0.9])
    for g, e in zip(M.roc_curve(y, s), skm.roc_curve(y, s)):
        np.testing.assert_allclose(g, e)
    ys = np.array(["neg", "pos", "pos", "neg", "pos"])
    for g, e in zip(M.roc_curve(ys, s, pos_label="pos"), skm.roc_curve(ys, s, pos_label="pos")):
        np.testing.assert_allclose(g, e)
    with pytest.raises(NablanetError, match="pos_label is not specified"):
        M.roc_curve(ys, s)
    with pytest.raises(NablanetError, match="pos_label is not specified"):
        M.roc_curve([2, 5, 5], [0.1, 0.2, 0.3])
    for g, e in zip(
        M.roc_curve([2, 5, 5, 2], [0.1, 0.2, 0.3, 0.9], pos_label=5),
        skm.roc_curve([2, 5, 5, 2], [0.1, 0.2, 0.3, 0.9], pos_label=5),
    ):
        np.testing.assert_allclose(g, e)


def test_roc_curve_single_class_warns_nan():
    with pytest.warns(M.UndefinedMetricWarning, match="No negative samples"):
        fpr, tpr, _ = M.roc_curve([1, 1, 1], [0.2, 0.5, 0.9])
    assert np.isnan(fpr).all()
    np.testing.assert_allclose(tpr, quiet(skm.roc_curve, [1, 1, 1], [0.2, 0.5, 0.9])[1])


def test_roc_curve_rejects_nan_scores():
    with pytest.raises(NablanetError, match="NaN"):
        M.roc_curve([0, 1], [0.1, np.nan])


def test_auc_matches_sklearn_both_directions():
    x = np.array([0.0, 0.2, 0.5, 1.0])
    y = np.array([0.0, 0.6, 0.8, 1.0])
    assert M.auc(x, y) == pytest.approx(skm.auc(x, y))
    assert M.auc(x[::-1], y[::-1]) == pytest.approx(skm.auc(x[::-1], y[::-1]))
    with pytest.raises(NablanetError, match="neither increasing nor decreasing"):
        M.auc([0, 1, 0.5], [0, 1, 1])


def test_binary_roc_auc_matches_sklearn():
    for y, score in binary_score_cases(11):
        assert M.roc_auc_score(y, score) == pytest.approx(skm.roc_auc_score(y, score))
    # string labels: the greater label is positive
    ys = np.array(["b", "a", "b", "a"])
    s = np.array([0.9, 0.2, 0.4, 0.5])
    assert M.roc_auc_score(ys, s) == pytest.approx(skm.roc_auc_score(ys, s))
    # an (n, 2) probability array uses its second column
    assert M.roc_auc_score([0, 1, 1, 0], np.array([[0.9, 0.1], [0.3, 0.7], [0.6, 0.4], [0.5, 0.5]]))


def test_roc_auc_single_class_warns_nan():
    with pytest.warns(M.UndefinedMetricWarning, match="Only one class"):
        assert math.isnan(M.roc_auc_score([1, 1, 1], [0.3, 0.5, 0.1]))


def softmax_rows(rng, n, k, signal=None):
    z = rng.normal(size=(n, k))
    if signal is not None:
        z[np.arange(n), signal] += 1.5
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


@pytest.mark.parametrize("average", ["macro", "weighted", "micro", None])
def test_multiclass_ovr_auc_matches_sklearn(average):
    rng = np.random.default_rng(12)
    for _ in range(10):
        k = int(rng.integers(3, 8))
        n = int(rng.integers(k + 5, 120))
        y = rng.integers(0, k, n)
        y[:k] = np.arange(k)
        prob = softmax_rows(rng, n, k, signal=y)
        if rng.random() < 0.5:
            prob = np.round(prob, 2)  # ties
            prob /= prob.sum(axis=1, keepdims=True)
        expected = skm.roc_auc_score(y, prob, multi_class="ovr", average=average)
        np.testing.assert_allclose(M.roc_auc_score(y, prob, average=average), expected)
    # float32 softmax output, labels not starting at 0
    y = np.array([3, 5, 9, 5, 3, 9, 9])
    prob = softmax_rows(rng, 7, 3).astype(np.float32)
    assert M.roc_auc_score(y, prob) == pytest.approx(skm.roc_auc_score(y, prob, multi_class="ovr"))


def test_multiclass_auc_errors_and_labels():
    rng = np.random.default_rng(13)
    prob = softmax_rows(rng, 6, 4)
    y = np.array([0, 1, 2, 0, 1, 2])
    with pytest.raises(NablanetError, match="Number of classes in y_true"):
        M.roc_auc_score(y, prob)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        got = M.roc_auc_score(y, prob, labels=[0, 1, 2, 3], average=None)
        expected = skm.roc_auc_score(y, prob, labels=[0, 1, 2, 3], multi_class="ovr", average=None)
    np.testing.assert_allclose(got, expected, equal_nan=True)
    with pytest.raises(NablanetError, match=r"sum up to 1\.0"):
        M.roc_auc_score(y, prob[:, :3])
    with pytest.raises(NablanetError, match="multi_class"):
        M.roc_auc_score(y, prob[:, :3] / prob[:, :3].sum(1, keepdims=True), multi_class="ovo")


# ------------------------------------------------------------------------------------------
# regression
# ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name", ["mean_squared_error", "root_mean_squared_error", "mean_absolute_error", "r2_score"]
)
def test_regression_metrics_match_sklearn(name):
    rng = np.random.default_rng(14)
    for shape in [(1,), (2,), (17,), (30, 1), (25, 3)]:
        y_true = rng.normal(size=shape)
        y_pred = y_true + rng.normal(size=shape) * 0.5
        if name == "r2_score" and shape[0] < 2:
            with pytest.warns(M.UndefinedMetricWarning, match="less than two samples"):
                assert math.isnan(M.r2_score(y_true, y_pred))
            continue
        ours, theirs = getattr(M, name), getattr(skm, name)
        assert ours(y_true, y_pred) == pytest.approx(theirs(y_true, y_pred))
        np.testing.assert_allclose(
            ours(y_true, y_pred, multioutput="raw_values"),
            theirs(y_true, y_pred, multioutput="raw_values"),
        )


def test_r2_constant_target():
    assert M.r2_score([2.0, 2.0, 2.0], [2.0, 2.0, 2.0]) == 1.0
    assert M.r2_score([2.0, 2.0, 2.0], [1.0, 2.0, 2.0]) == 0.0
    assert M.r2_score([2.0, 2.0], [1.0, 2.0], force_finite=False) == -np.inf


def test_regression_input_errors():
    with pytest.raises(NablanetError, match="inconsistent numbers of samples"):
        M.mean_squared_error([1.0, 2.0], [1.0])
    with pytest.raises(NablanetError, match="number of outputs"):
        M.mean_squared_error(np.zeros((3, 2)), np.zeros((3, 3)))
    with pytest.raises(NablanetError, match="NaN"):
        M.mean_absolute_error([1.0, np.nan], [1.0, 2.0])
    with pytest.raises(NablanetError, match="multioutput"):
        M.mean_absolute_error([1.0], [1.0], multioutput="variance_weighted")
