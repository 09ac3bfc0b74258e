"""The README's Python example runs as printed, and its links point at files that exist."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"


def python_blocks(text: str) -> list[str]:
    return re.findall(r"```python\n(.*?)```", text, flags=re.S)


def test_the_library_example_runs_and_learns(tmp_path, monkeypatch, capsys):
    blocks = python_blocks(README.read_text(encoding="utf-8"))
    assert blocks, "README.md has no ```python block"
    monkeypatch.chdir(tmp_path)  # it saves model.npz in the working directory
    namespace: dict = {}
    exec(compile(blocks[0], "README.md", "exec"), namespace)
    printed = capsys.readouterr().out
    assert "accuracy" in printed
    assert (tmp_path / "model.npz").is_file()
    model, split, scaler = namespace["model"], namespace["split"], namespace["scaler"]
    accuracy = model.evaluate(scaler.transform(split.x_test), split.y_test, return_dict=True)[
        "accuracy"
    ]
    assert accuracy > 0.9  # breast cancer: about 0.96


def test_local_links_exist():
    text = README.read_text(encoding="utf-8")
    targets = re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", text)
    local = [t for t in targets if not re.match(r"[a-z]+://", t)]
    assert local
    missing = [t for t in local if not (ROOT / t).exists()]
    assert not missing, f"README.md links to missing files: {missing}"
