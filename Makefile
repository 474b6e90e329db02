# Two commands on a fresh machine:  make book   and   make test
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-stamp

.PHONY: book test lab unit notebooks browser screenshots chromium bench clean

$(STAMP): requirements.txt pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt
	touch $(STAMP)

## Build the HTML book into _build/html (warnings are errors).
book: $(STAMP)
	IW_BOOK_BUILD=1 $(VENV)/bin/jupyter-book build . --warningiserror --keep-going

## A Chromium for the browser tests: Playwright's own if downloaded, else the system one, else
## download Playwright's (needs the network); otherwise one line saying what to install.
chromium: $(STAMP)
	@$(PY) tests/find_browser.py --install

## Every test: package, every chapter executed once (into the Jupyter cache the
## build renders from), the book build (-W) and the real-browser check.
test: $(STAMP) chromium
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check --quiet .
	$(PY) -m pytest -p no:cacheprovider --durations=5

unit: $(STAMP)
	$(PY) -m pytest tests -m "not browser and not notebooks"

## Every chapter executed (reuses the cache while the package and the chapter are unchanged);
## one chapter alone, with nbval:  .venv/bin/pytest --nbval-lax book/03_vera_rubin.ipynb
notebooks: $(STAMP)
	$(PY) -m pytest tests -m notebooks

browser: $(STAMP) chromium
	$(PY) -m pytest tests -m browser

## The browser check again, keeping a screenshot of every page at both widths in tests/screenshots/
screenshots: $(STAMP) chromium
	IW_SCREENSHOTS=1 $(PY) -m pytest tests -m browser

## JupyterLab on the book, to run chapters live (also as root, e.g. in a workshop's Docker image).
lab: $(STAMP)
	$(VENV)/bin/jupyter lab book $$( [ "$$(id -u)" = 0 ] && echo --allow-root )

bench: $(STAMP)
	$(PY) benchmarks/sweep.py
	$(PY) benchmarks/import_time.py
	$(PY) benchmarks/accuracy.py

clean:
	rm -rf _build
