"""Give every chapter notebook a first, hidden cell that installs the package on Google Colab.

Colab opens a chapter straight from the repository, without `make`; this cell installs
`inference_wars` there, with the `book` extra (myst-nb for glued numbers, altair, ipywidgets and
the offline chart renderer), and does nothing anywhere else. The repository URL comes from
`_config.yml`, the same one the launch buttons use. Idempotent: run it after editing chapters.

    .venv/bin/python tools/colab_cell.py book/*.ipynb
"""

from __future__ import annotations

import sys
from pathlib import Path

import nbformat
import yaml

ROOT = Path(__file__).resolve().parents[1]
MARK = "# Colab only:"


def colab_source() -> str:
    url = yaml.safe_load((ROOT / "_config.yml").read_text())["repository"]["url"]
    return (
        f"{MARK} install the book's package (elsewhere `make lab` has installed it)\n"
        "import sys\n\n"
        'if "google.colab" in sys.modules:\n'
        f'    %pip install --quiet "inference_wars[book] @ git+{url}"'
    )


def ensure(path: Path) -> bool:
    nb = nbformat.read(path, as_version=4)
    cell = nbformat.v4.new_code_cell(colab_source(), metadata={"tags": ["remove-cell"]})
    first = next((i for i, c in enumerate(nb.cells) if c.cell_type == "code"), None)
    if first is not None and nb.cells[first].source.startswith(MARK):
        if nb.cells[first].source == cell.source:
            return False
        nb.cells[first].source = cell.source
    else:
        nb.cells.insert(first if first is not None else len(nb.cells), cell)
    for c in nb.cells:  # nbformat 4.5 wants ids; keep existing ones
        c.setdefault("id", nbformat.v4.new_code_cell().id)
    nbformat.write(nb, path)
    return True


if __name__ == "__main__":
    for arg in sys.argv[1:]:
        if ensure(Path(arg)):
            print("updated", arg)
