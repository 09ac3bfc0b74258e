"""The playground: a small network learning a toy 2-D dataset, drawn while it learns.

:class:`Playground` holds one experiment (data, model, trainer, :class:`nablanet.Diagnostics`)
and advances it in short slices of time (:meth:`Playground.train_for`), so that a front end can
redraw after every slice; :meth:`Playground.frame` draws the data points over the model's
decision regions as an RGB array with NumPy alone (no matplotlib: a frame takes milliseconds,
measured in docs/diagnostics.md), on a coarse grid of cells scaled up to the image.

>>> pg = Playground(PlaygroundSettings(dataset="xor", hidden=(4,), n_samples=80))
>>> pg.train_for(seconds=0.0)          # at least one epoch
1
>>> pg.frame().shape, pg.frame().dtype
((320, 320, 3), dtype('uint8'))
>>> [row["layer"] for row in pg.layer_table()]
['0.dense', '1.dense']
"""

from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass, field, replace

import numpy as np

from .. import nn
from ..data import TOY_DATASETS, make_toy
from .errors import InputError

__all__ = [
    "ACTIVATIONS",
    "CLASS_COLORS",
    "OPTIMIZERS",
    "Playground",
    "PlaygroundSettings",
    "render_regions",
]

#: class colours of the playground and the decision-boundary plots (matplotlib's tab10)
CLASS_COLORS = (
    "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
    "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf",
)  # fmt: skip
ACTIVATIONS = ("relu", "tanh", "sigmoid", "leaky_relu", "linear")
OPTIMIZERS = ("adam", "sgd")


def _rgb(hex_color: str) -> np.ndarray:
    return np.array([int(hex_color[i : i + 2], 16) for i in (1, 3, 5)], dtype=np.float32)


_PALETTE = np.stack([_rgb(c) for c in CLASS_COLORS])


@dataclass(frozen=True)
class PlaygroundSettings:
    """What the playground's controls set.

    Attributes
    ----------
    dataset : str
        A toy dataset (``spiral``, ``circles``, ``moons``, ``xor``, ``gaussians``).
    noise : float or None
        The generator's noise (None: its default).
    n_samples : int
        Points generated; a fifth of them are held out for the validation loss.
    hidden : tuple of int
        Units of each hidden layer (empty: a linear model).
    activation : str
        Of the hidden layers (``ACTIVATIONS``).
    learning_rate : float
    optimizer : str
        ``adam`` or ``sgd``.
    l2 : float
        L2 penalty on the weights (0: none).
    batch_size : int
    seed : int
        Of the data and of the weights.
    """

    dataset: str = "spiral"
    noise: float | None = None
    n_samples: int = 400
    hidden: tuple[int, ...] = (16, 16)
    activation: str = "relu"
    learning_rate: float = 0.01
    optimizer: str = "adam"
    l2: float = 0.0
    batch_size: int = 32
    seed: int = 0

    def checked(self) -> PlaygroundSettings:
        """These settings, or an :class:`InputError` naming the bad one."""
        if self.dataset not in TOY_DATASETS:
            raise InputError(
                f"playground: dataset must be one of {', '.join(TOY_DATASETS)}, got {self.dataset!r}"
            )
        if self.activation not in ACTIVATIONS:
            raise InputError(
                f"playground: activation must be one of {', '.join(ACTIVATIONS)}, got "
                f"{self.activation!r}"
            )
        if self.optimizer not in OPTIMIZERS:
            raise InputError(f"playground: optimizer must be adam or sgd, got {self.optimizer!r}")
        if len(self.hidden) > 8 or any(not (1 <= int(h) <= 256) for h in self.hidden):
            raise InputError(
                f"playground: up to 8 hidden layers of 1 to 256 units, got {list(self.hidden)}"
            )
        if not (math.isfinite(self.learning_rate) and self.learning_rate > 0):
            raise InputError(f"playground: the learning rate must be > 0, got {self.learning_rate}")
        if not (math.isfinite(self.l2) and self.l2 >= 0):
            raise InputError(f"playground: the L2 penalty must be >= 0, got {self.l2}")
        if not (10 <= self.n_samples <= 5000):
            raise InputError(f"playground: n_samples must be in 10..5000, got {self.n_samples}")
        return replace(self, hidden=tuple(int(h) for h in self.hidden))


