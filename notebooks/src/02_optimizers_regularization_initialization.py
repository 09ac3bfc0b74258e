# %% [markdown]
# # 2. Optimizers, regularization and initialization
#
# Notebook 1 trained networks with plain gradient descent and Adam without asking why one or the
# other. This notebook compares the choices that decide whether training works well, each with
# a plot:
#
# 1. **optimizers** (SGD, momentum, Nesterov, Adam, RMSprop, Adagrad) on a 2-D loss surface and
#    on a real network;
# 2. **learning-rate schedules** (step, exponential, cosine with warm-up);
# 3. **regularization** (L2 weight penalty, dropout) against overfitting;
# 4. **initialization** (why `he_normal` for ReLU and `xavier` for tanh).
#
# The exact update rules are in [docs/optimizers.md](../docs/optimizers.md).
# Set `NABLANET_SMALL=1` for a quick run.

# %%
import os

import matplotlib.pyplot as plt
import numpy as np

import nablanet as nb
from nablanet.nn.parameter import Parameter

SMALL = os.environ.get("NABLANET_SMALL", "0") == "1"
rng = np.random.default_rng(0)
print(f"small run: {SMALL}")

# %% [markdown]
# ## 2.1 Optimizers on a loss surface
#
# An optimizer only sees gradients. To watch how each one moves, give it two parameters and the
# loss surface of a long, narrow valley (an *ill-conditioned* quadratic, the shape deep-learning
# losses often have locally):
#
# $$f(w_1, w_2) = \tfrac12\,(w_1^2 + 50\,w_2^2), \qquad \nabla f = (w_1,\ 50\,w_2).$$
#
# The curvature is 50 times larger across the valley than along it. Gradient descent's learning
# rate must stay below $2/50 = 0.04$ or it diverges across the valley, and with such a small
# rate it crawls along it. We drive the
# library's optimizers by hand: build them on a `Parameter`, write the gradient, call `step()`.


# %%
def valley(w):
    return 0.5 * (w[..., 0] ** 2 + 50 * w[..., 1] ** 2)


def valley_grad(w):
    return np.array([w[0], 50 * w[1]])


def path(optimizer, start=(-4.0, 1.0), steps=50):
    w = Parameter(np.array(start), "w")
    optimizer.build([w])
    points = [w.value.copy()]
    for _ in range(steps):
        optimizer.zero_grad()
        w.grad[:] = valley_grad(w.value)
        optimizer.step()
        points.append(w.value.copy())
    return np.array(points)


optimizers = {
    "SGD (lr 0.038)": nb.SGD(learning_rate=0.038),
    "momentum 0.8 (lr 0.02)": nb.SGD(learning_rate=0.02, momentum=0.8),
    "Nesterov 0.8 (lr 0.02)": nb.SGD(learning_rate=0.02, momentum=0.8, nesterov=True),
    "Adam (lr 0.3)": nb.Adam(learning_rate=0.3),
    "RMSprop (lr 0.05)": nb.RMSprop(learning_rate=0.05),
    "Adagrad (lr 1.0)": nb.Adagrad(learning_rate=1.0),
}
paths = {name: path(opt) for name, opt in optimizers.items()}

gx, gy = np.meshgrid(np.linspace(-4.5, 1.5, 200), np.linspace(-1.2, 1.2, 200))
fig, (ax0, ax1) = plt.subplots(1, 2, figsize=(14, 4.5), layout="constrained")
ax0.contour(
    gx, gy, valley(np.stack([gx, gy], axis=-1)), levels=np.geomspace(0.05, 30, 12), colors="0.7"
)
for name, p in paths.items():
    ax0.plot(p[:, 0], p[:, 1], ".-", ms=3, lw=1, label=name)
    ax1.semilogy(valley(p) + 1e-12, label=name)
