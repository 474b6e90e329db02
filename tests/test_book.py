"""The built book: it builds with warnings as errors, and in a real browser with the network
blocked, at a desktop's (1,400 px) and a phone's (390 px) width, every page loads without a
console warning or error, every chart draws data marks, no text is too small to read, no page
scrolls sideways, every slider or menu changes its chart, and a page without charts stays
light. With IW_SCREENSHOTS=1 (`make screenshots`) screenshots land in
tests/screenshots/<width>_<page>.jpg for a person to look at."""

import os
import re
import sys
import time
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlparse

import pytest

sys.path.insert(0, str(Path(__file__).parents[1] / "benchmarks"))
from page_weight import file_bytes  # noqa: E402

pytestmark = pytest.mark.browser
SHOTS = Path(__file__).parent / "screenshots"
#: Screenshots of every page cost the check about 16 s of its 65 s; `make screenshots` (or
#: IW_SCREENSHOTS=1) takes them, `make test` only checks.
SCREENSHOTS = os.environ.get("IW_SCREENSHOTS") == "1"
#: every page of the book, from _toc.yml
PAGES = ["book/intro.html", "book/references.html"] + [
    f"{line.split('file:')[1].strip()}.html"
    for line in (Path(__file__).parents[1] / "_toc.yml").read_text().splitlines()
    if "file:" in line
]


CHAPTERS = [p for p in sorted(set(PAGES)) if p.split("/")[-1][:2].isdigit()]


def pages(html_root: Path) -> list[str]:
    return sorted(str(p.relative_to(html_root)) for p in (html_root / "book").glob("*.html"))


class _Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.refs: list[str] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        for key in ("href", "src"):
            if key in a and a[key] and tag in ("a", "img", "script", "link"):
                self.refs.append(a[key])


def test_book_builds_and_has_every_chapter(built_book):
    found = pages(built_book)
    missing = sorted(set(PAGES) - set(found))
    assert not missing, f"pages in _toc.yml that were not built: {missing}"
    refs = (built_book / "book" / "references.html").read_text()
    from inference_wars.catalog import bib_keys

    assert refs.count('role="doc-biblioentry"') == len(bib_keys()), "every catalog source is listed"
    assert "llama 3 herd" in refs.lower()


def test_every_chapter_can_be_launched_on_binder_and_colab(built_book):
    import yaml

    repo = yaml.safe_load((Path(__file__).parents[1] / "_config.yml").read_text())["repository"][
        "url"
    ]
    slug = urlparse(repo).path.strip("/")
    for rel in CHAPTERS:
        html = (built_book / rel).read_text()
        stem = rel.split("/")[-1].removesuffix(".html")
        assert f"https://mybinder.org/v2/gh/{slug}/" in html and f"{stem}.ipynb" in html, (
            f"{rel}: no Binder button"
        )
        assert f"https://colab.research.google.com/github/{slug}/blob/" in html, (
            f"{rel}: no Colab button"
        )


def test_no_page_references_the_network_or_a_missing_file(built_book):
    for rel in pages(built_book):
        path = built_book / rel
        parser = _Links()
        parser.feed(path.read_text())
        for ref in parser.refs:
            url = urlparse(ref)
            # outbound links in prose are fine (scripts/styles are checked below); so are anchors
            if url.scheme or ref.startswith("#") or not url.path:
                continue
            target = (path.parent / url.path).resolve()
            assert target.exists(), f"{rel} links to missing {ref}"
        text = path.read_text()
        scripts = re.findall(r'<script[^>]+src="(https?://[^"]+)"', text) + re.findall(
            r'<link[^>]+href="(https?://[^"]+)"[^>]*stylesheet', text
        )
        assert not scripts, f"{rel} loads {scripts} from the network"


