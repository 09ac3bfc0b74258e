"""XOR: the smallest problem a single neuron cannot solve and a two-layer network can.

    python examples/xor.py [--small] [--output DIR]

A 2-8-1 network (tanh hidden layer, sigmoid output, binary cross-entropy, Adam) learns the four
XOR points; the figure shows its predicted probability over the plane and the training loss.
"""

from __future__ import annotations

import numpy as np
from _common import parser, pyplot, save

import nablanet as nb


def main(argv: list[str] | None = None) -> float:
    args = parser(__doc__.splitlines()[0]).parse_args(argv)
    nb.set_seed(args.seed)

    x = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float32)  # (4, 2)
    y = np.array([0, 1, 1, 0], dtype=np.float32)  # (4,)

    model = nb.Sequential(
        [nb.Dense(2, 8, activation="tanh"), nb.Dense(8, 1, activation="sigmoid")], name="xor"
    )
    model.compile(loss="binary_crossentropy", optimizer=nb.Adam(learning_rate=0.05))
    model.summary()
    epochs = 200 if args.small else 500
    history = model.fit(x, y, epochs=epochs, batch_size=4, verbose=0)

    p = model.predict(x)[:, 0]  # (4,) probabilities of class 1
    accuracy = float(np.mean((p > 0.5) == (y > 0.5)))
    for xi, pi in zip(x, p):
        print(f"  x = {xi.astype(int).tolist()}  ->  p(1) = {pi:.3f}")
    print(f"final loss {history['loss'][-1]:.4f}, accuracy {accuracy:.2f}")

    plt = pyplot()
    fig, (ax0, ax1) = plt.subplots(1, 2, figsize=(11, 4.5), layout="constrained")
    grid = np.linspace(-0.5, 1.5, 201, dtype=np.float32)
    gx, gy = np.meshgrid(grid, grid)
    probs = model.predict(np.c_[gx.ravel(), gy.ravel()])[:, 0].reshape(gx.shape)
    mesh = ax0.contourf(gx, gy, probs, levels=np.linspace(0, 1, 11), cmap="RdBu_r", alpha=0.8)
    ax0.contour(gx, gy, probs, levels=[0.5], colors="k", linewidths=1.5)
    ax0.scatter(x[:, 0], x[:, 1], c=y, cmap="RdBu_r", edgecolors="k", s=140, vmin=0, vmax=1)
    fig.colorbar(mesh, ax=ax0, label="predicted p(y = 1)")
    ax0.set(title="Predicted probability (black: p = 0.5)", xlabel="$x_1$", ylabel="$x_2$")
    ax0.set(xticks=[-0.5, 0, 0.5, 1, 1.5], yticks=[-0.5, 0, 0.5, 1, 1.5], aspect="equal")
    ax1.plot(np.arange(1, epochs + 1), history["loss"], color="tab:blue")
    ax1.set(title="Training loss", xlabel="epoch", ylabel="binary cross-entropy", yscale="log")
    ax1.grid(alpha=0.3)
    fig.suptitle(f"2-8-1 MLP on XOR, {epochs} epochs of Adam: accuracy {accuracy:.0%}")
    save(fig, args.output, "xor.png")
    return accuracy


if __name__ == "__main__":
    main()