ax0.plot(0, 0, "k*", ms=12)
ax0.set(title="50 steps from (-4, 1) on f = (w1² + 50 w2²) / 2", xlabel="$w_1$", ylabel="$w_2$")
ax0.legend(fontsize=8, loc="lower right")
ax1.set(title="Loss along the path", xlabel="step", ylabel="f(w) (log scale)", ylim=(1e-7, 100))
ax1.grid(alpha=0.3)
plt.show()

# %% [markdown]
# What to see:
#
# * **SGD** is pinned to a small learning rate by the steep direction, so it crawls along the
#   flat one: after 50 steps it is still at $w_1 \approx -0.6$.
# * **Momentum** accumulates the consistent component of the gradient (along the valley) and
#   averages out the oscillating one (across it): two orders of magnitude lower after 50 steps.
#   **Nesterov** evaluates the correction one step ahead and oscillates less.
# * **Adam** and **RMSprop** divide each coordinate's step by a running RMS of its gradient, so
#   both directions move at a similar speed whatever their curvature. With a constant learning
#   rate they do not settle: they jitter around the minimum at a scale set by the learning rate
#   (a reason for the schedules of section 2.3).
# * **Adagrad** divides by the root of the *sum* of all past squared gradients. Its steps only
#   shrink, which suits this fixed, convex bowl very well; on a network, where the landscape
#   changes as training goes, ever-smaller steps are a handicap.
#
# Per-coordinate rescaling works so well here partly because the valley is aligned with the axes;
# rotate it by 45° (exercise 1) and the adaptive methods lose part of their advantage.
#
# ## 2.2 Optimizers training a network
#
# The same comparison on a real task: a 2-64-64-3 ReLU network on three interleaved spirals
# (as in notebook 1). `nb.set_seed(0)` before building each model gives every optimizer the same
# initial weights and the same batches, so the curves differ only by the optimizer.


# %%
def make_spirals(n, noise=0.2, seed=0):
    r_ = np.random.default_rng(seed)
    r = np.tile(np.linspace(0.0, 1.0, n), 3)
    k = np.repeat(np.arange(3), n)
    theta = k * 2 * np.pi / 3 + r * 7.0 + r_.normal(0, noise, r.size)
    return np.c_[r * np.sin(theta), r * np.cos(theta)].astype(np.float32), k


x_train, y_train = make_spirals(100 if SMALL else 300, seed=0)
x_val, y_val = make_spirals(100, seed=1)
epochs = 30 if SMALL else 100


def spiral_model():
    return nb.Sequential(
        [nb.Dense(2, 64, "relu"), nb.Dense(64, 64, "relu"), nb.Dense(64, 3, "softmax")]
    )


choices = {
    "SGD (lr 0.1)": lambda: nb.SGD(learning_rate=0.1),
    "momentum (lr 0.05)": lambda: nb.SGD(learning_rate=0.05, momentum=0.9),
    "Nesterov (lr 0.05)": lambda: nb.SGD(learning_rate=0.05, momentum=0.9, nesterov=True),
    "Adam (lr 0.01)": lambda: nb.Adam(learning_rate=0.01),
    "RMSprop (lr 0.002)": lambda: nb.RMSprop(learning_rate=0.002),
    "Adagrad (lr 0.1)": lambda: nb.Adagrad(learning_rate=0.1),
}
histories = {}
for name, make_optimizer in choices.items():
    nb.set_seed(0)
    model = spiral_model()
    model.compile(loss="categorical_crossentropy", optimizer=make_optimizer())
    histories[name] = model.fit(
        x_train, y_train, epochs=epochs, batch_size=32, validation_data=(x_val, y_val), verbose=0
    )
    print(f"{name:20s} validation accuracy {histories[name]['val_accuracy'][-1]:.1%}")

fig, (ax0, ax1) = plt.subplots(1, 2, figsize=(13, 4.2), layout="constrained")
for name, h in histories.items():
    ax0.semilogy(range(1, epochs + 1), h["loss"], label=name)
    ax1.plot(range(1, epochs + 1), h["val_accuracy"], label=name)
