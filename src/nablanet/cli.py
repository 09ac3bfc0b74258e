"""The ``nablanet`` command line: train, tune, evaluate, predict, export, visualize, datasets, web UI.

Exit codes: 0 success, 2 bad usage or input (one clear line, no traceback; ``--debug`` shows it),
1 any other failure, 130 interrupted (Ctrl-C), 143 terminated (SIGTERM). An interrupted training
resumes with ``nablanet train --resume RUN_DIR``.

Call it in-process with ``main(["train", "--config", "configs/breast_cancer.yaml"])``; it returns
the exit code.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import signal
import sys
import traceback
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

from . import __version__

__all__ = ["build_parser", "main"]

PROG = "nablanet"
LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130
EXIT_TERMINATED = 143


class Terminated(KeyboardInterrupt):
    """Raised in the main thread when the process receives SIGTERM (so the run logs how to
    resume and the checkpoint on disk stays valid)."""


class UsageError(Exception):
    """Bad usage that argparse cannot see (exit code 2)."""


def _user_errors() -> tuple[type[BaseException], ...]:
    from .data import DataError
    from .nn import NablanetError

    return (
        UsageError,
        NablanetError,
        DataError,
        FileNotFoundError,
        IsADirectoryError,
        NotADirectoryError,
        PermissionError,
    )


# -- commands -----------------------------------------------------------------------------------
def _cmd_train(args: argparse.Namespace) -> int:
    from . import pipeline

    if args.resume is None and not args.config:
        raise UsageError("give --config FILE (see configs/), or --resume RUN_DIR")
    if args.resume is not None:
        if args.config:
            raise UsageError("--resume uses the run's own config.yaml; drop --config (--set works)")
        with _terminate_as_interrupt():
            result = pipeline.resume(
                pipeline.resolve_run_path(args.resume),
                args.set or [],
                data_dir=args.data_dir,
                progress=args.progress,
                log_level=args.log_level,
            )
    else:
        config = pipeline.load_config(args.config, args.set or [])
        with _terminate_as_interrupt():
            result = pipeline.train(
                config, data_dir=args.data_dir, progress=args.progress, log_level=args.log_level
            )
    from .pipeline.evaluate import summarize_metrics

    test = result.metrics.get("test")
    summary = f"test: {summarize_metrics(test)}" if test else "no test split"
    print(f"{result.run_dir}  {result.status}  {summary}")
    return EXIT_OK


def _cmd_evaluate(args: argparse.Namespace) -> int:
    from .pipeline import evaluate_model_file
    from .pipeline.evaluate import summarize_metrics

    result = evaluate_model_file(
        args.model,
        args.data,
        target=args.target,
        output_dir=args.output,
        plots=not args.no_plots,
        data_dir=args.data_dir,
    )
    m = result.metrics
    print(f"{m.get('source')}: {m.get('n_samples')} samples  {summarize_metrics(m)}")
    if m.get("confusion_matrix") is not None and len(m["confusion_matrix"]) <= 12:
        cm = m["confusion_matrix"]
        names = m.get("class_names") or [str(i) for i in range(len(cm))]
        first = max(len(n) for n in names) + 2
        col = max(max(len(n) for n in names), max(len(str(v)) for r in cm for v in r)) + 2
        print("confusion matrix (rows: true, columns: predicted)")
        print(" " * first + "".join(f"{n:>{col}}" for n in names))
        for name, row in zip(names, cm):
            print(f"{name:<{first}}" + "".join(f"{v:>{col}d}" for v in row))
    if result.metrics_path is not None:
        print(f"metrics: {result.metrics_path}")
    if result.plots:
        print(f"plots: {result.plots[0].parent}")
    return EXIT_OK


def _cmd_predict(args: argparse.Namespace) -> int:
    from .pipeline import predict

    preds = predict(args.model, args.input, by_position=args.by_position)
    if args.output:
        preds.to_csv(args.output)
        print(f"{len(preds)} prediction(s) written to {args.output}")
    else:
        sys.stdout.write(preds.to_csv())
    return EXIT_OK


def _cmd_export(args: argparse.Namespace) -> int:
    from .pipeline import resolve_model_path
    from .pipeline.export import export_onnx

    model = resolve_model_path(args.model)  # a model file, a run directory, runs/latest
    if args.output:
        output = Path(args.output)
    else:  # next to the model file: runs/<run>/model.onnx
        output = model.with_suffix(".onnx")
    result = export_onnx(
        model,
        output,
        preprocessing=not args.no_preprocessing,
        opset=args.opset,
        overwrite=args.force,
    )
    print(result.summary())
    return EXIT_OK


def _read_history(path: Path) -> dict:
    from .pipeline.errors import InputError

    if path.is_dir():  # a run directory (runs/latest resolved by the caller)
        path = path / "history.json"
    if not path.exists():
        raise InputError(f"{path}: no such history file")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise InputError(f"{path}: not a readable history.json ({e})") from None
    if not isinstance(data, dict) or not all(isinstance(v, list) for v in data.values()):
        raise InputError(f"{path}: not a history file (expected {{'loss': [...], ...}})")
    return data


def _cmd_visualize(args: argparse.Namespace) -> int:
    from .pipeline import plots, resolve_run_path
    from .pipeline.errors import InputError

    path = resolve_run_path(args.history)  # runs/latest -> the run it points at
    history = _read_history(path)
    base = path if path.is_dir() else path.parent
    out = Path(args.output) if args.output else base / "plots"
    written = plots.plot_history(history, out)
    if not written:
        raise InputError(f"{path}: the history holds no values to plot")
    from .pipeline.diagnostics import visualize_run

    # a run's diagnostics: gradient norms, histograms, a 2-D model's decision regions
    written += visualize_run(base, out)
    for p in written:
        print(p)
    return EXIT_OK


def _cmd_datasets(args: argparse.Namespace) -> int:
    from .data import default_data_dir, list_datasets

    infos = list_datasets(args.data_dir)
    if args.json:
        print(json.dumps([i.to_dict() for i in infos], indent=2))
        return EXIT_OK
    rows = [("name", "task", "train", "test", "input shape", "classes", "offline", "location")]
    for i in infos:
        rows.append(
            (
                i.name,
                i.task,
                str(i.n_train),
                "-" if i.n_test is None else str(i.n_test),
                "x".join(map(str, i.input_shape)),
                "-" if i.n_classes is None else str(i.n_classes),
                "yes" if i.available_offline else "no",
                i.location,
            )
        )
    widths = [max(len(r[c]) for r in rows) for c in range(len(rows[0]) - 1)]
    for r in rows:
        print("  ".join(f"{v:<{w}}" for v, w in zip(r, widths)) + "  " + r[-1])
    cache = Path(args.data_dir) if args.data_dir else default_data_dir()
    print(f"\ncache directory: {cache}  (set NABLANET_DATA or --data-dir to change it)")
    print("user data in a config: {csv: file.csv, target: column}, {npz: file.npz}, {images: dir}")
    return EXIT_OK


def _cmd_tune(args: argparse.Namespace) -> int:
    from .pipeline import tune

    config, base = tune.load_tune_config(args.config, args.set or [])
    if config.tune is None:
        raise UsageError(f"{args.config[-1]}: no tune: section (see docs/tuning.md)")
    if args.show:
        result = tune.show_study(
            config, base, storage=args.storage, study_name=args.study, plots=not args.no_plots
        )
    else:
        with _terminate_as_interrupt():
            result = tune.run_tune(
                config,
                base,
                storage=args.storage,
                study_name=args.study,
                n_trials=args.n_trials,
                data_dir=args.data_dir,
                progress=args.progress,
                log_level=args.log_level,
                plots=not args.no_plots,
            )
    study = result.study
    counts: dict[str, int] = {}
    for row in result.rows:
        counts[row.state] = counts.get(row.state, 0) + 1
    states = ", ".join(f"{n} {s.lower()}" for s, n in sorted(counts.items())) or "no trials"
    print(f"study {study.name} in {study.storage}: {states}")
    if result.rows:
        print(tune.format_trials_table(result.rows, study.metric))
    for key in ("best_yaml", "trials_csv"):
        if result.files.get(key):
            print(result.files[key])
    if result.files.get("plots"):
        print(result.files["plots"][0].parent)
    return EXIT_OK


# The web UI lives in nablanet.ui (gradio is imported only when `nablanet ui` runs, so the other
# commands never pay for it). nablanet.ui.launch owns the options and the launch.
def _add_ui_arguments(p: argparse.ArgumentParser) -> None:
    from .ui.launch import add_arguments

    add_arguments(p)


def _cmd_ui(args: argparse.Namespace) -> int:
    try:
        import gradio  # noqa: F401

        from .ui.launch import run
    except ImportError as e:
        raise UsageError(f"the web UI is not available ({e}); pip install 'nablanet[ui]'") from None
    result = run(args)
    return result if isinstance(result, int) else EXIT_OK


# -- parser -------------------------------------------------------------------------------------
def _common(parser: argparse.ArgumentParser, suppress: bool) -> None:
    """``--log-level`` and ``--debug``, accepted before or after the command name."""
    g = parser.add_argument_group("output")
    g.add_argument(
        "--log-level",
        type=str.upper,
        choices=LEVELS,
        default=argparse.SUPPRESS if suppress else "INFO",
        help="console log level (default INFO); train.log always gets INFO and up (DEBUG too with DEBUG)",
    )
    g.add_argument(
        "--debug",
        action="store_true",
        default=argparse.SUPPRESS if suppress else False,
        help="show the full traceback of an error",
    )


Command = tuple[str, str, Callable[[argparse.ArgumentParser], None], Callable[..., int]]


def _train_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--config",
        action="append",
        metavar="FILE",
        help="YAML config; repeat to combine files (later ones override)",
    )
    p.add_argument(
        "--set",
        action="append",
        metavar="KEY=VALUE",
        help="override one value, e.g. --set training.epochs=5 --set model.layers[0].units=64",
    )
    p.add_argument(
        "--resume",
        metavar="RUN_DIR",
        help="continue an interrupted run (runs/<run>, runs/latest) from its checkpoints/last.npz",
    )
    p.add_argument("--data-dir", help="dataset cache directory (default $NABLANET_DATA)")
    bar = p.add_mutually_exclusive_group()
    bar.add_argument(
        "--progress",
        dest="progress",
        action="store_true",
        default=None,
        help="progress bar per epoch (default: when stderr is a terminal)",
    )
    bar.add_argument("--no-progress", dest="progress", action="store_false", help="no bar")


MODEL_HELP = "a model file (runs/<run>/model.npz), a run directory (runs/<run>) or runs/latest"


def _evaluate_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--model", required=True, help=MODEL_HELP)
    p.add_argument(
        "--data",
        help="test.csv (with the target column), test.npz (x, y), an image folder, or "
        "dataset:<name>; default: the run's held-out test split",
    )
    p.add_argument("--target", help="target column of a CSV (default: the training one)")
    p.add_argument(
        "--output",
        metavar="DIR",
        help="where evaluation-<data>.json and plots/ go (default: the model's run directory)",
    )
    p.add_argument("--no-plots", action="store_true", help="skip the plots")
    p.add_argument("--data-dir", help="dataset cache directory (default $NABLANET_DATA)")


def _predict_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--model", required=True, help=MODEL_HELP)
    p.add_argument(
        "--input",
        required=True,
        help="raw samples: .npy, .npz (array x), .csv (feature columns; a first row of numbers "
        "is data, a header must name the model's columns), an "
        "image (.png, .jpg, ...) or a folder of images",
    )
    p.add_argument(
        "--output",
        metavar="FILE",
        help="write the predictions as CSV (default: print them)",
    )
    p.add_argument(
        "--by-position",
        action="store_true",
        help="take a CSV's columns in order when its header does not name the model's columns "
        "(the counts must match)",
    )


# pipeline.export's DEFAULT_OPSET, MIN_OPSET, MAX_OPSET (tests/pipeline/test_export.py checks
# it), written out so that building the parser does not import the pipeline
EXPORT_OPSETS = (17, 14, 21)


def _export_arguments(p: argparse.ArgumentParser) -> None:
    default_opset, min_opset, max_opset = EXPORT_OPSETS
    p.add_argument("--model", required=True, help=MODEL_HELP)
    p.add_argument("--format", choices=["onnx"], default="onnx", help="file format (onnx)")
    p.add_argument(
        "--output", metavar="FILE", help="the file to write (default: model.onnx next to the model)"
    )
    p.add_argument(
        "--opset",
        type=int,
        choices=range(min_opset, max_opset + 1),
        metavar="N",
        default=default_opset,
        help=f"ONNX opset, {min_opset}..{max_opset} (default {default_opset})",
    )
    p.add_argument(
        "--no-preprocessing",
        action="store_true",
        help="export the bare network, without the fitted preprocessing",
    )
    p.add_argument("--force", action="store_true", help="replace an existing output file")


def _visualize_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--history",
        required=True,
        help="a history.json, or a run directory holding one (runs/<run>, runs/latest)",
    )
    p.add_argument("--output", metavar="DIR", help="where the PNGs go (default: <run>/plots)")


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {text!r}")
    return value


def _tune_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--config",
        action="append",
        metavar="FILE",
        required=True,
        help="YAML config with a tune: section; repeat to combine files",
    )
    p.add_argument(
        "--set",
        action="append",
        metavar="KEY=VALUE",
        help="override one value of the config (the base of every trial, or tune.*)",
    )
    p.add_argument(
        "--storage",
        metavar="URL",
        help="database shared by the workers, e.g. postgresql://user@host:5432/db "
        "(default: <output_dir>/<study>/study.db)",
    )
    p.add_argument("--study", metavar="NAME", help="study name (default tune.study, else name)")
    p.add_argument(
        "--n-trials",
        type=_positive_int,
        metavar="N",
        help="trials this process runs (default tune.n_trials)",
    )
    p.add_argument(
        "--show",
        action="store_true",
        help="run nothing: print the best trials, write best.yaml, trials.csv and plots",
    )
    p.add_argument("--no-plots", action="store_true", help="skip the study's plots")
    p.add_argument("--data-dir", help="dataset cache directory (default $NABLANET_DATA)")
    bar = p.add_mutually_exclusive_group()
    bar.add_argument(
        "--progress",
        dest="progress",
        action="store_true",
        default=False,
        help="progress bar per epoch (default: none)",
    )
    bar.add_argument("--no-progress", dest="progress", action="store_false", help="no bar")


def _datasets_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--data-dir", help="dataset cache directory (default $NABLANET_DATA)")
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")


COMMANDS: list[Command] = [
    (
        "train",
        "train a model from a YAML config into a new run directory",
        _train_arguments,
        _cmd_train,
    ),
    (
        "evaluate",
        "metrics and plots of a saved model on labelled data",
        _evaluate_arguments,
        _cmd_evaluate,
    ),
    (
        "tune",
        "search hyperparameters with Optuna: one training run per trial (needs nablanet[tune])",
        _tune_arguments,
        _cmd_tune,
    ),
    ("predict", "predict on raw inputs with a saved model", _predict_arguments, _cmd_predict),
    (
        "export",
        "write a saved model as an ONNX file, its preprocessing included",
        _export_arguments,
        _cmd_export,
    ),
    (
        "visualize",
        "plot learning curves from a history.json (and a run's diagnostics)",
        _visualize_arguments,
        _cmd_visualize,
    ),
    (
        "datasets",
        "list the built-in datasets and where they are cached",
        _datasets_arguments,
        _cmd_datasets,
    ),
    ("ui", "start the web UI (needs nablanet[ui])", _add_ui_arguments, _cmd_ui),
]

EPILOG = """examples:
  nablanet train --config configs/breast_cancer.yaml --set training.epochs=20
  nablanet evaluate --model runs/latest          # the newest run (or runs/<run>, a model.npz)
  nablanet predict --model runs/latest --input sample.csv
  nablanet export --model runs/<run> --output model.onnx
  nablanet visualize --history runs/<run>
  nablanet tune --config configs/breast_cancer_tune.yaml --n-trials 20
  nablanet datasets
