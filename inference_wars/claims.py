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

import functools
from collections.abc import Sequence
from typing import Literal

from pydantic import BaseModel, ConfigDict, field_validator, model_validator

from . import catalog, workload
from .errors import UnknownNameError, require_positive, require_positive_int
from .formats import bits_per_weight, default_kv_format

CLAIMS_CSV = catalog.DATA_DIR / "claims.csv"

#: Batch sizes and contexts searched for the configuration a claim implies.
BATCH_GRID = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024)
CONTEXT_GRID = (512, 1024, 2048, 4096, 8192, 16384, 32768, 65536, 131072)

READINGS = ("per user (decode)", "aggregate (output)", "aggregate (input + output)", "per chip (output)",
            "prefill (one prompt)")

VERDICTS = {
    "consistent": "inside the range the hardware model allows",
    "beyond": "faster than even the optimistic model: needs something the model leaves out",
    "conservative": "slower than even the pessimistic model: the hardware could do more",
}


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
        return catalog.get_chip(v).id

    @field_validator("model")
    @classmethod
    def _model(cls, v: str) -> str:
        return catalog.get_model(v).id

    @field_validator("precision")
    @classmethod
    def _precision(cls, v: str) -> str:
        return catalog.get_format(v).id

    @field_validator("source")
    @classmethod
    def _source(cls, v: str) -> str:
        if v not in catalog.bib_keys():
            raise ValueError(f"source {v!r} is not in data/references/*.bib")
        return v

    @model_validator(mode="after")
    def _checks(self):
        if not (0 < self.low <= self.value <= self.high):
            raise ValueError(f"need 0 < low <= value <= high, got {self.low} / {self.value} / {self.high}")
        if self.input_tokens <= 0 or self.output_tokens <= 0:
            raise ValueError("input_tokens and output_tokens must be positive")
        return self


@functools.cache
def _claims() -> dict[str, ClaimRow]:
    rows = catalog._read_rows(CLAIMS_CSV, ClaimRow)
    out: dict[str, ClaimRow] = {}
    for line_no, r in enumerate(rows, start=2):
        if r.id in out:
            raise catalog.CatalogError(f"{CLAIMS_CSV.name}:{line_no}: duplicate id {r.id}")
        out[r.id] = r
    return out


def claim_ids() -> list[str]:
    return list(_claims())


def get_claim(claim_id: str) -> ClaimRow:
    table = _claims()
    if claim_id not in table:
        raise UnknownNameError("claim", claim_id, table)
    return table[claim_id]


def claims():
    """The published claims as a DataFrame (one row per claim, with source and date)."""
    import pandas as pd

    return pd.DataFrame.from_records([r.model_dump() for r in _claims().values()])


# --------------------------------------------------------------------------- readings

def _with_readings(df):
    """Add one column per :data:`READINGS` entry to a :func:`sweep` frame."""
    io = (df["input_tokens"] + df["output_tokens"]) / df["output_tokens"]
    df = df.assign(**{
        "per user (decode)": df["tokens_per_s_per_user"],
        "aggregate (output)": df["tokens_per_s"],
        "aggregate (input + output)": df["tokens_per_s"] * io,
        "per chip (output)": df["tokens_per_s_per_chip"],
        "prefill (one prompt)": df["input_tokens"] / df["ttft_s"],
    })
    return df


def readings_grid(model: str, chip: str, batch: Sequence[int] = BATCH_GRID, context: Sequence[int] = (2048, 8192, 32768),
                  output_tokens: int = 256, precision: str | None = None, n_chips: int | None = None,
                  scenario: str = "base"):
    """Every :data:`READINGS` value of one system over a grid of batch sizes and contexts, as a
    long table (``reading``, ``tokens_per_s``). ``context`` is input + output tokens. With a
    fixed ``n_chips``, configurations whose KV cache does not fit are left out
    (``df.attrs["unfit"]`` counts them)."""
    from .api import sweep

    out_t = require_positive_int("output_tokens", output_tokens)
    ctx = [require_positive_int("context", c) for c in context]
    if min(ctx) <= out_t:
        raise ValueError(f"every context must exceed output_tokens ({out_t}); got {min(ctx)}")
    df = sweep(model, chip, batch=list(batch), input_tokens=[c - out_t for c in ctx], output_tokens=out_t,
               precision=precision, n_chips=n_chips, scenario=scenario)
    if df.empty:
        raise ValueError(f"no configuration of {model} on {n_chips or 'the fewest'} x {chip} fits; use more chips")
    df = _with_readings(df)
    df["context"] = df["input_tokens"] + df["output_tokens"]
    ids = ["model", "chip", "precision", "n_chips", "batch", "context", "bound"]
    long = df[ids + list(READINGS)].melt(id_vars=ids, value_vars=list(READINGS), var_name="reading",
                                         value_name="tokens_per_s")
    long.attrs["unfit"] = df.attrs.get("unfit", 0)
    return long


