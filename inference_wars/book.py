"""Small helpers the chapters share (set-up and quoting numbers in prose).

Chapters call :func:`setup` in a hidden first cell and :func:`glue_number` to put a number the
package computed into the text with myst-nb's ``{glue:text}`` role.
"""

from __future__ import annotations

from . import charts


def setup() -> None:
    """Theme and renderer for every chart in the chapter."""
    charts.setup()


def glue_number(name: str, value) -> float:
    """Glue ``value`` as a plain Python number (numpy scalars render as ``np.float64(...)``)."""
    from myst_nb import glue

    v = float(value)
    glue(name, v, display=False)
    return v
