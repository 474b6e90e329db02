"""Small helpers the chapters share (set-up and quoting numbers in prose).

Chapters call :func:`setup` in a hidden first cell and :func:`glue_number` to put a number the
package computed into the text with myst-nb's ``{glue:text}`` role.

Honest precision. The model's error is tens of percent, so a modelled number in prose carries at
most :data:`MAX_SIG_FIGS` significant figures: ``glue_number(name, value, sig=3)`` rounds it
(:func:`round_sig`). A number that is exact, a catalog fact such as a chip's published 141 GB
or 9,216 chips per pod, or a count, is glued with ``exact=True``: the executed notebook then
carries the mark (output metadata ``inference_wars.exact``) and :func:`precision_problems`
leaves it alone. :func:`precision_problems` reads an executed chapter and lists every
``{glue:text}`` use that prints more significant figures than that, or prints zero for a
number that is not zero.

One number, one place. :data:`SHARED_QUANTITIES` names the quantities that more than one
chapter quotes: each entry lists the ``(chapter, glue name)`` pairs that mean the same thing
and the package function that computes it. The tests check that every chapter glues the same
value for them (and that a glue name used in two chapters means one value).
"""

from __future__ import annotations

import math
import re

from . import charts

#: Significant figures a modelled number may show in prose.
MAX_SIG_FIGS = 3

#: Quantities more than one chapter quotes, as ``{meaning: {"function": ..., "glue": [...]}}``:
#: the package function that computes it and the ``(chapter stem, glue name)`` pairs that quote
#: it. Each chapter glues the value of the one function; the tests fail when two chapters glue
#: different values.
SHARED_QUANTITIES: dict[str, dict] = {
    "h100_hbm_tb_s": {
        "function": "inference_wars.catalog.Chip.get",
        "glue": [("01_battlefield", "h100_bw"), ("06_landscape", "h100_bw")],
    },
    "h100_fp8_ridge_flop_per_byte": {
        "function": "inference_wars.engine.roofline.ridge_point",
        "glue": [("01_battlefield", "ridge_h100_fp8"), ("02_gpu_baseline", "ridge_h100_fp8")],
    },
    "groq_layer_floor_us": {
        "function": "inference_wars.analyses.claims.layer_floor",
        "glue": [("06_landscape", "groq_layer_us"), ("07_reading_claims", "groq_floor")],
    },
    "groq_layer_floor_n": {
        "function": "inference_wars.analyses.claims.layer_floor",
        "glue": [("06_landscape", "groq_layer_n"), ("07_reading_claims", "groq_n")],
    },
    "taalas_8b_speed_low": {
        "function": "inference_wars.analyses.claims.reproduce_claim",
        "glue": [("04_taalas", "hc8_speed_lo"), ("07_reading_claims", "taalas_lo")],
    },
    "fitted_overlap_exponent": {
        "function": "inference_wars.engine.factors.chip_factors",
        "glue": [("02_gpu_baseline", "p_overlap"), ("appendix_validation", "p_overlap")],
    },
    "overlap_loss_at_ridge": {
        "function": "inference_wars.engine.serving.overlapped_s",
        "glue": [("02_gpu_baseline", "ridge_loss_x"), ("appendix_validation", "ridge_loss_x")],
    },
    "taalas_8b_speed_high": {
        "function": "inference_wars.analyses.claims.reproduce_claim",
        "glue": [("04_taalas", "hc8_speed_hi"), ("07_reading_claims", "taalas_hi")],
    },
}

_GLUE_ROLE = re.compile(r"\{glue:text\}`([A-Za-z0-9_.-]+)(?::([^`]*))?`")


