"""The book's sources follow the conventions every chapter relies on (checked without building):
each page in the table of contents exists, each chapter can be launched on Colab, has its set-up
hidden, quotes numbers through glue and ends with exercises whose solutions are hidden; every
package module is in the API reference; every BibTeX file is rendered; every chip has a colour."""

import json
import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
TOC = yaml.safe_load((ROOT / "_toc.yml").read_text())
CONFIG = yaml.safe_load((ROOT / "_config.yml").read_text())
FILES = [TOC["root"]] + [ch["file"] for part in TOC["parts"] for ch in part["chapters"]]
CHAPTERS = [f for f in FILES if Path(f).name[:2].isdigit() or Path(f).name.startswith("appendix")]


def cells(stem: str) -> list[dict]:
    return json.loads((ROOT / f"{stem}.ipynb").read_text())["cells"]


def test_every_page_in_the_toc_exists():
    for f in FILES:
        assert (ROOT / f"{f}.md").exists() or (ROOT / f"{f}.ipynb").exists(), f


def check_gated_solutions(cs: list[dict]) -> int:
    """Every gated solution (``solution-start`` ... ``solution-end``, each in its own markdown
    cell) holds a visible code cell that runs on every build and a hidden cell that glues its
    answer and asserts it; returns how many there are."""
    n, inside, has_code, has_check = 0, False, False, False
    for c in cs:
        src = "".join(c["source"])
        tags = c["metadata"].get("tags", [])
        if c["cell_type"] == "markdown" and "```{solution-start}" in src:
            assert not inside, "solution-start inside another solution"
            inside, has_code, has_check = True, False, False
            assert "```{solution-end}" not in src
        elif c["cell_type"] == "markdown" and "```{solution-end}" in src:
            assert inside, "solution-end without solution-start"
            assert has_code, "a gated solution runs real code"
            assert has_check, (
                "a gated solution's answer is glued and asserted in a remove-cell cell"
            )
            inside, n = False, n + 1
        elif c["cell_type"] == "code" and inside:
            if "remove-cell" in tags:
                has_check = has_check or ("assert" in src and "glue_number(" in src)
            else:
                has_code = True
                assert not {"skip-execution", "nbval-skip", "raises-exception"} & set(tags)
    assert not inside, "solution-start without solution-end"
    return n


def test_every_solution_is_executed_code():
    """Solutions are gated code cells, run on every build, answers glued and asserted
    (issue 13 item 7): no chapter keeps a solution whose code is indented text."""
    unconverted = {}
    for stem in CHAPTERS:
        cs = cells(stem)
        text = "\n".join("".join(c["source"]) for c in cs if c["cell_type"] == "markdown")
        old = re.findall(r"```\{solution\} (ex-[a-z0-9-]+)", text)
        if old:
            unconverted[stem] = old
        assert check_gated_solutions(cs) == len(re.findall(r"```\{solution-start\}", text))
    assert not unconverted, f"solutions written as indented code: {unconverted}"


@pytest.mark.parametrize("stem", CHAPTERS)
def test_chapter_conventions(stem):
    cs = cells(stem)
    code = [c for c in cs if c["cell_type"] == "code"]
    text = "\n".join("".join(c["source"]) for c in cs if c["cell_type"] == "markdown")
    first = "".join(code[0]["source"])
    assert "google.colab" in first and CONFIG["repository"]["url"] in first, (
        "the first code cell installs the package on Colab (and nowhere else)"
    )
    assert "remove-cell" in code[0]["metadata"].get("tags", [])
    setup = next(c for c in code if "setup()" in "".join(c["source"]))
    assert "remove-cell" in setup["metadata"].get("tags", []), "set-up is hidden from readers"
    assert "{glue:text}" in text, "numbers in prose come from the package through glue"
    exercises = re.findall(r"```\{exercise\}", text)
    solutions = re.findall(r"```\{solution(?:-start)?\}[^\n]*\n(?::[^\n]*\n)*", text)
    assert 2 <= len(exercises) <= 4 and len(solutions) == len(exercises), (
        len(exercises),
        len(solutions),
    )
    assert all(":class: dropdown" in s for s in solutions), "solutions are hidden by default"
    check_gated_solutions(cs)
    assert any(
        "remove-output" in c["metadata"].get("tags", []) and "interact" in "".join(c["source"])
        for c in code
    ), "a live ipywidgets explorer for readers running the chapter"
    skipped = [
        t
        for c in code
        for t in c["metadata"].get("tags", [])
        if t in ("nbval-skip", "skip-execution", "raises-exception", "nbval-ignore-output")
    ]
    assert not skipped, f"cells that nbval or the build would not really run: {skipped}"
    last = code[-1]
    assert "remove-cell" in last["metadata"].get("tags", []) and "assert" in "".join(
        last["source"]
    ), "a hidden last cell keeps the prose's claims true"


