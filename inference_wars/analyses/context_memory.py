"""A KV-cache tier beyond HBM: keep a session's context so the next turn need not recompute it.

In a multi-turn or agentic session each turn arrives with ``C`` tokens of earlier context and
``u`` new tokens. If the context's KV cache has been evicted from HBM, the serving engine can
either **recompute** it (prefill all ``C`` tokens again: FLOPs) or **fetch** it from a context
tier (host memory, or a networked tier such as NVIDIA's BlueField-4 Inference Context Memory
Storage): bytes. On ``n`` chips, each reading its shard of the KV over its own link of
``B_tier`` bytes/s::

    fetch_s     = latency + KV_bytes(C) / (n * B_tier)
    recompute_s = max(T_maths(C),  W_read(C) / (n * B_hbm * eff_m))
    new_s       = time to prefill the u new tokens against the C cached ones
                  (the same roofline, with the attention of u tokens over C + u)
    TTFT_hit    = fetch_s + new_s            TTFT_miss = recompute_s + new_s
    E[TTFT]     = h * TTFT_hit + (1 - h) * TTFT_miss

with ``T_maths`` the engine's prompt maths
(:func:`inference_wars.engine.serving.prefill_compute_s`: the matrix multiplies at the format's
peak, the attention at the 16-bit peak, both at ``eff_c``), ``h`` the tier hit rate and ``eff_c``,
``eff_m`` the chip's compute and memory efficiencies
as the default estimate reads them (its family's fitted values:
:func:`inference_wars.engine.factors.chip_factors`). Fetch and compute are not overlapped (a conservative reading;
layer-by-layer streaming can hide part of the fetch). A tier of capacity ``K`` shared by ``s``
active sessions of ``k`` bytes each holds a fraction ``min(1, K / (s k))`` of them; with
sessions returning uniformly at random that is the hit rate (:func:`tier_hit_rate`).
Fetching beats recomputing when ``B_tier > KV_bytes(C) / (n * recompute_s)``
(:func:`breakeven_tier_gb_s`).
"""

from __future__ import annotations

import numpy as np

from .. import catalog
from ..engine import economics, factors, serving, workload
from ..engine.formats import bits_per_weight
from ..engine.hardware import hardware_arrays
from ..errors import require_positive_int
from ..units import SECONDS_PER_HOUR


def _setup(model: str, chip: str, precision: str | None, kv_precision: str | None, scenario: str):
    from ..api import resolve

    m_id, c, fmt, kv_fmt = resolve(model, chip, precision, kv_precision)
    hw = hardware_arrays([(c.id, fmt)], scenario).take(0)  # scalars: results take the inputs' shape
    # the chip's own factors (its family's fitted efficiencies), as iw.estimate reads them
    a = serving.Factors(**factors.chip_factors(c.id, scenario))
    m = workload.model_arrays([m_id]).take(0)
    return m, hw, a, bits_per_weight(fmt, scenario), bits_per_weight(kv_fmt)


def _prefill_s(m, hw, a, n, tokens, weight_bits, context=0.0):
    """Roofline time of prefilling ``tokens`` on top of ``context`` cached ones on ``n`` chips:
    the engine's maths (:func:`inference_wars.engine.serving.prefill_compute_s`) or the weight
    reads, whichever is longer."""
    t_c = serving.prefill_compute_s(m, hw, a, tokens, context, chips=n)
    t_m = workload.weight_bytes_read(m, tokens, weight_bits) / (
        n * hw.hbm_tb_s * 1e12 * a.memory_efficiency
    )
    return np.maximum(t_c, t_m)


def turn_times(
    model: str,
    chip: str,
    n_chips: int,
    context_tokens,
    new_tokens,
    tier_gb_s_per_chip,
    tier_latency_us=100.0,
    precision: str | None = None,
    kv_precision: str | None = None,
    scenario: str = "base",
) -> dict[str, np.ndarray]:
    """Seconds to the first token of one turn, with the context fetched (hit) or recomputed (miss).

    Array arguments broadcast. Returns ``kv_gb`` (the context's KV cache), ``fetch_s``,
    ``recompute_s``, ``new_prefill_s``, ``ttft_hit_s`` and ``ttft_miss_s`` (module doc).

    Used in chapter 3.
    """
    n = require_positive_int("n_chips", n_chips)
    C = np.asarray(context_tokens, float)
    u = np.asarray(new_tokens, float)
    bw = np.asarray(tier_gb_s_per_chip, float)
    lat = np.asarray(tier_latency_us, float)
    if (C < 0).any() or (u < 1).any():
        raise ValueError("context_tokens must be >= 0 and new_tokens >= 1")
    if (bw <= 0).any() or not np.isfinite(bw).all():
        raise ValueError("tier_gb_s_per_chip must be positive and finite")
    if (lat < 0).any():
        raise ValueError("tier_latency_us must be >= 0")
    m, hw, a, wbits, kbits = _setup(model, chip, precision, kv_precision, scenario)
    if (C + u > m.max_context).any():
        raise ValueError(
            f"context_tokens + new_tokens exceeds {model}'s maximum context of "
            f"{int(m.max_context):,} tokens"
        )
    kv = workload.kv_bytes_per_sequence(m, C, kbits)
    fetch = np.where(C > 0, lat * 1e-6 + kv / (n * bw * 1e9), 0.0)
    recompute = np.where(C > 0, _prefill_s(m, hw, a, n, C, wbits), 0.0)
    new = _prefill_s(m, hw, a, n, u, wbits, context=C)
    out = {
        "kv_gb": kv / 1e9,
        "fetch_s": fetch,
        "recompute_s": recompute,
        "new_prefill_s": new,
        "ttft_hit_s": fetch + new,
        "ttft_miss_s": recompute + new,
    }
    return {
        k: np.broadcast_to(v, np.broadcast(C, u, bw, lat).shape).astype(float)
        for k, v in out.items()
    }


