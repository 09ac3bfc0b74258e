"""The book's optimizers: a nablanet optimizer plus, for ``decay``, its per-step schedule."""

from __future__ import annotations

from nablanet.nn import SGD, Adagrad, Adam, InverseTimeDecay, RMSprop


class _BookOptimizer:
    """``optimizer`` (nablanet's) and ``scheduler`` (an InverseTimeDecay, or None without decay);
    ``current_learning_rate`` and ``iterations`` read the optimizer's."""

    def __init__(self, optimizer, decay: float = 0.0):
        self.optimizer = optimizer
        self.learning_rate = optimizer.learning_rate
        self.decay = InverseTimeDecay(decay).decay  # checked there
        self.scheduler = (
            InverseTimeDecay(self.decay, initial_learning_rate=self.learning_rate)
            if self.decay
            else None
        )

    @property
    def current_learning_rate(self) -> float:
        return self.optimizer.learning_rate

    @property
    def iterations(self) -> int:
        return self.optimizer.iterations

    def get_config(self) -> dict:
        return {"learning_rate": self.learning_rate, "decay": self.decay}


class Optimizer_SGD(_BookOptimizer):
    """:class:`~nablanet.nn.SGD` with the book's momentum, ``momentum_form="keras"``
    (``v = momentum * v - lr * g; w += v``)."""

    def __init__(self, learning_rate: float = 1.0, decay: float = 0.0, momentum: float = 0.0):
        opt = SGD(learning_rate, momentum=momentum, momentum_form="keras")
        super().__init__(opt, decay)
        self.momentum = opt.momentum

    def get_config(self):
        return {**super().get_config(), "momentum": self.momentum}


class Optimizer_Adagrad(_BookOptimizer):
    """:class:`~nablanet.nn.Adagrad` (the book's rule is torch's)."""

    def __init__(self, learning_rate: float = 1.0, decay: float = 0.0, epsilon: float = 1e-7):
        super().__init__(Adagrad(learning_rate, epsilon=epsilon), decay)
        self.epsilon = self.optimizer.epsilon

    def get_config(self):
        return {**super().get_config(), "epsilon": self.epsilon}


class Optimizer_RMSprop(_BookOptimizer):
    """:class:`~nablanet.nn.RMSprop` (the book's rule is torch's)."""

    def __init__(self, learning_rate=0.001, decay=0.0, epsilon=1e-7, rho=0.9):
        super().__init__(RMSprop(learning_rate, rho=rho, epsilon=epsilon), decay)
        self.epsilon, self.rho = self.optimizer.epsilon, self.optimizer.rho

    def get_config(self):
        return {**super().get_config(), "epsilon": self.epsilon, "rho": self.rho}


class Optimizer_Adam(_BookOptimizer):
    """:class:`~nablanet.nn.Adam` (the book's bias-corrected rule is torch's)."""

    def __init__(self, learning_rate=0.001, decay=0.0, epsilon=1e-7, beta_1=0.9, beta_2=0.999):
        opt = Adam(learning_rate, beta_1=beta_1, beta_2=beta_2, epsilon=epsilon)
        super().__init__(opt, decay)
        self.epsilon, self.beta_1, self.beta_2 = opt.epsilon, opt.beta_1, opt.beta_2

    def get_config(self):
        return {
            **super().get_config(),
            "epsilon": self.epsilon,
            "beta_1": self.beta_1,
            "beta_2": self.beta_2,
        }


_OPTIMIZERS = {
    c.__name__: c for c in (Optimizer_SGD, Optimizer_Adagrad, Optimizer_RMSprop, Optimizer_Adam)
}