"""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="nablanet: train, evaluate and use neural networks written from scratch "
        "in NumPy.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    _common(parser, suppress=False)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name, help_text, add_arguments, func in COMMANDS:
        p = sub.add_parser(name, help=help_text, description=help_text[0].upper() + help_text[1:])
        add_arguments(p)
        _common(p, suppress=True)
        p.set_defaults(func=func)
    return parser


@contextlib.contextmanager
def _terminate_as_interrupt() -> Iterator[None]:
    """Turn SIGTERM into :class:`Terminated` while training (main thread only)."""
    try:
        previous = signal.getsignal(signal.SIGTERM)

        def handler(signum, frame):
            raise Terminated()

        signal.signal(signal.SIGTERM, handler)
    except ValueError:  # not the main thread
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI with ``argv`` (default ``sys.argv[1:]``); returns the exit code."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as e:  # --help, --version, usage errors (argparse exits 2)
        return int(e.code or 0) if not isinstance(e.code, str) else EXIT_USAGE
    debug = bool(getattr(args, "debug", False))
    from .pipeline.logs import configure_logging

    configure_logging(args.log_level)
    try:
        return args.func(args)
    except KeyboardInterrupt as e:
        terminated = isinstance(e, Terminated)
        print(f"{PROG}: {'terminated' if terminated else 'interrupted'}", file=sys.stderr)
        return EXIT_TERMINATED if terminated else EXIT_INTERRUPTED
    except _user_errors() as e:
        if debug:
            traceback.print_exc()
        print(f"{PROG}: error: {_one_line(e)}", file=sys.stderr)
        return EXIT_USAGE
    except MemoryError as e:  # never raw: a file or a setting asked for more than there is
        if debug:
            traceback.print_exc()
        detail = f" ({_one_line(e)})" if str(e) else ""
        print(
            f"{PROG}: error: not enough memory{detail}: a file or a setting asks for more than "
            "this machine has",
            file=sys.stderr,
        )
        return EXIT_USAGE
    except Exception as e:
        if debug:
            traceback.print_exc()
            hint = ""
        else:
            hint = " (run with --debug for the traceback)"
        print(f"{PROG}: error: {type(e).__name__}: {_one_line(e)}{hint}", file=sys.stderr)
        return EXIT_FAILURE


def _one_line(e: BaseException) -> str:
    text = str(e) or type(e).__name__
    if isinstance(e, OSError) and e.filename and e.strerror:
        text = f"{e.filename}: {e.strerror}"
    return " ".join(text.split())


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
