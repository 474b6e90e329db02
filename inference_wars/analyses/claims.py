"""Reading a tokens-per-second claim: the many numbers one system can quote, and published
headline claims reproduced by the package.

One configuration of one system has several honest "tokens per second" (:func:`readings`):

    per user (decode)        1 / TPOT                                  what one stream sees
    aggregate (output)       tokens_per_s                              all concurrent streams
    aggregate (in + out)     tokens_per_s * (I + O) / O                counts prompt tokens too
    per chip (output)        tokens_per_s / n_chips
    prefill (one prompt)     I / TTFT                                  prompt tokens read per second

and each moves with batch (concurrency) and context by orders of magnitude.

:func:`claims` loads ``data/claims.csv`` (validated; every row sourced). :func:`reproduce`
evaluates each claim's system at batch 1 (the best case for per-user speed) under the
pessimistic, base and optimistic readings of the catalog and says whether the claim is inside
that range, then which configuration it implies:

* ``max_batch``: the largest batch (concurrent users) at which the base model still reaches
  the claimed per-user speed, and the aggregate throughput there;
* ``max_context``: the longest context at batch 1 that still reaches it;
* ``us_per_layer``: the time per layer the claim leaves, ``1e6 / (claimed * n_layers)``
  microseconds (what a layer-latency floor would have to beat);
* ``required_tb_s``: bytes one decode step moves times the claimed rate, a physics floor,
  against ``peak_tb_s``, the summed bandwidth of the tiers that hold weights and KV on the
  chips used.
"""

from __future__ import annotations

from collections.abc import Sequence

from .. import catalog

# the claims tables are data (catalog layer); re-exported here, where they are evaluated
from ..catalog.claims import CLAIMS_CSV as CLAIMS_CSV
from ..catalog.claims import LEDGER_CSV as LEDGER_CSV
from ..catalog.claims import ClaimRow as ClaimRow
from ..catalog.claims import LedgerCheck as LedgerCheck
from ..catalog.claims import LedgerRow as LedgerRow
from ..catalog.claims import _claims as _claims
from ..catalog.claims import _ledger as _ledger
from ..catalog.claims import claim_ids as claim_ids
from ..catalog.claims import get_claim as get_claim
from ..catalog.claims import ledger_row as ledger_row
from ..engine import workload
from ..engine.deployment import batch_grid
from ..engine.formats import bits_per_weight, default_kv_format
from ..errors import require_positive, require_positive_int

#: Batch sizes and contexts searched for the configuration a claim implies.
BATCH_GRID = batch_grid(1024)
CONTEXT_GRID = (512, 1024, 2048, 4096, 8192, 16384, 32768, 65536, 131072)

READINGS = (
    "per user (decode)",
    "aggregate (output)",
    "aggregate (input + output)",
    "per chip (output)",
    "prefill (one prompt)",
)

VERDICTS = {
    "consistent": "inside the range the hardware model allows",
    "beyond": "faster than even the optimistic model: needs something the model leaves out",
    "conservative": "slower than even the pessimistic model: the hardware could do more",
}


def claims():
    """The published claims as a DataFrame (one row per claim, with source and date).

    Used in chapter 7.
    """
    import pandas as pd

    return pd.DataFrame.from_records([r.model_dump() for r in _claims().values()])


# --------------------------------------------------------------------------- readings


def _with_readings(df):
    """Add one column per :data:`READINGS` entry to a :func:`sweep` frame."""
    io = (df["input_tokens"] + df["output_tokens"]) / df["output_tokens"]
    df = df.assign(
        **{
            "per user (decode)": df["tokens_per_s_per_user"],
            "aggregate (output)": df["tokens_per_s"],
            "aggregate (input + output)": df["tokens_per_s"] * io,
            "per chip (output)": df["tokens_per_s_per_chip"],
            "prefill (one prompt)": df["input_tokens"] / df["ttft_s"],
        }
    )
    return df


