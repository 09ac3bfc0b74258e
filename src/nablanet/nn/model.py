"""The ``Sequential`` model, and ``load_model`` for the files it saves.

The model knows no concrete layer type: it runs its layers through an execution plan
(:mod:`.plan`) built once from the fusions the layers and the loss offer. It saves and loads
through :mod:`.serialization` (the file format) and trains through :mod:`.trainer`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from . import initializers
from . import losses as losses_mod
from . import optimizers as optimizers_mod
from ._validation import check_positive_int
from .errors import NablanetError
from .layers.base import Layer, layer_from_config, serialize_layer, weights_by_name
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
    from .callbacks import History

if TYPE_CHECKING:  # pragma: no cover
    from .callbacks import Callback
    from .schedulers import Scheduler


class Input:
    """Keras' ``Input(shape=...)``: the per-sample input shape, first in a ``Sequential``.

    Not a layer (it computes nothing and is not saved): it tells the model its input size, so
    the layers after it are built at once, as with ``input_shape=`` on the first layer.

    >>> import nablanet as nb
    >>> model = nb.Sequential([nb.Input(shape=(4,)), nb.Dense(8, activation="relu"), nb.Dense(2)])
    >>> model.built, model.count_params()
    (True, 58)
    """

    def __init__(
        self, shape: Any, batch_size: int | None = None, dtype: Any = None, name: str | None = None
    ) -> None:
        if isinstance(shape, int) and not isinstance(shape, bool):
            shape = (shape,)
        try:
            shape = tuple(shape)
        except TypeError:
            raise NablanetError(
                f"Input(shape=...) takes the shape of one sample, e.g. (784,) or (28, 28, 1); "
                f"got {shape!r}"
            ) from None
        if not shape or any(
            isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n <= 0 for n in shape
        ):
            raise NablanetError(
                f"Input(shape=...) takes the shape of one sample, without the batch axis, e.g. "
                f"(784,) or (28, 28, 1); got {shape!r}"
            )
        self.shape = tuple(int(n) for n in shape)
        self.batch_size, self.dtype, self.name = batch_size, dtype, name

    def __repr__(self) -> str:
        return f"Input(shape={self.shape})"


class Sequential:
    """A stack of layers applied in order.

    Parameters
    ----------
    layers : list of Layer, optional
        The first may be an :class:`Input` (Keras' ``Input(shape=...)``).
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
        self._compile_pending = False  # compiled before the layers were built: finished at build
        self._input_shape: tuple | None = None  # per sample, known once built
        self._declared_shape: tuple | None = None  # per sample, from an Input(shape=...)
        for layer in layers or []:
            self.add(layer)

    # -- building ----------------------------------------------------------------------------
    def add(self, layer: Layer) -> None:
        if isinstance(layer, Input):
            if self.layers or self._declared_shape is not None:
                raise NablanetError(
                    "Input(shape=...) must come first in a Sequential, before every layer"
                )
            self._declared_shape = layer.shape
            return
        if not isinstance(layer, Layer):
            raise NablanetError(f"Sequential.add expects a Layer, got {type(layer).__name__}")
        self.layers.append(layer)
        self._compiled = False
        self._compile_pending = False
        self._plan = None
        if not layer.built:  # as Keras: input_shape= on the first layer builds what follows
            shape = self._known_input_shape()
            if shape is not None:
                try:
                    self._build_for(shape)
                except NablanetError:
                    pass  # a mismatch is reported at first use, with the input's shape

    @property
    def dtype(self) -> np.dtype:
        for layer in self.layers:  # the first parameter's (without listing them all)
            for p in layer.parameters():
                return p.dtype
        for layer in self.layers:  # not built yet: the dtype the layers will create
            dtype = getattr(layer, "dtype", None)
            if dtype is not None:
                return np.dtype(dtype)
        return np.dtype(np.float32)

    @property
    def built(self) -> bool:
        """Whether every layer has its parameters (see :meth:`build`)."""
        return all(layer.built for layer in self.layers)

    def build(self, input_shape: tuple) -> None:
        """Create the parameters of layers made without their input size (``Dense(32)``,
        ``Conv2D(filters=32, kernel_size=3)``), as Keras does.

        ``input_shape`` includes the batch axis, as in Keras: ``model.build((None, 784))``,
        ``model.build((None, 28, 28, 1))``. ``fit``, ``evaluate``, ``predict`` and calling the
        model build it from the first batch; ``compile`` may come before or after.

        >>> import nablanet as nb
        >>> model = nb.Sequential([nb.Dense(16, activation="relu"), nb.Dense(3, "softmax")])
        >>> model.built
        False
        >>> model.build((None, 4))
        >>> model.built, model.count_params()
        (True, 131)
        """
        shape = tuple(input_shape)
        if len(shape) < 2:
            raise NablanetError(
                f"Sequential.build takes the input shape with its batch axis, e.g. (None, 784) "
                f"or (None, 28, 28, 1); got {input_shape!r}"
            )
        self._build_for(shape[1:])

    def _build_for(self, sample_shape: tuple) -> None:
        shape = tuple(sample_shape)
        for i, layer in enumerate(self.layers):
            try:
                layer.build(shape)
                shape = tuple(layer.compute_output_shape(shape))
            except NablanetError as e:
                raise NablanetError(
                    f"cannot build layer {i} ({type(layer).__name__}) for inputs of shape "
                    f"{(None, *tuple(sample_shape))}: {e}"
                ) from None
        self._input_shape = tuple(sample_shape)
        if self._compile_pending:
            self._finish_compile()

    def _ensure_built(self, x: np.ndarray) -> None:
        if self._compile_pending or not self.built:
            if x.ndim < 2:
                raise NablanetError(f"model input must have a batch axis, got shape {x.shape}")
            self._build_for(x.shape[1:])

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
        if isinstance(loss, optimizers_mod.Optimizer) or (
            isinstance(loss, str) and loss.lower() in optimizers_mod.OPTIMIZERS
        ):  # Keras' positional order is compile(optimizer, loss)
            raise NablanetError(
                f"compile(loss, optimizer, metrics) takes the loss first, got the optimizer "
                f"{loss!r} as the loss: write compile(optimizer=..., loss=...) with keywords"
            )
        self.loss = losses_mod.get(loss)
        self.optimizer = optimizers_mod.get(optimizer)
        self.metrics = check_training_metrics(metrics, self.loss.task, type(self.loss).__name__)
        self._compiled = False
        if not self.built:  # Dense(32) & co.: finished when the input size is known
            self._plan = None
            self._compile_pending = True
            self._compiled = True
            return
        self._finish_compile()

    def _finish_compile(self) -> None:
        self._compile_pending = False
        self._plan = build_plan(self.layers, self.loss)
        dtypes = {p.dtype for p in self.parameters()}
        if len(dtypes) > 1:
            raise NablanetError(f"all layers must share one dtype, got {sorted(map(str, dtypes))}")
        # one contiguous buffer for all parameters and one for their gradients
        flatten_parameters(self.parameters())
        assert self.optimizer is not None  # compile() set it
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
        if x.ndim and self.built and x.shape == self._known_input_shape():
            raise NablanetError(  # predict(x[0]): one sample without its batch axis
                f"model input must have a batch axis: got one sample of shape {x.shape}; "
                f"give x[None] (shape {(1, *x.shape)}) for a batch of one"
            )
        if x.ndim and (self._compile_pending or not self.built):
            self._ensure_built(x)
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
        if self._compile_pending or not self.built:
            self._ensure_built(np.asarray(x))
        return self.plan.forward(x, training)

    __call__ = forward

    def backward(self, grad: np.ndarray) -> np.ndarray | None:
        """From ``dL/d(outputs)`` back through every layer (None once no input gradient is
        needed), after ``forward(x, training=True)``."""
        return self.plan.backward(grad)

    def train_step(
        self, x: np.ndarray, y: np.ndarray, sample_weight: np.ndarray | None = None
    ) -> tuple[float, np.ndarray]:
        """Forward, loss, backward for one batch; returns ``(data_loss, outputs)``.

        ``sample_weight`` (n,) weights each sample's loss (and gradient). The caller zeroes the
        gradients before and steps the optimizer after.
        """
        if sample_weight is None:
            return self.plan.train_step(x, y)
        return self.plan.train_step(x, y, sample_weight)

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
        sample_weight: np.ndarray | None = None,
        class_weight: dict | None = None,
    ) -> History:
        """Train the model; returns the :class:`~nablanet.nn.callbacks.History`.

        Parameters
        ----------
        x : ndarray of shape (n_samples, ...)
        y : ndarray of shape (n_samples,) integer labels, (n_samples, k) one-hot or targets
        validation_data : (x_val, y_val), optional
        validation_split : float
            Fraction of the *last* samples of ``x``/``y`` held out for validation (before any
            shuffling, as in Keras).
        sample_weight : ndarray of shape (n_samples,), optional
            Each sample's weight in the training loss: the loss of a batch is
            ``sum(w_i * loss_i) / batch_size`` (Keras' reduction), and so its gradients.
        class_weight : dict {class: weight}, optional
            Weight of every sample of a class (integer labels, one-hot rows or binary 0/1
            targets); a class not in the dict weighs 1. Multiplied with ``sample_weight``.
            Validation losses are not weighted.
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
            sample_weight=sample_weight,
            class_weight=class_weight,
        )

    @property
    def metrics_names(self) -> list[str]:
        """``["loss", *metrics]``: the order of the list :meth:`evaluate` returns."""
        return ["loss", *self.metrics]

    def evaluate(
        self,
        x: np.ndarray,
        y: np.ndarray,
        batch_size: int | None = None,
        verbose: int = 0,
        return_dict: bool = False,
    ) -> Any:
        """Loss (with weight penalties) and metrics over ``(x, y)``, without training.

        As Keras: the loss alone (a float) when the model logs no metric, else the list
        ``[loss, metric, ...]`` in the order of :attr:`metrics_names`, so that
        ``loss, acc = model.evaluate(x, y)`` unpacks; ``return_dict=True`` gives
        ``{"loss": ..., "accuracy": ...}``. ``batch_size`` (default 1024) is the number of
        samples per forward pass; ``verbose=1`` prints the result on one line.

        >>> import nablanet as nb
        >>> model = nb.Sequential([nb.Dense(2, 2, "softmax", seed=0)])
        >>> model.compile("sparse_categorical_crossentropy", "adam", metrics=["accuracy"])
        >>> x, y = np.eye(2, dtype=np.float32), np.array([0, 1])
        >>> loss, acc = model.evaluate(x, y)
        >>> sorted(model.evaluate(x, y, return_dict=True)) == sorted(model.metrics_names)
        True
        """
        self._require_compiled()
        batch_size = (
            1024 if batch_size is None else check_positive_int(batch_size, "batch_size", "evaluate")
        )
        logs = evaluate_model(self, x, y, batch_size=batch_size)
        if verbose:
            print(" - ".join(f"{k}: {v:.4g}" for k, v in logs.items()), flush=True)
        if return_dict:
            return logs
        values = [logs[name] for name in self.metrics_names]
        return values[0] if len(values) == 1 else values

    def predict(self, x: np.ndarray, batch_size: int | None = None, verbose: int = 0) -> np.ndarray:
        """Outputs for ``x`` (probabilities for a softmax/sigmoid model), in batches.

        ``batch_size=None`` runs up to 4096 samples per forward pass; ``verbose=1`` prints how
        many samples were predicted and how long it took.
        """
        t0 = time.perf_counter()
        x = self._as_input(x)
        n = x.shape[0]
        step = (
            4096 if batch_size is None else check_positive_int(batch_size, "batch_size", "predict")
        )
        if n <= step:
            out = self.forward(x, training=False)
        else:
            parts = [self.forward(x[i : i + step], training=False) for i in range(0, n, step)]
            out = np.concatenate(parts, axis=0)
        if verbose:
            print(f"predicted {n} samples in {time.perf_counter() - t0:.2f}s", flush=True)
        return out

    # -- state ------------------------------------------------------------------------------
    def state_dict(self) -> dict[str, np.ndarray]:
        return {
            f"layers.{i}.{k}": v
            for i, layer in enumerate(self.layers)
            for k, v in layer.state_dict().items()
        }

    def get_weights(self) -> list[np.ndarray]:
        """Keras' ``get_weights()``: copies of every layer's parameters and buffers, in the
        order of :meth:`state_dict`."""
        return list(self.state_dict().values())

    def set_weights(self, weights: Any) -> None:
        """Keras' ``set_weights(arrays)``: the arrays of :meth:`get_weights`, in its order and
        shapes, copied in place."""
        self.load_state_dict(weights_by_name("Sequential", self.state_dict(), weights))

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

    def save(
        self,
        path: str | Path,
        metadata: dict | None = None,
        overwrite: bool = True,
        preprocessing: Any = None,
        target_preprocessing: Any = None,
    ) -> Path:
        """Write the model to ``path`` (``.npz``, no pickle, atomic).

        ``preprocessing`` is the fitted transformer the model was trained behind (e.g.
        ``nablanet.data.StandardScaler().fit(x_train)``; any object with ``get_config()``
        registered as a :class:`nablanet.data.Transformer`, or its
        ``{"class_name": ..., "config": ...}`` dict): it goes into the file's metadata, so that
        ``nablanet predict`` and :func:`nablanet.pipeline.load_trained_model` apply it to raw
        inputs, as they do for the pipeline's own runs. ``target_preprocessing`` (regression)
        is undone on the predictions the same way.
        """
        if not self.built:
            raise NablanetError(
                "Cannot save a model that is not built (its input size is unknown): call "
                "model.build((None, n_features)) or fit / predict once first"
            )
        meta = {**self.metadata, **(metadata or {})}
        for key, transformer in (
            ("preprocessing", preprocessing),
            ("target_preprocessing", target_preprocessing),
        ):
            if transformer is not None:
                meta[key] = _transformer_spec(transformer, key)
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

    def _known_input_shape(self) -> tuple | None:
        """The per-sample input shape if known: from the build, ``input_shape=`` on the first
        layer, or the first layer's ``n_inputs``."""
        if self._input_shape is not None:
            return self._input_shape
        if self._declared_shape is not None:
            return self._declared_shape
        first: Any = self.layers[0] if self.layers else None
        declared = getattr(first, "_declared_input_shape", None)
        if declared is not None:
            return tuple(declared)
        if getattr(first, "n_inputs", None) is not None:
            return (first.n_inputs,)
        return None

    def output_shapes(self, input_shape: tuple | None = None) -> list[tuple]:
        """Per-layer output shapes (batch axis excluded) for inputs of ``input_shape``
        (default: the input shape the model knows, see :meth:`build`)."""
        if input_shape is None:
            input_shape = self._known_input_shape()
            if input_shape is None:
                raise NablanetError(
                    "summary() needs input_shape for a model whose first layer "
                    "does not fix its input size"
                )
        shapes, shape = [], tuple(input_shape)
        for layer in self.layers:
            shape = tuple(layer.compute_output_shape(shape))
            shapes.append(shape)
        return shapes

    def summary(
        self, input_shape: tuple | None = None, print_fn: Callable[[str], Any] | None = print
    ) -> str | None:
        """Print a table of layers, output shapes and parameter counts, as Keras does.

        Like Keras, the table goes to ``print_fn`` (default ``print``) and nothing is returned,
        so a notebook or REPL shows it once; ``print_fn=None`` returns the text instead of
        printing it. ``input_shape`` (per sample, e.g. ``(28, 28, 1)``) is needed only when the
        model does not know it (a first layer without ``n_inputs``/``input_shape=``, not yet
        built). Before the build, what is unknown is shown as ``?`` and said below the table.

        >>> import nablanet as nb
        >>> text = nb.Sequential([nb.Dense(32, activation="relu")]).summary(print_fn=None)
        >>> print(text.splitlines()[-1])
        Total params: unknown: not built, the input size of layer 0 (Dense) is unknown; call model.build((None, n_features)), give input_shape= to the first layer, or fit / predict once
        """
        text = self._summary_text(input_shape)
        if print_fn is None:
            return text
        print_fn(text)
        return None

    def _summary_text(self, input_shape: tuple | None) -> str:
        try:
            shapes = self.output_shapes(input_shape)
        except NablanetError:
            if input_shape is not None:
                raise
            shapes = None
        rows = [("Layer (type)", "Output shape", "Params")]
        for i, layer in enumerate(self.layers):
            desc = type(layer).__name__
            act = getattr(layer, "activation", None)
            if act is not None and getattr(act, "name", "linear") != "linear":
                desc += f" ({act.name})"
            shape = "?" if shapes is None else str((None, *shapes[i]))
            params = f"{layer.count_params():,}" if layer.built else "?"
            rows.append((f"{i}: {desc}", shape, params))
        widths = [max(len(r[c]) for r in rows) for c in range(3)]
        line = "-" * (sum(widths) + 6)
        out = [f'Model: "{self.name}"', line]
        for j, r in enumerate(rows):
            out.append(f"{r[0]:<{widths[0]}}   {r[1]:<{widths[1]}}   {r[2]:>{widths[2]}}")
            if j == 0:
                out.append("=" * len(line))
        out.append(line)
        unbuilt = [f"{i} ({type(la).__name__})" for i, la in enumerate(self.layers) if not la.built]
        if unbuilt:
            which = ", ".join(unbuilt)
            out.append(
                f"Total params: unknown: not built, the input size of layer{'s' * (len(unbuilt) > 1)} "
                f"{which} is unknown; call model.build((None, n_features)), give input_shape= "
                "to the first layer, or fit / predict once"
            )
        else:
            if shapes is None:
                out.append(
                    "Output shapes unknown: give the input shape, e.g. "
                    "summary(input_shape=(28, 28, 1))"
                )
            out.append(f"Total params: {self.count_params():,}")
        return "\n".join(out)

    def __repr__(self) -> str:
        return f"Sequential(name={self.name!r}, layers={len(self.layers)})"


def _transformer_spec(transformer: Any, key: str) -> dict:
    """``{"class_name", "config"}`` of a fitted transformer (the form model files hold)."""
    if isinstance(transformer, dict):
        if "class_name" not in transformer:
            raise NablanetError(
                f"save({key}=...): a dict must be {{'class_name': ..., 'config': {{...}}}}, got "
                f"keys {sorted(transformer)}"
            )
        return transformer
    if not hasattr(transformer, "get_config"):
        raise NablanetError(
            f"save({key}=...) takes a fitted transformer (nablanet.data.StandardScaler, ...), "
            f"got {type(transformer).__name__}"
        )
    fitted = getattr(transformer, "is_fitted", True)
    if callable(fitted):
        fitted = fitted()
    if not fitted:
        raise NablanetError(f"save({key}=...): {type(transformer).__name__} is not fitted")
    return {"class_name": type(transformer).__name__, "config": transformer.get_config()}


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
        unbuilt = [i for i, layer in enumerate(model.layers) if not layer.built]
        if unbuilt:  # save() refuses such a model: its weights would be drawn afresh
            raise ModelFileError(
                f"{path}: corrupt architecture (layer {unbuilt[0]} has no input size)"
            )
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
