"""Each chapter executes once per build or test run: the shared Jupyter cache.

The book is built with ``execute_notebooks: cache``: myst-nb reuses a notebook's outputs from
``_build/.jupyter_cache`` when its code cells are unchanged. A chapter's outputs also depend on
the package and its data, so the cache is keyed on both: :func:`prepare` empties it whenever
the *fingerprint* (a hash of ``inference_wars/`` and ``requirements.txt``) differs from the one
it was filled with. ``make test`` fills the cache first with :func:`execute_all` (every chapter,
in parallel over the machine's cores) and the build that follows renders those executions
instead of running every chapter again.

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


def execute_all(cache_dir: Path, root: Path = ROOT, timeout_s: int = 300) -> dict[str, str | None]:
    """Execute every chapter not already cached, in parallel (one process per core), into the
    cache the book build reads. Returns ``{notebook path: traceback or None}`` for every chapter."""
    from jupyter_cache import get_cache
    from jupyter_cache.executors import load_executor

    prepare(cache_dir, root)
    os.environ["IW_BOOK_BUILD"] = "1"  # the chapters render charts as the book does
    cache = get_cache(str(cache_dir))
    for nb in chapter_paths(root):
        cache.add_nb_to_project(str(nb))
    load_executor("local-parallel", cache).run_and_cache(timeout=timeout_s)
    return {rec.uri: (rec.traceback or None) for rec in cache.list_project_records()}


def _on_config(app, config) -> None:
    if config.nb_execution_mode == "cache":
        prepare(Path(app.outdir).parent / ".jupyter_cache")


def setup(app):
    app.connect("config-inited", _on_config)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
