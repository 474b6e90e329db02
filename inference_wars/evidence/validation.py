"""The model against measured reality: published measurements and the model's prediction for each.

``data/measured/<family>.csv`` hold published **measured** inference results (benchmark
tables, serving-engine benchmarks, independent measurements of hosted APIs; never spec
sheets or projections), one file per *source family* (a publisher and its method), one row
per number, each with its system, model, number format, batch, input/output lengths, metric,
the published deployment (TP/EP/PP, DP attention, multi-token prediction, disaggregated
prefill), software, source and date (schema: :class:`MeasuredRow`, columns in that folder's
README). :func:`predict` runs every row through the same engine as
:func:`inference_wars.estimate`, vectorised, with what the row publishes pinned and the rest
searched, and reports::

    APE       = |predicted - measured| / measured          (absolute percentage error)
    log_ratio = ln(predicted / measured)                    (> 0: the model is optimistic)

Rows marked ``catalog_fit`` set a catalog number; they are not independent tests and
:func:`error_summary` can leave them out. A row with ``batch_is_cap`` ran "at maximum load":
the engine chose the batch, up to ``batch`` in flight in the whole system (a client's
concurrency, shared by all replicas and DP-attention ranks), or up to ``batch`` per instance and
per DP-attention rank where ``batch_cap_per_instance`` says the cap is the engine's own limit
(``max_num_seqs``, TensorRT-LLM's max batch size); a blank batch means the same with the
engine's default limit. A row with ``min_tokens_per_s_per_user`` is a point of a
throughput-interactivity curve: the model answers with its best throughput per chip at that
per-user speed.

A published batch is evaluated as it was run: it is the engine's limit too (``max_num_seqs``),
and where the memory accounting cannot hold it beside the weights, the largest batch that fits
(:data:`SHRINK` steps, down to about half) is evaluated instead, since vLLM and SGLang admit only
the sequences whose KV cache fits and queue or preempt the rest. A per-user speed published as
``1 / median inter-token latency`` (``itl_tokens_per_s_per_user``) is a decode step alone: most
steps carry none of the prefills that chunked prefill slips in, which ``1 / TPOT`` averages over.

A measured result is read with its software as mature as it was at the result's ``date``
(:func:`software_maturity`): every engine efficiency scaled by
:func:`inference_wars.engine.software.maturity` of the months since the model's architecture first
shipped (:func:`architecture_release`), the young-software slowdown fitted with the other factors.
An estimate describes mature software.
"""

from __future__ import annotations

import csv
import functools
import math
from pathlib import Path
from typing import Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from .. import catalog
from ..catalog import DATA_DIR, CatalogError, blank_to_none, check_source, read_rows
from ..engine import deployment, factors, serving
from ..engine.formats import bits_per_weight, check_format_on_chip, default_kv_format
from ..engine.hardware import family, hardware_arrays
from ..engine.software import engine_of
from ..engine.workload import MAX_OUTPUT_CV, model_arrays

Metric = Literal[
    "tokens_per_s_per_user",
    "itl_tokens_per_s_per_user",
    "tokens_per_s",
    "tokens_per_s_per_chip",
    "decode_tokens_per_s_per_chip",
    "ttft_s",
]
MEASURED_DIR = DATA_DIR / "measured"
#: Measured results collected after the shipped fit was frozen, which no fit has used
#: (:func:`forward_test`; same schema as :data:`MEASURED_DIR`).
FORWARD_DIR = DATA_DIR / "forward"
#: Which measured rows were first a blind forward set's results, and which set (:func:`folded`).
FOLDED_PATH = DATA_DIR / "forward_folded.csv"

#: The per-user speeds: ``1 / TPOT`` (mean time per output token, the prefills that chunked
#: prefill slips into other users' steps included) and ``1 / ITL`` (median inter-token latency:
#: most steps carry no prefill, so the median is a decode step alone).
PER_USER = ("tokens_per_s_per_user", "itl_tokens_per_s_per_user")

#: Regimes the error table is broken down by.
REGIMES = (
    "decode, per user",
    "prefill (TTFT)",
    "throughput at a per-user target",
    "throughput, decode-heavy",
    "throughput, prefill-heavy",
)


