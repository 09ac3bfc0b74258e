"""Start the web UI on the local machine: ``nablanet ui [--host H] [--port P]``.

The app binds ``127.0.0.1`` unless told otherwise, never opens a public share link, and turns
Gradio's telemetry off (``GRADIO_ANALYTICS_ENABLED=False``) before Gradio is imported, so that
starting it makes no network request. Served to many people (``--host 0.0.0.0``), it trains
``--max-concurrent-runs`` runs at a time in a fair line, refuses uploads over
``--max-file-size`` and stops a run whose page was closed after ``--abandoned-run-timeout``
seconds (docs/security.md).

>>> parser = build_parser()
>>> args = parser.parse_args(["--port", "7861", "--max-file-size", "50MB"])
>>> args.host, args.port, args.runs_dir, args.max_concurrent_runs, args.max_file_size
('127.0.0.1', 7861, 'runs', 1, 52428800)
>>> file_size("1.5 GB"), file_size("200kb"), file_size("4096")
(1610612736, 204800, 4096)
"""

from __future__ import annotations

import argparse
import math
import os
import socket
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .queue import DEFAULT_ABANDON_TIMEOUT

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 7860
#: the largest upload (dataset, model, image) the app accepts by default
DEFAULT_MAX_FILE_SIZE = "200MB"
_UNITS = {"": 1, "B": 1, "KB": 1024, "MB": 1024**2, "GB": 1024**3, "TB": 1024**4}


def file_size(text: str) -> int:
    """Bytes of a size such as ``200MB``, ``1.5 GB``, ``512kb`` or ``4096`` (powers of 1024)."""
    raw = str(text).strip().upper().replace(" ", "")
    number = raw.rstrip("KMGTB")
    unit = raw[len(number) :]
    try:
        value = float(number)
    except ValueError:
        value = -1.0
    if unit not in _UNITS or not (value > 0 and math.isfinite(value)):
        raise argparse.ArgumentTypeError(
            f"a file size such as 200MB, 1.5GB or 512KB is expected, got {text!r}"
        )
    return int(value * _UNITS[unit])


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"a positive whole number is expected, got {text!r}")
    return value


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not value >= 0:
        raise argparse.ArgumentTypeError(f"a number of seconds >= 0 is expected, got {text!r}")
    return value


def disable_telemetry() -> None:
    """Environment that keeps Gradio (and the Hugging Face hub client) off the network."""
    os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
    os.environ.setdefault("DO_NOT_TRACK", "1")


def free_port(host: str = DEFAULT_HOST) -> int:
    """A TCP port that is free on ``host`` right now (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def add_arguments(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """The options of ``nablanet ui`` (shared with the CLI's sub-command)."""
    parser.add_argument(
        "--host", default=DEFAULT_HOST, help=f"interface to bind (default {DEFAULT_HOST})"
    )
    parser.add_argument(
        "--port",
        type=int,
        default=None,
        help=f"port (default {DEFAULT_PORT}, or the next free one; 0 picks any free port)",
    )
    parser.add_argument(
        "--runs-dir", default="runs", help="where runs are written and read (default runs/)"
    )
    parser.add_argument(
        "--configs-dir", default="configs", help="example configs offered in the Model tab"
    )
    parser.add_argument(
        "--data-dir",
        default=None,
        help="dataset cache folder (default $NABLANET_DATA or ~/.cache/nablanet)",
    )
    parser.add_argument(
        "--open-browser", action="store_true", help="open the page in a web browser"
    )
    parser.add_argument(
        "--max-concurrent-runs",
        type=_positive_int,
        default=1,
        metavar="N",
        help="training runs at the same time; the others wait in a fair line (default 1)",
    )
    parser.add_argument(
        "--max-file-size",
        type=file_size,
        default=file_size(DEFAULT_MAX_FILE_SIZE),
        metavar="SIZE",
        help=f"largest upload accepted, e.g. 50MB or 1GB (default {DEFAULT_MAX_FILE_SIZE})",
    )
    parser.add_argument(
        "--abandoned-run-timeout",
        type=_seconds,
        default=DEFAULT_ABANDON_TIMEOUT,
        metavar="SECONDS",
        help="stop a run this long after its page was closed (default 600)",
    )
    return parser


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="nablanet ui", description="Train and use nablanet models in the browser."
    )
    return add_arguments(parser)


