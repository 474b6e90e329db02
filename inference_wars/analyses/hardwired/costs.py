"""The tape-out, schedule and quantisation tables a hard-wired chip's economics read
(``data/hardwired_costs.csv``, ``data/quantization_quality.csv``), and the checks their
functions share."""

from __future__ import annotations

import functools
from typing import Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, field_validator, model_validator

from ... import catalog
from ...engine import economics
from ...errors import (
    MAX_COUNT,
    UnknownNameError,
    require_array,
)

#: The reference hard-wired die and model (HC1 holds Llama 3.1 8B).
REFERENCE_CHIP = "taalas-hc1"

Bound = Literal["base", "low", "high"]

#: Bound of the tape-out and schedule inputs read under each scenario: optimistic (favourable to
#: hard-wiring) takes the low cost and the short schedule.
SCENARIO_BOUND: dict[str, Bound] = {"base": "base", "optimistic": "low", "pessimistic": "high"}


# --------------------------------------------------------------------------- data tables


class QualityRow(BaseModel):
    """One row of ``data/quantization_quality.csv``: relative loss of average benchmark accuracy
    against the 16-bit model, in percent, from published quantisation results."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    format: str
    label: str
    bits_per_weight: float
    loss_pct: float
    low: float
    high: float
    status: catalog.Status
    model: str
    source: str
    date: str
    note: str

    @field_validator("model")
    @classmethod
    def _known_model(cls, v: str) -> str:
        return catalog.get_model(v).id

    @model_validator(mode="after")
    def _bounds(self):
        if not 0 < self.bits_per_weight <= 32:
            raise ValueError("bits_per_weight must be in (0, 32]")
        if not (0 <= self.low <= self.loss_pct <= self.high <= 100):
            raise ValueError(
                f"need 0 <= low <= loss_pct <= high <= 100, got {self.low} / {self.loss_pct} / {self.high}"
            )
        return self


@functools.cache
def _costs() -> dict[str, catalog.AssumptionRow]:
    path = catalog.DATA_DIR / "hardwired_costs.csv"
    rows = catalog.read_rows(path, catalog.AssumptionRow)
    out = catalog.unique_by(path.name, rows, "key")
    for line_no, r in enumerate(rows, start=2):
        catalog.check_source(f"{path.name}:{line_no}", r.source)
    return out


@functools.cache
def _quality() -> tuple[QualityRow, ...]:
    path = catalog.DATA_DIR / "quantization_quality.csv"
    rows = catalog.read_rows(path, QualityRow)
    for line_no, r in enumerate(rows, start=2):
        catalog.check_source(f"{path.name}:{line_no}", r.source)
    if len({r.format for r in rows}) != len(rows):
        raise catalog.CatalogError(f"{path.name}: a format is listed twice")
    return tuple(rows)


def cost_assumption(key: str, bound: Bound = "base") -> float:
    """A tape-out or schedule number from ``data/hardwired_costs.csv`` (``base``, ``low`` or ``high``).

    Used in chapter 4.
    """
    rows = _costs()
    if key not in rows:
        raise UnknownNameError("hard-wiring cost assumption", key, rows)
    if bound not in ("base", "low", "high"):
        raise ValueError(f"bound must be 'base', 'low' or 'high', got {bound!r}")
    r = rows[key]
    return {"base": r.value, "low": r.low, "high": r.high}[bound]


def cost_assumptions():
    """The tape-out and schedule numbers with their ranges and sources, as a DataFrame.

    Used in chapter 4.
    """
    import pandas as pd

    return pd.DataFrame.from_records([r.model_dump() for r in _costs().values()])


def quantization_quality():
    """Published quality loss by weight format (percent of average benchmark accuracy lost
    against BF16, with ``low``/``high``), as a DataFrame.

    Used in chapter 4.
    """
    import pandas as pd

    return pd.DataFrame.from_records([r.model_dump() for r in _quality()])


def tapeout_usd(n_tapeouts=1, bound: Bound = "base") -> np.ndarray:
    """``n * (masks * mask_usd + engineering_usd)``: non-recurring cost of ``n`` metal-layer tape-outs.
    ``bound='low'`` takes every input at its low bound, ``'high'`` at its high bound.

    Used in chapter 4.
    """
    per = cost_assumption("masks_per_tapeout", bound) * cost_assumption(
        "mask_usd", bound
    ) + cost_assumption("engineering_usd_per_tapeout", bound)
    return require_array("n_tapeouts", n_tapeouts, 0, MAX_COUNT) * per


def lead_months(bound: Bound = "base") -> float:
    """Months from freezing a model to hard-wired chips in service: fabrication plus deployment.

    Used in chapter 4.
    """
    return cost_assumption("fab_months", bound) + cost_assumption("deploy_months", bound)


def _positive(name: str, x, high: float | None = None) -> np.ndarray:
    """A finite, positive number or array (``0 < x <= high``)."""
    return require_array(name, x, 0, high, low_open=True)


def _money(name: str, x) -> np.ndarray:
    """A finite, non-negative amount of USD."""
    return require_array(name, x, 0)


def _energy(power_w, pue, usd_per_kwh) -> np.ndarray:
    """:func:`inference_wars.engine.economics.energy_usd_per_hour` with checked inputs (PUE >= 1)."""
    return economics.energy_usd_per_hour(
        require_array("hc_power_w", power_w, 0, 1e9),
        require_array("pue", pue, 1, 10),
        require_array("usd_per_kwh", usd_per_kwh, 0, 10),
    )
