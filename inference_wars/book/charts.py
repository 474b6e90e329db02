"""One look for every chart in the book: theme, stable chip colours, and the renderer that
makes Altair charts work in the static, offline HTML.

In Jupyter, charts use Altair's normal renderer. When the book is built (``IW_BOOK_BUILD=1``,
set by ``make book`` and the test suite) :func:`setup` switches to a renderer that emits plain
HTML calling ``iwEmbed`` (``book/_static/iw-charts.js``), which fits each chart to the width of
its column (a phone or a desktop), wraps long titles and then calls ``vegaEmbed``; the book
ships Vega, Vega-Lite and vega-embed in ``book/_static/vendor`` so no chart needs the network.

Colours: every chip keeps one colour in every chapter. Vendors are hue families (NVIDIA greens
to teals by generation, AMD reds, Google blues, ...); within a family colours step in lightness
and hue so that neighbours stay distinguishable, also with red-green colour blindness (checked
by ``tests/test_charts_tables.py``). A chip added to the catalog later gets its vendor's next
spare colour, or a spare from a colour-blind-safe set.
"""

from __future__ import annotations

import json
import os
import uuid

#: Fixed colours for the chips the book knows, grouped by vendor.
_FIXED: dict[str, str] = {
    # NVIDIA, by generation: yellow-green (Ampere) -> greens (Hopper, Blackwell) -> teals (Rubin)
    "a100-sxm": "#c5e0a0",
    "h100-sxm": "#7cc26b",
    "h200": "#3f9b41",
    "b200": "#1e6b2c",
    "gb200-nvl72": "#0c3f1c",
    "b300": "#5fae8c",
    "gb300-nvl72": "#2b7d5e",
    "rubin-gpu": "#44b5b5",
    "vera-rubin-nvl72": "#0f6a78",
    "rubin-cpx": "#9ad6cf",
    # AMD reds
    "mi300x": "#f7b3ab",
    "mi325x": "#963e24",
    "mi355x": "#f0553f",
    # Google blues
    "tpu-v5e": "#9ecae1",
    "tpu-v6e": "#4a8fd1",
    "tpu-ironwood": "#1c3f94",
    # single-chip vendors: distinct hues
    "inferentia2": "#d9730d",
    "groq-lpu": "#c2185b",
    "cerebras-wse3": "#9b59d0",
    "dmatrix-corsair": "#d36fc0",
    "taalas-hc1": "#f2c200",
    "matx-one": "#6b6b6b",
    "sambanova-sn40l": "#5c4033",
    "etched-sohu": "#3b3b3b",
}

#: Spare colours per vendor for chips added to the catalog later (then the generic spares).
_SPARE_BY_VENDOR: dict[str, list[str]] = {
    "NVIDIA": ["#a6e3a0", "#167a4c", "#6ccfa4", "#0a5249"],
    "AMD": ["#e34a33", "#fcbba1"],
    "Google": ["#6baed6", "#08519c"],
}
_SPARE: list[str] = [
    "#ff7f0e",
    "#17becf",
    "#bcbd22",
    "#9467bd",
    "#8c564b",
    "#d62728",
    "#1f77b4",
    "#e377c2",
]

#: Okabe-Ito: the colour-blind-safe set for series that are not chips (formats, phases, ...).
CATEGORY_COLORS: list[str] = [
    "#0072B2",
    "#E69F00",
    "#009E73",
    "#CC79A7",
    "#56B4E9",
    "#D55E00",
    "#000000",
    "#F0E442",
]

FONT = "Inter, system-ui, -apple-system, Segoe UI, Roboto, sans-serif"

#: Tick labels for numbers of 10,000 and more: 20k, 3.5M, 1B, 2T (never "1e+12").
BIG_NUMBER_LABEL_EXPR = (
    "isNumber(datum.value) && abs(datum.value) >= 1e4 ? "
    "replace(format(datum.value, '.3~s'), 'G', 'B') : datum.label"
)


#: Smallest gap, in CSS pixels, between two tick labels of a numeric axis.
LABEL_GAP_PX = 6


def _palette() -> dict[str, str]:
    """Every catalog chip's colour: the fixed ones, then vendor spares, then generic spares."""
    colors = dict(_FIXED)
    try:
        from ..catalog import chips

        catalog = chips()[["id", "vendor"]].itertuples(index=False)
    except Exception:  # pragma: no cover - the palette must never break a chart
        catalog = []
    used = set(colors.values())
    for chip_id, vendor in catalog:
        if chip_id in colors:
            continue
        spare = [c for c in _SPARE_BY_VENDOR.get(vendor, []) + _SPARE if c not in used]
        colors[chip_id] = spare[0] if spare else "#555555"
        used.add(colors[chip_id])
    return colors


