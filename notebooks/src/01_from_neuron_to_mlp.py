# %% [markdown]
# # 1. From one neuron to a multi-layer perceptron
#
# This notebook builds a neural network up from its smallest piece. We start with **one neuron**
# (a weighted sum and an activation), train it by gradient descent with gradients derived by
# hand, watch it fail on XOR, add a **hidden layer**, derive **backpropagation** for the two-layer
# network by hand, and check every derivative against nablanet's **numerical gradient checker**.
# Only at the end do we let the library do the work, and see that it computes the same numbers.
#
# Everything here is NumPy: nablanet is a from-scratch NumPy framework, so the library code
# doing the same thing is short enough to read (`src/nablanet/nn/layers/dense.py`).
# The equations are collected in [docs/backpropagation.md](../docs/backpropagation.md).
#
# Set the environment variable `NABLANET_SMALL=1` for a quick run (the test suite does).

# %%
import os

import matplotlib.pyplot as plt
import numpy as np

import nablanet as nb

SMALL = os.environ.get("NABLANET_SMALL", "0") == "1"
nb.set_seed(0)
rng = np.random.default_rng(0)
print(f"nablanet {nb.__version__}, small run: {SMALL}")

# %% [markdown]
# ## 1.1 One neuron
#
# A neuron with inputs $x \in \mathbb{R}^d$ computes a weighted sum plus a bias, then applies an
# activation function $\sigma$:
#
# $$z = w \cdot x + b = \sum_{i=1}^{d} w_i x_i + b, \qquad \hat y = \sigma(z).$$
#
# For a batch of $n$ samples stacked as the rows of $X$ (shape `(n, d)`), the $n$ weighted sums
# are one matrix-vector product: $z = Xw + b$, shape `(n,)`. With the **sigmoid**
# $\sigma(z) = 1/(1+e^{-z})$ the output is a probability, and the neuron is a logistic regression.


# %%
def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


w = np.array([2.0, -1.0])  # (d,) = (2,)
b = 0.5
X = np.array([[1.0, 1.0], [0.0, 2.0], [-1.0, 0.0]])  # (n, d) = (3, 2)
z = X @ w + b  # (3,)
print("z =", z, " sigmoid(z) =", sigmoid(z).round(4))

# %% [markdown]
# nablanet's `Neuron` layer is exactly this computation (its output has shape `(n, 1)` so it can
# end a model):

# %%
neuron = nb.Neuron(2, activation="sigmoid", dtype="float64")
neuron.weights.value[:] = w
neuron.bias.value[...] = b
print(neuron.forward(X)[:, 0].round(4))

# %% [markdown]
# ## 1.2 Training one neuron by hand
#
# Two clouds of points, one per class. We fit $w$ and $b$ by minimising the **binary
# cross-entropy**, the mean over the samples of
# $-[y\log\hat y + (1-y)\log(1-\hat y)]$.
#
# Its gradient is remarkably simple. With $\hat y = \sigma(z)$ and $\sigma'(z) = \hat y(1-\hat y)$,
#
# $$\frac{\partial L}{\partial z_i} = \frac{1}{n}\,\frac{\hat y_i - y_i}{\hat y_i(1-\hat y_i)}\,
# \hat y_i(1 - \hat y_i) = \frac{\hat y_i - y_i}{n},$$
#
# and since $z = Xw + b$: $\;\partial L/\partial w = X^\top(\hat y - y)/n$ and
# $\partial L/\partial b = \sum_i(\hat y_i - y_i)/n$. Gradient descent repeats
# $w \leftarrow w - \eta\,\partial L/\partial w$.

# %%
n_per_class = 50 if SMALL else 200
X = np.vstack(
    [rng.normal([-1.0, -1.0], 0.8, (n_per_class, 2)), rng.normal([1.5, 1.0], 0.8, (n_per_class, 2))]
)
y = np.repeat([0.0, 1.0], n_per_class)


def bce(y, p):  # (y_true, y_pred), the order of nablanet's losses, Keras and scikit-learn
    p = np.clip(p, 1e-7, 1 - 1e-7)
    return -np.mean(y * np.log(p) + (1 - y) * np.log(1 - p))


w, b, lr = np.zeros(2), 0.0, 0.5
losses = []
for _ in range(100 if SMALL else 300):
    p = sigmoid(X @ w + b)
    losses.append(bce(y, p))
    grad_z = (p - y) / len(y)  # dL/dz, (n,)
    w -= lr * (X.T @ grad_z)  # dL/dw = X^T dL/dz
    b -= lr * grad_z.sum()  # dL/db
