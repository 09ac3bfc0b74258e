"""Optimizers with the update rules of ``torch.optim``.

An optimizer is created with its hyper-parameters, then bound to parameters with ``build`` (a
``Sequential`` does this in ``compile``). ``step()`` is shared; each algorithm writes one small
in-place update of a value buffer from its gradient buffer. When the parameters are consecutive
views of one flat buffer (a compiled ``Sequential``), the whole model is updated with a handful of
vectorised calls. The state (moments, step count) is saved and restored by parameter name.

>>> from nablanet.nn.parameter import Parameter
>>> p = Parameter(np.array([1.0]), "w")
>>> opt = SGD(learning_rate=0.1)
>>> opt.build([p])
>>> p.grad[:] = 2.0
>>> opt.step()
>>> p.value.tolist()
[0.8]
"""

from __future__ import annotations

import difflib
import functools
import inspect
import math
from collections.abc import Iterable
from typing import Any

import numpy as np

from ._validation import (
    check_interval,
    check_nonnegative_float,
    check_positive_float,
    param_error,
)
from .errors import NablanetError
from .parameter import Parameter, flat_buffers
from .schedulers import Scheduler

#: the names Keras, PyTorch and older APIs use for our arguments (``Adam(lr=0.01)``)
_ARGUMENT_ALIASES = {
    "lr": "learning_rate",
    "learningrate": "learning_rate",
    "eps": "epsilon",
    "beta1": "beta_1",
    "beta2": "beta_2",
    "betas": "beta_1=..., beta_2=...",
    "alpha": "rho",
    "initial_accumulator": "initial_accumulator_value",
}
#: arguments of other libraries that nablanet does differently, and how
_NOT_ARGUMENTS = {
    "weight_decay": "add an L2 penalty to the layers instead (weight_regularizer=L2(...))",
    "decay": "use a scheduler instead (fit(scheduler=...), e.g. InverseTimeDecay)",
    "amsgrad": "AMSGrad is not implemented",
    "clipnorm": "gradient clipping is not implemented",
    "clipvalue": "gradient clipping is not implemented",
}


def _unknown_argument(owner: str, name: str, allowed: list[str]) -> NablanetError:
    """One line for ``Adam(lr=...)``: the argument, what it is called here, the arguments."""
    options = ", ".join(allowed)
    if name in _NOT_ARGUMENTS:
        return NablanetError(f"{owner} has no argument {name!r}: {_NOT_ARGUMENTS[name]}")
    guess = _ARGUMENT_ALIASES.get(name.lower())
    if guess is None or guess.split("=")[0] not in allowed:
        close = difflib.get_close_matches(name, allowed, n=1)
        guess = close[0] if close else None
    hint = f"; did you mean {guess}?" if guess else ""
    return NablanetError(f"{owner} has no argument {name!r}{hint} Its arguments: {options}.")


