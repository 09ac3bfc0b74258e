"""Training diagnostics: what happens inside each layer while a network learns.

:class:`Diagnostics` is a callback that records, per layer and per epoch, the numbers a course
asks students to look at (weight and gradient norms, the size of an update relative to the
weights, activation statistics, dead ReLUs and saturated sigmoids, small histograms), and turns
them into warnings with the numbers behind them and what to try: vanishing and exploding
gradients, dead ReLUs, saturated sigmoid/tanh units, a learning rate too high, overfitting.

It is cheap by construction (``benchmarks/bench_diagnostics.py`` measures it): nothing runs per
batch except a return, and per recorded epoch it reads

- the gradients of the epoch's *first* batch (in ``on_batch_end`` of step 0, right after the
  optimizer's step, when the gradients are still in place) and the update that step made (the
  weights are copied once at the start of the epoch);
- the activations of a fixed *probe* batch (``probe_size`` training samples gathered from the
  first batches of training, or the ``probe`` given), pushed through the layers once at the end
  of the epoch with ``training=False``.

Histograms of arrays larger than :data:`HISTOGRAM_SAMPLE` values count an evenly strided sample
of that many values (their shares are what the plots show).

The record (:meth:`Diagnostics.to_dict`, written by :meth:`Diagnostics.save` as
``diagnostics.json``) has this schema, version 1 (``docs/diagnostics.md`` documents it)::

    {"schema": "nablanet.diagnostics", "version": 1, "every": 1, "probe_size": 128,
     "n_bins": 30,
     "epochs": [1, 2, ...],                      # the recorded epochs, counted from 1
     "layers": [{"index": 0, "name": "0.dense", "type": "Dense", "activation": "relu",
                 "parameter": "weights",          # the parameter the norms are about, or null
                 "weight_norm": [...], "grad_norm": [...], "update_ratio": [...],
                 "activation_mean": [...], "activation_std": [...],
                 "dead_fraction": [...],          # ReLU layers, else null
                 "saturated_fraction": [...],     # sigmoid/tanh layers, else null
                 "histograms": {"weight": {"edges": [...31 floats], "counts": [[...30 ints], ...]},
                                "grad": {...}, "activation": {...}}}, ...],
     "warnings": [{"epoch": 3, "rule": "dead_relu", "layer": "1.dense",
                   "message": "...", "advice": "...", "values": {...}}, ...]}

Every list in a layer holds one value per recorded epoch; ``null`` where a value does not apply
(no parameters, no such activation) or is not finite.

>>> import numpy as np, nablanet as nb
>>> x = np.random.default_rng(0).normal(size=(64, 2)).astype(np.float32)
>>> y = (x[:, 0] > 0).astype(np.int64)
>>> model = nb.Sequential([nb.Dense(2, 8, activation="relu", seed=0),
...                        nb.Dense(8, 2, activation="softmax", seed=1)])
>>> model.compile(loss="categorical_crossentropy", optimizer=nb.Adam(0.01))
>>> diag = nb.Diagnostics()
>>> _ = model.fit(x, y, epochs=3, batch_size=16, verbose=0, callbacks=[diag])
>>> d = diag.to_dict()
>>> d["epochs"], [layer["name"] for layer in d["layers"]]
([1, 2, 3], ['0.dense', '1.dense'])
>>> len(d["layers"][0]["grad_norm"]), d["layers"][1]["dead_fraction"]
(3, None)
"""

from __future__ import annotations

import json
import logging
import math
import os
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ._validation import check_positive_int, param_error
from .callbacks import Callback
from .diagnostic_records import (
    _RELUS,
    _SERIES,
    SCHEMA_VERSION,
    DiagnosticThresholds,
    DiagnosticWarning,
    _json_float,
    _last_grad_norm,
    _LayerRecord,
    _main_parameter,
    _norm,
    _sample,
)

if TYPE_CHECKING:  # pragma: no cover
    pass

logger = logging.getLogger("nablanet")

__all__ = ["SCHEMA_VERSION", "DiagnosticThresholds", "DiagnosticWarning", "Diagnostics"]


