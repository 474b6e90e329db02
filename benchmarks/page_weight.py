"""Page weight: the bytes each page of the built book makes a browser load, uncompressed.

Serves _build/html (or the folder given) locally, opens every page in Chromium with the network
blocked at 1,400 px, and sums the response bodies by kind (HTML, scripts, styles, fonts,
other), as a reader's browser would load them. Pages without a chart should stay under
1.5 MB (``tests/test_book.py`` checks this on every run).

    .venv/bin/python benchmarks/page_weight.py [path/to/_build/html]
"""

from __future__ import annotations

import functools
import http.server
import sys
import threading
from collections import defaultdict
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

LIMIT_PLAIN_BYTES = 1_500_000
KINDS = {"document": "html", "script": "js", "stylesheet": "css", "font": "fonts"}


def serve(html: Path):
    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(Quiet, directory=str(html))
    )
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def file_bytes(html: Path, url: str) -> int:
    """Size on disk (uncompressed) of the built file a URL of the local server names."""
    path = html / urlparse(url).path.lstrip("/")
    return path.stat().st_size if path.is_file() else 0


def _count(by_kind: dict, html: Path, response) -> None:
    kind = KINDS.get(response.request.resource_type, "other")
    by_kind[kind] += file_bytes(html, response.url)


def weigh(html: Path) -> list[dict]:
    """One row per page: bytes by kind, total, and whether the page draws a chart."""
    from find_browser import HELP, find
    from playwright.sync_api import sync_playwright

    exe = find(install=False)
    if exe is None:
        raise SystemExit(HELP)
    server = serve(html)
    base = f"http://127.0.0.1:{server.server_address[1]}"
    rows = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=exe, args=["--no-sandbox", "--disable-gpu"])
        for page_path in sorted((html / "book").glob("*.html")):
            ctx = browser.new_context(viewport={"width": 1400, "height": 900})
            page = ctx.new_page()
            by_kind: dict[str, int] = defaultdict(int)
            page.route(
                "**/*",
                lambda r: (
                    r.continue_()
                    if urlparse(r.request.url).netloc == urlparse(base).netloc
                    else r.abort()
                ),
            )
            page.on("response", lambda resp: _count(by_kind, html, resp))
            page.goto(f"{base}/book/{page_path.name}", wait_until="load")
            page.evaluate("document.fonts.ready")
            page.wait_for_timeout(300)
            charts = page.locator(".iw-chart").count()
            rows.append(
                {
                    "page": page_path.name,
                    "charts": charts,
                    **{k: by_kind.get(k, 0) for k in ("html", "js", "css", "fonts", "other")},
                    "total": sum(by_kind.values()),
                }
            )
            ctx.close()
        browser.close()
    server.shutdown()
    return rows


def main(argv: list[str]) -> int:
    html = Path(argv[1]) if len(argv) > 1 else ROOT / "_build" / "html"
    rows = weigh(html)
    print(
        f"{'page':<28}{'charts':>7}{'html':>10}{'js':>10}{'css':>10}{'fonts':>10}{'other':>10}{'total MB':>10}"
    )
    over = []
    for r in rows:
        print(
            f"{r['page']:<28}{r['charts']:>7}"
            + "".join(f"{r[k] / 1e3:>9.0f}k" for k in ("html", "js", "css", "fonts", "other"))
            + f"{r['total'] / 1e6:>10.2f}"
        )
        if not r["charts"] and r["total"] > LIMIT_PLAIN_BYTES:
            over.append(r["page"])
    print(f"pages without charts over {LIMIT_PLAIN_BYTES / 1e6:.1f} MB: {over or 'none'}")
    return 1 if over else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