class MeasuredRow(BaseModel):
    """One published measurement."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    id: str
    chip: str
    n_chips: int | None = None
    model: str
    model_as_published: str
    precision: str
    batch: int | None = None
    batch_is_cap: bool | None = None
    batch_cap_per_instance: bool | None = None
    input_tokens: int
    output_tokens: int
    output_tokens_cv: float | None = None
    metric: Metric
    value: float
    min_tokens_per_s_per_user: float | None = None
    p99_ttft_s: float | None = None
    tp: int | None = None
    ep: int | None = None
    pp: int | None = None
    attention_dp: bool | None = None
    mtp_tokens: int | None = None
    disaggregated: bool | None = None
    prefill_chips: int | None = None
    software: str
    source: str
    date: str
    catalog_fit: bool
    note: str

    _blank = field_validator(
        "n_chips",
        "batch",
        "batch_is_cap",
        "batch_cap_per_instance",
        "output_tokens_cv",
        "min_tokens_per_s_per_user",
        "p99_ttft_s",
        "tp",
        "ep",
        "pp",
        "attention_dp",
        "mtp_tokens",
        "disaggregated",
        "prefill_chips",
        mode="before",
    )(blank_to_none)

    _date = field_validator("date")(catalog.check_date)

    @model_validator(mode="after")
    def _positive(self):
        if not (math.isfinite(self.value) and self.value > 0):
            raise ValueError(f"value must be a positive number, got {self.value}")
        if self.prefill_chips is not None and not (
            self.disaggregated and self.n_chips and self.prefill_chips < self.n_chips
        ):
            raise ValueError("prefill_chips needs disaggregated=true and fewer chips than n_chips")
        for name in ("n_chips", "batch", "input_tokens", "output_tokens", "tp", "ep", "pp"):
            v = getattr(self, name)
            if v is not None and v < 1:
                raise ValueError(f"{name} must be at least 1 (or blank)")
        if self.min_tokens_per_s_per_user is not None and not self.min_tokens_per_s_per_user > 0:
            raise ValueError("min_tokens_per_s_per_user must be positive (or blank)")
        if self.p99_ttft_s is not None and not self.p99_ttft_s > 0:
            raise ValueError("p99_ttft_s must be positive (or blank)")
        if self.output_tokens_cv is not None and not 0 <= self.output_tokens_cv <= MAX_OUTPUT_CV:
            raise ValueError(f"output_tokens_cv must be between 0 and {MAX_OUTPUT_CV:g} (or blank)")
        if not self.note.strip():
            raise ValueError("note must say where the number is in the source")
        return self


def source_families() -> list[str]:
    """The source families: one per file in ``data/measured/``."""
    return sorted(p.stem for p in MEASURED_DIR.glob("*.csv"))


@functools.cache
def _rows(folder: Path = MEASURED_DIR) -> tuple[tuple[str, MeasuredRow], ...]:
    out, seen = [], set()
    files = sorted(Path(folder).glob("*.csv"))
    if not files:
        raise CatalogError(f"no measured results in {folder}")
    for path in files:
        rows = read_rows(path, MeasuredRow)
        for line_no, r in enumerate(rows, start=2):
            where = f"{Path(folder).name}/{path.name}:{line_no}"
            if r.id in seen:
                raise CatalogError(f"{where}: duplicate id {r.id}")
            seen.add(r.id)
            check_source(where, r.source)
            try:
                chip = catalog.get_chip(r.chip)
                catalog.get_model(r.model)
                check_format_on_chip(catalog.get_format(r.precision).id, chip)
            except ValueError as exc:
                raise CatalogError(f"{where}: {exc}") from None
            out.append((path.stem, r))
    return tuple(out)


def regime(metric: str, input_tokens: int, output_tokens: int, target) -> str:
    """Which of :data:`REGIMES` a measurement belongs to."""
    if metric == "ttft_s":
        return REGIMES[1]
    if metric in PER_USER:
        return REGIMES[0]
    if target is not None and not (isinstance(target, float) and math.isnan(target)):
        return REGIMES[2]
    if metric == "decode_tokens_per_s_per_chip":
        return REGIMES[3]
    return REGIMES[4] if input_tokens >= 4 * output_tokens else REGIMES[3]


def measured(folder: Path = MEASURED_DIR):
    """The measured table as a DataFrame, with ``source_family``, ``regime``, ``family``
    (hardware family) and ``engine`` (the serving engine its ``software`` names, else the chip's
    default: :func:`inference_wars.engine.software.engine_of`) columns added (``folder``: another
    folder of the same schema, e.g. :data:`FORWARD_DIR`)."""
    import pandas as pd

    df = pd.DataFrame([{**r.model_dump(), "source_family": fam} for fam, r in _rows(Path(folder))])
    df["regime"] = [
        regime(m, i, o, t)
        for m, i, o, t in zip(
            df["metric"], df["input_tokens"], df["output_tokens"], df["min_tokens_per_s_per_user"]
        )
    ]
    df["family"] = [family(c) for c in df["chip"]]
    df["engine"] = [engine_of(s, c) for s, c in zip(df["software"], df["chip"])]
    return df


def _blank(x) -> bool:
    return x is None or (isinstance(x, float) and math.isnan(x))


def _is_number(x) -> bool:
    return isinstance(x, (int, float, np.number)) and not isinstance(x, (bool, np.bool_))


def _num(x) -> float:
    return float("nan") if _blank(x) else float(x)


def _scored(df, pred):
    """``df`` with the model's ``predicted`` value and its ``ape`` and ``log_ratio`` per row
    (module doc)."""
    df["predicted"] = pred
    df["ape"] = np.abs(pred - df["value"]) / df["value"]
    df["log_ratio"] = np.log(pred / df["value"])
    return df


class PointInputs:
    """Arrays (one entry per measured row) that :func:`deployment.search` needs, built once."""

    def __init__(self, df) -> None:
        rows = list(df.itertuples(index=False))
        self.ids = df["id"].to_numpy(object)
        self.chips = [r.chip for r in rows]
        self.engines = df["engine"].to_numpy(object)
        fmts = [catalog.get_format(r.precision).id for r in rows]
        self.m = model_arrays([r.model for r in rows])
        self.hw = hardware_arrays(list(zip(self.chips, fmts)), "base")
        self.weight_bits = np.array([bits_per_weight(f) for f in fmts])
        self.kv_bits = np.array([bits_per_weight(default_kv_format(f)) for f in fmts])
        self.n_chips = np.array([_num(r.n_chips) for r in rows])
        cap = np.nan_to_num(np.array([_num(r.batch_is_cap) for r in rows]), nan=0.0) > 0
        b = np.array([_num(r.batch) for r in rows])
        self.batch = np.where(cap, np.nan, b)
        self.batch_cap = np.where(cap, b, np.nan)
        # a cap is the client's concurrency, shared by all the system's replicas and DP-attention
        # ranks, unless the row says it is the engine's own limit (max_num_seqs, TensorRT-LLM's max
        # batch size), which each instance and each DP-attention rank schedules up to
        own = np.array([_num(r.batch_cap_per_instance) for r in rows])
        self.batch_total = np.where(cap & ~(np.nan_to_num(own, nan=0.0) > 0), b, np.nan)
        self.input_tokens = df["input_tokens"].to_numpy(float)
        self.output_tokens = df["output_tokens"].to_numpy(float)
        # how much a dataset's answer lengths vary (blank: all one length)
        self.output_cv = np.nan_to_num(df["output_tokens_cv"].to_numpy(float), nan=0.0)
        # a curve point with its concurrency published is evaluated at that concurrency; without it,
        # as the best throughput that still meets the published per-user speed
        self.target = np.where(
            np.isnan(self.batch) | cap,
            np.array([_num(r.min_tokens_per_s_per_user) for r in rows]),
            np.nan,
        )
        # hosted services run on whole servers: a per-user speed without a chip count gets a full
        # scale-up domain of up to 16 chips (GPU servers, SambaNova nodes), or the fewest that hold
        # the model; a per-chip figure without one is one instance's: the fewest chips that fit
        # (or, without a batch either, one scale-up domain: below)
        server = np.where(
            self.hw.dataflow | self.hw.hardwired | (self.hw.scaleup_domain > 16),
            np.nan,
            self.hw.scaleup_domain,
        )
        metric = df["metric"].to_numpy(object)
        per_chip = (metric == "tokens_per_s_per_chip") | (metric == "decode_tokens_per_s_per_chip")
        self.n_chips = np.where(
            np.isnan(self.n_chips) & np.isnan(self.batch_cap) & ~per_chip, server, self.n_chips
        )
        # a per-chip figure with neither a chip count nor a batch is the system's best: the search
        # may use one whole scale-up domain (a published batch instead pins the fewest that fit it)
        best = per_chip & np.isnan(self.n_chips) & np.isnan(b) & ~cap
        self.n_chips = np.where(
            best & ~(self.hw.dataflow | self.hw.hardwired), self.hw.scaleup_domain, self.n_chips
        )
        # a published prefill pool (disaggregated serving) is part of the chips, not of the instances
        self.prefill_chips = np.array([_num(r.prefill_chips) for r in rows])
        decode_chips = self.n_chips - np.nan_to_num(self.prefill_chips, nan=0.0)
        tp = np.array([_num(r.tp) for r in rows])
        ep = np.array([_num(r.ep) for r in rows])
        moe = self.m.n_moe_layers > 0
        # experts are spread over the tensor-parallel group: a published EP > 1 pins that width
        tp = np.where(np.isnan(tp) | (moe & (ep > tp)), np.where(ep > 1, ep, tp), tp)
        pp = np.array([_num(r.pp) for r in rows])
        reps = np.where(
            np.isfinite(decode_chips) & np.isfinite(tp),
            np.floor(decode_chips / (tp * np.where(np.isnan(pp), 1.0, pp))),
            np.nan,
        )
        reps = np.where(self.hw.dataflow | self.hw.hardwired, np.nan, reps)
        dpa = np.array([_num(r.attention_dp) for r in rows])
        # a published EP narrower than TP splits each expert over tp / ep chips
        self.pins = deployment.Pins(
            tp, pp, np.where(reps >= 1, reps, np.nan), dpa, deployment.expert_pin(ep, tp, moe)
        )
        self.mtp = np.nan_to_num(np.array([_num(r.mtp_tokens) for r in rows]), nan=0.0)
        self.disagg = np.nan_to_num(np.array([_num(r.disaggregated) for r in rows]), nan=0.0) > 0
        # a benchmark's limit on the 99th-percentile TTFT under random arrivals (MLPerf server)
        self.p99_ttft = np.array([_num(r.p99_ttft_s) for r in rows])
        self.metric = df["metric"].to_numpy(object)
        self.value = df["value"].to_numpy(float)
        self.latency = np.isin(self.metric, PER_USER + ("ttft_s",))
        # a latency figure of a run loaded to its targets (no batch; a per-user floor or tail TTFT)
        self.loaded = (
            self.latency
            & np.isnan(self.batch)
            & (np.isfinite(self.target) | np.isfinite(self.p99_ttft))
        )
        self.age_months = software_age_months(df)
        self.no_kernels = np.array([factors.runs_no_kernels(c) for c in self.chips], bool)

    def factor_arrays(
        self,
        scenario: str = "base",
        use_fitted: bool = True,
        fitted: dict[tuple[str, str], float] | None = None,
    ) -> serving.Factors:
        """Factors per row: defaults, the shipped fit (``use_fitted``) or an explicit
        ``{(scope, key): value}`` fit in its place; the rows' batch caps applied."""
        cols = dict(
            factors.factor_arrays(
                self.chips, scenario, use_fitted=use_fitted, fitted=fitted, engines=self.engines
            ).__dict__
        )
        # the software's maturity at each result's date scales the engine's efficiencies
        a = factors.young_software_slowdown(use_fitted, fitted)
        if a:
            cols.update(
                factors.scale_by_engine(
                    cols, factors.maturity_scale(self.age_months, self.no_kernels, a)
                )
            )
        # a published batch was the engine's setting: the default limit does not cut it; nor does
        # it cut a client's cap (which the search applies to the whole system: ``batch_total``)
        limit = np.fmax(np.fmax(cols["max_batch_per_instance"], self.batch), self.batch_total)
        per_instance = np.isfinite(self.batch_cap) & np.isnan(self.batch_total)
        cols["max_batch_per_instance"] = np.where(per_instance, self.batch_cap, limit)
        return serving.Factors(**cols)

    def fit_mask(self, scope: str, key: str, scopes) -> np.ndarray:
        """Rows that fit factor ``key`` of ``scope`` when ``key`` is fitted in ``scopes``
        (:func:`inference_wars.engine.factors.fitted_by`); an engine's factor on the rows that ran
        it on a chip that runs kernels."""
        if factors.is_engine_scope(scope):
            return (self.engines == scope) & ~np.array(
                [factors.runs_no_kernels(c) for c in self.chips]
            )
        return np.array([factors.fitted_by(scope, key, c, scopes) for c in self.chips])

    def _search(self, j: np.ndarray, batch: np.ndarray, f: serving.Factors, objective: str):
        """:func:`deployment.search` for rows ``j`` at ``batch``, with their pins, goal and mode."""
        tgt = self.target[j]
        return deployment.search(
            self.m.take(j),
            self.hw.take(j),
            f,
            self.n_chips[j],
            batch,
            self.input_tokens[j],
            self.output_tokens[j],
            self.weight_bits[j],
            self.kv_bits[j],
            deployment.Pins(
                *(
                    x[j]
                    for x in (
                        self.pins.tp,
                        self.pins.pp,
                        self.pins.replicas,
                        self.pins.dp_attention,
                        self.pins.ep,
                    )
                )
            ),
            deployment.Goal(
                objective,
                tgt if np.isfinite(tgt).any() else None,
                self.p99_ttft[j] if np.isfinite(self.p99_ttft[j]).any() else None,
            ),
            serving.Mode(
                self.mtp[j],
                self.disagg[j],
                self.prefill_chips[j],
                np.where(np.isfinite(self.p99_ttft[j]), self.p99_ttft[j], np.inf),
                0.99,
                self.output_cv[j],
            ),
            self.batch_total[j],
        )

    def evaluate(self, f: serving.Factors, rows: np.ndarray | None = None) -> np.ndarray:
        """Predicted metric per row (``rows``: optional index subset)."""
        idx = np.arange(len(self.value)) if rows is None else np.asarray(rows)
        fs = serving.Factors(**{k: np.asarray(v)[idx] for k, v in f.__dict__.items()})
        out = np.full(len(idx), np.nan)
        # latency rows are evaluated at the lowest latency, throughput rows at the most tokens/s per chip;
        # rows with a per-user target search batch sizes too, so they go in their own call. A
        # latency row with no batch but the targets of a loaded run (MLPerf's server scenario: a
        # per-user floor and a tail TTFT) was measured at the load the submitter tuned to those
        # targets: it is evaluated as its throughput row is, and its TTFT is the mean under load
        has_t = np.isfinite(self.target[idx])
        loaded = self.loaded[idx]
        groups = (
            ("latency", self.latency[idx] & ~loaded),
            ("throughput", ~self.latency[idx] & ~has_t),
            ("throughput", (~self.latency[idx] & has_t) | loaded),
        )
        for objective, sel in groups:
            if not sel.any():
                continue
            j = idx[sel]
            sub = serving.Factors(**{k: v[sel] for k, v in fs.__dict__.items()})
            res = self._search(j, self.batch[j], sub, objective)
            # a published concurrency the memory accounting cannot hold is evaluated at the largest
            # that fits: the engine admits only the sequences whose KV cache fits and queues or
            # preempts the rest (vLLM, SGLang), so the run went at about that batch
            b = self.batch[j].copy()
            k = np.flatnonzero(_does_not_fit(res) & np.isfinite(b) & (b > 1))
            if k.size:
                res = {key: np.array(v) for key, v in res.items()}  # writable copies, once
            for _ in range(SHRINK_STEPS):
                if not k.size:
                    break
                b[k] = np.maximum(np.floor(b[k] * SHRINK), 1.0)
                again = self._search(
                    j[k],
                    b[k],
                    serving.Factors(**{n: v[k] for n, v in sub.__dict__.items()}),
                    objective,
                )
                for key, v in res.items():
                    if v.ndim and len(v) == len(j):
                        v[k] = again[key]
                k = k[_does_not_fit(again) & (b[k] > 1)]  # still too big: shrink those again
            keys = (
                "tokens_per_s_per_user",
                "tokens_per_s",
                "ttft_s",
                "decode_tokens_per_s_per_chip",
            )
            # a median inter-token latency is a decode step without prefill: g tokens per step
            g = serving.tokens_per_step(self.mtp[j], sub.mtp_acceptance, sub.mtp_acceptance_decay)
            read = {
                **res,
                "ttft_s": np.where(self.loaded[j], res["ttft_mean_loaded_s"], res["ttft_s"]),
            }
            pred = np.select(
                [self.metric[j] == k for k in keys] + [self.metric[j] == PER_USER[1]],
                [read[k] for k in keys] + [g / res["step_s"]],
                res["tokens_per_s_per_chip"],
            )
            # a row the model cannot serve at all counts as a 100x miss, never as a silent NaN
            ok = res["fits"] & np.isfinite(pred) & (pred > 0)
            out[sel] = np.where(ok, pred, unserved_prediction(self.metric[j], self.value[j]))
        return out


