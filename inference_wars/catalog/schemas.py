"""The catalog's row schemas (pydantic, validated on load) and the sourced-number types:
one class per data table, :class:`Spec` for one sourced number, :class:`Chip` for a chip's numbers."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Literal

from pydantic import BaseModel, ConfigDict, field_validator, model_validator

from ..errors import UnknownNameError

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
    # clock held through dense matrix maths / the clock the peaks are quoted at (absent: 1)
    "matrix_clock_fraction": +1,
    # TP ranks per chip when the chip's software pads attention heads (0/absent: heads divide)
    "head_padding_ranks": +1,
    "layer_overhead_us": -1,
    "expert_overhead_us": -1,
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


def blank_to_none(v):
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
    release_status: Literal["shipping", "announced", "projected", "withdrawn"]
    memory_kind: str
    process: str | None = None
    sram_role: Literal["cache", "storage"]
    hardwired_model: str | None = None
    aliases: str | None = None

    _blank = field_validator("process", "hardwired_model", "aliases", mode="before")(blank_to_none)

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

    _blank = field_validator("low", "high", "note", mode="before")(blank_to_none)

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
            raise ValueError(
                f"need low <= value <= high, got {self.low} / {self.value} / {self.high}"
            )
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

    _blank = field_validator("aliases", mode="before")(blank_to_none)

    @model_validator(mode="after")
    def _consistent(self):
        positive = (
            "n_layers",
            "d_model",
            "n_heads",
            "n_kv_heads",
            "head_dim",
            "vocab_size",
            "max_context",
        )
        for name in positive:
            if getattr(self, name) <= 0:
                raise ValueError(f"{name} must be positive")
        if self.n_heads % self.n_kv_heads:
            raise ValueError("n_heads must be a multiple of n_kv_heads")
        if not 0 <= self.n_dense_layers <= self.n_layers:
            raise ValueError("n_dense_layers must be between 0 and n_layers")
        moe_layers = self.n_layers - self.n_dense_layers
        if moe_layers and not (
            0 < self.n_experts_active <= self.n_experts and self.d_ff_expert > 0
        ):
            raise ValueError(
                "MoE layers need 0 < n_experts_active <= n_experts and d_ff_expert > 0"
            )
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

    _blank = field_validator("low", "high", "note", mode="before")(blank_to_none)

    @model_validator(mode="after")
    def _bounds(self):
        if not 0 < self.bits_per_weight <= 32:
            raise ValueError("bits_per_weight must be in (0, 32]")
        if self.status == "estimated" and (self.low is None or self.high is None):
            raise ValueError("estimated formats need low and high bits")
        if self.low is not None and not (
            self.low <= self.bits_per_weight <= (self.high or math.inf)
        ):
            raise ValueError("need low <= bits_per_weight <= high")
        return self


class EngineRow(BaseModel):
    """One serving engine (``data/engines.csv``): the software that runs a model on a chip. A
    measured result's engine is the first row whose ``software_pattern`` (a regular expression)
    matches its ``software`` text; ``runs_on`` and ``default_for`` list hardware families
    (:func:`inference_wars.engine.hardware.family`) or chip ids."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    id: str
    name: str
    aliases: str | None = None
    software_pattern: str
    runs_on: str
    default_for: str | None = None
    source: str | None = None
    date: str | None = None
    note: str | None = None

    _blank = field_validator("aliases", "default_for", "source", "date", "note", mode="before")(
        blank_to_none
    )
    _date = field_validator("date")(lambda v: v if v is None else check_date(v))

    @field_validator("software_pattern")
    @classmethod
    def _pattern(cls, v: str) -> str:
        try:
            re.compile(v)
        except re.error as exc:
            raise ValueError(f"software_pattern {v!r} is not a regular expression: {exc}") from None
        return v

    @property
    def platforms(self) -> tuple[str, ...]:
        """Hardware families and chip ids the engine runs on."""
        return tuple(self.runs_on.split())

    @property
    def default_on(self) -> tuple[str, ...]:
        """Hardware families and chip ids whose default engine this is."""
        return tuple((self.default_for or "").split())


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

    _blank = field_validator("note", mode="before")(blank_to_none)

    @model_validator(mode="after")
    def _bounds(self):
        if not (self.low <= self.value <= self.high):
            raise ValueError(
                f"need low <= value <= high, got {self.low} / {self.value} / {self.high}"
            )
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

    _blank = field_validator(
        "tokens_per_s_per_user", "speed_status", "speed_source", "speed_date", "note", mode="before"
    )(blank_to_none)
    _date = field_validator("date")(check_date)

    @model_validator(mode="after")
    def _consistent(self):
        for name in ("usd_per_m_input_tokens", "usd_per_m_output_tokens", "tokens_per_s_per_user"):
            x = getattr(self, name)
            if x is not None and (not math.isfinite(x) or x <= 0):
                raise ValueError(f"{name} must be a finite, positive number, got {x}")
        speed = (self.tokens_per_s_per_user, self.speed_status, self.speed_source, self.speed_date)
        if any(v is not None for v in speed) and any(v is None for v in speed):
            raise ValueError(
                "a speed needs tokens_per_s_per_user, speed_status, speed_source and speed_date"
            )
        if self.speed_date is not None:
            check_date(self.speed_date)
        return self


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
        return tuple(
            q.removeprefix("peak_dense_tflops_")
            for q in self.specs
            if q.startswith("peak_dense_tflops_")
        )


def split_aliases(text: str | None) -> tuple[str, ...]:
    return tuple(a.strip() for a in (text or "").split(";") if a.strip())