def test_no_table_shows_a_programmer_column_name(built_book):
    """Tables a reader sees (also the ones saved inside the explorers' static state) name their
    columns in words, not as the package's identifiers: no header like ``n_chips`` or
    ``ttft_s_low`` (issue 13: tables for readers go through ``tables.for_page``)."""
    raw = re.compile(r"^[a-z][a-z0-9]*(_[a-z0-9]+)+$")
    found = {}
    for rel in pages(built_book):
        text = (built_book / rel).read_text()
        if rel.endswith(("api.html", "api_engine.html", "api_analyses.html")):
            continue  # the API reference documents identifiers on purpose
        heads = re.findall(r"<th[^>]*>\s*([^<]*?)\s*</th>", text.replace("\\n", " "))
        bad = sorted({h for h in heads if raw.match(h)})
        if bad:
            found[rel] = bad
    assert not found, f"raw column names in tables: {found}"


def test_no_page_prints_a_leftover_value(built_book):
    """A cell's bare last expression (``len(df)``, a tuple of intermediate results) shows up on
    the page as a lone line such as "2149": meaningless to a reader. Outside the exercise
    solutions, which show their working on purpose, the chapters print words (``print``), tables
    and charts, never a raw value."""
    value = re.compile(
        r'<div class="output text_plain[^"]*"><div class="highlight"><pre><span></span>(.*?)</pre>',
        re.S,
    )
    found = {}
    for rel in pages(built_book):
        text = (built_book / rel).read_text()
        for m in value.finditer(text):
            before = text[: m.start()]
            if before.rfind('<section id="solution-content">') > before.rfind("</section>"):
                continue  # inside a solution block
            found.setdefault(rel, []).append(re.sub(r"<[^>]+>", "", m.group(1)).strip()[:40])
    assert not found, f"bare values printed on pages: {found}"


def test_no_page_prints_a_number_in_exponent_notation(built_book):
    """Prose, tables and glued numbers read "220 tokens/s", never "2.2e+02" (a ``:.2g`` format on
    a number above 99 does that). Code, scripts and the API reference, which shows constants as
    Python writes them, are not prose."""
    exponent = re.compile(r"\b\d+(\.\d+)?e[+-]\d+\b")
    code = re.compile(r"<script.*?</script>|<pre.*?</pre>|<code.*?</code>|<style.*?</style>", re.S)
    found = {}
    for rel in pages(built_book):
        if rel.endswith(("api.html", "api_engine.html", "api_analyses.html")):
            continue
        text = re.sub(r"<[^>]+>", " ", code.sub(" ", (built_book / rel).read_text()))
        hits = [text[max(0, m.start() - 40) : m.end()] for m in exponent.finditer(text)]
        if hits:
            found[rel] = hits[:3]
    assert not found, f"numbers in exponent notation: {found}"


#: The two screens every page is read on: a desktop and a phone.
WIDTHS = {
    1400: {"viewport": {"width": 1400, "height": 900}},
    390: {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 2, "is_mobile": True},
}
#: Screenshots stop this far down a page (6-7 desktop screens, ~15 on a phone; the probe still
#: reads the whole page). Rendering a 12,000 px screenshot cost the browser check 15 s more.
MAX_SHOT_HEIGHT = 6_000
#: Smallest text a reader should have to read, in CSS pixels.
MIN_TEXT_PX = 9
#: Smallest gap between two neighbouring tick labels, in CSS pixels (the theme keeps 6).
MIN_LABEL_GAP_PX = 2
#: Furthest a chart's text may run past the chart's box, in CSS pixels (a flush end label).
MAX_TEXT_SPILL_PX = 4
#: Uncompressed bytes a page without charts may load (HTML, scripts, styles, fonts, images).
MAX_PLAIN_PAGE_BYTES = 1_500_000
#: ... for a page whose own HTML is up to this size; a bigger page may exceed it by the excess.
MAX_OWN_HTML_BYTES = 500_000