#: How far off a row the model cannot serve is scored: a speed this many times too slow, a time to
#: first token this many times too long (:func:`unserved_prediction`).
UNSERVED_MISS = 100.0


def unserved_prediction(metric, value) -> np.ndarray:
    """The prediction a row the model cannot serve is scored with: ``value / UNSERVED_MISS`` for a
    speed, ``value * UNSERVED_MISS`` for a time to first token (a miss, never a silent NaN).
    ``np.isclose(predicted, unserved_prediction(metric, value))`` finds those rows in a scored
    table.

    >>> unserved_prediction(np.array(["tokens_per_s", "ttft_s"]), np.array([50.0, 0.2])).tolist()
    [0.5, 20.0]
    """
    value = np.asarray(value, float)
    return np.where(
        np.asarray(metric, object) == "ttft_s", value * UNSERVED_MISS, value / UNSERVED_MISS
    )


#: A published batch that does not fit is retried at ``SHRINK`` times itself, up to
#: ``SHRINK_STEPS`` times (down to 0.9**6 = 53 % of it): :meth:`PointInputs.evaluate`.
SHRINK, SHRINK_STEPS = 0.9, 6


def software_age_months(df) -> np.ndarray:
    """Months from the first release of each row's model architecture
    (:func:`architecture_release`: the kernels it runs) to the result's ``date``: how mature its
    serving software was (negative before the architecture shipped; read as 0)."""
    released = {i: architecture_release(i) for i in set(df["model"])}
    return np.array(
        [_months(d) - _months(released[m]) for d, m in zip(df["date"], df["model"])], float
    )