def readings_grid(
    model: str,
    chip: str,
    batch: Sequence[int] = BATCH_GRID,
    context: Sequence[int] = (2048, 8192, 32768),
    output_tokens: int = 256,
    precision: str | None = None,
    n_chips: int | None = None,
    scenario: str = "base",
):
    """Every :data:`READINGS` value of one system over a grid of batch sizes and contexts, as a
    long table (``reading``, ``tokens_per_s``). ``context`` is input + output tokens. With a
    fixed ``n_chips``, configurations whose KV cache does not fit are left out
    (``df.attrs["unfit"]`` counts them).

    Used in chapter 7.
    """
    from ..api import sweep

    out_t = require_positive_int("output_tokens", output_tokens)
    ctx = [require_positive_int("context", c) for c in context]
    if min(ctx) <= out_t:
        raise ValueError(f"every context must exceed output_tokens ({out_t}); got {min(ctx)}")
    df = sweep(
        model,
        chip,
        batch=list(batch),
        input_tokens=[c - out_t for c in ctx],
        output_tokens=out_t,
        precision=precision,
        n_chips=n_chips,
        scenario=scenario,
    )
    if df.empty:
        raise ValueError(
            f"no configuration of {model} on {n_chips or 'the fewest'} x {chip} fits; use more chips"
        )
    df = _with_readings(df)
    df["context"] = df["input_tokens"] + df["output_tokens"]
    ids = ["model", "chip", "precision", "n_chips", "batch", "context", "bound"]
    long = df[ids + list(READINGS)].melt(
        id_vars=ids, value_vars=list(READINGS), var_name="reading", value_name="tokens_per_s"
    )
    long.attrs["unfit"] = df.attrs.get("unfit", 0)
    return long


def readings(
    model: str,
    chip: str,
    batch: int = 1,
    input_tokens: int = 1024,
    output_tokens: int = 256,
    precision: str | None = None,
    n_chips: int | None = None,
    scenario: str = "base",
) -> dict[str, float]:
    """The :data:`READINGS` of one configuration, as ``{reading: tokens per second}``.

    Used in chapter 7.
    """
    from ..api import estimate

    e = estimate(
        model,
        chip,
        n_chips=n_chips,
        batch=batch,
        input_tokens=input_tokens,
        output_tokens=output_tokens,
        precision=precision,
        scenario=scenario,
    )
    if not e.fits:
        raise ValueError(e.reason)
    io = (input_tokens + output_tokens) / output_tokens
    return {
        "per user (decode)": e.tokens_per_s_per_user,
        "aggregate (output)": e.tokens_per_s,
        "aggregate (input + output)": e.tokens_per_s * io,
        "per chip (output)": e.tokens_per_s_per_chip,
        "prefill (one prompt)": input_tokens / e.ttft_s,
    }


def matching_configurations(
    value: float, model: str, chip: str, tolerance: float = 0.25, **grid_kwargs
):
    """Rows of :func:`readings_grid` whose tokens/s is within ``tolerance`` (a fraction) of
    ``value``: the configurations under which a system could truthfully quote that number.

    Used in chapter 7.
    """
    v = require_positive("value", value)
    if not 0 < tolerance < 1:
        raise ValueError(f"tolerance must be a fraction in (0, 1), got {tolerance!r}")
    g = readings_grid(model, chip, **grid_kwargs)
    hit = (g["tokens_per_s"] >= v * (1 - tolerance)) & (g["tokens_per_s"] <= v * (1 + tolerance))
    return g[hit].reset_index(drop=True)


# --------------------------------------------------------------------------- reproduction


def verdict(claimed: float, pessimistic: float, optimistic: float) -> str:
    """``beyond`` if the claim exceeds the optimistic prediction, ``conservative`` if it is below
    the pessimistic one, else ``consistent``.

    No chapter calls it directly; :func:`cost_vs_price`, :func:`reproduce_claim` use it.
    """
    lo, hi = min(pessimistic, optimistic), max(pessimistic, optimistic)
    if claimed > hi:
        return "beyond"
    if claimed < lo:
        return "conservative"
    return "consistent"


def _peak_tb_s(chip: catalog.Chip) -> float:
    """Summed bandwidth of the tiers that hold weights or KV on one chip (TB/s)."""
    total = chip.get("rom_tb_s") + chip.get("hbm_tb_s")
    if chip.sram_role == "storage":
        total += chip.get("sram_tb_s")
    return total


