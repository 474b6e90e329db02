"""The book's MyST roles in JupyterLab, rendered as the book renders them (issue 13 item 6).

jupyterlab-myst renders a chapter's markdown cells but knows neither myst-nb's glue nor the
book's bibliography: ``{glue:text}`name:fmt``` shows as ``name:fmt``, ``{cite}`key``` as a
yellow "Citation Not Found" key, and a gated solution (``solution-start`` ... ``solution-end``)
is a collapsed box followed by its code and answer in plain view.

Outside the book build :func:`inference_wars.book.setup` calls :func:`show`, which displays one
invisible anywidget, :class:`BookMarkup` (no network, no JupyterLab extension to build). Its
JavaScript, in the page:

* fills each glue role with the value the kernel glued (:func:`glued`, called by
  ``glue_number`` and ``glue_words``), formatted by myst-nb's own ``format_plain_text``, so
  JupyterLab prints what the book prints;
* writes each citation as the book does (``[Bajic, 2026]``, the full reference as its tooltip),
  read from ``data/references/*.bib``;
* hides the cells of each solution until its "Start of Solution" box is opened.

The kernel formats; the page only asks (``wanted_glue``, ``wanted_cites``) and writes the answer
(``texts``, ``citations``) into the markdown jupyterlab-myst rendered.
"""

from __future__ import annotations

import functools
from pathlib import Path

import anywidget
import traitlets

#: ``{glue name: display bundle}`` of everything glued in this kernel (a new widget, after
#: ``setup()`` is re-run, starts from it).
_GLUED: dict[str, dict] = {}
_WIDGET: BookMarkup | None = None

_ESM = r"""
const STYLE_ID = "iw-book-markup-style";
const CSS = ".iw-solution-hidden { display: none !important; }";
// what jupyterlab-myst renders for a role it does not know: <span>name:format</span>
const GLUE_ROLE = /^[A-Za-z0-9_.-]+(:[^`\n]*)?$/;

function ask(model, trait, keys) {
  const had = model.get(trait) || [];
  const all = [...new Set([...had, ...keys])];
  if (all.length !== had.length) { model.set(trait, all); model.save_changes(); }
}

function glue(nb, model) {
  const texts = model.get("texts") || {}, wanted = [];
  for (const span of nb.querySelectorAll(".jp-MarkdownCell .myst span")) {
    const node = span.firstChild;
    if (span.childNodes.length !== 1 || node.nodeType !== Node.TEXT_NODE) continue;
    let key = span.dataset.iwGlue;
    if (key === undefined || node.nodeValue !== span.dataset.iwShown) {
      // not seen yet, or re-rendered since (React rewrote the text)
      if (span.attributes.length > (key === undefined ? 0 : 2)) continue;
      if (!GLUE_ROLE.test(node.nodeValue)) continue;
      key = node.nodeValue;
    }
    if (Object.hasOwn(texts, key)) {
      span.dataset.iwGlue = key;
      span.dataset.iwShown = texts[key];
      if (node.nodeValue !== texts[key]) node.nodeValue = texts[key];
    } else wanted.push(key);
  }
  ask(model, "wanted_glue", wanted);
}

function cite(nb, model) {
  const cites = model.get("citations") || {}, wanted = [];
  const sel = '.jp-MarkdownCell .myst span[title="Citation Not Found"], .jp-MarkdownCell .myst span[data-iw-cite]';
  for (const span of nb.querySelectorAll(sel)) {
    const node = [...span.childNodes].find(n => n.nodeType === Node.TEXT_NODE);
    if (!node) continue;
    let key = span.dataset.iwCite;
    if (key === undefined || node.nodeValue !== span.dataset.iwShown) key = node.nodeValue.trim();
    const c = cites[key];
    if (!c) { wanted.push(key); continue; }
    const shown = `[${c.label}]`;
    span.dataset.iwCite = key;
    span.dataset.iwShown = shown;
    if (node.nodeValue !== shown) node.nodeValue = shown;
    span.title = c.title;
    span.classList.remove("text-yellow-600");
    for (const svg of span.querySelectorAll("svg")) svg.style.display = "none";
  }
  ask(model, "wanted_cites", wanted);
}

function solutions(nb, schedule) {
  let start = null, part = [];
  for (const cell of nb.querySelectorAll(".jp-Notebook-cell")) {
    const md = cell.classList.contains("jp-MarkdownCell");
    const summary = md && cell.querySelector(".myst details.myst-exercise > summary");
    if (summary && summary.textContent.trim().startsWith("Start of Solution")) {
      start = summary.parentElement; part = [];
      if (!start.dataset.iwToggle) {
        start.dataset.iwToggle = "1";
        start.addEventListener("toggle", schedule);
      }
      continue;
    }
    if (!start) continue;
    // solution-end: an exercise box with neither title nor body
    const end = md && [...cell.querySelectorAll(".myst aside.myst-exercise")].some(a => !a.textContent.trim());
    if (end) {
      for (const c of part) c.classList.toggle("iw-solution-hidden", !start.open);
      cell.classList.add("iw-solution-hidden");
      start = null;
    } else part.push(cell);
  }
}

function render({ model, el }) {
  if (!document.getElementById(STYLE_ID)) {
    const style = document.createElement("style");
    style.id = STYLE_ID; style.textContent = CSS;
    document.head.appendChild(style);
  }
  el.classList.add("iw-book-markup");
  let timer = null;
  const apply = () => {
    timer = null;
    const nb = el.closest(".jp-Notebook");
    if (!nb) return;
    const area = el.closest(".jp-OutputArea-child");
    if (area) area.style.display = "none";
    glue(nb, model); cite(nb, model); solutions(nb, schedule);
  };
  const schedule = () => { if (timer === null) timer = setTimeout(apply, 50); };
  const observer = new MutationObserver(schedule);
  observer.observe(document.body, { childList: true, subtree: true });
  model.on("change:texts", schedule);
  model.on("change:citations", schedule);
  schedule();
  return () => {
    observer.disconnect();
    model.off("change:texts", schedule);
    model.off("change:citations", schedule);
  };
}
export default { render };
"""


