"""Handwritten digits: an MLP on MNIST (or, without a local copy, scikit-learn's 8x8 digits).

    python examples/mnist.py [--small] [--output DIR] [--data-dir DIR] [--download]
    python examples/mnist.py --dataset fashion_mnist --data-dir /usr/share/datasets

MNIST (60000 training and 10000 test images of 28x28 pixels) is read from the nablanet data
cache (``$NABLANET_DATA``, default ``~/.cache/nablanet/mnist``, or ``--data-dir``). Without a
local copy the script says how to get one and falls back to the 1797 8x8 digits bundled with
scikit-learn, so it always runs offline; ``--download`` fetches MNIST (about 11 MB) first.

The images are flattened and scaled to [0, 1]; a 784-256-128-10 ReLU network with dropout is
trained with Adam for a few epochs. The figure shows the learning curves, the confusion matrix
on the test set and a sample of misclassified test images.
"""

from __future__ import annotations

import numpy as np
from _common import parser, pyplot, save

import nablanet as nb
from nablanet.data import PixelScaler, list_datasets, load_dataset
from nablanet.nn import metrics


def load(name: str, data_dir, download: bool, small: bool):
    """The dataset, or the bundled digits when ``name`` is not available offline."""
    info = {i.name: i for i in list_datasets(data_dir)}[name]
    if info.available_offline or download:
        ds = load_dataset(name, data_dir, download=download)
    else:
        print(
            f"{info.name} is not available offline ({info.location}).\n"
            f"  Get it with: python examples/mnist.py --download  (about 11 MB, into the cache)\n"
            f"  or point --data-dir / $NABLANET_DATA at a folder holding its four IDX files.\n"
            f"Falling back to scikit-learn's 8x8 digits (1797 images, bundled, offline)."
        )
        ds = load_dataset("digits")
    x_train, y_train, x_val, y_val, x_test, y_test = ds.split(
        val_fraction=0.1, test_fraction=0.2, seed=0
    )
    if small and len(x_train) > 6000:  # a quick run: 6000 training images, 2000 test images
        x_train, y_train, x_test, y_test = (
            x_train[:6000],
            y_train[:6000],
            x_test[:2000],
            y_test[:2000],
        )
    return ds, (x_train, y_train, x_val, y_val, x_test, y_test)


def main(argv: list[str] | None = None) -> float:
    p = parser(__doc__.splitlines()[0])
    p.add_argument("--dataset", default="mnist", choices=["mnist", "fashion_mnist"])
    p.add_argument("--data-dir", default=None, help="dataset cache folder ($NABLANET_DATA)")
    p.add_argument("--download", action="store_true", help="download the dataset if missing")
    args = p.parse_args(argv)
    nb.set_seed(args.seed)

    ds, (x_train, y_train, x_val, y_val, x_test, y_test) = load(
        args.dataset, args.data_dir, args.download, args.small
    )
    image_shape = x_train.shape[1:]  # (28, 28, 1) or (8, 8, 1)
    scaler = PixelScaler(max_value=ds.value_range[1])  # 255 (MNIST) or 16 (digits) -> [0, 1]
    flat = [scaler.transform(a).reshape(len(a), -1) for a in (x_train, x_val, x_test)]
    x_train_f, x_val_f, x_test_f = flat  # (n, 784) or (n, 64) float32
    n_features = x_train_f.shape[1]
    print(f"{ds.name}: train {len(x_train)}, validation {len(x_val)}, test {len(x_test)} images")

    model = nb.Sequential(
        [
            nb.Dense(n_features, 256, activation="relu"),
            nb.Dropout(0.2),
            nb.Dense(256, 128, activation="relu"),
            nb.Dropout(0.2),
            nb.Dense(128, 10, activation="softmax", weight_initializer="xavier_uniform"),
        ],
        name=ds.name,
    )
    model.compile(loss="categorical_crossentropy", optimizer=nb.Adam(learning_rate=1e-3))
    model.summary()
    if ds.name == "digits":
        epochs = 15 if args.small else 40
    else:
        epochs = 2 if args.small else 5
    history = model.fit(
        x_train_f,
        y_train,
        epochs=epochs,
        batch_size=128,
        validation_data=(x_val_f, y_val),
        verbose=1,
    )

    probs = model.predict(x_test_f)  # (n_test, 10)
    predicted = probs.argmax(axis=1)
    accuracy = metrics.accuracy_score(y_test, predicted)
    cm = metrics.confusion_matrix(y_test, predicted, labels=np.arange(10))
    print(f"test accuracy {accuracy:.4f} ({int((predicted != y_test).sum())} errors)")

    plt = pyplot()
    from matplotlib.ticker import MaxNLocator

    fig = plt.figure(figsize=(16, 8.5), layout="constrained")
    top, bottom = fig.subfigures(2, 1, height_ratios=[1.15, 1])
    ax0, ax1, ax2 = top.subplots(1, 3)
    epoch_axis = np.arange(1, epochs + 1)
    for key, label in (("loss", "training"), ("val_loss", "validation")):
        ax0.plot(epoch_axis, history[key], "o-", label=label)
    ax0.set(title="Loss", xlabel="epoch", ylabel="cross-entropy")
    for key, label in (("accuracy", "training"), ("val_accuracy", "validation")):
        ax1.plot(epoch_axis, history[key], "o-", label=label)
    ax1.set(title="Accuracy", xlabel="epoch", ylabel="accuracy")
    for ax in (ax0, ax1):
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.grid(alpha=0.3)
        ax.legend()
    ax2.imshow(np.log1p(cm), cmap="Blues")
    for (i, j), count in np.ndenumerate(cm):
        if count:
            color = "white" if np.log1p(count) > np.log1p(cm.max()) / 2 else "black"
            ax2.text(j, i, str(count), ha="center", va="center", fontsize=8, color=color)
    names = ds.class_names  # "0".."9" for digits, clothing names for Fashion-MNIST
    ax2.set(xticks=range(10), yticks=range(10), xticklabels=names, yticklabels=names)
    ax2.set(xlabel="predicted", ylabel="true")
    if max(len(n) for n in names) > 2:
        ax2.tick_params(axis="x", labelrotation=45)
    ax2.set(title="Confusion matrix (test, log colour scale)")

    wrong = np.flatnonzero(predicted != y_test)[:16]
    cells = bottom.subplots(2, 8)
    for ax in cells.ravel():
        ax.axis("off")
    for ax, i in zip(cells.ravel(), wrong):
        ax.imshow(x_test[i].reshape(image_shape[:2]), cmap="gray_r")
        ax.set_title(f"true {names[y_test[i]]}\npredicted {names[predicted[i]]}", fontsize=9)
    bottom.suptitle(f"Misclassified test images (first {len(wrong)})")
    title = f"MLP on {ds.name} ({len(x_train)} training images, {epochs} epochs of Adam)"
    fig.suptitle(f"{title}: test accuracy {accuracy:.2%}", fontsize=13)
    save(fig, args.output, "mnist.png")
    return accuracy


if __name__ == "__main__":
    main()
