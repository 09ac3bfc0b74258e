"""Start the web UI on the local machine: ``nablanet ui [--host H] [--port P]``.

The app binds ``127.0.0.1`` unless told otherwise, never opens a public share link, and turns
Gradio's telemetry off (``GRADIO_ANALYTICS_ENABLED=False``) before Gradio is imported, so that
starting it makes no network request.

>>> parser = build_parser()
>>> args = parser.parse_args(["--port", "7861"])
>>> args.host, args.port, args.runs_dir
('127.0.0.1', 7861, 'runs')
"""

from __future__ import annotations

import argparse
import os
import socket
from collections.abc import Sequence
from pathlib import Path
from typing import Any

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 7860


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

    Returns
    -------
    gradio.Blocks
        The running app; ``app.local_url`` is its address.
    """
    disable_telemetry()
    from .app import build_app

    app = build_app(runs_dir=runs_dir, configs_dir=configs_dir, data_dir=data_dir)
    app.queue(default_concurrency_limit=4)
    app.launch(
        server_name=host,
        server_port=_pick_port(host, port),
        share=False,
        inbrowser=open_browser,
        prevent_thread_lock=not block,
        quiet=quiet,
        show_error=True,
        footer_links=[],
        ssr_mode=False,
        allowed_paths=[str(Path(runs_dir).resolve())],
        theme=_theme(),
        css=_CSS,
        js=_JS,
    )
    return app


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
