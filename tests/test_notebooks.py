"""Every chapter executes, whole, against the current package: executed once per test run into
the Jupyter cache that the book build renders from (book/_ext/execution_cache.py), so a
chapter's assert cells run exactly once per `make test`."""

from pathlib import Path

import nbformat
import pytest
from conftest import CACHE, ROOT, executed_chapters

pytestmark = pytest.mark.notebooks

CHAPTERS = [p.name for p in sorted((ROOT / "book").glob("*.ipynb"))]


@pytest.mark.parametrize("name", CHAPTERS)
def test_chapter_executes_every_cell_without_error(name):
    from jupyter_cache import get_cache

    runs = {Path(uri).name: tb for uri, tb in executed_chapters().items()}
    assert name in runs, f"{name} was not executed"
    assert runs[name] is None, f"{name} failed:\n{runs[name][-4000:]}"
    cache = get_cache(str(CACHE))
    record = cache.match_cache_notebook(nbformat.read(ROOT / "book" / name, as_version=4))
    nb = cache.get_cache_bundle(record.pk).nb
    code = [c for c in nb.cells if c.cell_type == "code" and c.source.strip()]
    assert code, f"{name} has no code cells"
    skipped = [c.source[:60] for c in code if c.get("execution_count") is None]
    assert not skipped, f"{name}: cells never ran: {skipped}"
    errors = [o for c in code for o in c.get("outputs", []) if o.get("output_type") == "error"]
    assert not errors, f"{name}: error outputs: {[e.get('ename') for e in errors]}"
