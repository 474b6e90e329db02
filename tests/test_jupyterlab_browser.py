"""A chapter in JupyterLab, offline, as a workshop participant runs it (issue 13 items 5, 6).

Starts JupyterLab (`make lab`'s server) on ``book/`` and drives it in Chromium with every request
to a host other than this machine aborted: opens chapter 1, runs all cells, and checks what a
reader sees: every chart drawn with marks by the offline JupyterChart renderer, no error output,
glue roles showing the book's numbers, citations written as the book writes them, solutions
collapsed until their box is opened, and nothing asked of the internet. Screenshots land in
tests/screenshots/jupyterlab_*.png for a person to look at.

The notebook on disk is never written: autosave is off and the test checks the file after.
"""

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlparse

import pytest

pytestmark = pytest.mark.browser
ROOT = Path(__file__).resolve().parents[1]
SHOTS = Path(__file__).parent / "screenshots"
#: The chapter driven: glued prose, citations, six Altair charts, two exercises with solutions.
#: Among the quickest chapters to run (about 10 s of kernel time here, as chapters 5 and 7).
NOTEBOOK = "01_battlefield.ipynb"
TOKEN = "iw-jupyterlab-test"
LOCAL = {"127.0.0.1", "localhost", "::1"}
#: JupyterLab settings for the test: never write the notebook (autosave off), ask no news or
#: update server.
SETTINGS = {
    "@jupyterlab/docmanager-extension/plugin": {"autosave": False},
    "@jupyterlab/apputils-extension/notification": {"fetchNews": "false", "checkForUpdates": False},
}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def lab_server():
    """``jupyter lab`` on book/ with a known token and private runtime, config, data, settings
    and workspace folders; stopped (with its kernels) at the end."""
    jupyter = Path(sys.executable).with_name("jupyter")
    tmp = Path(tempfile.mkdtemp(prefix="iw-lab-"))
    for plugin, values in SETTINGS.items():
        path = tmp / "settings" / f"{plugin}.jupyterlab-settings"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(values))
    env = {k: v for k, v in os.environ.items() if k != "IW_BOOK_BUILD"}
    env.update(
        JUPYTER_RUNTIME_DIR=str(tmp / "runtime"),
        JUPYTER_CONFIG_DIR=str(tmp / "config"),
        JUPYTER_DATA_DIR=str(tmp / "data"),
        JUPYTERLAB_SETTINGS_DIR=str(tmp / "settings"),
        JUPYTERLAB_WORKSPACES_DIR=str(tmp / "workspaces"),
    )
    log = open(tmp / "server.log", "w")
    # a port found free can be taken before the server binds it (the book build starts kernels at
    # the same time, each on fresh ports): the server is told not to wander to another port
    # (port_retries=0), so it exits at once, and is started again on a new port
    for _attempt in range(3):
        port = _free_port()
        cmd = [
            str(jupyter),
            "lab",
            "--no-browser",
            "--ip=127.0.0.1",
            f"--port={port}",
            "--ServerApp.port_retries=0",
            f"--IdentityProvider.token={TOKEN}",
            f"--ServerApp.root_dir={ROOT / 'book'}",
            "--LabApp.expose_app_in_browser=True",  # window.jupyterapp, to run commands
            "--LabApp.extension_manager=readonly",  # no extension index to query
        ]
        if os.geteuid() == 0:
            cmd.append("--allow-root")
        server = subprocess.Popen(
            cmd,
            cwd=ROOT / "book",
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        base = f"http://127.0.0.1:{port}"
        deadline, ready = time.monotonic() + 60, False
        while not ready and server.poll() is None and time.monotonic() < deadline:
            try:
                urllib.request.urlopen(f"{base}/api/status?token={TOKEN}", timeout=2)
                ready = True
            except OSError:
                time.sleep(0.2)
        if server.poll() is None:  # ready, or still starting after a minute: no other port helps
            break
    try:
        if not ready:
            pytest.fail(f"JupyterLab did not start:\n{(tmp / 'server.log').read_text()}")
        yield base
    finally:
        # the server and the kernels it started share its process group
        try:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()
        except ProcessLookupError:
            pass
        log.close()
        shutil.rmtree(tmp, ignore_errors=True)


#: In the page, after the run: what a reader sees in the notebook.
PROBE = r"""() => {
  const nb = document.querySelector('.jp-NotebookPanel .jp-Notebook');
  const visible = el => !!el && el.getClientRects().length > 0;
  const charts = [...nb.querySelectorAll('.jp-OutputArea-output .vega-embed')].map(e => {
    const svg = e.querySelector('svg.marks'), box = svg ? svg.getBoundingClientRect() : null;
    let marks = 0, nan = 0;
    for (const g of svg ? svg.querySelectorAll('g.role-mark') : []) {
      for (const item of g.children) {
        const geo = ['d', 'transform', 'x', 'y', 'width', 'height'].map(a => item.getAttribute(a) || '').join(' ');
        if (/NaN|Infinity/.test(geo)) nan++; else marks++;
      }
    }
    return {marks, nan, width: box ? box.width : 0, height: box ? box.height : 0,
            title: svg ? (svg.querySelector('.role-title-text') || {}).textContent || '' : ''};
  });
  // widget outputs that are neither a chart, an ipywidget nor the book's markup companion (a
  // widget view is the output whose renderer sets no type; "Show more outputs" is no output)
  const WIDGET = ':not([data-mime-type]):not(.jp-TrimmedOutputs)';
  const STDERR = '[data-mime-type="application/vnd.jupyter.stderr"]';
  const blankWidgets = [...nb.querySelectorAll('.jp-OutputArea-output' + WIDGET)]
      .filter(o => !o.querySelector('.vega-embed, .jupyter-widgets, .iw-book-markup'))
      .map(o => o.textContent.trim().slice(0, 200));
  const errors = [...nb.querySelectorAll('.jp-OutputArea-output')]
      .filter(o => o.matches(STDERR) || o.querySelector('.jp-RenderedText' + STDERR))
      .map(o => o.textContent.slice(0, 500))
      .filter(t => /Traceback|Error/.test(t));
  const widgetErrors = [...nb.querySelectorAll('.jp-OutputArea-output')].map(o => o.textContent)
      .filter(t => /Error loading script|Error displaying widget|Failed to load model/.test(t))
      .map(t => t.slice(0, 300));
  const markdown = [...nb.querySelectorAll('.jp-MarkdownCell .myst')];
  const all = sel => markdown.flatMap(m => [...m.querySelectorAll(sel)]);
  const solutions = [...nb.querySelectorAll('.jp-MarkdownCell .myst details.myst-exercise > summary')]
      .filter(s => s.textContent.trim().startsWith('Start of Solution'))
      .map(s => ({open: s.parentElement.open}));
  const cells = [...nb.querySelectorAll('.jp-Notebook-cell')];
  return {
    charts, blankWidgets, errors, widgetErrors, solutions,
    prose: markdown.map(m => m.textContent.replace(/\s+/g, ' ')).join('\n'),
    glued: all('span[data-iw-glue]').map(s => [s.dataset.iwGlue, s.textContent]),
    cites: all('span[data-iw-cite]').map(s => [s.dataset.iwCite, s.textContent]),
    notFound: all('[title="Citation Not Found"]').map(s => s.textContent),
    solutionCode: cells.filter(c => c.classList.contains('jp-CodeCell'))
        .filter(c => /expected_batch = ridge/.test(c.textContent)).map(visible),
  };
}"""


def _markdown_sources() -> list[str]:
    nb = json.loads((ROOT / "book" / NOTEBOOK).read_text())
    return ["".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "markdown"]


def _wait(page, condition: str, arg=None, timeout_ms: int = 30_000) -> float:
    """Wait for ``condition`` in the page; on a timeout go on, so that the probe reports what
    is missing. The time it returned."""
    from playwright.sync_api import TimeoutError

    try:
        page.wait_for_function(condition, arg=arg, timeout=timeout_ms)
    except TimeoutError:
        pass
    return time.monotonic()


def _start_kernel(base: str) -> None:
    """Start the chapter's kernel through the REST API while the browser loads JupyterLab (which
    then joins that session): a few seconds less."""
    body = {"path": NOTEBOOK, "name": NOTEBOOK, "type": "notebook", "kernel": {"name": "python3"}}
    req = urllib.request.Request(
        f"{base}/api/sessions?token={TOKEN}",
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    urllib.request.urlopen(req, timeout=30).close()


def _shot(page, locator, name: str, block: str = "start") -> None:
    """A screenshot of the window with ``locator`` at its top (``block="end"``: its bottom)."""
    frames = "() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))"
    for _ in range(2):  # cells off screen have estimated heights until laid out: scroll twice
        locator.evaluate("(e, block) => e.scrollIntoView({block})", block)
        page.evaluate(frames)
    page.screenshot(path=str(SHOTS / name), type="png")


@pytest.fixture(scope="module")
def run(lab_server, browser):
    """The chapter opened and run in JupyterLab with the network blocked: the probe's reading,
    the aborted requests, console errors, timings; screenshots in tests/screenshots/."""
    SHOTS.mkdir(exist_ok=True)
    on_disk = (ROOT / "book" / NOTEBOOK).read_bytes()
    ctx = browser.new_context(viewport={"width": 1400, "height": 900})
    blocked, console = [], []

    def route(r):
        url = r.request.url
        if urlparse(url).hostname in LOCAL or url.startswith(("data:", "blob:")):
            return r.continue_()
        blocked.append(url)
        return r.abort()

    ctx.route("**/*", route)
    page = ctx.new_page()
    page.on(
        "console", lambda m: console.append(f"{m.type}: {m.text}") if m.type == "error" else None
    )
    page.on("pageerror", lambda e: console.append(f"pageerror: {e}"))
    t0 = time.monotonic()
    _start_kernel(lab_server)
    page.goto(f"{lab_server}/lab/tree/{NOTEBOOK}?token={TOKEN}", wait_until="load")
    page.wait_for_function(
        "() => { const w = window.jupyterapp && window.jupyterapp.shell.currentWidget;"
        " const k = w && w.sessionContext && w.sessionContext.session"
        " && w.sessionContext.session.kernel; return k && k.status === 'idle'; }",
        timeout=120_000,
    )
    t1 = time.monotonic()
    ran = page.evaluate(
        "async () => await window.jupyterapp.commands.execute('notebook:run-all-cells')"
    )
    t2 = time.monotonic()
    # every widget output drawn: a chart's SVG, an ipywidget or the markup companion
    t3 = _wait(
        page,
        """() => { const outs = [...document.querySelectorAll(
          '.jp-NotebookPanel .jp-OutputArea-output:not([data-mime-type]):not(.jp-TrimmedOutputs)')];
          return outs.length > 0 && outs.every(o =>
            o.querySelector('.vega-embed svg.marks, .jupyter-widgets, .iw-book-markup')); }""",
    )
    # the companion answers once the kernel is idle: every glue role and citation filled in
    t4 = _wait(
        page,
        """n => { const nb = document.querySelector('.jp-NotebookPanel .jp-Notebook');
          return nb.querySelectorAll('[title="Citation Not Found"]').length === 0
            && nb.querySelectorAll('span[data-iw-glue]').length >= n; }""",
        sum(len(re.findall(r"\{glue:(?:text|md)\}`", s)) for s in _markdown_sources()),
    )
    page.evaluate("document.fonts.ready")
    result = page.evaluate(PROBE)
    # which code cells JupyterLab shows collapsed, with their tags
    result["collapsed"] = page.evaluate(
        """() => window.jupyterapp.shell.currentWidget.content.widgets
          .filter(c => c.model.type === 'code')
          .map(c => ({tags: c.model.getMetadata('tags') || [], hidden: c.inputHidden,
                      source: c.model.sharedModel.getSource().slice(0, 40)}))"""
    )
    # the first chart at the bottom of the window, the glued paragraph before it above
    chart = page.locator(".jp-OutputArea-output .vega-embed").first
    _shot(page, chart, "jupyterlab_01_battlefield_prose_chart.png", block="end")
    # open the first solution: its cells appear; close it: they hide again
    summary = page.locator(".jp-MarkdownCell details.myst-exercise > summary").filter(
        has_text="Start of Solution"
    )
    _shot(
        page,
        page.locator(".jp-MarkdownCell", has=page.locator(".myst-exercise")).first,
        "jupyterlab_01_battlefield_exercises.png",
    )
    summary.first.click()
    page.wait_for_timeout(300)
    opened = page.evaluate(PROBE)["solutionCode"]
    _shot(page, summary.first, "jupyterlab_01_battlefield_solution_open.png")
    summary.first.click()
    page.wait_for_timeout(300)
    closed = page.evaluate(PROBE)["solutionCode"]
    result.update(
        ran=ran,
        blocked=blocked,
        console=console,
        opened=opened,
        closed=closed,
        seconds={"open": t1 - t0, "run": t2 - t1, "charts": t3 - t2, "markup": t4 - t3},
        unchanged=(ROOT / "book" / NOTEBOOK).read_bytes() == on_disk,
    )
    ctx.close()
    print({k: round(v, 1) for k, v in result["seconds"].items()}, f"{len(blocked)} blocked")
    return result


def test_every_cell_runs_and_nothing_reaches_the_internet(run):
    assert run["ran"], "Run All stopped early (a cell failed)"
    assert not run["errors"], run["errors"]
    assert not run["widgetErrors"], run["widgetErrors"]
    assert not run["console"], run["console"]
    assert not run["blocked"], f"{len(run['blocked'])} requests to the internet: {run['blocked']}"
    assert run["unchanged"], f"book/{NOTEBOOK} was written by JupyterLab"


def test_every_chart_renders_offline_with_marks(run):
    """Altair's JupyterChart with its JavaScript bundled: every chart output is a drawn Vega
    chart (no "Error loading script", no empty widget), with data marks at finite positions."""
    charts = run["charts"]
    assert len(charts) >= 6, f"chapter 1 has six charts, JupyterLab shows {len(charts)}"
    assert not run["blankWidgets"], f"widget outputs with no chart: {run['blankWidgets']}"
    for c in charts:
        assert c["marks"] > 0 and c["nan"] == 0, c
        assert c["width"] > 200 and c["height"] > 100, c


def test_glue_roles_show_the_books_numbers(run):
    """Every ``{glue:text}`` role shows a number, formatted as the book formats it."""
    import inference_wars as iw

    uses = [m for s in _markdown_sources() for m in re.findall(r"\{glue:(?:text|md)\}`([^`]+)`", s)]
    shown = dict(run["glued"])
    assert set(shown) == set(uses), f"roles not filled in: {sorted(set(uses) - set(shown))}"
    for role, text in shown.items():
        assert text != role and re.fullmatch(r"[-\d,.]+(e[-+]\d+)?", text), (role, text)
        assert role not in run["prose"], f"{role} shows raw"
    assert "{glue" not in run["prose"] and "{cite}" not in run["prose"]
    bw = f"{float(iw.get_chip('h100-sxm').get('hbm_tb_s')):.2f}"
    assert f"read only {bw} TB/s from HBM" in run["prose"]


def test_citations_read_as_in_the_book(run):
    assert not run["notFound"], f"citations not found: {run['notFound']}"
    assert run["cites"], "no citation rendered"
    for key, text in run["cites"]:
        assert re.fullmatch(r"\[[^\]]+, \d{4}\]", text), (key, text)


def test_solutions_stay_collapsed_until_opened(run):
    gated = sum(s.count("{solution-start}") for s in _markdown_sources())
    assert len(run["solutions"]) == gated > 0, run["solutions"]
    assert not any(s["open"] for s in run["solutions"]), "a solution box is open"
    assert run["solutionCode"] == [False], "a solution's code is in plain view"
    assert run["opened"] == [True] and run["closed"] == [False], (run["opened"], run["closed"])


def test_the_code_the_book_hides_opens_collapsed(run):
    """Set-up and check cells (remove-cell), and hide-input cells, show collapsed, as the book
    hides them; every other code cell shows its code."""
    from inference_wars.book.lab import HIDDEN_SOURCE_TAGS

    cells = run["collapsed"]
    assert cells, "no code cells seen"
    wrong = [c for c in cells if c["hidden"] != bool(set(c["tags"]) & HIDDEN_SOURCE_TAGS)]
    assert not wrong, wrong
    assert any(c["hidden"] for c in cells) and not all(c["hidden"] for c in cells)