class Diagnostics(Callback):
    """Record per-layer statistics every ``every`` epochs and warn about what looks wrong.

    Parameters
    ----------
    every : int or "auto"
        Record epochs 1, 1 + every, 1 + 2 every, ... (the warnings about the loss look at every
        epoch). ``"auto"``: record the first epoch, then an epoch whenever the time spent in
        this callback so far is at most ``budget`` of the time between epoch starts (the
        whole epoch as a run sees it: training, validation, other callbacks, checkpoints), so
        that tiny epochs are recorded less often; ``epochs`` lists those recorded.
    budget : float
        The share of the time ``every="auto"`` allows (0.03: 3 %).
    probe : ndarray of shape (n, *input_shape), optional
        The inputs whose activations are measured. Default: the first ``probe_size`` training
        samples of the first epoch (shuffled, so a random sample), kept for the whole run.
    probe_size : int
        Size of the default probe.
    n_bins : int
        Bins of each histogram.
    thresholds : DiagnosticThresholds, optional
        When the warnings fire.
    log_warnings : bool
        Log each warning (logger ``"nablanet"``) when it first fires.

    Attributes
    ----------
    epochs : list of int
        The recorded epochs (from 1).
    warnings : list of DiagnosticWarning
        Each rule fires once per layer (the first epoch it holds).
    """

    def __init__(
        self,
        every: int | str = 1,
        budget: float = 0.03,
        probe: np.ndarray | None = None,
        probe_size: int = 128,
        n_bins: int = 30,
        thresholds: DiagnosticThresholds | None = None,
        log_warnings: bool = True,
    ):
        super().__init__()
        self.every = every if every == "auto" else check_positive_int(every, "every", "Diagnostics")
        if isinstance(budget, bool) or not isinstance(budget, int | float) or not 0 < budget <= 1:
            raise param_error("Diagnostics", "budget", "a number in (0, 1]", budget)
        self.budget = float(budget)
        self.seconds = 0.0  # spent in this callback's hooks
        self._epoch_seconds = 0.0  # between the first epoch start and the last one
        self._last_begin: float | None = None
        self.probe_size = check_positive_int(probe_size, "probe_size", "Diagnostics")
        self.n_bins = check_positive_int(n_bins, "n_bins", "Diagnostics")
        if thresholds is not None and not isinstance(thresholds, DiagnosticThresholds):
            raise param_error("Diagnostics", "thresholds", "a DiagnosticThresholds", thresholds)
        self.thresholds = thresholds or DiagnosticThresholds()
        self.log_warnings = bool(log_warnings)
        self._given_probe = None if probe is None else np.asarray(probe)
        self._probe_parts: list[np.ndarray] = []
        self._probe: np.ndarray | None = self._given_probe
        self.epochs: list[int] = []
        self.layers: list[_LayerRecord] = []
        self.warnings: list[DiagnosticWarning] = []
        self._fired: set[tuple[str, str | None]] = set()
        self._losses: list[float] = []
        self._val_losses: list[float | None] = []
        self._recording = False
        self._before: list[np.ndarray | None] = []
        self._step_stats: list[tuple[float | None, float | None, np.ndarray | None]] = []
        self._pending_state: tuple[dict[str, Any], dict[str, np.ndarray]] | None = None
        self._first_loss: float | None = None

    # -- the hooks ------------------------------------------------------------------------------
    def on_train_begin(self, logs: dict | None = None) -> None:
        model = self.model
        self._last_begin = None
        pending, self._pending_state = self._pending_state, None
        if pending is not None and self.trainer is not None and self.trainer.resuming:
            self._restore(*pending)
        types = [type(layer).__name__ for layer in model.layers]
        if [r.type for r in self.layers] != types:  # a new model: start afresh
            self.layers = [
                _LayerRecord(i, layer, self.n_bins) for i, layer in enumerate(model.layers)
            ]
            self.epochs = []

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        now = time.perf_counter()
        if self._last_begin is not None:
            self._epoch_seconds += now - self._last_begin
        self._last_begin = now
        if isinstance(self.every, str):  # "auto", the only string __init__ keeps
            self._recording = not self.epochs or self.seconds <= self.budget * self._epoch_seconds
        else:
            self._recording = epoch % self.every == 0
        self._step_stats = []
        if self._recording:
            t0 = time.perf_counter()
            self._before = [
                None if (p := _main_parameter(layer)) is None else p.value.copy()
                for layer in self.model.layers
            ]
            self.seconds += time.perf_counter() - t0

    def on_batch_end(self, step: int, logs: dict | None = None) -> None:
        if self._probe is None and logs is not None and logs.get("inputs") is not None:
            have = sum(len(part) for part in self._probe_parts)
            if have < self.probe_size:
                self._probe_parts.append(np.array(logs["inputs"][: self.probe_size - have]))
        if step != 0:
            return
        if self._first_loss is None and logs is not None and "loss" in logs:
            self._first_loss = float(logs["loss"])  # before any update: the starting point
        if not self._recording or self._step_stats:
            return
        t0 = time.perf_counter()
        with np.errstate(all="ignore"):
            self._step_stats = self._step_statistics()
        self.seconds += time.perf_counter() - t0

    def _step_statistics(self) -> list[tuple[float | None, float | None, np.ndarray | None]]:
        stats: list[tuple[float | None, float | None, np.ndarray | None]] = []
        for layer, before in zip(self.model.layers, self._before):
            p = _main_parameter(layer)
            if p is None:
                stats.append((None, None, None))
                continue
            assert before is not None  # on_epoch_begin copied the value of every such p
            grad = p._grad  # the step's gradient, still in place after the optimizer's step
            w = _norm(before)
            update = _norm(np.subtract(p.value, before, out=before))
            stats.append((_norm(grad), update / w if w > 0 else None, _sample(grad).copy()))
        return stats

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        logs = logs or {}
        self._losses.append(float(logs.get("loss", math.nan)))
        self._val_losses.append(float(logs["val_loss"]) if "val_loss" in logs else None)
        if self._probe is None and self._probe_parts:
            self._probe = np.concatenate(self._probe_parts)
            self._probe_parts = []
        if self._recording:
            t0 = time.perf_counter()
            with np.errstate(all="ignore"):  # a diverged network's numbers are recorded as such
                self._record(epoch)
            self.seconds += time.perf_counter() - t0
        self._check_loss(epoch)

    # -- measuring ------------------------------------------------------------------------------
    def _record(self, epoch: int) -> None:
        self.epochs.append(epoch + 1)
        outputs = self._forward_probe()
        stats = self._step_stats or [(None, None, None)] * len(self.layers)
        for rec, layer, out, (grad_norm, ratio, grad) in zip(
            self.layers, self.model.layers, outputs, stats
        ):
            p = _main_parameter(layer)
            s = rec.series
            s["weight_norm"].append(None if p is None else _norm(p.value))
            s["grad_norm"].append(grad_norm)
            s["update_ratio"].append(ratio)
            rec.hist["weight"].add(None if p is None else p.value)
            rec.hist["grad"].add(grad)
            if out is None:
                for k in (
                    "activation_mean",
                    "activation_std",
                    "dead_fraction",
                    "saturated_fraction",
                ):
                    s[k].append(None)
                rec.hist["activation"].add(None)
                continue
            s["activation_mean"].append(float(out.mean(dtype=np.float64)))
            s["activation_std"].append(float(out.std(dtype=np.float64)))
            units = out.reshape(-1, out.shape[-1])  # a unit is a feature (a channel of images)
            s["dead_fraction"].append(
                float(np.mean(units.max(axis=0) <= 0)) if rec.activation in _RELUS else None
            )
            if rec.activation == "sigmoid":
                sat = float(np.mean((units < 0.005) | (units > 0.995)))
            elif rec.activation == "tanh":
                sat = float(np.mean(np.abs(units) > 0.99))
            else:
                sat = None
            s["saturated_fraction"].append(sat)
            fixed = {"sigmoid": (0.0, 1.0), "tanh": (-1.0, 1.0), "softmax": (0.0, 1.0)}
            rec.hist["activation"].add(out, fixed.get(rec.activation or ""))
        self._check_layers(epoch)

    def _forward_probe(self) -> list[np.ndarray | None]:
        probe = self._probe
        if probe is None:
            return [None] * len(self.layers)
        h = self.model._as_input(probe)
        outputs: list[np.ndarray | None] = []
        with np.errstate(all="ignore"):
            for layer in self.model.layers:
                h = layer.forward(h, training=False)
                outputs.append(h)
        return outputs

    # -- the rules ------------------------------------------------------------------------------
    def _warn(
        self, epoch: int, rule: str, layer: str | None, message: str, advice: str, **values: float
    ) -> None:
        if (rule, layer) in self._fired:
            return
        self._fired.add((rule, layer))
        w = DiagnosticWarning(epoch + 1, rule, layer, message, advice, values)
        self.warnings.append(w)
        if self.log_warnings:
            logger.warning("diagnostics: %s", w)

    def _check_layers(self, epoch: int) -> None:
        t = self.thresholds
        with_grads = [r for r in self.layers if r.series["grad_norm"][-1] is not None]
        for rec in with_grads:
            g = _last_grad_norm(rec)
            first = next(v for v in rec.series["grad_norm"] if v is not None)
            if not math.isfinite(g):
                self._warn(
                    epoch, "exploding_gradients", rec.name,
                    f"the gradient of {rec.parameter} is not finite ({g})",
                    "lower the learning rate, clip gradients, or use a smaller initialisation",
                    grad_norm=g,
                )  # fmt: skip
            elif g > t.max_grad_norm:
                self._warn(
                    epoch, "exploding_gradients", rec.name,
                    f"the gradient norm of {rec.parameter} is {g:.3g} (threshold {t.max_grad_norm:g})",
                    "use a smaller weight initialisation (he_normal/glorot), scale the inputs, "
                    "lower the learning rate, or clip gradients",
                    grad_norm=g,
                )  # fmt: skip
            elif first > 0 and g > t.exploding_ratio * first and len(rec.series["grad_norm"]) > 1:
                self._warn(
                    epoch, "exploding_gradients", rec.name,
                    f"the gradient norm grew from {first:.3g} to {g:.3g} "
                    f"({g / first:.3g} x, threshold {t.exploding_ratio:g} x)",
                    "lower the learning rate, clip gradients, or add batch normalisation",
                    grad_norm=g, first_grad_norm=first,
                )  # fmt: skip
        if len(with_grads) >= 2:
            g_first = _last_grad_norm(with_grads[0])
            g_last = _last_grad_norm(with_grads[-1])
            if math.isfinite(g_first) and math.isfinite(g_last) and g_last > 0:
                ratio = g_first / g_last
                names = f"{with_grads[0].name} / {with_grads[-1].name}"
                if ratio < t.vanishing_ratio:
                    self._warn(
                        epoch, "vanishing_gradients", None,
                        f"the first layer's gradient norm is {ratio:.2g} of the last layer's "
                        f"({g_first:.3g} vs {g_last:.3g}, {names}; threshold {t.vanishing_ratio:g})",
                        "use ReLU instead of sigmoid/tanh in hidden layers, He initialisation, "
                        "fewer layers, or batch normalisation",
                        first_grad_norm=g_first, last_grad_norm=g_last, ratio=ratio,
                    )  # fmt: skip
                elif ratio > t.exploding_ratio:
                    self._warn(
                        epoch, "exploding_gradients", None,
                        f"the first layer's gradient norm is {ratio:.3g} x the last layer's "
                        f"({g_first:.3g} vs {g_last:.3g}, {names}; threshold {t.exploding_ratio:g} x)",
                        "use a smaller weight initialisation (he_normal/glorot), lower the learning "
                        "rate, clip gradients, or add batch normalisation",
                        first_grad_norm=g_first, last_grad_norm=g_last, ratio=ratio,
                    )  # fmt: skip
        hidden = self.layers[:-1]
        for rec in hidden:
            dead = rec.series["dead_fraction"][-1]
            if dead is not None and dead >= t.dead_fraction:
                n_units = self._n_units(rec)
                assert self._probe is not None  # a dead fraction is measured on the probe
                self._warn(
                    epoch, "dead_relu", rec.name,
                    f"{dead:.0%} of its {n_units} ReLU units output 0 for all "
                    f"{len(self._probe)} probe samples (threshold {t.dead_fraction:.0%})",
                    "lower the learning rate, start the biases at 0 or a small positive value, "
                    "use he_normal initialisation, or leaky_relu",
                    dead_fraction=dead,
                )  # fmt: skip
            sat = rec.series["saturated_fraction"][-1]
            if sat is not None and sat >= t.saturated_fraction:
                self._warn(
                    epoch, "saturated_units", rec.name,
                    f"{sat:.0%} of its {rec.activation} outputs are in the flat tails, where the "
                    f"derivative is below 2% of its peak (threshold {t.saturated_fraction:.0%})",
                    "scale the inputs (standard), use glorot initialisation or smaller weights, "
                    "or ReLU in hidden layers",
                    saturated_fraction=sat,
                )  # fmt: skip

    def _n_units(self, rec: _LayerRecord) -> int:
        out = self.model.layers[rec.index]
        return int(getattr(out, "n_neurons", 0) or getattr(out, "filters", 0) or 0)

    def _check_loss(self, epoch: int) -> None:
        t = self.thresholds
        losses = self._losses
        loss = losses[-1]
        advice = "lower the learning rate (by 10 x), or use a scheduler with warm-up"
        if not math.isfinite(loss):
            self._warn(
                epoch, "learning_rate_too_high", None,
                f"the training loss is {loss}", advice, loss=loss,
            )  # fmt: skip
            return
        finite = [v for v in [self._first_loss, *losses] if v is not None and math.isfinite(v)]
        k = t.rising_epochs
        # a rise that matters: a tenth of the progress made so far and 1 % (noise near a
        # minimum, or a network stuck at its start, is not)
        progress = max(finite[0] - min(finite), 0.0) if finite else 0.0
        if (
            len(losses) > k
            and all(losses[-i] > losses[-i - 1] for i in range(1, k + 1))
            and loss - losses[-k - 1] > max(0.1 * progress, 0.01 * abs(losses[-k - 1]))
        ):
            self._warn(
                epoch, "learning_rate_too_high", None,
                f"the training loss rose {k} epochs in a row ({losses[-k - 1]:.4g} -> {loss:.4g})",
                advice, loss=loss, loss_before=losses[-k - 1],
            )  # fmt: skip
        elif (
            len(finite) > 1
            and min(finite) > 0
            and loss > t.blowup_factor * min(finite)
            and loss - min(finite) > 0.5 * progress  # gave back half the progress made
        ):
            self._warn(
                epoch, "learning_rate_too_high", None,
                f"the training loss {loss:.4g} is {loss / min(finite):.3g} x its lowest "
                f"({min(finite):.4g}, the first batch's included; threshold {t.blowup_factor:g} x)",
                advice, loss=loss, lowest_loss=min(finite),
            )  # fmt: skip
        vals = self._val_losses
        if vals[-1] is None or not math.isfinite(vals[-1]):
            return
        known = [(i, v) for i, v in enumerate(vals) if v is not None and math.isfinite(v)]
        best, best_val = min(known, key=lambda iv: iv[1])
        since = len(vals) - 1 - best
        val_progress = max(known[0][1] - best_val, 0.0)
        if (
            since >= t.overfit_epochs
            and vals[-1] > best_val * (1 + t.overfit_margin)
            # and a tenth of the validation loss's progress given back (not noise near 0)
            and vals[-1] - best_val > 0.1 * val_progress
            and loss < losses[best]
        ):
            self._warn(
                epoch, "overfitting", None,
                f"the validation loss rose from {best_val:.4g} (epoch {best + 1}) to "
                f"{vals[-1]:.4g} over {since} epochs while the training loss fell from "
                f"{losses[best]:.4g} to {loss:.4g}",
                "stop early (early_stopping), add L2 regularisation or dropout, use fewer units, "
                "or get more data",
                val_loss=vals[-1], best_val_loss=best_val, loss=loss,
            )  # fmt: skip

    # -- the record -----------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """The JSON-able record (schema in the module docstring and docs/diagnostics.md)."""
        probe = self._probe
        return {
            "schema": "nablanet.diagnostics",
            "version": SCHEMA_VERSION,
            "every": self.every,
            "probe_size": 0 if probe is None else len(probe),
            "n_bins": self.n_bins,
            "epochs": list(self.epochs),
            "layers": [rec.to_dict() for rec in self.layers],
            "warnings": [w.to_dict() for w in self.warnings],
        }

    def save(self, path: str | os.PathLike) -> Path:
        """Write :meth:`to_dict` as JSON to ``path`` (via a temporary file and a rename)."""
        path = Path(path)
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_text(json.dumps(self.to_dict(), separators=(",", ":")), encoding="utf-8")
        os.replace(tmp, path)
        return path

    # -- resumable state ------------------------------------------------------------------------
    def get_state(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        # the per-epoch numbers travel as arrays: a checkpoint is written every epoch, and a
        # JSON header growing with the epochs would make each write slower than the last
        arrays: dict[str, np.ndarray] = {}
        layers = []
        for i, rec in enumerate(self.layers):
            for k, values in rec.series.items():
                arrays[f"l{i}_{k}"] = np.array(
                    [np.nan if v is None else v for v in values], dtype=np.float64
                )
            hists = {}
            for kind, h in rec.hist.items():
                hists[kind] = h.edges
                rows = [[-1] * self.n_bins if c is None else c for c in h.counts]
                arrays[f"l{i}_hist_{kind}"] = np.array(rows, dtype=np.int64).reshape(
                    -1, self.n_bins
                )
            layers.append({"index": rec.index, "edges": hists})
        if self._probe is not None:
            arrays["probe"] = np.asarray(self._probe)
        state = {
            "epochs": list(self.epochs),
            "layers": layers,
            "warnings": [w.to_dict() for w in self.warnings],
            "losses": [_json_float(v) for v in self._losses],
            "val_losses": [_json_float(v) for v in self._val_losses],
            "first_loss": _json_float(self._first_loss),
        }
        return state, arrays

    def set_state(self, state: dict[str, Any], arrays: dict[str, np.ndarray]) -> None:
        # the model is known from on_train_begin on (a checkpoint is restored before it)
        self._pending_state = (state, dict(arrays))
        if "probe" in arrays and self._given_probe is None:
            self._probe = np.asarray(arrays["probe"])

    def _restore(self, state: dict[str, Any], arrays: dict[str, np.ndarray]) -> None:
        model = self.model
        layers = []
        for i, d in enumerate(state.get("layers", [])):
            rec = _LayerRecord(d["index"], model.layers[d["index"]], self.n_bins)
            for k in _SERIES:
                values = arrays.get(f"l{i}_{k}", np.zeros(0))
                rec.series[k] = [None if np.isnan(v) else float(v) for v in values]
            for kind, edges in d.get("edges", {}).items():
                h = rec.hist[kind]
                if edges is not None:
                    h.edges = list(edges)
                    h.lo, h.hi = h.edges[0], h.edges[-1]
                counts = arrays.get(f"l{i}_hist_{kind}", np.zeros((0, self.n_bins), np.int64))
                h.counts = [None if row[0] < 0 else row.tolist() for row in counts]
            layers.append(rec)
        self.layers = layers
        self.epochs = list(state.get("epochs", []))
        self.warnings = [DiagnosticWarning(**w) for w in state.get("warnings", [])]
        self._fired = {(w.rule, w.layer) for w in self.warnings}
        self._losses = [math.nan if v is None else v for v in state.get("losses", [])]
        self._val_losses = list(state.get("val_losses", []))
        self._first_loss = state.get("first_loss")