def render_regions(
    proba: np.ndarray,
    x: np.ndarray,
    y: np.ndarray,
    extent: tuple[float, float, float, float],
    size: int = 320,
    radius: int = 4,
) -> np.ndarray:
    """An RGB image (size, size, 3) ``uint8``: cells coloured by the predicted class, lighter
    where the model is unsure, and the points ``x`` (n, 2) as dots of their class ``y``.

    ``proba`` has shape (cells, cells, n_classes), rows from the bottom (``y_min``) up;
    ``extent`` is ``(x_min, x_max, y_min, y_max)`` of the plane.
    """
    cells, _, k = proba.shape
    pred = proba.argmax(axis=-1)
    confidence = proba.max(axis=-1)
    floor = 1.0 / k
    strength = 0.1 + 0.45 * np.clip((confidence - floor) / (1 - floor + 1e-9), 0, 1)
    colours = _PALETTE[pred % len(_PALETTE)]
    cell_rgb = 255.0 * (1 - strength[..., None]) + colours * strength[..., None]
    cell_rgb = cell_rgb[::-1]  # image rows go top-down
    scale = -(-size // cells)
    img = np.repeat(np.repeat(cell_rgb, scale, axis=0), scale, axis=1)[:size, :size]
    img = img.astype(np.uint8)
    x0, x1, y0, y1 = extent
    px = np.clip(((x[:, 0] - x0) / (x1 - x0) * (size - 1)).round().astype(int), 0, size - 1)
    py = np.clip(((y1 - x[:, 1]) / (y1 - y0) * (size - 1)).round().astype(int), 0, size - 1)
    r = np.arange(-radius, radius + 1)
    dy, dx = np.meshgrid(r, r, indexing="ij")
    disc = dx**2 + dy**2 <= radius**2
    ring = disc & (dx**2 + dy**2 > (radius - 1) ** 2)
    for mask, colour in ((disc, None), (ring, np.array([40, 40, 40], np.uint8))):
        oy, ox = dy[mask], dx[mask]
        rows = np.clip(py[:, None] + oy[None], 0, size - 1)
        cols = np.clip(px[:, None] + ox[None], 0, size - 1)
        if colour is None:
            img[rows, cols] = _PALETTE[y % len(_PALETTE)].astype(np.uint8)[:, None, :]
        else:
            img[rows, cols] = colour
    return img


@dataclass
class _Frame:
    extent: tuple[float, float, float, float]
    grid: np.ndarray = field(repr=False)  # (cells * cells, 2) float32


class Playground:
    """One playground experiment; thread-safe (a front end's timer and buttons may overlap).

    Parameters
    ----------
    settings : PlaygroundSettings
    cells : int
        The decision regions are predicted on ``cells x cells`` points (coarse: fast).
    size : int
        Side of the image in pixels.
    """

    ACTIVATIONS = ACTIVATIONS
    OPTIMIZERS = OPTIMIZERS

    def __init__(
        self, settings: PlaygroundSettings | None = None, cells: int = 48, size: int = 320
    ):
        self.cells = cells
        self.size = size
        self._lock = threading.Lock()
        self.last_frame_seconds = 0.0
        self.reset(settings or PlaygroundSettings())

    # -- set up -------------------------------------------------------------------------------
    def reset(self, settings: PlaygroundSettings | None = None) -> None:
        """Start again: new data (the dataset, noise, size, seed), new weights."""
        settings = (settings or self.settings).checked()
        params = {"n_samples": settings.n_samples, "seed": settings.seed}
        if settings.noise is not None:
            params["noise"] = float(settings.noise)
        ds = make_toy(settings.dataset, **params)
        rng = np.random.default_rng(settings.seed)
        order = rng.permutation(len(ds.x))
        cut = round(0.8 * len(order))
        with self._lock:
            self.settings = settings
            self.class_names = list(ds.class_names)
            self.x_train, self.y_train = ds.x[order[:cut]], ds.y[order[:cut]]
            self.x_val, self.y_val = ds.x[order[cut:]], ds.y[order[cut:]]
            self.model = self._build(settings, len(self.class_names))
            self.diagnostics = nn.Diagnostics(log_warnings=False, probe=self.x_train[:128])
            self.trainer = nn.Trainer(
                self.model,
                batch_size=settings.batch_size,
                callbacks=[self.diagnostics],
                verbose=0,
                seed=settings.seed,
            )
            self.epoch = 0
            lo, hi = ds.x.min(axis=0), ds.x.max(axis=0)
            pad = (hi - lo) * 0.1 + 1e-3
            x0, y0 = (lo - pad).tolist()
            x1, y1 = (hi + pad).tolist()
            xs = np.linspace(x0, x1, self.cells, dtype=np.float32)
            ys = np.linspace(y0, y1, self.cells, dtype=np.float32)
            gx, gy = np.meshgrid(xs, ys)
            self._frame = _Frame((x0, x1, y0, y1), np.c_[gx.ravel(), gy.ravel()])

    @staticmethod
    def _build(s: PlaygroundSettings, n_classes: int) -> nn.Sequential:
        # seeded layer by layer: the global generator (and a run training beside) stays untouched
        reg = nn.L2(s.l2) if s.l2 > 0 else None
        layers, n_in = [], 2
        init = "he_normal" if s.activation in ("relu", "leaky_relu") else "xavier_normal"
        for i, units in enumerate(s.hidden):
            layers.append(
                nn.Dense(n_in, units, activation=s.activation, weight_initializer=init,
                         weight_regularizer=reg, seed=s.seed * 1000 + i)
            )  # fmt: skip
            n_in = units
        layers.append(
            nn.Dense(n_in, n_classes, activation="softmax", weight_initializer="xavier_normal",
                     weight_regularizer=reg, seed=s.seed * 1000 + len(s.hidden))
        )  # fmt: skip
        model = nn.Sequential(layers, name="playground")
        optimizer = nn.Adam(s.learning_rate) if s.optimizer == "adam" else nn.SGD(s.learning_rate)
        model.compile(loss="categorical_crossentropy", optimizer=optimizer)
        return model

    # -- training -----------------------------------------------------------------------------
    def train_for(self, seconds: float = 0.3, max_epochs: int = 1000) -> int:
        """Train whole epochs for about ``seconds`` (at least one, at most ``max_epochs``);
        returns the epochs run."""
        t_end = time.perf_counter() + seconds
        done = 0
        with self._lock:
            while done < max_epochs:
                loss = self.trainer.history.history.get("loss", [0.0])
                if loss and not math.isfinite(loss[-1]):
                    break  # diverged: nothing more to learn until a reset
                with np.errstate(all="ignore"):  # a diverging network is shown, not warned
                    self.trainer.fit(
                        self.x_train,
                        self.y_train,
                        epochs=self.epoch + 1,
                        initial_epoch=self.epoch,
                        validation_data=(self.x_val, self.y_val),
                    )
                self.epoch += 1
                done += 1
                if time.perf_counter() >= t_end:
                    break
        return done

    # -- what to show -------------------------------------------------------------------------
    def frame(self) -> np.ndarray:
        """The data over the decision regions, as an RGB array (size, size, 3); its drawing
        time is kept in ``last_frame_seconds``."""
        t0 = time.perf_counter()
        with self._lock:
            f = self._frame
            with np.errstate(all="ignore"):
                proba = self.model.predict(f.grid)
            proba = np.nan_to_num(proba, nan=1.0 / proba.shape[1])
            proba = proba.reshape(self.cells, self.cells, -1)
            img = render_regions(proba, self.x_train, self.y_train, f.extent, self.size)
        self.last_frame_seconds = time.perf_counter() - t0
        return img

    def metrics(self) -> dict[str, float | int | None]:
        """Epoch, training/validation loss and accuracy of the last epoch."""
        h = self.trainer.history.history
        last = {k: (v[-1] if v else None) for k, v in h.items()}
        return {
            "epoch": self.epoch,
            "loss": last.get("loss"),
            "val_loss": last.get("val_loss"),
            "accuracy": last.get("accuracy"),
            "val_accuracy": last.get("val_accuracy"),
        }

    def layer_table(self) -> list[dict[str, object]]:
        """One row per layer with the last recorded diagnostics (gradient norm, update ratio,
        dead or saturated share)."""
        d = self.diagnostics.to_dict()
        layers = d["layers"] or [  # not trained yet: the layers, no numbers
            {"name": f"{i}.{type(layer).__name__.lower()}", "activation": layer.activation.name}
            for i, layer in enumerate(self.model.layers)
        ]
        rows = []
        for layer in layers:

            def last(key, layer=layer):
                values = layer.get(key)
                return None if not values else values[-1]

            rows.append(
                {
                    "layer": layer["name"],
                    "activation": layer["activation"],
                    "grad_norm": last("grad_norm"),
                    "update_ratio": last("update_ratio"),
                    "dead": last("dead_fraction"),
                    "saturated": last("saturated_fraction"),
                }
            )
        return rows

    def gradient_history(self) -> dict[str, list[float | None]]:
        """Layer name -> gradient norm per recorded epoch."""
        return {
            layer["name"]: list(layer.get("grad_norm") or [])
            for layer in self.diagnostics.to_dict()["layers"]
        }

    def warnings(self) -> list[str]:
        """The diagnostics' warnings so far, one line each."""
        return [str(w) for w in self.diagnostics.warnings]
