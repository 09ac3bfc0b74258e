"""Draw the pictures of docs/diagnostics.md into docs/images/ (and print the numbers quoted
there: the playground's frame time, the warnings of the example networks).

    python scripts/diagnostics_figures.py [--output docs/images]

Everything is seeded: the toy datasets, the spiral run (configs/spiral.yaml, into a temporary
folder), the vanishing-gradient network and the playground.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import tempfile
from pathlib import Path

import numpy as np

import nablanet as nb
from nablanet.data import TOY_DATASETS, make_toy
from nablanet.pipeline import Playground, PlaygroundSettings, load_config, train
from nablanet.pipeline.playground import CLASS_COLORS
from nablanet.pipeline.plots._style import new_figure, save
from nablanet.pipeline.plots.diagnostics import plot_gradient_norms

ROOT = Path(__file__).resolve().parents[1]


def toy_datasets(out: Path) -> Path:
    fig = new_figure(15, 3.3)
    axes = fig.subplots(1, len(TOY_DATASETS))
    for ax, name in zip(axes, TOY_DATASETS):
        ds = make_toy(name)
        for c in range(len(ds.class_names)):
            pts = ds.x[ds.y == c]
            ax.scatter(pts[:, 0], pts[:, 1], s=6, color=CLASS_COLORS[c], label=f"class {c}")
        defaults = TOY_DATASETS[name][1]
        extra = ", n_classes: 3" if name == "spiral" else ""
        ax.set_title(f"{name}\n(n_samples: 600, noise: {defaults['noise']}{extra})", fontsize=10)
        ax.set_aspect("equal")
        ax.tick_params(labelsize=7)
    return save(fig, out / "toy_datasets.png")


def spiral_run(out: Path) -> list[Path]:
    with tempfile.TemporaryDirectory() as tmp:
        config = load_config([ROOT / "configs" / "spiral.yaml"], [f"output_dir={tmp}"])
        result = train(config, progress=False)
        print(f"spiral run: test accuracy {result.metrics['test']['accuracy']:.3f}")
        copied = []
        for name in ("gradient_norms.png", "histograms.png", "decision_boundary.png"):
            copied.append(
                Path(shutil.copy(result.run_dir / "plots" / name, out / f"spiral_{name}"))
            )
        return copied


def vanishing(out: Path) -> Path:
    nb.set_seed(0)
    ds = make_toy("spiral", n_samples=600)
    layers = [nb.Dense(2, 16, activation="sigmoid", weight_initializer="xavier_normal")]
    layers += [nb.Dense(16, 16, activation="sigmoid", weight_initializer="xavier_normal")
               for _ in range(7)]  # fmt: skip
    model = nb.Sequential([*layers, nb.Dense(16, 3, activation="softmax")])
    model.compile(loss="categorical_crossentropy", optimizer=nb.SGD(0.1))
    diag = nb.Diagnostics(log_warnings=False)
    model.fit(ds.x, ds.y, epochs=20, verbose=0, callbacks=[diag])
    for w in diag.warnings:
        print("deep sigmoid stack:", w)
    return plot_gradient_norms(diag.to_dict(), out / "vanishing_gradient_norms.png")


def playground(out: Path) -> Path:
    from PIL import Image

    pg = Playground(PlaygroundSettings(dataset="spiral", noise=0.2))
    frames = []
    for _ in range(30):
        pg.train_for(60.0, max_epochs=5)
        pg.frame()
        frames.append(pg.last_frame_seconds)
    print(
        f"playground frame ({pg.cells}x{pg.cells} cells, {pg.size} px): median "
        f"{statistics.median(frames) * 1e3:.1f} ms, max {max(frames) * 1e3:.1f} ms over "
        f"{len(frames)} frames; epoch {pg.epoch}"
    )
    path = out / "playground_frame.png"
    Image.fromarray(pg.frame()).save(path)
    return path


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--output", default=str(ROOT / "docs" / "images"))
    args = ap.parse_args(argv)
    out = Path(args.output)
    out.mkdir(parents=True, exist_ok=True)
    paths = [toy_datasets(out), *spiral_run(out), vanishing(out), playground(out)]
    for p in paths:
        print(p)


if __name__ == "__main__":
    np.seterr(all="ignore")
    main()
