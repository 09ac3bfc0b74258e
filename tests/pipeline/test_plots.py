"""nablanet.pipeline.plots: every function writes a readable PNG with the right content."""

from __future__ import annotations

import numpy as np
import pytest
from matplotlib.figure import Figure
from matplotlib.image import imread

from nablanet.nn.errors import NablanetError
from nablanet.pipeline import plots as P

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"

HISTORY = {
    "loss": [1.2, 0.8, 0.6, 0.5, 0.45],
    "val_loss": [1.3, 0.9, 0.7, 0.72, 0.75],
    "accuracy": [0.5, 0.7, 0.8, 0.85, 0.88],
    "val_accuracy": [0.45, 0.65, 0.9, 0.78, 0.77],
    "learning_rate": [0.1, 0.1, 0.05, 0.05, 0.025],
}


@pytest.fixture
def figures(monkeypatch):
    """Every figure saved during the test, for inspecting its content."""
    saved = []
    original = Figure.savefig

    def recording_savefig(fig, *args, **kwargs):
        saved.append(fig)
        return original(fig, *args, **kwargs)

    monkeypatch.setattr(Figure, "savefig", recording_savefig)
    return saved


def assert_png(path, min_width=300, min_height=150):
    data = path.read_bytes()
    assert data[:8] == PNG_SIGNATURE, path
    image = imread(path)
    height, width = image.shape[:2]
    assert width >= min_width and height >= min_height, (path, image.shape)
    assert width <= 2200 and height <= 2200, (path, image.shape)
    # not a blank canvas
    assert image[..., :3].std() > 0.01
    return image


def legend_texts(ax):
    legend = ax.get_legend()
    assert legend is not None, "plot has no legend"
    return [t.get_text() for t in legend.get_texts()]


def no_temp_files(folder):
    return [p.name for p in folder.iterdir() if p.name.startswith(".") or p.suffix == ".tmp"]


# ------------------------------------------------------------------------------------------
# history curves
# ------------------------------------------------------------------------------------------


def test_plot_loss_writes_png_with_labels(tmp_path, figures):
    out = P.plot_loss(HISTORY, tmp_path / "sub" / "loss.png")
    assert out == tmp_path / "sub" / "loss.png"
    assert_png(out, min_width=700, min_height=400)
    ax = figures[-1].axes[0]
    assert ax.get_title() == "Loss per epoch"
    assert ax.get_xlabel() == "Epoch"
    assert ax.get_ylabel() == "Loss"
    assert ax.xaxis._major_tick_kw.get("gridOn") or any(
        line.get_visible() for line in ax.get_xgridlines()
    )
    texts = legend_texts(ax)
    assert texts[:2] == ["training", "validation"]
    assert "best validation: 0.7 (epoch 3)" in texts
    assert no_temp_files(tmp_path / "sub") == []


def test_plot_loss_accepts_str_path_and_history_object(tmp_path):
    class FakeHistory:
        def __init__(self):
            self.history = {"loss": [0.5, 0.4]}

    out = P.plot_loss(FakeHistory(), str(tmp_path / "loss.png"))
    assert_png(out)


@pytest.mark.parametrize("keys", [["loss"], ["val_loss"]])
def test_plot_loss_with_one_curve_missing(tmp_path, figures, keys):
    history = {k: HISTORY[k] for k in keys}
    assert_png(P.plot_loss(history, tmp_path / "loss.png"))
    texts = legend_texts(figures[-1].axes[0])
    assert ("validation" in texts) == (keys == ["val_loss"])
    assert ("training" in texts) == (keys == ["loss"])


def test_plot_loss_single_epoch_and_undefined_values(tmp_path, figures):
    assert_png(P.plot_loss({"loss": [0.7]}, tmp_path / "one.png"))
    ax = figures[-1].axes[0]
    assert list(ax.get_xticks()) == [1]
    history = {"loss": [1.0, None, float("nan"), float("inf"), 0.2], "val_loss": [None] * 5}
    assert_png(P.plot_loss(history, tmp_path / "gaps.png"))
    assert "best training: 0.2 (epoch 5)" in legend_texts(figures[-1].axes[0])