class Optimizer:
    """Shared machinery: binding, ``step``, ``zero_grad``, state by parameter name, config.

    An argument an optimizer does not take is refused with its name here, e.g. ``Adam(lr=0.01)``
    says "did you mean learning_rate?" (Keras 1 and PyTorch spell it ``lr``).
    """

    name = ""
    #: names of the per-parameter state arrays (zeros at start)
    state_keys: tuple[str, ...] = ()

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        init = cls.__dict__.get("__init__")
        if init is None:
            return
        params = inspect.signature(init).parameters
        if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values()):
            return
        allowed = [n for n in params if n != "self"]

        @functools.wraps(init)
        def checked_init(self: Any, *args: Any, **kw: Any) -> None:
            for key in kw:
                if key not in params:
                    raise _unknown_argument(cls.__name__, key, allowed)
            init(self, *args, **kw)

        # mypy refuses assignments to methods; this wraps the subclass's own __init__
        cls.__init__ = checked_init  # type: ignore[method-assign]

    def __init__(self, learning_rate: float):
        if isinstance(learning_rate, Scheduler):  # Keras takes a schedule here
            raise NablanetError(
                f"{type(self).__name__}(learning_rate=...) takes a number; a schedule such as "
                f"{learning_rate!r} goes to fit(..., scheduler=...) (it sets the rate each epoch)"
            )
        self.learning_rate = check_positive_float(
            learning_rate, "learning_rate", type(self).__name__
        )
        self.iterations = 0
        self._params: dict[str, Parameter] = {}
        self._slots: list[tuple[np.ndarray, np.ndarray]] = []
        self._state: list[dict[str, np.ndarray]] = []
        self._where: dict[str, tuple[int, int]] = {}  # name -> (slot, offset)
        self._bound: list[Parameter] = []

    # -- binding -----------------------------------------------------------------------------
    def build(self, parameters: Iterable[Parameter] | dict[str, Parameter]) -> None:
        """Bind to ``parameters`` (a list of Parameters or a dict name -> Parameter)."""
        if isinstance(parameters, dict):
            named = dict(parameters)
        else:
            named = {}
            for i, p in enumerate(parameters):
                key = p.name if p.name not in named else f"{p.name}.{i}"
                named[key] = p
        self._params = named
        params = list(named.values())
        flat = flat_buffers(params)
        if flat is not None:
            self._slots = [flat]
            self._where, offset = {}, 0
            for name, p in named.items():
                self._where[name] = (0, offset)
                offset += p.size
        else:
            self._slots = [(p.value, p._grad) for p in params]
            self._where = {name: (i, 0) for i, name in enumerate(named)}
        self._state = [
            {key: np.zeros_like(v) for key in self.state_keys} | {"_tmp": np.empty_like(v)}
            for v, _ in self._slots
        ]
        self._bound = params
        self.iterations = 0

    @property
    def parameters(self) -> list[Parameter]:
        return list(self._params.values())

    def zero_grad(self) -> None:
        """Set every gradient to zero and mark it ``fresh`` (see :class:`Parameter`)."""
        for _, g in self._slots:
            g.fill(0)
        for p in self._bound:
            p.fresh = True

    def step(self) -> None:
        """Apply one update to every bound parameter, in place."""
        if not self._slots and not self._params:
            raise NablanetError(f"{type(self).__name__} has no parameters: call build() first")
        self.iterations += 1
        self._begin_step()
        for (value, grad), state in zip(self._slots, self._state):
            self._update(value, grad, state)

    def _begin_step(self) -> None:
        """Per-step scalars (bias corrections...), computed once before the buffers are updated."""

    def _update(self, value: np.ndarray, grad: np.ndarray, state: dict) -> None:
        raise NotImplementedError

    # -- state -------------------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        """``{"iterations": t, "learning_rate": lr, "<param>.<key>": array, ...}``."""
        out: dict[str, Any] = {"iterations": self.iterations, "learning_rate": self.learning_rate}
        for name, p in self._params.items():
            slot, offset = self._where[name]
            for key in self.state_keys:
                arr = self._state[slot][key]
                out[f"{name}.{key}"] = (
                    arr.reshape(-1)[offset : offset + p.size].reshape(p.shape).copy()
                )
        return out

    def load_state_dict(self, state: dict[str, Any]) -> None:
        for name, p in self._params.items():
            slot, offset = self._where[name]
            for key in self.state_keys:
                full = f"{name}.{key}"
                if full not in state:
                    raise NablanetError(f"optimizer state has no entry `{full}`")
                src = np.asarray(state[full])
                if src.shape != p.shape:
                    raise NablanetError(
                        f"shape mismatch for optimizer state `{full}`: file has {src.shape}, "
                        f"model has {p.shape}"
                    )
                self._state[slot][key].reshape(-1)[offset : offset + p.size] = src.ravel()
        self.iterations = int(state.get("iterations", 0))
        if "learning_rate" in state:
            self.learning_rate = float(state["learning_rate"])

    # -- config ------------------------------------------------------------------------------
    def get_config(self) -> dict[str, Any]:
        return {"learning_rate": self.learning_rate}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Optimizer:
        return cls(**config)

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"


