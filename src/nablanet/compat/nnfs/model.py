"""The book's ``Model``: a ``Sequential``, trained by ``fit``, printing the book's lines."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from nablanet.nn import (
    Callback,
    Layer,
    ModelFileError,
    NablanetError,
    Sequential,
    load_checkpoint,
    load_model,
    save_checkpoint,
)
from nablanet.nn.serialization import CHECKPOINT_KEY, atomic_savez, looks_like_pickle, read_npz
from nablanet.nn.trainer import prepare_targets

from .accuracy import (
    Accuracy,
    _accuracy_from_config,
    _default_accuracy,
    _OutputActivation,
    _predictions,
)
from .optimizers import _OPTIMIZERS, _BookOptimizer

_PICKLE_REFUSED = (
    "a Python pickle (what the book's save and save_parameters write), not a nablanet file; "
    "nablanet never unpickles a file, because unpickling can run any code the file's author "
    "chose. To bring trusted weights over, run once with the book's own code: np.savez("
    "'params.npz', **{f'{i}.{k}': a for i, p in enumerate(model.get_parameters()) for k, a in "
    "zip(('weights', 'biases'), p)}), then model.load_parameters('params.npz') here"
)


def _line(name: str, acc: float, data_loss: float, reg_loss: float, lr: float) -> str:
    return (
        f"{name}, acc: {acc:.3f}, loss: {data_loss + reg_loss:.3f} (data_loss: {data_loss:.3f}, "
        f"reg_loss: {reg_loss:.3f}), lr: {lr}"
    )


class _BookProgress(Callback):
    """Prints the book's lines from ``fit``'s batch logs. The book prints each step's penalty at
    the weights *before* its update: they are the weights after the previous step, so the
    penalty is taken then, for the steps that print."""

    def __init__(self, book: Model, accuracy: Accuracy, print_every: int, steps: int, val, bs):
        super().__init__()
        self.book, self.accuracy, self.print_every, self.steps = book, accuracy, print_every, steps
        self.validation_data, self.batch_size = val, bs

    def _prints(self, step: int) -> bool:
        return not step % self.print_every or step == self.steps - 1

    def on_epoch_begin(self, epoch, logs=None):
        print(f"epoch: {epoch + 1}")
        self.accuracy.new_pass()
        self.loss_sum, self.count = 0.0, 0
        self.reg_before = self.model.regularization_loss()

    def on_batch_end(self, step, logs=None):
        out, data_loss, size = logs["outputs"], logs["loss"], logs["size"]
        acc = self.accuracy.calculate(_predictions(self.model.layers[-1], out), logs["targets"])
        self.loss_sum += data_loss * size
        self.count += size
        if self._prints(step):
            lr = self.trainer.optimizer.learning_rate
            print(_line(f"step: {step}", acc, data_loss, self.reg_before, lr))
        if self._prints(step + 1):
            self.reg_before = self.model.regularization_loss()

    def on_epoch_end(self, epoch, logs=None):
        acc = self.accuracy.calculate_accumulated()
        reg = self.model.regularization_loss()
        lr = self.trainer.optimizer.learning_rate
        print(_line("training", acc, self.loss_sum / max(self.count, 1), reg, lr))
        if self.validation_data is not None:
            self.book.evaluate(*self.validation_data, batch_size=self.batch_size)


class Model:
    """The book's ``Model`` over a :class:`~nablanet.nn.Sequential` (``model.sequential``, built
    by ``finalize``): ``add``, ``set``, ``finalize``, ``train``, ``evaluate``, ``predict``,
    ``get_parameters`` / ``set_parameters``, ``save_parameters`` / ``load_parameters`` and
    ``save`` / ``Model.load``, all in nablanet's ``.npz`` files (never a pickle)."""

    def __init__(self):
        self.layers: list[Layer] = []
        self.loss = None
        self.optimizer: _BookOptimizer | None = None
        self.accuracy: Accuracy | None = None
        self.sequential: Sequential | None = None
        self.history = None
        self.epochs_trained = 0

    def add(self, layer: Layer) -> None:
        if not isinstance(layer, Layer):
            raise NablanetError(f"Model.add expects a layer, got {type(layer).__name__}")
        self.layers.append(layer)

    def set(self, *, loss=None, optimizer=None, accuracy=None) -> None:
        if optimizer is not None and not isinstance(optimizer, _BookOptimizer):
            raise NablanetError(
                f"Model.set expects an Optimizer_SGD/Adagrad/RMSprop/Adam, got "
                f"{type(optimizer).__name__}"
            )
        self.loss = loss if loss is not None else self.loss
        self.optimizer = optimizer if optimizer is not None else self.optimizer
        self.accuracy = accuracy if accuracy is not None else self.accuracy

    def finalize(self) -> None:
        """Build the ``Sequential`` and compile it: a softmax output with categorical
        cross-entropy trains through the fused loss, as in the book."""
        self.sequential = Sequential(self.layers, name="nnfs")
        if self.loss is not None:
            opt = self.optimizer.optimizer if self.optimizer is not None else "adam"
            self.sequential.compile(loss=self.loss, optimizer=opt)

    @property
    def trainable_layers(self) -> list:  # of layers picked by hasattr: their items are Any
        """The layers with ``weights`` and ``biases`` (the book's ``Layer_Dense``)."""
        return [la for la in self.layers if hasattr(la, "weights") and hasattr(la, "biases")]

    @property
    def output_layer_activation(self) -> _OutputActivation:
        return _OutputActivation(self.layers[-1] if self.layers else None)

    def _built(self, needs_loss: bool = False) -> Sequential:
        if self.sequential is None:
            raise NablanetError("call model.finalize() first")
        if needs_loss and self.sequential.loss is None:
            raise NablanetError("the model has no loss: model.set(loss=...), then finalize()")
        return self.sequential

    def _accuracy(self) -> Accuracy:
        if self.accuracy is None:
            self.accuracy = _default_accuracy(self.loss)
        return self.accuracy

    # -- training and inference -------------------------------------------------------------------
    def train(self, X, y, *, epochs=1, batch_size=None, print_every=1, validation_data=None):
        """``Sequential.fit`` over the batches in order (the book shuffles beforehand), the
        book's lines printed at ``print_every`` steps; returns the ``History``."""
        seq = self._built(needs_loss=True)
        if self.optimizer is None:
            raise NablanetError(
                "the model has no optimizer: model.set(optimizer=...), then finalize()"
            )
        if isinstance(print_every, bool) or not isinstance(print_every, int) or print_every < 1:
            raise NablanetError(f"print_every must be a positive integer, got {print_every!r}")
        accuracy = self._accuracy()
        accuracy.init(y)
        bs = len(X) if batch_size is None else batch_size
        steps = -(-len(X) // bs) if isinstance(bs, int) and bs > 0 else 1
        progress = _BookProgress(self, accuracy, print_every, steps, validation_data, batch_size)
        self.history = seq.fit(
            X,
            y,
            epochs=epochs,
            batch_size=bs,
            shuffle=False,
            scheduler=self.optimizer.scheduler,
            callbacks=[progress],
            verbose=0,
        )
        self.epochs_trained += len(self.history.epoch)
        return self.history

    def evaluate(self, X_val, y_val, *, batch_size=None) -> dict[str, float]:
        """Prints ``validation, acc: ..., loss: ...`` (the data loss, as the book's); returns
        ``{"loss", "accuracy"}``."""
        seq = self._built(needs_loss=True)
        x = np.asarray(X_val)
        x = x if x.dtype == seq.dtype else x.astype(seq.dtype)
        y = prepare_targets(seq, y_val)
        if len(x) != len(y):
            raise NablanetError(f"X_val and y_val have different lengths: {len(x)} and {len(y)}")
        accuracy = self._accuracy()
        accuracy.init(y)  # a regression accuracy that never saw training targets
        accuracy.new_pass()
        step, total = len(x) if batch_size is None else batch_size, 0.0
        for i in range(0, len(x), step):
            loss, out = seq.loss_on_batch(x[i : i + step], y[i : i + step])
            total += loss * len(out)
            accuracy.calculate(_predictions(self.layers[-1], out), y[i : i + step])
        scores = {"loss": total / max(len(x), 1), "accuracy": accuracy.calculate_accumulated()}
        print(f"validation, acc: {scores['accuracy']:.3f}, loss: {scores['loss']:.3f}")
        return scores

    def predict(self, X, *, batch_size=None) -> np.ndarray:
        """The outputs (probabilities for a softmax model); ``output_layer_activation
        .predictions(outputs)`` turns them into classes."""
        return self._built().predict(X, batch_size=batch_size)

    # -- parameters ----------------------------------------------------------------------------
    def get_parameters(self) -> list[tuple[np.ndarray, np.ndarray]]:
        """``(weights, biases)`` copies per dense layer (biases of shape ``(n,)``)."""
        return [(la.weights.value.copy(), la.biases.value.copy()) for la in self.trainable_layers]

    def set_parameters(self, parameters) -> None:
        """Copy ``(weights, biases)`` pairs in (the book's ``(1, n)`` biases are accepted)."""
        layers = self.trainable_layers
        if len(parameters) != len(layers):
            raise NablanetError(
                f"set_parameters got {len(parameters)} (weights, biases) pairs for "
                f"{len(layers)} layers with parameters"
            )
        for (weights, biases), layer in zip(parameters, layers):
            biases = np.asarray(biases)
            if biases.ndim == 2 and biases.shape[0] == 1:
                biases = biases[0]
            index = self.layers.index(layer)
            layer.load_state_dict({"weights": weights, "biases": biases}, prefix=f"layers.{index}.")

    def save_parameters(self, path) -> Path:
        """An ``.npz`` of arrays ``<i>.weights`` and ``<i>.biases`` (written atomically)."""
        arrays = {}
        for i, (weights, biases) in enumerate(self.get_parameters()):
            arrays[f"{i}.weights"], arrays[f"{i}.biases"] = weights, biases
        return atomic_savez(path, arrays)

    def load_parameters(self, path) -> None:
        """Read a file of ``save_parameters``; a pickle is refused unread."""
        if looks_like_pickle(path):
            raise ModelFileError(f"{path}: {_PICKLE_REFUSED}")
        arrays = read_npz(path)
        n = len(self.trainable_layers)
        expected = {f"{i}.{k}" for i in range(n) for k in ("weights", "biases")}
        if set(arrays) != expected:
            raise ModelFileError(
                f"{path}: expected the arrays {sorted(expected)} of save_parameters for "
                f"{n} layers with parameters, got {sorted(arrays)}"
            )
        try:
            self.set_parameters([(arrays[f"{i}.weights"], arrays[f"{i}.biases"]) for i in range(n)])
        except NablanetError as e:
            raise ModelFileError(f"{path}: {e}") from None

    # -- whole models --------------------------------------------------------------------------
    def _metadata(self) -> dict:
        opt = self.optimizer
        return {
            "nnfs": {
                "optimizer": None
                if opt is None
                else {"class_name": type(opt).__name__, "config": opt.get_config()},
                "accuracy": None
                if self.accuracy is None
                else {"class_name": type(self.accuracy).__name__, **self.accuracy.get_config()},
            }
        }

    def save(self, path) -> Path:
        """nablanet's model file; with an optimizer, a checkpoint (its moments and step count
        too, so that a loaded model trains on as the book's does). ``nablanet predict`` reads
        both."""
        seq = self._built()
        metadata = {**seq.metadata, **self._metadata()}  # what a loaded model file carried too
        if seq.loss is None or self.optimizer is None:
            return seq.save(path, metadata=metadata)
        assert seq.optimizer is not None  # compiled with its loss
        return save_checkpoint(
            path,
            seq,
            seq.optimizer,
            epoch=self.epochs_trained,
            history={} if self.history is None else self.history.to_dict(),
            rng_states={"layers": seq.rng_states()},
            scheduler=self.optimizer.scheduler,
            metadata=metadata,
        )

    @classmethod
    def load(cls, path) -> Model:
        """A model written by ``save`` (or any nablanet model file); a pickle is refused
        unread."""
        if looks_like_pickle(path):
            raise ModelFileError(f"{path}: {_PICKLE_REFUSED}")
        seq = load_model(path)
        meta = (seq.metadata or {}).get("nnfs") or {}
        model = cls()
        model.layers = list(seq.layers)
        model.loss = seq.loss
        opt = meta.get("optimizer")
        try:
            if opt and opt.get("class_name") in _OPTIMIZERS:
                model.optimizer = _OPTIMIZERS[opt["class_name"]](**opt["config"])
            elif seq.optimizer is not None:  # another nablanet model file: its own optimizer
                model.optimizer = _BookOptimizer(seq.optimizer)
            model.accuracy = _accuracy_from_config(meta.get("accuracy"), seq.loss)
        except (TypeError, KeyError, AttributeError, NablanetError) as e:
            raise ModelFileError(f"{path}: corrupt nnfs settings in the metadata ({e})") from None
        model.finalize()
        assert model.sequential is not None  # finalize() built it
        model.sequential.metadata = seq.metadata
        if model.optimizer is not None and CHECKPOINT_KEY in read_npz(path):
            ckpt = load_checkpoint(path)
            try:
                model.optimizer.optimizer.load_state_dict(ckpt["optimizer_state"])
            except NablanetError as e:
                raise ModelFileError(f"{path}: {e}") from None
            model.sequential.set_rng_states(ckpt["rng"].get("layers", {}))
            model.epochs_trained = ckpt["epoch"]
        return model