@pytest.mark.parametrize("stem", CHAPTERS)
def test_jupyterlab_collapses_the_code_the_book_hides(stem):
    """A set-up, check or hide-input cell opens collapsed in JupyterLab, as the book hides it
    (issue 13): ``jupyter.source_hidden`` matches the tags (tools/collapse_hidden_cells.py)."""
    from inference_wars.book.lab import source_hidden

    wrong = [
        "".join(c["source"])[:50]
        for c in cells(stem)
        if source_hidden(c) != bool(c["metadata"].get("jupyter", {}).get("source_hidden"))
    ]
    assert not wrong, f"run tools/collapse_hidden_cells.py; cells out of step: {wrong}"
    assert any(source_hidden(c) for c in cells(stem))


def test_every_package_module_is_in_the_api_reference():
    api = "".join(p.read_text() for p in (ROOT / "book").glob("api*.md"))
    pkg = ROOT / "inference_wars"
    modules = {
        ".".join(p.relative_to(pkg).with_suffix("").parts).removesuffix(".__init__")
        for p in pkg.rglob("*.py")
        if p.name != "__main__.py"
    } - {"__init__"}
    missing = sorted(m for m in modules if f"automodule:: inference_wars.{m}\n" not in api)
    assert not missing, f"add these modules to the API reference (book/api*.md): {missing}"


def test_every_bib_file_is_rendered():
    listed = {Path(p).name for p in CONFIG["bibtex_bibfiles"]}
    present = {p.name for p in (ROOT / "inference_wars" / "data" / "references").glob("*.bib")}
    assert listed == present


def test_every_chip_has_a_stable_colour():
    import inference_wars as iw
    from inference_wars.book.charts import CHIP_COLORS

    assert set(iw.chips()["id"]) <= set(CHIP_COLORS)
    assert len(set(CHIP_COLORS.values())) == len(CHIP_COLORS), "two chips share a colour"


def test_workshop_guide_covers_every_chapter_with_real_exercises():
    guide = (ROOT / "book" / "workshop.md").read_text()
    labels = set()
    for stem in CHAPTERS:
        labels |= set(re.findall(r":label: (ex-[a-z0-9-]+)", (ROOT / f"{stem}.ipynb").read_text()))
    cited = set(re.findall(r"\{ref\}`(ex-[a-z0-9-]+)`", guide))
    assert cited and cited <= labels, (
        f"the guide names exercises that do not exist: {sorted(cited - labels)}"
    )
    for stem in CHAPTERS:
        assert "{doc}`" + Path(stem).name in guide, f"{stem} is missing from the workshop agendas"


# --------------------------------------------------------------------------- one number, one place; honest precision


def _code_without_magics(source: str) -> str:
    return "\n".join(
        ln[: len(ln) - len(ln.lstrip())] + "pass" if ln.lstrip().startswith(("%", "!")) else ln
        for ln in source.splitlines()
    )


def glue_calls() -> dict[str, dict[str, list[str]]]:
    """``{glue name: {chapter stem: [value expression, ...]}}`` for every ``glue_number("name", ...)``
    call with a literal name in the chapters' code cells."""
    import ast

    out: dict[str, dict[str, list[str]]] = {}
    for stem in CHAPTERS:
        for c in cells(stem):
            if c["cell_type"] != "code":
                continue
            tree = ast.parse(_code_without_magics("".join(c["source"])))
            for node in ast.walk(tree):
                f = node.func if isinstance(node, ast.Call) else None
                if (
                    getattr(f, "id", getattr(f, "attr", None)) == "glue_number"
                    and node.args
                    and isinstance(node.args[0], ast.Constant)
                    and len(node.args) > 1
                ):
                    out.setdefault(node.args[0].value, {}).setdefault(Path(stem).name, []).append(
                        ast.unparse(node.args[1])
                    )
    return out