def software_maturity(df) -> np.ndarray:
    """How fast each measured row's software ran relative to the mature software an estimate
    assumes, at the shipped fit (:func:`inference_wars.engine.software.maturity` of
    :func:`software_age_months`; 1 on chips that run no kernels). An estimate of the row's run
    with ``software_age_months`` = the row's :func:`software_age_months` reproduces the row's
    prediction.

    >>> s = software_maturity(measured())
    >>> bool(((s > 0) & (s <= 1)).all())
    True
    """
    no_kernels = np.array([factors.runs_no_kernels(c) for c in df["chip"]], bool)
    age = software_age_months(df)
    return factors.maturity_scale(age, no_kernels, factors.young_software_slowdown())


def architecture_release(model_id: str) -> str:
    """The earliest release date among catalog models of ``model_id``'s architecture: its attention
    kind and whether it routes experts (Llama 3.1 runs the kernels Llama 2 70B's GQA brought;
    Kimi K2 those DeepSeek-V3's MLA mixture of experts brought)."""
    m = catalog.get_model(model_id)
    key = (m.attention, m.n_experts > 0)
    same = [catalog.get_model(i) for i in catalog.model_ids()]
    return min(x.release_date for x in same if (x.attention, x.n_experts > 0) == key)


def _months(date: str) -> float:
    """A ``YYYY-MM`` or ``YYYY-MM-DD`` date in months since year 0 (mid-month without a day)."""
    parts = [int(x) for x in str(date).split("-")]
    day = parts[2] if len(parts) > 2 else 15
    return parts[0] * 12 + parts[1] - 1 + (day - 1) / 30.4


