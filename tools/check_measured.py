"""Check the measured-results files (``inference_wars/data/measured/*.csv``) the way the package
loads them: the pydantic schema of each row (``validation.MeasuredRow``: columns, whole numbers,
metrics), unique ids, catalog chip, model and format names, and BibTeX keys, then whether the
shipped held-out predictions cover every row.

    python tools/check_measured.py            # all files
    python tools/check_measured.py mlperf     # one family
"""

import sys

from inference_wars.catalog import CatalogError
from inference_wars.evidence import validation


def main(families: list[str]) -> int:
    try:
        df = validation.measured()  # raises on the first bad row, naming its file and line
    except CatalogError as exc:
        print(exc)
        return 1
    unknown = sorted(set(families) - set(validation.source_families()))
    if unknown:
        print(f"unknown source families {unknown}; the files are {validation.source_families()}")
        return 1
    if families:
        df = df[df["source_family"].isin(families)]
    print(f"ok: {len(df)} rows in {df['source_family'].nunique()} files")
    try:
        validation.held_out()
    except CatalogError as exc:  # new rows need a refit before the book's error tables use them
        print(exc)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
