"""The same MLP in every framework the benchmarks compare.

Each runner builds the model of issue #6 (``784-256-128-10``, ReLU hidden layers, softmax output,
cross-entropy, Adam with learning rate 1e-3) and offers

- ``train_epoch(x, y, batch_size) -> mean loss``: one shuffled epoch of mini-batch training,
  through the framework's ordinary training API;
- ``predict(x) -> probabilities`` of shape ``(n, 10)``.

| runner | what is timed |
| --- | --- |
| ``nablanet`` | ``model.fit(x, y, epochs=1, batch_size=b, verbose=0)`` (the public API: input checks, shuffling, loss and accuracy tracking, history) and ``model.predict(x)`` |
| ``numpy`` | the hand-tuned NumPy loop of ``mlp_numpy.py`` (float32, flat buffers, preallocated everything) |
| ``numpy-naive`` | the textbook NumPy loop (float64 one-hot, new arrays everywhere) |
| ``torch`` | the usual PyTorch CPU loop: a ``randperm`` per epoch, ``x[idx]`` batches, ``zero_grad`` / forward / ``CrossEntropyLoss`` / ``backward`` / ``Adam.step`` (default options) and ``loss.item()``; prediction under ``torch.inference_mode()`` with a softmax |
| ``sklearn`` | ``MLPClassifier(solver="adam", alpha=0).partial_fit`` (one epoch) on float32 data; ``predict_proba`` |
| ``tinynn`` | `tinynn <https://github.com/borgwang/tinynn>`_ (PyPI ``tinynn``, the ``bench`` extra): ``Net`` of ``Dense``/``ReLU``, ``SoftmaxCrossEntropy``, ``Adam``, its ``Model.forward`` / ``backward`` / ``apply_grads`` loop over shuffled batches with one-hot float32 targets |
| ``numpy-ml`` | `numpy-ml <https://github.com/ddbourgin/numpy-ml>`_ (PyPI ``numpy-ml``, the ``bench`` extra): ``FullyConnected`` layers with an ``Adam`` each, the softmax and the gradient ``(p - y) / n`` by hand (its ``CrossEntropy`` sums), ``backward`` then ``update`` per layer; it computes in float64 (its initializers), which is how it is used |

Thread counts are left at each library's default (both BLAS and PyTorch use every core).
"""

from __future__ import annotations

import itertools

import numpy as np
from common import SIZES
from mlp_numpy import NaiveNumpyMLP, TunedNumpyMLP

LEARNING_RATE = 1e-3


class NablanetRunner:
    name = "nablanet"

    def __init__(self, sizes=SIZES, seed: int = 0):
        import nablanet as nb

        nb.set_seed(seed)
        n = len(sizes) - 1
        self.model = nb.Sequential(
            [
                nb.Dense(a, b, activation="relu" if i < n - 1 else "softmax")
                for i, (a, b) in enumerate(itertools.pairwise(sizes))
            ]
        )
        self.model.compile(loss="categorical_crossentropy", optimizer=nb.Adam(LEARNING_RATE))

    def train_epoch(self, x, y, batch_size):
        history = self.model.fit(x, y, epochs=1, batch_size=batch_size, verbose=0)
        return history.history["loss"][-1]

    def predict(self, x):
        return self.model.predict(x)


class NumpyRunner:
    name = "numpy"
    cls = TunedNumpyMLP

    def __init__(self, sizes=SIZES, seed: int = 0):
        self.model = self.cls(sizes, learning_rate=LEARNING_RATE, seed=seed)

    def train_epoch(self, x, y, batch_size):
        return self.model.train_epoch(x, y, batch_size)

    def predict(self, x):
        return self.model.forward(x)


class NaiveNumpyRunner(NumpyRunner):
    name = "numpy-naive"
    cls = NaiveNumpyMLP


class TorchRunner:
    name = "torch"

    def __init__(self, sizes=SIZES, seed: int = 0):
        import torch

        self.torch = torch
        torch.manual_seed(seed)
        layers = []
        for i, (a, b) in enumerate(itertools.pairwise(sizes)):
            layers.append(torch.nn.Linear(a, b))
            if i < len(sizes) - 2:
                layers.append(torch.nn.ReLU())
        self.model = torch.nn.Sequential(*layers)
        self.optimizer = torch.optim.Adam(self.model.parameters(), lr=LEARNING_RATE)
        self.loss = torch.nn.CrossEntropyLoss()
        self.generator = torch.Generator().manual_seed(seed)

    def train_epoch(self, x, y, batch_size):
        torch = self.torch
        xt, yt = torch.from_numpy(x), torch.from_numpy(y)
        n = len(xt)
        perm = torch.randperm(n, generator=self.generator)
        self.model.train()
        total = 0.0
        for i in range(0, n, batch_size):
            idx = perm[i : i + batch_size]
            xb, yb = xt[idx], yt[idx]
            self.optimizer.zero_grad()
            loss = self.loss(self.model(xb), yb)
            loss.backward()
            self.optimizer.step()
            total += loss.item() * len(idx)
        return total / n

    def predict(self, x):
        torch = self.torch
        self.model.eval()
        with torch.inference_mode():
            return torch.softmax(self.model(torch.from_numpy(x)), dim=1).numpy()