def _does_not_fit(res: dict) -> np.ndarray:
    """Rows of a :func:`deployment.search` result that memory rules out (``why`` 1: nothing
    fits; 2: the pinned split does not)."""
    return ~res["fits"] & np.isin(res["why"], (1, 2))


@functools.cache
def _inputs() -> PointInputs:
    return PointInputs(measured())


def predict(use_fitted: bool = True, fitted: dict | None = None):
    """The measured table with the model's ``predicted`` value, ``ape`` and ``log_ratio`` per row
    (``use_fitted=False``: the assumption defaults alone, before any fitting)."""
    df = measured()
    pts = _inputs()
    pred = pts.evaluate(pts.factor_arrays(use_fitted=use_fitted, fitted=fitted))
    return _scored(df, pred)


GROUPINGS = ("chip", "regime", "family", "engine", "source_family", "model", "metric")


def error_summary(df, by: str | list[str] | None = None, independent_only: bool = False):
    """Median and 90th-percentile absolute percentage error (in %) and the row count, overall
    or per group (one of :data:`GROUPINGS`). ``independent_only`` drops ``catalog_fit`` rows."""
    import pandas as pd

    from ..errors import UnknownNameError, require_frame, require_list

    require_frame(
        "df",
        df,
        ("ape", "log_ratio") + (("catalog_fit",) if independent_only else ()),
        allow_empty=True,
    )
    for col in [] if by is None else require_list("by", by):
        if not isinstance(col, str) or col not in GROUPINGS:
            raise UnknownNameError("grouping", str(col), GROUPINGS)
        if col not in df.columns:
            raise ValueError(f"df lacks the column {col!r} to group by")
    if independent_only:
        df = df[~df["catalog_fit"]]

    def stats(g):
        return pd.Series(
            {
                "n": len(g),
                "median_ape_pct": 100 * g["ape"].median(),
                "p90_ape_pct": 100 * g["ape"].quantile(0.9),
                "median_log_ratio": g["log_ratio"].median(),
            }
        )

    if by is None:
        return stats(df)
    return df.groupby(by, observed=True).apply(stats, include_groups=False)


