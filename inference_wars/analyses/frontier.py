"""The throughput-interactivity frontier: how many tokens a chip makes per second for a given
speed per user, and what that does to cost per token.

Every serving configuration (batch, chip count) gives one point: speed per user
``x = tokens_per_s_per_user`` and throughput per chip ``y = tokens_per_s_per_chip``. A point is
on the *frontier* when no other configuration of the same chip is at least as good on both
axes and better on one (Pareto). Comparing chips at an interactivity target ``x >= x0`` means
taking, for each chip, the cheapest configuration that meets it:

    cost(chip, x0) = min { usd_per_million_tokens(cfg) : x(cfg) >= x0 }
    ratio(x0)      = cost(baseline, x0) / cost(chip, x0)

A chip that cannot reach ``x0`` at all has no cost there (the ratio is unbounded): vendor
"N times cheaper" claims are usually made near the edge of the older chip's frontier.
Costs come from ``usd_per_chip_hour / tokens_per_s_per_chip`` of the chosen configuration.
The ratio's interval varies only the chips' own estimated numbers (price, power, peak...):
``ratio_low`` takes the baseline at its optimistic bounds and the new chip at its pessimistic
ones, ``ratio_high`` the reverse; shared assumptions stay at base (see :func:`cost_ratio`).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .. import catalog
from ..engine import economics, serving
from ..engine.deployment import batch_grid
from ..engine.formats import bits_per_weight
from ..engine.hardware import hardware_arrays
from ..engine.workload import model_arrays
from ..errors import UnknownNameError, require_positive, require_positive_int
from ..units import HOURS_PER_YEAR

#: Batch sizes a frontier sweeps by default (per serving instance).
DEFAULT_BATCHES = batch_grid(4096)

_GROUP = ["model", "chip", "precision", "kv_precision", "scenario", "input_tokens", "output_tokens"]


def pareto_mask(x, y) -> np.ndarray:
    """``True`` where no other point has ``x' >= x`` and ``y' >= y`` with one strictly greater.

    No chapter calls it directly; :func:`frontier` uses it.
    """
    x = np.asarray(x, float)
    y = np.asarray(y, float)
    if x.shape != y.shape or x.ndim != 1:
        raise ValueError("x and y must be 1-D arrays of the same length")
    order = np.lexsort((-y, -x))  # x descending, ties: y descending
    keep = np.zeros(x.shape, bool)
    best_y = -np.inf
    for i in order:
        if y[i] > best_y:
            keep[i] = True
            best_y = y[i]
    # equal points: keep every copy of a kept point
    if keep.any():
        kept = set(zip(x[keep].tolist(), y[keep].tolist()))
        keep = np.array([(a, b) in kept for a, b in zip(x.tolist(), y.tolist())])
    return keep


def frontier(
    model,
    chip,
    batch=DEFAULT_BATCHES,
    n_chips=None,
    input_tokens=8192,
    output_tokens=1024,
    precision=None,
    scenario="base",
    ranges: bool = True,
    **assumption_overrides,
):
    """Every configuration from :func:`inference_wars.sweep` plus ``on_frontier`` (per chip,
    model, format, scenario and workload). Arguments as for ``sweep``.

    Used in chapter 3.
    """
    from ..api import sweep

    df = sweep(
        model,
        chip,
        batch=batch,
        input_tokens=input_tokens,
        output_tokens=output_tokens,
        precision=precision,
        n_chips=n_chips,
        scenario=scenario,
        ranges=ranges,
        **assumption_overrides,
    )
    if df.empty:
        raise ValueError("no configuration fits: " + "; ".join(df.attrs.get("skipped", [])))
    df = df.reset_index(drop=True)
    mask = np.zeros(len(df), bool)
    for _, idx in df.groupby(_GROUP, observed=True).groups.items():
        idx = np.asarray(idx)
        mask[idx] = pareto_mask(
            df.loc[idx, "tokens_per_s_per_user"], df.loc[idx, "tokens_per_s_per_chip"]
        )
    df["on_frontier"] = mask
    return df


def best_at_interactivity(df, min_tokens_per_s_per_user, metric: str = "usd_per_million_tokens"):
    """For each chip (and model/format/workload group) and each target speed per user, the
    configuration that meets the target with the best ``metric`` (lowest for a cost, highest
    otherwise). Columns: the group, ``target``, ``reachable`` and the chosen row's metrics;
    unreachable targets keep ``reachable=False`` and no metrics (drop them before charting).

    Used in chapter 3.
    """
    import pandas as pd

    from ..api import LOWER_IS_BETTER, METRICS

    if metric not in METRICS:
        raise UnknownNameError("metric", metric, METRICS)
    targets = np.atleast_1d(np.asarray(min_tokens_per_s_per_user, float))
    if (targets <= 0).any():
        raise ValueError("interactivity targets must be positive tokens/s per user")
    rows = []
    for key, g in df.groupby(_GROUP, observed=True):
        x = g["tokens_per_s_per_user"].to_numpy()
        for t in targets:
            ok = g[x >= t]
            base = dict(zip(_GROUP, key)) | {"target": float(t)}
            if ok.empty:
                rows.append(base | {"reachable": False})
                continue
            pick = ok[metric].idxmin() if metric in LOWER_IS_BETTER else ok[metric].idxmax()
            rows.append(base | {"reachable": True} | ok.loc[pick].drop(labels=_GROUP).to_dict())
    return pd.DataFrame(rows)


def usd_per_chip_hour(
    chip: str,
    scenario: str = "base",
    price_usd: float | None = None,
    power_w: float | None = None,
    **assumption_overrides: float,
) -> float:
    """Hourly cost of one chip unit (:func:`inference_wars.engine.economics.usd_per_chip_hour`) with the
    chip's price and power read at ``scenario`` unless given, and the shared assumptions
    (amortisation, utilisation, PUE, electricity) at their base values unless overridden.

    Used in chapter 3.
    """
    from ..api import assumptions_for

    c = catalog.get_chip(chip)
    a = assumptions_for("base", **assumption_overrides)
    price = (
        c.get("price_usd", 0.0, scenario)
        if price_usd is None
        else require_positive("price_usd", price_usd)
    )
    power = c.serving_power_w(scenario) if power_w is None else require_positive("power_w", power_w)
    return float(
        economics.usd_per_chip_hour(
            price, power, a.amortization_years, a.utilization, a.pue, a.usd_per_kwh
        )
    )


def price_for_cost_ratio(
    chip: str, ratio_now: float, target_ratio: float, **assumption_overrides: float
) -> float:
    """The purchase price of ``chip`` (rack share included) at which a cost ratio now at
    ``ratio_now`` (baseline cost / this chip's cost) would reach ``target_ratio``, nothing else
    changing. The ratio is inversely proportional to the chip's hourly cost, so

        hourly_needed = hourly_now * ratio_now / target_ratio
        price         = (hourly_needed - energy_per_hour) * amortization_years * 8766 h * utilization

    Returns 0.0 when even a free chip would not get there (its electricity alone costs more).

    Used in chapter 3 and the claims appendix.
    """
    from ..api import assumptions_for

    r0, rt = (
        require_positive("ratio_now", ratio_now),
        require_positive("target_ratio", target_ratio),
    )
    c = catalog.get_chip(chip)
    a = assumptions_for("base", **assumption_overrides)
    hourly_now = usd_per_chip_hour(c.id, **assumption_overrides)
    energy = float(economics.energy_usd_per_hour(c.serving_power_w(), a.pue, a.usd_per_kwh))
    need = hourly_now * r0 / rt
    return max(need - energy, 0.0) * a.amortization_years * HOURS_PER_YEAR * a.utilization


def _best_throughput(
    model,
    chip,
    targets,
    chip_scenario,
    batch,
    n_chips,
    input_tokens,
    output_tokens,
    precision,
    overrides,
) -> np.ndarray:
    """Highest tokens/s per chip among configurations meeting each target (0 where none does),
    hardware read at ``chip_scenario`` and shared assumptions at base (plus overrides)."""
    from ..api import sweep
    from ..engine.factors import chip_factors

    fixed = dict(chip_factors(catalog.get_chip(chip).id, "base")) | overrides
    df = sweep(
        model,
        chip,
        batch=batch,
        n_chips=n_chips,
        input_tokens=input_tokens,
        output_tokens=output_tokens,
        precision=precision,
        scenario=chip_scenario,
        **fixed,
    )
    x = df["tokens_per_s_per_user"].to_numpy()
    y = df["tokens_per_s_per_chip"].to_numpy()
    return np.array([y[x >= t].max() if (x >= t).any() else 0.0 for t in targets])


def cost_ratio(
    model: str,
    baseline: str,
    chip: str,
    targets,
    input_tokens: int = 8192,
    output_tokens: int = 1024,
    precision: str | None = None,
    baseline_precision: str | None = None,
    batch=DEFAULT_BATCHES,
    n_chips=(8, 16, 32, 72),
    price_usd: dict[str, float] | None = None,
    power_w: dict[str, float] | None = None,
    **assumption_overrides: float,
):
    """How many times cheaper per token ``chip`` is than ``baseline`` at each speed-per-user target.

    For each chip the best configuration meeting the target (highest tokens/s per chip, hence
    lowest cost) is found over ``batch`` x ``n_chips``; then
    ``ratio = (hourly_b / tps_chip_b) / (hourly_c / tps_chip_c)``. The interval comes from the
    *chip-specific* estimates only (price, power, peak, ... at their bounds: ``ratio_low`` with
    the baseline optimistic and the new chip pessimistic, ``ratio_high`` the reverse); shared
    assumptions (efficiencies, utilisation, electricity) stay at base unless overridden, since
    they move both chips together. ``price_usd`` / ``power_w`` map chip ids to fixed values.

    Returns a DataFrame: ``target``, ``reachable_baseline``, ``reachable_chip``, ``ratio``,
    ``ratio_low``, ``ratio_high`` (ratios are ``inf`` where only the new chip reaches the target
    and 0 where only the baseline does; drop those rows before charting).

    Used in chapter 3 and the claims appendix.
    """
    import pandas as pd

    t = np.atleast_1d(np.asarray(targets, float))
    if (t <= 0).any():
        raise ValueError("targets must be positive tokens/s per user")
    price_usd, power_w = dict(price_usd or {}), dict(power_w or {})
    for c in list(price_usd) + list(power_w):
        if catalog.get_chip(c).id not in (catalog.get_chip(baseline).id, catalog.get_chip(chip).id):
            raise ValueError(
                f"price/power override for {c!r}, which is neither {baseline!r} nor {chip!r}"
            )
    cost = {}
    for who, fmt in ((baseline, baseline_precision or precision), (chip, precision)):
        cid = catalog.get_chip(who).id
        for scen in ("base", "optimistic", "pessimistic"):
            tps = _best_throughput(
                model,
                cid,
                t,
                scen,
                batch,
                n_chips,
                input_tokens,
                output_tokens,
                fmt,
                assumption_overrides,
            )
            hourly = usd_per_chip_hour(
                cid,
                scen,
                price_usd.get(who, price_usd.get(cid)),
                power_w.get(who, power_w.get(cid)),
                **assumption_overrides,
            )
            with np.errstate(divide="ignore"):
                cost[who, scen] = np.where(tps > 0, hourly / np.where(tps > 0, tps, 1.0), np.inf)
    ratio = economics.cost_ratio(cost[baseline, "base"], cost[chip, "base"])
    lo = economics.cost_ratio(cost[baseline, "optimistic"], cost[chip, "pessimistic"])
    hi = economics.cost_ratio(cost[baseline, "pessimistic"], cost[chip, "optimistic"])
    rb, rc = np.isfinite(cost[baseline, "base"]), np.isfinite(cost[chip, "base"])
    lo = np.where(rb & rc, np.minimum(lo, ratio), ratio)
    hi = np.where(rb & rc, np.maximum(hi, ratio), ratio)
    return pd.DataFrame(
        {
            "target": t,
            "reachable_baseline": rb,
            "reachable_chip": rc,
            "ratio": ratio,
            "ratio_low": lo,
            "ratio_high": hi,
        }
    )


def cost_ratio_sensitivity(
    swings: Sequence[tuple],
    model: str,
    baseline: str,
    chip: str,
    target: float,
    **workload,
):
    """One assumption at a time: :func:`cost_ratio` at ``target`` tokens/s per user with each
    swing's two values, everything else at the base case (``model``, ``workload``: the other
    arguments of :func:`cost_ratio`).

    Each swing is ``(label, from_value, to_value, key)``; ``key`` names what moves: ``"model"``,
    ``"target"``, any keyword of :func:`cost_ratio` or assumption override (``"input_tokens"``,
    ``"usd_per_kwh"``, ...), or ``("price_usd", chip_id)`` / ``("power_w", chip_id)`` for one
    chip's price or power. Returns a DataFrame, largest high end first: ``assumption``, ``from``,
    ``to`` (the swing's two values as given), ``ratio_a``, ``ratio_b`` (the ratio at each value),
    ``lo``, ``hi`` and ``base``;
    ``df.attrs["base"]`` is the base case's ratio.

    Used in chapter 3.
    """
    import pandas as pd

    def ratio(key=None, value=None) -> float:
        m, t, kw = model, target, dict(workload)
        if key == "model":
            m = value
        elif key == "target":
            t = float(value)
        elif isinstance(key, tuple):
            field_name, chip_id = key
            if field_name not in ("price_usd", "power_w"):
                raise ValueError(f"a per-chip swing moves price_usd or power_w, got {field_name!r}")
            kw[field_name] = {chip_id: value}
        elif key is not None:
            kw[key] = value
        return float(cost_ratio(m, baseline, chip, [t], **kw)["ratio"].iloc[0])

    base = ratio()
    rows = []
    for label, a, b, key in swings:
        r = [ratio(key, v) for v in (a, b)]
        rows.append(
            {
                "assumption": label,
                "from": a,  # as given: a number, or a model id
                "to": b,
                "ratio_a": r[0],
                "ratio_b": r[1],
                "lo": min(r),
                "hi": max(r),
                "base": base,
            }
        )
    df = pd.DataFrame(rows).sort_values("hi", ascending=False)
    df.attrs["base"] = base
    return df


def step_breakdown(
    model: str,
    chips: Sequence[str],
    n_chips,
    batch=1,
    input_tokens=8192,
    output_tokens=1024,
    precision: str | None = None,
    scenario: str = "base",
):
    """Where one decode step's time goes, for one copy of the model stretched over ``n_chips``
    (:func:`inference_wars.engine.serving.single_instance`): the terms of :mod:`inference_wars.engine.serving`,
    ``TPOT = sum over operator groups of overlapped(compute, memory) + interconnect + overhead +
    prefill interruptions`` (tensor parallelism inside a scale-up domain, ``pp`` pipeline stages
    beyond it; ``overlapped`` is :func:`inference_wars.engine.serving.overlapped_s`, between
    ``max`` and the sum of the two); ``compute_s`` and ``memory_s`` are the step's totals of
    each, ``roofline_s`` the sum over operator groups of their overlapped times.

    ``chips`` and ``n_chips`` may be lists (every combination); ``fits`` says whether weights
    and KV fit on that many chips. Returns a DataFrame, one row per (chip, n_chips).

    Used in chapters 2, 3, 5 and 6.
    """
    import pandas as pd

    from ..api import resolve
    from ..engine import factors

    m_id = catalog.get_model(model).id
    ns = [require_positive_int("n_chips", n) for n in np.atleast_1d(n_chips).tolist()]
    B = float(require_positive_int("batch", batch))
    S = float(require_positive_int("input_tokens", input_tokens))
    O = float(require_positive_int("output_tokens", output_tokens))
    rows = []
    m = model_arrays([m_id])
    for name in [chips] if isinstance(chips, str) else list(chips):
        _, c, fmt, kv_fmt = resolve(m_id, name, precision)
        hw = hardware_arrays([(c.id, fmt)], scenario)
        wb, kb = bits_per_weight(fmt, scenario), bits_per_weight(kv_fmt)
        a = factors.factor_arrays([c.id], scenario)
        need = serving.chips_needed(m, hw, B, S, O, wb, kb, a.usable_memory_fraction)
        for n in ns:
            r = serving.evaluate(
                m, hw, a, serving.single_instance(m, hw, float(n)), B, S, O, wb, kb
            )
            rows.append(
                {
                    "chip": c.id,
                    "precision": fmt,
                    "n_chips": n,
                    "batch": int(B),
                    "tp": int(r["tp"][0]),
                    "pp": int(r["pp"][0]),
                    "fits": bool(n >= need[0] - 1e-9),
                    "compute_s": float(r["decode_compute_s"][0]),
                    "memory_s": float(r["decode_memory_s"][0]),
                    "roofline_s": float(r["decode_roofline_s"][0]),
                    "interconnect_s": float(r["decode_interconnect_s"][0]),
                    "overhead_s": float(r["decode_overhead_s"][0]),
                    "prefill_interruptions_s": float(r["tpot_s"][0] - r["step_s"][0]),
                    "tpot_s": float(r["tpot_s"][0]),
                    "bound": str(r["bound"][0]),
                }
            )
    return pd.DataFrame(rows)


def interactivity_targets(low: float = 10.0, high: float = 1000.0, n: int = 25) -> np.ndarray:
    """Log-spaced speed-per-user targets (tokens/s) for :func:`best_at_interactivity`.

    Used in chapter 3 and the claims appendix.
    """
    lo, hi = require_positive("low", low), require_positive("high", high)
    if hi <= lo:
        raise ValueError(f"high must exceed low, got {low!r} and {high!r}")
    return np.geomspace(lo, hi, require_positive_int("n", n))


def against_measured(
    model: str,
    chips: Sequence[str],
    input_tokens: int,
    output_tokens: int,
    n_chips=(8, 16, 24, 32, 48, 72),
    batch=batch_grid(16384),
    mtp_tokens: int = 0,
    disaggregated: bool = False,
):
    """The modelled frontier next to the measured points of the same workload (chapter 3).

    Returns ``(envelope, points)``: ``envelope`` is the frontier of :func:`frontier` over
    ``n_chips`` and ``batch`` for each chip, in the serving mode the measurements used
    (``mtp_tokens`` draft tokens, ``disaggregated`` prefill) and weight format; ``points`` are the measured
    throughput-vs-interactivity rows (``data/measured``, metric ``tokens_per_s_per_chip`` at a
    published speed per user) with ``predicted``: the engine's estimate for that row's exact
    configuration with the row's source family left out of the fit (leave-one-source-out).

    Used in chapter 3.
    """
    from ..evidence.validation import predict_held_out

    chips = [catalog.get_chip(c).id for c in chips]
    pts = predict_held_out()
    pts = pts[
        (pts["model"] == catalog.get_model(model).id)
        & pts["chip"].isin(chips)
        & (pts["metric"] == "tokens_per_s_per_chip")
        & pts["min_tokens_per_s_per_user"].notna()
        & (pts["input_tokens"] == input_tokens)
        & (pts["output_tokens"] == output_tokens)
    ]
    if pts.empty:
        raise ValueError(
            f"no measured throughput-vs-interactivity points for {model} at {input_tokens} in / "
            f"{output_tokens} out on {', '.join(chips)}"
        )
    precision = pts["precision"].mode().iloc[0]  # the format the measurements ran
    env = frontier(
        model,
        chips,
        batch=list(batch),
        n_chips=list(n_chips),
        input_tokens=input_tokens,
        output_tokens=output_tokens,
        precision=precision,
        ranges=False,
        mtp_tokens=mtp_tokens,
        disaggregated=disaggregated,
    )
    env = (
        env[env["on_frontier"]]
        .sort_values(["chip", "tokens_per_s_per_user"])
        .reset_index(drop=True)
    )
    cols = [
        "id",
        "chip",
        "n_chips",
        "batch",
        "min_tokens_per_s_per_user",
        "value",
        "predicted",
        "ape",
        "mtp_tokens",
        "disaggregated",
        "software",
        "source",
        "date",
    ]
    return env, pts[cols].rename(
        columns={
            "min_tokens_per_s_per_user": "tokens_per_s_per_user",
            "value": "tokens_per_s_per_chip",
        }
    ).reset_index(drop=True)
