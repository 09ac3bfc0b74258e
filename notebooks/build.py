"""Build the course notebooks (``notebooks/*.ipynb``) from their sources in ``notebooks/src/``.

    python notebooks/build.py --execute   # write the notebooks, run, with their outputs
    python notebooks/build.py             # write the notebooks without running them
    python notebooks/build.py --check     # exit 1 if a notebook's cells differ from its source

Each source is a Python file in the "percent" format: a line ``# %%`` starts a code cell and
``# %% [markdown]`` a Markdown cell, whose lines are comments (``# text``). The sources are plain
Python, so they are linted and diffed like the rest of the code. The notebooks are committed
executed (``--execute``: a fresh kernel runs every cell in a scratch folder, with one BLAS thread
and the seeds the notebooks set), so that a student reads the results on GitHub or in JupyterLab
before running anything. The outputs keep no trace of the machine: the scratch folder, the data
cache (``$NABLANET_DATA``) and the home folder are written as ``.``, ``$NABLANET_DATA`` and ``~``;
no cell timings are recorded, and the log lines lose their clock time and per-epoch duration. ``--check`` compares the cells' sources only; the test suite runs
every notebook again.
"""

from __future__ import annotations

import argparse
import copy
import os
import re
import sys
import tempfile
from pathlib import Path

import nbformat

HERE = Path(__file__).resolve().parent
SOURCES = HERE / "src"
MARKER = "# %%"


def parse_cells(text: str) -> list[tuple[str, str]]:
    """``[(kind, source), ...]`` with kind ``"code"`` or ``"markdown"``."""
    cells: list[tuple[str, list[str]]] = []
    for line in text.splitlines():
        if line.startswith(MARKER):
            kind = "markdown" if "[markdown]" in line else "code"
            cells.append((kind, []))
        elif cells:
            cells[-1][1].append(line)
        elif line.strip() and not line.startswith("#"):
            raise ValueError(f"code before the first '{MARKER}' cell marker: {line!r}")
    out = []
    for kind, lines in cells:
        if kind == "markdown":
            lines = [_uncomment(line) for line in lines]
        source = "\n".join(lines).strip("\n")
        if source:
            out.append((kind, source))
    return out


def _uncomment(line: str) -> str:
    if line.strip() in ("", "#"):
        return ""
    if not line.startswith("# "):
        raise ValueError(f"a Markdown cell line must start with '# ': {line!r}")
    return line[2:]


def build_notebook(source: Path) -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    nb.metadata = {
        "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
        "language_info": {"name": "python"},
    }
    for i, (kind, text) in enumerate(parse_cells(source.read_text(encoding="utf-8"))):
        cell = (
            nbformat.v4.new_markdown_cell(text)
            if kind == "markdown"
            else nbformat.v4.new_code_cell(text)
        )
        cell.id = f"{source.stem[:2]}-{i:03d}"  # stable ids: rebuilding changes nothing
        nb.cells.append(cell)
    nbformat.validate(nb)
    return nb


def render(source: Path) -> str:
    return nbformat.writes(build_notebook(source)) + "\n"