#: Columns that make two measured rows the same configuration of the same system
#: (:func:`same_system_drift`).
SAME_SYSTEM = (
    "source_family",
    "chip",
    "n_chips",
    "model",
    "precision",
    "batch",
    "input_tokens",
    "output_tokens",
    "output_tokens_cv",
    "metric",
    "min_tokens_per_s_per_user",
    "p99_ttft_s",
    "mtp_tokens",
    "disaggregated",
)


def same_system_drift(df=None):
    """One system measured again months later: for every configuration a source family published
    on more than one date (same chip and chip count, model, format, batch, prompt and answer
    lengths, metric and latency targets: :data:`SAME_SYSTEM`), the latest result over the
    earliest (a speed; for TTFT the earliest over the latest, so above 1 always means faster)::

        change = value(latest) / value(earliest) - 1

    The hardware is unchanged; what moved is the software (MLPerf's rounds are six months
    apart). No model that is told only the hardware and the configuration can follow this, so it
    sets a floor under how close any such model can come to every row. ``df`` defaults to
    :func:`measured`. Columns: the configuration, ``first`` / ``last`` (ids), ``first_date``,
    ``last_date``, ``months`` and ``change``. Used by the validation appendix.

    >>> d = same_system_drift()
    >>> bool((d["months"] > 0).all()) and len(d) >= 10
    True
    """
    import pandas as pd

    df = measured() if df is None else df
    d = df.assign(month=df["date"].str[:7])
    out = []
    for key, g in d.groupby(list(SAME_SYSTEM), dropna=False, sort=True):
        if g["month"].nunique() < 2:
            continue
        g = g.sort_values("month")
        first, last = g.iloc[0], g.iloc[-1]
        ratio = last["value"] / first["value"]
        if first["metric"] == "ttft_s":
            ratio = 1.0 / ratio
        y0, m0 = map(int, first["month"].split("-"))
        y1, m1 = map(int, last["month"].split("-"))
        out.append(
            dict(
                zip(SAME_SYSTEM, key),
                first=first["id"],
                last=last["id"],
                first_date=first["month"],
                last_date=last["month"],
                months=12 * (y1 - y0) + m1 - m0,
                change=ratio - 1.0,
            )
        )
    return pd.DataFrame(out)


