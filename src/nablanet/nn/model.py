"""The ``Sequential`` model, and ``load_model`` for the files it saves.

The model knows no concrete layer type: it runs its layers through an execution plan
(:mod:`.plan`) built once from the fusions the layers and the loss offer. It saves and loads
through :mod:`.serialization` (the file format) and trains through :mod:`.trainer`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from . import initializers
from . import losses as losses_mod
from . import optimizers as optimizers_mod
from .errors import NablanetError
from .layers.base import Layer, layer_from_config, serialize_layer
from .metrics import check_training_metrics
from .parameter import Parameter, flatten_parameters
from .plan import ExecutionPlan, build_plan
from .serialization import (
    ModelFileError,
    open_model_file,
    read_weights,
    save_model,
    weights_budget,
)
from .trainer import Trainer, evaluate_model

if TYPE_CHECKING:  # pragma: no cover
    from .callbacks import Callback, History
    from .schedulers import Scheduler


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
        self._plan: ExecutionPlan | None = None
        self._compiled = False
        for layer in layers or []:
            self.add(layer)

    # -- building ----------------------------------------------------------------------------
    def add(self, layer: Layer) -> None:
        if not isinstance(layer, Layer):
            raise NablanetError(f"Sequential.add expects a Layer, got {type(layer).__name__}")
        self.layers.append(layer)
        self._compiled = False
        self._plan = None

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
        loss: str | dict | losses_mod.Loss = "categorical_crossentropy",
        optimizer: str | dict | optimizers_mod.Optimizer = "adam",
        metrics: Iterable[str] | None = None,
    ) -> None:
        """Choose the loss, the optimizer and the metrics logged during training.

        A model that ends in softmax (sigmoid) compiled with categorical (binary) cross-entropy
        trains through the fused loss on the logits. ``metrics`` are names of
        :data:`nablanet.nn.metrics.TRAINING_METRICS`; the default is ``["accuracy"]`` for
        classification losses and ``["mae"]`` for regression losses (``Loss.task``).
        """
        if not self.layers:
            raise NablanetError("Cannot compile an empty Sequential model: add layers first")
        self.loss = losses_mod.get(loss)
        self.optimizer = optimizers_mod.get(optimizer)
        self.metrics = check_training_metrics(metrics, self.loss.task, type(self.loss).__name__)
        self._plan = build_plan(self.layers, self.loss)
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

    def compile_config(self) -> dict | None:
        if self.loss is None or self.optimizer is None:  # compile() sets both
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
        opt_cls = {cls.__name__: cls for cls in optimizers_mod.OPTIMIZERS.values()}[
            config["optimizer"]["class_name"]
        ]
        self.compile(
            loss=losses_mod.from_class_name(config["loss"]),
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
    def _as_input(self, x: Any) -> np.ndarray:
        x = np.asarray(x)
        if x.dtype != self.dtype:
            if x.dtype.kind not in "biuf":
                raise NablanetError(f"model input must be numeric, got dtype {x.dtype}")
            x = x.astype(self.dtype)
        if x.ndim == 0:
            raise NablanetError(f"model input must have a batch axis, got shape {x.shape}")
        return x

    @property
    def plan(self) -> ExecutionPlan:
        """The execution plan (:mod:`nablanet.nn.plan`): which layers run fused, and how the
        loss joins the last layers. Built once from the hooks the layers and the loss offer, at
        ``compile()`` or first use; built again after ``add()``, ``compile()`` or a change of
        ``layers`` or ``loss``. (After changing a layer's activation in place, call
        ``compile()`` again.)"""
        plan = self._plan
        if plan is None or not plan.is_for(self.layers, self.loss):
            plan = self._plan = build_plan(self.layers, self.loss)
        return plan

    def forward(self, x: np.ndarray, training: bool = False) -> np.ndarray:
        """Apply every layer: ``(n_samples, ...) -> (n_samples, n_outputs)``."""
        return self.plan.forward(x, training)

    __call__ = forward

    def backward(self, grad: np.ndarray) -> np.ndarray | None:
        """From ``dL/d(outputs)`` back through every layer (None once no input gradient is
        needed), after ``forward(x, training=True)``."""
        return self.plan.backward(grad)

    def train_step(self, x: np.ndarray, y: np.ndarray) -> tuple[float, np.ndarray]:
        """Forward, loss, backward for one batch; returns ``(data_loss, outputs)``.

        The caller zeroes the gradients before and steps the optimizer after.
        """
        return self.plan.train_step(x, y)

    def loss_on_batch(self, x: np.ndarray, y: np.ndarray) -> tuple[float, np.ndarray]:
        """``(data_loss, outputs)`` without training (dropout off, nothing cached)."""
        return self.plan.loss_on_batch(x, y)

    def regularization_loss(self) -> float:
        return sum(layer.regularization_loss() for layer in self.layers)

    # -- training API -----------------------------------------------------------------------
    def fit(
        self,
        x: np.ndarray,
        y: np.ndarray,
        epochs: int = 1,
        batch_size: int = 32,
        validation_data: tuple[np.ndarray, np.ndarray] | None = None,
        validation_split: float = 0.0,
        shuffle: bool = True,
        callbacks: list[Callback] | None = None,
        scheduler: Scheduler | None = None,
        verbose: int = 1,
        initial_epoch: int = 0,
        resume_from: str | Path | None = None,
        seed: int | None = None,
    ) -> History:
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

    def evaluate(self, x: np.ndarray, y: np.ndarray, batch_size: int = 1024) -> dict[str, float]:
        """Loss (with weight penalties) and metrics over ``(x, y)``, without training."""
        self._require_compiled()
        return evaluate_model(self, x, y, batch_size=batch_size)

    def predict(self, x: np.ndarray, batch_size: int | None = None) -> np.ndarray:
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

    def summary(
        self, input_shape: tuple | None = None, print_fn: Callable[[str], Any] | None = print
    ) -> str:
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
    """Rebuild a ``Sequential`` from a file written by :meth:`Sequential.save` (or a checkpoint).

    The model's ``metadata`` dict is available as ``model.metadata``; with ``compile`` (and
    compile settings in the file) the model comes back compiled.

    >>> import os, tempfile
    >>> import nablanet as nb
    >>> model = nb.Sequential([nb.Dense(2, 1, seed=0)])
    >>> model.compile(loss="mse", optimizer="sgd")
    >>> path = model.save(os.path.join(tempfile.mkdtemp(), "model.npz"), metadata={"run": 1})
    >>> clone = load_model(path)
    >>> clone.metadata, type(clone.loss).__name__, bool((clone.predict([[1, 2]]) == model.predict([[1, 2]])).all())
    ({'run': 1}, 'MeanSquaredError', True)
    """
    path = Path(path)
    header, archive = open_model_file(path)
    with archive:
        # built under the budget of the weights the file holds: a crafted architecture larger
        # than them is refused before its parameters exist (docs/security.md)
        try:
            with initializers.allocation_budget(weights_budget(archive), str(path)):
                model = Sequential.from_config(header["model"])
        except MemoryError:
            raise ModelFileError(f"{path}: corrupt architecture (too large to build)") from None
        except (KeyError, TypeError, AttributeError, ValueError, RecursionError) as e:
            raise ModelFileError(f"{path}: corrupt architecture ({e})") from None
        own = model.state_dict()
        weights = read_weights(archive, {k: v.shape for k, v in own.items()}, path)
    try:
        model.load_state_dict(weights, strict=True)
    except NablanetError as e:
        raise ModelFileError(f"{path}: {e}") from None
    metadata = header.get("metadata", {})
    model.metadata = metadata if isinstance(metadata, dict) else {}
    if compile and header.get("compile"):
        try:
            model.compile_from_config(header["compile"])
        except (KeyError, TypeError, AttributeError, ValueError, NablanetError) as e:
            raise ModelFileError(f"{path}: corrupt compile settings ({e!r})") from None
    return model
