"""The spiral script of *Neural Networks from Scratch*, run on nablanet by changing one import.

    python examples/nnfs_spiral.py [--small] [--output DIR]

The model, the optimizer and the training call are the book's (its chapter 18-19 spiral
classifier, with dropout, L2 penalties and Adam with decay), written with the book's names from
``nablanet.compat.nnfs``; they build nablanet's own layers and optimizer. The script prints the
book's progress lines, saves the model as a safe ``.npz`` file (no pickle), loads it back with
``Model.load`` and plots the decision regions and the training curves.
"""

# ruff: noqa: F403, F405  (the book's names come from the star import, as in the book)
from __future__ import annotations

import numpy as np
from _common import parser, pyplot, save

import nablanet as nb
from nablanet.compat.nnfs import *  # the one changed line of the book's script


def spiral_data(samples: int, classes: int, rng: np.random.Generator):
    """The spiral data of the book's ``nnfs`` package, drawn from ``rng``."""
    X = np.zeros((samples * classes, 2))
    y = np.zeros(samples * classes, dtype="uint8")
    for k in range(classes):
        ix = range(samples * k, samples * (k + 1))
        r = np.linspace(0.0, 1, samples)
        t = np.linspace(k * 4, (k + 1) * 4, samples) + rng.standard_normal(samples) * 0.2
        X[ix] = np.c_[r * np.sin(t * 2.5), r * np.cos(t * 2.5)]
        y[ix] = k
    return X, y


def main(argv: list[str] | None = None) -> float:
    args = parser(__doc__.splitlines()[0]).parse_args(argv)
    nb.set_seed(args.seed)  # the book calls nnfs.init()
    rng = np.random.default_rng(args.seed)
    X, y = spiral_data(samples=100 if args.small else 1000, classes=3, rng=rng)
    X_test, y_test = spiral_data(samples=100, classes=3, rng=rng)

    model = Model()
    model.add(Layer_Dense(2, 512, weight_regularizer_l2=5e-4, bias_regularizer_l2=5e-4))
    model.add(Activation_ReLU())
    model.add(Layer_Dropout(0.1))
    model.add(Layer_Dense(512, 3))
    model.add(Activation_Softmax())
    model.set(
        loss=Loss_CategoricalCrossentropy(),
        optimizer=Optimizer_Adam(learning_rate=0.05, decay=5e-5),
        accuracy=Accuracy_Categorical(),
    )
    model.finalize()
    epochs = 200 if args.small else 2000
    history = model.train(X, y, validation_data=(X_test, y_test), epochs=epochs, print_every=epochs)
    args.output.mkdir(parents=True, exist_ok=True)
    path = model.save(args.output / "spiral.model")  # nablanet's .npz format, no pickle
    model = Model.load(path)
    scores = model.evaluate(X_test, y_test)

    plt = pyplot()
    from matplotlib.colors import ListedColormap

    fig, axes = plt.subplots(1, 2, figsize=(11, 4.8), layout="constrained")
    grid = np.linspace(-1.1, 1.1, 300)
    gx, gy = np.meshgrid(grid, grid)
    confidences = model.predict(np.c_[gx.ravel(), gy.ravel()])
    regions = model.output_layer_activation.predictions(confidences).reshape(gx.shape)
    colors = ["tab:blue", "tab:orange", "tab:green"]
    ax = axes[0]
    ax.contourf(
        gx, gy, regions, levels=[-0.5, 0.5, 1.5, 2.5], cmap=ListedColormap(colors), alpha=0.3
    )
    for k in range(3):
        ax.scatter(*X[y == k].T, s=8, color=colors[k], edgecolors="k", linewidths=0.2)
    ax.set(
        title="Decision regions (training points)", aspect="equal", xlabel="$x_1$", ylabel="$x_2$"
    )
    epoch_axis = np.arange(1, epochs + 1)
    axes[1].plot(epoch_axis, history["loss"], label="training loss (with penalties)")
    axes[1].plot(epoch_axis, history["accuracy"], label="training accuracy")
    axes[1].set(title="Training", xlabel="epoch", ylim=(0, 1.6))
    axes[1].grid(alpha=0.3)
    axes[1].legend()
    fig.suptitle(
        f"The book's spiral model on nablanet: {len(X)} points, {epochs} epochs, "
        f"validation accuracy {scores['accuracy']:.1%}"
    )
    save(fig, args.output, "nnfs_spiral.png")
    return scores["accuracy"]


if __name__ == "__main__":
    main()