#: An SVG text's words (a wrapped title is one <tspan> per line).
TEXT_JS = (
    "t => ([...t.querySelectorAll('tspan')].map(s => s.textContent).join(' ') || t.textContent)"
)
TEXTS = f"ts => ts.map({TEXT_JS})"
#: In the page: what a reader sees. Data marks are read from each Vega view's scenegraph (only
#: items with finite coordinates count: a log scale whose domain includes zero draws none);
#: text sizes include the scaling of a chart squeezed into its column.
PROBE = (
    r"""() => {
  const TEXT = TEXT_JS;
  const charts = [...document.querySelectorAll('.iw-chart')].map(el => {
    const view = el.__iwView; let marks = 0, nonfinite = 0;
    const ok = v => v === undefined || Number.isFinite(v);
    (function walk(group) {
      for (const mark of (group.items || [])) {
        if (mark.role && mark.role !== 'mark' && mark.role !== 'scope' && mark.role !== 'cell') continue;
        for (const item of (mark.items || [])) {
          if (mark.marktype === 'group') { walk(item); continue; }
          if (ok(item.x) && ok(item.y) && ok(item.width) && ok(item.height) && ok(item.x2) && ok(item.y2)) marks++;
          else nonfinite++;
        }
      }
    })(view ? view.scenegraph().root.items[0] || {} : {});
    const svg = el.querySelector('svg'), box = el.getBoundingClientRect();
    // tick labels that touch ("20k30k50k"): the smallest gap between neighbours on each axis
    // whose labels run straight (rotated category labels overlap their boxes but not their words)
    const crowded = [];
    for (const ax of (svg ? svg.querySelectorAll('g.role-axis') : [])) {
      const texts = [...ax.querySelectorAll('.role-axis-label text')].filter(t =>
        t.textContent.trim() && getComputedStyle(t).opacity !== '0'
        && !/rotate\((?!0\))/.test(t.getAttribute('transform') || ''));
      const r = texts.map(t => t.getBoundingClientRect()).filter(b => b.width > 0);
      if (r.length < 2) continue;
      const across = Math.abs(r[0].top - r[r.length - 1].top) < 2;
      r.sort((a, b) => across ? a.left - b.left : a.top - b.top);
      for (let i = 1; i < r.length; i++) {
        const gap = across ? r[i].left - r[i - 1].right : r[i].top - r[i - 1].bottom;
        if (gap < LABEL_GAP) { crowded.push(`${across ? 'x' : 'y'} labels ${gap.toFixed(1)}px apart`); break; }
      }
    }
    // a linear axis whose labels left after overlap removal sit at uneven steps ("0 20 40 60 80
    // 100 140 180": Vega's greedy removal reads as a broken or non-linear scale)
    const uneven = [];
    (function axes(group) {
      for (const mark of (group.items || [])) {
        if (mark.role === 'axis') {
          for (const ax of mark.items) {
            let type = null;
            try { type = view.scale((ax.datum || {}).scale).type; } catch (e) { continue; }
            if (type !== 'linear') continue;
            const vals = [];
            (function labels(g) {
              for (const m of (g.items || [])) {
                if (m.role === 'axis-label') for (const it of m.items)
                  if (it.opacity !== 0 && it.datum && typeof it.datum.value === 'number') vals.push(it.datum.value);
                for (const i2 of (m.items || [])) if (i2.items) labels(i2);
              }
            })(ax);
            vals.sort((a, b) => a - b);
            const steps = vals.slice(1).map((v, i) => v - vals[i]);
            if (steps.length > 1 && Math.max(...steps) - Math.min(...steps) > 1e-9 * Math.max(...steps))
              uneven.push(`labels at uneven steps: ${vals.slice(0, 12).join(' ')}`);
          }
        } else if (mark.marktype === 'group') for (const item of mark.items) axes(item);
      }
    })(view ? view.scenegraph().root.items[0] || {} : {});
    // words drawn past the chart's own box (a legend row or an axis title wider than the chart)
    let spill = null;
    for (const t of (svg ? svg.querySelectorAll('text') : [])) {
      const r = t.getBoundingClientRect(), past = Math.max(r.right - box.right, box.left - r.left);
      if (r.width && t.textContent.trim() && past > SPILL && (!spill || past > spill.px))
        spill = {px: Math.round(past), text: t.textContent.trim().slice(0, 40)};
    }
    return {marks, nonfinite, error: el.dataset.error || null, rendered: el.dataset.rendered === 'true',
            svgWidth: svg ? svg.getBoundingClientRect().width : 0, boxWidth: box.width, crowded, uneven, spill,
            legends: svg ? [...svg.querySelectorAll('g.role-legend-title text')].map(t => t.textContent.trim()) : [],
            axisTitles: svg ? [...svg.querySelectorAll('.role-axis-title text')].map(TEXT) : []};
  });
  const small = [];
  for (const svg of document.querySelectorAll('.iw-chart svg')) {
    const scale = svg.getBoundingClientRect().width / (svg.width.baseVal.value || 1);
    for (const t of svg.querySelectorAll('text')) {
      const size = parseFloat(getComputedStyle(t).fontSize) * scale;
      if (t.textContent.trim() && size < MIN)
        small.push(`chart text "${t.textContent.slice(0, 30)}" at ${size.toFixed(1)}px`);
    }
  }
  const article = document.querySelector('.bd-article') || document.body;
  const walker = document.createTreeWalker(article, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const node = walker.currentNode, el = node.parentElement;
    // KaTeX sets struts of zero-width spaces in 2px boxes and keeps a hidden MathML copy
    if (!node.textContent.replace(/[\s\u200b]/g, '') || !el || el.closest('svg, .katex-mathml')
        || !el.getClientRects().length) continue;
    const size = parseFloat(getComputedStyle(el).fontSize);
    if (size < MIN) small.push(`text "${node.textContent.trim().slice(0, 30)}" at ${size}px`);
  }
  const maths = [...document.querySelectorAll('.math')];
  const unrendered = maths.filter(m => !m.querySelector('.katex') || m.querySelector('.katex-error'))
    .map(m => m.textContent.trim().slice(0, 40));
  return {charts, small, maths: maths.length, unrendered,
          overflow: document.documentElement.scrollWidth - window.innerWidth,
          paragraph: parseFloat(getComputedStyle(article.querySelector('p') || article).fontSize)};
}""".replace("MIN", str(MIN_TEXT_PX))
    .replace("TEXT_JS", TEXT_JS)
    .replace("LABEL_GAP", str(MIN_LABEL_GAP_PX))
    .replace("SPILL", str(MAX_TEXT_SPILL_PX))
)


