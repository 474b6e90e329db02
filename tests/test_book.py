"""The built book: it builds with warnings as errors, and in a real browser with the network
blocked every page loads without console errors, every chart draws, and every slider or menu
changes its chart. Screenshots land in tests/screenshots/ for a person to look at."""

import re
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlparse

import pytest

from conftest import chromium_path

pytestmark = pytest.mark.browser
SHOTS = Path(__file__).parent / "screenshots"
#: every page of the book, from _toc.yml
PAGES = ["book/intro.html", "book/references.html"] + [
    f"{line.split('file:')[1].strip()}.html" for line in (Path(__file__).parents[1] / "_toc.yml").read_text().splitlines()
    if "file:" in line]


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
    repo = yaml.safe_load((Path(__file__).parents[1] / "_config.yml").read_text())["repository"]["url"]
    slug = urlparse(repo).path.strip("/")
    for rel in CHAPTERS:
        html = (built_book / rel).read_text()
        stem = rel.split("/")[-1].removesuffix(".html")
        assert f"https://mybinder.org/v2/gh/{slug}/" in html and f"{stem}.ipynb" in html, f"{rel}: no Binder button"
        assert f"https://colab.research.google.com/github/{slug}/blob/" in html, f"{rel}: no Colab button"


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
        scripts = re.findall(r'<script[^>]+src="(https?://[^"]+)"', text) + re.findall(r'<link[^>]+href="(https?://[^"]+)"[^>]*stylesheet', text)
        assert not scripts, f"{rel} loads {scripts} from the network"


@pytest.fixture(scope="module")
def browser():
    exe = chromium_path()
    if exe is None:
        pytest.fail("no Chromium found: install Debian's chromium (.ci/run does this)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=exe, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
            "--disable-sync", "--no-first-run", "--disable-quic"])
        yield b
        b.close()


def open_offline(browser, url):
    """A page whose only reachable host is the local book server."""
    ctx = browser.new_context(viewport={"width": 1280, "height": 900})
    page = ctx.new_page()
    blocked, errors = [], []
    host = urlparse(url).netloc

    def route(r):
        if urlparse(r.request.url).netloc == host or r.request.url.startswith("data:"):
            return r.continue_()
        blocked.append(r.request.url)
        return r.abort()

    page.route("**/*", route)
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(url, wait_until="load")
    return ctx, page, blocked, errors


@pytest.mark.parametrize("rel", sorted(set(PAGES)))
def test_page_renders_offline(book_server, browser, rel):
    ctx, page, blocked, errors = open_offline(browser, f"{book_server}/{rel}")
    try:
        n = page.locator(".iw-chart").count()
        if n:
            page.wait_for_function(
                "n => document.querySelectorAll('.iw-chart[data-rendered=\"true\"], .iw-chart[data-error]').length >= n",
                arg=n, timeout=20_000)
            failed = page.eval_on_selector_all(".iw-chart[data-error]", "els => els.map(e => e.dataset.error)")
            assert not failed, failed
            marks = page.eval_on_selector_all(".iw-chart svg", "els => els.map(e => e.querySelectorAll('path, rect, line, symbol, circle').length)")
            assert len(marks) == n and min(marks) > 5, marks
        SHOTS.mkdir(exist_ok=True)
        page.screenshot(path=str(SHOTS / (rel.replace("/", "_") + ".png")), full_page=True)
        assert not errors, errors
        assert not blocked, f"page tried to reach the network: {blocked}"
    finally:
        ctx.close()


def _changed_svg(chart, before: str, timeout_s: float = 5.0) -> str:
    """The chart's SVG once it differs from ``before`` (Vega re-renders asynchronously; a slow
    machine gets up to ``timeout_s``), or the unchanged SVG after that."""
    import time
    deadline = time.monotonic() + timeout_s
    while True:
        svg = chart.locator("svg").inner_html()
        if svg != before or time.monotonic() > deadline:
            return svg
        chart.page.wait_for_timeout(100)


CHAPTERS = [p for p in sorted(set(PAGES)) if p.split("/")[-1][:2].isdigit()]