class SklearnRunner:
    name = "sklearn"

    def __init__(self, sizes=SIZES, seed: int = 0):
        self.sizes = sizes
        self.seed = seed
        self.model = None

    def train_epoch(self, x, y, batch_size):
        from sklearn.neural_network import MLPClassifier

        if self.model is None or self.model.batch_size != batch_size:
            self.model = MLPClassifier(
                hidden_layer_sizes=tuple(self.sizes[1:-1]),
                activation="relu",
                solver="adam",
                alpha=0.0,
                batch_size=batch_size,
                learning_rate_init=LEARNING_RATE,
                shuffle=True,
                random_state=self.seed,
            )
        self.model.partial_fit(x, y, classes=np.arange(self.sizes[-1]))
        return float(self.model.loss_)

    def predict(self, x):
        return self.model.predict_proba(x)


def _one_hot(y, n_classes=10, dtype=np.float32):
    out = np.zeros((len(y), n_classes), dtype=dtype)
    out[np.arange(len(y)), y] = 1
    return out


def import_numpy_ml():
    """``numpy_ml.neural_nets``. numpy-ml 0.1.2 imports ``collections.Hashable`` (moved to
    ``collections.abc`` in Python 3.3, removed from ``collections`` in 3.10): alias it first."""
    import collections
    import collections.abc
    import warnings

    if not hasattr(collections, "Hashable"):
        collections.Hashable = collections.abc.Hashable
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # its reinforcement-learning part asks for gym
        import numpy_ml.neural_nets as nn
    return nn


class TinynnRunner:
    name = "tinynn"

    def __init__(self, sizes=SIZES, seed: int = 0):
        from tinynn.core.layer import Dense, ReLU
        from tinynn.core.loss import SoftmaxCrossEntropy
        from tinynn.core.model import Model
        from tinynn.core.net import Net
        from tinynn.core.optimizer import Adam

        np.random.seed(seed)  # noqa: NPY002  (tinynn draws from NumPy's global generator)
        layers = []
        for i, b in enumerate(sizes[1:]):
            layers.append(Dense(b))
            if i < len(sizes) - 2:
                layers.append(ReLU())
        self.model = Model(Net(layers), SoftmaxCrossEntropy(), Adam(lr=LEARNING_RATE))
        self.rng = np.random.default_rng(seed)
        self.n_classes = sizes[-1]

    def train_step(self, xb, yb_one_hot):
        pred = self.model.forward(xb)
        loss, grads = self.model.backward(pred, yb_one_hot)
        self.model.apply_grads(grads)
        return float(loss)

    def train_epoch(self, x, y, batch_size):
        self.model.is_training = True
        perm = self.rng.permutation(len(x))
        total = 0.0
        for i in range(0, len(x), batch_size):
            idx = perm[i : i + batch_size]
            total += self.train_step(x[idx], _one_hot(y[idx], self.n_classes)) * len(idx)
        return total / len(x)

    def predict(self, x):
        from tinynn.utils.math import softmax

        self.model.is_training = False
        return softmax(self.model.forward(x))


class NumpyMLRunner:
    name = "numpy-ml"

    def __init__(self, sizes=SIZES, seed: int = 0):
        nn = import_numpy_ml()
        np.random.seed(seed)  # noqa: NPY002  (numpy-ml draws from NumPy's global generator)
        n = len(sizes) - 1
        self.layers = [
            nn.layers.FullyConnected(
                b,
                act_fn="ReLU" if i < n - 1 else "Affine(slope=1, intercept=0)",
                optimizer=nn.optimizers.Adam(lr=LEARNING_RATE),
            )
            for i, b in enumerate(sizes[1:])
        ]
        self.rng = np.random.default_rng(seed)
        self.n_classes = sizes[-1]

    def _forward(self, x):
        for layer in self.layers:
            x = layer.forward(x)
        z = x - x.max(axis=1, keepdims=True)
        p = np.exp(z)
        return p / p.sum(axis=1, keepdims=True)

    def train_step(self, xb, yb_one_hot):
        p = self._forward(xb)
        loss = -np.sum(yb_one_hot * np.log(p + 1e-12)) / len(xb)
        g = (p - yb_one_hot) / len(xb)
        for layer in reversed(self.layers):
            g = layer.backward(g)
        for layer in self.layers:
            layer.update()
        return float(loss)

    def train_epoch(self, x, y, batch_size):
        perm = self.rng.permutation(len(x))
        total = 0.0
        for i in range(0, len(x), batch_size):
            idx = perm[i : i + batch_size]
            total += self.train_step(x[idx], _one_hot(y[idx], self.n_classes)) * len(idx)
        return total / len(x)

    def predict(self, x):
        return self._forward(x)


RUNNERS = {
    cls.name: cls
    for cls in (
        NablanetRunner,
        NumpyRunner,
        NaiveNumpyRunner,
        TorchRunner,
        SklearnRunner,
        TinynnRunner,
        NumpyMLRunner,
    )
}

#: the module behind each optional runner, and how to get it
OPTIONAL = {
    "torch": ("torch", "pip install torch"),
    "sklearn": ("sklearn", "pip install scikit-learn"),
    "tinynn": ("tinynn", "pip install 'nablanet[bench]'"),
    "numpy-ml": ("numpy_ml", "pip install 'nablanet[bench]'"),
}


def available(name: str) -> bool:
    """Whether the framework behind a runner can be imported."""
    module = OPTIONAL.get(name, (None,))[0]
    if module is None:
        return True
    try:
        if name == "numpy-ml":
            import_numpy_ml()
        else:
            __import__(module)
    except ImportError:
        return False
    return True