class BookMarkup(anywidget.AnyWidget):
    """Invisible companion of a chapter in JupyterLab: glue roles, citations and collapsed
    solutions as in the book (see the module docstring)."""

    _esm = _ESM
    #: ``name`` or ``name:format`` of each glue role on the page (asked by the page)
    wanted_glue = traitlets.List(traitlets.Unicode()).tag(sync=True)
    #: ``{role text: what the book prints}``
    texts = traitlets.Dict().tag(sync=True)
    #: BibTeX keys cited on the page (asked by the page)
    wanted_cites = traitlets.List(traitlets.Unicode()).tag(sync=True)
    #: ``{key: {"label": "Bajic, 2026", "title": full reference}}``
    citations = traitlets.Dict().tag(sync=True)

    @traitlets.observe("wanted_glue")
    def _answer_glue(self, change=None) -> None:
        new = {k: t for k in self.wanted_glue if (t := role_text(k)) is not None}
        if new != self.texts:
            self.texts = new

    @traitlets.observe("wanted_cites")
    def _answer_cites(self, change=None) -> None:
        new = {k: c for k in self.wanted_cites if (c := citation(k)) is not None}
        if new != self.citations:
            self.citations = new


def show() -> bool:
    """Display :class:`BookMarkup` in the running Jupyter kernel; False (nothing shown) outside
    one, e.g. in a plain Python process."""
    global _WIDGET
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    if shell is None or getattr(shell, "kernel", None) is None:
        return False
    from IPython.display import display

    _WIDGET = BookMarkup()
    display(_WIDGET)
    return True


def glued(name: str, value) -> None:
    """Record a value glued as ``name`` (what myst-nb stores: its display bundle) and refresh
    the page's roles that quote it."""
    from IPython.core.formatters import format_display_data

    _GLUED[name] = format_display_data(value)[0]
    if _WIDGET is not None:
        _WIDGET._answer_glue()