def test_a_number_glued_in_two_chapters_is_a_declared_shared_quantity():
    from inference_wars.book import SHARED_QUANTITIES

    declared = {(stem, name) for q in SHARED_QUANTITIES.values() for stem, name in q["glue"]}
    calls = glue_calls()
    assert len(calls) > 100, "the parser must see the chapters' glue calls"
    for name, by_chapter in calls.items():
        if len(by_chapter) > 1:
            undeclared = sorted(s for s in by_chapter if (s, name) not in declared)
            assert not undeclared, (
                f"{name!r} is glued in {sorted(by_chapter)}: declare it in "
                f"inference_wars.book.SHARED_QUANTITIES with the one function that computes it"
            )


def test_shared_quantities_name_a_function_and_are_quoted_where_declared():
    import importlib

    from inference_wars.book import SHARED_QUANTITIES

    stems = {Path(s).name: s for s in CHAPTERS}
    for meaning, q in SHARED_QUANTITIES.items():
        assert len({s for s, _ in q["glue"]}) >= 2, (
            f"{meaning}: a shared quantity is quoted by two chapters or more"
        )
        module, _, attr = q["function"].rpartition(".")
        try:
            obj = importlib.import_module(module)
        except ModuleNotFoundError:  # a method: module.Class.method
            module, _, cls = module.rpartition(".")
            obj = getattr(importlib.import_module(module), cls)
        assert callable(getattr(obj, attr)), f"{meaning}: {q['function']} is not a package function"
        for stem, name in q["glue"]:
            prose = "\n".join(
                "".join(c["source"]) for c in cells(stems[stem]) if c["cell_type"] == "markdown"
            )
            assert "{glue:text}`" + name in prose, f"{meaning}: {stem} does not quote {name}"


def test_significant_figures_of_printed_numbers():
    from inference_wars.book import printed_sig_figs, round_sig

    assert [
        printed_sig_figs(s)
        for s in (
            "706,900",
            "61,476",
            "1,838",
            "2,212",
            "0.00",
            "37",
            "4.6",
            "123.0",
            "0.0420",
            "9,216",
            "17,000",
            "-1.25",
        )
    ] == [4, 5, 4, 4, 0, 2, 2, 4, 3, 4, 2, 3]
    assert (
        round_sig(706_912.3) == 707_000
        and round_sig(0.0045987, 2) == 0.0046
        and round_sig(37.606, 2) == 38
    )
    assert round_sig(0) == 0 and round_sig(-1838.4) == -1840
    with pytest.raises(ValueError):
        round_sig(1.0, 0)


def _executed(outputs: list[tuple[str, float, bool]], prose: str) -> dict:
    """A minimal executed notebook: one code cell whose outputs are glue_number's, one markdown cell."""
    from IPython.core.interactiveshell import InteractiveShell
    from IPython.utils.capture import capture_output

    from inference_wars.book import glue_number

    InteractiveShell.instance()
    with capture_output() as cap:
        for name, value, exact in outputs:
            glue_number(name, value, exact=exact)
    outs = [
        {"output_type": "display_data", "data": o.data, "metadata": o.metadata} for o in cap.outputs
    ]
    return {
        "cells": [
            {"cell_type": "code", "source": "", "outputs": outs},
            {"cell_type": "markdown", "source": prose},
        ]
    }