def _select_changes(page) -> tuple[int, list[str]]:
    """Switch every menu and slider of every chart once; a control that changes nothing is a
    problem, and so is a menu-driven axis title that does not follow the menu."""
    problems, seen = [], 0
    charts = page.locator(".iw-chart")
    for i in range(charts.count()):
        chart = charts.nth(i)
        live = chart.evaluate(
            "el => !!(el.__iwSpec && el.__iwSpec.usermeta && el.__iwSpec.usermeta.iw_axis_titles)"
        )
        selects, ranges = (
            chart.locator(".vega-bindings select"),
            chart.locator(".vega-bindings input[type=range]"),
        )
        followed = not live
        for j in range(selects.count()):
            sel = selects.nth(j)
            values = sel.locator("option").evaluate_all("os => os.map(o => o.value)")
            if len(values) < 2:
                problems.append(f"chart {i}: menu {j} has one option")
                continue
            before = chart.locator("svg").inner_html()
            new = next(v for v in values if v != sel.input_value())
            sel.select_option(new)
            if _changed_svg(chart, before) == before:
                problems.append(f"chart {i}: menu {j} set to {new} did not change the chart")
            titles = chart.locator(".role-axis-title text").evaluate_all(TEXTS)
            followed = followed or any(new in t for t in titles)
            seen += 1
        for j in range(ranges.count()):
            rng = ranges.nth(j)
            before = chart.locator("svg").inner_html()
            rng.evaluate(
                "e => { e.value = e.max; e.dispatchEvent(new Event('input', {bubbles: true})); }"
            )
            if _changed_svg(chart, before) == before:
                problems.append(f"chart {i}: slider {j} did not change the chart")
            seen += 1
        if not followed:
            problems.append(f"chart {i}: its axis title does not follow its menu")
    return seen, problems


