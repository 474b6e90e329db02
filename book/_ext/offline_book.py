"""Sphinx extension for the offline, light book.

- Drops duplicated <script> entries (Jupyter Book 1.x registers sphinx-thebe's inline
  configuration twice, which makes browsers log "Identifier 'THEBE_JS_URL' has already been
  declared" on every page).
- Loads the chart scripts (Vega, Vega-Lite, vega-embed and ``iw-charts.js``) only on pages
  that draw a chart, and KaTeX (its scripts and stylesheets) only on pages with maths.
- Drops the theme's 1.5 MB Font Awesome script: the theme's stylesheet already carries the
  same icons as a web font, loaded only for the glyphs a page uses.
- Drops the search index and tools from every page but search.html (search-as-you-type is off).
- Makes every page depend on the book's own scripts and stylesheet (``book/_static``): Sphinx
  skips a build in which no page changed, static files included, so an edit to
  ``iw-charts.js`` alone never reached the HTML of an existing build.
"""

from __future__ import annotations

import re
from pathlib import Path

#: Scripts a page with an Altair chart needs, in load order (paths under book/_static).
CHART_SCRIPTS = [
    "vendor/vega.min.js",
    "vendor/vega-lite.min.js",
    "vendor/vega-embed.min.js",
    "iw-charts.js",
]
_FONTAWESOME = re.compile(
    r'<script[^>]*src="[^"]*_static/scripts/fontawesome\.js[^"]*"[^>]*></script>\s*'
)
_FONTAWESOME_PRELOAD = re.compile(
    r'<link[^>]*href="[^"]*_static/scripts/fontawesome\.js[^"]*"[^>]*>\s*'
)
#: The theme loads Sphinx's search index (~170 kB) on every page for search-as-you-type, which
#: is off (the search box opens search.html, which loads it): drop it from the other pages.
_SEARCH_TOOLS = re.compile(
    r'<script src="[^"]*(?:_static/searchtools\.js|_static/language_data\.js|searchindex\.js)"></script>\s*'
)


def _filename(script) -> str:
    return str(getattr(script, "filename", script) or "")


def _is_maths(filename: str) -> bool:
    """A KaTeX script or stylesheet (``vendor/katex/...``, ``katex.min.js``, ``auto-render.min.js``,
    ``katex_autorenderer.js``, ``katex-math.css``)."""
    name = filename.lower()
    return "katex" in name or name.endswith("auto-render.min.js")


def _page_scripts(app, pagename, templatename, context, doctree):
    scripts = context.get("script_files")
    if scripts is None:
        return
    body = context.get("body", "") or ""
    seen, unique = set(), []
    for s in scripts:
        key = (_filename(s), getattr(s, "attributes", {}).get("body", ""))
        if key in seen:
            continue
        if _is_maths(key[0]) and 'class="math' not in body:
            continue  # no maths on this page
        seen.add(key)
        unique.append(s)
    scripts[:] = unique  # in place: the builder appends per-page scripts to this same list
    styles = context.get("css_files")
    if styles is not None and 'class="math' not in body:
        styles[:] = [c for c in styles if not _is_maths(_filename(c))]
    if 'class="iw-chart"' in body:
        for i, name in enumerate(CHART_SCRIPTS):
            app.builder.add_js_file(name, priority=800 + i)


def _lighten_pages(app, exception):
    if exception is not None or app.builder.format != "html":
        return
    for page in Path(app.outdir).rglob("*.html"):
        text = page.read_text(encoding="utf-8")
        lighter = _FONTAWESOME_PRELOAD.sub("", _FONTAWESOME.sub("", text))
        if page.name != "search.html" and not app.config.html_theme_options.get(
            "search_as_you_type"
        ):
            lighter = _SEARCH_TOOLS.sub("", lighter)
        if lighter != text:
            page.write_text(lighter, encoding="utf-8")


#: The book's own static files (not the vendored ones, which change only with a version bump).
OWN_STATIC = ("iw-charts.js", "book.css")


def _depend_on_own_static(app, doctree) -> None:
    static = Path(app.srcdir) / "book" / "_static"
    for name in OWN_STATIC:
        app.env.note_dependency(str(static / name))


#: Version of what this extension records in Sphinx's saved environment (raising it makes Sphinx
#: read every page again): version 2 records each page's dependency on the book's own scripts.
ENV_VERSION = 2


def setup(app):
    app.connect("doctree-read", _depend_on_own_static)
    app.connect("html-page-context", _page_scripts, priority=900)
    app.connect("build-finished", _lighten_pages)
    return {"parallel_read_safe": True, "parallel_write_safe": True, "env_version": ENV_VERSION}