def speed_log_ratio(df) -> np.ndarray:
    """Each scored row's miss read as a speed: ``ln(predicted / measured)``, negated for a time
    to first token (a time read short is a system read fast), so > 0 always means the model
    reads the row too fast. ``df`` is a scored table (:func:`predict`, :func:`forward_test`).

    >>> import pandas as pd
    >>> speed_log_ratio(pd.DataFrame({"metric": ["tokens_per_s", "ttft_s"], "log_ratio": [0.5, 0.5]})).tolist()
    [0.5, -0.5]
    """
    return df["log_ratio"].to_numpy(float) * _speed_sign(df)


def _speed_sign(df) -> np.ndarray:
    """+1 for a speed, -1 for a time to first token (:func:`speed_log_ratio`)."""
    return np.where(df["metric"].to_numpy(object) == "ttft_s", -1.0, 1.0)


def known_source_scale(df, by: str = "source_family"):
    """The error that would be left if each source's overall scale were known: every prediction
    moved by its group's median log ratio, in the sense of a speed (:func:`speed_log_ratio`; a
    time to first token moves the other way)::

        s_i  = ln(predicted_i / measured_i) * sign_i       (sign_i = -1 for TTFT, else +1)
        ln(predicted_i' / measured_i) = ln(predicted_i / measured_i) - sign_i * median_g(s)

    No estimate of an unseen source has that scale: a publisher's software version, harness and
    tuning set it, and a leave-one-source-out fit cannot learn it. What the rescaled rows still
    miss by is the model's error in *shape* within a source (how a result moves with the batch,
    the lengths, the chip count), so this splits the held-out error into a part between sources
    and a part within them. ``df`` is a scored table (:func:`predict`, :func:`predict_held_out`);
    returns it rescaled, with ``predicted``, ``ape`` and ``log_ratio`` replaced, for
    :func:`error_summary`.

    >>> d = predict()
    >>> bool(error_summary(known_source_scale(d))["median_ape_pct"] < error_summary(d)["median_ape_pct"])
    True
    """
    from ..errors import require_frame

    require_frame("df", df, ("metric", "value", "log_ratio", by), allow_empty=True)
    offset = df.assign(_s=speed_log_ratio(df)).groupby(by)["_s"].transform("median")
    lr = df["log_ratio"].to_numpy(float) - _speed_sign(df) * offset.to_numpy(float)
    out = df.copy()
    out["predicted"] = out["value"] * np.exp(lr)
    return _scored(out, out["predicted"].to_numpy(float))


def measured_path(family_name: str) -> Path:
    return MEASURED_DIR / f"{family_name}.csv"


#: The shipped leave-one-source-out predictions (written by :mod:`inference_wars.evidence.calibration`).
HELD_OUT_PATH = DATA_DIR / "measured_predictions.csv"


