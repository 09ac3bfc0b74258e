"""Three interleaved spirals: a non-linear decision boundary learned by a small MLP.

    python examples/spiral.py [--small] [--output DIR]

The classic 2-D spiral data set (three classes, each an arm of a spiral with noise; the
registry's toy dataset ``spiral``, :func:`nablanet.data.make_spiral`) is not separable by any
straight line. A 2-64-64-3 ReLU network with a softmax output, trained with Adam on categorical
cross-entropy with a cosine learning-rate schedule, carves out the three arms; the figure shows
its decision regions and the training/validation curves. :class:`nablanet.Diagnostics` watches
the layers while it learns and prints its warnings, if any (docs/diagnostics.md).
"""

from __future__ import annotations

import numpy as np
from _common import parser, pyplot, save

import nablanet as nb
from nablanet.data import make_spiral


def make_spirals(n_per_class: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """``x`` of shape (3 * n_per_class, 2) float32 and integer labels ``y`` (three arms)."""
    ds = make_spiral(n_samples=3 * n_per_class, noise=0.2, n_classes=3, seed=seed)
    return ds.x, ds.y


def main(argv: list[str] | None = None) -> float:
    args = parser(__doc__.splitlines()[0]).parse_args(argv)
    nb.set_seed(args.seed)

    n = 100 if args.small else 300
    x, y = make_spirals(n, seed=args.seed)
    x_val, y_val = make_spirals(n // 2, seed=args.seed + 1)

    model = nb.Sequential(
        [
            nb.Dense(2, 64, activation="relu"),
            nb.Dense(64, 64, activation="relu"),
            nb.Dense(64, 3, activation="softmax"),
        ],
        name="spiral",
    )
    model.compile(loss="categorical_crossentropy", optimizer=nb.Adam(learning_rate=0.01))
    model.summary()
    epochs = 60 if args.small else 150
    # cosine annealing: the step size shrinks smoothly to 1e-4, calming the end of training
    schedule = nb.CosineAnnealing(t_max=epochs, min_learning_rate=1e-4)
    diagnostics = nb.Diagnostics(log_warnings=False)
    history = model.fit(
        x,
        y,
        epochs=epochs,
        batch_size=32,
        validation_data=(x_val, y_val),
        scheduler=schedule,
        verbose=0,
        callbacks=[diagnostics],
    )
    loss, accuracy = model.evaluate(x_val, y_val)  # [loss, *metrics], as Keras
    print(f"validation loss {loss:.4f}, accuracy {accuracy:.3f}")
    for layer in diagnostics.to_dict()["layers"]:
        norms = layer["grad_norm"]
        print(f"  {layer['name']}: gradient norm {norms[0]:.3g} (epoch 1) -> {norms[-1]:.3g}")
    for warning in diagnostics.warnings:
        print(f"  warning: {warning}")

    plt = pyplot()
    fig, axes = plt.subplots(1, 3, figsize=(16, 4.8), layout="constrained")
    lim = 1.15
    grid = np.linspace(-lim, lim, 300, dtype=np.float32)
    gx, gy = np.meshgrid(grid, grid)
    regions = model.predict(np.c_[gx.ravel(), gy.ravel()]).argmax(axis=1).reshape(gx.shape)
    colors = ["tab:blue", "tab:orange", "tab:green"]
    from matplotlib.colors import ListedColormap

    ax = axes[0]
    ax.contourf(
        gx, gy, regions, levels=[-0.5, 0.5, 1.5, 2.5], cmap=ListedColormap(colors), alpha=0.3
    )
    for c in range(3):
        pts = x[y == c]
        ax.scatter(
            pts[:, 0],
            pts[:, 1],
            s=12,
            color=colors[c],
            edgecolors="k",
            linewidths=0.3,
            label=f"class {c}",
        )
    ax.set(title="Decision regions (training points)", xlabel="$x_1$", ylabel="$x_2$")
    ax.set(xlim=(-lim, lim), ylim=(-lim, lim), aspect="equal")
    ax.legend(loc="upper right", fontsize=8)

    epoch_axis = np.arange(1, epochs + 1)
    axes[1].plot(epoch_axis, history["loss"], label="training")
    axes[1].plot(epoch_axis, history["val_loss"], label="validation")
    axes[1].set(title="Loss", xlabel="epoch", ylabel="categorical cross-entropy", yscale="log")
    axes[2].plot(epoch_axis, history["accuracy"], label="training")
    axes[2].plot(epoch_axis, history["val_accuracy"], label="validation")
    axes[2].set(title="Accuracy", xlabel="epoch", ylabel="accuracy", ylim=(0, 1.02))
    for a in axes[1:]:
        a.grid(alpha=0.3)
        a.legend()
    fig.suptitle(
        f"2-64-64-3 ReLU MLP on 3 spirals ({len(x)} points), {epochs} epochs of Adam + cosine schedule: "
        f"validation accuracy {accuracy:.1%}"
    )
    save(fig, args.output, "spiral.png")
    return accuracy


if __name__ == "__main__":
    main()