def test_precision_check_flags_false_precision_and_spares_exact_facts():
    from inference_wars.book import precision_problems, round_sig

    nb = _executed(
        [
            ("agg", 706_912.3, False),
            ("pod", 9216, True),
            ("ttft", 0.0046, False),
            ("ok", round_sig(61_476), False),
        ],
        "{glue:text}`agg:,.0f` tokens/s on a {glue:text}`pod:,.0f`-chip pod, TTFT "
        "{glue:text}`ttft:.2f` s, then {glue:text}`ok:,.0f`",
    )
    problems = precision_problems(nb)
    assert len(problems) == 2, problems
    assert problems[0].startswith("agg:,.0f prints '706,912'") and problems[1].startswith(
        "ttft:.2f prints '0.00'"
    )
    # the same numbers, rounded or printed in a unit that shows them, pass
    nb = _executed(
        [("agg", round_sig(706_912.3), False), ("ttft_ms", round_sig(4.6, 2), False)],
        "{glue:text}`agg:,.0f` and {glue:text}`ttft_ms:.2g` ms",
    )
    assert precision_problems(nb) == []
    # no format: the role prints the float's repr, every digit of it
    assert precision_problems(_executed([("raw", 37.606, False)], "{glue:text}`raw` us")) != []
    # a rounded number printed at fewer figures, cut exactly at a half: double rounding
    tie = _executed([("low", round_sig(6.3521, 3), False)], "{glue:text}`low:.1f` us")
    assert precision_problems(tie) == [
        "low:.1f prints '6.3' for 6.35: the glued number was "
        "already rounded and now sits on a tie, so the printed "
        "digit may be wrong (the unrounded value decides it); glue "
        "it at the figures printed, or print all"
    ]
    assert precision_problems(_executed([("low", 6.35, False)], "{glue:text}`low:.3g` us")) == []


def test_every_python_reference_in_the_prose_exists():
    """``{py:func}`` / ``{py:class}`` targets in the book's pages must exist: Sphinx only warns
    about a missing one in nitpicky mode, so a renamed function would leave a dead link."""
    import importlib
    import re

    missing = []
    for page in sorted((ROOT / "book").glob("*.md")):
        for target in re.findall(r"\{py:(?:func|class|mod|data)\}`~?([\w.]+)`", page.read_text()):
            mod, _, attr = target.rpartition(".")
            try:
                obj = importlib.import_module(target) if not attr else None
            except ImportError:
                obj = None
            if obj is None:
                try:
                    obj = getattr(importlib.import_module(mod), attr)
                except (ImportError, AttributeError):
                    missing.append(f"{page.name}: {target}")
    assert not missing, missing


def _chapter_label(stem: str) -> str:
    name = Path(stem).name
    return (
        f"the {name.split('_', 1)[1]} appendix"
        if name.startswith("appendix")
        else f"chapter {int(name[:2])}"
    )


def test_each_analysis_names_the_chapters_that_call_it():
    """Issue 14: every public function of ``inference_wars.analyses`` says in its docstring which
    chapters call it ("Used in chapter 3 and the claims appendix.") or that none does; the list
    must match the chapters' code, so it cannot drift when a chapter starts or stops using one."""
    import importlib
    import inspect
    import pkgutil

    import inference_wars.analyses as analyses

    code = {
        _chapter_label(stem): "\n".join(
            "".join(c["source"]) for c in cells(stem) if c["cell_type"] == "code"
        )
        for stem in CHAPTERS
    }
    wrong = []
    for info in pkgutil.walk_packages(analyses.__path__, analyses.__name__ + "."):
        mod = importlib.import_module(info.name)
        short = info.name.split(".")[2]  # analyses.<module> (hardwired.<part> -> hardwired)
        for name, fn in inspect.getmembers(mod, inspect.isfunction):
            if name.startswith("_") or fn.__module__ != info.name:
                continue
            call = re.compile(rf"\b(?:iw\.)?{short}\.{name}\(")
            callers = {label for label, src in code.items() if call.search(src)}
            doc = " ".join((inspect.getdoc(fn) or "").split())
            said = re.search(r"Used in ([^.]*)\.", doc)
            if not said:
                if callers or "No chapter calls it directly" not in doc:
                    wrong.append(
                        f"{info.name}.{name}: called by {sorted(callers)}, docstring says none"
                    )
                continue
            named = set(re.findall(r"the \w+ appendix", said.group(1)))
            nums = re.sub(r"the \w+ appendix", "", said.group(1))
            named |= {f"chapter {n}" for n in re.findall(r"\d+", nums)}
            if named != callers:
                wrong.append(
                    f"{info.name}.{name}: docstring names {sorted(named)}, called by {sorted(callers)}"
                )
    assert not wrong, "\n".join(wrong)