def read_held_out(path: Path) -> dict[str, float]:
    """Leave-one-source-out predictions in the CSV at ``path``: ``{measured id: prediction}``."""
    with Path(path).open(newline="", encoding="utf-8") as fh:
        return {r["id"]: float(r["predicted_held_out"]) for r in csv.DictReader(fh)}


@functools.cache
def held_out() -> dict[str, float]:
    """The shipped leave-one-source-out predictions ``{measured id: prediction}``."""
    if not HELD_OUT_PATH.exists():
        raise CatalogError(
            "data/measured_predictions.csv is missing: run "
            "`python -m inference_wars calibrate --update-shipped`"
        )
    return read_held_out(HELD_OUT_PATH)


def predict_held_out():
    """The measured table with each row predicted by the factors fitted *without its source
    family* (leave-one-source-out; shipped in ``data/measured_predictions.csv`` by
    ``python -m inference_wars calibrate --update-shipped``): the honest error on data a fit
    has not seen."""
    df = measured()
    got = held_out()
    missing = [i for i in df["id"] if i not in got]
    if missing:
        raise CatalogError(
            f"measured_predictions.csv lacks {len(missing)} measured rows (e.g. {missing[0]}): "
            "re-run `python -m inference_wars calibrate --update-shipped`"
        )
    pred = df["id"].map(got).to_numpy(float)
    return _scored(df, pred)


class FoldedRow(BaseModel):
    """A measured row that was first a result of blind forward set ``forward_set`` (read by the
    fit then shipped before any fit saw it) and joined the fitting data on ``folded``."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    id: str
    forward_set: int = Field(ge=1)
    folded: str
    _date = field_validator("folded")(catalog.check_date)


@functools.cache
def _folded_rows() -> tuple[FoldedRow, ...]:
    rows = tuple(read_rows(FOLDED_PATH, FoldedRow))
    catalog.unique_by(FOLDED_PATH.name, rows, "id")
    unknown = sorted({r.id for r in rows} - set(measured()["id"]))
    if unknown:
        raise CatalogError(
            f"{FOLDED_PATH.name}: {len(unknown)} ids are not measured rows (e.g. {unknown[0]}); "
            "a folded result keeps its id, less the forward set's new<N>- prefix"
        )
    return rows


def folded(forward_set: int | None = None) -> list[str]:
    """Ids of the measured rows that were first results of blind forward set ``forward_set``
    (every folded set if None), from ``data/forward_folded.csv``: the rows a refit added, whose
    held-out error the validation appendix compares with the reading they had as a forward set.
    The sets from the fourth on are listed (the first three were folded together, before the
    record kept them apart).

    >>> len(folded(11))
    359
    """
    if forward_set is not None and forward_set not in {r.forward_set for r in _folded_rows()}:
        sets = sorted({r.forward_set for r in _folded_rows()})
        raise ValueError(f"no forward set {forward_set!r} was folded; folded sets: {sets}")
    return [r.id for r in _folded_rows() if forward_set in (None, r.forward_set)]


def forward_test():
    """The forward test: the results in ``data/forward/`` (published measurements collected
    after the shipped fit was frozen, which no fit, held-out or in-sample, has used), each
    predicted with the shipped factors, as :func:`inference_wars.estimate` answers a reader.
    Leave-one-source-out error (:func:`predict_held_out`) still picks its model structure with
    every row in view; this is the error on results the project had never seen when it chose
    both, the closest check of how a reader's own measurement will compare. Columns as
    :func:`predict`. A forward row whose id, or whose source and configuration, repeats a row of
    ``data/measured/`` is an error (it would not be unseen).

    >>> df = forward_test()
    >>> bool(df["predicted"].gt(0).all()) and set(df["id"]).isdisjoint(measured()["id"])
    True
    """
    df = measured(FORWARD_DIR)
    known = measured()
    clash = sorted(set(df["id"]) & set(known["id"]))
    if clash:
        raise CatalogError(f"forward/ repeats measured ids: {', '.join(clash)}")

    def configs(d):
        """Each row's source, configuration and value, blanks as None and numbers as floats."""
        keep = ["source", *(c for c in SAME_SYSTEM if c != "source_family"), "value"]
        cols = d[keep].astype(object)
        return [
            tuple(None if _blank(x) else float(x) if _is_number(x) else x for x in row)
            for row in cols.itertuples(index=False)
        ]

    seen = set(configs(known))
    same = [i for i, k in zip(df["id"], configs(df)) if k in seen]
    if same:
        raise CatalogError(
            f"forward/ repeats {len(same)} measured result(s), e.g. {same[0]}: "
            "a result already in data/measured/ is not unseen"
        )
    pts = PointInputs(df)
    pred = pts.evaluate(pts.factor_arrays())
    return _scored(df, pred)