@pytest.mark.parametrize("rel", CHAPTERS)
def test_every_control_changes_its_chart(book_server, browser, rel):
    """Every numbered chapter has a static what-if that works with no kernel."""
    ctx, page, blocked, errors = open_offline(browser, f"{book_server}/{rel}")
    try:
        page.wait_for_function("document.querySelectorAll('.iw-chart[data-rendered=\"true\"]').length > 0", timeout=20_000)
        charts = page.locator(".iw-chart")
        controls_seen = 0
        for i in range(charts.count()):
            chart = charts.nth(i)
            selects, ranges = chart.locator(".vega-bindings select"), chart.locator(".vega-bindings input[type=range]")
            for j in range(selects.count()):
                sel = selects.nth(j)
                options = sel.locator("option").all_inner_texts()
                assert len(options) > 1
                before = chart.locator("svg").inner_html()
                current = sel.input_value()
                new = next(o for o in sel.locator("option").evaluate_all("os => os.map(o => o.value)") if o != current)
                sel.select_option(new)
                after = _changed_svg(chart, before)
                assert after != before, f"chart {i}: changing select {j} to {new} did not change the chart"
                controls_seen += 1
            for j in range(ranges.count()):
                rng = ranges.nth(j)
                before = chart.locator("svg").inner_html()
                rng.evaluate("e => { e.value = e.max; e.dispatchEvent(new Event('input', {bubbles: true})); }")
                assert _changed_svg(chart, before) != before, f"chart {i}: slider {j} did not change the chart"
                controls_seen += 1
        assert controls_seen >= 1, f"{rel}: a chapter's static what-if needs at least one menu or slider"
        assert not errors, errors
        assert not blocked, blocked
    finally:
        ctx.close()


@pytest.mark.parametrize("rel", sorted(set(PAGES)))
def test_readable_on_a_phone(book_server, browser, rel):
    """At a phone's width the page itself never scrolls sideways (wide charts and tables scroll
    inside their own box) and the text stays at a readable size."""
    ctx = browser.new_context(viewport={"width": 390, "height": 844}, device_scale_factor=2, is_mobile=True)
    page = ctx.new_page()
    page.route("**/*", lambda r: r.continue_() if "127.0.0.1" in r.request.url else r.abort())
    try:
        page.goto(f"{book_server}/{rel}", wait_until="load")
        page.wait_for_timeout(500)
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 2, f"{rel} is {overflow}px wider than a 390px phone screen"
        size = page.evaluate("parseFloat(getComputedStyle(document.querySelector('main p, article p')).fontSize)")
        assert size >= 14, size
        page.screenshot(path=str(SHOTS / ("phone_" + rel.replace("/", "_") + ".png")), full_page=False)
    finally:
        ctx.close()


def _chart_specs(html: str) -> list[dict]:
    import json
    return [json.loads(m) for m in re.findall(r'vegaEmbed\(el,(\{.*?\}),\{"actions":false', html)]


def _colour_scales(node):
    if isinstance(node, dict):
        enc = node.get("color")
        if isinstance(enc, dict) and isinstance(enc.get("scale"), dict) and "domain" in enc["scale"]:
            yield enc["scale"]
        for v in node.values():
            yield from _colour_scales(v)
    elif isinstance(node, list):
        for v in node:
            yield from _colour_scales(v)


def test_every_chart_uses_the_book_theme_and_chip_colours(built_book):
    """One look across chapters: every chart carries the theme from `charts`, and wherever chips
    are coloured, each chip gets its own fixed colour."""
    from inference_wars.charts import CHIP_COLORS, FONT
    n = 0
    for rel in pages(built_book):
        for spec in _chart_specs((built_book / rel).read_text()):
            n += 1
            assert spec.get("config", {}).get("font") == FONT, f"{rel}: a chart without the book theme"
            for scale in _colour_scales(spec):
                dom, rng = scale.get("domain"), scale.get("range")
                if isinstance(dom, list) and dom and all(d in CHIP_COLORS for d in dom):
                    assert rng == [CHIP_COLORS[d] for d in dom], f"{rel}: chip colours differ from charts.CHIP_COLORS"
    assert n >= 6