def readings(model: str, chip: str, batch: int = 1, input_tokens: int = 1024, output_tokens: int = 256,
             precision: str | None = None, n_chips: int | None = None, scenario: str = "base") -> dict[str, float]:
    """The :data:`READINGS` of one configuration, as ``{reading: tokens per second}``."""
    from .api import estimate

    e = estimate(model, chip, n_chips=n_chips, batch=batch, input_tokens=input_tokens, output_tokens=output_tokens,
                 precision=precision, scenario=scenario)
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


def matching_configurations(value: float, model: str, chip: str, tolerance: float = 0.25, **grid_kwargs):
    """Rows of :func:`readings_grid` whose tokens/s is within ``tolerance`` (a fraction) of
    ``value``: the configurations under which a system could truthfully quote that number."""
    v = require_positive("value", value)
    if not 0 < tolerance < 1:
        raise ValueError(f"tolerance must be a fraction in (0, 1), got {tolerance!r}")
    g = readings_grid(model, chip, **grid_kwargs)
    hit = (g["tokens_per_s"] >= v * (1 - tolerance)) & (g["tokens_per_s"] <= v * (1 + tolerance))
    return g[hit].reset_index(drop=True)


# --------------------------------------------------------------------------- reproduction

def verdict(claimed: float, pessimistic: float, optimistic: float) -> str:
    """``beyond`` if the claim exceeds the optimistic prediction, ``conservative`` if it is below
    the pessimistic one, else ``consistent``."""
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
    (e.g. the same claim with another stand-in model). Returns a flat dict."""
    from .api import estimate, sweep

    r = claim if isinstance(claim, ClaimRow) else get_claim(claim)
    if r.metric != "tokens_per_s_per_user":
        raise ValueError(f"claim {r.id}: only per-user claims are reproduced so far, got {r.metric}")
    c = catalog.get_chip(r.chip)
    kw = dict(input_tokens=r.input_tokens, output_tokens=r.output_tokens, precision=r.precision)
    pred = {s: estimate(r.model, r.chip, batch=1, scenario=s, **kw) for s in catalog.SCENARIOS}
    base = pred["base"]

    by_batch = sweep(r.model, r.chip, batch=list(BATCH_GRID), **kw)
    ok = by_batch[by_batch["tokens_per_s_per_user"] >= r.value]
    best = ok.loc[ok["batch"].idxmax()] if len(ok) else None

    m_max = int(workload.model_arrays([r.model]).max_context[0])
    ctx = [x for x in CONTEXT_GRID if r.output_tokens < x <= m_max]
    by_ctx = sweep(r.model, r.chip, batch=1, input_tokens=[x - r.output_tokens for x in ctx],
                   output_tokens=r.output_tokens, precision=r.precision)
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
        "claim": r.id, "system": r.system, "chip": r.chip, "model": r.model, "model_match": r.model_match,
        "precision": r.precision, "claimed": r.value, "claimed_low": r.low, "claimed_high": r.high,
        "status": r.status, "source": r.source, "date": r.date,
        "predicted": base.tokens_per_s_per_user, "predicted_low": min(lo, hi), "predicted_high": max(lo, hi),
        "ratio": r.value / base.tokens_per_s_per_user, "verdict": v, "verdict_text": VERDICTS[v],
        "n_chips": base.n_chips, "bound": base.bound,
        "max_batch": int(best["batch"]) if best is not None else 0,
        "aggregate_at_max_batch": float(best["tokens_per_s"]) if best is not None else 0.0,
        "n_chips_at_max_batch": int(best["n_chips"]) if best is not None else 0,
        "max_context": int(ok_ctx["input_tokens"].max() + r.output_tokens) if len(ok_ctx) else 0,
        "us_per_layer": 1e6 / (r.value * float(m.n_layers[0])),
        "required_tb_s": required, "peak_tb_s": peak, "bandwidth_used": required / peak if peak > 0 else float("inf"),
    }


def reproduce(claim_ids_: Sequence[str] | None = None):
    """:func:`reproduce_claim` for every claim (or the given ids), one row each."""
    import pandas as pd

    ids = claim_ids() if claim_ids_ is None else list(claim_ids_)
    return pd.DataFrame([reproduce_claim(i) for i in ids])
