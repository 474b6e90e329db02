"""The landscape side by side: every chip's memory tiers, what models need, and one model
served on every system.

Three tidy tables, each a pure function of the catalog:

* :func:`memory_tiers` - one row per (chip, tier): mask ROM, on-chip SRAM, off-chip memory, with
  capacity (GB of bytes: an "80 GB" HBM stack holds 80 GiB, 85.9 GB, :func:`memory.capacity_gb`)
  and bandwidth (TB/s) and their low/high ranges. ``scope="domain"`` multiplies by
  the chips of one scale-up domain (an NVL72 rack, a TPU pod, a Groq system), the unit that
  serves one copy of a large model.
* :func:`model_needs` - the capacity a model needs (weights + KV cache of ``batch`` sequences)
  and the bandwidth needed to give each user ``target`` tokens/s at batch ``b``:

      capacity_gb        = (W + b * KV(c)) / 1e9
      bandwidth_tb_s     = bytes_step(b, c) * target / 1e12
      bytes_step(b, c)   = weight bytes read by b tokens + b * KV(c)     (workload.decode_step)

  A tier to the upper right of a model's point holds it and can stream it fast enough; the
  bandwidth is a floor (latency and links only add to it).
* :func:`compare_systems` - one model on each chip at the fewest chips that hold it, with the
  base value and the optimistic/pessimistic range of chips, speed, throughput, cost and energy.
* :func:`prefill_and_decode` - the two phases of one long request on each chip: time and cost of
  the prompt (prefill), then the speed of the answer (decode); a prefill-only GPU such as Rubin CPX
  against an HBM GPU.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .. import catalog
from ..engine import memory, workload
from ..engine.formats import (
    bits_per_weight,
    check_format_on_chip,
    check_kv_format,
    default_kv_format,
    serving_format,
)
from ..errors import require_frame, require_list, require_positive, require_positive_int

#: Tiers in the order bytes are placed (fastest first) and the catalog quantities behind them
#: (capacity, bandwidth); capacities are converted to bytes by :func:`memory.capacity_gb`.
TIERS = {
    "mask ROM": ("rom_gb", "rom_tb_s"),
    "on-chip SRAM": ("sram_mb", "sram_tb_s"),
    "off-chip DRAM": ("hbm_gb", "hbm_tb_s"),
}

SCOPES = ("chip", "domain")


def _role(chip: catalog.Chip, tier: str) -> str:
    if tier == "mask ROM":
        return "weights of one model only"
    if tier == "on-chip SRAM":
        return "weights and KV cache" if chip.sram_role == "storage" else "cache only"
    return "weights and KV cache"


def memory_tiers(chips: Sequence[str] | None = None, scope: str = "chip"):
    """One row per (chip, memory tier) with capacity and bandwidth and their ranges.

    A tier appears only when the catalog gives both its capacity and its bandwidth (GPU L2/shared
    memory sizes have no published bandwidth); the left-out tiers are listed in
    ``df.attrs["omitted"]``. With ``scope="domain"`` every number is multiplied by the chip's
    ``scaleup_domain`` (base value; the domain size is not varied inside the capacity range).

    Used in chapter 6.
    """
    import pandas as pd

    if scope not in SCOPES:
        raise ValueError(f"scope must be one of {', '.join(SCOPES)}, got {scope!r}")
    ids = (
        catalog.chip_ids()
        if chips is None
        else [catalog.get_chip(c).id for c in require_list("chips", chips)]
    )
    rows, omitted = [], []
    for cid in ids:
        c = catalog.get_chip(cid)
        k = c.get("scaleup_domain", 1.0) if scope == "domain" else 1.0
        k = max(k, 1.0)
        for tier, (cap_q, bw_q) in TIERS.items():
            if not c.has(cap_q):
                continue
            if not c.has(bw_q):
                omitted.append(f"{cid} {tier} (capacity known, bandwidth not published)")
                continue
            cap, bw = c.specs[cap_q], c.specs[bw_q]
            rows.append(
                {
                    "chip": cid,
                    "name": c.name,
                    "vendor": c.vendor,
                    "category": c.category,
                    "tier": tier,
                    "memory_kind": c.memory_kind if tier == "off-chip DRAM" else tier,
                    "role": _role(c, tier),
                    "scope": scope,
                    "chips_in_scope": int(k),
                    "capacity_gb": memory.capacity_gb(cap_q, cap.value) * k,
                    "capacity_gb_low": memory.capacity_gb(cap_q, cap.low) * k,
                    "capacity_gb_high": memory.capacity_gb(cap_q, cap.high) * k,
                    "bandwidth_tb_s": bw.value * k,
                    "bandwidth_tb_s_low": bw.low * k,
                    "bandwidth_tb_s_high": bw.high * k,
                    "status": "estimated" if "estimated" in (cap.status, bw.status) else cap.status,
                    "source": cap.source
                    if cap.source == bw.source
                    else f"{cap.source}; {bw.source}",
                }
            )
    df = pd.DataFrame(rows)
    df.attrs["omitted"] = omitted
    return df


def model_needs(
    models: Sequence[str] | str,
    precision: str = "fp8",
    kv_precision: str | None = None,
    context_tokens: int = 8192,
    batch: int = 1,
    target_tokens_per_s_per_user: float = 100.0,
):
    """Capacity and bandwidth one copy of each model needs (formulas in the module doc).

    Columns: ``weights_gb``, ``kv_gb`` (``batch`` sequences of ``context_tokens``), ``capacity_gb``,
    ``bytes_per_step_gb`` (one decode step of the batch) and ``bandwidth_tb_s`` (to run
    ``target_tokens_per_s_per_user`` steps per second).

    Used in chapter 6.
    """
    import pandas as pd

    names = require_list("models", models)
    ids = [catalog.get_model(m).id for m in names]
    ctx = require_positive_int("context_tokens", context_tokens)
    b = require_positive_int("batch", batch)
    target = require_positive("target_tokens_per_s_per_user", target_tokens_per_s_per_user)
    fmt = catalog.get_format(precision).id
    kv_fmt = check_kv_format(kv_precision).id if kv_precision else default_kv_format(fmt)
    m = workload.model_arrays(ids)
    too_long = ctx > m.max_context
    if too_long.any():
        bad = [i for i, t in zip(ids, too_long) if t]
        raise ValueError(f"context_tokens {ctx:,} exceeds the maximum context of {', '.join(bad)}")
    wbits, kbits = bits_per_weight(fmt), bits_per_weight(kv_fmt)
    w = workload.weights_bytes(m, wbits)
    kv = b * workload.kv_bytes_per_sequence(m, ctx, kbits)
    _, step = workload.decode_step(m, b, ctx, wbits, kbits)
    return pd.DataFrame(
        {
            "model": ids,
            "precision": fmt,
            "kv_precision": kv_fmt,
            "context_tokens": ctx,
            "batch": b,
            "target_tokens_per_s_per_user": target,
            "weights_gb": w / 1e9,
            "kv_gb": kv / 1e9,
            "capacity_gb": (w + kv) / 1e9,
            "bytes_per_step_gb": step / 1e9,
            "bandwidth_tb_s": step * target / 1e12,
        }
    )


COMPARE_METRICS = (
    "n_chips",
    "tokens_per_s_per_user",
    "tokens_per_s",
    "usd_per_million_tokens",
    "joules_per_token",
)


def compare_systems(
    model: str,
    chips: Sequence[str] | None = None,
    batch: int = 1,
    input_tokens: int = 1024,
    output_tokens: int = 256,
    precision: str | dict[str, str] | None = None,
):
    """Serve ``model`` on each chip (fewest chips that hold weights and KV of ``batch``
    sequences) under the base, optimistic and pessimistic readings of the catalog.

    ``precision``: one format for all, a ``{chip: format}`` dict, or ``None`` for
    :func:`serving_format`. Chips that cannot run the model (another model's hard-wired chip)
    are left out and named in ``df.attrs["skipped"]``. For every metric in
    :data:`COMPARE_METRICS` the frame has the base value and ``<metric>_low``/``<metric>_high``,
    the smallest and largest value over the three scenarios.

    Used in chapter 6.
    """
    import pandas as pd

    from ..api import sweep

    m_id = catalog.get_model(model).id
    ids = (
        catalog.chip_ids()
        if chips is None
        else [catalog.get_chip(c).id for c in require_list("chips", chips)]
    )
    if isinstance(precision, dict):
        precision = {catalog.get_chip(k).id: v for k, v in precision.items()}
    # one sweep per weight format over every chip that serves in it (a handful of calls, not one
    # per chip): the explorer of chapter 6 updates in tens of milliseconds
    fmt_of, skipped = {}, []
    for cid in ids:
        c = catalog.get_chip(cid)
        if c.hardwired_model and c.hardwired_model != m_id:
            skipped.append(f"{cid} runs only {c.hardwired_model}")
            continue
        if isinstance(precision, dict):
            fmt = precision.get(cid) or serving_format(cid)
        else:
            fmt = precision or serving_format(cid)
        check_format_on_chip(fmt, c)
        fmt_of[cid] = fmt
    frames = {}
    for fmt in dict.fromkeys(fmt_of.values()):
        group = [cid for cid, f in fmt_of.items() if f == fmt]
        df = sweep(
            m_id,
            group,
            batch=batch,
            input_tokens=input_tokens,
            output_tokens=output_tokens,
            precision=fmt,
            scenario=list(catalog.SCENARIOS),
        )
        chip_col = df["chip"].astype(str).to_numpy()
        for cid in group:
            frames[cid] = (df.iloc[np.flatnonzero(chip_col == cid)], df.attrs.get("skipped", []))
    rows = []
    for cid, fmt in fmt_of.items():
        df, why = frames[cid]
        if len(df) != len(catalog.SCENARIOS):
            skipped.append(
                f"{cid}: "
                + (
                    "; ".join(w for w in why if cid in w)
                    or "does not fit on the chips it would need at this batch and context"
                )
            )
            continue
        c = catalog.get_chip(cid)
        by = df.set_index(df["scenario"].astype(str))
        row = {
            "model": m_id,
            "chip": cid,
            "name": c.name,
            "category": c.category,
            "release_status": c.release_status,
            "precision": fmt,
            "batch": batch,
            "input_tokens": input_tokens,
            "output_tokens": output_tokens,
            "bound": str(by.loc["base", "bound"]),
        }
        vals = by[list(COMPARE_METRICS)].to_numpy(float)  # one row per scenario
        base = vals[list(by.index).index("base")]
        for j, k in enumerate(COMPARE_METRICS):
            row[k] = float(base[j])
            row[f"{k}_low"] = float(vals[:, j].min())
            row[f"{k}_high"] = float(vals[:, j].max())
        rows.append(row)
    if not rows:
        raise ValueError(f"no chip in the list can serve {m_id}: " + "; ".join(skipped))
    out = pd.DataFrame(rows)
    out.attrs["skipped"] = skipped
    return out


def long_comparison(frame):
    """Reshape :func:`compare_systems` output to one row per (chip, metric) with value/low/high
    (for charts with error bars).

    Used in chapter 6.
    """
    import pandas as pd

    require_frame(
        "frame", frame, [x for k in COMPARE_METRICS for x in (k, f"{k}_low", f"{k}_high")]
    )
    keep = [
        c for c in ("model", "chip", "name", "precision", "batch", "bound") if c in frame.columns
    ]
    parts = []
    for k in COMPARE_METRICS:
        part = frame[keep].copy()
        part["metric"] = k
        part["value"] = frame[k].to_numpy(float)
        part["low"] = frame[f"{k}_low"].to_numpy(float)
        part["high"] = frame[f"{k}_high"].to_numpy(float)
        parts.append(part)
    out = pd.concat(parts, ignore_index=True)
    if not np.isfinite(out[["value", "low", "high"]].to_numpy(float)).all():
        raise ValueError(
            "comparison produced a non-finite value; check the catalog rows of the chips compared"
        )
    return out


PREFILL_DECODE_METRICS = ("ttft_s", "usd_per_million_prompt_tokens", "tokens_per_s_per_user")


def prefill_and_decode(
    model: str,
    chips: Sequence[str],
    prompt_tokens: int,
    output_tokens: int = 256,
    precision: str | None = None,
):
    """One long request on each chip, at the fewest chips that hold the weights and its KV cache
    (batch 1), split into its two phases (a prefill GPU such as Rubin CPX against an HBM GPU)::

        ttft_s                         time to the first token of the lone prompt (the engine's TTFT)
        usd_per_million_prompt_tokens  = n_chips * ttft_s * usd_per_chip_hour / 3600
                                         / prompt_tokens * 1e6
        tokens_per_s_per_user          decode speed of the answer once the prompt is in

    The prompt keeps its chips busy for ``ttft_s``; a long prefill is compute-bound, so batching
    prompts would not make it much cheaper. ``precision``: one format for every chip (default:
    :func:`serving_format` per chip). Every metric has ``<metric>_low``/``<metric>_high``, its
    optimistic and pessimistic readings of the catalog for the same deployment.

    Used in chapter 6.
    """
    import pandas as pd

    from ..api import estimate
    from .context_memory import prefill_usd_per_turn

    m_id = catalog.get_model(model).id
    ids = [catalog.get_chip(c).id for c in require_list("chips", chips)]
    s = require_positive_int("prompt_tokens", prompt_tokens)
    o = require_positive_int("output_tokens", output_tokens)
    rows = []
    for cid in ids:
        fmt = precision or serving_format(cid)
        check_format_on_chip(fmt, catalog.get_chip(cid))
        e = estimate(
            m_id, cid, batch=1, input_tokens=s, output_tokens=o, precision=fmt, ranges=True
        )
        ttft_lo, ttft_hi = e.ranges["ttft_s"]
        speed_lo, speed_hi = e.ranges["tokens_per_s_per_user"]
        usd = {
            reading: float(prefill_usd_per_turn(m_id, cid, e.n_chips, t, reading)) / s * 1e6
            for reading, t in (
                ("base", e.ttft_s),
                ("optimistic", ttft_lo),
                ("pessimistic", ttft_hi),
            )
        }
        rows.append(
            {
                "model": m_id,
                "chip": cid,
                "precision": fmt,
                "prompt_tokens": s,
                "output_tokens": o,
                "n_chips": e.n_chips,
                "ttft_s": e.ttft_s,
                "ttft_s_low": ttft_lo,
                "ttft_s_high": ttft_hi,
                "usd_per_million_prompt_tokens": usd["base"],
                "usd_per_million_prompt_tokens_low": min(usd.values()),
                "usd_per_million_prompt_tokens_high": max(usd.values()),
                "tokens_per_s_per_user": e.tokens_per_s_per_user,
                "tokens_per_s_per_user_low": speed_lo,
                "tokens_per_s_per_user_high": speed_hi,
            }
        )
    return pd.DataFrame(rows)