@pytest.fixture(scope="module")
def seen(built_book, book_server, browser):
    """Every page at both widths, loaded once each with the network blocked: what the probe
    saw, console messages, blocked requests, bytes loaded (screenshots: :data:`SCREENSHOTS`)."""
    if SCREENSHOTS:
        SHOTS.mkdir(exist_ok=True)
    host, book_root = urlparse(book_server).netloc, built_book
    out = {}
    for rel in sorted(set(PAGES)):
        for width, options in WIDTHS.items():
            ctx = browser.new_context(**options)
            page = ctx.new_page()
            blocked, console, sizes = [], [], {}

            def route(r):
                if urlparse(r.request.url).netloc == host or r.request.url.startswith("data:"):
                    return r.continue_()
                blocked.append(r.request.url)
                return r.abort()

            page.route("**/*", route)
            page.on(
                "console",
                lambda m: (
                    console.append(f"{m.type}: {m.text}")
                    if m.type in ("error", "warning")
                    else None
                ),
            )
            page.on("pageerror", lambda e: console.append(f"pageerror: {e}"))
            page.on(
                "response",
                lambda resp: sizes.__setitem__(resp.url, file_bytes(book_root, resp.url)),
            )
            t0 = time.monotonic()
            page.goto(f"{book_server}/{rel}", wait_until="load")
            n = page.locator(".iw-chart").count()
            if n:
                page.wait_for_function(
                    "n => document.querySelectorAll("
                    "'.iw-chart[data-rendered=\"true\"], .iw-chart[data-error]').length >= n",
                    arg=n,
                    timeout=20_000,
                )
            page.evaluate("document.fonts.ready")
            t1 = time.monotonic()
            result = page.evaluate(PROBE)
            t2 = time.monotonic()
            if SCREENSHOTS:
                height = min(
                    page.evaluate("document.documentElement.scrollHeight"), MAX_SHOT_HEIGHT
                )
                page.screenshot(
                    path=str(SHOTS / f"{width}_{rel.replace('/', '_')}.jpg"),
                    full_page=True,
                    scale="css",
                    type="jpeg",
                    quality=80,
                    clip={"x": 0, "y": 0, "width": width, "height": height},
                )
            t3 = time.monotonic()
            result["controls"], result["control_problems"] = (
                _select_changes(page) if width == 1400 else (0, [])
            )
            result["seconds"] = {
                "load": t1 - t0,
                "probe": t2 - t1,
                "screenshot": t3 - t2,
                "controls": time.monotonic() - t3,
            }
            result.update(console=console, blocked=blocked, bytes=sum(sizes.values()))
            out[(rel, width)] = result
            ctx.close()
    if os.environ.get("IW_BROWSER_TIMES"):
        for key, r in out.items():
            print(key, {k: round(v, 2) for k, v in r["seconds"].items()})
    return out


PAGE_WIDTHS = [(rel, w) for rel in sorted(set(PAGES)) for w in WIDTHS]


@pytest.mark.parametrize(
    "rel,width", PAGE_WIDTHS, ids=[f"{r.split('/')[-1]}@{w}" for r, w in PAGE_WIDTHS]
)
def test_reader_sees_every_chart_and_can_read_every_word(seen, rel, width):
    """Offline, at a desktop's and a phone's width: no console warning or error (Vega logs e.g.
    "Log scale domain includes zero" there), every chart draws data marks, no text below
    MIN_TEXT_PX, no tick labels closer than MIN_LABEL_GAP_PX, a linear axis's labels at even
    steps, no two legends with one title, no text past its chart's box, and the page never scrolls
    sideways."""
    r = seen[(rel, width)]
    problems = [f"console: {m}" for m in r["console"]] + [f"network: {u}" for u in r["blocked"]]
    for i, c in enumerate(r["charts"]):
        if not c["rendered"] or c["error"]:
            problems.append(f"chart {i} did not render: {c['error']}")
        if c["marks"] == 0:
            problems.append(f"chart {i} draws no data marks ({c['nonfinite']} with no position)")
        if c["svgWidth"] > c["boxWidth"] + 1:
            problems.append(f"chart {i} is wider than its column")
        problems += [f"chart {i}: {x}" for x in c["crowded"] + c["uneven"]]
        repeated = sorted({t for t in c["legends"] if t and c["legends"].count(t) > 1})
        if repeated:  # one scale per channel drew its own legend: "System", "System", "System"
            problems.append(f"chart {i}: legends repeat the title {repeated}")
        if c["spill"]:
            problems.append(
                f"chart {i}: '{c['spill']['text']}' runs {c['spill']['px']}px past the chart"
            )
    problems += [f"maths not rendered: {m}" for m in r["unrendered"][:5]]
    problems += r["small"][:8]
    if r["overflow"] > 2:
        problems.append(f"the page is {r['overflow']}px wider than a {width}px screen")
    if r["paragraph"] < 14:
        problems.append(f"body text at {r['paragraph']}px")
    assert not problems, problems


