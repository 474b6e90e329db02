"""Check the measured-results files (``inference_wars/data/measured/*.csv``) against the schema
in that folder's README: columns, ids, catalog names, metrics, numbers and BibTeX keys.

    python tools/check_measured.py            # all files
    python tools/check_measured.py mlperf     # one family
"""

import re
import sys
from pathlib import Path

import pandas as pd

import inference_wars as iw
from inference_wars import catalog

DATA = Path(iw.__file__).parent / "data"
COLUMNS = [
    "id",
    "chip",
    "n_chips",
    "model",
    "model_as_published",
    "precision",
    "batch",
    "batch_is_cap",
    "input_tokens",
    "output_tokens",
    "metric",
    "value",
    "min_tokens_per_s_per_user",
    "tp",
    "ep",
    "pp",
    "attention_dp",
    "mtp_tokens",
    "disaggregated",
    "software",
    "source",
    "date",
    "catalog_fit",
    "note",
]
METRICS = {
    "tokens_per_s",
    "tokens_per_s_per_chip",
    "decode_tokens_per_s_per_chip",
    "tokens_per_s_per_user",
    "ttft_s",
}


def bib_keys() -> set[str]:
    keys = set()
    for f in (DATA / "references").glob("*.bib"):
        keys |= set(re.findall(r"@\w+\{([^,\s]+),", f.read_text(encoding="utf-8")))
    return keys


def main(families: list[str]) -> int:
    files = sorted((DATA / "measured").glob("*.csv"))
    if families:
        files = [f for f in files if f.stem in families]
    keys, problems, ids, n = bib_keys(), [], set(), 0
    for f in files:
        df = pd.read_csv(f, dtype=str, keep_default_na=False)
        if list(df.columns) != COLUMNS:
            problems.append(f"{f.name}: columns must be exactly {COLUMNS}")
            continue
        for i, r in df.iterrows():
            where = f"{f.name}:{i + 2}"
            n += 1
            if r.id in ids:
                problems.append(f"{where}: duplicate id {r.id}")
            ids.add(r.id)
            for name, get in (
                ("chip", catalog.get_chip),
                ("model", catalog.get_model),
                ("precision", catalog.get_format),
            ):
                try:
                    get(r[name])
                except Exception as exc:  # noqa: BLE001
                    problems.append(f"{where}: {exc}")
            if r.metric not in METRICS:
                problems.append(f"{where}: metric {r.metric!r} not in {sorted(METRICS)}")
            try:
                if not float(r.value) > 0:
                    raise ValueError
            except ValueError:
                problems.append(f"{where}: value {r.value!r} is not a positive number")
            for col in (
                "n_chips",
                "batch",
                "input_tokens",
                "output_tokens",
                "tp",
                "ep",
                "pp",
                "mtp_tokens",
            ):
                if r[col] and not r[col].isdigit():
                    problems.append(f"{where}: {col} {r[col]!r} must be a whole number or blank")
            for col in ("input_tokens", "output_tokens"):
                if not r[col]:
                    problems.append(f"{where}: {col} is required")
            for col in ("batch_is_cap", "attention_dp", "disaggregated", "catalog_fit"):
                if r[col] not in ("", "true", "false"):
                    problems.append(f"{where}: {col} must be true, false or blank")
            if r.min_tokens_per_s_per_user:
                try:
                    float(r.min_tokens_per_s_per_user)
                except ValueError:
                    problems.append(f"{where}: min_tokens_per_s_per_user must be a number")
            if r.source not in keys:
                problems.append(f"{where}: source {r.source!r} is not a key in references/*.bib")
            if not re.fullmatch(r"\d{4}-\d{2}(-\d{2})?", r.date):
                problems.append(f"{where}: date {r.date!r} must be YYYY-MM or YYYY-MM-DD")
            if not r.note.strip():
                problems.append(f"{where}: note must say where the number is in the source")
    print("\n".join(problems) if problems else f"ok: {n} rows in {len(files)} files")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
