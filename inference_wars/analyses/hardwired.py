"""Model-as-silicon: the economics and the silicon budget of a chip hard-wired to one model
(Taalas HC1 holds Llama 3.1 8B in mask ROM; a new model means new metal layers).

**Latency budget.** At ``v`` tokens/s per user a token takes ``1/v`` seconds; through ``L``
layers in sequence that is ``1 / (v L)`` per layer, ``f / (v L)`` clock cycles at ``f`` Hz. Doing
``2 P`` operations per token at that rate needs ``P v / f`` multiply-accumulators busy every cycle.
Storing ``P`` weights at ``b`` bits needs ``P b`` ROM bits.

**Scaling.** With ROM for ``P_chip * b_chip`` bits per die, a model of ``P`` parameters at ``b``
bits needs ``n = ceil(P b / (P_chip b_chip))`` dies, each with different weights, hence ``n``
incremental tape-outs. Layers run in sequence, so one user's token crosses every die:

    t_token = (P_active / P_chip) * t_chip  +  (n - 1) * t_hop

(``t_chip``: the reference die's time per token over its own ``P_chip`` weights).

**Break-even.** Serving ``R`` tokens/s that would cost ``c`` USD per token on GPUs, hard-wiring
costs the tape-outs ``NRE = n_tapeouts * (masks * mask_usd + engineering_usd)`` and
``N = max(R / (r_chip * u), n)`` chips at price ``p`` each (worthless once the model retires:
the metal is the model), then only their energy ``e`` USD/h each. GPUs keep serving during
the ``lead`` months of fabrication and deployment, so the hard-wired fleet pays off after

    h* = (NRE + N p) / (3600 R c - N e)        hours in service (infinite if the saving <= 0)
    T* = lead + h*                             model lifetime needed to break even

``T*`` never rises with ``R``: more volume spreads the tape-out over more tokens.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, field_validator, model_validator

from .. import catalog
from ..catalog import claims as claims_data
from ..engine import economics
from ..engine.economics import HOURS_PER_YEAR
from ..errors import (
    MAX_COUNT,
    UnknownNameError,
    require_array,
    require_fraction,
    require_list,
    require_number,
    require_positive,
    require_positive_int,
    require_scenario,
)

HOURS_PER_MONTH = HOURS_PER_YEAR / 12.0

#: The reference hard-wired die and model (HC1 holds Llama 3.1 8B).
REFERENCE_CHIP = "taalas-hc1"

Which = Literal["base", "low", "high"]

#: Bound of the tape-out and schedule inputs read under each scenario: optimistic (favourable to
#: hard-wiring) takes the low cost and the short schedule.
SCENARIO_BOUND: dict[str, Which] = {"base": "base", "optimistic": "low", "pessimistic": "high"}


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


def cost_assumption(key: str, which: Which = "base") -> float:
    """A tape-out or schedule number from ``data/hardwired_costs.csv`` (``base``, ``low`` or ``high``)."""
    rows = _costs()
    if key not in rows:
        raise UnknownNameError("hard-wiring cost assumption", key, rows)
    if which not in ("base", "low", "high"):
        raise ValueError(f"which must be 'base', 'low' or 'high', got {which!r}")
    r = rows[key]
    return {"base": r.value, "low": r.low, "high": r.high}[which]


def cost_assumptions():
    """The tape-out and schedule numbers with their ranges and sources, as a DataFrame."""
    import pandas as pd

    return pd.DataFrame.from_records([r.model_dump() for r in _costs().values()])


def quantization_quality():
    """Published quality loss by weight format (percent of average benchmark accuracy lost
    against BF16, with ``low``/``high``), as a DataFrame."""
    import pandas as pd

    return pd.DataFrame.from_records([r.model_dump() for r in _quality()])


def tapeout_usd(n_tapeouts=1, which: Which = "base") -> np.ndarray:
    """``n * (masks * mask_usd + engineering_usd)``: non-recurring cost of ``n`` metal-layer tape-outs.
    ``which='low'`` takes every input at its low bound, ``'high'`` at its high bound."""
    per = cost_assumption("masks_per_tapeout", which) * cost_assumption(
        "mask_usd", which
    ) + cost_assumption("engineering_usd_per_tapeout", which)
    return require_array("n_tapeouts", n_tapeouts, 0, MAX_COUNT) * per


def lead_months(which: Which = "base") -> float:
    """Months from freezing a model to hard-wired chips in service: fabrication plus deployment."""
    return cost_assumption("fab_months", which) + cost_assumption("deploy_months", which)


# --------------------------------------------------------------------------- silicon budget


def latency_budget(tokens_per_s_per_user, n_layers, clock_ghz=1.0) -> dict[str, np.ndarray]:
    """Time per token, per layer (``1/(v L)``) and clock cycles per layer at ``clock_ghz``."""
    v = _positive("tokens_per_s_per_user", tokens_per_s_per_user)
    L = require_positive_int("n_layers", n_layers)
    f = _positive("clock_ghz", clock_ghz) * 1e9
    per_token_s = 1.0 / v
    per_layer_s = per_token_s / L
    return {
        "us_per_token": per_token_s * 1e6,
        "ns_per_layer": per_layer_s * 1e9,
        "cycles_per_layer": per_layer_s * f,
    }


def silicon_budget(
    params, bits_per_weight, tokens_per_s_per_user, transistors_b, die_area_mm2, clock_ghz=1.0
) -> dict[str, np.ndarray]:
    """What one die must hold and do to serve one user at ``tokens_per_s_per_user``:

    * ``rom_gbit = P b / 1e9`` weight bits; ``mbit_per_mm2`` over the whole die; ``transistors_per_bit``
      (a mask-ROM bit needs about one transistor, an SRAM bit six);
    * ``macs_parallel = P v / f`` multiply-accumulators busy every cycle (``2 P`` ops per token);
    * ``tops = 2 P v / 1e12`` operations per second actually used.
    """
    P = _positive("params", params)
    b = _positive("bits_per_weight", bits_per_weight, 64)
    v = _positive("tokens_per_s_per_user", tokens_per_s_per_user)
    f = _positive("clock_ghz", clock_ghz) * 1e9
    bits = P * b
    return {
        "rom_gbit": bits / 1e9,
        "rom_gb": bits / 8e9,
        "mbit_per_mm2": bits / 1e6 / require_positive("die_area_mm2", die_area_mm2),
        "transistors_per_bit": require_positive("transistors_b", transistors_b) * 1e9 / bits,
        "macs_parallel": P * v / f,
        "tops": 2.0 * P * v / 1e12,
    }


def hbm_decode_floor_tokens_per_s(weight_bytes, bandwidth_tb_s) -> np.ndarray:
    """Batch-1 decode ceiling when weights stream from memory: ``bandwidth / weight bytes``."""
    return (
        _positive("bandwidth_tb_s", bandwidth_tb_s) * 1e12 / _positive("weight_bytes", weight_bytes)
    )


# --------------------------------------------------------------------------- scaling to big models


def chips_for_model(
    params, bits_per_weight, params_per_chip=None, bits_per_weight_chip=None
) -> np.ndarray:
    """Dies (each a separate tape-out) to hold ``params`` weights at ``bits_per_weight``:
    ``ceil(P b / (P_chip b_chip))``. Defaults: the reference die (HC1: Llama 3.1 8B at the
    3/6-bit format's average bits)."""
    P = _positive("params", params)
    b = _positive("bits_per_weight", bits_per_weight, 64)
    chip_bits = _chip_rom_bits(params_per_chip, bits_per_weight_chip)
    return np.ceil(P * b / chip_bits - 1e-9)


def _chip_rom_bits(params_per_chip=None, bits_per_weight_chip=None) -> float:
    ref = catalog.get_chip(REFERENCE_CHIP)
    if params_per_chip is None:
        params_per_chip = _model_params(ref.hardwired_model)
    if bits_per_weight_chip is None:
        bits_per_weight_chip = catalog.get_format("taalas-3b6b").bits_per_weight
    return require_positive("params_per_chip", params_per_chip) * require_positive(
        "bits_per_weight_chip", bits_per_weight_chip
    )


def _model_params(model: str) -> float:
    from ..catalog.architecture import parameter_counts

    return float(parameter_counts(catalog.get_model(model))["params_total"])


def implied_params_per_chip(params, n_chips) -> np.ndarray:
    """Weights per die that a claimed chip count implies: ``P / n``."""
    return _positive("params", params) / _positive("n_chips", n_chips, MAX_COUNT)


def pipeline_tokens_per_s_per_user(
    active_params, n_chips, us_per_token_chip=None, params_per_chip=None, hop_latency_us=2.0
) -> np.ndarray:
    """One user's speed through a chain of dies: ``1 / ((P_active / P_chip) t_chip + (n - 1) t_hop)``.
    Defaults: ``t_chip`` from the reference die's claimed speed (HC1 on its 8B model), ``P_chip``
    its model's parameters."""
    A = _positive("active_params", active_params)
    n = require_array("n_chips", n_chips, 1, MAX_COUNT)
    if params_per_chip is None:
        params_per_chip = _model_params(catalog.get_chip(REFERENCE_CHIP).hardwired_model)
    if us_per_token_chip is None:
        us_per_token_chip = 1e6 / reference_tokens_per_s_per_user()
    params_per_chip = require_positive("params_per_chip", params_per_chip)
    us_per_token_chip = require_positive("us_per_token_chip", us_per_token_chip)
    hop = require_array("hop_latency_us", hop_latency_us, 0, 1e9)
    t_us = A / params_per_chip * us_per_token_chip + (n - 1.0) * hop
    return 1e6 / t_us


def reference_tokens_per_s_per_user(which: Which = "base") -> float:
    """The reference die's claimed speed per user (HC1 on Llama 3.1 8B) from the claims table."""
    c = claims_data.get_claim("taalas-llama8b")
    if which not in ("base", "low", "high"):
        raise ValueError(f"which must be 'base', 'low' or 'high', got {which!r}")
    return {"base": c.value, "low": c.low, "high": c.high}[which]


def link_gb_s(tokens_per_s, d_model, activation_bytes=2.0) -> np.ndarray:
    """Bandwidth one pipeline hop carries: ``tokens/s * d_model * bytes`` (one direction), GB/s."""
    return (
        require_array("tokens_per_s", tokens_per_s, 0)
        * _positive("d_model", d_model)
        * require_positive("activation_bytes", activation_bytes, 8)
        / 1e9
    )


def scaling_table(models, bits_per_weight=None, params_per_chip=None, hop_latency_us=2.0):
    """Per model: dies (= tape-outs) at the reference density, one user's speed through the chain
    and the link bandwidth per hop at that speed. Returns a DataFrame."""
    import pandas as pd

    from ..catalog.architecture import parameter_counts

    b = (
        catalog.get_format("taalas-3b6b").bits_per_weight
        if bits_per_weight is None
        else bits_per_weight
    )
    b = require_positive("bits_per_weight", b, 64)
    rows = []
    for name in require_list("models", models):
        m = catalog.get_model(name)
        p = parameter_counts(m)
        n = float(chips_for_model(p["params_total"], b, params_per_chip))
        v = float(
            pipeline_tokens_per_s_per_user(
                p["params_active"],
                n,
                params_per_chip=params_per_chip,
                hop_latency_us=hop_latency_us,
            )
        )
        rows.append(
            {
                "model": m.id,
                "params_total_b": p["params_total"] / 1e9,
                "params_active_b": p["params_active"] / 1e9,
                "chips": int(n),
                "tapeouts": int(n),
                "tokens_per_s_per_user": v,
                "link_gb_s": float(link_gb_s(v, m.d_model)),
            }
        )
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------- break-even


def hc_chips(tokens_per_s, hc_tokens_per_s_per_chip, utilization=0.7, min_chips=1) -> np.ndarray:
    """Hard-wired chips to serve an average ``tokens_per_s`` busy a fraction ``utilization`` of
    the time: ``max(R / (r u), min_chips)`` (fractional: a share of a card is a share of a server)."""
    R = _positive("tokens_per_s", tokens_per_s)
    r = _positive("hc_tokens_per_s_per_chip", hc_tokens_per_s_per_chip)
    u = require_array("utilization", utilization, 0.01, 1)
    return np.maximum(R / (r * u), require_array("min_chips", min_chips, 0, MAX_COUNT))


def break_even_months(
    tokens_per_s,
    gpu_usd_per_million_tokens,
    hc_tokens_per_s_per_chip,
    hc_price_usd,
    hc_power_w,
    tapeout_usd_total,
    lead_months_=3.0,
    utilization=0.7,
    min_chips=1,
    pue=1.3,
    usd_per_kwh=0.08,
) -> np.ndarray:
    """Model lifetime (months from freezing it) after which hard-wiring is cheaper than GPUs:
    ``T* = lead + (NRE + N p) / (3600 R c - N e)`` (module doc); ``inf`` where it never pays."""
    R = _positive("tokens_per_s", tokens_per_s)
    N = hc_chips(R, hc_tokens_per_s_per_chip, utilization, min_chips)
    c = _positive("gpu_usd_per_million_tokens", gpu_usd_per_million_tokens) / 1e6
    e = _energy(hc_power_w, pue, usd_per_kwh)
    fixed = _money("tapeout_usd_total", tapeout_usd_total) + N * _money(
        "hc_price_usd", hc_price_usd
    )
    saving = 3600.0 * R * c - N * e
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        hours = np.where(saving > 0, fixed / np.where(saving > 0, saving, 1.0), np.inf)
    return require_array("lead_months_", lead_months_, 0, 1200) + hours / HOURS_PER_MONTH


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


def lifetime_costs(
    service_months,
    tokens_per_s,
    gpu_usd_per_million_tokens,
    hc_tokens_per_s_per_chip,
    hc_price_usd,
    hc_power_w,
    tapeout_usd_total,
    lead_months_=3.0,
    utilization=0.7,
    min_chips=1,
    pue=1.3,
    usd_per_kwh=0.08,
) -> dict[str, np.ndarray]:
    """Total USD over a model's life of ``service_months`` on GPUs only, and hard-wired (GPUs
    during the lead time, then the chips: tape-outs + chips + their energy)."""
    T = require_array("service_months", service_months, 0, 1200)
    R = _positive("tokens_per_s", tokens_per_s)
    gpu_hourly = (
        3600.0 * R * _positive("gpu_usd_per_million_tokens", gpu_usd_per_million_tokens) / 1e6
    )
    N = hc_chips(R, hc_tokens_per_s_per_chip, utilization, min_chips)
    e = _energy(hc_power_w, pue, usd_per_kwh)
    lead = np.minimum(require_array("lead_months_", lead_months_, 0, 1200), T)
    gpu_usd = gpu_hourly * T * HOURS_PER_MONTH
    hc_usd = (
        gpu_hourly * lead * HOURS_PER_MONTH
        + _money("tapeout_usd_total", tapeout_usd_total)
        + N * _money("hc_price_usd", hc_price_usd)
        + N * e * (T - lead) * HOURS_PER_MONTH
    )
    return {
        "gpu_usd": gpu_usd,
        "hardwired_usd": hc_usd,
        "saving_usd": gpu_usd - hc_usd,
        "hc_chips": N * np.ones_like(T),
    }


@dataclass(frozen=True)
class TapeoutCase:
    """Inputs and answer of :func:`tapeout_case` (one model, one GPU baseline, one volume)."""

    model: str
    gpu: str
    tokens_per_s: float
    gpu_usd_per_million_tokens: float
    hc_tokens_per_s_per_chip: float
    hc_tokens_per_s_per_user: float
    gpu_tokens_per_s_per_user: float
    tapeouts: int
    tapeout_usd: float
    lead_months: float
    hc_chips: float
    break_even_months: float
    inputs: dict = field(default_factory=dict, repr=False)

    def costs(self, service_months) -> dict[str, np.ndarray]:
        """:func:`lifetime_costs` with this case's numbers."""
        return lifetime_costs(
            service_months,
            self.tokens_per_s,
            self.gpu_usd_per_million_tokens,
            self.hc_tokens_per_s_per_chip,
            **self.inputs,
        )


def tapeout_case(
    tokens_per_day: float,
    model: str = "llama-3.1-8b",
    gpu: str = "h100-sxm",
    gpu_batch: int = 64,
    gpu_precision: str = "fp8",
    hc_batch: int = 1,
    input_tokens: int = 1024,
    output_tokens: int = 256,
    scenario: str = "base",
    utilization: float = 0.7,
    tapeout_usd_total: float | None = None,
    lead_months_: float | None = None,
    hc_price_usd: float | None = None,
) -> TapeoutCase:
    """Should this model be taped out? Costs from the package: the GPU's USD per million tokens
    at ``gpu_batch`` (``iw.estimate``), the hard-wired chip's tokens/s per chip, price and power
    (``scenario`` reads the catalog's estimated numbers and the tape-out table at their bounds:
    ``optimistic`` is favourable to hard-wiring, so it reads the hard-wired chip and the tape-out
    at their optimistic bounds and the GPU at its pessimistic ones, and vice versa). Only the
    reference model can be hard-wired onto an existing die today; for others the chip count
    comes from :func:`chips_for_model`."""
    from ..api import assumptions_for, estimate

    require_scenario(scenario)
    R = require_positive("tokens_per_day", tokens_per_day) / 86400.0
    u = require_fraction("utilization", utilization)
    m = catalog.get_model(model)
    hc = catalog.get_chip(REFERENCE_CHIP)
    if m.id != hc.hardwired_model:
        raise ValueError(
            f"the catalog has a hard-wired chip only for {hc.hardwired_model}; "
            f"use chips_for_model / break_even_months directly for {m.id}"
        )
    g = estimate(
        m.id,
        gpu,
        batch=gpu_batch,
        input_tokens=input_tokens,
        output_tokens=output_tokens,
        precision=gpu_precision,
        scenario={"optimistic": "pessimistic", "pessimistic": "optimistic"}.get(scenario, scenario),
    )
    if not g.fits:
        raise ValueError(f"GPU baseline does not fit: {g.reason}")
    h = estimate(
        m.id,
        hc.id,
        batch=hc_batch,
        input_tokens=input_tokens,
        output_tokens=output_tokens,
        scenario=scenario,
    )
    if not h.fits:
        raise ValueError(f"hard-wired chip does not fit: {h.reason}")
    a = assumptions_for("base")
    which = SCENARIO_BOUND[scenario]
    n_tape = 1
    nre = (
        float(tapeout_usd(n_tape, which))
        if tapeout_usd_total is None
        else require_positive("tapeout_usd_total", tapeout_usd_total)
    )
    lead = (
        lead_months(which)
        if lead_months_ is None
        else require_number("lead_months_", lead_months_, 0, 1200)
    )
    price = (
        hc.get("price_usd", scenario=scenario)
        if hc_price_usd is None
        else require_positive("hc_price_usd", hc_price_usd)
    )
    power = hc.get("power_w", scenario=scenario)
    inputs = dict(
        hc_price_usd=price,
        hc_power_w=power,
        tapeout_usd_total=nre,
        lead_months_=lead,
        utilization=u,
        min_chips=1,
        pue=a.pue,
        usd_per_kwh=a.usd_per_kwh,
    )
    per_chip = h.tokens_per_s_per_chip
    T = float(break_even_months(R, g.usd_per_million_tokens, per_chip, **inputs))
    return TapeoutCase(
        model=m.id,
        gpu=catalog.get_chip(gpu).id,
        tokens_per_s=R,
        gpu_usd_per_million_tokens=g.usd_per_million_tokens,
        hc_tokens_per_s_per_chip=per_chip,
        hc_tokens_per_s_per_user=h.tokens_per_s_per_user,
        gpu_tokens_per_s_per_user=g.tokens_per_s_per_user,
        tapeouts=n_tape,
        tapeout_usd=nre,
        lead_months=lead,
        hc_chips=float(hc_chips(R, per_chip, u)),
        break_even_months=T,
        inputs=inputs,
    )


# --------------------------------------------------------------------------- flexibility: a model zoo


def zipf_shares(n_models: int, exponent: float = 1.0) -> np.ndarray:
    """Traffic shares of ``n`` models ranked by popularity: ``k^-s / sum_j j^-s``."""
    n = require_positive_int("n_models", n_models, limit=1_000_000)
    exponent = require_number("exponent", exponent, 0, 100)
    w = np.arange(1, n + 1, dtype=float) ** -float(exponent)
    return w / w.sum()


def zoo_plan(shares, total_tokens_per_s, service_months, case: TapeoutCase):
    """Hard-wire each model of a zoo only where it pays within its ``service_months``.

    Every model is assumed to cost what ``case`` describes (same GPU cost per token, same chip
    economics) at its own volume ``share * total``; a model is hard-wired when its break-even
    lifetime is shorter than ``service_months``. Returns a DataFrame per model (rank, share,
    break-even months, hard-wired?, GPU-only and chosen cost)."""
    import pandas as pd

    s = require_array("shares", shares, 0, 1, low_open=True)
    if s.ndim != 1 or not math.isclose(s.sum(), 1.0, rel_tol=1e-6):
        raise ValueError("shares must be positive and sum to 1")
    R = s * require_positive("total_tokens_per_s", total_tokens_per_s)
    T = require_positive("service_months", service_months, 1200)
    if not isinstance(case, TapeoutCase):
        raise ValueError(
            f"case must be a TapeoutCase from tapeout_case(), got {type(case).__name__}"
        )
    be = break_even_months(
        R, case.gpu_usd_per_million_tokens, case.hc_tokens_per_s_per_chip, **case.inputs
    )
    costs = lifetime_costs(
        T, R, case.gpu_usd_per_million_tokens, case.hc_tokens_per_s_per_chip, **case.inputs
    )
    wire = be <= T
    chosen = np.where(wire, costs["hardwired_usd"], costs["gpu_usd"])
    return pd.DataFrame(
        {
            "rank": np.arange(1, len(s) + 1),
            "share": s,
            "tokens_per_s": R,
            "break_even_months": be,
            "hardwire": wire,
            "gpu_usd": costs["gpu_usd"],
            "chosen_usd": chosen,
        }
    )


# --------------------------------------------------------------------------- the checklist


@dataclass(frozen=True)
class Verdict:
    """Result of :func:`hardwire_checklist`: ``hardwire`` only when every question is a yes."""

    hardwire: bool
    answers: dict[str, bool]
    reasons: dict[str, str]

    def __str__(self) -> str:
        lines = [f"{'yes' if ok else 'no ':3}  {self.reasons[q]}" for q, ok in self.answers.items()]
        return (
            ("Hard-wire it." if self.hardwire else "Stay on programmable chips.")
            + "\n"
            + "\n".join(lines)
        )


def hardwire_checklist(
    dominant_share: float,
    stable_months: float,
    break_even_months_: float,
    needed_tokens_per_s_per_user: float,
    gpu_tokens_per_s_per_user: float,
    cost_dominates: bool,
    update_interval_months: float,
    lead_months_: float,
    min_share: float = 0.5,
) -> Verdict:
    """The four questions of the chapter as tests on numbers:

    1. *volume*: one model carries at least ``min_share`` of traffic and stays in service at
       least its break-even lifetime (``stable_months >= break_even_months_``);
    2. *latency*: the product needs more speed per user than the GPU fleet gives;
    3. *unit economics*: cost and power per token dominate (the reader's judgement);
    4. *cadence*: model updates come no faster than the hardware lead time.
    """
    share = require_fraction("dominant_share", dominant_share)
    ms = require_fraction("min_share", min_share)
    stable = require_positive("stable_months", stable_months)
    upd = require_positive("update_interval_months", update_interval_months)
    lead = require_number("lead_months_", lead_months_, 0, 1200)
    be = (
        break_even_months_
        if break_even_months_ == math.inf
        else require_number("break_even_months_", break_even_months_, 0)
    )
    need = require_positive("needed_tokens_per_s_per_user", needed_tokens_per_s_per_user)
    gpu = require_positive("gpu_tokens_per_s_per_user", gpu_tokens_per_s_per_user)
    answers = {
        "volume": share >= ms and stable >= be,
        "latency": need > gpu,
        "economics": bool(cost_dominates),
        "cadence": upd >= lead,
    }
    be_txt = "never" if not math.isfinite(be) else f"{be:.1f} months"
    reasons = {
        "volume": f"one model carries {share:.0%} of traffic (need {ms:.0%}) and stays {stable:.0f} months "
        f"(break-even: {be_txt})",
        "latency": f"product needs {need:,.0f} tokens/s per user; the GPU fleet gives {gpu:,.0f}",
        "economics": "cost and power per token dominate the unit economics"
        if cost_dominates
        else "cost per token is not what limits the product",
        "cadence": f"model updates every {upd:.0f} months vs a {lead:.1f}-month hardware lead time",
    }
    return Verdict(all(answers.values()), answers, reasons)
