"""The catalogs shipped with the package: chips and systems, model architectures, number
formats and modelling assumptions.

Data lives in ``inference_wars/data`` as CSV (see its README). Every row is validated with
pydantic on first use, and cross-checked: every chip number names a BibTeX source present in
``data/references/*.bib``, estimated numbers carry ``low <= value <= high`` bounds, and ids
are unique. Loading is lazy and cached, so ``import inference_wars`` stays fast.
"""

from __future__ import annotations

import csv
import functools
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, ValidationError, field_validator, model_validator

from .errors import UnknownNameError

DATA_DIR = Path(__file__).parent / "data"

Status = Literal["measured", "announced", "estimated"]

#: Per-chip quantities and the direction in which a larger value helps the chip
#: (+1: more is better, -1: less is better). Used to build optimistic/pessimistic scenarios.
QUANTITIES: dict[str, int] = {
    "peak_dense_tflops_bf16": +1,
    "peak_dense_tflops_fp8": +1,
    "peak_dense_tflops_fp4": +1,
    "peak_dense_tflops_int8": +1,
    "peak_dense_tflops_int4": +1,
    "peak_dense_tflops_taalas": +1,
    "hbm_gb": +1,
    "hbm_tb_s": +1,
    "sram_mb": +1,
    "sram_tb_s": +1,
    # GPU cache hierarchy (descriptive only: the serving model does not read these)
    "l2_mb": +1,
    "l2_tb_s": +1,
    "l1_smem_mb": +1,
    "l1_smem_tb_s": +1,
    "regfile_mb": +1,
    "rom_gb": +1,
    "rom_tb_s": +1,
    "scaleup_gb_s": +1,
    "scaleup_domain": +1,
    "scaleout_gb_s": +1,
    "collective_latency_us": -1,
    "layer_latency_us": -1,
    "power_w": -1,
    "tdp_w": -1,
    "die_area_mm2": -1,
    "process_nm": -1,
    "transistors_b": +1,
    "price_usd": -1,
}

SCENARIOS = ("base", "optimistic", "pessimistic")


def check_date(v: str) -> str:
    """A source's date, ``YYYY-MM`` or ``YYYY-MM-DD`` (pydantic validator shared by every table)."""
    if not re.fullmatch(r"\d{4}-\d{2}(-\d{2})?", v):
        raise ValueError(f"date {v!r} must be YYYY-MM or YYYY-MM-DD")
    return v


class CatalogError(ValueError):
    """A data file that breaks the catalog schema. The message names file and line."""


def _blank_to_none(v):
    if isinstance(v, str) and v.strip() == "":
        return None
    return v


