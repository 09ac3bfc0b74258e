"""The ``Layer`` base class and the registry that rebuilds layers from their config."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from ..errors import NablanetError
from ..parameter import Parameter

if TYPE_CHECKING:  # pragma: no cover
    from ..losses import Loss
    from ..plan import OutputStep, Step

LAYER_REGISTRY: dict[str, type[Layer]] = {}


class Layer:
    """Base class of every layer.

    A layer maps a batch ``x`` to ``y = forward(x, training)`` and, given ``dL/dy``, returns
    ``dL/dx = backward(grad)`` while *adding* ``dL/dp`` into each parameter's ``.grad``.
    ``backward`` uses what the last ``forward(..., training=True)`` cached.

    Subclasses register themselves by class name, so ``layer_from_config`` can rebuild them; the
    ``__init__`` arguments, the attributes and the ``get_config()`` keys share one name.

    >>> from nablanet.nn.layers import Dense
    >>> layer = Dense(3, 2, seed=0)
    >>> isinstance(layer, Layer), sorted(layer.state_dict()), layer.compute_output_shape((3,))
    (True, ['biases', 'weights'], (2,))
    >>> clone = layer_from_config(serialize_layer(layer))    # same config, fresh weights
    >>> clone.load_state_dict(layer.state_dict())             # names and shapes checked
    >>> bool((clone.weights.value == layer.weights.value).all()), clone.count_params()
    (True, 8)
    """

    #: names of non-trainable arrays saved with the model (e.g. batch-norm running statistics)
    buffer_names: ClassVar[tuple[str, ...]] = ()

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        LAYER_REGISTRY[cls.__name__] = cls

    # -- computation -------------------------------------------------------------------------
    def forward(self, x: np.ndarray, training: bool = False) -> np.ndarray:
        raise NotImplementedError(f"{type(self).__name__} does not implement forward")

    def backward(self, grad: np.ndarray) -> np.ndarray | None:
        # None: the layers below need no input gradient (a first layer may skip computing it)
        raise NotImplementedError(f"{type(self).__name__} does not implement backward")

    def __call__(self, x: np.ndarray, training: bool = False) -> np.ndarray:
        return self.forward(x, training=training)

    # -- fusion hooks (nn/plan.py asks them once, when a model builds its execution plan) -----
    def fuse_with_next(self, next_layer: Layer) -> Step | None:
        """A :class:`~nablanet.nn.plan.Step` running this layer and ``next_layer`` (and maybe
        more) faster together, computing exactly what they compute one by one; None (the
        default) runs this layer on its own."""
        return None

    def fuse_with_loss(self, loss: Loss) -> OutputStep | None:
        """For a model's last layer: a :class:`~nablanet.nn.plan.OutputStep` computing this
        layer, ``loss`` and its gradient together (e.g. softmax + cross-entropy on the logits);
        None (the default) applies the loss to this layer's output."""
        return None

    # -- parameters and state ----------------------------------------------------------------
    def parameters(self) -> list[Parameter]:
        """The trainable parameters, in a fixed order."""
        return [v for v in vars(self).values() if isinstance(v, Parameter)]

    def named_parameters(self) -> dict[str, Parameter]:
        return {p.name: p for p in self.parameters()}

    def buffers(self) -> dict[str, np.ndarray]:
        return {name: getattr(self, name) for name in self.buffer_names}

    def regularization_loss(self) -> float:
        """Sum of the weight penalties of this layer (0 when it has none)."""
        return 0.0

    def zero_grad(self) -> None:
        for p in self.parameters():
            p.grad.fill(0)

    def get_weights(self) -> list[np.ndarray]:
        """Keras' ``get_weights()``: copies of the parameters and buffers, in the order of
        :meth:`state_dict` (for ``Dense``: ``[weights, biases]``)."""
        return list(self.state_dict().values())

    def set_weights(self, weights: Any) -> None:
        """Keras' ``set_weights(arrays)``: the arrays of :meth:`get_weights`, in its order and
        shapes, copied in place."""
        self.load_state_dict(weights_by_name(type(self).__name__, self.state_dict(), weights))

    def state_dict(self) -> dict[str, np.ndarray]:
        """Copies of the parameters and buffers, by name."""
        state = {name: p.value.copy() for name, p in self.named_parameters().items()}
        state.update({name: np.array(b, copy=True) for name, b in self.buffers().items()})
        return state

    def load_state_dict(
        self, state: dict[str, np.ndarray], strict: bool = True, prefix: str = ""
    ) -> None:
        """Copy arrays into the parameters and buffers in place.

        With ``strict`` every name must be present on both sides with the same shape.
        """
        own = {**{n: p.value for n, p in self.named_parameters().items()}, **self.buffers()}
        if strict:
            missing = sorted(set(own) - set(state))
            unexpected = sorted(set(state) - set(own))
            if missing or unexpected:
                parts = []
                if missing:
                    parts.append("missing " + ", ".join(f"`{prefix}{m}`" for m in missing))
                if unexpected:
                    parts.append("unexpected " + ", ".join(f"`{prefix}{u}`" for u in unexpected))
                raise NablanetError("state dict does not match the model: " + "; ".join(parts))
        for name, target in own.items():
            if name not in state:
                continue
            source = np.asarray(state[name])
            if source.shape != target.shape:
                raise NablanetError(
                    f"shape mismatch for `{prefix}{name}`: file has {source.shape}, "
                    f"model has {target.shape}"
                )
            target[...] = source

    # -- deferred build ----------------------------------------------------------------------
    @property
    def built(self) -> bool:
        """Whether the layer's parameters exist. A layer created without its input size
        (``Dense(32)``, ``Conv2D(filters=32, kernel_size=3)``) is built on first use, by
        :meth:`build` (``Sequential.build``, ``fit``, ``predict`` ... call it)."""
        return True

    def build(self, input_shape: tuple) -> None:
        """Create the parameters for inputs of ``input_shape`` (batch axis excluded); a no-op
        for a layer that is built already or has no parameters."""
        return None

    # -- shapes ------------------------------------------------------------------------------
    def compute_output_shape(self, input_shape: tuple) -> tuple:
        """Output shape for an input of ``input_shape`` (batch axis excluded)."""
        return tuple(input_shape)

    def count_params(self) -> int:
        return sum(p.size for p in self.parameters())

    # -- config ------------------------------------------------------------------------------
    def get_config(self) -> dict[str, Any]:
        """Constructor arguments as plain JSON-able values: ``type(self)(**config)`` rebuilds it."""
        return {}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Layer:
        return cls(**config)

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"