def reproduce_claim(claim: str | ClaimRow) -> dict:
    """Reproduce one claim (see the module doc): a claim id, or a :class:`ClaimRow` built by hand
    (e.g. the same claim with another stand-in model). Returns a flat dict.

    Used in chapters 4 and 7.
    """
    from ..api import estimate, sweep

    r = claim if isinstance(claim, ClaimRow) else get_claim(claim)
    if r.metric != "tokens_per_s_per_user":
        raise ValueError(
            f"claim {r.id}: only per-user claims are reproduced so far, got {r.metric}"
        )
    c = catalog.get_chip(r.chip)
    kw = dict(input_tokens=r.input_tokens, output_tokens=r.output_tokens, precision=r.precision)
    pred = {s: estimate(r.model, r.chip, batch=1, scenario=s, **kw) for s in catalog.SCENARIOS}
    base = pred["base"]

    by_batch = sweep(r.model, r.chip, batch=list(BATCH_GRID), **kw)
    ok = by_batch[by_batch["tokens_per_s_per_user"] >= r.value]
    best = ok.loc[ok["batch"].idxmax()] if len(ok) else None

    m_max = int(workload.model_arrays([r.model]).max_context[0])
    ctx = [x for x in CONTEXT_GRID if r.output_tokens < x <= m_max]
    by_ctx = sweep(
        r.model,
        r.chip,
        batch=1,
        input_tokens=[x - r.output_tokens for x in ctx],
        output_tokens=r.output_tokens,
        precision=r.precision,
    )
    ok_ctx = by_ctx[by_ctx["tokens_per_s_per_user"] >= r.value]

    m = workload.model_arrays([r.model])
    wbits = bits_per_weight(r.precision)
    kbits = bits_per_weight(default_kv_format(r.precision))
    mean_ctx = r.input_tokens + r.output_tokens / 2
    _, step = workload.decode_step(m, 1, mean_ctx, wbits, kbits)
    required = float(step[0]) * r.value / 1e12
    peak = base.n_chips * _peak_tb_s(c)

    lo, hi = pred["pessimistic"].tokens_per_s_per_user, pred["optimistic"].tokens_per_s_per_user
    v = verdict(r.value, lo, hi)
    return {
        "claim": r.id,
        "system": r.system,
        "chip": r.chip,
        "model": r.model,
        "model_match": r.model_match,
        "precision": r.precision,
        "claimed": r.value,
        "claimed_low": r.low,
        "claimed_high": r.high,
        "status": r.status,
        "source": r.source,
        "date": r.date,
        "predicted": base.tokens_per_s_per_user,
        "predicted_low": min(lo, hi),
        "predicted_high": max(lo, hi),
        "ratio": r.value / base.tokens_per_s_per_user,
        "verdict": v,
        "verdict_text": VERDICTS[v],
        "n_chips": base.n_chips,
        "bound": base.bound,
        "max_batch": int(best["batch"]) if best is not None else 0,
        "aggregate_at_max_batch": float(best["tokens_per_s"]) if best is not None else 0.0,
        "n_chips_at_max_batch": int(best["n_chips"]) if best is not None else 0,
        "max_context": int(ok_ctx["input_tokens"].max() + r.output_tokens) if len(ok_ctx) else 0,
        "us_per_layer": 1e6 / (r.value * float(m.n_layers[0])),
        "required_tb_s": required,
        "peak_tb_s": peak,
        "bandwidth_used": required / peak if peak > 0 else float("inf"),
    }


def layer_floor(chip: str) -> dict:
    """The per-layer time floor fitted for a dataflow chip (``layer_floor_us`` in the shipped
    calibration): ``value``, ``low``, ``high`` (microseconds; the range leaves each source family
    out in turn) and ``n_points`` (measured results it is fitted to). The one place chapters read
    this quantity from, so that every chapter quotes the same number.

    Used in chapters 6 and 7.
    """
    chip_id = catalog.get_chip(chip).id
    from ..engine import factors

    for r in factors.fitted_rows():
        if r["scope"] == chip_id and r["key"] == "layer_floor_us":
            return {
                "value": r["value"],
                "low": r["low"],
                "high": r["high"],
                "n_points": int(float(r["n_points"])),
            }
    raise ValueError(f"no fitted per-layer floor for {chip_id}")


def reproduce(ids: Sequence[str] | None = None):
    """:func:`reproduce_claim` for every claim (or the given ids), one row each.

    Used in chapter 7.
    """
    import pandas as pd

    ids = claim_ids() if ids is None else list(ids)
    return pd.DataFrame([reproduce_claim(i) for i in ids])


# --------------------------------------------------------------------------- the ledger of the source article

LEDGER_VERDICTS = {
    "reproduced": "the package's number agrees with the claim (within 10%, or inside the model's range)",
    "qualified": (
        "true only under a reading the claim does not state (sparse peak, favourable estimates, "
        "a denser chip, a stand-in model)"
    ),
    "refuted": "outside what the package allows under every reading of its estimates",
    "stated": "not testable by the model (a funding amount, a deal, a schedule, a number the catalog does not hold)",
}

