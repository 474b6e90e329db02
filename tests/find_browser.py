"""Find a Chromium for the browser tests, or install Playwright's own.

Order: Playwright's own Chromium if it is installed; else a system Chromium (Debian's
``chromium``); else ``python -m playwright install chromium`` where the network allows; else
``None`` and one clear line saying what to do. ``make test`` runs ``python tests/find_browser.py
--install`` first.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

HELP = (
    "no Chromium for the browser tests: run `.venv/bin/python -m playwright install chromium` "
    "(needs the network) or install Debian's `chromium` (apt-get install -y chromium)"
)


def playwright_chromium() -> str | None:
    """Playwright's own Chromium, if it has been downloaded."""
    try:
        from playwright.sync_api import sync_playwright

        with sync_playwright() as p:
            path = p.chromium.executable_path
    except Exception:
        return None
    return path if path and Path(path).exists() else None


def system_chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        if p := shutil.which(name):
            return p
    return None


def find(install: bool = False) -> str | None:
    """The path of a usable Chromium (installing Playwright's own if ``install`` and needed)."""
    found = playwright_chromium() or system_chromium()
    if found or not install:
        return found
    try:
        subprocess.run(
            [sys.executable, "-m", "playwright", "install", "chromium"],
            check=True,
            capture_output=True,
            timeout=600,
        )
    except Exception:
        return None
    return playwright_chromium()


if __name__ == "__main__":
    path = find(install="--install" in sys.argv)
    print(path or HELP, file=sys.stdout if path else sys.stderr)
    sys.exit(0 if path else 1)