ax0.set(title="Training loss", xlabel="epoch", ylabel="cross-entropy (log scale)")
ax1.set(title="Validation accuracy", xlabel="epoch", ylabel="accuracy")
for ax in (ax0, ax1):
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
plt.show()

# %% [markdown]
# Plain SGD is the slowest; momentum closes most of the gap; the adaptive methods get there
# fastest here. Each learning rate above was picked by a short search; a wrong learning rate
# hurts more than a "wrong" optimizer, which is why the next section is about the learning rate.
#
# ## 2.3 Learning-rate schedules
#
# A large learning rate makes fast early progress, a small one settles into a minimum: schedules
# get both. In nablanet a scheduler is a pure function of the epoch that the trainer writes into
# `optimizer.learning_rate` at the start of every epoch (and records in the history).

# %%
E = 60
schedules = {
    "StepDecay(step_size=20, gamma=0.3)": nb.StepDecay(step_size=20, gamma=0.3),
    "ExponentialDecay(gamma=0.95)": nb.ExponentialDecay(gamma=0.95),
    "CosineAnnealing(t_max=60, warmup_epochs=5)": nb.CosineAnnealing(t_max=E, warmup_epochs=5),
}
fig, ax = plt.subplots(figsize=(7, 3.5), layout="constrained")
for name, s in schedules.items():
    s.bind(0.01)  # the optimizer's rate becomes the initial rate
    ax.plot(range(E), [s(e) for e in range(E)], label=name)
ax.set(title="Learning rate per epoch (initial rate 0.01)", xlabel="epoch", ylabel="learning rate")
ax.grid(alpha=0.3)
ax.legend(fontsize=8)
plt.show()

# %% [markdown]
# The effect on training: Adam with a constant rate against the same run with cosine annealing.
# The schedule calms the noisy end of training.

# %%
runs = {}
for name, scheduler in [
    ("constant 0.01", None),
    ("cosine 0.01 -> 0", nb.CosineAnnealing(t_max=epochs)),
]:
    nb.set_seed(0)
    model = spiral_model()
    model.compile(loss="categorical_crossentropy", optimizer=nb.Adam(learning_rate=0.01))
    runs[name] = model.fit(
        x_train,
        y_train,
        epochs=epochs,
        batch_size=32,
        validation_data=(x_val, y_val),
        scheduler=scheduler,
        verbose=0,
    )
fig, (ax0, ax1) = plt.subplots(1, 2, figsize=(12, 3.8), layout="constrained")
for name, h in runs.items():
    ax0.semilogy(range(1, epochs + 1), h["loss"], label=name)
    ax1.plot(range(1, epochs + 1), h["learning_rate"], label=name)
ax0.set(title="Training loss", xlabel="epoch", ylabel="cross-entropy (log scale)")
ax1.set(title="history['learning_rate']", xlabel="epoch", ylabel="learning rate")
for ax in (ax0, ax1):
    ax.grid(alpha=0.3)
    ax.legend()
plt.show()

# %% [markdown]
# ## 2.4 Regularization
#
# A network with many more parameters than training samples can memorise them, noise included:
# training loss goes to zero while the validation loss climbs. Two remedies:
#
# * **L2 penalty** (`weight_regularizer=nb.L2(l2)`): adds $\lambda\sum w^2$ to the loss and
#   $2\lambda w$ to the gradient, pulling weights towards zero, which favours smoother functions.
# * **Dropout** (`nb.Dropout(rate)`): during training, zero each hidden unit with probability
#   `rate` (and scale the rest by $1/(1-\text{rate})$), so no unit can rely on another; at
#   inference it does nothing.
#
# The data: 60 noisy points of two interleaved half-moons, and a 2-128-128-2 network (17 000
# parameters).


# %%
def make_moons(n, noise, seed):
    r_ = np.random.default_rng(seed)
    t = r_.uniform(0, np.pi, n)
    k = r_.integers(0, 2, n)
    x = np.where(
        k[:, None] == 0, np.c_[np.cos(t), np.sin(t)], np.c_[1 - np.cos(t), 0.5 - np.sin(t)]
    )
    return (x + r_.normal(0, noise, x.shape)).astype(np.float32), k


