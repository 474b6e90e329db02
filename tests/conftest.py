import functools
import http.server
import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# IW_BUILD_DIR lets parallel work build into a private folder: the HTML lands in
# $IW_BUILD_DIR/_build/html (default: the repository, as `make book`).
OUT = Path(os.environ.get("IW_BUILD_DIR", ROOT))
HTML = OUT / "_build" / "html"


sys.path.insert(0, str(ROOT / "book" / "_ext"))
import build_book  # noqa: E402  (tests/ is on the path, as for find_browser)
import execution_cache  # noqa: E402

CACHE = OUT / "_build" / ".jupyter_cache"
#: What tests/build_book.py found when it executed the chapters.
RESULTS = OUT / "_build" / build_book.RESULTS


#: Tests that need the executed chapters or the built book: they run last, while the book builds
#: in the background (tests/build_book.py) from the moment collection ends.
BOOK_FIXTURES = {"built_book", "book_server", "seen"}
_build: dict = {}


def _needs_book(item) -> bool:
    return bool(BOOK_FIXTURES & set(getattr(item, "fixturenames", ()))) or bool(
        item.get_closest_marker("notebooks")
    )


def pytest_collection_modifyitems(session, config, items):
    """Move the tests that need the book to the end (stable order otherwise); the book builds in
    a second process meanwhile, so the package's tests use the other core."""
    items.sort(key=_needs_book)


def pytest_collection_finish(session):
    """After selection (``-m``, ``-k``): build only if a selected test needs the book."""
    if session.config.option.collectonly:
        return
    if any(_needs_book(i) for i in session.items) and not _reuse():
        _start_build()


def _start_build() -> None:
    """Start tests/build_book.py in the background, its output in _build/iw-build.log."""
    (OUT / "_build").mkdir(parents=True, exist_ok=True)
    RESULTS.unlink(missing_ok=True)
    log = open(OUT / "_build" / "iw-build.log", "w")  # noqa: SIM115 (closed in _wait)
    _build["proc"] = subprocess.Popen(
        [sys.executable, str(ROOT / "tests" / "build_book.py"), str(OUT)],
        cwd=ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
        env=dict(os.environ, IW_BOOK_BUILD="1"),
        start_new_session=True,  # its own process group: stopped with the jupyter-book it starts
    )
    _build["log"] = log


def pytest_unconfigure(config):
    proc = _build.get("proc")
    if proc is not None and proc.poll() is None:  # not needed to the end (-m notebooks, -x, Ctrl-C)
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


def _reuse() -> bool:
    return os.environ.get("IW_BOOK_REUSE") == "1" and (HTML / "book" / "intro.html").exists()


def _build_process() -> subprocess.Popen:
    """The background build, started now if collection did not see a test that needs it."""
    if "proc" not in _build:
        _start_build()
    return _build["proc"]


@functools.cache
def _wait() -> tuple[int, str]:
    """The background build's exit status and output (waits for it)."""
    rc = _build_process().wait(timeout=1800)
    _build["log"].close()
    return rc, (OUT / "_build" / "iw-build.log").read_text()


@functools.cache
def executed_chapters() -> dict[str, str | None]:
    """Every chapter executed once into the build's Jupyter cache: ``{path: traceback or None}``
    (the background build writes it before it starts building the HTML)."""
    if _reuse():
        return execution_cache.execute_all(CACHE, ROOT)
    proc = _build_process()
    while proc.poll() is None and not RESULTS.exists():
        time.sleep(0.2)
    assert RESULTS.exists(), "the chapters were not executed:\n" + _wait()[1][-6000:]
    return json.loads(RESULTS.read_text())


@pytest.fixture(scope="session")
def built_book() -> Path:
    """The book built once per test session with warnings as errors (as `make book` does), by
    the background build. IW_BOOK_REUSE=1 reuses the HTML already in $IW_BUILD_DIR/_build/html
    (e.g. right after `make book`) so the browser checks can be re-run alone."""
    if _reuse():
        return HTML
    failed = {uri: tb for uri, tb in executed_chapters().items() if tb}
    assert not failed, "chapters failed to execute:\n" + "\n\n".join(
        f"{Path(uri).name}:\n{tb[-3000:]}" for uri, tb in failed.items()
    )
    rc, log = _wait()
    assert rc == 0, f"book build failed:\n{log[-8000:]}"
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