def tier_hit_rate(capacity_gb, sessions, kv_gb_per_session) -> np.ndarray:
    """Fraction of returning sessions whose KV is still in a tier of ``capacity_gb``:
    ``min(1, capacity / (sessions * kv_gb_per_session))`` (uniform reuse).

    Used in chapter 3.
    """
    cap = np.asarray(capacity_gb, float)
    s = np.asarray(sessions, float)
    k = np.asarray(kv_gb_per_session, float)
    if (cap < 0).any() or (s <= 0).any() or (k <= 0).any():
        raise ValueError(
            "capacity_gb must be >= 0; sessions and kv_gb_per_session must be positive"
        )
    return np.minimum(1.0, cap / (s * k))


def expected_ttft_s(hit_rate, ttft_hit_s, ttft_miss_s) -> np.ndarray:
    """``h * TTFT_hit + (1 - h) * TTFT_miss``.

    Used in chapter 3.
    """
    h = np.asarray(hit_rate, float)
    if (h < 0).any() or (h > 1).any():
        raise ValueError("hit_rate must be in [0, 1]")
    return h * np.asarray(ttft_hit_s, float) + (1.0 - h) * np.asarray(ttft_miss_s, float)


def ttft_by_hit_rate(
    model: str, chip: str, n_chips: int, *, contexts, tiers_gb_s, hit_rates, new_tokens, **options
):
    """Time to first token over every (tier bandwidth per chip in ``tiers_gb_s``, hit rate,
    context) as a long DataFrame:
    columns ``context``, ``tier_gb_s``, ``hit_rate``, ``kv_gb``, ``recompute_ttft_s`` (every turn
    recomputes), ``fetch_ttft_s`` (every turn fetches) and ``expected_ttft_s`` at the hit rate
    (:func:`expected_ttft_s`); one :func:`turn_times` evaluation broadcast over the three axes.

    Used in chapter 3.
    """
    import pandas as pd

    bw = np.asarray(tiers_gb_s, float).reshape(-1, 1, 1)
    h = np.asarray(hit_rates, float).reshape(1, -1, 1)
    C = np.asarray(contexts, float).reshape(1, 1, -1)
    t = turn_times(model, chip, n_chips, C, new_tokens, bw, **options)  # options: precision, ...
    shape = np.broadcast_shapes(bw.shape, h.shape, C.shape)
    cols = {
        "context": np.asarray(contexts).reshape(1, 1, -1),  # token counts stay integers
        "tier_gb_s": bw,
        "hit_rate": h,
        "expected_ttft_s": expected_ttft_s(h, t["ttft_hit_s"], t["ttft_miss_s"]),
        "recompute_ttft_s": t["ttft_miss_s"],
        "fetch_ttft_s": t["ttft_hit_s"],
        "kv_gb": t["kv_gb"],
    }
    return pd.DataFrame({k: np.broadcast_to(v, shape).ravel() for k, v in cols.items()})


def breakeven_tier_gb_s(
    model: str,
    chip: str,
    context_tokens,
    precision: str | None = None,
    kv_precision: str | None = None,
    scenario: str = "base",
) -> np.ndarray:
    """Per-chip tier bandwidth (GB/s) above which fetching a context's KV beats recomputing it
    (latency ignored): ``KV_bytes(C) / (n * recompute_s) / 1e9``; independent of ``n``.

    Used in chapter 3.
    """
    C = np.asarray(context_tokens, float)
    if (C <= 0).any():
        raise ValueError("context_tokens must be positive")
    m, hw, a, wbits, kbits = _setup(model, chip, precision, kv_precision, scenario)
    kv = workload.kv_bytes_per_sequence(m, C, kbits)
    return kv / _prefill_s(m, hw, a, 1.0, C, wbits) / 1e9


def prefill_usd_per_turn(
    model: str, chip: str, n_chips: int, ttft_s, scenario: str = "base"
) -> np.ndarray:
    """Cost of the chips' time spent before the first token: ``n * TTFT * usd_per_chip_hour / 3600``
    (the instance is busy prefilling; decode is the same with or without a tier).

    Used in chapter 3.
    """
    from ..api import assumptions_for

    n = require_positive_int("n_chips", n_chips)
    t = np.asarray(ttft_s, float)
    if (t < 0).any():
        raise ValueError("ttft_s must be >= 0")
    c = catalog.get_chip(chip)
    catalog.get_model(model)
    a = assumptions_for(scenario)
    hourly = economics.usd_per_chip_hour(
        c.get("price_usd", 0.0, scenario),
        c.serving_power_w(scenario),
        a.amortization_years,
        a.utilization,
        a.pue,
        a.usd_per_kwh,
    )
    return n * t * float(hourly) / SECONDS_PER_HOUR