xm_train, ym_train = make_moons(60, noise=0.3, seed=0)
xm_val, ym_val = make_moons(500, noise=0.3, seed=1)
reg_epochs = 100 if SMALL else 300


def moons_model(kind):
    l2 = nb.L2(1e-3) if kind == "L2(1e-3)" else None
    layers = [nb.Dense(2, 128, "relu", weight_regularizer=l2)]
    if kind == "Dropout(0.5)":
        layers.append(nb.Dropout(0.5))
    layers.append(nb.Dense(128, 128, "relu", weight_regularizer=l2))
    if kind == "Dropout(0.5)":
        layers.append(nb.Dropout(0.5))
    layers.append(nb.Dense(128, 2, "softmax", weight_regularizer=l2))
    return nb.Sequential(layers)


reg_models, reg_histories = {}, {}
for kind in ["no regularization", "L2(1e-3)", "Dropout(0.5)"]:
    nb.set_seed(0)
    model = moons_model(kind)
    model.compile(loss="categorical_crossentropy", optimizer=nb.Adam(learning_rate=0.01))
    reg_histories[kind] = model.fit(
        xm_train,
        ym_train,
        epochs=reg_epochs,
        batch_size=16,
        validation_data=(xm_val, ym_val),
        verbose=0,
    )
    reg_models[kind] = model
    h = reg_histories[kind]
    print(
        f"{kind:18s} train loss {h['loss'][-1]:.3f}  val loss {h['val_loss'][-1]:.3f}  "
        f"val accuracy {h['val_accuracy'][-1]:.1%}"
    )

# %%
fig, axes = plt.subplots(1, 4, figsize=(18, 4.2), layout="constrained")
gx, gy = np.meshgrid(np.linspace(-1.8, 2.8, 200), np.linspace(-1.4, 1.9, 200))
grid = np.c_[gx.ravel(), gy.ravel()].astype(np.float32)
for ax, (kind, model) in zip(axes[:3], reg_models.items()):
    probs = model.predict(grid)[:, 1].reshape(gx.shape)
    ax.contourf(gx, gy, probs, levels=np.linspace(0, 1, 11), cmap="RdBu_r", alpha=0.6)
    ax.contour(gx, gy, probs, levels=[0.5], colors="k")
    ax.scatter(xm_train[:, 0], xm_train[:, 1], c=ym_train, cmap="RdBu_r", edgecolors="k", s=30)
    ax.set(title=kind, xlabel="$x_1$", ylabel="$x_2$")
for kind, h in reg_histories.items():
    (line,) = axes[3].semilogy(h["val_loss"], label=f"{kind} (validation)")
    axes[3].semilogy(h["loss"], ls=":", color=line.get_color())
axes[3].set(title="Loss (dotted: training)", xlabel="epoch", ylabel="cross-entropy (log scale)")
axes[3].grid(alpha=0.3)
axes[3].legend(fontsize=8)
plt.show()

# %% [markdown]
# Without regularization the boundary bends around individual noisy points, the training loss
# heads to zero and the validation loss turns up after a few dozen epochs: textbook
# overfitting. The L2 penalty keeps the boundary simpler and the validation loss low; dropout
# delays and reduces the rise. (The regularized runs report a higher *training* loss: it includes
# the penalty, and dropout's training loss is measured with units dropped.)
#
# ## 2.5 Initialization
#
# Before any training, the initial weights decide whether signals survive the trip through a deep
# network. Push a batch of standard-normal inputs through 10 layers of 256 units and record the
# standard deviation of each layer's output:
#
# * `random_normal` draws weights from $N(0, 0.05^2)$ whatever the layer size;
# * `xavier_normal` (Glorot) uses variance $2/(n_\text{in} + n_\text{out})$, designed for tanh;
# * `he_normal` (Kaiming) uses $2/n_\text{in}$, designed for ReLU, which zeroes half its inputs.