@pytest.mark.parametrize("rel", CHAPTERS)
def test_every_control_changes_its_chart(seen, rel):
    """Every numbered chapter has a static what-if that works with no kernel; a menu that
    switches the metric also switches the axis title (with its unit)."""
    r = seen[(rel, 1400)]
    assert r["controls"] >= 1, (
        f"{rel}: a chapter's static what-if needs at least one menu or slider"
    )
    assert not r["control_problems"], r["control_problems"]
    assert not r["console"], r["console"]


@pytest.mark.parametrize("rel", sorted(set(PAGES)))
def test_a_page_loads_only_the_scripts_it_uses(seen, built_book, rel):
    """Chart scripts only where there is a chart, KaTeX only where there is maths; a page
    without a chart (maths included) stays under MAX_PLAIN_PAGE_BYTES."""
    r, html = seen[(rel, 1400)], (built_book / rel).read_text()
    assert bool(re.search(r"<script[^>]*vega\.min\.js", html)) == bool(r["charts"]), rel
    assert not re.search(r"<script[^>]*fontawesome\.js", html), rel
    maths = 'class="math' in html
    assert bool(re.search(r"<script[^>]*katex\.min\.js", html, re.I)) == maths, rel
    assert bool(re.search(r"<link[^>]*katex\.min\.css", html, re.I)) == maths, rel
    assert not re.search(r"<script[^>]*mathjax", html, re.I), rel
    assert not re.search(r"<script[^>]*searchindex\.js", html), rel
    if not r["charts"]:
        # what the book adds to a page's own HTML (the API page's autodoc HTML alone is ~0.66 MB)
        own = (built_book / rel).stat().st_size
        allowed = MAX_PLAIN_PAGE_BYTES + max(0, own - MAX_OWN_HTML_BYTES)
        assert r["bytes"] <= allowed, (
            f"{rel} loads {r['bytes']:,} bytes ({own:,} of them its own HTML)"
        )


def _changed_svg(chart, before: str, timeout_s: float = 5.0) -> str:
    """The chart's SVG once it differs from ``before`` (Vega re-renders asynchronously; a slow
    machine gets up to ``timeout_s``), or the unchanged SVG after that."""
    deadline = time.monotonic() + timeout_s
    while True:
        svg = chart.locator("svg").inner_html()
        if svg != before or time.monotonic() > deadline:
            return svg
        chart.page.wait_for_timeout(50)


def _chart_specs(html: str) -> list[dict]:
    import json

    return [json.loads(m) for m in re.findall(r"spec=(\{.*?\});if\(typeof iwEmbed", html)]


def _colour_scales(node):
    if isinstance(node, dict):
        enc = node.get("color")
        if (
            isinstance(enc, dict)
            and isinstance(enc.get("scale"), dict)
            and "domain" in enc["scale"]
        ):
            yield enc["scale"]
        for v in node.values():
            yield from _colour_scales(v)
    elif isinstance(node, list):
        for v in node:
            yield from _colour_scales(v)