#: Chip colours, fixed so a chip looks the same in every chapter.
CHIP_COLORS: dict[str, str] = _palette()


def count_label(value: float) -> str:
    """A large count as a reader says it: 1e6 -> "1M", 3e9 -> "3B", 1e12 -> "1T", 4,096 -> "4,096"."""
    v = float(value)
    for threshold, size, suffix in (
        (1e12, 1e12, "T"),
        (1e9, 1e9, "B"),
        (1e6, 1e6, "M"),
        (1e4, 1e3, "k"),
    ):
        if abs(v) >= threshold:
            return f"{v / size:.3g}{suffix}"
    return f"{v:,.4g}"


def chip_color(chip_id: str) -> str:
    """The colour of one chip (a neutral grey for an id the catalog does not know)."""
    return CHIP_COLORS.get(chip_id, "#555555")


def chip_color_scale(chips=None):
    """An Altair colour scale that keeps each chip's colour fixed."""
    import altair as alt

    domain = list(chips) if chips is not None else list(CHIP_COLORS)
    return alt.Scale(domain=domain, range=[chip_color(c) for c in domain])


def metric_axis_title(chart, expr: str, channel: str = "y"):
    """Make ``channel``'s axis title follow a menu: ``expr`` is a Vega expression over the
    chart's parameters, e.g. ``"gen_metric"`` or ``"'Throughput (' + fr_axis + ', log)'"``.

    The book's renderer turns it into a live axis title; elsewhere the static title stays."""
    meta = (
        dict(getattr(chart, "usermeta", None) or {})
        if not _is_undefined(getattr(chart, "usermeta", None))
        else {}
    )
    titles = dict(meta.get("iw_axis_titles", {}))
    titles[channel] = expr
    meta["iw_axis_titles"] = titles
    return chart.properties(usermeta=meta)


def _is_undefined(value) -> bool:
    return type(value).__name__ == "UndefinedType"


def theme() -> dict:
    return {
        "config": {
            "font": FONT,
            "view": {"stroke": None, "continuousWidth": 560, "continuousHeight": 320},
            # room on the right for an x axis's last label, centred on its tick (labelFlush off)
            "padding": {"left": 5, "top": 5, "bottom": 5, "right": 16},
            "title": {
                "fontSize": 15,
                "anchor": "start",
                "subtitleColor": "#555",
                "subtitleFontSize": 12,
            },
            "axis": {
                "labelFontSize": 11,
                "titleFontSize": 12,
                "gridColor": "#e8e8e8",
                "titleFontWeight": 500,
            },
            # numbers never overprint or touch (a tick label is dropped instead, keeping a gap of
            # LABEL_GAP_PX: log axes otherwise print "20k30k50k"); category labels all stay.
            # labelOverlap keeps Vega-Lite's default: every other label on a linear axis ("parity",
            # so the labels left stay evenly spaced; "greedy" there printed 0 20 ... 100 140 180),
            # "greedy" on a log axis
            "axisQuantitative": {
                "labelExpr": BIG_NUMBER_LABEL_EXPR,
                "labelSeparation": LABEL_GAP_PX,
                # end labels centred on their ticks: flushed, "0" pushed its neighbour off the axis
                "labelFlush": False,
            },
            "legend": {
                "labelFontSize": 11,
                "titleFontSize": 12,
                "orient": "right",
                "labelLimit": 220,
                "symbolOpacity": 1,
            },
            "range": {"category": list(CATEGORY_COLORS)},
        }
    }


def _book_renderer(spec: dict, **_metadata) -> dict:
    div = f"iw-vis-{uuid.uuid4().hex[:12]}"
    payload = json.dumps(spec, separators=(",", ":")).replace("</", "<\\/")
    html = (
        f'<div id="{div}" class="iw-chart"></div>\n'
        '<script type="text/javascript">(function(){'
        f'var el=document.getElementById("{div}"),spec={payload};'
        'if(typeof iwEmbed==="undefined"){el.textContent="(chart needs iw-charts.js and vega-embed)";return;}'
        "iwEmbed(el,spec);"
        "})();</script>"
    )
    return {"text/html": html}


def setup() -> None:
    """Register the book theme (and, when building the book, the offline HTML renderer)."""
    import altair as alt

    alt.theme.register("inference_wars", enable=True)(theme)
    alt.data_transformers.disable_max_rows()
    if os.environ.get("IW_BOOK_BUILD"):
        alt.renderers.register("inference_wars_html", _book_renderer)
        alt.renderers.enable("inference_wars_html")