# %%
def activation_stds(activation, initializer, depth=10, width=256):
    nb.set_seed(0)
    layers = [
        nb.Dense(width, width, activation, weight_initializer=initializer) for _ in range(depth)
    ]
    h = np.random.default_rng(0).standard_normal((512, width)).astype(np.float32)
    stds = []
    for layer in layers:
        h = layer.forward(h)
        stds.append(float(h.std()))
    return stds


inits = ["random_normal", "xavier_normal", "he_normal"]
fig, axes = plt.subplots(1, 2, figsize=(12, 4), layout="constrained")
for ax, activation in zip(axes, ["tanh", "relu"]):
    for init in inits:
        ax.semilogy(range(1, 11), activation_stds(activation, init), "o-", label=init)
    ax.set(title=f"{activation}: std of each layer's output", xlabel="layer", ylabel="std (log)")
    ax.grid(alpha=0.3)
    ax.legend()
plt.show()

# %% [markdown]
# With `random_normal` the signal shrinks by a constant factor per layer and has almost vanished
# after ten layers (and so have the gradients flowing back). For ReLU, Xavier's variance is half
# of what is needed: the scale drops by about $\sqrt2$ per layer, while He keeps it steady; this
# is the case He initialization was designed for. For tanh, Xavier slows the decay a lot (tanh's
# slope is at most 1, so some scale is still lost per layer). The effect on training a deep
# (8 hidden layers) ReLU network on the spirals, with the same optimizer for all three:

# %%
deep_histories = {}
for init in inits:
    nb.set_seed(0)
    layers = [nb.Dense(2, 64, "relu", weight_initializer=init)]
    layers += [nb.Dense(64, 64, "relu", weight_initializer=init) for _ in range(7)]
    layers.append(nb.Dense(64, 3, "softmax", weight_initializer=init))
    model = nb.Sequential(layers)
    model.compile(
        loss="categorical_crossentropy", optimizer=nb.SGD(learning_rate=0.01, momentum=0.9)
    )
    deep_histories[init] = model.fit(x_train, y_train, epochs=epochs, batch_size=32, verbose=0)
    print(f"{init:14s} final training accuracy {deep_histories[init]['accuracy'][-1]:.1%}")

fig, ax = plt.subplots(figsize=(7, 3.8), layout="constrained")
for init, h in deep_histories.items():
    ax.plot(range(1, epochs + 1), h["loss"], label=init)
ax.set(title="Deep ReLU network (8 hidden layers), SGD + momentum", xlabel="epoch")
ax.set(ylabel="training cross-entropy")
ax.grid(alpha=0.3)
ax.legend()
plt.show()

# %% [markdown]
# With tiny initial weights the deep network does not learn at all: its loss stays at
# $\log 3 \approx 1.10$, chance level for three classes. He initialization trains from the first
# epochs; Xavier starts more slowly.
#
# ## Summary and exercises
#
# * Momentum and adaptive methods (Adam, RMSprop) beat plain SGD on ill-conditioned losses; the
#   learning rate matters more than the choice among them.
# * Schedules give large early steps and small final ones.
# * L2 and dropout trade a little training loss for a smoother function and a better validation
#   loss.
# * Initialize for the activation: He for ReLU, Xavier for tanh/sigmoid.
#
# Exercises:
#
# 1. In 2.1, raise SGD's learning rate to 0.041. What happens, and why at $2/50$? Then rotate the
#    valley by 45° (`f(R w)` with a rotation matrix `R`, gradient `R.T @ grad(R w)`) and compare
#    the optimizers again.
# 2. In 2.4, try `nb.L2(1e-2)` and `nb.Dropout(0.2)`. Can you regularize too much?
# 3. In 2.5, repeat the deep-network experiment with `tanh`. Which initializer wins now?
#
# Next: notebook 3 runs the full pipeline (data, config, training, evaluation, plots) on MNIST.
