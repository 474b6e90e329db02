"""Time of one update of every chapter's ipywidgets explorer (issue 13: under 50 ms).

Each chapter is executed (nbclient), then one more cell calls its explorer function with the
defaults the sliders start at, 10 times, and prints the median time per call (its output is
captured, so drawing the table or chart is included).

    python benchmarks/explorer_speed.py [book/06_landscape.ipynb ...]
"""

import os
import re
import sys
from pathlib import Path

import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]
TIMER = """
import time as _t, statistics as _st, io as _io, contextlib as _cl
from IPython.utils.capture import capture_output as _cap
_times = []
for _ in range(10):
    _s = _t.perf_counter()
    with _cap():
        {fn}()
    _times.append((_t.perf_counter() - _s) * 1e3)
print(f"EXPLORER {fn} {{_st.median(_times):.1f}}")
"""


def time_chapter(path: Path) -> list[tuple[str, float]]:
    nb = nbformat.read(path, as_version=4)
    names = [
        m.group(1)
        for c in nb.cells
        if c.cell_type == "code"
        for m in re.finditer(r"widgets\.interact\(\s*(\w+)", c.source)
    ]
    if not names:
        return []
    for fn in names:
        nb.cells.append(nbformat.v4.new_code_cell(TIMER.format(fn=fn)))
    os.environ.setdefault("IW_BOOK_BUILD", "1")
    NotebookClient(nb, timeout=600, resources={"metadata": {"path": str(path.parent)}}).execute()
    out = []
    for c in nb.cells[-len(names) :]:
        for o in c.get("outputs", []):
            for line in o.get("text", "").splitlines():
                if line.startswith("EXPLORER "):
                    _, fn, ms = line.split()
                    out.append((fn, float(ms)))
    return out


def main(paths: list[str]) -> None:
    chapters = [Path(p) for p in paths] or sorted((ROOT / "book").glob("*.ipynb"))
    for path in chapters:
        for fn, ms in time_chapter(path):
            flag = "" if ms < 50 else "   <- over 50 ms"
            print(f"{path.name:28s} {fn:24s} {ms:7.1f} ms per update{flag}")


if __name__ == "__main__":
    main(sys.argv[1:])
