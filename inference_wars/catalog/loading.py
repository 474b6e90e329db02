"""Reading the catalog's CSV files: every row validated by its schema, every source checked
against the bibliography, ids unique; each table loaded once (lazily, cached)."""

from __future__ import annotations

import csv
import functools
import re
from pathlib import Path

from pydantic import BaseModel, ValidationError

from .schemas import (
    AssumptionRow,
    CatalogError,
    Chip,
    ChipRow,
    EngineRow,
    FormatRow,
    MarketRow,
    ModelRow,
    Spec,
    SpecRow,
    split_aliases,
)

DATA_DIR = Path(__file__).parents[1] / "data"


def read_rows(path: Path, schema: type[BaseModel], allow_empty: bool = False) -> list:
    """Every row of a CSV file validated by ``schema``; a missing or unreadable file, a header
    without the schema's required columns, a bad row or (unless ``allow_empty``) a table with no
    rows raises :class:`CatalogError` naming the file and line."""
    rows = []
    try:
        fh = path.open(newline="", encoding="utf-8")
    except OSError as exc:
        raise CatalogError(
            f"{path.name}: cannot read {path} ({exc.strerror or exc}); "
            f"the package's data folder is incomplete"
        ) from None
    with fh:
        reader = csv.DictReader(fh)
        header = reader.fieldnames or []
        required = [k for k, f in schema.model_fields.items() if f.is_required()]
        missing = [k for k in required if k not in header]
        if missing:
            raise CatalogError(
                f"{path.name}:1: header lacks column(s) {', '.join(missing)}"
                + ("" if header else " (the file is empty)")
            )
        for line_no, raw in enumerate(reader, start=2):
            if None in raw:
                raise CatalogError(
                    f"{path.name}:{line_no}: more fields than the header has (unquoted comma?)"
                )
            try:
                rows.append(schema.model_validate(raw))
            except ValidationError as exc:
                problems = "; ".join(
                    f"{'.'.join(str(x) for x in e['loc']) or 'row'}: {e['msg']} (got {e.get('input')!r})"
                    for e in exc.errors(include_url=False)
                )
                raise CatalogError(f"{path.name}:{line_no}: {problems}") from None
            except ValueError as exc:
                raise CatalogError(f"{path.name}:{line_no}: {exc}") from None
    if not rows and not allow_empty:
        raise CatalogError(f"{path.name}:2: the table has a header but no rows")
    return rows


def unique_by(path_name: str, rows: list, key: str) -> dict:
    """``{row.<key>: row}``; a key given twice raises naming both lines."""
    out: dict = {}
    first: dict = {}
    for line_no, r in enumerate(rows, start=2):
        k = getattr(r, key)
        if k in out:
            raise CatalogError(
                f"{path_name}:{line_no}: duplicate {key} {k!r} (first on line {first[k]})"
            )
        out[k], first[k] = r, line_no
    return out


@functools.cache
def bib_keys() -> frozenset[str]:
    """All BibTeX keys defined in ``data/references/*.bib``."""
    keys: list[str] = []
    for path in sorted((DATA_DIR / "references").glob("*.bib")):
        keys += re.findall(
            r"^\s*@\w+\s*\{\s*([^,\s]+)\s*,", path.read_text(encoding="utf-8"), flags=re.M
        )
    dupes = {k for k in keys if keys.count(k) > 1}
    if dupes:
        raise CatalogError(f"duplicate BibTeX keys: {sorted(dupes)}")
    return frozenset(keys)


def check_source(where: str, key: str) -> None:
    if key not in bib_keys():
        raise CatalogError(f"{where}: source {key!r} is not in data/references/*.bib")