accuracy = np.mean((sigmoid(X @ w + b) > 0.5) == y)
print(f"w = {w.round(3)}, b = {b:.3f}, loss {losses[-1]:.4f}, accuracy {accuracy:.1%}")

# %% [markdown]
# The decision boundary of a single neuron is the line $w\cdot x + b = 0$ (where $\hat y = 0.5$):


# %%
def plot_boundary(ax, predict, X, y, title):
    """Filled contours of the predicted probability, the 0.5 line, and the points."""
    lo, hi = X.min(axis=0) - 0.5, X.max(axis=0) + 0.5
    gx, gy = np.meshgrid(np.linspace(lo[0], hi[0], 200), np.linspace(lo[1], hi[1], 200))
    probs = predict(np.c_[gx.ravel(), gy.ravel()]).reshape(gx.shape)
    ax.contourf(gx, gy, probs, levels=np.linspace(0, 1, 11), cmap="RdBu_r", alpha=0.6)
    ax.contour(gx, gy, probs, levels=[0.5], colors="k")
    size = 25 if len(X) > 10 else 150
    ax.scatter(X[:, 0], X[:, 1], c=y, cmap="RdBu_r", edgecolors="k", s=size, vmin=0, vmax=1)
    ax.set(title=title, xlabel="$x_1$", ylabel="$x_2$")


fig, (ax0, ax1) = plt.subplots(1, 2, figsize=(11, 4), layout="constrained")
plot_boundary(ax0, lambda P: sigmoid(P @ w + b), X, y, f"One neuron: accuracy {accuracy:.0%}")
ax1.plot(losses)
ax1.set(title="Training loss (gradient descent by hand)", xlabel="step", ylabel="BCE")
plt.show()

# %% [markdown]
# ## 1.3 Where one neuron fails: XOR
#
# XOR is the classic problem no straight line solves: $(0,0)$ and $(1,1)$ are class 0, $(0,1)$ and
# $(1,0)$ are class 1. The same neuron, trained the same way, cannot get all four right: at best
# three of four (75%), usually it settles at predicting 0.5 everywhere.

# %%
X_xor = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
y_xor = np.array([0.0, 1.0, 1.0, 0.0])
w, b = rng.normal(0, 0.1, 2), 0.0
for _ in range(2000):
    p = sigmoid(X_xor @ w + b)
    grad_z = (p - y_xor) / 4
    w -= 0.5 * (X_xor.T @ grad_z)
    b -= 0.5 * grad_z.sum()
print("p(1) for the four points:", sigmoid(X_xor @ w + b).round(3))
print("accuracy:", np.mean((sigmoid(X_xor @ w + b) > 0.5) == y_xor))

# %% [markdown]
# ## 1.4 A hidden layer, and backpropagation by hand
#
# Stack neurons into a **layer**: $H = \tanh(XW_1 + b_1)$ with $W_1$ of shape `(d, h)` computes $h$
# neurons at once (this is nablanet's `Dense`). A second layer reads the hidden features:
# $\hat y = \sigma(HW_2 + b_2)$. Shapes, for $n$ samples:
#
# | array | shape |
# | --- | --- |
# | $X$ | `(n, 2)` |
# | $W_1$, $b_1$ | `(2, h)`, `(h,)` |
# | $Z_1 = XW_1 + b_1$, $H = \tanh Z_1$ | `(n, h)` |
# | $W_2$, $b_2$ | `(h, 1)`, `(1,)` |
# | $Z_2 = HW_2 + b_2$, $\hat Y = \sigma(Z_2)$ | `(n, 1)` |
#
# **Backpropagation** is the chain rule applied from the loss backwards, reusing what the forward
# pass computed:
#
# 1. $G_2 = \partial L/\partial Z_2 = (\hat Y - Y)/n$ (sigmoid + cross-entropy, as above)
# 2. $\partial L/\partial W_2 = H^\top G_2$, $\;\partial L/\partial b_2 = \sum_i G_2$
# 3. $\partial L/\partial H = G_2 W_2^\top$ (the gradient flows back through the weights)
# 4. $G_1 = \partial L/\partial Z_1 = \partial L/\partial H \odot (1 - H^2)$ (tanh' = $1 - \tanh^2$)
# 5. $\partial L/\partial W_1 = X^\top G_1$, $\;\partial L/\partial b_1 = \sum_i G_1$
#
# Each step is one line of NumPy:


# %%
def forward(params, X):
    W1, b1, W2, b2 = params
    H = np.tanh(X @ W1 + b1)  # (n, h)
    Y_hat = sigmoid(H @ W2 + b2)  # (n, 1)
    return H, Y_hat


def loss_fn(params, X, Y):
    return bce(Y, forward(params, X)[1])