def setup() -> None:
    """Theme and renderer for every chart in the chapter.

    The book build (``IW_BOOK_BUILD``) renders charts as HTML for the vendored Vega
    (:func:`charts.setup`). Anywhere else (JupyterLab, Colab, a workshop laptop with no network)
    charts render through Altair's ``jupyter`` renderer in offline mode: a JupyterChart widget
    (anywidget) whose JavaScript, Vega included, is bundled into the notebook by vl-convert, so no
    chart fetches anything from a CDN (Altair's default renderer loads Vega from jsDelivr). There
    it also displays :func:`book_markup`, which renders the glue roles, citations and solutions
    that jupyterlab-myst leaves raw."""
    import os

    charts.setup()
    if not os.environ.get("IW_BOOK_BUILD"):
        offline_renderer()
        book_markup()


def offline_renderer() -> bool:
    """Switch Altair to the renderer that bundles its JavaScript; False (default renderer kept)
    when anywidget or vl-convert is not installed."""
    try:
        import altair as alt
        import anywidget  # noqa: F401  (JupyterChart is an anywidget)
        import vl_convert  # noqa: F401  (bundles vega-embed, Vega and Vega-Lite for offline use)
    except ImportError:
        return False
    alt.renderers.enable("jupyter", offline=True)
    alt.JupyterChart.enable_offline(offline=True)
    return True


def book_markup() -> bool:
    """In a Jupyter kernel, display the invisible companion that renders glue roles, citations
    and collapsed solutions as the book does (jupyterlab-myst knows none of them; see
    :mod:`inference_wars.book.lab`); False when anywidget is not installed or outside a kernel."""
    try:
        from . import lab
    except ImportError:
        return False
    return lab.show()


def round_sig(value, sig: int = MAX_SIG_FIGS) -> float:
    """``value`` rounded to ``sig`` significant figures (``round_sig(706_912) == 707_000``)."""
    v = float(value)
    if sig < 1:
        raise ValueError(f"sig must be at least 1, got {sig!r}")
    if v == 0 or not math.isfinite(v):
        return v
    digits = sig - 1 - math.floor(math.log10(abs(v)))
    return float(round(v, digits))


class GluedNumber(float):
    """A number :func:`glue_number` glued: a plain float that, as the last line of a cell, shows
    nothing (the prose shows it), so JupyterLab prints no stray value under a hidden cell."""

    def _ipython_display_(self) -> None:
        return None


def glue_number(name: str, value, sig: int | None = None, exact: bool = False) -> float:
    """Glue ``value`` as a plain Python number (numpy scalars render as ``np.float64(...)``).

    ``sig``: round to that many significant figures first (modelled numbers: 2 or 3).
    ``exact``: the number is a catalog fact or a count, printed in full; the mark travels in
    the executed notebook so that :func:`precision_problems` exempts it."""
    from myst_nb import glue

    if sig is not None and exact:
        raise ValueError(f"{name}: a number is either rounded (sig) or exact, not both")
    v = float(value) if sig is None else round_sig(value, sig)
    _record(name, v)
    if not exact:
        glue(name, v, display=False)
        return GluedNumber(v)
    import IPython
    from IPython.display import display
    from myst_nb.ext.glue import GLUE_PREFIX

    bundle, metadata = IPython.core.formatters.format_display_data(v)
    metadata["scrapbook"] = dict(name=name, mime_prefix=GLUE_PREFIX)
    metadata["inference_wars"] = {"exact": True}
    display({GLUE_PREFIX + k: x for k, x in bundle.items()}, raw=True, metadata=metadata)
    return GluedNumber(v)


# --------------------------------------------------------------------------- checks on chapters


def glue_uses(markdown: str) -> list[tuple[str, str]]:
    """``(name, format)`` of every ``{glue:text}`name:format``` role in ``markdown``."""
    return [(m.group(1), m.group(2) or "") for m in _GLUE_ROLE.finditer(markdown)]


def printed_sig_figs(text: str) -> int:
    """Significant figures a printed number shows: ``"706,900"`` 4, ``"0.0420"`` 3, ``"37"`` 2,
    ``"123.0"`` 4 (digits after a decimal point count, trailing zeros of an integer do not);
    0 when it shows no non-zero digit (``"0.00"``)."""
    s = text.strip().lstrip("+-−").replace(",", "")
    s = re.split(r"[eE]", s)[0]
    digits = s.replace(".", "").lstrip("0")
    if not digits:
        return 0
    if "." not in s:
        digits = digits.rstrip("0")
    return len(digits)