def _pick_port(host: str, port: int | None) -> int:
    if port == 0:
        return free_port(host)
    if port is not None:
        return port
    for candidate in range(DEFAULT_PORT, DEFAULT_PORT + 20):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            try:
                s.bind((host, candidate))
            except OSError:
                continue
            return candidate
    return free_port(host)


def launch(
    host: str = DEFAULT_HOST,
    port: int | None = None,
    *,
    runs_dir: str | Path = "runs",
    configs_dir: str | Path = "configs",
    data_dir: str | Path | None = None,
    block: bool = True,
    open_browser: bool = False,
    quiet: bool = False,
    max_concurrent_runs: int = 1,
    max_file_size: int | str | None = DEFAULT_MAX_FILE_SIZE,
    abandoned_run_timeout: float = DEFAULT_ABANDON_TIMEOUT,
    train_fn: Any = None,
    poll_seconds: float = 0.7,
) -> Any:
    """Build the app and serve it on ``http://host:port``.

    Parameters
    ----------
    host, port : str, int
        Where to listen; ``port=None`` tries 7860 and the next ports, ``0`` any free port.
    runs_dir, configs_dir, data_dir : path
        See :func:`nablanet.ui.app.build_app`.
    block : bool
        Serve until interrupted (True) or return at once with the server running in a thread
        (False; call ``.close()`` on the returned app to stop it).
    max_concurrent_runs : int
        Runs that train at the same time; the others wait in a fair line.
    max_file_size : int or str or None
        The largest upload (bytes, or ``"200MB"``); Gradio refuses bigger files.
    abandoned_run_timeout : float
        Seconds a run may go on after its page was closed, then it is stopped.
    train_fn, poll_seconds
        See :func:`nablanet.ui.app.build_app`.

    Returns
    -------
    gradio.Blocks
        The running app; ``app.local_url`` is its address.
    """
    disable_telemetry()
    from .app import build_app

    app = build_app(
        runs_dir=runs_dir,
        configs_dir=configs_dir,
        data_dir=data_dir,
        train_fn=train_fn,
        poll_seconds=poll_seconds,
        max_concurrent_runs=max_concurrent_runs,
        abandon_timeout=abandoned_run_timeout,
    )
    # handlers are short (training runs in the queue's threads): a few at once per event
    # serve many pages
    app.queue(default_concurrency_limit=8)
    # Gradio's own start-up lines end with "To create a public link, set `share=True` in
    # `launch()`": advice that contradicts the loopback-only promise and that no option of
    # `nablanet ui` can follow. Gradio runs quiet and the address is printed here instead; the
    # thread is blocked after that line, not inside launch().
    app.launch(
        server_name=host,
        server_port=_pick_port(host, port),
        share=False,
        inbrowser=open_browser,
        prevent_thread_lock=True,
        quiet=True,
        max_file_size=max_file_size,
        show_error=True,
        footer_links=[],
        ssr_mode=False,
        allowed_paths=[str(Path(runs_dir).resolve())],
        theme=_theme(),
        css=_CSS,
        js=_JS,
    )
    if not quiet:
        print(started_message(app.local_url, host), flush=True)
    # as Gradio does: a script blocks, an interactive session (REPL, notebook) gets the app back
    if block and not getattr(sys, "ps1", sys.flags.interactive):
        app.block_thread()
    return app