class SGD(Optimizer):
    """Stochastic gradient descent, optionally with (Nesterov) momentum, as ``torch.optim.SGD``.

    ``v = momentum * v + g``; ``p -= lr * v`` (Nesterov: ``p -= lr * (g + momentum * v)``).

    ``momentum_form="keras"`` keeps the *step* in the velocity instead, as Keras and *Neural
    Networks from Scratch* do: ``v = momentum * v - lr * g``; ``p += v`` (Nesterov:
    ``p += momentum * v - lr * g``). With a constant learning rate both forms take the same steps
    (``v_keras = -lr * v_torch``); when the rate changes (a scheduler), the torch form applies
    the new rate to the whole velocity, the Keras form only to the new gradient.

    >>> from nablanet.nn.parameter import Parameter
    >>> p = Parameter(np.array([1.0]), "w")
    >>> opt = SGD(0.5, momentum=0.5, momentum_form="keras")
    >>> opt.build([p])
    >>> for lr in (0.5, 0.25):
    ...     opt.learning_rate = lr
    ...     p.grad[:] = 1.0
    ...     opt.step()
    >>> p.value.tolist()        # 1 - 0.5 - (0.5 * 0.5 + 0.25); the torch form: 1 - 0.5 - 0.375
    [0.0]
    """

    name = "sgd"
    MOMENTUM_FORMS = ("torch", "keras")

    def __init__(
        self,
        learning_rate: float = 0.01,
        momentum: float = 0.0,
        nesterov: bool = False,
        momentum_form: str = "torch",
    ):
        super().__init__(learning_rate)
        self.momentum = check_interval(momentum, "momentum", "SGD", 0.0, 1.0, closed="left")
        if nesterov and self.momentum == 0.0:
            raise NablanetError("The 'nesterov' parameter of SGD needs a momentum > 0.")
        self.nesterov = bool(nesterov)
        if momentum_form not in self.MOMENTUM_FORMS:
            raise param_error("SGD", "momentum_form", '"torch" or "keras"', momentum_form)
        self.momentum_form = momentum_form
        self.state_keys = ("velocity",) if self.momentum else ()

    def _update(self, value: np.ndarray, grad: np.ndarray, state: dict) -> None:
        tmp = state["_tmp"]
        if not self.momentum:
            np.multiply(grad, self.learning_rate, out=tmp)
        elif self.momentum_form == "keras":
            v = state["velocity"]
            v *= self.momentum
            np.multiply(grad, self.learning_rate, out=tmp)
            v -= tmp  # the step itself: mu * v - lr * g
            if self.nesterov:  # p += mu * v - lr * g
                value -= tmp
                np.multiply(v, self.momentum, out=tmp)
                value += tmp
            else:
                value += v
            return
        else:
            v = state["velocity"]
            v *= self.momentum
            v += grad
            if self.nesterov:
                np.multiply(v, self.momentum, out=tmp)
                tmp += grad
                tmp *= self.learning_rate
            else:
                np.multiply(v, self.learning_rate, out=tmp)
        value -= tmp

    def get_config(self) -> dict[str, Any]:
        return {
            "learning_rate": self.learning_rate,
            "momentum": self.momentum,
            "nesterov": self.nesterov,
            "momentum_form": self.momentum_form,
        }


class Adam(Optimizer):
    """Adam (Kingma & Ba) with bias correction, as ``torch.optim.Adam``.

    ``m = b1 m + (1-b1) g``; ``v = b2 v + (1-b2) g^2``;
    ``p -= lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps)``.
    """

    name = "adam"
    state_keys = ("m", "v")

    def __init__(
        self,
        learning_rate: float = 0.001,
        beta_1: float = 0.9,
        beta_2: float = 0.999,
        epsilon: float = 1e-8,
    ):
        super().__init__(learning_rate)
        self.beta_1 = check_interval(beta_1, "beta_1", "Adam", 0.0, 1.0)
        self.beta_2 = check_interval(beta_2, "beta_2", "Adam", 0.0, 1.0)
        self.epsilon = check_positive_float(epsilon, "epsilon", "Adam")

    def _begin_step(self) -> None:
        t = self.iterations
        bias_correction2_sqrt = math.sqrt(1.0 - self.beta_2**t)
        # lr / bc1 * m / (sqrt(v) / sqrt(bc2) + eps) = c * m / (sqrt(v) + eps * sqrt(bc2)):
        # the bias corrections fold into two Python floats, one pass less over the buffers
        self._eps_t = self.epsilon * bias_correction2_sqrt
        self._step_t = self.learning_rate * bias_correction2_sqrt / (1.0 - self.beta_1**t)

    def _update(self, value: np.ndarray, grad: np.ndarray, state: dict) -> None:
        m, v, tmp = state["m"], state["v"], state["_tmp"]
        b1, b2 = self.beta_1, self.beta_2
        m *= b1
        np.multiply(grad, 1.0 - b1, out=tmp)
        m += tmp
        v *= b2
        np.multiply(grad, grad, out=tmp)
        tmp *= 1.0 - b2
        v += tmp
        np.sqrt(v, out=tmp)
        tmp += self._eps_t
        np.divide(m, tmp, out=tmp)
        tmp *= self._step_t
        value -= tmp

    def get_config(self) -> dict[str, Any]:
        return {
            "learning_rate": self.learning_rate,
            "beta_1": self.beta_1,
            "beta_2": self.beta_2,
            "epsilon": self.epsilon,
        }


