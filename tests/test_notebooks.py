"""Every chapter executes, whole, against the current package: executed once per test run into
the Jupyter cache that the book build renders from (book/_ext/execution_cache.py), so a
chapter's assert cells run exactly once per `make test`."""

from pathlib import Path

import nbformat
import pytest
from conftest import CACHE, ROOT, executed_chapters

pytestmark = pytest.mark.notebooks

CHAPTERS = [p.name for p in sorted((ROOT / "book").glob("*.ipynb"))]


def executed(name: str):
    """The executed notebook of one chapter, from the cache every chapter ran into once."""
    from jupyter_cache import get_cache

    runs = {Path(uri).name: tb for uri, tb in executed_chapters().items()}
    assert runs.get(name, "not executed") is None, f"{name} did not execute cleanly"
    cache = get_cache(str(CACHE))
    record = cache.match_cache_notebook(nbformat.read(ROOT / "book" / name, as_version=4))
    return cache.get_cache_bundle(record.pk).nb


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


@pytest.mark.parametrize("name", CHAPTERS)
def test_glued_numbers_are_printed_with_honest_precision(name):
    """Modelled numbers in prose show at most 3 significant figures (glue_number(..., sig=3));
    catalog facts and counts are glued exact=True; no nonzero number prints as zero."""
    from inference_wars.book import precision_problems

    problems = precision_problems(executed(name))
    assert not problems, f"{name}:\n" + "\n".join(problems)


def test_one_number_one_place():
    """A glue name used by two chapters, and every group of SHARED_QUANTITIES, has one value."""
    import math

    from inference_wars.book import SHARED_QUANTITIES, glued_values

    values = {
        Path(n).stem: {k: v for k, (v, _) in glued_values(executed(n)).items()} for n in CHAPTERS
    }
    by_name: dict[str, dict[str, float]] = {}
    for stem, glued in values.items():
        for k, v in glued.items():
            by_name.setdefault(k, {})[stem] = v
    for k, per in by_name.items():
        assert len({round(v, 12) for v in per.values()}) == 1, (
            f"{k!r} has different values in different chapters: {per}"
        )
    for meaning, q in SHARED_QUANTITIES.items():
        got = {f"{stem}:{name}": values[stem].get(name) for stem, name in q["glue"]}
        assert None not in got.values(), (
            f"{meaning}: not glued in {[k for k, v in got.items() if v is None]}"
        )
        first = next(iter(got.values()))
        assert all(math.isclose(v, first, rel_tol=1e-9) for v in got.values()), f"{meaning}: {got}"
