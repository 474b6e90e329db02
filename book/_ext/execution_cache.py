"""Each chapter executes once per build or test run: the shared Jupyter cache.

The book is built with ``execute_notebooks: cache``: myst-nb reuses a notebook's outputs from
``_build/.jupyter_cache`` when its code cells are unchanged. A chapter's outputs also depend on
the package and its data, so the cache is keyed on both: :func:`prepare` empties it whenever
the *fingerprint* (a hash of ``inference_wars/`` and ``requirements.txt``) differs from the one
it was filled with. ``make test`` fills the cache first with :func:`execute_all` (every chapter
once) and the build that follows renders those executions instead of running every chapter
again.

Used as a Sphinx extension (``sphinx.local_extensions`` in ``_config.yml``) so that ``make book``
never renders outputs computed by an older package, and imported by ``tests/conftest.py``.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
STAMP = "iw-fingerprint.txt"


def fingerprint(root: Path = ROOT) -> str:
    """SHA-256 over the package's files (code and data) and the pinned requirements."""
    h = hashlib.sha256()
    files = sorted(
        p
        for p in (root / "inference_wars").rglob("*")
        if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".pyc"
    )
    for p in files + [root / "requirements.txt"]:
        h.update(str(p.relative_to(root)).encode())
        h.update(p.read_bytes())
    return h.hexdigest()


def prepare(cache_dir: Path, root: Path = ROOT) -> bool:
    """Empty ``cache_dir`` unless it was filled by this very package; returns True if kept."""
    cache_dir = Path(cache_dir)
    want = fingerprint(root)
    stamp = cache_dir / STAMP
    if stamp.exists() and stamp.read_text().strip() == want:
        return True
    shutil.rmtree(cache_dir, ignore_errors=True)
    cache_dir.mkdir(parents=True, exist_ok=True)
    stamp.write_text(want + "\n")
    return False


def chapter_paths(root: Path = ROOT) -> list[Path]:
    """Every notebook of the book (``book/*.ipynb``)."""
    return sorted((root / "book").glob("*.ipynb"))


#: Tracebacks of executions lost to the environment rather than to a chapter's code: a kernel
#: whose reply never arrives (a rare race between kernels started at the same moment) hits the
#: per-cell timeout (60 s; a chapter cell takes seconds), and a kernel that cannot bind the port
#: jupyter_client picked for it (another process took it first: "Address already in use") dies
#: before replying, which leaves no traceback on the record at all ("not executed"). Those
#: chapters are run again, serially, up to ``_RETRIES`` times.
_TRANSIENT = (
    "CellTimeoutError",
    "DeadKernelError",
    "TimeoutError",
    "RuntimeError: Kernel didn't respond",
    "Kernel died before replying",
    "Address already in use",
    "not executed",
)
_RETRIES = 2


def execute_all(cache_dir: Path, root: Path = ROOT, timeout_s: int = 60) -> dict[str, str | None]:
    """Execute every chapter not already cached, one after another, into the cache the book build
    reads; a chapter lost to a stalled or dead kernel is run again (at most ``_RETRIES`` times).
    Returns ``{notebook path: traceback or None}`` for every chapter."""
    from jupyter_cache import get_cache
    from jupyter_cache.executors import load_executor

    prepare(cache_dir, root)
    os.environ["IW_BOOK_BUILD"] = "1"  # the chapters render charts as the book does
    cache = get_cache(str(cache_dir))
    for nb in chapter_paths(root):
        cache.add_nb_to_project(str(nb))
    # one chapter at a time: two kernels started at the same moment can lose a reply (jupyter_client
    # port/handshake race), which stalled a run for 300 s; the chapters take seconds each anyway
    load_executor("local-serial", cache).run_and_cache(timeout=timeout_s)
    for _ in range(_RETRIES):
        stalled = [
            uri for uri, tb in _outcomes(cache).items() if tb and any(t in tb for t in _TRANSIENT)
        ]
        if not stalled:
            break
        load_executor("local-serial", cache).run_and_cache(filter_uris=stalled, timeout=timeout_s)
    return _outcomes(cache)


def timings(cache_dir: Path) -> dict[str, float]:
    """Seconds each cached chapter took to execute, by file name."""
    from jupyter_cache import get_cache

    return {
        Path(r.uri).name: round(float((r.data or {}).get("execution_seconds") or 0.0), 1)
        for r in get_cache(str(cache_dir)).list_cache_records()
    }


def _outcomes(cache) -> dict[str, str | None]:
    """``{notebook path: traceback or None}``: a chapter whose current code has a cached execution
    succeeded, whatever traceback an earlier version of it left on its project record."""
    return {
        rec.uri: None if cache.get_cached_project_nb(rec.uri) else (rec.traceback or "not executed")
        for rec in cache.list_project_records()
    }


def _cache_dir(app) -> Path:
    return Path(app.outdir).parent / ".jupyter_cache"


def _on_config(app, config) -> None:
    if config.nb_execution_mode == "cache":
        prepare(_cache_dir(app))


def _depend_on_fingerprint(app, doctree) -> None:
    """Make every chapter's page depend on the cache's stamp, which :func:`prepare` rewrites only
    when it empties the cache: Sphinx then reads a chapter again (rendering the new outputs)
    whenever the package changed since the page was built, not only when the notebook did."""
    env = app.env
    if app.config.nb_execution_mode == "cache" and str(env.doc2path(env.docname)).endswith(
        ".ipynb"
    ):
        env.note_dependency(str(_cache_dir(app) / STAMP))


#: Version of what this extension records in Sphinx's saved environment. Raising it makes Sphinx
#: discard an environment saved by an older version and read every page again: a build from
#: before :func:`_depend_on_fingerprint` existed recorded no dependency on the stamp, so it kept
#: serving chapter outputs of an older package after every later package change.
ENV_VERSION = 2


def setup(app):
    app.connect("config-inited", _on_config)
    app.connect("doctree-read", _depend_on_fingerprint)
    return {"parallel_read_safe": True, "parallel_write_safe": True, "env_version": ENV_VERSION}
