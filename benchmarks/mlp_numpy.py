"""Hand-written NumPy training loops for an MLP (ReLU hidden layers, softmax output, Adam).

``TunedNumpyMLP`` is the reference the issue calls "a hand-tuned NumPy float32 training loop": what
an expert writes by hand without a framework. Everything stays float32, parameters, gradients and
Adam moments live in one flat buffer each, every activation and gradient has a preallocated
buffer written with ``out=``, the data are shuffled once per epoch into a preallocated buffer and
the first layer computes no input gradient. ``fit()`` is measured against it.

``NaiveNumpyMLP`` is the textbook loop (a float64 one-hot from ``np.eye``, fresh arrays for every
operation, Adam with temporaries): what a framework costs when none of that care is taken.

Both use He-normal weights, zero biases and torch's Adam (``eps`` added after the square root).
"""

from __future__ import annotations

import itertools
import math

import numpy as np


def _init_weights(sizes, rng, dtype):
    out = []
    for n_in, n_out in itertools.pairwise(sizes):
        w = (rng.standard_normal((n_in, n_out)) * math.sqrt(2.0 / n_in)).astype(dtype)
        out.append((w, np.zeros(n_out, dtype=dtype)))
    return out


class TunedNumpyMLP:
    """A hand-tuned float32 training loop.

    Parameters
    ----------
    sizes : sequence of int
        Layer widths, input first: ``(784, 256, 128, 10)``.
    learning_rate, beta_1, beta_2, epsilon : float
        Adam's hyper-parameters.
    seed : int
    """

    def __init__(
        self,
        sizes,
        learning_rate=1e-3,
        beta_1=0.9,
        beta_2=0.999,
        epsilon=1e-8,
        seed=0,
    ):
        self.sizes = tuple(sizes)
        self.rng = np.random.default_rng(seed)
        self.lr, self.b1, self.b2, self.eps = learning_rate, beta_1, beta_2, epsilon
        dt = np.float32
        init = _init_weights(self.sizes, self.rng, dt)
        n = sum(w.size + b.size for w, b in init)
        self.flat = np.empty(n, dt)
        self.grad = np.zeros(n, dt)
        self.m, self.v, self.tmp = np.zeros(n, dt), np.zeros(n, dt), np.empty(n, dt)
        self.W, self.b, self.gW, self.gb = [], [], [], []
        o = 0
        for w, b in init:
            for src, vals, grads in ((w, self.W, self.gW), (b, self.b, self.gb)):
                vals.append(self.flat[o : o + src.size].reshape(src.shape))
                vals[-1][...] = src
                grads.append(self.grad[o : o + src.size].reshape(src.shape))
                o += src.size
        self.t = 0
        self._bufs_for = None

    def _buffers(self, bs):
        if self._bufs_for != bs:
            dt = np.float32
            self.h = [np.empty((bs, k), dt) for k in self.sizes[1:]]  # layer outputs
            self.d = [np.empty((bs, k), dt) for k in self.sizes[1:]]  # dL/dz per layer
            self.mask = [np.empty((bs, k), bool) for k in self.sizes[1:-1]]
            self.rowmax = np.empty((bs, 1), dt)
            self.rows = np.arange(bs)
            self._bufs_for = bs

    def forward(self, x, training=False):
        """Probabilities for ``x`` (fresh arrays: for prediction)."""
        h = x
        for i, (w, b) in enumerate(zip(self.W, self.b)):
            z = h @ w
            z += b
            if i < len(self.W) - 1:
                np.maximum(z, 0, out=z)
            h = z
        h -= h.max(axis=1, keepdims=True)
        np.exp(h, out=h)
        h /= h.sum(axis=1, keepdims=True)
        return h

    def train_epoch(self, X, y, batch_size):
        """One epoch of mini-batch Adam over ``(X, y)``; returns the mean training loss."""
        n = len(X)
        if getattr(self, "_xs", None) is None or self._xs.shape != X.shape:
            self._xs, self._ys = np.empty_like(X), np.empty_like(y)
        perm = self.rng.permutation(n)
        np.take(X, perm, axis=0, out=self._xs, mode="clip")
        np.take(y, perm, axis=0, out=self._ys, mode="clip")
        self._buffers(batch_size)
        total = 0.0
        for i in range(0, n, batch_size):
            total += self._step(self._xs[i : i + batch_size], self._ys[i : i + batch_size])
        return total / n

    def _step(self, x, y):
        k = len(x)
        L = len(self.W)
        hs = [hh[:k] for hh in self.h]
        ds = [dd[:k] for dd in self.d]
        # forward
        inp = x
        for i in range(L):
            np.matmul(inp, self.W[i], out=hs[i])
            hs[i] += self.b[i]
            if i < L - 1:
                np.maximum(hs[i], 0, out=hs[i])
            inp = hs[i]
        # softmax + cross-entropy on the logits, gradient (p - onehot) / k written in place
        z = hs[-1]
        mx = self.rowmax[:k]
        np.max(z, axis=1, keepdims=True, out=mx)
        z -= mx
        rows = self.rows[:k]
        picked = z[rows, y]
        np.exp(z, out=z)
        s = z.sum(axis=1, keepdims=True)
        loss = float(np.log(s).sum() - picked.sum())
        z /= s
        z[rows, y] -= 1.0
        z *= np.float32(1.0 / k)
        g = z
        # backward
        for i in range(L - 1, -1, -1):
            a = hs[i - 1] if i > 0 else x
            np.matmul(a.T, g, out=self.gW[i])
            np.sum(g, axis=0, out=self.gb[i])
            if i > 0:
                gp = ds[i - 1]
                np.matmul(g, self.W[i].T, out=gp)
                m = self.mask[i - 1][:k]
                np.greater(hs[i - 1], 0, out=m)
                gp *= m
                g = gp
        # Adam, in place on the flat buffers
        self.t += 1
        b1, b2, tmp, m, v = self.b1, self.b2, self.tmp, self.m, self.v
        m *= b1
        np.multiply(self.grad, 1.0 - b1, out=tmp)
        m += tmp
        v *= b2
        np.multiply(self.grad, self.grad, out=tmp)
        tmp *= 1.0 - b2
        v += tmp
        np.sqrt(v, out=tmp)
        tmp *= 1.0 / math.sqrt(1.0 - b2**self.t)
        tmp += self.eps
        np.divide(m, tmp, out=tmp)
        tmp *= self.lr / (1.0 - b1**self.t)
        self.flat -= tmp
        return loss