@functools.cache
def _chips() -> dict[str, Chip]:
    rows = read_rows(DATA_DIR / "chips.csv", ChipRow)
    ids = list(unique_by("chips.csv", rows, "id"))
    specs: dict[str, dict[str, Spec]] = {i: {} for i in ids}
    spec_files = sorted((DATA_DIR / "chip_specs").glob("*.csv"))
    if not spec_files:
        raise CatalogError("chip_specs/: no *.csv files; every chip's numbers live there")
    for path in spec_files:
        for line_no, s in enumerate(read_rows(path, SpecRow), start=2):
            where = f"{path.name}:{line_no}"
            if s.chip not in specs:
                raise CatalogError(f"{where}: chip {s.chip!r} is not in chips.csv")
            if s.quantity in specs[s.chip]:
                raise CatalogError(f"{where}: {s.chip} {s.quantity} is given twice")
            check_source(where, s.source)
            low = s.value if s.low is None else s.low
            high = s.value if s.high is None else s.high
            specs[s.chip][s.quantity] = Spec(
                s.value, low, high, s.status, s.source, s.date, s.note or ""
            )
    chips = {}
    for r in rows:
        chips[r.id] = Chip(
            id=r.id,
            name=r.name,
            vendor=r.vendor,
            category=r.category,
            unit=r.unit,
            release_status=r.release_status,
            memory_kind=r.memory_kind,
            process=r.process,
            sram_role=r.sram_role,
            hardwired_model=r.hardwired_model,
            aliases=split_aliases(r.aliases),
            specs=specs[r.id],
        )
    return chips


@functools.cache
def _models() -> dict[str, ModelRow]:
    rows = read_rows(DATA_DIR / "models.csv", ModelRow)
    out = {}
    for line_no, r in enumerate(rows, start=2):
        if r.id in out:
            raise CatalogError(f"models.csv:{line_no}: duplicate id {r.id}")
        check_source(f"models.csv:{line_no}", r.source)
        out[r.id] = r
    for c in _chips().values():
        if c.hardwired_model and c.hardwired_model not in out:
            raise CatalogError(
                f"chips.csv: {c.id} is hard-wired to unknown model {c.hardwired_model!r}"
            )
    return out


@functools.cache
def _formats() -> dict[str, FormatRow]:
    rows = read_rows(DATA_DIR / "formats.csv", FormatRow)
    out = unique_by("formats.csv", rows, "id")
    for line_no, r in enumerate(rows, start=2):
        check_source(f"formats.csv:{line_no}", r.source)
    return out


@functools.cache
def _engines() -> dict[str, EngineRow]:
    rows = read_rows(DATA_DIR / "engines.csv", EngineRow)
    out = unique_by("engines.csv", rows, "id")
    for line_no, r in enumerate(rows, start=2):
        if r.source is not None:
            check_source(f"engines.csv:{line_no}", r.source)
    return out


@functools.cache
def _assumptions() -> dict[str, AssumptionRow]:
    rows = read_rows(DATA_DIR / "assumptions.csv", AssumptionRow)
    out = unique_by("assumptions.csv", rows, "key")
    for line_no, r in enumerate(rows, start=2):
        check_source(f"assumptions.csv:{line_no}", r.source)
    _check_required(out, len(rows) + 2)
    return out


#: Assumption keys the layers above read (registered by :func:`require_assumptions`).
_REQUIRED: set[str] = set()


def _check_required(table: dict, line_no: int) -> None:
    missing = sorted(k for k in _REQUIRED if k not in table)
    if missing:
        raise CatalogError(
            f"assumptions.csv:{line_no}: missing required assumption(s) {', '.join(missing)} "
            f"(every factor the engine reads needs a row)"
        )


def require_assumptions(keys) -> None:
    """Declare assumption keys a layer above reads (the engine does so when it is imported):
    ``assumptions.csv`` must define each, checked when the table loads (and now, if it has)."""
    _REQUIRED.update(keys)
    if _assumptions.cache_info().currsize:
        _check_required(_assumptions(), len(_assumptions()) + 2)


def required_assumptions() -> tuple[str, ...]:
    """Keys ``assumptions.csv`` must define (every engine factor without a per-chip default)."""
    return tuple(sorted(_REQUIRED))


@functools.cache
def _market() -> dict[str, MarketRow]:
    rows = read_rows(DATA_DIR / "market_prices.csv", MarketRow)
    out = unique_by("market_prices.csv", rows, "id")
    for line_no, r in enumerate(rows, start=2):
        where = f"market_prices.csv:{line_no}"
        check_source(where, r.source)
        if r.speed_source:
            check_source(where, r.speed_source)
        for kind, name, table in (
            ("model", r.model, _models()),
            ("chip", r.chip, _chips()),
            ("format", r.precision, _formats()),
        ):
            if name not in table:
                raise CatalogError(f"{where}: {kind} {name!r} is not in the catalog")
    return out