def strip_outputs(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """A copy of ``nb`` without outputs, execution counts or execution metadata."""
    nb = copy.deepcopy(nb)
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
            cell.metadata.pop("execution", None)
    return nb


def cells_text(path: Path) -> str:
    """The notebook at ``path`` as :func:`render` would write it: its cells without outputs."""
    return nbformat.writes(strip_outputs(nbformat.read(path, as_version=4))) + "\n"


# one BLAS thread: the notebooks' small matrix products are fastest single-threaded, and the
# numbers do not depend on the machine's thread count
ONE_THREAD = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


# the pipeline's console log lines start with the clock time and end each epoch with its
# duration: dropped, so that running the notebooks again changes only what was computed
_CLOCK = re.compile(r"^\d\d:\d\d:\d\d (?=DEBUG|INFO|WARNING|ERROR)", flags=re.M)
_EPOCH_TIME = re.compile(r"  \(\d+\.\d+ s\)$", flags=re.M)


def _anonymize(text: str, replacements: list[tuple[str, str]]) -> str:
    for old, new in replacements:
        text = text.replace(old, new)
    return _EPOCH_TIME.sub("", _CLOCK.sub("", text))


def small_png(data: str) -> str:
    """A base64 PNG re-encoded with a 256-colour palette on white (a third of the bytes; the
    notebooks' plots have few colours, and their look does not change)."""
    import base64
    import io

    from PIL import Image

    image = Image.open(io.BytesIO(base64.b64decode(data)))
    if image.mode != "RGBA":
        image = image.convert("RGBA")
    flat = Image.new("RGB", image.size, (255, 255, 255))
    flat.paste(image, mask=image.split()[3])
    palette = flat.quantize(colors=256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
    out = io.BytesIO()
    palette.save(out, format="PNG", optimize=True)
    return base64.b64encode(out.getvalue()).decode("ascii") + "\n"


def execute(source: Path, timeout: int = 1800) -> nbformat.NotebookNode:
    """The notebook of ``source``, run top to bottom in a fresh ``python3`` kernel (this
    interpreter) in a scratch folder; machine-specific paths in the outputs are replaced."""
    import nbclient

    nb = build_notebook(source)
    bin_dir = str(Path(sys.executable).parent)
    saved = {k: os.environ.get(k) for k in ("PATH", "PYDEVD_DISABLE_FILE_VALIDATION", *ONE_THREAD)}
    os.environ.update(ONE_THREAD, PYDEVD_DISABLE_FILE_VALIDATION="1")
    os.environ["PATH"] = bin_dir + os.pathsep + os.environ.get("PATH", "")
    try:
        with tempfile.TemporaryDirectory(prefix="nablanet-notebook-") as scratch:
            client = nbclient.NotebookClient(
                nb,
                timeout=timeout,
                kernel_name="python3",
                record_timing=False,
                resources={"metadata": {"path": scratch}},
            )
            client.execute()
            replacements = [(str(Path(scratch).resolve()) + "/", ""), (scratch + "/", "")]
            replacements += [(str(Path(scratch).resolve()), "."), (scratch, ".")]
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    data = os.environ.get("NABLANET_DATA")
    if data:
        replacements.append((str(Path(data).expanduser().resolve()), "$NABLANET_DATA"))
        replacements.append((data, "$NABLANET_DATA"))
    replacements.append((str(Path.home()), "~"))
    # the kernel writes its Python version into the metadata: keep the source's, so that a
    # rerun elsewhere changes nothing there
    nb.metadata = build_notebook(source).metadata
    for cell in nb.cells:
        cell.metadata.pop("execution", None)
        for output in cell.get("outputs", []):
            if "text" in output:
                output["text"] = _anonymize(output["text"], replacements)
            for key, value in output.get("data", {}).items():
                if key.startswith("text/") and isinstance(value, str):
                    output["data"][key] = _anonymize(value, replacements)
                elif key == "image/png":
                    output["data"][key] = small_png(value)
            if output.get("output_type") == "error":
                raise RuntimeError(f"{source.name}: a cell failed: {output.get('evalue')}")
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs = merge_streams(cell.outputs)
    nbformat.validate(nb)
    return nb


def merge_streams(outputs: list) -> list:
    """Adjacent outputs of one stream joined into one: how the kernel chunks what a cell
    prints depends on timing, and a rerun must not change the file for that."""
    merged: list = []
    for output in outputs:
        last = merged[-1] if merged else None
        if (
            output.get("output_type") == "stream"
            and last is not None
            and last.get("output_type") == "stream"
            and last.get("name") == output.get("name")
        ):
            last["text"] = last["text"] + output["text"]
        else:
            merged.append(output)
    return merged


def targets() -> dict[Path, Path]:
    """``{source: notebook}`` for every source."""
    return {src: HERE / f"{src.stem}.ipynb" for src in sorted(SOURCES.glob("[0-9]*.py"))}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--check", action="store_true", help="only check the cells, write nothing")
    mode.add_argument("--execute", action="store_true", help="write the notebooks executed")
    parser.add_argument("names", nargs="*", help="only these notebooks (e.g. 01), default all")
    args = parser.parse_args(argv)
    stale = []
    for src, dst in targets().items():
        if args.names and not any(src.stem.startswith(n) for n in args.names):
            continue
        text = render(src)
        if args.execute:
            dst.write_text(nbformat.writes(execute(src)) + "\n", encoding="utf-8")
            print(f"wrote {dst.relative_to(HERE.parent)} (executed)")
            continue
        if dst.exists() and cells_text(dst) == text:
            continue
        if args.check:
            stale.append(dst.name)
        else:
            dst.write_text(text, encoding="utf-8")
            print(f"wrote {dst.relative_to(HERE.parent)} (not executed: add --execute)")
    if stale:
        print(
            f"out of date (run python notebooks/build.py --execute): {', '.join(stale)}",
            file=sys.stderr,
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