def test_every_chart_uses_the_book_theme_and_chip_colours(built_book):
    """One look across chapters: every chart carries the theme from `charts`, and wherever chips
    are coloured, each chip gets its own fixed colour."""
    from inference_wars.book.charts import CHIP_COLORS, FONT

    n = 0
    for rel in pages(built_book):
        for spec in _chart_specs((built_book / rel).read_text()):
            n += 1
            assert spec.get("config", {}).get("font") == FONT, (
                f"{rel}: a chart without the book theme"
            )
            for scale in _colour_scales(spec):
                dom, rng = scale.get("domain"), scale.get("range")
                if isinstance(dom, list) and dom and all(d in CHIP_COLORS for d in dom):
                    assert rng == [CHIP_COLORS[d] for d in dom], (
                        f"{rel}: chip colours differ from charts.CHIP_COLORS"
                    )
    assert n >= 6


def test_the_probe_sees_an_empty_chart_and_tiny_text(book_server, browser):
    """The reader's-eye checks can fail: bars on a log axis whose domain includes zero draw no
    marks (and Vega warns), the same bars drawn from the axis do, 7 px text is caught, and so are
    a linear axis's labels thinned to uneven steps (Vega's greedy overlap removal) but not the
    theme's (every other label), and three legends that share one title."""
    import altair as alt
    import pandas as pd

    from inference_wars import charts

    charts.setup()
    df = pd.DataFrame({"chip": ["a", "b"], "v": [30.0, 35_000.0]})
    broken = (
        alt.Chart(df).mark_bar().encode(y="chip:N", x=alt.X("v:Q", scale=alt.Scale(type="log")))
    )
    fixed = broken.encode(x=alt.X("v:Q", scale=alt.Scale(type="log"), stack=None), x2=alt.value(0))
    by_chip = dict(color=alt.Color("chip:N", title="System"))
    legends3 = alt.Chart(df).mark_line().encode(
        x="v:Q", y="v:Q", strokeDash=alt.StrokeDash("chip:N", title="System"), **by_chip
    ) + alt.Chart(df).mark_point().encode(
        x="v:Q", y="v:Q", shape=alt.Shape("chip:N", title="System"), **by_chip
    )
    ticks = list(range(0, 441, 20))  # "0" and "20" fit where "100" and "120" do not
    bytes_df = pd.DataFrame({"model": ["a", "b"], "gb": [7.0, 405.0]})
    thinned = [
        alt.Chart(bytes_df)
        .mark_bar()
        .encode(y="model:N", x=alt.X("gb:Q", axis=alt.Axis(values=ticks, **overlap)))
        for overlap in ({"labelOverlap": "greedy"}, {})
    ]
    scripts = "".join(
        f'<script src="_static/{s}"></script>'
        for s in [
            "vendor/vega.min.js",
            "vendor/vega-lite.min.js",
            "vendor/vega-embed.min.js",
            "iw-charts.js",
        ]
    )
    body = "".join(
        charts._book_renderer(c.to_dict())["text/html"] for c in (broken, fixed, legends3)
    )
    # the thinned pair in a 600 px column, where "0 20 ... 100" fit and the wider labels do not
    body += '<div style="width:600px">{}</div>'.format(
        "".join(charts._book_renderer(c.to_dict())["text/html"] for c in thinned)
    )
    ctx = browser.new_context(viewport={"width": 390, "height": 844})
    page, console = ctx.new_page(), []
    page.on("console", lambda m: console.append(m.text) if m.type == "warning" else None)
    page.goto(f"{book_server}/book/intro.html")
    page.set_content(
        f'<html><head><base href="{book_server}/"><link rel="stylesheet" href="_static/book.css">'
        f'{scripts}</head><body><article class="bd-article">'
        f'<p>text</p><p style="font-size:7px">tiny</p>{body}</article></body></html>'
    )
    page.wait_for_function(
        "document.querySelectorAll('.iw-chart[data-rendered=\"true\"]').length == 5"
    )
    r = page.evaluate(PROBE)
    ctx.close()
    assert [c["marks"] for c in r["charts"]] == [0, 2, 4, 2, 2]
    assert [bool(c["uneven"]) for c in r["charts"]] == [False, False, False, True, False]
    assert r["charts"][2]["legends"].count("System") == 3 and not r["charts"][0]["legends"]
    assert any("Log scale domain includes zero" in m for m in console)
    assert any('"tiny"' in s for s in r["small"])
