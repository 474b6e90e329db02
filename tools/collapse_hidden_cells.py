"""Collapse in JupyterLab the code the published book hides: sets ``jupyter.source_hidden`` on
every code cell tagged remove-cell, remove-input or hide-input in book/*.ipynb (and clears it
elsewhere). Run after tagging cells; tests/test_book_sources.py fails until it has been run.

    .venv/bin/python tools/collapse_hidden_cells.py
"""

from pathlib import Path

import nbformat

from inference_wars.book.lab import collapse_hidden_sources

ROOT = Path(__file__).resolve().parents[1]

if __name__ == "__main__":
    for path in sorted((ROOT / "book").glob("*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        n = collapse_hidden_sources(nb)
        if n:
            nbformat.write(nb, path)
            print(f"{path.name}: {n} cells")
