"""Execute every chapter once and build the book with warnings as errors, as one process.

``tests/conftest.py`` starts this in the background as soon as pytest has collected a test that
needs the book, so the package's own tests run on the other core meanwhile; the tests that need
the book run last and wait for it. Usage::

    python tests/build_book.py OUT      # HTML in OUT/_build/html

Writes ``OUT/_build/iw-executed.json`` (``{notebook path: traceback or null}``) after the
chapters ran, then builds (skipped when a chapter failed); exits with the build's status and
prints the build's output.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "book" / "_ext"))
import execution_cache  # noqa: E402

RESULTS = "iw-executed.json"


def main(out: Path) -> int:
    cache, t0 = out / "_build" / ".jupyter_cache", time.monotonic()
    runs = execution_cache.execute_all(cache, ROOT)
    # seconds per chapter, so a stalled kernel shows which chapter and how long (in iw-build.log)
    print(f"chapters run in {time.monotonic() - t0:.1f} s:", execution_cache.timings(cache))
    tmp = out / "_build" / (RESULTS + ".tmp")
    tmp.write_text(json.dumps(runs))
    tmp.replace(out / "_build" / RESULTS)  # appears whole: the tests wait for it
    if any(runs.values()):
        print("a chapter failed to execute; the book was not built")
        return 1
    jb = Path(sys.executable).with_name("jupyter-book")
    r = subprocess.run(
        [
            str(jb),
            "build",
            str(ROOT),
            "--warningiserror",
            "--keep-going",
            "--path-output",
            str(out),
        ],
        cwd=ROOT,
        env=dict(os.environ, IW_BOOK_BUILD="1"),
        capture_output=True,
        text=True,
        timeout=900,
    )
    print(r.stdout[-6000:])
    print(r.stderr[-3000:], file=sys.stderr)
    return r.returncode


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1]).resolve()))
