"""The execution plan of a ``Sequential`` model: which layers run together, decided once.

Layer by layer is always correct, but some neighbours compute faster together: a ReLU
convolution followed by a 2x2 max pooling runs as one pass, and softmax (sigmoid) followed by
cross-entropy becomes one loss on the logits whose gradient is ``(p - y) / n``. The model knows
no concrete layer: the layers and the losses *offer* these fusions through two hooks,

- ``Layer.fuse_with_next(next_layer) -> Step | None``: a :class:`Step` that runs this layer and
  the following one(s) (its ``layers``, starting with this one) faster together, or None;
- ``Layer.fuse_with_loss(loss) -> OutputStep | None``: for the model's last layer, an
  :class:`OutputStep` computing the loss, its gradient and the outputs together, usually from
  ``loss.fused_with(activation)`` (the loss taking that activation's pre-activations), or None.

:func:`build_plan` asks them once, from the first layer to the last (a fused step covers its
layers, the next question goes to the layer after them), and the model keeps the plan until a
layer is added, the model is compiled again, or its list of layers or its loss changes. Every
step computes exactly what its layers compute one by one (``tests/nn/test_plan.py``).

>>> import nablanet as nb
>>> model = nb.Sequential(
...     [
...         nb.Conv2D(1, 4, 3, padding="same", activation="relu"),
...         nb.MaxPool2D(2),
...         nb.Flatten(),
...         nb.Dense(4 * 4 * 4, 3, activation="softmax"),
...     ]
... )
>>> model.compile("categorical_crossentropy", "adam")
>>> model.plan
ExecutionPlan(conv_relu_maxpool[Conv2D, MaxPool2D], layer[Flatten], layer[Dense]; training: ..., logits_loss[Dense] with SoftmaxCrossentropy)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from .errors import NablanetError

if TYPE_CHECKING:  # pragma: no cover
    import numpy as np

    from .layers.base import Layer
    from .losses import Loss


class Step:
    """One step of a plan: ``layers`` (consecutive layers of the model) run as one unit.

    ``forward`` must return what the layers' own ``forward`` calls would, and ``backward`` the
    gradient their ``backward`` calls would (None once no input gradient is needed).
    """

    #: a short name of what the step does, e.g. ``"layer"`` or ``"conv_relu_maxpool"``
    kind: str = "step"

    def __init__(self, *layers: Layer):
        self.layers = tuple(layers)

    def forward(self, x: np.ndarray, training: bool = False) -> np.ndarray:
        raise NotImplementedError

    def backward(self, grad: np.ndarray) -> np.ndarray | None:
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"{self.kind}[{', '.join(type(layer).__name__ for layer in self.layers)}]"


class LayerStep(Step):
    """One layer on its own: its ``forward`` and ``backward``."""

    kind = "layer"

    def __init__(self, layer: Layer):
        super().__init__(layer)
        self.layer = layer

    # looked up on every call, not bound once: a method replaced on the layer takes effect
    def forward(self, x: np.ndarray, training: bool = False) -> np.ndarray:
        return self.layer.forward(x, training)

    def backward(self, grad: np.ndarray) -> np.ndarray | None:
        return self.layer.backward(grad)


class OutputStep:
    """The model's last ``layers`` (possibly none) together with the loss.

    ``train(h, y, sample_weight=None)`` takes the input ``h`` of those layers and returns
    ``(loss, dL/dh or None, outputs)`` (with ``sample_weight``, of shape (n,), each sample's loss
    and gradient weighted: :meth:`~nablanet.nn.losses.Loss.weighted_loss_gradient_output`);
    ``evaluate(h, y)`` returns ``(loss, outputs)`` without training. ``loss`` is the loss object
    it computes (a fused one where the step fuses).
    """

    kind: str = "output"
    layers: tuple[Layer, ...] = ()
    loss: Loss

    def train(
        self, h: np.ndarray, y: np.ndarray, sample_weight: np.ndarray | None = None
    ) -> tuple[float, np.ndarray | None, np.ndarray]:
        raise NotImplementedError

    def evaluate(self, h: np.ndarray, y: np.ndarray) -> tuple[float, np.ndarray]:
        raise NotImplementedError

    def __repr__(self) -> str:
        names = ", ".join(type(layer).__name__ for layer in self.layers)
        return f"{self.kind}[{names}] with {type(self.loss).__name__}"


class LossStep(OutputStep):
    """The loss alone, on the model's outputs (no fusion)."""

    kind = "loss"

    def __init__(self, loss: Loss):
        self.loss = loss

    def train(
        self, h: np.ndarray, y: np.ndarray, sample_weight: np.ndarray | None = None
    ) -> tuple[float, np.ndarray, np.ndarray]:
        if sample_weight is not None:
            return self.loss.weighted_loss_gradient_output(y, h, sample_weight)
        loss, grad = self.loss.loss_and_gradient(y_true=y, y_pred=h)
        return loss, grad, h

    def evaluate(self, h: np.ndarray, y: np.ndarray) -> tuple[float, np.ndarray]:
        return self.loss.loss(y_true=y, y_pred=h), h


