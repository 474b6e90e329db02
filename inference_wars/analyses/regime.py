"""Workload regimes: which architecture serves a workload at the lowest cost per token while
meeting a latency target.

A *regime* is a workload described by what an operator knows about it:

* ``model`` - the architecture served (every model in the zoo is assumed to be this size),
* ``zoo_size`` N - how many distinct models (fine-tunes, versions, products) are served,
* ``update_months`` - how often each model is replaced by a new version,
* ``tokens_per_day`` V - generated (output) tokens per day for the whole zoo, split evenly,
* ``min_tokens_per_s_per_user`` L - the latency target: each user's stream must reach L tokens/s,
* ``context_tokens`` - prompt plus output tokens per request (``output_tokens`` of them generated).

For each candidate chip, :func:`inference_wars.sweep` gives one serving *instance* per batch size
``b`` (the fewest chips ``n_b`` that hold the weights and KV cache, its output tokens/s ``T_b``
and per-user speed ``s_b``). A batch is allowed when ``s_b >= L``. The cost per million tokens
uses the package's economics (:func:`inference_wars.engine.economics.usd_per_million_tokens`) with
two workload corrections::

    D          = V / 86400                        programmable chips: one pool serves the zoo
    D          = V / (N * 86400)                  hard-wired chips: each model has its own chips
    util_b     = min(utilization, D / T_b)        a fleet too small to fill one instance idles
    life       = amortization_years               programmable
    life       = min(amortization_years, update_months / 12)     hard-wired: retired at each update
    cost_b     = usd_per_million_tokens(n_b, T_b, price, power, life, util_b, pue, usd_per_kwh)
                 + 1e6 * tapeout_usd / (D * 86400 * days_per_update)      (hard-wired only)

and the chip's cost is the cheapest allowed batch. With ``util_b = utilization`` and the default
life this is exactly the sweep's ``usd_per_million_tokens``. A hard-wired chip also needs
``update_months >= turnaround_months``: a model replaced more often than chips can be
made is replaced before its chips arrive. The hard-wiring inputs (``tapeout_usd``,
``turnaround_months``) are the sourced estimates of :mod:`inference_wars.analyses.hardwired`
(``data/hardwired_costs.csv``): ``tapeout_usd = masks * mask_usd + engineering_usd`` and
``turnaround = fab_months + deploy_months``, so chapters 4 and 8 price a tape-out alike.

Simplifications, stated so they can be argued with: programmable chips pool the zoo (weights
are swapped or co-located at no cost, which favours them slightly); models in a zoo share one
architecture and split the volume evenly; quality differences between number formats (Taalas
HC1's 3/6-bit weights) are not priced. A regime that no candidate can serve is reported as
``winner == "none"`` with a reason, never as NaN.

:func:`choose` ranks the candidates for one regime; :func:`regime_map` evaluates a whole grid of
regimes at once (vectorised over the grid) and flags the cells whose winner could change
within the catalog's estimate ranges (``contested``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .. import catalog
from ..engine import economics
from ..engine.deployment import batch_grid
from ..engine.formats import FORMAT_PREFERENCE, serving_format
from ..errors import require_list, require_positive, require_positive_int
from ..units import DAYS_PER_MONTH, SECONDS_PER_DAY
from . import hardwired

#: The catalog chips compared (GPUs, then ASICs, then hard-wired silicon).
CANDIDATES: tuple[str, ...] = (
    "h100-sxm",
    "b200",
    "gb200-nvl72",
    "vera-rubin-nvl72",
    "tpu-ironwood",
    "inferentia2",
    "groq-lpu",
    "cerebras-wse3",
    "dmatrix-corsair",
    "matx-one",
    "taalas-hc1",
)

#: Batch sizes searched for the cheapest configuration that meets the latency target.
BATCHES: tuple[int, ...] = batch_grid(1024)

#: Days per month used to turn an update cadence into tokens served per model version.


#: Label of a regime no candidate can serve.
NONE = "none"


def architecture_kind(chip: str) -> str:
    """``"GPU"``, ``"hard-wired"`` (runs one model) or ``"ASIC"`` (TPUs, inference ASICs, wafers).

    No chapter calls it directly; :func:`chip_cost_curves`, :func:`choose`, :func:`regime_map` use it.
    """
    c = catalog.get_chip(chip)
    if c.hardwired_model:
        return "hard-wired"
    return "GPU" if c.category == "gpu" else "ASIC"


def regime_inputs():
    """The hard-wiring inputs (tape-out and schedule, from :func:`hardwired.cost_assumptions`)
    as a DataFrame with sources and ranges.

    Used in chapter 8.
    """
    df = hardwired.cost_assumptions()
    return df[df["key"].isin(HARDWIRING_KEYS)].reset_index(drop=True)


#: The rows of ``data/hardwired_costs.csv`` that price one hard-wired model version.
HARDWIRING_KEYS = (
    "mask_usd",
    "masks_per_tapeout",
    "engineering_usd_per_tapeout",
    "fab_months",
    "deploy_months",
)


@dataclass(frozen=True)
class HardWiring:
    """Cost and delay of hard-wiring one model version into silicon."""

    tapeout_usd: float
    turnaround_months: float


def hardwiring(scenario: str = "base") -> HardWiring:
    """Hard-wiring inputs under a scenario (optimistic: low cost and fast turnaround).

    Used in chapter 8.
    """
    if scenario not in hardwired.SCENARIO_BOUND:
        raise ValueError(
            f"scenario must be one of {', '.join(hardwired.SCENARIO_BOUND)}, got {scenario!r}"
        )
    bound = hardwired.SCENARIO_BOUND[scenario]
    return HardWiring(
        tapeout_usd=float(hardwired.tapeout_usd(1, bound)),
        turnaround_months=hardwired.lead_months(bound),
    )


def candidates(chips: Sequence[str] | None = None, include_projected: bool = False) -> list[str]:
    """Candidate chip ids (validated); projected chips (MatX One) only with ``include_projected``.

    Used in chapter 8 (and by :func:`chip_cost_curves`, :func:`choose` and :func:`regime_map`).
    """
    ids = [catalog.get_chip(c).id for c in (CANDIDATES if chips is None else chips)]
    if not ids:
        raise ValueError("chips must not be empty")
    if not include_projected:
        ids = [c for c in ids if catalog.get_chip(c).release_status != "projected"]
        if not ids:
            raise ValueError(
                "every chip given is projected; pass include_projected=True to compare them"
            )
    return list(dict.fromkeys(ids))


@dataclass(frozen=True)
class _Instances:
    """Per-candidate serving instances padded to a (chip, batch) grid; NaN where absent."""

    chips: list[str]
    hardwired: np.ndarray  # [C] bool
    n_chips: np.ndarray  # [C, B]
    tokens_per_s: np.ndarray  # [C, B]
    tokens_per_s_per_user: np.ndarray
    price_usd: np.ndarray  # [C]
    power_w: np.ndarray  # [C]
    skipped: dict[str, str]  # chip -> why it cannot run the model at all


def _instances(
    model: str, chips: list[str], context_tokens: int, output_tokens: int, scenario: str
) -> _Instances:
    from ..api import sweep

    m = catalog.get_model(model)
    if context_tokens <= output_tokens:
        raise ValueError(
            f"context_tokens ({context_tokens:,}) must exceed output_tokens ({output_tokens:,})"
        )
    if context_tokens > m.max_context:
        raise ValueError(
            f"context_tokens {context_tokens:,} exceeds {m.id}'s maximum context of {m.max_context:,} tokens"
        )
    skipped = {
        c: f"hard-wired to {catalog.get_chip(c).hardwired_model}; runs no other model"
        for c in chips
        if catalog.get_chip(c).hardwired_model not in (None, m.id)
    }
    run = [c for c in chips if c not in skipped]
    C, B = len(chips), len(BATCHES)
    n = np.full((C, B), np.nan)
    tps, tpsu = n.copy(), n.copy()
    if run:
        fmts = sorted({serving_format(c) for c in run})
        df = sweep(
            m.id,
            run,
            batch=list(BATCHES),
            input_tokens=context_tokens - output_tokens,
            output_tokens=output_tokens,
            precision=fmts,
            scenario=scenario,
        )
        df = df[df["precision"].astype(str) == df["chip"].astype(str).map(serving_format)]
        ci = df["chip"].astype(str).map({c: i for i, c in enumerate(chips)}).to_numpy()
        bi = df["batch"].map({b: i for i, b in enumerate(BATCHES)}).to_numpy()
        n[ci, bi] = df["n_chips"].to_numpy(float)
        tps[ci, bi] = df["tokens_per_s"].to_numpy(float)
        tpsu[ci, bi] = df["tokens_per_s_per_user"].to_numpy(float)
    hw = np.array([bool(catalog.get_chip(c).hardwired_model) for c in chips])
    price = np.array([catalog.get_chip(c).get("price_usd", 0.0, scenario) for c in chips])
    power = np.array([catalog.get_chip(c).serving_power_w(scenario) for c in chips])
    return _Instances(chips, hw, n, tps, tpsu, price, power, skipped)


def _zoo_axis(v) -> np.ndarray:
    a = np.atleast_1d(np.asarray(v, float))
    if not (a.size and np.all(np.isfinite(a)) and np.all(a >= 1) and np.all(a == np.round(a))):
        raise ValueError(f"zoo_size must be positive integers (models served), got {v!r}")
    return a


def _positive_axis(name: str, v) -> np.ndarray:
    a = np.atleast_1d(np.asarray(v, float))
    if not (a.size and np.all(np.isfinite(a)) and np.all(a > 0)):
        raise ValueError(f"{name} must be positive, finite numbers, got {v!r}")
    return a


def _axes(zoo_size, update_months, tokens_per_day, min_tokens_per_s_per_user) -> list[np.ndarray]:
    return [
        _zoo_axis(zoo_size),
        _positive_axis("update_months", update_months),
        _positive_axis("tokens_per_day", tokens_per_day),
        _positive_axis("min_tokens_per_s_per_user", min_tokens_per_s_per_user),
    ]


def _validate_grid(
    zoo_size, update_months, tokens_per_day, min_tokens_per_s_per_user
) -> list[np.ndarray]:
    """The four regime arrays, validated and broadcast against each other."""
    try:
        return list(
            np.broadcast_arrays(
                *_axes(zoo_size, update_months, tokens_per_day, min_tokens_per_s_per_user)
            )
        )
    except ValueError as exc:
        if "broadcast" in str(exc):
            raise ValueError(
                "zoo_size, update_months, tokens_per_day and min_tokens_per_s_per_user must have "
                "matching lengths (or be single values); use regime_map() for a full grid"
            ) from None
        raise


def _costs(inst: _Instances, zoo_size, update_months, tokens_per_day, target, scenario: str):
    """Cheapest allowed cost per chip for K regimes: ``(cost [K, C], batch index [K, C],
    why [K, C])`` with ``cost = inf`` where a chip cannot serve the regime and ``why`` a code:
    0 serves, 1 runs another model, 2 too slow for the target, 3 update cadence shorter than the
    hard-wiring turnaround."""
    from ..api import assumptions_for

    a = assumptions_for(scenario)
    hwire = hardwiring(scenario)
    N, M, V, L = (
        np.asarray(x, float)[:, None, None]
        for x in (zoo_size, update_months, tokens_per_day, target)
    )
    hw = inst.hardwired[None, :, None]
    demand = np.where(hw, V / N, V) / SECONDS_PER_DAY  # tokens/s per fleet
    tps = np.where(np.isfinite(inst.tokens_per_s), inst.tokens_per_s, 1.0)[None]
    n = np.where(np.isfinite(inst.n_chips), inst.n_chips, 1.0)[None]
    util = np.minimum(a.utilization, demand / tps)
    life = np.where(hw, np.minimum(a.amortization_years, M / 12.0), a.amortization_years)
    cost = economics.usd_per_million_tokens(
        n,
        tps,
        inst.price_usd[None, :, None],
        inst.power_w[None, :, None],
        life,
        util,
        a.pue,
        a.usd_per_kwh,
    )
    nre = np.where(
        hw, 1e6 * hwire.tapeout_usd / (demand * SECONDS_PER_DAY * M * DAYS_PER_MONTH), 0.0
    )
    cost = cost + nre
    exists = np.isfinite(inst.tokens_per_s)[None]
    fast = exists & (np.nan_to_num(inst.tokens_per_s_per_user, nan=0.0)[None] >= L)
    in_time = ~hw | (M >= hwire.turnaround_months)
    ok = fast & in_time
    cost = np.where(ok, cost, np.inf)
    bi = np.argmin(cost, axis=2)
    best = np.take_along_axis(cost, bi[..., None], axis=2)[..., 0]
    K, C = best.shape
    why = np.zeros((K, C), np.int8)
    runs = exists.any(axis=2)  # [1, C]
    why = np.where(~runs, 1, why)
    why = np.where(runs & ~fast.any(axis=2), 2, why)
    why = np.where(runs & fast.any(axis=2) & ~ok.any(axis=2), 3, why)
    return best, bi, why


def _why_text(
    code: int, chip: str, inst: _Instances, ci: int, target: float, months: float, scenario: str
) -> str:
    if code == 1:
        return inst.skipped.get(chip, "cannot run this model")
    if code == 2:
        fastest = float(np.nanmax(inst.tokens_per_s_per_user[ci]))
        return f"at most {fastest:,.0f} tokens/s per user, below the {target:,.0f} target"
    if code == 3:
        return (
            f"updates every {months:g} months, faster than the {hardwiring(scenario).turnaround_months:g}-month "
            f"hard-wiring turnaround"
        )
    return "serves"


def choose(
    model: str,
    zoo_size: int = 1,
    update_months: float = 12,
    tokens_per_day: float = 1e9,
    min_tokens_per_s_per_user: float = 50,
    context_tokens: int = 4096,
    output_tokens: int = 256,
    scenario: str = "base",
    chips: Sequence[str] | None = None,
    include_projected: bool = False,
):
    """Rank the candidate chips for one regime (cheapest first) as a DataFrame.

    Columns: ``chip``, ``kind``, ``serves``, ``usd_per_million_tokens`` (``inf`` where the chip
    cannot serve the regime), ``batch``, ``n_chips`` and ``tokens_per_s_per_user`` of the chosen
    instance, ``reason`` (why a chip cannot serve). ``df.attrs["winner"]`` is the cheapest chip
    or ``"none"``; ``df.attrs["reason"]`` says why when it is ``"none"``.

    Used in chapter 8.
    """
    import pandas as pd

    zoo_size = require_positive_int("zoo_size", zoo_size)
    require_positive("update_months", update_months)
    require_positive("tokens_per_day", tokens_per_day)
    require_positive("min_tokens_per_s_per_user", min_tokens_per_s_per_user)
    context_tokens = require_positive_int("context_tokens", context_tokens)
    output_tokens = require_positive_int("output_tokens", output_tokens)
    ids = candidates(chips, include_projected)
    inst = _instances(model, ids, context_tokens, output_tokens, scenario)
    cost, bi, why = _costs(
        inst,
        *_validate_grid(zoo_size, update_months, tokens_per_day, min_tokens_per_s_per_user),
        scenario,
    )
    rows = []
    for ci, c in enumerate(ids):
        ok = bool(np.isfinite(cost[0, ci]))
        b = int(bi[0, ci])
        rows.append(
            {
                "chip": c,
                "kind": architecture_kind(c),
                "serves": ok,
                "usd_per_million_tokens": float(cost[0, ci]),
                "batch": BATCHES[b] if ok else 0,
                "n_chips": int(inst.n_chips[ci, b]) if ok else 0,
                "tokens_per_s_per_user": float(inst.tokens_per_s_per_user[ci, b]) if ok else 0.0,
                "reason": _why_text(
                    int(why[0, ci]), c, inst, ci, min_tokens_per_s_per_user, update_months, scenario
                ),
            }
        )
    df = (
        pd.DataFrame(rows)
        .sort_values(["serves", "usd_per_million_tokens"], ascending=[False, True], kind="stable")
        .reset_index(drop=True)
    )
    served = df["serves"].any()
    df.attrs["winner"] = str(df.loc[0, "chip"]) if served else NONE
    df.attrs["reason"] = "" if served else _none_reason(inst, min_tokens_per_s_per_user)
    return df


def _none_reason(inst: _Instances, target: float) -> str:
    speeds = np.nan_to_num(inst.tokens_per_s_per_user, nan=0.0).max(axis=1)
    if not speeds.any():
        return "no candidate can run this model"
    ci = int(np.argmax(speeds))
    return (
        f"no candidate reaches {target:,.0f} tokens/s per user (fastest: {inst.chips[ci]} at "
        f"{speeds[ci]:,.0f}) or the hard-wired option is ruled out by the update cadence"
    )


def _cheapest(cost: np.ndarray, mask) -> tuple[np.ndarray, np.ndarray]:
    """Per regime (row of ``cost [K, C]``), the cheapest chip among those ``mask`` selects:
    ``(index, usd)``, index ``C`` (the position of :data:`NONE` after the chip ids) and ``inf``
    where none of them serves."""
    c = np.where(np.asarray(mask, bool)[None, :], cost, np.inf)
    i = np.argmin(c, axis=1)
    usd = c[np.arange(len(c)), i]
    return np.where(np.isfinite(usd), i, cost.shape[1]), usd


def regime_map(
    model: str,
    zoo_size=1,
    update_months=12,
    tokens_per_day=1e9,
    min_tokens_per_s_per_user=50,
    context_tokens=4096,
    output_tokens: int = 256,
    scenario: str = "base",
    chips: Sequence[str] | None = None,
    include_projected: bool = False,
):
    """The winner of every combination of the regime arguments (each a value or a list).

    One row per (context_tokens, zoo_size, update_months, tokens_per_day,
    min_tokens_per_s_per_user) with: ``winner`` (chip id or ``"none"``), ``kind``,
    ``usd_per_million_tokens`` (``inf`` where ``winner == "none"``), ``runner_up`` and
    ``runner_up_usd_per_million_tokens`` (``"none"``/``inf`` if there is none), ``best_gpu`` and
    ``best_gpu_usd_per_million_tokens`` (the cheapest GPU that serves the regime, ``"none"``/``inf``
    if no GPU can), ``served`` and ``contested``.

    ``contested`` is True where the winner is not settled by the data: reading every estimated
    number at its optimistic bound for some other chip and at its pessimistic bound for the
    winner would make the other chip cheaper (or able to serve, or the winner unable to).
    Evaluation is vectorised over the grid; the cost formula is in the module docstring.

    Used in chapter 8.
    """
    import pandas as pd

    if scenario not in hardwired.SCENARIO_BOUND:
        raise ValueError(
            f"scenario must be one of {', '.join(hardwired.SCENARIO_BOUND)}, got {scenario!r}"
        )
    output_tokens = require_positive_int("output_tokens", output_tokens)
    ids = candidates(chips, include_projected)
    ctxs = [
        require_positive_int("context_tokens", c) for c in np.atleast_1d(context_tokens).tolist()
    ]
    axes = _axes(zoo_size, update_months, tokens_per_day, min_tokens_per_s_per_user)
    grid = [g.ravel() for g in np.meshgrid(*axes, indexing="ij")]
    kinds = np.array([architecture_kind(c) for c in ids], dtype=object)
    gpu = kinds == "GPU"
    names = np.array(ids + [NONE], dtype=object)
    frames = []
    for ctx in ctxs:
        cost = {
            s: _costs(_instances(model, ids, ctx, output_tokens, s), *grid, s)[0]
            for s in dict.fromkeys([scenario, "optimistic", "pessimistic"])
        }
        c = cost[scenario]
        order = np.argsort(c, axis=1, kind="stable")
        first, second = order[:, 0], order[:, 1] if len(ids) > 1 else order[:, 0]
        rows = np.arange(len(c))
        best, runner = c[rows, first], c[rows, second] if len(ids) > 1 else np.full(len(c), np.inf)
        served = np.isfinite(best)
        win = np.where(served, first, len(ids))
        run_i = np.where(np.isfinite(runner), second, len(ids))
        g_i, g_best = _cheapest(c, gpu)
        # contested: some other chip's optimistic cost beats the winner's pessimistic cost
        opt, pess = cost["optimistic"], cost["pessimistic"]
        w_pess = np.where(served, pess[rows, first], np.inf)
        others = opt.copy()
        others[rows, first] = np.inf
        contested = np.where(served, others.min(axis=1) < w_pess, np.isfinite(opt).any(axis=1))
        frames.append(
            pd.DataFrame(
                {
                    "context_tokens": ctx,
                    "zoo_size": grid[0].astype(np.int64),
                    "update_months": grid[1],
                    "tokens_per_day": grid[2],
                    "min_tokens_per_s_per_user": grid[3],
                    "scenario": scenario,
                    "winner": names[win],
                    "kind": np.where(served, kinds[first], NONE),
                    "usd_per_million_tokens": best,
                    "runner_up": names[run_i],
                    "runner_up_usd_per_million_tokens": np.where(
                        np.isfinite(runner), runner, np.inf
                    ),
                    "best_gpu": names[g_i],
                    "best_gpu_usd_per_million_tokens": g_best,
                    "served": served,
                    "contested": contested,
                }
            )
        )
    return pd.concat(frames, ignore_index=True)


def chip_cost_curves(
    model: str,
    zoo_size=1,
    update_months=12,
    tokens_per_day=1e9,
    min_tokens_per_s_per_user=50,
    context_tokens: int = 4096,
    output_tokens: int = 256,
    chips: Sequence[str] | None = None,
    include_projected: bool = False,
):
    """Every candidate's cost per million tokens over a grid of regimes, with its range.

    The regime arguments are values or lists; every combination is evaluated. Long DataFrame:
    one row per (chip, regime) that the chip can serve in the base scenario,
    with ``usd_per_million_tokens`` (base), ``usd_per_million_tokens_low`` (optimistic) and
    ``_high`` (pessimistic; ``inf`` where the chip could not serve under pessimistic inputs, so
    callers should clip it before drawing). Chips that cannot serve a regime are left out and
    listed in ``df.attrs["unserved"]`` as ``{chip: count}``.

    Used in chapter 8.
    """
    import pandas as pd

    output_tokens = require_positive_int("output_tokens", output_tokens)
    context_tokens = require_positive_int("context_tokens", context_tokens)
    ids = candidates(chips, include_projected)
    axes = _axes(zoo_size, update_months, tokens_per_day, min_tokens_per_s_per_user)
    grid = [g.ravel() for g in np.meshgrid(*axes, indexing="ij")]
    res = {}
    for s in ("base", "optimistic", "pessimistic"):
        inst = _instances(model, ids, context_tokens, output_tokens, s)
        res[s] = _costs(inst, *grid, s)
    base_inst = _instances(model, ids, context_tokens, output_tokens, "base")
    K = len(grid[0])
    frames, unserved = [], {}
    for ci, chip in enumerate(ids):
        c = res["base"][0][:, ci]
        ok = np.isfinite(c)
        if (~ok).any():
            unserved[chip] = int((~ok).sum())
        if not ok.any():
            continue
        b = res["base"][1][:, ci]
        low = np.minimum(res["optimistic"][0][:, ci], c)
        high = np.maximum(res["pessimistic"][0][:, ci], c)
        frames.append(
            pd.DataFrame(
                {
                    "chip": chip,
                    "kind": architecture_kind(chip),
                    "zoo_size": grid[0].astype(np.int64),
                    "update_months": grid[1],
                    "tokens_per_day": grid[2],
                    "min_tokens_per_s_per_user": grid[3],
                    "context_tokens": context_tokens,
                    "batch": np.array(BATCHES)[b],
                    "n_chips": base_inst.n_chips[ci, b],
                    "usd_per_million_tokens": c,
                    "usd_per_million_tokens_low": low,
                    "usd_per_million_tokens_high": high,
                }
            ).iloc[np.flatnonzero(ok)]
        )
    if not frames:
        raise ValueError(f"no candidate can serve any of these {K} regimes")
    df = pd.concat(frames, ignore_index=True)
    df.attrs["unserved"] = unserved
    return df


def break_even(
    model: str,
    tokens_per_day,
    scenarios: Sequence[str] = ("optimistic", "base"),
    zoo_size: int = 1,
    update_months: float = 12,
    min_tokens_per_s_per_user: float = 50,
    context_tokens: int = 4096,
    output_tokens: int = 256,
    chips: Sequence[str] | None = None,
):
    """Hard-wired against programmable silicon over daily volumes: for each scenario and each
    of ``tokens_per_day``, the cheapest hard-wired chip that runs ``model`` and the cheapest
    programmable chip that serves the regime (costs as in :func:`choose`, all volumes in one
    vectorised evaluation per scenario).

    Columns: ``scenario``, ``tokens_per_day``, ``winner`` (the cheapest of all, ``"none"`` if
    nothing serves), ``hard_wired`` and ``hard_wired_usd``, ``programmable`` and
    ``programmable_usd`` (``"none"`` / ``inf`` where no such chip serves).
    ``df.attrs["break_even"]`` is ``{scenario: smallest volume at which the hard-wired chip is
    the cheaper one}`` (NaN where it never is).

    Used in chapter 8.
    """
    import pandas as pd

    output_tokens = require_positive_int("output_tokens", output_tokens)
    context_tokens = require_positive_int("context_tokens", context_tokens)
    V = _positive_axis("tokens_per_day", tokens_per_day)
    ids = candidates(chips)
    hw = np.array([architecture_kind(c) == "hard-wired" for c in ids])
    m_id = catalog.get_model(model).id
    if not any(catalog.get_chip(c).hardwired_model == m_id for c in np.array(ids)[hw]):
        raise ValueError(
            f"no hard-wired candidate runs {m_id}: there is nothing to break even with"
        )
    names = np.array(ids + [NONE], dtype=object)
    grid = _validate_grid(zoo_size, update_months, V, min_tokens_per_s_per_user)
    frames, at = [], {}
    for s in require_list("scenarios", scenarios):
        cost = _costs(_instances(m_id, ids, context_tokens, output_tokens, s), *grid, s)[0]
        (hi, h_usd), (pi, p_usd) = _cheapest(cost, hw), _cheapest(cost, ~hw)
        cheaper = h_usd < p_usd
        at[s] = float(V[cheaper].min()) if cheaper.any() else float("nan")
        frames.append(
            pd.DataFrame(
                {
                    "scenario": s,
                    "tokens_per_day": V,
                    "winner": names[_cheapest(cost, np.ones(len(ids), bool))[0]],
                    "hard_wired": names[hi],
                    "hard_wired_usd": h_usd,
                    "programmable": names[pi],
                    "programmable_usd": p_usd,
                }
            )
        )
    df = pd.concat(frames, ignore_index=True)
    df.attrs["break_even"] = at
    return df


__all__ = [
    "BATCHES",
    "CANDIDATES",
    "FORMAT_PREFERENCE",
    "HardWiring",
    "NONE",
    "architecture_kind",
    "break_even",
    "candidates",
    "chip_cost_curves",
    "choose",
    "hardwiring",
    "regime_inputs",
    "regime_map",
    "serving_format",
]
