"""The ``Sequential`` model."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np

from . import losses as losses_mod
from . import optimizers as optimizers_mod
from ._validation import NablanetError
from .layers.activations import Activation, ReLU
from .layers.base import Layer, layer_from_config, serialize_layer
from .layers.conv import Conv2D
from .layers.pooling import MaxPool2D
from .parameter import Parameter, flatten_parameters

REGRESSION_LOSSES = (losses_mod.MeanSquaredError, losses_mod.MeanAbsoluteError)
CLASSIFICATION_METRICS = ("accuracy",)
REGRESSION_METRICS = ("mae", "mse")


class Sequential:
    """A stack of layers applied in order.

    Parameters
    ----------
    layers : list of Layer, optional
    name : str

    >>> import nablanet as nb
    >>> nb.set_seed(0)
    >>> model = nb.Sequential([nb.Dense(2, 8, activation="tanh"), nb.Dense(8, 1, "sigmoid")])
    >>> model.compile(loss="binary_crossentropy", optimizer=nb.Adam(0.05))
    >>> x = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float32)
    >>> y = np.array([0, 1, 1, 0])
    >>> history = model.fit(x, y, epochs=300, batch_size=4, verbose=0)
    >>> (model.predict(x)[:, 0] > 0.5).astype(int).tolist()
    [0, 1, 1, 0]
    """

    def __init__(self, layers: Iterable[Layer] | None = None, name: str = "sequential"):
        self.name = name
        self.layers: list[Layer] = []
        self.loss: losses_mod.Loss | None = None
        self.optimizer: optimizers_mod.Optimizer | None = None
        self.metrics: list[str] = []
        self.metadata: dict[str, Any] = {}
        self.stop_training = False
        self._fused: losses_mod.Loss | None = None
        self._fused_kind: str | None = None  # "layer" (an Activation layer) or "inner"
        self._compiled = False
        for layer in layers or []:
            self.add(layer)

    # -- building ----------------------------------------------------------------------------
    def add(self, layer: Layer) -> None:
        if not isinstance(layer, Layer):
            raise NablanetError(f"Sequential.add expects a Layer, got {type(layer).__name__}")
        self.layers.append(layer)
        self._compiled = False

    @property
    def dtype(self) -> np.dtype:
        for layer in self.layers:  # the first parameter's (without listing them all)
            for p in layer.parameters():
                return p.dtype
        return np.dtype(np.float32)

    def parameters(self) -> list[Parameter]:
        return [p for layer in self.layers for p in layer.parameters()]

    def named_parameters(self) -> dict[str, Parameter]:
        return {
            f"layers.{i}.{name}": p
            for i, layer in enumerate(self.layers)
            for name, p in layer.named_parameters().items()
        }

    def count_params(self) -> int:
        return sum(p.size for p in self.parameters())

    def compile(
        self,
        loss="categorical_crossentropy",
        optimizer="adam",
        metrics: Iterable[str] | None = None,
    ) -> None:
        """Choose the loss, the optimizer and the metrics logged during training.

        A model that ends in softmax (sigmoid) compiled with categorical (binary) cross-entropy
        trains through the fused loss on the logits. ``metrics`` defaults to ``["accuracy"]``
        for classification losses and ``["mae"]`` for regression losses.
        """
        if not self.layers:
            raise NablanetError("Cannot compile an empty Sequential model: add layers first")
        self.loss = losses_mod.get(loss)
        self.optimizer = optimizers_mod.get(optimizer)
        regression = isinstance(self.loss, REGRESSION_LOSSES)
        if metrics is None:
            metrics = REGRESSION_METRICS[:1] if regression else CLASSIFICATION_METRICS
        metrics = list(metrics)
        known = CLASSIFICATION_METRICS + REGRESSION_METRICS
        for m in metrics:
            if m not in known:
                raise NablanetError(f"Unknown training metric {m!r}; choose from {known}")
            if m == "accuracy" and regression:
                raise NablanetError(
                    f"metric 'accuracy' needs a classification loss, not {type(self.loss).__name__}"
                )
        self.metrics = metrics
        self._setup_fused()
        dtypes = {p.dtype for p in self.parameters()}
        if len(dtypes) > 1:
            raise NablanetError(f"all layers must share one dtype, got {sorted(map(str, dtypes))}")
        # one contiguous buffer for all parameters and one for their gradients
        flatten_parameters(self.parameters())
        self.optimizer.build(self.named_parameters())
        for i, layer in enumerate(self.layers):
            if hasattr(layer, "input_grad"):
                layer.input_grad = i > 0
        self._compiled = True

    def _setup_fused(self) -> None:
        self._fused, self._fused_kind = None, None
        if self.loss.fuses_with is None:
            return
        act_name, fused_cls = self.loss.fuses_with
        last = self.layers[-1]
        if isinstance(last, Activation) and last.name == act_name and len(self.layers) > 1:
            self._fused, self._fused_kind = fused_cls(), "layer"
        elif getattr(getattr(last, "activation", None), "name", None) == act_name and hasattr(
            last, "forward_linear"
        ):
            self._fused, self._fused_kind = fused_cls(), "inner"

    def compile_config(self) -> dict | None:
        if self.loss is None:
            return None
        return {
            "loss": type(self.loss).__name__,
            "optimizer": {
                "class_name": type(self.optimizer).__name__,
                "config": self.optimizer.get_config(),
            },
            "metrics": list(self.metrics),
        }

    def compile_from_config(self, config: dict) -> None:
        loss_cls = {cls.__name__: cls for cls in losses_mod.LOSSES.values()}[config["loss"]]
        opt_cls = {cls.__name__: cls for cls in optimizers_mod.OPTIMIZERS.values()}[
            config["optimizer"]["class_name"]
        ]
        self.compile(
            loss=loss_cls(),
            optimizer=opt_cls.from_config(config["optimizer"]["config"]),
            metrics=config.get("metrics"),
        )

    def _require_compiled(self) -> None:
        if not self._compiled:
            raise NablanetError(
                "The model must be compiled before training or evaluation: "
                "call model.compile(loss=..., optimizer=...)"
            )

    # -- computation ------------------------------------------------------------------------
    def _as_input(self, x) -> np.ndarray:
        x = np.asarray(x)
        if x.dtype != self.dtype:
            if x.dtype.kind not in "biuf":
                raise NablanetError(f"model input must be numeric, got dtype {x.dtype}")
            x = x.astype(self.dtype)
        if x.ndim == 0:
            raise NablanetError(f"model input must have a batch axis, got shape {x.shape}")
        return x

    def _relu_pools(self, stop: int) -> tuple[int, ...]:
        """Indices ``i < stop - 1`` of ``Conv2D(activation="relu")`` layers followed by a
        ``MaxPool2D``: their ReLU runs after the pooling, on 4 x fewer numbers (same values and
        gradients, see ``MaxPool2D.forward_relu``)."""
        layers = self.layers
        return tuple(
            i
            for i in range(stop - 1)
            if type(layers[i + 1]) is MaxPool2D
            and type(layers[i]) is Conv2D
            and type(layers[i].activation) is ReLU
        )

    def _forward_layers(self, h: np.ndarray, stop: int, training: bool) -> np.ndarray:
        """Layers ``0 .. stop - 1`` forward."""
        layers = self.layers
        fused = self._relu_pools(stop)
        if not fused:
            for i in range(stop):
                h = layers[i].forward(h, training)
            return h
        i = 0
        while i < stop:
            if i in fused:
                conv, pool = layers[i], layers[i + 1]
                if conv.fuses_relu_maxpool(pool):
                    h = conv.forward_relu_maxpool(h, training)
                else:
                    h = pool.forward_relu(conv.forward_linear(h, training), training)
                i += 2
            else:
                h = layers[i].forward(h, training)
                i += 1
        return h

    def _backward_layers(self, grad: np.ndarray, stop: int) -> np.ndarray | None:
        """Layers ``stop - 1 .. 0`` backward (None once a layer needs no input gradient)."""
        layers = self.layers
        fused = self._relu_pools(stop)
        i = stop - 1
        while i >= 0 and grad is not None:
            if i - 1 in fused:
                conv = layers[i - 1]
                if conv._pooled is not None:
                    grad = conv.backward_relu_maxpool(grad)
                else:
                    grad = conv.backward_linear(layers[i].backward_relu(grad))
                i -= 2
            else:
                grad = layers[i].backward(grad)
                i -= 1
        return grad

    def forward(self, x: np.ndarray, training: bool = False) -> np.ndarray:
        """Apply every layer: ``(n_samples, ...) -> (n_samples, n_outputs)``."""
        return self._forward_layers(x, len(self.layers), training)

    __call__ = forward

    def backward(self, grad: np.ndarray) -> np.ndarray | None:
        return self._backward_layers(grad, len(self.layers))

    def train_step(self, x: np.ndarray, y: np.ndarray) -> tuple[float, np.ndarray]:
        """Forward, loss, backward for one batch; returns ``(data_loss, outputs)``.

        The caller zeroes the gradients before and steps the optimizer after.
        """
        layers = self.layers
        if self._fused is None:
            out = self.forward(x, training=True)
            loss, grad = self.loss.loss_and_gradient(out, y)
            self.backward(grad)
            return loss, out
        h = self._forward_layers(x, len(layers) - 1, True)
        last = layers[-1]
        z = h if self._fused_kind == "layer" else last.forward_linear(h, True)
        loss, grad, out = self._fused.loss_gradient_output(z, y)
        if self._fused_kind == "inner":
            grad = last.backward_linear(grad)
        if grad is not None:
            self._backward_layers(grad, len(layers) - 1)
        return loss, out

    def loss_on_batch(self, x: np.ndarray, y: np.ndarray) -> tuple[float, np.ndarray]:
        """``(data_loss, outputs)`` without training (dropout off, nothing cached)."""
        if self._fused is None:
            out = self.forward(x, training=False)
            return self.loss.loss(out, y), out
        h = self._forward_layers(x, len(self.layers) - 1, False)
        last = self.layers[-1]
        z = h if self._fused_kind == "layer" else last.forward_linear(h, False)
        loss, _, out = self._fused.loss_gradient_output(z, y)
        return loss, out

    def regularization_loss(self) -> float:
        return sum(layer.regularization_loss() for layer in self.layers)

    # -- training API -----------------------------------------------------------------------
    def fit(
        self,
        x,
        y,
        epochs: int = 1,
        batch_size: int = 32,
        validation_data=None,
        validation_split: float = 0.0,
        shuffle: bool = True,
        callbacks=None,
        scheduler=None,
        verbose: int = 1,
        initial_epoch: int = 0,
        resume_from: str | Path | None = None,
        seed: int | None = None,
    ):
        """Train the model; returns the :class:`~nablanet.nn.callbacks.History`.

        Parameters
        ----------
        x : ndarray of shape (n_samples, ...)
        y : ndarray of shape (n_samples,) integer labels, (n_samples, k) one-hot or targets
        validation_data : (x_val, y_val), optional
        validation_split : float
            Fraction of the *last* samples of ``x``/``y`` held out for validation.
        scheduler : Scheduler, optional
            Sets the learning rate at the start of every epoch (before every step for a
            per-step scheduler such as :class:`~nablanet.nn.schedulers.InverseTimeDecay`).
        resume_from : path, optional
            A checkpoint written by :class:`ModelCheckpoint` (``full_state=True``) or the
            pipeline; training continues exactly where it stopped.
        """
        from .trainer import Trainer

        self._require_compiled()
        trainer = Trainer(
            self,
            batch_size=batch_size,
            shuffle=shuffle,
            callbacks=callbacks,
            scheduler=scheduler,
            verbose=verbose,
            seed=seed,
        )
        return trainer.fit(
            x,
            y,
            epochs=epochs,
            validation_data=validation_data,
            validation_split=validation_split,
            initial_epoch=initial_epoch,
            resume_from=resume_from,
        )

    def evaluate(self, x, y, batch_size: int = 1024) -> dict[str, float]:
        """Loss (with weight penalties) and metrics over ``(x, y)``, without training."""
        from .trainer import evaluate_model

        self._require_compiled()
        return evaluate_model(self, x, y, batch_size=batch_size)

    def predict(self, x, batch_size: int | None = None) -> np.ndarray:
        """Outputs for ``x`` (probabilities for a softmax/sigmoid model), in batches.

        ``batch_size=None`` runs up to 4096 samples per forward pass.
        """
        x = self._as_input(x)
        n = x.shape[0]
        step = batch_size or 4096
        if n <= step:
            return self.forward(x, training=False)
        parts = [self.forward(x[i : i + step], training=False) for i in range(0, n, step)]
        return np.concatenate(parts, axis=0)

    # -- state ------------------------------------------------------------------------------
    def state_dict(self) -> dict[str, np.ndarray]:
        return {
            f"layers.{i}.{k}": v
            for i, layer in enumerate(self.layers)
            for k, v in layer.state_dict().items()
        }

    def load_state_dict(self, state: dict[str, np.ndarray], strict: bool = True) -> None:
        """Copy weights (and buffers) in by dotted name; strict checks names and shapes."""
        if strict:
            own = set(self.state_dict())
            missing, unexpected = sorted(own - set(state)), sorted(set(state) - own)
            if missing or unexpected:
                parts = []
                if missing:
                    parts.append("missing " + ", ".join(f"`{m}`" for m in missing))
                if unexpected:
                    parts.append("unexpected " + ", ".join(f"`{u}`" for u in unexpected))
                raise NablanetError("state dict does not match the model: " + "; ".join(parts))
        for i, layer in enumerate(self.layers):
            prefix = f"layers.{i}."
            sub = {k[len(prefix) :]: v for k, v in state.items() if k.startswith(prefix)}
            layer.load_state_dict(sub, strict=strict, prefix=prefix)

    def rng_states(self) -> dict[str, dict]:
        return {
            f"layers.{i}": layer.rng.bit_generator.state
            for i, layer in enumerate(self.layers)
            if hasattr(layer, "rng")
        }

    def set_rng_states(self, states: dict[str, dict]) -> None:
        for i, layer in enumerate(self.layers):
            if f"layers.{i}" in states and hasattr(layer, "rng"):
                layer.rng.bit_generator.state = states[f"layers.{i}"]

    def save(self, path: str | Path, metadata: dict | None = None, overwrite: bool = True) -> Path:
        """Write the model to ``path`` (``.npz``, no pickle, atomic)."""
        from .serialization import save_model

        meta = {**self.metadata, **(metadata or {})}
        return save_model(self, path, metadata=meta, overwrite=overwrite)

    # -- config and summary -----------------------------------------------------------------
    def get_config(self) -> dict[str, Any]:
        return {"name": self.name, "layers": [serialize_layer(layer) for layer in self.layers]}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Sequential:
        return cls(
            [layer_from_config(spec) for spec in config["layers"]],
            name=config.get("name", "sequential"),
        )

    def output_shapes(self, input_shape: tuple | None = None) -> list[tuple]:
        """Per-layer output shapes (batch axis excluded) for inputs of ``input_shape``."""
        if input_shape is None:
            first = self.layers[0] if self.layers else None
            if first is None or not hasattr(first, "n_inputs"):
                raise NablanetError(
                    "summary() needs input_shape for a model whose first layer "
                    "does not fix its input size"
                )
            input_shape = (first.n_inputs,)
        shapes, shape = [], tuple(input_shape)
        for layer in self.layers:
            shape = tuple(layer.compute_output_shape(shape))
            shapes.append(shape)
        return shapes

    def summary(self, input_shape: tuple | None = None, print_fn=print) -> str:
        """A table of layers, output shapes and parameter counts; printed and returned."""
        shapes = self.output_shapes(input_shape)
        rows = [("Layer (type)", "Output shape", "Params")]
        for i, (layer, shape) in enumerate(zip(self.layers, shapes)):
            desc = type(layer).__name__
            act = getattr(layer, "activation", None)
            if act is not None and getattr(act, "name", "linear") != "linear":
                desc += f" ({act.name})"
            rows.append((f"{i}: {desc}", str((None, *shape)), f"{layer.count_params():,}"))
        widths = [max(len(r[c]) for r in rows) for c in range(3)]
        line = "-" * (sum(widths) + 6)
        out = [f'Model: "{self.name}"', line]
        for j, r in enumerate(rows):
            out.append(f"{r[0]:<{widths[0]}}   {r[1]:<{widths[1]}}   {r[2]:>{widths[2]}}")
            if j == 0:
                out.append("=" * len(line))
        out.append(line)
        out.append(f"Total params: {self.count_params():,}")
        text = "\n".join(out)
        if print_fn is not None:
            print_fn(text)
        return text

    def __repr__(self) -> str:
        return f"Sequential(name={self.name!r}, layers={len(self.layers)})"


def load_model(path: str | Path, compile: bool = True) -> Sequential:
    """Load a model saved with :meth:`Sequential.save`."""
    from .serialization import load_model as _load

    return _load(path, compile=compile)