class ActivationLossStep(OutputStep):
    """An output activation layer and the loss as one loss on its input (the logits):
    ``Activation.fuse_with_loss`` offers it. The activation itself never runs in training."""

    kind = "activation_loss"

    def __init__(self, activation: Layer, fused_loss: Loss):
        self.layers = (activation,)
        self.loss: Any = fused_loss  # a fused loss: has loss_gradient_output

    def train(
        self, h: np.ndarray, y: np.ndarray, sample_weight: np.ndarray | None = None
    ) -> tuple[float, np.ndarray, np.ndarray]:
        if sample_weight is not None:
            return self.loss.weighted_loss_gradient_output(y, h, sample_weight)
        return self.loss.loss_gradient_output(y_true=y, y_pred=h)

    def evaluate(self, h: np.ndarray, y: np.ndarray) -> tuple[float, np.ndarray]:
        loss, _, out = self.loss.loss_gradient_output(y_true=y, y_pred=h)
        return loss, out


class LogitsLossStep(OutputStep):
    """A layer with its own output activation (``Dense(..., "softmax")``) and the loss as one
    loss on the layer's pre-activation: the layer's ``forward_linear`` / ``backward_linear``
    and the fused loss. ``Dense.fuse_with_loss`` and ``Conv2D.fuse_with_loss`` offer it."""

    kind = "logits_loss"

    def __init__(self, layer: Layer, fused_loss: Loss):
        self.layers = (layer,)
        self.layer: Any = layer  # has forward_linear / backward_linear
        self.loss: Any = fused_loss  # a fused loss: has loss_gradient_output

    def train(
        self, h: np.ndarray, y: np.ndarray, sample_weight: np.ndarray | None = None
    ) -> tuple[float, np.ndarray, np.ndarray]:
        z = self.layer.forward_linear(h, True)
        if sample_weight is not None:
            loss, grad, out = self.loss.weighted_loss_gradient_output(y, z, sample_weight)
        else:
            loss, grad, out = self.loss.loss_gradient_output(y_true=y, y_pred=z)
        return loss, self.layer.backward_linear(grad), out

    def evaluate(self, h: np.ndarray, y: np.ndarray) -> tuple[float, np.ndarray]:
        z = self.layer.forward_linear(h, False)
        loss, _, out = self.loss.loss_gradient_output(y_true=y, y_pred=z)
        return loss, out


def runs_own_methods(obj: Any, cls: type, names: Sequence[str] = ("forward", "backward")) -> bool:
    """Whether ``obj`` is a ``cls`` whose class keeps ``cls``'s own ``names`` methods.

    A fusion replaces these methods by a faster equivalent; a subclass that redefines one of them
    computes something else, so it is not fused (unless it offers its own fused step), while a
    subclass that only changes, e.g., its defaults keeps the fast path.

    >>> class Base:
    ...     def forward(self): ...
    >>> class Same(Base): ...
    >>> class Other(Base):
    ...     def forward(self): ...
    >>> runs_own_methods(Same(), Base, ["forward"]), runs_own_methods(Other(), Base, ["forward"])
    (True, False)
    """
    return isinstance(obj, cls) and all(
        getattr(type(obj), name) is getattr(cls, name) for name in names
    )


