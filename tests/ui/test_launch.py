"""The options of ``nablanet ui`` for a served UI: checked when parsed (exit status 2)."""

from __future__ import annotations

import pytest

from nablanet.cli import main
from nablanet.ui.launch import build_parser, file_size


@pytest.mark.parametrize(
    ("text", "expected"),
    [("200MB", 200 * 1024**2), ("1.5 gb", int(1.5 * 1024**3)), ("512KB", 512 * 1024),
     ("4096", 4096), ("10b", 10)],
)  # fmt: skip
def test_file_sizes(text, expected):
    assert file_size(text) == expected


def test_the_defaults_of_a_served_ui():
    args = build_parser().parse_args([])
    assert args.max_concurrent_runs == 1
    assert args.max_file_size == 200 * 1024**2
    assert args.abandoned_run_timeout == 600


@pytest.mark.parametrize(
    ("option", "value", "message"),
    [
        ("--max-file-size", "12XB", "a file size such as 200MB"),
        ("--max-file-size", "-5MB", "a file size such as 200MB"),
        ("--max-file-size", "inf", "a file size such as 200MB"),
        ("--max-concurrent-runs", "0", "a positive whole number"),
        ("--max-concurrent-runs", "two", "a positive whole number"),
        ("--abandoned-run-timeout", "-1", "a number of seconds >= 0"),
    ],
)
def test_bad_values_exit_with_status_2(option, value, message, capsys):
    assert main(["ui", f"{option}={value}"]) == 2
    err = capsys.readouterr().err
    assert message in err and option in err


def test_the_start_up_lines_offer_no_share_link(tmp_path, capfd):
    """Gradio's "set `share=True` in `launch()`" hint contradicts the loopback-only promise and
    cannot be followed from the CLI: `nablanet ui` prints its own address line instead."""
    pytest.importorskip("gradio")
    from nablanet.ui.launch import launch

    app = launch(port=0, runs_dir=tmp_path / "runs", configs_dir=tmp_path, block=False)
    try:
        out, err = capfd.readouterr()
        printed = out + err
        assert "share=True" not in printed and "public link" not in printed, printed
        assert f"nablanet UI on {app.local_url}" in out
        assert "this machine only" in out
    finally:
        app.close()