class RMSprop(Optimizer):
    """RMSprop as ``torch.optim.RMSprop`` (``rho`` is torch's ``alpha``).

    ``s = rho s + (1 - rho) g^2``; ``p -= lr * g / (sqrt(s) + eps)``; with momentum ``mu``:
    ``b = mu b + g / (sqrt(s) + eps)``; ``p -= lr * b``.
    """

    name = "rmsprop"

    def __init__(
        self,
        learning_rate: float = 0.01,
        rho: float = 0.99,
        epsilon: float = 1e-8,
        momentum: float = 0.0,
    ):
        super().__init__(learning_rate)
        self.rho = check_interval(rho, "rho", "RMSprop", 0.0, 1.0)
        self.epsilon = check_positive_float(epsilon, "epsilon", "RMSprop")
        self.momentum = check_interval(momentum, "momentum", "RMSprop", 0.0, 1.0)
        self.state_keys = ("square_avg", "momentum_buffer") if self.momentum else ("square_avg",)

    def _update(self, value: np.ndarray, grad: np.ndarray, state: dict) -> None:
        s, tmp = state["square_avg"], state["_tmp"]
        s *= self.rho
        np.multiply(grad, grad, out=tmp)
        tmp *= 1.0 - self.rho
        s += tmp
        np.sqrt(s, out=tmp)
        tmp += self.epsilon
        np.divide(grad, tmp, out=tmp)
        if self.momentum:
            b = state["momentum_buffer"]
            b *= self.momentum
            b += tmp
            np.multiply(b, self.learning_rate, out=tmp)
        else:
            tmp *= self.learning_rate
        value -= tmp

    def get_config(self) -> dict[str, Any]:
        return {
            "learning_rate": self.learning_rate,
            "rho": self.rho,
            "epsilon": self.epsilon,
            "momentum": self.momentum,
        }


class Adagrad(Optimizer):
    """Adagrad as ``torch.optim.Adagrad``.

    ``s += g^2``; ``p -= lr / (1 + (t - 1) * lr_decay) * g / (sqrt(s) + eps)``.
    """

    name = "adagrad"
    state_keys = ("sum",)

    def __init__(
        self,
        learning_rate: float = 0.01,
        lr_decay: float = 0.0,
        initial_accumulator_value: float = 0.0,
        epsilon: float = 1e-10,
    ):
        super().__init__(learning_rate)
        self.lr_decay = check_nonnegative_float(lr_decay, "lr_decay", "Adagrad")
        self.initial_accumulator_value = check_nonnegative_float(
            initial_accumulator_value, "initial_accumulator_value", "Adagrad"
        )
        self.epsilon = check_positive_float(epsilon, "epsilon", "Adagrad")

    def build(self, parameters: Iterable[Parameter] | dict[str, Parameter]) -> None:
        super().build(parameters)
        for state in self._state:
            state["sum"].fill(self.initial_accumulator_value)

    def _update(self, value: np.ndarray, grad: np.ndarray, state: dict) -> None:
        s, tmp = state["sum"], state["_tmp"]
        np.multiply(grad, grad, out=tmp)
        s += tmp
        clr = self.learning_rate / (1.0 + (self.iterations - 1) * self.lr_decay)
        np.sqrt(s, out=tmp)
        tmp += self.epsilon
        np.divide(grad, tmp, out=tmp)
        tmp *= clr
        value -= tmp

    def get_config(self) -> dict[str, Any]:
        return {
            "learning_rate": self.learning_rate,
            "lr_decay": self.lr_decay,
            "initial_accumulator_value": self.initial_accumulator_value,
            "epsilon": self.epsilon,
        }


OPTIMIZERS: dict[str, type[Optimizer]] = {
    "sgd": SGD,
    "adam": Adam,
    "rmsprop": RMSprop,
    "adagrad": Adagrad,
}


def get(spec: str | dict | Optimizer, **kwargs: Any) -> Optimizer:
    """An optimizer from its name (``"adam"``) and keyword hyper-parameters, or an instance."""
    if isinstance(spec, Optimizer):
        return spec
    if isinstance(spec, str) and spec.lower() in OPTIMIZERS:
        return OPTIMIZERS[spec.lower()](**kwargs)
    options = ", ".join(sorted(OPTIMIZERS))
    raise NablanetError(f"Unknown optimizer {spec!r}; choose one of: {options}.")
