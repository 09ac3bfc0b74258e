"""Regression: fit y = sin(x) on [-pi, pi] from noisy samples.

    python examples/sine_regression.py [--small] [--output DIR]

A 1-64-64-1 tanh network with a linear output, trained with Adam on the mean squared error and an exponentially decaying learning rate,
learns a smooth curve through noisy samples of sin(x). The figure shows the fit against the
true function and the training/validation loss.
"""

from __future__ import annotations

import numpy as np
from _common import parser, pyplot, save

import nablanet as nb


def make_data(n: int, noise: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """``x`` of shape (n, 1) uniform on [-pi, pi] and ``y = sin(x) + noise`` of shape (n, 1)."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(-np.pi, np.pi, size=(n, 1)).astype(np.float32)
    y = (np.sin(x) + rng.normal(0.0, noise, size=x.shape)).astype(np.float32)
    return x, y


def main(argv: list[str] | None = None) -> float:
    args = parser(__doc__.splitlines()[0]).parse_args(argv)
    nb.set_seed(args.seed)

    n = 200 if args.small else 1000
    x, y = make_data(n, noise=0.1, seed=args.seed)
    x_val, y_val = make_data(n // 4, noise=0.1, seed=args.seed + 1)

    model = nb.Sequential(
        [
            nb.Dense(1, 64, activation="tanh", weight_initializer="xavier_uniform"),
            nb.Dense(64, 64, activation="tanh", weight_initializer="xavier_uniform"),
            nb.Dense(64, 1, weight_initializer="xavier_uniform"),  # linear output
        ],
        name="sine",
    )
    model.compile(loss="mse", optimizer=nb.Adam(learning_rate=0.005))
    model.summary()
    epochs = 100 if args.small else 300
    # exponential decay: the learning rate falls 100-fold over training, lr_e = lr_0 * gamma**e
    schedule = nb.ExponentialDecay(gamma=0.01 ** (1 / epochs))
    history = model.fit(
        x,
        y,
        epochs=epochs,
        batch_size=32,
        validation_data=(x_val, y_val),
        scheduler=schedule,
        verbose=0,
    )

    x_plot = np.linspace(-np.pi, np.pi, 400, dtype=np.float32)[:, None]  # (400, 1)
    y_plot = model.predict(x_plot)  # (400, 1)
    # distance to the noise-free function: how well the network recovered sin(x)
    rmse_true = float(np.sqrt(np.mean((y_plot - np.sin(x_plot)) ** 2)))
    scores = model.evaluate(x_val, y_val, return_dict=True)  # {"loss": ..., "mae": ...}
    print(
        f"validation MSE {scores['loss']:.4f} (noise variance 0.0100), "
        f"RMSE to sin(x) {rmse_true:.4f}"
    )

    plt = pyplot()
    fig, (ax0, ax1) = plt.subplots(1, 2, figsize=(12, 4.5), layout="constrained")
    ax0.scatter(x[:, 0], y[:, 0], s=8, color="0.6", label=f"training samples (n={n})")
    ax0.plot(x_plot[:, 0], np.sin(x_plot[:, 0]), "k--", lw=1.5, label="sin(x)")
    ax0.plot(x_plot[:, 0], y_plot[:, 0], color="tab:red", lw=2, label="network")
    ax0.set(title=f"Fit (RMSE to sin(x): {rmse_true:.3f})", xlabel="x", ylabel="y")
    ax0.legend()
    ax0.grid(alpha=0.3)
    epoch_axis = np.arange(1, epochs + 1)
    ax1.plot(epoch_axis, history["loss"], label="training")
    ax1.plot(epoch_axis, history["val_loss"], label="validation")
    ax1.axhline(0.01, color="k", ls=":", label="noise variance $\\sigma^2$ = 0.01")
    ax1.set(title="Loss", xlabel="epoch", ylabel="mean squared error", yscale="log")
    ax1.legend()
    ax1.grid(alpha=0.3)
    fig.suptitle(
        f"1-64-64-1 tanh MLP regressing sin(x), {epochs} epochs of Adam, exponential learning-rate decay"
    )
    save(fig, args.output, "sine_regression.png")
    return rmse_true


if __name__ == "__main__":
    main()