#: Relative distance within which a model number "agrees" with a claimed spec.
SPEC_TOLERANCE = 0.10
#: "Up to N x" ratio claims are reproduced when the model reaches N / (1 + this).
RATIO_TOLERANCE = 0.25
#: Speed-per-user targets (tokens/s) over which cost-ratio claims are read.
RATIO_TARGETS = (20.0, 600.0, 15)


def _result(value, low, high, verdict_: str, basis: str) -> dict:
    return {
        "model_value": float(value),
        "model_low": float(min(low, high)),
        "model_high": float(max(low, high)),
        "verdict": verdict_,
        "basis": basis,
    }


def _near(claimed: float, value: float, tol: float = SPEC_TOLERANCE) -> bool:
    return abs(claimed - value) <= tol * abs(value)


def _check_spec(r: LedgerRow, chip: str, quantity: str, scale: str = "1") -> dict:
    s = catalog.get_chip(chip).specs[quantity]
    k = float(scale)
    v, lo, hi = s.value * k, s.low * k, s.high * k
    c = r.claimed
    if _near(c, v):
        return _result(v, lo, hi, "reproduced", f"catalog {quantity} of {chip} ({s.status})")
    if lo <= c <= hi:
        return _result(
            v,
            lo,
            hi,
            "qualified",
            f"inside the catalog's range for {quantity} of {chip}, not its base value",
        )
    if quantity.startswith("peak_") and lo <= c / 2 <= hi:
        return _result(
            v,
            lo,
            hi,
            "qualified",
            "a sparse peak: half the claim is inside the catalog's dense range",
        )
    return _result(v, lo, hi, "refuted", f"outside the catalog's range for {quantity} of {chip}")


def _check_speed(r: LedgerRow, claim: str, value: str | None = None) -> dict:
    row = get_claim(claim)
    if value is not None:
        x = float(value)
        row = row.model_copy(update={"value": x, "low": min(row.low, x), "high": max(row.high, x)})
    res = reproduce_claim(row)
    exact = row.model_match == "exact"
    v = {
        "consistent": "reproduced" if exact else "qualified",
        "conservative": "reproduced" if exact else "qualified",
        "beyond": "refuted",
    }[res["verdict"]]
    basis = f"{res['verdict']} with the batch-1 estimate of {row.model} on {row.chip}"
    return _result(res["predicted"], res["predicted_low"], res["predicted_high"], v, basis)


def cost_ratio_reading(ratios, claimed: float) -> dict:
    """How a :func:`~inference_wars.analyses.frontier.cost_ratio` frame reads an "up to ``claimed``
    x" claim, over the speed targets both systems reach: the best ratio ``best``, the best of each
    end of its range (``low``, ``high``), the fastest such target ``edge``, how many there are
    (``targets``), and the ``verdict``: reproduced from ``claimed / (1 + RATIO_TOLERANCE)``,
    qualified when only the favourable end gets there, else refuted. Raises ``ValueError`` when
    no target is reached by both.

    Used in chapter 3 and the claims appendix (and by :func:`check_ledger_row`)."""
    both = ratios[ratios["reachable_baseline"] & ratios["reachable_chip"]]
    if both.empty:
        raise ValueError("no speed target both systems reach")
    best, low, high = both["ratio"].max(), both["ratio_low"].max(), both["ratio_high"].max()
    need = claimed / (1 + RATIO_TOLERANCE)
    verdict_ = "reproduced" if best >= need else "qualified" if high >= need else "refuted"
    return {
        "best": best,
        "low": low,
        "high": high,
        "edge": float(both["target"].max()),
        "targets": len(both),
        "verdict": verdict_,
    }


def _check_cost_ratio(
    r: LedgerRow,
    model: str,
    baseline: str,
    chip: str,
    precision: str,
    input_tokens: str,
    output_tokens: str,
) -> dict:
    from . import frontier

    t = frontier.interactivity_targets(*RATIO_TARGETS)
    df = frontier.cost_ratio(
        model,
        baseline,
        chip,
        t,
        input_tokens=int(input_tokens),
        output_tokens=int(output_tokens),
        precision=precision,
    )
    try:
        read = cost_ratio_reading(df, r.claimed)
    except ValueError as e:
        raise ValueError(f"ledger claim {r.id}: {e} ({baseline} and {chip})") from None
    where = (
        f"best {baseline} / {chip} cost ratio over {read['targets']} speed targets, {model} "
        f"{precision}"
    )
    why = {
        "reproduced": "",
        "qualified": ": reached only with favourable estimates",
        "refuted": ": not reached even with favourable estimates",
    }[read["verdict"]]
    return _result(read["best"], read["low"], read["high"], read["verdict"], where + why)