class ChipRow(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    id: str
    name: str
    vendor: str
    category: Literal["gpu", "tpu", "asic", "wafer", "model-asic"]
    unit: str
    release_status: Literal["shipping", "announced", "projected"]
    memory_kind: str
    process: str | None = None
    sram_role: Literal["cache", "storage"]
    hardwired_model: str | None = None
    aliases: str | None = None

    _blank = field_validator("process", "hardwired_model", "aliases", mode="before")(_blank_to_none)

    @field_validator("id")
    @classmethod
    def _id_style(cls, v: str) -> str:
        if not re.fullmatch(r"[a-z0-9]+(?:[-.][a-z0-9]+)*", v):
            raise ValueError(f"id {v!r} must be lowercase letters, digits and dashes")
        return v


class SpecRow(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    chip: str
    quantity: str
    value: float
    low: float | None = None
    high: float | None = None
    status: Status
    source: str
    date: str
    note: str | None = None

    _blank = field_validator("low", "high", "note", mode="before")(_blank_to_none)

    @field_validator("quantity")
    @classmethod
    def _known_quantity(cls, v: str) -> str:
        if v not in QUANTITIES:
            raise UnknownNameError("quantity", v, QUANTITIES)
        return v

    _date = field_validator("date")(check_date)

    @model_validator(mode="after")
    def _bounds(self):
        for name in ("value", "low", "high"):
            x = getattr(self, name)
            if x is not None and (not math.isfinite(x) or x < 0):
                raise ValueError(f"{name} must be a finite, non-negative number, got {x}")
        if self.status == "estimated" and (self.low is None or self.high is None):
            raise ValueError("estimated numbers need low and high bounds")
        if (self.low is None) != (self.high is None):
            raise ValueError("give both low and high, or neither")
        if self.low is not None and not (self.low <= self.value <= self.high):
            raise ValueError(f"need low <= value <= high, got {self.low} / {self.value} / {self.high}")
        return self


class ModelRow(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    id: str
    name: str
    family: str
    release_date: str
    n_layers: int
    d_model: int
    n_heads: int
    n_kv_heads: int
    head_dim: int
    d_ff: int
    vocab_size: int
    tied_embeddings: bool
    attention: Literal["gqa", "mla"]
    q_lora_rank: int
    kv_lora_rank: int
    qk_nope_head_dim: int
    qk_rope_head_dim: int
    v_head_dim: int
    n_experts: int
    n_experts_active: int
    n_shared_experts: int
    d_ff_expert: int
    n_dense_layers: int
    sliding_window: int
    n_sliding_layers: int
    max_context: int
    published_total_b: float
    published_active_b: float
    active_counts_input_embedding: bool
    source: str
    date: str
    aliases: str | None = None

    _blank = field_validator("aliases", mode="before")(_blank_to_none)

    @model_validator(mode="after")
    def _consistent(self):
        positive = ("n_layers", "d_model", "n_heads", "n_kv_heads", "head_dim", "vocab_size", "max_context")
        for name in positive:
            if getattr(self, name) <= 0:
                raise ValueError(f"{name} must be positive")
        if self.n_heads % self.n_kv_heads:
            raise ValueError("n_heads must be a multiple of n_kv_heads")
        if not 0 <= self.n_dense_layers <= self.n_layers:
            raise ValueError("n_dense_layers must be between 0 and n_layers")
        moe_layers = self.n_layers - self.n_dense_layers
        if moe_layers and not (0 < self.n_experts_active <= self.n_experts and self.d_ff_expert > 0):
            raise ValueError("MoE layers need 0 < n_experts_active <= n_experts and d_ff_expert > 0")
        if self.n_dense_layers and self.d_ff <= 0:
            raise ValueError("dense layers need d_ff > 0")
        if self.attention == "mla" and not (self.kv_lora_rank > 0 and self.qk_rope_head_dim > 0):
            raise ValueError("MLA needs kv_lora_rank and qk_rope_head_dim")
        if self.n_sliding_layers and self.sliding_window <= 0:
            raise ValueError("sliding layers need a sliding_window")
        return self


class FormatRow(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    id: str
    name: str
    bits_per_weight: float
    low: float | None = None
    high: float | None = None
    compute: str
    status: Status
    source: str
    date: str
    note: str | None = None

    _blank = field_validator("low", "high", "note", mode="before")(_blank_to_none)

    @model_validator(mode="after")
    def _bounds(self):
        if not 0 < self.bits_per_weight <= 32:
            raise ValueError("bits_per_weight must be in (0, 32]")
        if self.status == "estimated" and (self.low is None or self.high is None):
            raise ValueError("estimated formats need low and high bits")
        if self.low is not None and not (self.low <= self.bits_per_weight <= (self.high or math.inf)):
            raise ValueError("need low <= bits_per_weight <= high")
        return self


class AssumptionRow(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    key: str
    value: float
    low: float
    high: float
    unit: str
    status: Status
    source: str
    date: str
    note: str | None = None

    _blank = field_validator("note", mode="before")(_blank_to_none)

    @model_validator(mode="after")
    def _bounds(self):
        if not (self.low <= self.value <= self.high):
            raise ValueError(f"need low <= value <= high, got {self.low} / {self.value} / {self.high}")
        return self


class MarketRow(BaseModel):
    """One public API list price (``data/market_prices.csv``): USD per million input and output
    tokens for a (provider, model), the catalog chip it runs on, and optionally a published
    per-user output speed with its own source."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    id: str
    provider: str
    service: str
    model: str
    model_as_published: str
    chip: str
    precision: str
    usd_per_m_input_tokens: float
    usd_per_m_output_tokens: float
    status: Status
    source: str
    date: str
    tokens_per_s_per_user: float | None = None
    speed_status: Status | None = None
    speed_source: str | None = None
    speed_date: str | None = None
    note: str | None = None

    _blank = field_validator("tokens_per_s_per_user", "speed_status", "speed_source", "speed_date", "note",
                             mode="before")(_blank_to_none)
    _date = field_validator("date")(check_date)

    @model_validator(mode="after")
    def _consistent(self):
        for name in ("usd_per_m_input_tokens", "usd_per_m_output_tokens", "tokens_per_s_per_user"):
            x = getattr(self, name)
            if x is not None and (not math.isfinite(x) or x <= 0):
                raise ValueError(f"{name} must be a finite, positive number, got {x}")
        speed = (self.tokens_per_s_per_user, self.speed_status, self.speed_source, self.speed_date)
        if any(v is not None for v in speed) and any(v is None for v in speed):
            raise ValueError("a speed needs tokens_per_s_per_user, speed_status, speed_source and speed_date")
        if self.speed_date is not None:
            check_date(self.speed_date)
        return self


# --------------------------------------------------------------------------- loading

def _read_rows(path: Path, schema: type[BaseModel], allow_empty: bool = False) -> list:
    """Every row of a CSV file validated by ``schema``; a missing or unreadable file, a header
    without the schema's required columns, a bad row or (unless ``allow_empty``) a table with no
    rows raises :class:`CatalogError` naming the file and line."""
    rows = []
    try:
        fh = path.open(newline="", encoding="utf-8")
    except OSError as exc:
        raise CatalogError(f"{path.name}: cannot read {path} ({exc.strerror or exc}); "
                           f"the package's data folder is incomplete") from None
    with fh:
        reader = csv.DictReader(fh)
        header = reader.fieldnames or []
        required = [k for k, f in schema.model_fields.items() if f.is_required()]
        missing = [k for k in required if k not in header]
        if missing:
            raise CatalogError(f"{path.name}:1: header lacks column(s) {', '.join(missing)}"
                               + ("" if header else " (the file is empty)"))
        for line_no, raw in enumerate(reader, start=2):
            if None in raw:
                raise CatalogError(f"{path.name}:{line_no}: more fields than the header has (unquoted comma?)")
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


def _unique(path_name: str, rows: list, key: str) -> dict:
    """``{row.<key>: row}``; a key given twice raises naming both lines."""
    out: dict = {}
    first: dict = {}
    for line_no, r in enumerate(rows, start=2):
        k = getattr(r, key)
        if k in out:
            raise CatalogError(f"{path_name}:{line_no}: duplicate {key} {k!r} (first on line {first[k]})")
        out[k], first[k] = r, line_no
    return out


@functools.cache
def bib_keys() -> frozenset[str]:
    """All BibTeX keys defined in ``data/references/*.bib``."""
    keys: list[str] = []
    for path in sorted((DATA_DIR / "references").glob("*.bib")):
        keys += re.findall(r"^\s*@\w+\s*\{\s*([^,\s]+)\s*,", path.read_text(encoding="utf-8"), flags=re.M)
    dupes = {k for k in keys if keys.count(k) > 1}
    if dupes:
        raise CatalogError(f"duplicate BibTeX keys: {sorted(dupes)}")
    return frozenset(keys)


def _check_source(where: str, key: str) -> None:
    if key not in bib_keys():
        raise CatalogError(f"{where}: source {key!r} is not in data/references/*.bib")


@dataclass(frozen=True)
class Spec:
    """One sourced number."""

    value: float
    low: float
    high: float
    status: str
    source: str
    date: str
    note: str = ""

    def bound(self, scenario: str, direction: int) -> float:
        """The value under a scenario: optimistic takes the bound that helps the chip."""
        if scenario == "base":
            return self.value
        if scenario not in SCENARIOS:
            raise ValueError(f"scenario must be one of {', '.join(SCENARIOS)}, got {scenario!r}")
        favourable = self.high if direction > 0 else self.low
        unfavourable = self.low if direction > 0 else self.high
        return favourable if scenario == "optimistic" else unfavourable


@dataclass(frozen=True)
class Chip:
    """A chip or system unit and its sourced numbers."""

    id: str
    name: str
    vendor: str
    category: str
    unit: str
    release_status: str
    memory_kind: str
    process: str | None
    sram_role: str
    hardwired_model: str | None
    aliases: tuple[str, ...]
    specs: dict[str, Spec] = field(repr=False)

    def get(self, quantity: str, default: float = 0.0, scenario: str = "base") -> float:
        spec = self.specs.get(quantity)
        if spec is None:
            return default
        return spec.bound(scenario, QUANTITIES[quantity])

    def has(self, quantity: str) -> bool:
        return quantity in self.specs

    def serving_power_w(self, scenario: str = "base") -> float:
        """Power drawn while serving: ``power_w`` where catalogued, else ``tdp_w``, else 0."""
        return self.get("power_w", 0.0, scenario) or self.get("tdp_w", 0.0, scenario)

    @property
    def compute_formats(self) -> tuple[str, ...]:
        """Compute classes (``bf16``, ``fp8``, ``fp4``, ...) this chip has a peak for."""
        return tuple(q.removeprefix("peak_dense_tflops_") for q in self.specs if q.startswith("peak_dense_tflops_"))


@functools.cache
def _chips() -> dict[str, Chip]:
    rows = _read_rows(DATA_DIR / "chips.csv", ChipRow)
    ids = list(_unique("chips.csv", rows, "id"))
    specs: dict[str, dict[str, Spec]] = {i: {} for i in ids}
    spec_files = sorted((DATA_DIR / "chip_specs").glob("*.csv"))
    if not spec_files:
        raise CatalogError("chip_specs/: no *.csv files; every chip's numbers live there")
    for path in spec_files:
        for line_no, s in enumerate(_read_rows(path, SpecRow), start=2):
            where = f"{path.name}:{line_no}"
            if s.chip not in specs:
                raise CatalogError(f"{where}: chip {s.chip!r} is not in chips.csv")
            if s.quantity in specs[s.chip]:
                raise CatalogError(f"{where}: {s.chip} {s.quantity} is given twice")
            _check_source(where, s.source)
            low = s.value if s.low is None else s.low
            high = s.value if s.high is None else s.high
            specs[s.chip][s.quantity] = Spec(s.value, low, high, s.status, s.source, s.date, s.note or "")
    chips = {}
    for r in rows:
        chips[r.id] = Chip(
            id=r.id, name=r.name, vendor=r.vendor, category=r.category, unit=r.unit,
            release_status=r.release_status, memory_kind=r.memory_kind, process=r.process,
            sram_role=r.sram_role, hardwired_model=r.hardwired_model,
            aliases=_split_aliases(r.aliases),
            specs=specs[r.id],
        )
    return chips


@functools.cache
def _models() -> dict[str, ModelRow]:
    rows = _read_rows(DATA_DIR / "models.csv", ModelRow)
    out = {}
    for line_no, r in enumerate(rows, start=2):
        if r.id in out:
            raise CatalogError(f"models.csv:{line_no}: duplicate id {r.id}")
        _check_source(f"models.csv:{line_no}", r.source)
        out[r.id] = r
    for c in _chips().values():
        if c.hardwired_model and c.hardwired_model not in out:
            raise CatalogError(f"chips.csv: {c.id} is hard-wired to unknown model {c.hardwired_model!r}")
    return out


@functools.cache
def _formats() -> dict[str, FormatRow]:
    rows = _read_rows(DATA_DIR / "formats.csv", FormatRow)
    out = _unique("formats.csv", rows, "id")
    for line_no, r in enumerate(rows, start=2):
        _check_source(f"formats.csv:{line_no}", r.source)
    return out


@functools.cache
def _assumptions() -> dict[str, AssumptionRow]:
    rows = _read_rows(DATA_DIR / "assumptions.csv", AssumptionRow)
    out = _unique("assumptions.csv", rows, "key")
    for line_no, r in enumerate(rows, start=2):
        _check_source(f"assumptions.csv:{line_no}", r.source)
    missing = [k for k in required_assumptions() if k not in out]
    if missing:
        raise CatalogError(f"assumptions.csv:{len(rows) + 2}: missing required assumption(s) {', '.join(missing)} "
                           f"(every factor the engine reads needs a row)")
    return out


def required_assumptions() -> tuple[str, ...]:
    """Keys ``assumptions.csv`` must define: every engine factor that has no per-chip default
    (:data:`inference_wars.factors.DIRECTION` less :data:`~inference_wars.factors.FROM_CHIP`)."""
    from .factors import DIRECTION, FROM_CHIP

    return tuple(k for k in DIRECTION if k not in FROM_CHIP)


@functools.cache
def _market() -> dict[str, MarketRow]:
    rows = _read_rows(DATA_DIR / "market_prices.csv", MarketRow)
    out = {}
    for line_no, r in enumerate(rows, start=2):
        where = f"market_prices.csv:{line_no}"
        if r.id in out:
            raise CatalogError(f"{where}: duplicate id {r.id}")
        _check_source(where, r.source)
        if r.speed_source:
            _check_source(where, r.speed_source)
        for kind, name, table in (("model", r.model, _models()), ("chip", r.chip, _chips()),
                                  ("format", r.precision, _formats())):
            if name not in table:
                raise CatalogError(f"{where}: {kind} {name!r} is not in the catalog")
        out[r.id] = r
    return out


def _split_aliases(text: str | None) -> tuple[str, ...]:
    return tuple(a.strip() for a in (text or "").split(";") if a.strip())


def _normalise(name: str) -> str:
    return str(name).strip().lower().replace(" ", "-").replace("_", "-")


def _lookup(kind: str, name: str, table: dict, aliases_of) -> object:
    """Find ``name`` by id or alias in ``table``; unknown names raise with the closest matches."""
    key = _normalise(name)
    if key in table:
        return table[key]
    aliases = {a: item_id for item_id, item in table.items() for a in aliases_of(item)}
    if key in aliases:
        return table[aliases[key]]
    raise UnknownNameError(kind, name, table, aliases)


def get_chip(name: str | Chip) -> Chip:
    """Look up a chip by id or alias; unknown names raise with the closest matches."""
    if isinstance(name, Chip):
        return name
    return _lookup("chip", name, _chips(), lambda c: c.aliases)


def get_model(name: str | ModelRow) -> ModelRow:
    """Look up a model architecture by id or alias."""
    if isinstance(name, ModelRow):
        return name
    return _lookup("model", name, _models(), lambda m: _split_aliases(m.aliases))


def get_format(name: str | FormatRow) -> FormatRow:
    """Look up a number format (``bf16``, ``fp8``, ``nvfp4``, ``taalas-3b6b``, ...)."""
    if isinstance(name, FormatRow):
        return name
    return _lookup("format", name, _formats(), lambda f: ())


def assumption(key: str, scenario: str = "base") -> float:
    """A modelling default from ``assumptions.csv`` (``base`` value, or ``low``/``high``)."""
    rows = _assumptions()
    if key not in rows:
        raise UnknownNameError("assumption", key, rows)
    if scenario not in ("base", "low", "high"):
        raise ValueError(f"an assumption is read at 'base', 'low' or 'high', got {scenario!r}")
    r = rows[key]
    return {"base": r.value, "low": r.low, "high": r.high}[scenario]


def chip_ids() -> list[str]:
    return list(_chips())


def model_ids() -> list[str]:
    return list(_models())


def format_ids() -> list[str]:
    return list(_formats())


def assumption_keys() -> list[str]:
    return list(_assumptions())


# --------------------------------------------------------------------------- DataFrames

def chips(with_sources: bool = True):
    """One row per chip/system unit: descriptive columns, every quantity, and (with
    ``with_sources``) ``<quantity>_status``, ``_source``, ``_low``, ``_high`` columns."""
    import pandas as pd

    records = []
    for c in _chips().values():
        rec = {
            "id": c.id, "name": c.name, "vendor": c.vendor, "category": c.category,
            "release_status": c.release_status, "memory_kind": c.memory_kind,
            "process": c.process, "sram_role": c.sram_role, "hardwired_model": c.hardwired_model,
            "unit": c.unit,
        }
        for q in QUANTITIES:
            s = c.specs.get(q)
            rec[q] = s.value if s else None
            if with_sources:
                rec[f"{q}_low"] = s.low if s else None
                rec[f"{q}_high"] = s.high if s else None
                rec[f"{q}_status"] = s.status if s else None
                rec[f"{q}_source"] = s.source if s else None
        records.append(rec)
    df = pd.DataFrame.from_records(records)
    # drop quantities no chip has, keep the frame readable
    empty = [col for col in df.columns if df[col].isna().all()]
    return df.drop(columns=empty)


def chip_specs():
    """Long table: one row per sourced number (chip, quantity, value, low, high, status,
    source, date, note)."""
    import pandas as pd

    rows = [
        {"chip": c.id, "quantity": q, "value": s.value, "low": s.low, "high": s.high,
         "status": s.status, "source": s.source, "date": s.date, "note": s.note}
        for c in _chips().values() for q, s in c.specs.items()
    ]
    return pd.DataFrame(rows)


def models():
    """One row per model architecture, with computed parameter counts."""
    import pandas as pd

    from .architecture import parameter_counts

    records = []
    for m in _models().values():
        rec = m.model_dump()
        rec.update(parameter_counts(m))
        records.append(rec)
    return pd.DataFrame.from_records(records)


def formats():
    """The number formats and their effective bits per weight."""
    import pandas as pd

    return pd.DataFrame.from_records([f.model_dump() for f in _formats().values()])


def assumptions():
    """The modelling defaults with their ranges and sources."""
    import pandas as pd

    return pd.DataFrame.from_records([a.model_dump() for a in _assumptions().values()])


def market_prices():
    """Public API list prices: one row per (provider, model) with USD per million input and
    output tokens, the chip and precision it is modelled on, and the published per-user speed
    where one was measured (``data/market_prices.csv``)."""
    import pandas as pd

    return pd.DataFrame.from_records([r.model_dump() for r in _market().values()])