def test_plot_loss_log_scale_when_it_spans_decades(tmp_path, figures):
    P.plot_loss({"loss": [100.0, 10.0, 1.0, 0.5]}, tmp_path / "a.png")
    assert figures[-1].axes[0].get_yscale() == "log"
    P.plot_loss({"loss": [1.0, 0.8, 0.5]}, tmp_path / "b.png")
    assert figures[-1].axes[0].get_yscale() == "linear"
    P.plot_loss({"loss": [1.0, 0.8, 0.5]}, tmp_path / "c.png", log_scale=True)
    assert figures[-1].axes[0].get_yscale() == "log"


def test_plot_loss_without_values_names_the_keys(tmp_path):
    with pytest.raises(NablanetError, match=r"'loss' or 'val_loss'.*accuracy"):
        P.plot_loss({"accuracy": [0.5]}, tmp_path / "loss.png")
    with pytest.raises(NablanetError, match="no values"):
        P.plot_loss({"loss": [None, None]}, tmp_path / "loss.png")
    with pytest.raises(NablanetError, match="dict of per-epoch lists"):
        P.plot_loss([0.1, 0.2], tmp_path / "loss.png")
    assert not (tmp_path / "loss.png").exists()


def test_plot_metric_best_epoch_direction(tmp_path, figures):
    assert_png(P.plot_metric(HISTORY, "accuracy", tmp_path / "acc.png"))
    ax = figures[-1].axes[0]
    assert ax.get_title() == "Accuracy per epoch"
    assert ax.get_ylabel() == "Accuracy"
    assert "best validation: 0.9 (epoch 3)" in legend_texts(ax)  # higher is better
    P.plot_metric({"mae": [3.0, 1.0, 2.0]}, "val_mae", tmp_path / "mae.png")
    ax = figures[-1].axes[0]
    assert "best training: 1 (epoch 2)" in legend_texts(ax)  # lower is better
    assert ax.get_ylabel() == "Mean absolute error"


def test_plot_learning_rate(tmp_path, figures):
    assert_png(P.plot_learning_rate(HISTORY, tmp_path / "lr.png"))
    ax = figures[-1].axes[0]
    assert ax.get_ylabel() == "Learning rate"
    assert ax.get_yscale() == "linear"
    P.plot_learning_rate({"lr": [1e-1, 1e-2, 1e-3]}, tmp_path / "lr2.png")
    assert figures[-1].axes[0].get_yscale() == "log"
    with pytest.raises(NablanetError, match="learning_rate"):
        P.plot_learning_rate({"loss": [1.0]}, tmp_path / "lr3.png")


def test_plot_history_writes_every_applicable_plot(tmp_path):
    history = dict(HISTORY)
    history["val_mae"] = [3.0, 2.0, 1.0, 1.5, 1.2]
    history["empty"] = []
    history["all_none"] = [None, None]
    history["f1/macro"] = [0.1, 0.2, 0.3, 0.4, 0.5]
    paths = P.plot_history(history, tmp_path / "plots")
    assert [p.name for p in paths] == [
        "loss.png",
        "accuracy.png",
        "mae.png",
        "f1_macro.png",
        "learning_rate.png",
    ]
    for path in paths:
        assert_png(path)
    assert sorted(p.name for p in (tmp_path / "plots").iterdir()) == sorted(p.name for p in paths)


def test_plot_history_partial_and_empty(tmp_path):
    assert [p.name for p in P.plot_history({"accuracy": [0.5, 0.6]}, tmp_path)] == ["accuracy.png"]
    assert P.plot_history({}, tmp_path / "none") == []


# ------------------------------------------------------------------------------------------
# ROC
# ------------------------------------------------------------------------------------------


def test_plot_roc(tmp_path, figures):
    fpr = [0.0, 0.0, 0.5, 0.5, 1.0]
    tpr = [0.0, 0.5, 0.5, 1.0, 1.0]
    out = P.plot_roc(np.array(fpr), np.array(tpr), 0.75, tmp_path / "roc.png")
    assert_png(out, min_width=600, min_height=600)
    ax = figures[-1].axes[0]
    assert legend_texts(ax) == ["chance (AUC = 0.5)", "model (AUC = 0.750)"]
    assert ax.get_xlabel() == "False positive rate"
    assert ax.get_ylabel() == "True positive rate"
    assert ax.get_title() == "ROC curve"
    diagonal = ax.get_lines()[0]
    np.testing.assert_array_equal(diagonal.get_xydata(), [[0, 0], [1, 1]])
    P.plot_roc(fpr, tpr, None, tmp_path / "roc2.png", label="net")
    assert legend_texts(figures[-1].axes[0])[1] == "net"