def started_message(url: str, host: str = DEFAULT_HOST) -> str:
    """The line ``nablanet ui`` prints once the server listens.

    >>> started_message("http://127.0.0.1:7860/")
    'nablanet UI on http://127.0.0.1:7860/ (this machine only; Ctrl-C to stop)'
    """
    loopback = host in ("127.0.0.1", "localhost", "::1")
    where = "this machine only" if loopback else f"listening on {host}: see docs/security.md"
    return f"nablanet UI on {url} ({where}; Ctrl-C to stop)"


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``nablanet ui`` (also callable from ``nablanet.cli``)."""
    args = build_parser().parse_args(argv)
    return run(args)


def run(args: argparse.Namespace) -> int:
    """Launch from parsed arguments (see :func:`add_arguments`); blocks until Ctrl-C."""
    launch(
        args.host,
        args.port,
        runs_dir=args.runs_dir,
        configs_dir=args.configs_dir,
        data_dir=args.data_dir,
        open_browser=args.open_browser,
        max_concurrent_runs=args.max_concurrent_runs,
        max_file_size=args.max_file_size,
        abandoned_run_timeout=args.abandoned_run_timeout,
    )
    return 0


def _theme():
    import gradio as gr

    # system fonts only: the default theme's web fonts would be fetched from the internet
    fonts = ["ui-sans-serif", "system-ui", "-apple-system", "Segoe UI", "Roboto", "sans-serif"]
    mono = ["ui-monospace", "SFMono-Regular", "Menlo", "Consolas", "monospace"]
    return gr.themes.Soft(primary_hue="indigo", neutral_hue="slate", font=fonts, font_mono=mono)


_CSS = """
.gradio-container { width: 100% !important; max-width: 1320px !important;
  margin: 0 auto !important; }
.nb-toolbar { align-items: flex-end !important; }
#app-title h1 { margin-bottom: 0.1em; }
#app-title p { margin-top: 0; color: var(--body-text-color-subdued); }
.nb-ok { color: #15803d; font-weight: 600; }
.nb-info { color: var(--body-text-color-subdued); }
.nb-error { color: #b91c1c; font-weight: 600; }
.nb-progress { padding: 6px 2px; }
.nb-progress-track { height: 12px; border-radius: 6px; background: var(--neutral-200);
  overflow: hidden; }
.nb-progress-fill { height: 100%; border-radius: 6px; background: var(--color-accent);
  transition: width 0.4s ease; }
.nb-progress-fill.nb-finished { background: #16a34a; }
.nb-progress-fill.nb-stopped, .nb-progress-fill.nb-stopping { background: #d97706; }
.nb-progress-fill.nb-failed { background: #dc2626; }
.nb-progress-text { margin-top: 8px; font-size: var(--text-md); }
.nb-badge { display: inline-block; padding: 1px 8px; margin-right: 6px; border-radius: 999px;
  background: var(--neutral-200); font-size: var(--text-sm); font-weight: 600;
  text-transform: uppercase; letter-spacing: 0.03em; }
.nb-badge.nb-training, .nb-badge.nb-preparing { background: #e0e7ff; color: #3730a3; }
.nb-badge.nb-finished { background: #dcfce7; color: #166534; }
.nb-badge.nb-stopped, .nb-badge.nb-stopping { background: #fef3c7; color: #92400e; }
.nb-badge.nb-failed { background: #fee2e2; color: #991b1b; }
.nb-badge.nb-queued { background: #e0f2fe; color: #075985; }
#sketchpad { width: 100%; }
"""

# Gradio's sketchpad starts with no tool selected ("select the draw tool to start"), and its
# Clear button deselects the brush again: whenever the sketchpad is shown with no tool
# highlighted, pick the brush, so a visitor can always draw at once.
_JS = """
() => {
  setInterval(() => {
    const pad = document.querySelector('#sketchpad');
    if (!pad || pad.offsetParent === null) return;
    if (pad.querySelector('button.highlight')) return;
    const brush = pad.querySelector('button[aria-label="Brush"]');
    if (brush) brush.click();
  }, 300);
}
"""