class ExecutionPlan:
    """The steps a model runs: ``steps`` for inference (all layers), ``body`` + ``output`` for
    training and evaluation (``output`` covers the last layers fused with the loss, if any, and
    is None before the model has a loss)."""

    def __init__(
        self,
        layers: Sequence[Layer],
        loss: Loss | None,
        steps: tuple[Step, ...],
        body: tuple[Step, ...],
        output: OutputStep | None,
    ):
        self.layers = tuple(layers)
        self.source_loss = loss
        self.steps = steps
        self.body = body
        self.output = output

    def is_for(self, layers: Sequence[Layer], loss: Loss | None) -> bool:
        """Whether the plan was built for exactly these layer objects and this loss."""
        return (
            loss is self.source_loss
            and len(layers) == len(self.layers)
            and all(a is b for a, b in zip(layers, self.layers))
        )

    @staticmethod
    def _forward(steps: Sequence[Step], x: np.ndarray, training: bool) -> np.ndarray:
        for step in steps:
            x = step.forward(x, training)
        return x

    @staticmethod
    def _backward(steps: Sequence[Step], grad: np.ndarray | None) -> np.ndarray | None:
        for step in reversed(steps):
            if grad is None:  # a step whose layers need no input gradient (the first ones)
                break
            grad = step.backward(grad)
        return grad

    def forward(self, x: np.ndarray, training: bool = False) -> np.ndarray:
        return self._forward(self.steps, x, training)

    def backward(self, grad: np.ndarray) -> np.ndarray | None:
        return self._backward(self.steps, grad)

    def _require_output(self) -> OutputStep:
        if self.output is None:
            raise NablanetError(
                "The model must be compiled before training or evaluation: "
                "call model.compile(loss=..., optimizer=...)"
            )
        return self.output

    def train_step(
        self, x: np.ndarray, y: np.ndarray, sample_weight: np.ndarray | None = None
    ) -> tuple[float, np.ndarray]:
        """Forward, loss and backward of one batch: ``(data_loss, outputs)`` (the loss
        weighted per sample when ``sample_weight`` is given)."""
        output = self._require_output()
        h = self._forward(self.body, x, True)
        if sample_weight is None:
            loss, grad, out = output.train(h, y)
        else:
            loss, grad, out = output.train(h, y, sample_weight)
        if grad is not None:
            self._backward(self.body, grad)
        return loss, out

    def loss_on_batch(self, x: np.ndarray, y: np.ndarray) -> tuple[float, np.ndarray]:
        """``(data_loss, outputs)`` without training."""
        return self._require_output().evaluate(self._forward(self.body, x, False), y)

    def __repr__(self) -> str:
        steps = ", ".join(map(repr, self.steps))
        if self.output is None:
            return f"ExecutionPlan({steps})"
        body = ", ".join(map(repr, self.body))
        training = f"{body}, {self.output!r}" if body else repr(self.output)
        return f"ExecutionPlan({steps}; training: {training})"


def _is_run(part: Sequence[Layer], layers: Sequence[Layer], start: int) -> bool:
    """Whether ``part`` is the non-empty run ``layers[start : start + len(part)]``."""
    return (
        0 < len(part) <= len(layers) - start
        and start >= 0
        and all(a is b for a, b in zip(part, layers[start:]))
    )


def _fused_steps(layers: Sequence[Layer], fuse: bool) -> tuple[Step, ...]:
    steps: list[Step] = []
    i = 0
    while i < len(layers):
        step = layers[i].fuse_with_next(layers[i + 1]) if fuse and i + 1 < len(layers) else None
        if step is None:
            step = LayerStep(layers[i])
        elif not _is_run(step.layers, layers, i):
            raise NablanetError(
                f"{type(layers[i]).__name__}.fuse_with_next returned a step over "
                f"{list(step.layers)}, not over layers {i}, {i + 1}, ... of the model"
            )
        steps.append(step)
        i += len(step.layers)
    return tuple(steps)


def build_plan(
    layers: Sequence[Layer],
    loss: Loss | None = None,
    fuse_layers: bool = True,
    fuse_loss: bool = True,
) -> ExecutionPlan:
    """The plan for ``layers`` (and ``loss``): the fusions the layers and the loss offer.

    ``fuse_layers=False`` runs every layer on its own, ``fuse_loss=False`` applies the loss to
    the model's outputs (both False: the plain layer-by-layer computation, for comparisons).
    """
    layers = list(layers)
    output: OutputStep | None = None
    if loss is not None:
        if fuse_loss and layers:
            output = layers[-1].fuse_with_loss(loss)
            if output is not None and not _is_run(
                output.layers, layers, len(layers) - len(output.layers)
            ):
                raise NablanetError(
                    f"{type(layers[-1]).__name__}.fuse_with_loss returned a step over "
                    f"{list(output.layers)}, not over the model's last layers"
                )
        if output is None:
            output = LossStep(loss)
    steps = _fused_steps(layers, fuse_layers)
    n_out = len(output.layers) if output is not None else 0
    body = _fused_steps(layers[: len(layers) - n_out], fuse_layers) if n_out else steps
    return ExecutionPlan(layers, loss, steps, body, output)
