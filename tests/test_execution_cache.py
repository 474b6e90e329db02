"""The shared Jupyter cache (book/_ext/execution_cache.py): emptied when the package changes,
and every chapter's page rebuilt with it."""

from pathlib import Path
from types import SimpleNamespace

import execution_cache  # tests/conftest.py puts book/_ext on the path


def test_cache_keeps_only_what_this_package_filled(tmp_path):
    root = tmp_path / "repo"
    (root / "inference_wars").mkdir(parents=True)
    (root / "inference_wars" / "a.py").write_text("x = 1\n")
    (root / "requirements.txt").write_text("numpy\n")
    cache = tmp_path / "cache"
    assert execution_cache.prepare(cache, root) is False  # new: emptied and stamped
    (cache / "executed.txt").write_text("old outputs")
    assert execution_cache.prepare(cache, root) is True  # same package: kept
    assert (cache / "executed.txt").exists()
    (root / "inference_wars" / "a.py").write_text("x = 2\n")
    assert execution_cache.prepare(cache, root) is False  # package changed: emptied
    assert not (cache / "executed.txt").exists()


def test_chapter_pages_depend_on_the_cache_stamp(tmp_path):
    """Sphinx re-reads a page when a dependency is newer than the page: chapters (notebooks)
    depend on the stamp that prepare() rewrites when it empties the cache; other pages do not."""
    noted = []
    env = SimpleNamespace(
        docname="book/03_vera_rubin",
        doc2path=lambda d: Path(f"/src/{d}.ipynb" if "03" in d else f"/src/{d}.md"),
        note_dependency=noted.append,
    )
    app = SimpleNamespace(
        env=env,
        outdir=str(tmp_path / "_build" / "html"),
        config=SimpleNamespace(nb_execution_mode="cache"),
    )
    execution_cache._depend_on_fingerprint(app, None)
    assert noted == [str(tmp_path / "_build" / ".jupyter_cache" / execution_cache.STAMP)]
    env.docname = "book/cheatsheet"
    execution_cache._depend_on_fingerprint(app, None)
    assert len(noted) == 1


def test_a_chapter_fixed_back_to_a_cached_version_counts_as_executed(tmp_path):
    """A failed run leaves its traceback on the chapter's project record; once the chapter is
    back to code with a cached execution, execute_all reports success (it reported the old
    traceback before, and the book was not built)."""
    import nbformat

    root = tmp_path / "repo"
    (root / "inference_wars").mkdir(parents=True)
    (root / "inference_wars" / "a.py").write_text("x = 1\n")
    (root / "requirements.txt").write_text("numpy\n")
    (root / "book").mkdir()
    nb_path = root / "book" / "ch.ipynb"

    def write(source):
        nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(source)])
        nb.metadata["kernelspec"] = {
            "name": "python3",
            "display_name": "Python 3",
            "language": "python",
        }
        nbformat.write(nb, nb_path)

    cache = tmp_path / "cache"
    write("1 + 1")
    assert list(execution_cache.execute_all(cache, root).values()) == [None]
    write("raise RuntimeError('broken on purpose')")
    (tb,) = execution_cache.execute_all(cache, root).values()
    assert tb and "broken on purpose" in tb
    write("1 + 1")
    assert list(execution_cache.execute_all(cache, root).values()) == [None]


def test_a_chapter_whose_kernel_died_before_starting_is_run_again(tmp_path, monkeypatch):
    """A kernel that cannot bind the port jupyter_client picked for it dies before replying and
    leaves the chapter "not executed" with no traceback (CI, stop 26): execute_all runs it again
    instead of reporting the chapter broken."""
    import jupyter_cache.executors as executors
    import nbformat

    root = tmp_path / "repo"
    (root / "inference_wars").mkdir(parents=True)
    (root / "inference_wars" / "a.py").write_text("x = 1\n")
    (root / "requirements.txt").write_text("numpy\n")
    (root / "book").mkdir()
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("1 + 1")])
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nbformat.write(nb, root / "book" / "ch.ipynb")

    real_load, runs = executors.load_executor, []

    class DiesOnce:
        """The first run records nothing, as a kernel that died before kernel_info does."""

        def __init__(self, name, cache):
            self.inner = real_load(name, cache)

        def run_and_cache(self, **kwargs):
            runs.append(kwargs.get("filter_uris"))
            if len(runs) > 1:
                return self.inner.run_and_cache(**kwargs)

    monkeypatch.setattr(executors, "load_executor", DiesOnce)
    assert list(execution_cache.execute_all(tmp_path / "cache", root).values()) == [None]
    assert len(runs) == 2 and runs[1] == [str(root / "book" / "ch.ipynb")]


def test_every_page_depends_on_the_books_own_scripts_and_styles(tmp_path):
    """Sphinx skips a build in which no page changed, static files included: every page depends on
    iw-charts.js and book.css so that an edit to either reaches an existing build."""
    import offline_book

    noted = []
    app = SimpleNamespace(srcdir=str(tmp_path), env=SimpleNamespace(note_dependency=noted.append))
    offline_book._depend_on_own_static(app, None)
    static = tmp_path / "book" / "_static"
    assert noted == [str(static / name) for name in ("iw-charts.js", "book.css")]
    repo_static = Path(__file__).resolve().parents[1] / "book" / "_static"
    assert all((repo_static / name).is_file() for name in offline_book.OWN_STATIC)


def _build_sphinx(src: Path, out: Path) -> str:
    """Build the Sphinx project in ``src`` (HTML into ``out``) and return what it printed."""
    import io

    from sphinx.application import Sphinx

    status = io.StringIO()
    Sphinx(
        str(src),
        str(src),
        str(out),
        str(out / ".doctrees"),
        "html",
        status=status,
        warning=io.StringIO(),
        freshenv=False,
    ).build()
    return status.getvalue()


def test_an_environment_saved_by_an_older_extension_is_read_again(tmp_path):
    """A build made before the extension recorded its dependencies must not be trusted: the
    extension declares an ``env_version``, and an environment saved under another version is
    thrown away and every page read again (a working copy built before the stamp dependency kept
    showing chapter outputs of an older package: 0 pages changed after a package change)."""
    import pickle

    src, out = tmp_path / "src", tmp_path / "out"
    src.mkdir()
    (src / "conf.py").write_text(
        "extensions = ['execution_cache']\n"
        "def setup(app):\n"
        "    app.add_config_value('nb_execution_mode', 'off', 'env')\n"
    )
    (src / "index.rst").write_text("Home\n====\n\n.. toctree::\n\n   page\n")
    (src / "page.rst").write_text("Page\n====\n\nText.\n")
    first = _build_sphinx(src, out)
    assert "2 added" in first
    assert "0 added, 0 changed" in _build_sphinx(src, out)  # nothing changed: nothing re-read
    saved = out / ".doctrees" / "environment.pickle"
    env = pickle.loads(saved.read_bytes())
    assert env.version["execution_cache"] == execution_cache.ENV_VERSION
    env.version["execution_cache"] = execution_cache.ENV_VERSION - 1  # saved by an older release
    saved.write_bytes(pickle.dumps(env, pickle.HIGHEST_PROTOCOL))
    assert "2 added" in _build_sphinx(src, out)
