import functools
import http.server
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# IW_BUILD_DIR lets parallel work build into a private folder: the HTML lands in
# $IW_BUILD_DIR/_build/html (default: the repository, as `make book`).
OUT = Path(os.environ.get("IW_BUILD_DIR", ROOT))
HTML = OUT / "_build" / "html"


sys.path.insert(0, str(ROOT / "book" / "_ext"))
import execution_cache  # noqa: E402

CACHE = OUT / "_build" / ".jupyter_cache"


@functools.cache
def executed_chapters() -> dict[str, str | None]:
    """Every chapter executed once into the build's Jupyter cache: ``{path: traceback or None}``."""
    return execution_cache.execute_all(CACHE, ROOT)


@pytest.fixture(scope="session")
def built_book() -> Path:
    """Build the book once per test session with warnings as errors (as `make book` does).
    IW_BOOK_REUSE=1 reuses the HTML already in $IW_BUILD_DIR/_build/html (e.g. right after
    `make book`) so the browser checks can be re-run alone."""
    if os.environ.get("IW_BOOK_REUSE") == "1" and (HTML / "book" / "intro.html").exists():
        return HTML
    # every chapter executes once, in parallel, into the cache the build then renders from
    failed = {uri: tb for uri, tb in executed_chapters().items() if tb}
    assert not failed, "chapters failed to execute:\n" + "\n\n".join(
        f"{Path(uri).name}:\n{tb[-3000:]}" for uri, tb in failed.items()
    )
    env = dict(os.environ, IW_BOOK_BUILD="1")
    jb = Path(sys.executable).with_name("jupyter-book")
    r = subprocess.run(
        [
            str(jb),
            "build",
            str(ROOT),
            "--warningiserror",
            "--keep-going",
            "--path-output",
            str(OUT),
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert r.returncode == 0, f"book build failed:\n{r.stdout[-6000:]}\n{r.stderr[-3000:]}"
    return HTML


@pytest.fixture(scope="session")
def book_server(built_book):
    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    handler = functools.partial(Quiet, directory=str(built_book))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def chromium_path() -> str | None:
    """Playwright's own Chromium, else the system one (see tests/find_browser.py)."""
    from find_browser import find

    return find(install=False)


#: Chromium flags for the browser checks: no sandbox (containers, root), no GPU, and nothing
#: that phones home (the checks run with the network blocked).
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


@pytest.fixture(scope="module")
def browser():
    """A headless Chromium (Playwright's own or the system one) for one test module."""
    exe = chromium_path()
    if exe is None:
        from find_browser import HELP

        pytest.fail(HELP)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=exe, args=CHROMIUM_ARGS)
        yield b
        b.close()