def backward(params, X, Y):
    W2 = params[2]
    H, Y_hat = forward(params, X)
    n = len(X)
    G2 = (Y_hat - Y) / n  # dL/dZ2, (n, 1)
    dW2, db2 = H.T @ G2, G2.sum(axis=0)  # (h, 1), (1,)
    dH = G2 @ W2.T  # (n, h)
    G1 = dH * (1 - H**2)  # dL/dZ1, (n, h)
    dW1, db1 = X.T @ G1, G1.sum(axis=0)  # (2, h), (h,)
    return [dW1, db1, dW2, db2]


hidden = 8
params = [
    rng.normal(0, 1, (2, hidden)),
    np.zeros(hidden),
    rng.normal(0, 1, (hidden, 1)),
    np.zeros(1),
]
Y_xor = y_xor[:, None]  # (4, 1)
grads = backward(params, X_xor, Y_xor)
print([g.shape for g in grads])

# %% [markdown]
# ## 1.5 Checking the derivation numerically
#
# A derivation by hand is easy to get subtly wrong (a missing transpose, a factor 2). The
# **gradient check** compares each derivative with a *central difference*,
#
# $$\frac{\partial L}{\partial\theta_i} \approx \frac{L(\theta + \varepsilon e_i) - L(\theta - \varepsilon e_i)}{2\varepsilon},$$
#
# in float64, with $\varepsilon = 10^{-6}$. nablanet's checker, `nb.numerical_gradient(f, theta)`,
# perturbs each entry of `theta` in place and calls `f()`. We compare with the norm-wise relative
# error $\lVert a - b\rVert / (\lVert a\rVert + \lVert b\rVert)$: around $10^{-10}$ when the
# derivation is right, and of order 1 when it is wrong.


# %%
def relative_error(a, b):
    return np.linalg.norm(a - b) / max(np.linalg.norm(a) + np.linalg.norm(b), 1e-12)


names = ["W1", "b1", "W2", "b2"]
for name, p, g in zip(names, params, grads):
    numeric = nb.numerical_gradient(lambda: loss_fn(params, X_xor, Y_xor), p)
    print(f"{name}: relative error {relative_error(g, numeric):.1e}")

# %% [markdown]
# To see that the check can fail, break the derivation: forget the tanh derivative in step 4.


# %%
def backward_wrong(params, X, Y):
    W2 = params[2]
    H, Y_hat = forward(params, X)
    G2 = (Y_hat - Y) / len(X)
    G1 = G2 @ W2.T  # bug: missing "* (1 - H**2)"
    return [X.T @ G1, G1.sum(axis=0), H.T @ G2, G2.sum(axis=0)]


wrong = backward_wrong(params, X_xor, Y_xor)
numeric = nb.numerical_gradient(lambda: loss_fn(params, X_xor, Y_xor), params[0])
print(f"W1 with the bug: relative error {relative_error(wrong[0], numeric):.1e}")

# %% [markdown]
# ## 1.6 Training the two-layer network by hand
#
# Gradient descent with our hand-written backward pass now solves XOR:

# %%
lr = 0.5
xor_losses = []
for _ in range(1000 if SMALL else 3000):
    grads = backward(params, X_xor, Y_xor)
    for p, g in zip(params, grads):
        p -= lr * g  # in place
    xor_losses.append(loss_fn(params, X_xor, Y_xor))
p_hat = forward(params, X_xor)[1][:, 0]
print("p(1):", p_hat.round(3), " accuracy:", np.mean((p_hat > 0.5) == y_xor))

fig, (ax0, ax1) = plt.subplots(1, 2, figsize=(11, 4), layout="constrained")
plot_boundary(
    ax0, lambda P: forward(params, P)[1][:, 0], X_xor, y_xor, "2-8-1 network on XOR (by hand)"
)
ax1.semilogy(xor_losses)
ax1.set(title="Training loss", xlabel="step", ylabel="BCE (log scale)")
plt.show()

# %% [markdown]
# ## 1.7 The same network with nablanet
#
# The library packages exactly these pieces: `Dense` layers hold $W$ and $b$ (weights stored
# `(n_inputs, n_neurons)`, as above), each layer's `backward` implements its step of the chain
# rule, the loss fuses sigmoid and cross-entropy into $(\hat Y - Y)/n$, and an optimizer applies
# the update. First, the library's gradients agree with ours when given the same weights:

# %%
model = nb.Sequential(
    [
        nb.Dense(2, hidden, activation="tanh", dtype="float64"),
        nb.Dense(hidden, 1, activation="sigmoid", dtype="float64"),
    ]
)
model.compile(loss="binary_crossentropy", optimizer=nb.SGD(learning_rate=0.5))
W1, b1, W2, b2 = [rng.normal(0, 1, p.shape) for p in params]
model.layers[0].weights.value[:], model.layers[0].biases.value[:] = W1, b1
model.layers[1].weights.value[:], model.layers[1].biases.value[:] = W2, b2

model.optimizer.zero_grad()
library_loss, _ = model.train_step(X_xor, y_xor)
ours = backward([W1, b1, W2, b2], X_xor, Y_xor)
print(f"loss: ours {loss_fn([W1, b1, W2, b2], X_xor, Y_xor):.6f}, library {library_loss:.6f}")
for (name, p), g in zip(model.named_parameters().items(), ours):
    print(f"{name:18s} max |difference| = {np.abs(p.grad - g).max():.1e}")

# %% [markdown]
# And the library's own end-to-end gradient check (`nb.gradcheck_model`) runs the same central
# differences over every parameter:

# %%
print(nb.gradcheck_model(model, X_xor, y_xor))

# %% [markdown]
# Training is then three lines, in float32 as usual:

# %%
nb.set_seed(0)
model = nb.Sequential([nb.Dense(2, 8, activation="tanh"), nb.Dense(8, 1, activation="sigmoid")])
model.compile(loss="binary_crossentropy", optimizer=nb.Adam(learning_rate=0.05))
history = model.fit(X_xor, y_xor, epochs=300, batch_size=4, verbose=0)
print("p(1):", model.predict(X_xor)[:, 0].round(3), f" final loss {history['loss'][-1]:.4f}")
model.summary()

# %% [markdown]
# ## 1.8 A bigger problem: the spiral
#
# The same recipe with two hidden layers and a softmax output separates three interleaved
# spirals, which no linear model can. Softmax + categorical cross-entropy are fused just like
# sigmoid + binary cross-entropy: $\partial L/\partial Z = (P - Y)/n$.

# %%
n = 100 if SMALL else 300
r = np.tile(np.linspace(0.0, 1.0, n), 3)
k = np.repeat(np.arange(3), n)
theta = k * 2 * np.pi / 3 + r * 7.0 + rng.normal(0, 0.2, r.size)
X_sp = np.c_[r * np.sin(theta), r * np.cos(theta)].astype(np.float32)

model = nb.Sequential(
    [nb.Dense(2, 64, "relu"), nb.Dense(64, 64, "relu"), nb.Dense(64, 3, "softmax")]
)
model.compile(loss="categorical_crossentropy", optimizer=nb.Adam(learning_rate=0.01))
history = model.fit(X_sp, k, epochs=60 if SMALL else 150, batch_size=32, verbose=0)
print(f"training accuracy {history['accuracy'][-1]:.1%}")

fig, ax = plt.subplots(figsize=(5, 5))
gx, gy = np.meshgrid(np.linspace(-1.1, 1.1, 250), np.linspace(-1.1, 1.1, 250))
regions = model.predict(np.c_[gx.ravel(), gy.ravel()]).argmax(axis=1).reshape(gx.shape)
ax.contourf(gx, gy, regions, levels=[-0.5, 0.5, 1.5, 2.5], cmap="tab10", vmin=0, vmax=9, alpha=0.3)
ax.scatter(X_sp[:, 0], X_sp[:, 1], c=k, cmap="tab10", vmin=0, vmax=9, s=10, edgecolors="k", lw=0.3)
ax.set(title="2-64-64-3 MLP: decision regions", xlabel="$x_1$", ylabel="$x_2$", aspect="equal")
plt.show()

# %% [markdown]
# ## Summary and exercises
#
# * A neuron is a weighted sum and an activation; a layer is many neurons as one matrix product.
# * One neuron draws a straight boundary; a hidden layer bends it (XOR, spirals).
# * Backpropagation is the chain rule, layer by layer, from $\partial L/\partial Z$ of the output
#   back to the first weights; each step is a matrix product with a transpose.
# * Central differences in float64 check any derivation; a bug shows as a relative error of
#   order 1 instead of $10^{-10}$.
#
# Exercises:
#
# 1. Replace `tanh` by ReLU in section 1.4 (derivative: `H > 0`) and check the gradients again.
# 2. Run the gradient check in float32 (`X_xor.astype(np.float32)` and float32 parameters). Why
#    does the relative error jump from $10^{-9}$ to about $10^{-1}$? (See "Gradient checking" in
#    [docs/backpropagation.md](../docs/backpropagation.md).)
# 3. How few hidden neurons does XOR need? Try `hidden = 2` with several seeds.
#
# Next: notebook 2 compares optimizers, regularization and initializations.