def glued_values(nb) -> dict[str, tuple[float, bool]]:
    """``{glue name: (value, exact)}`` for every number glued in an executed notebook (an
    ``nbformat`` node or its dict)."""
    out: dict[str, tuple[float, bool]] = {}
    for cell in nb["cells"]:
        for o in cell.get("outputs", []) if cell["cell_type"] == "code" else []:
            meta = o.get("metadata", {})
            scrap = meta.get("scrapbook")
            if not scrap:
                continue
            data = o.get("data", {})
            text = data.get(scrap.get("mime_prefix", "") + "text/plain", data.get("text/plain"))
            try:
                value = float(text)
            except (TypeError, ValueError):
                continue
            out[scrap["name"]] = (value, bool(meta.get("inference_wars", {}).get("exact")))
    return out


def precision_problems(nb, max_sig: int = MAX_SIG_FIGS) -> list[str]:
    """Every ``{glue:text}`` use in an executed notebook that prints a modelled number with more
    than ``max_sig`` significant figures, or prints zero for a number that is not zero (exact
    numbers, see :func:`glue_number`, are exempt from the first). One line each."""
    values = glued_values(nb)
    problems = []
    for cell in nb["cells"]:
        if cell["cell_type"] != "markdown":
            continue
        src = cell["source"] if isinstance(cell["source"], str) else "".join(cell["source"])
        for name, fmt in glue_uses(src):
            if name not in values:
                continue
            value, exact = values[name]
            try:
                shown = (
                    format(value, fmt) if fmt else repr(value)
                )  # no format: the role prints repr
            except ValueError:
                continue
            n = printed_sig_figs(shown)
            if n == 0 and value != 0:
                problems.append(f"{name}:{fmt} prints {shown!r} for {value!r}")
            elif not exact and _rounds_a_tie(value, fmt):
                problems.append(
                    f"{name}:{fmt} prints {shown!r} for {value!r}: the glued number was already "
                    f"rounded and now sits on a tie, so the printed digit may be wrong (the "
                    f"unrounded value decides it); glue it at the figures printed, or print all"
                )
            elif n > max_sig and not exact:
                problems.append(
                    f"{name}:{fmt} prints {shown!r}: {n} significant figures of a modelled number "
                    f"(round with glue_number(..., sig=3), or mark a fact exact=True)"
                )
    return problems


def _rounds_a_tie(value, fmt: str) -> bool:
    """Whether a fixed-point ``fmt`` (``.1f``, ``,.0f``) cuts ``value`` exactly at a half: a
    number glued at 3 significant figures (6.3521 -> 6.35) and printed at one decimal shows
    6.3, though the number it stands for rounds to 6.4 (double rounding).

    >>> _rounds_a_tie(6.35, ".1f"), _rounds_a_tie(6.3521, ".1f"), _rounds_a_tie(6.35, ".3g")
    (True, False, False)
    """
    from decimal import Decimal

    m = re.fullmatch(r",?\.(\d+)f", fmt or "")
    if not m or not isinstance(value, float) or not math.isfinite(value):
        return False
    q = Decimal(repr(value)).scaleb(int(m.group(1)))
    return q - q.to_integral_value(rounding="ROUND_FLOOR") == Decimal("0.5")


def glue_words(name: str, text: str) -> str:
    """Glue a short piece of Markdown (a verdict, a name) for the ``{glue:md}`` role."""
    from IPython.display import Markdown
    from myst_nb import glue

    glue(name, Markdown(str(text)), display=False)
    _record(name, Markdown(str(text)))
    return str(text)


def _record(name: str, value) -> None:
    """Hand a glued value to the JupyterLab companion (:func:`book_markup`), if it is running."""
    import sys

    lab = sys.modules.get(__name__ + ".lab")
    if lab is not None:
        lab.glued(name, value)