def test_plot_roc_curves_one_vs_rest(tmp_path, figures):
    curves = {f"class {c}": ([0, 0.1 * c, 1], [0, 0.9, 1], 0.9 - 0.01 * c) for c in range(4)}
    assert_png(P.plot_roc_curves(curves, tmp_path / "ovr.png", title="One-vs-rest"))
    texts = legend_texts(figures[-1].axes[0])
    assert len(texts) == 5 and texts[2] == "class 1 (AUC = 0.890)"


def test_plot_roc_bad_input(tmp_path):
    with pytest.raises(NablanetError, match="same length"):
        P.plot_roc([0, 1], [0, 0.5, 1], 0.5, tmp_path / "roc.png")
    with pytest.raises(NablanetError, match="single class"):
        P.plot_roc([np.nan, np.nan], [0, 1], None, tmp_path / "roc.png")
    with pytest.raises(NablanetError, match="at least one curve"):
        P.plot_roc_curves({}, tmp_path / "roc.png")


# ------------------------------------------------------------------------------------------
# confusion matrix
# ------------------------------------------------------------------------------------------


def cell_texts(ax):
    return {(round(t.get_position()[1]), round(t.get_position()[0])): t for t in ax.texts}


def test_plot_confusion_matrix_counts_labels_and_contrast(tmp_path, figures):
    cm = np.array([[50, 3, 0], [7, 40, 1], [0, 2, 45]])
    out = P.plot_confusion_matrix(cm, ["cat", "dog", "bird"], tmp_path / "cm.png")
    assert_png(out, min_width=500, min_height=500)
    ax = figures[-1].axes[0]
    assert ax.get_xlabel() == "Predicted"
    assert ax.get_ylabel() == "True"
    assert ax.get_title() == "Confusion matrix (accuracy 91.2%)"
    assert [t.get_text() for t in ax.get_xticklabels()] == ["cat", "dog", "bird"]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["cat", "dog", "bird"]
    cells = cell_texts(ax)
    assert len(cells) == 9
    for (i, j), text in cells.items():
        assert text.get_text() == str(cm[i, j])
    # readable: white on the dark cells, black on the light ones
    assert cells[0, 0].get_color() == "white"
    assert cells[0, 2].get_color() == "black"
    assert cells[1, 0].get_color() == "black"
    assert len(figures[-1].axes) == 2  # the heatmap and its colour bar


def test_plot_confusion_matrix_normalized(tmp_path, figures):
    cm = [[3, 1], [0, 0]]  # nested list, and an empty row
    assert_png(P.plot_confusion_matrix(cm, None, tmp_path / "cm.png", normalize=True))
    ax = figures[-1].axes[0]
    cells = cell_texts(ax)
    assert [cells[i, j].get_text() for i in range(2) for j in range(2)] == [
        "0.75",
        "0.25",
        "0.00",
        "0.00",
    ]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["0", "1"]
    assert "normalized" in ax.get_title()


def test_plot_confusion_matrix_many_classes_has_no_cell_text(tmp_path, figures):
    rng = np.random.default_rng(0)
    cm = rng.integers(0, 20, (40, 40)) + np.diag(np.full(40, 200))
    assert_png(P.plot_confusion_matrix(cm, None, tmp_path / "cm.png"))
    assert len(figures[-1].axes[0].texts) == 0


def test_plot_confusion_matrix_bad_input(tmp_path):
    with pytest.raises(NablanetError, match="square"):
        P.plot_confusion_matrix(np.ones((2, 3)), None, tmp_path / "cm.png")
    with pytest.raises(NablanetError, match="3 class_names given for a 2x2"):
        P.plot_confusion_matrix(np.ones((2, 2)), ["a", "b", "c"], tmp_path / "cm.png")
    with pytest.raises(NablanetError, match="non-negative"):
        P.plot_confusion_matrix([[1, -1], [0, 1]], None, tmp_path / "cm.png")


