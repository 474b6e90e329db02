"""The published-claims tables: ``data/claims.csv`` (tokens-per-second claims that chapter 7
reproduces) and ``data/claims_ledger.csv`` (every quantitative claim of the article the book
grew from). Rows are validated and sourced here; :mod:`inference_wars.analyses.claims` evaluates them."""

from __future__ import annotations

import functools
from typing import Literal

from pydantic import BaseModel, ConfigDict, field_validator, model_validator

from ..errors import UnknownNameError
from .loading import DATA_DIR, bib_keys, read_rows, unique_by
from .lookup import get_chip, get_format, get_model

CLAIMS_CSV = DATA_DIR / "claims.csv"


class ClaimRow(BaseModel):
    """One published claim. ``model`` is the catalog model reproduced (``model_match`` says
    whether it is the claimed model or the closest stand-in)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    id: str
    system: str
    chip: str
    claimed_model: str
    model: str
    model_match: Literal["exact", "proxy"]
    precision: str
    metric: Literal["tokens_per_s_per_user", "tokens_per_s"]
    value: float
    low: float
    high: float
    input_tokens: int
    output_tokens: int
    context_stated: bool
    status: Literal["announced", "measured", "derived"]
    source: str
    date: str
    note: str

    @field_validator("chip")
    @classmethod
    def _chip(cls, v: str) -> str:
        return get_chip(v).id

    @field_validator("model")
    @classmethod
    def _model(cls, v: str) -> str:
        return get_model(v).id

    @field_validator("precision")
    @classmethod
    def _precision(cls, v: str) -> str:
        return get_format(v).id

    @field_validator("source")
    @classmethod
    def _source(cls, v: str) -> str:
        if v not in bib_keys():
            raise ValueError(f"source {v!r} is not in data/references/*.bib")
        return v

    @model_validator(mode="after")
    def _checks(self):
        if not (0 < self.low <= self.value <= self.high):
            raise ValueError(
                f"need 0 < low <= value <= high, got {self.low} / {self.value} / {self.high}"
            )
        if self.input_tokens <= 0 or self.output_tokens <= 0:
            raise ValueError("input_tokens and output_tokens must be positive")
        return self


@functools.cache
def _claims() -> dict[str, ClaimRow]:
    return unique_by(CLAIMS_CSV.name, read_rows(CLAIMS_CSV, ClaimRow), "id")


def claim_ids() -> list[str]:
    return list(_claims())


def get_claim(claim_id: str) -> ClaimRow:
    table = _claims()
    if claim_id not in table:
        raise UnknownNameError("claim", claim_id, table)
    return table[claim_id]


#: Every quantitative claim of the article the book grew from, one row each (see :func:`ledger`).
LEDGER_CSV = DATA_DIR / "claims_ledger.csv"

LedgerCheck = Literal[
    "", "spec", "speed", "cost_ratio", "fleet_power", "assumption", "format_bits", "hardwired_chips"
]


class LedgerRow(BaseModel):
    """One quantitative claim of the source article. ``check`` names how the package tests it
    (empty: not testable, verdict ``stated``); ``args`` are ``key=value`` pairs separated by ``;``.
    The verdict is never stored: :func:`check_ledger_row` computes it."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    id: str
    chapter: str
    topic: str
    claim: str
    claimed: float | None = None
    unit: str = ""
    claimant: str
    source: str
    date: str
    check: LedgerCheck = ""
    args: str = ""
    note: str = ""

    @field_validator("claimed", mode="before")
    @classmethod
    def _blank(cls, v):
        return None if v == "" else v

    @field_validator("chapter")
    @classmethod
    def _chapter(cls, v: str) -> str:
        if v != "appendix only" and v not in {str(i) for i in range(1, 9)}:
            raise ValueError(f"chapter must be 1-8 or 'appendix only', got {v!r}")
        return v

    @field_validator("source")
    @classmethod
    def _source(cls, v: str) -> str:
        if v not in bib_keys():
            raise ValueError(f"source {v!r} is not in data/references/*.bib")
        return v

    @model_validator(mode="after")
    def _checks(self):
        if self.check and (self.claimed is None or self.claimed <= 0):
            raise ValueError(
                f"a checked claim needs a positive claimed number, got {self.claimed!r}"
            )
        if bool(self.check) != bool(self.args):
            raise ValueError("args are given exactly when a check is")
        self.arguments()  # parses or raises
        return self

    def arguments(self) -> dict[str, str]:
        out: dict[str, str] = {}
        for part in filter(None, self.args.split(";")):
            k, sep, v = part.partition("=")
            if not sep or not k.strip() or not v.strip():
                raise ValueError(
                    f"args must be key=value pairs separated by ';', got {self.args!r}"
                )
            out[k.strip()] = v.strip()
        return out


@functools.cache
def _ledger() -> dict[str, LedgerRow]:
    return unique_by(LEDGER_CSV.name, read_rows(LEDGER_CSV, LedgerRow), "id")


def ledger_row(claim_id: str) -> LedgerRow:
    table = _ledger()
    if claim_id not in table:
        raise UnknownNameError("ledger claim", claim_id, table)
    return table[claim_id]