class NaiveNumpyMLP:
    """The textbook loop: float64 one-hot targets, a new array for every result.

    Same model and optimizer as :class:`TunedNumpyMLP`.
    """

    def __init__(self, sizes, learning_rate=1e-3, beta_1=0.9, beta_2=0.999, epsilon=1e-8, seed=0):
        self.sizes = tuple(sizes)
        self.rng = np.random.default_rng(seed)
        self.lr, self.b1, self.b2, self.eps = learning_rate, beta_1, beta_2, epsilon
        self.params = [a for wb in _init_weights(self.sizes, self.rng, np.float32) for a in wb]
        self.m = [np.zeros_like(p) for p in self.params]
        self.v = [np.zeros_like(p) for p in self.params]
        self.t = 0

    def forward(self, x, training=False):
        acts = [x]
        for i in range(0, len(self.params), 2):
            z = acts[-1] @ self.params[i] + self.params[i + 1]
            if i < len(self.params) - 2:
                z = np.maximum(z, 0)
            acts.append(z)
        z = acts[-1]
        e = np.exp(z - z.max(axis=1, keepdims=True))
        p = e / e.sum(axis=1, keepdims=True)
        return (p, acts) if training else p

    def train_epoch(self, X, y, batch_size):
        n = len(X)
        perm = self.rng.permutation(n)
        total = 0.0
        for i in range(0, n, batch_size):
            idx = perm[i : i + batch_size]
            xb, yb = X[idx], y[idx]
            p, acts = self.forward(xb, training=True)
            onehot = np.eye(self.sizes[-1])[yb]
            total += -np.sum(onehot * np.log(p + 1e-12))
            g = (p - onehot) / len(xb)
            grads = []
            for j in range(len(self.params) // 2 - 1, -1, -1):
                a = acts[j]
                grads = [a.T @ g, g.sum(axis=0), *grads]
                if j > 0:
                    g = (g @ self.params[2 * j].T) * (acts[j] > 0)
            self.t += 1
            for j, (p_, g_) in enumerate(zip(self.params, grads)):
                self.m[j] = self.b1 * self.m[j] + (1 - self.b1) * g_
                self.v[j] = self.b2 * self.v[j] + (1 - self.b2) * g_ * g_
                m_hat = self.m[j] / (1 - self.b1**self.t)
                v_hat = self.v[j] / (1 - self.b2**self.t)
                self.params[j] = (p_ - self.lr * m_hat / (np.sqrt(v_hat) + self.eps)).astype(
                    p_.dtype
                )
        return total / n
