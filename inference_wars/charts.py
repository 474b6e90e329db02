"""One look for every chart in the book: theme, stable chip colours, and the renderer that
makes Altair charts work in the static, offline HTML.

In Jupyter, charts use Altair's normal renderer. When the book is built (``IW_BOOK_BUILD=1``,
set by ``make book`` and the test suite) :func:`setup` switches to a renderer that emits plain
HTML calling ``vegaEmbed``; the book ships Vega, Vega-Lite and vega-embed in
``book/_static/vendor`` so no chart needs the network.
"""

from __future__ import annotations

import json
import os
import uuid

#: Chip colours, fixed so a chip looks the same in every chapter (colour-blind-aware palette
#: grouped by vendor: greens NVIDIA, reds AMD, blues Google, oranges/purples/greys startups).
CHIP_COLORS: dict[str, str] = {
    "a100-sxm": "#b7d7a8", "h100-sxm": "#76b041", "h200": "#4e8f2a", "b200": "#2f6b1a",
    "gb200-nvl72": "#1f4d10", "rubin-gpu": "#7fd6c2", "vera-rubin-nvl72": "#159a85",
    "mi300x": "#f4a6a6", "mi355x": "#c0392b",
    "tpu-v5e": "#a6c8ff", "tpu-v6e": "#5b8def", "tpu-ironwood": "#1f4fbf",
    "inferentia2": "#ff9900", "groq-lpu": "#f26b38", "cerebras-wse3": "#8e44ad",
    "dmatrix-corsair": "#d35db3", "taalas-hc1": "#e6b800", "matx-one": "#7f7f7f",
    "sambanova-sn40l": "#6d4c41",
}

FONT = "Inter, system-ui, -apple-system, Segoe UI, Roboto, sans-serif"


def chip_color_scale(chips=None):
    """An Altair colour scale that keeps each chip's colour fixed."""
    import altair as alt

    domain = list(chips) if chips is not None else list(CHIP_COLORS)
    return alt.Scale(domain=domain, range=[CHIP_COLORS.get(c, "#555555") for c in domain])


def theme() -> dict:
    return {
        "config": {
            "font": FONT,
            "view": {"stroke": None, "continuousWidth": 560, "continuousHeight": 320},
            "title": {"fontSize": 15, "anchor": "start", "subtitleColor": "#555", "subtitleFontSize": 12},
            "axis": {"labelFontSize": 11, "titleFontSize": 12, "gridColor": "#e8e8e8", "titleFontWeight": 500},
            "legend": {"labelFontSize": 11, "titleFontSize": 12, "orient": "right"},
            "range": {"category": list(CHIP_COLORS.values())},
        }
    }


def _book_renderer(spec: dict, **_metadata) -> dict:
    div = f"iw-vis-{uuid.uuid4().hex[:12]}"
    payload = json.dumps(spec, separators=(",", ":")).replace("</", "<\\/")
    html = (
        f'<div id="{div}" class="iw-chart" style="width:100%;overflow-x:auto"></div>\n'
        '<script type="text/javascript">(function(){'
        f'var el=document.getElementById("{div}");'
        'if(typeof vegaEmbed==="undefined"){el.textContent="(chart needs vega-embed)";return;}'
        f'vegaEmbed(el,{payload},{{"actions":false,"renderer":"svg"}})'
        '.then(function(r){el.setAttribute("data-rendered","true");window.__iwViews=window.__iwViews||[];window.__iwViews.push(r.view);})'
        '.catch(function(e){el.setAttribute("data-error",String(e));console.error(e);});'
        '})();</script>'
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