# ------------------------------------------------------------------------------------------
# misclassified images
# ------------------------------------------------------------------------------------------


def image_titles(fig):
    return [t.get_text() for t in fig.axes[0].texts if t.get_text().startswith("true")]


def digit_like_images(n, rng):
    """Blurry 8x8 strokes in [0, 16], like scikit-learn's digits."""
    images = np.zeros((n, 8, 8))
    cols = rng.integers(1, 7, n)
    images[np.arange(n), :, cols] = 16
    images[np.arange(n), rng.integers(0, 8, n), :] = 8
    return images.reshape(n, 64)


def test_plot_misclassified_grid(tmp_path, figures):
    rng = np.random.default_rng(0)
    x = digit_like_images(300, rng)
    y = rng.integers(0, 10, 300)
    y_pred = y.copy()
    y_pred[::7] = (y[::7] + 1) % 10  # 43 mistakes
    names = [f"digit {i}" for i in range(10)]
    out = P.plot_misclassified(x, y, y_pred, names, tmp_path / "mis.png", image_shape=(8, 8))
    assert_png(out, min_width=600, min_height=600)
    fig = figures[-1]
    assert len(fig.axes[0].images) == 25
    titles = image_titles(fig)
    assert len(titles) == 25
    assert titles[0] == f"true: digit {y[0]}\npred: digit {y_pred[0]}"
    header = [t.get_text() for t in fig.axes[0].texts if t.get_text().startswith("Misclassified")]
    assert header == ["Misclassified images: 43 of 300 (14.3%), first 25 shown"]


@pytest.mark.parametrize(
    ("shape", "image_shape"),
    [
        ((6, 5, 7), None),
        ((6, 5, 7, 1), None),
        ((6, 35), (5, 7)),
        ((6, 16), None),
        ((6, 4, 4, 3), None),
    ],
)
def test_plot_misclassified_image_layouts(tmp_path, figures, shape, image_shape):
    rng = np.random.default_rng(1)
    images = rng.random(shape)
    y_true = np.array([0, 1, 2, 0, 1, 2])
    y_pred = np.array([0, 2, 2, 1, 1, 0])
    out = P.plot_misclassified(
        images, y_true, y_pred, None, tmp_path / "mis.png", image_shape=image_shape
    )
    assert_png(out)
    assert image_titles(figures[-1]) == [
        "true: 1 / pred: 2",
        "true: 0 / pred: 1",
        "true: 2 / pred: 0",
    ]


def test_plot_misclassified_one_hot_labels_and_max_images(tmp_path, figures):
    images = np.random.default_rng(2).random((10, 6, 6))
    y_true = np.eye(3)[[0, 1, 2, 0, 1, 2, 0, 1, 2, 0]]
    probs = np.eye(3)[[1, 1, 0, 0, 2, 2, 1, 1, 0, 0]] * 0.8 + 0.1
    P.plot_misclassified(images, y_true, probs, ["a", "b", "c"], tmp_path / "m.png", max_images=2)
    assert image_titles(figures[-1]) == ["true: a / pred: b", "true: c / pred: a"]
    assert len(figures[-1].axes[0].images) == 2


def test_plot_misclassified_none_wrong(tmp_path):
    images = np.zeros((3, 4, 4))
    out = P.plot_misclassified(images, [0, 1, 2], [0, 1, 2], None, tmp_path / "m.png")
    assert_png(out, min_width=300, min_height=100)


def test_plot_misclassified_bad_input(tmp_path):
    with pytest.raises(NablanetError, match="image_shape"):
        P.plot_misclassified(np.zeros((2, 12)), [0, 1], [1, 0], None, tmp_path / "m.png")
    with pytest.raises(NablanetError, match=r"image_shape \(3, 3\) does not fit"):
        P.plot_misclassified(
            np.zeros((2, 12)), [0, 1], [1, 0], None, tmp_path / "m.png", image_shape=(3, 3)
        )
    with pytest.raises(NablanetError, match="same length"):
        P.plot_misclassified(np.zeros((3, 4, 4)), [0, 1], [1, 0], None, tmp_path / "m.png")
    with pytest.raises(NablanetError, match="max_images"):
        P.plot_misclassified(np.zeros((2, 4, 4)), [0, 1], [1, 0], None, tmp_path / "m", 0)
    with pytest.raises(NablanetError, match="shape"):
        P.plot_misclassified(np.zeros((2, 4, 4, 2)), [0, 1], [1, 0], None, tmp_path / "m.png")


