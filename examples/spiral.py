"""Three interleaved spirals: a non-linear decision boundary learned by a small MLP.

    python examples/spiral.py [--small] [--output DIR]

The classic 2-D spiral data set (three classes, each an arm of a spiral with noise) is not
separable by any straight line. A 2-64-64-3 ReLU network with a softmax output, trained with
Adam on categorical cross-entropy with a cosine learning-rate schedule, carves out the three arms; the figure shows its decision
regions and the training/validation curves.
"""

from __future__ import annotations

import numpy as np
from _common import parser, pyplot, save

import nablanet as nb


def make_spirals(
    n_per_class: int, n_classes: int = 3, noise: float = 0.2, turns: float = 7.0, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """``x`` of shape (n_per_class * n_classes, 2) float32 and integer labels ``y``."""
    rng = np.random.default_rng(seed)
    r = np.tile(np.linspace(0.0, 1.0, n_per_class), n_classes)  # radius, 0 -> 1 along an arm
    k = np.repeat(np.arange(n_classes), n_per_class)  # class of each point
    # angle: each arm starts at its own offset and winds `turns` radians out to r = 1
    theta = k * (2 * np.pi / n_classes) + r * turns + rng.normal(0.0, noise, r.size)
    x = np.c_[r * np.sin(theta), r * np.cos(theta)].astype(np.float32)
    return x, k


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
    history = model.fit(
        x,
        y,
        epochs=epochs,
        batch_size=32,
        validation_data=(x_val, y_val),
        scheduler=schedule,
        verbose=0,
    )
    loss, accuracy = model.evaluate(x_val, y_val)  # [loss, *metrics], as Keras
    print(f"validation loss {loss:.4f}, accuracy {accuracy:.3f}")

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
