"""Breast cancer diagnosis: a small regularized MLP on 30 tabular features, with test metrics.

    python examples/breast_cancer.py [--small] [--output DIR]

The Wisconsin diagnostic data set (569 tumours, malignant or benign, bundled with scikit-learn:
no download) is split 70/15/15 with stratification, standardized with statistics of the training
split only, and fitted with a 30-32-1 network (ReLU + L2 penalty, dropout, sigmoid output), Adam
and early stopping on the validation loss. The figure shows the learning curves, the ROC curve
and the confusion matrix on the held-out test split.
"""

from __future__ import annotations

import numpy as np
from _common import parser, pyplot, save

import nablanet as nb
from nablanet.data import StandardScaler, load_dataset
from nablanet.nn import metrics


def main(argv: list[str] | None = None) -> dict:
    args = parser(__doc__.splitlines()[0]).parse_args(argv)
    nb.set_seed(args.seed)

    ds = load_dataset("breast_cancer")  # x (569, 30) float32, y (569,) 0 = malignant, 1 = benign
    x_train, y_train, x_val, y_val, x_test, y_test = ds.split(
        val_fraction=0.15, test_fraction=0.15, seed=args.seed
    )
    scaler = StandardScaler().fit(x_train)  # fitted on the training split only: no leakage
    x_train, x_val, x_test = (scaler.transform(a) for a in (x_train, x_val, x_test))
    print(f"train {len(x_train)}, validation {len(x_val)}, test {len(x_test)} samples")

    model = nb.Sequential(
        [
            nb.Dense(30, 32, activation="relu", weight_regularizer=nb.L2(1e-4)),
            nb.Dropout(0.2),
            nb.Dense(32, 1, activation="sigmoid", weight_initializer="xavier_uniform"),
        ],
        name="breast_cancer",
    )
    model.compile(loss="binary_crossentropy", optimizer=nb.Adam(learning_rate=1e-3))
    model.summary()
    epochs = 25 if args.small else 150
    early_stopping = nb.EarlyStopping(monitor="val_loss", patience=15, restore_best_weights=True)
    history = model.fit(
        x_train,
        y_train,
        epochs=epochs,
        batch_size=32,
        validation_data=(x_val, y_val),
        callbacks=[early_stopping],
        verbose=0,
    )
    ran = len(history["loss"])
    print(f"trained {ran} epochs; best validation loss at epoch {early_stopping.best_epoch + 1}")

    p_test = model.predict(x_test)[:, 0]  # (n_test,) probability of "benign"
    predicted = (p_test > 0.5).astype(np.int64)
    report = {
        "accuracy": metrics.accuracy_score(y_test, predicted),
        "precision": metrics.precision_score(y_test, predicted),  # of class 1, "benign"
        "recall": metrics.recall_score(y_test, predicted),
        "f1": metrics.f1_score(y_test, predicted),
        "roc_auc": metrics.roc_auc_score(y_test, p_test),
        "confusion_matrix": metrics.confusion_matrix(y_test, predicted, labels=[0, 1]),
    }
    for key in ("accuracy", "precision", "recall", "f1", "roc_auc"):
        print(f"  test {key:9s} {report[key]:.4f}")

    plt = pyplot()
    fig, (ax0, ax1, ax2) = plt.subplots(1, 3, figsize=(16, 4.6), layout="constrained")
    epoch_axis = np.arange(1, ran + 1)
    ax0.plot(epoch_axis, history["loss"], label="training")
    ax0.plot(epoch_axis, history["val_loss"], label="validation")
    ax0.axvline(early_stopping.best_epoch + 1, color="k", ls=":", label="best epoch (restored)")
    ax0.set(title="Loss", xlabel="epoch", ylabel="binary cross-entropy + L2 penalty")
    ax0.grid(alpha=0.3)
    ax0.legend()

    fpr, tpr, _ = metrics.roc_curve(y_test, p_test)
    ax1.plot(fpr, tpr, lw=2, label=f"network (AUC = {report['roc_auc']:.3f})")
    ax1.plot([0, 1], [0, 1], "k--", lw=1, label="chance")
    ax1.set(title="ROC curve (test split)", xlabel="false positive rate")
    ax1.set(ylabel="true positive rate", xlim=(-0.01, 1), ylim=(0, 1.01), aspect="equal")
    ax1.grid(alpha=0.3)
    ax1.legend(loc="lower right")

    cm = report["confusion_matrix"]  # [true][predicted]
    ax2.imshow(cm, cmap="Blues")
    for (i, j), count in np.ndenumerate(cm):
        color = "white" if count > cm.max() / 2 else "black"
        ax2.text(j, i, str(count), ha="center", va="center", fontsize=16, color=color)
    ticks = range(len(ds.class_names))
    ax2.set(xticks=ticks, yticks=ticks, xticklabels=ds.class_names, yticklabels=ds.class_names)
    ax2.set(title="Confusion matrix (test split)", xlabel="predicted", ylabel="true")
    fig.suptitle(
        f"30-32-1 MLP on breast cancer: test accuracy {report['accuracy']:.1%}, "
        f"F1 {report['f1']:.3f}, ROC AUC {report['roc_auc']:.3f}"
    )
    save(fig, args.output, "breast_cancer.png")
    return report


if __name__ == "__main__":
    main()