# ------------------------------------------------------------------------------------------
# regression
# ------------------------------------------------------------------------------------------


def test_plot_regression(tmp_path, figures):
    rng = np.random.default_rng(3)
    y = rng.normal(size=200)
    pred = y + rng.normal(scale=0.3, size=200)
    out = P.plot_regression(y, pred, tmp_path / "reg.png")
    assert_png(out, min_width=600, min_height=600)
    ax = figures[-1].axes[0]
    assert ax.get_xlabel() == "True value" and ax.get_ylabel() == "Predicted value"
    texts = legend_texts(ax)
    assert texts[0] == "ideal (predicted = true)"
    assert texts[1].startswith("200 samples (RMSE = ") and "R² = " in texts[1]
    identity = ax.get_lines()[0].get_xydata()
    np.testing.assert_allclose(identity[:, 0], identity[:, 1])


def test_plot_regression_subsamples_large_inputs(tmp_path, figures):
    rng = np.random.default_rng(4)
    y = rng.normal(size=(3000, 2))
    P.plot_regression(y, y * 0.9, tmp_path / "reg.png", max_points=1000)
    ax = figures[-1].axes[0]
    assert ax.collections[0].get_offsets().shape == (1000, 2)
    assert legend_texts(ax)[1].startswith("6000 samples, 1000 shown")


def test_plot_regression_bad_input(tmp_path):
    with pytest.raises(NablanetError, match="same non-zero size"):
        P.plot_regression([1.0, 2.0], [1.0], tmp_path / "reg.png")
    with pytest.raises(NablanetError, match="finite"):
        P.plot_regression([1.0, np.nan], [1.0, 2.0], tmp_path / "reg.png")


# ------------------------------------------------------------------------------------------
# atomic writes
# ------------------------------------------------------------------------------------------


def test_failed_write_keeps_the_old_file_and_leaves_no_temp(tmp_path, monkeypatch):
    target = tmp_path / "loss.png"
    P.plot_loss(HISTORY, target)
    before = target.read_bytes()

    def broken_savefig(self, *args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr("matplotlib.figure.Figure.savefig", broken_savefig)
    with pytest.raises(OSError, match="disk full"):
        P.plot_loss({"loss": [5.0, 4.0]}, target)
    assert target.read_bytes() == before
    assert no_temp_files(tmp_path) == []


def test_overwrites_an_existing_plot(tmp_path):
    target = tmp_path / "loss.png"
    P.plot_loss({"loss": [1.0, 0.5]}, target)
    first = target.read_bytes()
    P.plot_loss({"loss": [1.0, 0.9, 0.8, 0.1]}, target)
    assert target.read_bytes() != first
    assert no_temp_files(tmp_path) == []


def test_plot_misclassified_shows_colour_images_in_their_own_colours(tmp_path, figures):
    """CIFAR-like RGB images on the 0..255 range: a dark red stays dark red (no per-image
    stretch), a grey image stays grey."""
    images = np.zeros((3, 4, 4, 3), np.uint8)
    images[0, ..., 0] = 100  # dark red
    images[1] = 128  # mid grey
    images[2, ..., 2] = 255  # blue
    out = P.plot_misclassified(
        images, [0, 1, 2], [1, 2, 0], ["a", "b", "c"], tmp_path / "mis.png",
        value_range=(0.0, 255.0),
    )  # fmt: skip
    assert_png(out)
    shown = [np.asarray(im.get_array()) for im in figures[-1].axes[0].images]
    assert [s.shape for s in shown] == [(4, 4, 3)] * 3
    np.testing.assert_allclose(shown[0][0, 0], [100 / 255, 0, 0])
    np.testing.assert_allclose(shown[1][0, 0], [128 / 255] * 3)
    np.testing.assert_allclose(shown[2][0, 0], [0, 0, 1])