def serialize_layer(layer: Layer) -> dict[str, Any]:
    return {"class_name": type(layer).__name__, "config": layer.get_config()}


def layer_from_config(spec: dict[str, Any]) -> Layer:
    """Rebuild a layer from ``{"class_name": ..., "config": {...}}``."""
    name = spec.get("class_name") if isinstance(spec, dict) else None
    if name not in LAYER_REGISTRY:
        known = ", ".join(sorted(LAYER_REGISTRY))
        raise NablanetError(f"Unknown layer class {name!r}; known layers: {known}.")
    return LAYER_REGISTRY[name].from_config(dict(spec.get("config", {})))


def weights_by_name(
    owner: str, state: dict[str, np.ndarray], weights: Any
) -> dict[str, np.ndarray]:
    """``set_weights``' list of arrays as a state dict: as many arrays as ``state`` holds, each
    of its shape, in its order (one-line errors naming the array)."""
    weights = list(weights)
    if len(weights) != len(state):
        raise NablanetError(
            f"{owner}.set_weights expects {len(state)} arrays (in the order of get_weights()), "
            f"got {len(weights)}"
        )
    named = {}
    for i, ((name, current), array) in enumerate(zip(state.items(), weights)):
        array = np.asarray(array)
        if array.shape != current.shape:
            raise NablanetError(
                f"{owner}.set_weights: array {i} ({name}) must have shape {current.shape}, "
                f"got {array.shape}"
            )
        named[name] = array
    return named
