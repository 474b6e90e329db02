"""When hard-wiring pays: tape-outs plus chips against GPU serving, months to break even."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from ... import catalog
from ...errors import (
    MAX_COUNT,
    require_array,
    require_fraction,
    require_list,
    require_number,
    require_positive,
    require_scenario,
)
from ...units import HOURS_PER_MONTH, SECONDS_PER_DAY, SECONDS_PER_HOUR
from .costs import (
    REFERENCE_CHIP,
    SCENARIO_BOUND,
    _energy,
    _money,
    _positive,
    lead_months,
    tapeout_usd,
)

# --------------------------------------------------------------------------- break-even


def hc_chips(tokens_per_s, hc_tokens_per_s_per_chip, utilization=0.7, min_chips=1) -> np.ndarray:
    """Hard-wired chips to serve an average ``tokens_per_s`` busy a fraction ``utilization`` of
    the time: ``max(R / (r u), min_chips)`` (fractional: a share of a card is a share of a server).

    No chapter calls it directly; :func:`break_even_months`, :func:`lifetime_costs`, :func:`tapeout_case` use it.
    """
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
    lead_time_months=3.0,
    utilization=0.7,
    min_chips=1,
    pue=1.3,
    usd_per_kwh=0.08,
) -> np.ndarray:
    """Model lifetime (months from freezing it) after which hard-wiring is cheaper than GPUs:
    ``T* = lead + (NRE + N p) / (3600 R c - N e)`` (module doc); ``inf`` where it never pays.

    No chapter calls it directly; :func:`break_even_grid`, :func:`tapeout_case` use it.
    """
    R = _positive("tokens_per_s", tokens_per_s)
    N = hc_chips(R, hc_tokens_per_s_per_chip, utilization, min_chips)
    c = _positive("gpu_usd_per_million_tokens", gpu_usd_per_million_tokens) / 1e6
    e = _energy(hc_power_w, pue, usd_per_kwh)
    fixed = _money("tapeout_usd_total", tapeout_usd_total) + N * _money(
        "hc_price_usd", hc_price_usd
    )
    saving = SECONDS_PER_HOUR * R * c - N * e
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        hours = np.where(saving > 0, fixed / np.where(saving > 0, saving, 1.0), np.inf)
    return require_array("lead_time_months", lead_time_months, 0, 1200) + hours / HOURS_PER_MONTH


def lifetime_costs(
    service_months,
    tokens_per_s,
    gpu_usd_per_million_tokens,
    hc_tokens_per_s_per_chip,
    hc_price_usd,
    hc_power_w,
    tapeout_usd_total,
    lead_time_months=3.0,
    utilization=0.7,
    min_chips=1,
    pue=1.3,
    usd_per_kwh=0.08,
) -> dict[str, np.ndarray]:
    """Total USD over a model's life of ``service_months`` on GPUs only, and hard-wired (GPUs
    during the lead time, then the chips: tape-outs + chips + their energy).

    No chapter calls it directly; :func:`costs`, :func:`zoo_plan` use it.
    """
    T = require_array("service_months", service_months, 0, 1200)
    R = _positive("tokens_per_s", tokens_per_s)
    gpu_hourly = (
        SECONDS_PER_HOUR
        * R
        * _positive("gpu_usd_per_million_tokens", gpu_usd_per_million_tokens)
        / 1e6
    )
    N = hc_chips(R, hc_tokens_per_s_per_chip, utilization, min_chips)
    e = _energy(hc_power_w, pue, usd_per_kwh)
    lead = np.minimum(require_array("lead_time_months", lead_time_months, 0, 1200), T)
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
    lead_time_months: float | None = None,
    hc_price_usd: float | None = None,
) -> TapeoutCase:
    """Should this model be taped out? Costs from the package: the GPU's USD per million tokens
    at ``gpu_batch`` (``iw.estimate``), the hard-wired chip's tokens/s per chip, price and power
    (``scenario`` reads the catalog's estimated numbers and the tape-out table at their bounds:
    ``optimistic`` is favourable to hard-wiring, so it reads the hard-wired chip and the tape-out
    at their optimistic bounds and the GPU at its pessimistic ones, and vice versa). Only the
    reference model can be hard-wired onto an existing die today; for others the chip count
    comes from :func:`chips_for_model`.

    Used in chapter 4.
    """
    from ...api import assumptions_for, estimate

    require_scenario(scenario)
    R = require_positive("tokens_per_day", tokens_per_day) / SECONDS_PER_DAY
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
    bound = SCENARIO_BOUND[scenario]
    n_tape = 1
    nre = (
        float(tapeout_usd(n_tape, bound))
        if tapeout_usd_total is None
        else require_positive("tapeout_usd_total", tapeout_usd_total)
    )
    lead = (
        lead_months(bound)
        if lead_time_months is None
        else require_number("lead_time_months", lead_time_months, 0, 1200)
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
        lead_time_months=lead,
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


def break_even_grid(
    tokens_per_day,
    gpus: Sequence[str],
    gpu_batches: Sequence[int] = (1, 8, 64),
    scenarios: Sequence[str] = ("optimistic", "base", "pessimistic"),
    model: str = "llama-3.1-8b",
    **case,
):
    """:func:`break_even_months` for every GPU baseline, GPU batch and scenario over the daily
    volumes ``tokens_per_day``, as a long DataFrame with columns ``gpu``, ``gpu_batch``,
    ``scenario``, ``tokens_per_day`` and ``months`` (``inf`` where hard-wiring never pays).
    Each baseline is costed once by :func:`tapeout_case` (``case`` passes its other arguments);
    the volumes are one vectorised evaluation.

    Used in chapter 4.
    """
    import pandas as pd

    V = require_array("tokens_per_day", tokens_per_day, 0.0, low_open=True).ravel()
    frames = []
    for gpu in require_list("gpus", gpus):
        for gb in require_list("gpu_batches", gpu_batches):
            for scen in require_list("scenarios", scenarios):
                c = tapeout_case(float(V[0]), model, gpu=gpu, gpu_batch=gb, scenario=scen, **case)
                months = break_even_months(
                    V / SECONDS_PER_DAY,
                    c.gpu_usd_per_million_tokens,
                    c.hc_tokens_per_s_per_chip,
                    **c.inputs,
                )
                frames.append(
                    pd.DataFrame(
                        {
                            "gpu": c.gpu,
                            "gpu_batch": gb,
                            "scenario": scen,
                            "tokens_per_day": V,
                            "months": months,
                        }
                    )
                )
    return pd.concat(frames, ignore_index=True)