def _check_fleet_power(r: LedgerRow, chip: str, n_chips: str) -> dict:
    s = catalog.get_chip(chip).specs["power_w"]
    n = float(n_chips)
    gw = [
        n * p * catalog.assumption("pue", w) / 1e9
        for p, w in ((s.value, "base"), (s.low, "low"), (s.high, "high"))
    ]
    v, lo, hi = gw
    basis = f"{n:,.0f} x {chip} power x PUE"
    if lo >= r.claimed:
        return _result(v, lo, hi, "reproduced", basis + ": over the claim even at the low bounds")
    if hi >= r.claimed:
        return _result(v, lo, hi, "qualified", basis + ": over the claim only at some bounds")
    return _result(v, lo, hi, "refuted", basis + ": under the claim even at the high bounds")


def _check_assumption(r: LedgerRow, key: str) -> dict:
    from . import hardwired

    v, lo, hi = (hardwired.cost_assumption(key, w) for w in ("base", "low", "high"))
    if _near(r.claimed, v):
        return _result(v, lo, hi, "reproduced", f"hardwired cost assumption {key}")
    verdict_ = "qualified" if lo <= r.claimed <= hi else "refuted"
    return _result(v, lo, hi, verdict_, f"hardwired cost assumption {key}")


def _check_format_bits(r: LedgerRow, format: str, min: str, max: str) -> dict:  # noqa: A002
    f = catalog.get_format(format)
    lo_f, hi_f = (
        (f.low if f.low is not None else f.bits_per_weight),
        (f.high if f.high is not None else f.bits_per_weight),
    )
    ok = float(min) <= lo_f and hi_f <= float(max) and float(min) <= f.bits_per_weight <= float(max)
    return _result(
        f.bits_per_weight,
        lo_f,
        hi_f,
        "reproduced" if ok else "refuted",
        f"average bits per weight of {format} between {min} and {max}",
    )


def _check_hardwired_chips(r: LedgerRow, model: str) -> dict:
    from . import hardwired

    n = float(hardwired.scaling_table([model])["chips"].iloc[0])
    basis = f"dies for {model} at the density of HC1"
    if _near(r.claimed, n, RATIO_TOLERANCE):
        return _result(n, n, n, "reproduced", basis)
    if r.claimed < n:
        return _result(
            n, n, n, "qualified", basis + ": the claimed count needs a denser die than HC1"
        )
    return _result(n, n, n, "refuted", basis + ": fewer dies than claimed would do")


_CHECKS = {
    "spec": _check_spec,
    "speed": _check_speed,
    "cost_ratio": _check_cost_ratio,
    "fleet_power": _check_fleet_power,
    "assumption": _check_assumption,
    "format_bits": _check_format_bits,
    "hardwired_chips": _check_hardwired_chips,
}


def check_ledger_row(claim: str | LedgerRow) -> dict:
    """The verdict of one ledger claim, computed now from the package: ``model_value``,
    ``model_low``, ``model_high`` (NaN when not testable), ``verdict`` (a key of
    :data:`LEDGER_VERDICTS`) and ``basis`` (what was compared).

    Used in chapters 3, 4, 5 and 6 and the claims appendix.
    """
    r = claim if isinstance(claim, LedgerRow) else ledger_row(claim)
    if not r.check:
        nan = float("nan")
        return {
            "model_value": nan,
            "model_low": nan,
            "model_high": nan,
            "verdict": "stated",
            "basis": "not testable by the model",
        }
    return _CHECKS[r.check](r, **r.arguments())


def ledger():
    """Every quantitative claim of the source article with its verdict recomputed from the
    package (one row per claim: the CSV's columns plus those of :func:`check_ledger_row`).

    Used in the claims appendix.
    """
    import pandas as pd

    rows = [r.model_dump() | check_ledger_row(r) for r in _ledger().values()]
    return pd.DataFrame(rows)


def verdict_counts(frame=None) -> dict[str, int]:
    """``{verdict: number of claims}`` for every verdict in :data:`LEDGER_VERDICTS` (zeros kept).

    Used in the claims appendix.
    """
    df = ledger() if frame is None else frame
    counts = df["verdict"].value_counts()
    return {v: int(counts.get(v, 0)) for v in LEDGER_VERDICTS}