def role_text(key: str) -> str | None:
    """What the book prints for the glue role ``key`` (``name`` or ``name:format``), or None if
    nothing is glued as ``name``. ``{glue:text}`` formats the glued ``text/plain`` with
    myst-nb's ``format_plain_text`` (as myst-nb does); ``{glue:md}`name``` prints the glued
    Markdown's text.

    >>> glued("_doc_bw", 3.352)
    >>> role_text("_doc_bw:.2f"), role_text("_doc_bw"), role_text("_doc_nothing:.1f")
    ('3.35', '3.352', None)
    """
    from myst_nb.core.variables import format_plain_text

    name, fmt = key.rsplit(":", 1) if ":" in key else (key, "")
    bundle = _GLUED.get(name)
    if bundle is None:
        return None
    if not fmt and "text/markdown" in bundle:
        return str(bundle["text/markdown"]).strip()
    try:
        return format_plain_text(str(bundle.get("text/plain", "")), fmt or "s")
    except (TypeError, ValueError):
        return None


@functools.cache
def _bibliography() -> dict:
    """``{key: pybtex entry}`` of ``data/references/*.bib``; empty without pybtex."""
    try:
        from pybtex.database import parse_file
    except ImportError:
        return {}
    from ..catalog.loading import DATA_DIR

    out = {}
    for path in sorted((Path(DATA_DIR) / "references").glob("*.bib")):
        out.update(parse_file(str(path)).entries)
    return out


@functools.cache
def citation(key: str) -> dict[str, str] | None:
    """``{"label": "Author, Year", "title": full reference}`` for a BibTeX key of
    ``data/references/*.bib``: the label as the book's author-year citations print it, the
    title as its tooltip (pybtex's plain style, as sphinxcontrib-bibtex uses). None for an
    unknown key, or when pybtex is not installed (the citation then keeps jupyterlab-myst's
    "not found" mark).

    >>> citation("taalas2026blog")["label"], citation("nextplatform2026taalas")["label"]
    ('Bajic, 2026', 'Prickett\xa0Morgan, 2026')
    """
    entry = _bibliography().get(key)
    if entry is None:
        return None
    from pybtex.backends.plaintext import Backend
    from pybtex.richtext import Text
    from pybtex.style.formatting.plain import Style

    # render with one backend: Text.render_as looks the plugin up among every installed
    # distribution's entry points on each call (12 s for the whole bibliography)
    text = Backend()
    people = entry.persons.get("author") or entry.persons.get("editor") or []
    last = [Text.from_latex("\u00a0".join(p.last_names)).render(text) for p in people]
    who = f"{last[0]} et al." if len(last) > 2 else " and ".join(last) or key
    try:
        title = next(iter(Style().format_entries([entry]))).text.render(text)
    except Exception:  # an entry pybtex cannot format still gets its label
        title = who
    return {"label": f"{who}, {entry.fields.get('year', 'n.d.')}", "title": title}


#: Cells whose code the published page hides; JupyterLab collapses their source too (the
#: ``jupyter.source_hidden`` cell metadata every Jupyter front end honours), so a participant
#: reads the chapter as the book shows it and opens a set-up or check cell with one click.
HIDDEN_SOURCE_TAGS = frozenset({"remove-cell", "remove-input", "hide-input"})


def source_hidden(cell: dict) -> bool:
    """Whether JupyterLab should show ``cell`` (a notebook cell as a dict) with its source
    collapsed: a code cell tagged with one of :data:`HIDDEN_SOURCE_TAGS`."""
    tags = set(cell.get("metadata", {}).get("tags", []))
    return cell.get("cell_type") == "code" and bool(tags & HIDDEN_SOURCE_TAGS)


def collapse_hidden_sources(nb: dict) -> int:
    """Set ``metadata.jupyter.source_hidden`` on every cell :func:`source_hidden` names (and
    clear it elsewhere) in the notebook ``nb``; returns how many cells changed. Run by
    ``tools/collapse_hidden_cells.py`` after tagging cells; ``tests/test_book_sources.py`` checks."""
    changed = 0
    for cell in nb["cells"]:
        meta = cell.setdefault("metadata", {})
        want = source_hidden(cell)
        have = bool(meta.get("jupyter", {}).get("source_hidden", False))
        if want == have:
            continue
        changed += 1
        if want:
            meta.setdefault("jupyter", {})["source_hidden"] = True
        else:
            meta["jupyter"].pop("source_hidden", None)
            if not meta["jupyter"]:
                del meta["jupyter"]
    return changed
