"""The public entry points: :func:`estimate` for one configuration, :func:`sweep` for a grid.

A thin facade over the engine: it checks names and numbers, lays out every combination of the
arguments as arrays, reads the factors (:mod:`inference_wars.engine.factors`) and lets
:func:`inference_wars.engine.deployment.search` choose how the chips serve the model. ``sweep``
evaluates every combination without a Python loop per row.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from . import catalog
from .engine import deployment, factors, formats, memory, serving, software
from .engine.hardware import hardware_arrays
from .engine.workload import MAX_OUTPUT_CV, kv_bytes_held, model_arrays, weights_bytes
from .errors import UnknownNameError, require_count, require_number, require_positive

METRICS = (
    "ttft_s",
    "tpot_s",
    "tokens_per_s_per_user",
    "tokens_per_s",
    "tokens_per_s_per_chip",
    "usd_per_million_tokens",
    "joules_per_token",
    "tokens_per_s_per_mw",
)

#: Metrics where a smaller value is better (their optimistic reading is their ``_low`` column).
LOWER_IS_BETTER = frozenset({"ttft_s", "tpot_s", "usd_per_million_tokens", "joules_per_token"})

#: Largest chip count or batch accepted (beyond any system that exists; keeps arithmetic exact).
MAX_COUNT = 10_000_000
#: Longest prompt or output accepted (tokens).
MAX_TOKENS = 100_000_000

# backwards-compatible name for the factor directions
ASSUMPTION_DIRECTION = factors.DIRECTION


def assumptions_for(scenario: str = "base", **overrides: float) -> serving.Factors:
    """Factor defaults (``assumptions.csv``) under a scenario, with validated overrides; per-chip
    fitted values are applied by :func:`estimate` (see :func:`inference_wars.engine.factors.chip_factors`).

    ``engine_efficiency=e`` (the one override with no field of its own) scales the defaults as
    an engine ``e`` times as fast would (:func:`inference_wars.engine.factors.scale_by_engine`);
    the other overrides are then set as given."""
    vals = factors.defaults(scenario)
    del vals[factors.ENGINE_KEY]  # a scale on other factors, not a field of Factors
    del vals[factors.MATURITY_KEY]  # so is the young software's slowdown (validation, by date)
    vals["layer_floor_us"] = 0.0
    asked = factors.check_overrides(overrides)
    if factors.ENGINE_KEY in asked:
        vals = factors.scale_by_engine(vals, asked.pop(factors.ENGINE_KEY))
    vals.update(asked)
    return serving.Factors(**{k: float(v) for k, v in vals.items()})


@dataclass(frozen=True)
class Estimate:
    """One configuration's result. Metrics are ``None`` when the model does not fit."""

    model: str
    chip: str
    precision: str
    kv_precision: str
    batch: int | None
    input_tokens: int
    output_tokens: int
    scenario: str
    fits: bool
    n_chips: int
    n_chips_needed: int
    weights_gb: float
    kv_cache_gb: float
    reason: str
    #: the serving engine assumed (``data/engines.csv``; the chip's default unless asked)
    engine: str | None = None
    bound: str | None = None
    tp: int | None = None
    pp: int | None = None
    ep: int | None = None
    replicas: int | None = None
    attention_dp: bool | None = None
    batch_per_instance: int | None = None
    ttft_s: float | None = None
    tpot_s: float | None = None
    tokens_per_s_per_user: float | None = None
    tokens_per_s: float | None = None
    tokens_per_s_per_chip: float | None = None
    usd_per_million_tokens: float | None = None
    joules_per_token: float | None = None
    tokens_per_s_per_mw: float | None = None
    #: ``{metric: [low, high]}`` when called with ``ranges=True`` (else ``None``)
    ranges: dict[str, list[float]] | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @property
    def deployment(self) -> str:
        """The split as text, e.g. ``"8 x (TP1 x PP1)"`` or ``"1 x (TP8/EP8 x PP1, DP attention)"``."""
        if self.tp is None:
            return "none"
        moe = catalog.get_model(self.model).n_experts > 0
        ep = f"/EP{self.ep}" if self.ep and moe and (self.ep > 1 or self.tp > 1) else ""
        dpa = ", DP attention" if self.attention_dp else ""
        return f"{self.replicas} x (TP{self.tp}{ep} x PP{self.pp}{dpa})"

    def bounds(self, metric: str) -> tuple[float, float, float]:
        """``(low, value, high)`` of one metric; needs ``estimate(..., ranges=True)``."""
        if metric not in METRICS:
            raise UnknownNameError("metric", metric, METRICS)
        if not self.fits:
            raise ValueError(f"no metrics: {self.reason}")
        if self.ranges is None:
            raise ValueError("this estimate has no ranges: call estimate(..., ranges=True)")
        low, high = self.ranges[metric]
        return low, getattr(self, metric), high

    def __str__(self) -> str:
        b = "as many as fit" if self.batch is None else f"batch {self.batch}"
        head = (
            f"{self.model} on {self.n_chips} x {self.chip} ({self.precision}, {self.engine}, {b}, "
            f"{self.input_tokens}+{self.output_tokens} tokens)"
        )
        if not self.fits:
            return f"{head}: {self.reason}"
        return (
            f"{head} as {self.deployment}: {self.bound}-bound; TTFT {self.ttft_s * 1e3:.1f} ms, "
            f"{self.tokens_per_s_per_user:,.0f} tok/s per user, {self.tokens_per_s:,.0f} tok/s total, "
            f"${self.usd_per_million_tokens:.3f} per M tokens, {self.joules_per_token:.3g} J/token"
        )


def _as_list(x, name: str) -> list:
    if x is None:
        return [None]
    if isinstance(x, (str, bytes)) or not isinstance(x, Iterable):
        return [x]
    items = list(x)
    if not items:
        raise ValueError(f"{name} must not be empty")
    return items


def _count(name: str, v, limit: int = MAX_COUNT) -> int:
    """A whole number in ``[1, limit]`` (no system holds more than :data:`MAX_COUNT` chips or sequences)."""
    return require_count(name, v, limit)


#: Accepted range of each assumption override, beyond which a result stops meaning anything (and
#: products of such numbers overflow): fractions from 1 %, PUE >= 1 by definition, expert
#: imbalance (busiest / mean expert load) >= 1, activations of 4 to 64 bits, latencies up to
#: a second, an overlap exponent >= 1 (1: no overlap; 1,000 is the roofline's max to 0.07 %).
#: Every default and catalog bound in ``assumptions.csv`` lies well inside.
OVERRIDE_RANGE: dict[str, tuple[float, float]] = {
    **{k: (0.01, 1.0) for k in factors.FRACTIONS},
    "activation_bytes": (0.5, 8.0),
    "pue": (1.0, 10.0),
    "usd_per_kwh": (1e-4, 10.0),
    "amortization_years": (0.1, 50.0),
    "expert_imbalance": (1.0, 64.0),
    "max_batch_per_instance": (1.0, float(MAX_COUNT)),
    "collective_latency_us": (0.0, 1e6),
    "scaleout_latency_us": (0.0, 1e6),
    "layer_overhead_us": (0.0, 1e6),
    "expert_overhead_us": (0.0, 1e6),
    "gemm_half_params_m": (0.0, 1e6),
    "layer_floor_us": (0.0, 1e6),
    "request_overhead_ms": (0.0, 1e3),
    "overlap_exponent": (1.0, 1e3),
}


def check_assumption_overrides(overrides: dict[str, float]) -> dict[str, float]:
    """Validate ``estimate(..., **overrides)``: a known factor name (closest match suggested), a
    finite number within :data:`OVERRIDE_RANGE`, then :func:`inference_wars.engine.factors.check_overrides`."""
    for key, v in overrides.items():
        if key in OVERRIDE_RANGE:
            lo, hi = OVERRIDE_RANGE[key]
            if (
                key in factors.FRACTIONS
                and isinstance(v, (int, float))
                and not isinstance(v, bool)
                and v > 1
            ):
                continue  # factors.check_overrides says "is a fraction and must be in (0, 1]"
            require_number(key, v, lo, hi)
    return factors.check_overrides(overrides)


def _compatible(model_id: str, chip: catalog.Chip) -> str | None:
    if chip.hardwired_model and chip.hardwired_model != model_id:
        return f"{chip.id} is hard-wired to {chip.hardwired_model} and runs no other model"
    return None


def _resolve_format(chip: catalog.Chip, precision: str | None) -> str:
    """The weight format to run: the chip's default for ``None``; raises if the chip cannot run it."""
    fmt = formats.default_format(chip) if precision is None else catalog.get_format(precision).id
    formats.check_format_on_chip(fmt, chip)
    return fmt


def resolve(
    model: str, chip: str, precision: str | None = None, kv_precision: str | None = None
) -> tuple[str, catalog.Chip, str, str]:
    """Check that ``chip`` can run ``model`` and settle the formats:
    ``(model id, chip, weight format, KV format)``. Unknown names suggest the closest match;
    a hard-wired chip asked to run another model, or a format the chip lacks, raises ValueError."""
    c = catalog.get_chip(chip)
    m_id = catalog.get_model(model).id
    why = _compatible(m_id, c)
    if why:
        raise ValueError(why)
    fmt = _resolve_format(c, precision)
    kv_fmt = (
        formats.check_kv_format(kv_precision).id if kv_precision else formats.default_kv_format(fmt)
    )
    return m_id, c, fmt, kv_fmt


def check_split(
    model: str,
    chip: str,
    n_chips: int | None,
    tp: int | None,
    pp: int | None,
    ep: int | None,
    replicas: int | None,
) -> tuple[int | None, int | None, int | None, int | None]:
    """Validate a pinned split; returns ``(tp, pp, replicas, ep)``. The engine spreads a MoE
    model's experts over the tensor-parallel group: ``ep`` alone sets that width (``tp = ep``);
    an ``ep`` below ``tp`` that divides it splits each expert over ``tp / ep`` chips (``ep = 1``
    is TP-only MoE) and is returned, else ``ep`` is ``None``. Raises a ValueError naming the
    broken constraint and the nearest valid value."""
    m = catalog.get_model(model)
    c = catalog.get_chip(chip)
    tp = None if tp is None else _count("tp", tp)
    pp = None if pp is None else _count("pp", pp)
    ep = None if ep is None else _count("ep", ep)
    replicas = None if replicas is None else _count("replicas", replicas)
    if ep is not None and ep > 1:
        if m.n_experts == 0:
            raise ValueError(f"ep={ep}: {m.id} is dense (no experts); use ep=1 or leave it out")
        if ep > m.n_experts:
            raise ValueError(
                f"ep={ep} exceeds {m.id}'s {m.n_experts} experts; the largest valid ep is {m.n_experts}"
            )
        if tp is not None and (ep > tp or tp % ep):
            raise ValueError(
                f"ep={ep} with tp={tp}: the engine spreads experts over the tensor-parallel group, "
                f"so ep must divide tp ({tp}): each expert is split over tp / ep chips"
            )
        tp = ep if tp is None else tp
    # experts narrower than the stage: each split over tp / ep chips (a dense model has none)
    pin = float(deployment.expert_pin(ep or np.nan, tp or np.nan, m.n_experts > 0))
    expert_width = None if math.isnan(pin) else int(pin)
    if tp is not None:
        domain = int(c.get("scaleup_domain", 1.0))
        if tp > domain and m.n_experts == 0:
            raise ValueError(
                f"tp={tp} exceeds {c.id}'s scale-up domain of {domain} chips; use tp <= {domain} "
                f"and pp or replicas for more chips"
            )
        pads = c.get("head_padding_ranks", 0.0) > 0  # its software pads heads to any width
        if m.n_heads % tp and m.n_experts == 0 and not pads:
            valid = [d for d in (1, 2, 4, 8, 16, 32, 64) if m.n_heads % d == 0 and d <= domain]
            near = min(valid, key=lambda d: (abs(math.log2(d) - math.log2(tp)), d))
            raise ValueError(
                f"tp={tp} does not divide {m.id}'s {m.n_heads} attention heads; nearest valid tp is {near}"
            )
        if tp not in (1, 2, 4, 8, 16, 32, 64) and not pads:
            near = 2 ** round(math.log2(tp))
            raise ValueError(
                f"tp={tp}: tensor-parallel widths are powers of two up to 64; nearest is {near}"
            )
    if pp is not None and pp > m.n_layers:
        raise ValueError(
            f"pp={pp} exceeds {m.id}'s {m.n_layers} layers; the largest valid pp is {m.n_layers}"
        )
    if n_chips is not None:
        used = (tp or 1) * (pp or 1) * (replicas or 1)
        if used > n_chips:
            parts = f"replicas {replicas or 1} x tp {tp or 1} x pp {pp or 1} = {used}"
            fix = n_chips // ((tp or 1) * (pp or 1))
            hint = (
                f"; with this tp and pp at most replicas={fix}"
                if fix >= 1
                else f"; tp x pp must be at most {n_chips}"
            )
            raise ValueError(f"{parts} chips exceeds n_chips={n_chips}{hint}")
    return tp, pp, replicas, expert_width


@dataclass(frozen=True)
class Request:
    """Everything :func:`estimate` and :func:`sweep` were asked, in one object: what to serve
    (each field a value or a list, every combination evaluated), how (the pinned ``split``
    ``(tp, pp, replicas, attention_dp)``, the objective and targets, the serving mode) and how to
    report (``ranges``; ``on_invalid="raise"`` or ``"skip"`` for combinations that cannot run)."""

    model: Any
    chip: Any
    batch: Any = 1
    input_tokens: Any = 1024
    output_tokens: Any = 256
    precision: Any = None
    kv_precision: Any = None
    n_chips: Any = None
    scenario: Any = "base"
    overrides: dict[str, float] = field(default_factory=dict)
    on_invalid: str = "raise"
    ranges: bool = False
    split: tuple | None = None
    objective: str = "throughput"
    min_tokens_per_s_per_user: float | None = None
    max_ttft_s: float | None = None
    ttft_quantile: float | None = None
    mtp_tokens: int = 0
    disaggregated: bool = False
    prefill_chips: int | None = None
    output_tokens_cv: float = 0.0
    engine: str | None = None
    software_age_months: float | None = None


def _ttft_quantile(q, max_ttft_s) -> float | None:
    """``q`` checked: a share of requests strictly between 0 and 1, and only with ``max_ttft_s``."""
    if q is None:
        return None
    if max_ttft_s is None:
        raise ValueError(
            f"ttft_quantile={q!r} needs max_ttft_s: the time within which that share of requests "
            "must see their first token (e.g. max_ttft_s=2, ttft_quantile=0.99)"
        )
    if isinstance(q, bool) or not isinstance(q, (int, float)) or not 0.0 < float(q) < 1.0:
        raise ValueError(
            f"ttft_quantile must be a share of requests between 0 and 1 (e.g. 0.99), got {q!r}"
        )
    return float(q)


def _grid(req: Request):
    """Validate ``req`` and evaluate every combination. Returns (columns dict, skipped list).

    ``ranges=True`` adds ``<metric>_low`` / ``<metric>_high`` columns: the chosen deployment
    (same chips, same split, same batch) re-evaluated with every estimated catalog number and
    factor at its optimistic and at its pessimistic bound; low/high are the element-wise
    min/max of the row's value and the two bounds, so ``low <= value <= high``."""
    model, chip, batch, precision, kv_precision = (
        req.model,
        req.chip,
        req.batch,
        req.precision,
        req.kv_precision,
    )
    models = [catalog.get_model(m).id for m in _as_list(model, "model")]
    chips = [catalog.get_chip(c) for c in _as_list(chip, "chip")]
    batches = [None if b is None else _count("batch", b) for b in _as_list(batch, "batch")]
    ins = [
        _count("input_tokens", s, MAX_TOKENS) for s in _as_list(req.input_tokens, "input_tokens")
    ]
    outs = [
        _count("output_tokens", o, MAX_TOKENS) for o in _as_list(req.output_tokens, "output_tokens")
    ]
    n_list = [None if n is None else _count("n_chips", n) for n in _as_list(req.n_chips, "n_chips")]
    scenarios = [factors.check_scenario(s) for s in _as_list(req.scenario, "scenario")]
    kv_req = [
        None if k is None else formats.check_kv_format(k).id
        for k in _as_list(kv_precision, "kv_precision")
    ]
    overrides = check_assumption_overrides(req.overrides)
    try:
        mtp = require_count("mtp_tokens", req.mtp_tokens, limit=16, minimum=0)
    except ValueError:
        raise ValueError(
            f"mtp_tokens must be between 0 and 16 draft tokens, got {req.mtp_tokens!r}"
        ) from None
    tgt_user = (
        None
        if req.min_tokens_per_s_per_user is None
        else require_positive("min_tokens_per_s_per_user", req.min_tokens_per_s_per_user)
    )
    tgt_ttft = None if req.max_ttft_s is None else require_positive("max_ttft_s", req.max_ttft_s)
    tail = _ttft_quantile(req.ttft_quantile, tgt_ttft)
    cv = require_number("output_tokens_cv", req.output_tokens_cv, 0.0, MAX_OUTPUT_CV)
    age = (
        None
        if req.software_age_months is None
        else require_number("software_age_months", req.software_age_months, 0.0, 1200.0)
    )
    goal = deployment.Goal(req.objective, tgt_user, tgt_ttft)
    mode = serving.Mode(
        float(mtp),
        bool(req.disaggregated),
        np.nan if req.prefill_chips is None else float(req.prefill_chips),
        np.inf if tail is None else tgt_ttft,
        0.99 if tail is None else tail,
        cv,
    )
    skipped: list[str] = []

    def bad(msg: str):
        if req.on_invalid == "raise":
            raise ValueError(msg)
        skipped.append(msg)

    triples = []
    for c in chips:
        for p in _as_list(precision, "precision"):
            try:
                fmt = _resolve_format(c, p)
            except UnknownNameError:
                raise
            except ValueError as exc:
                bad(str(exc))
                continue
            for k in kv_req:
                triples.append((c, fmt, k or formats.default_kv_format(fmt)))
    engine_of: dict[str, str] = {}  # the engine each chip runs (a chip it cannot run on is skipped)
    for c in chips:
        try:
            engine_of[c.id] = software.check_engine(req.engine, c.id)
        except UnknownNameError:
            raise
        except ValueError as exc:
            bad(str(exc))
    triples = [t for t in triples if t[0].id in engine_of]
    engines = [engine_of[c.id] for c, _, _ in triples]
    if not triples:
        raise ValueError("no valid (chip, precision) combination: " + "; ".join(skipped))

    n_t, n_s = len(triples), len(scenarios)
    hw_pairs = [(c.id, f) for c, f, _ in triples]
    hw_all = _stack([hardware_arrays(hw_pairs, s) for s in scenarios])  # index = s * n_t + t
    f_all = _stack(
        [
            factors.factor_arrays(
                [c.id for c, _, _ in triples],
                s,
                overrides,
                engines=engines,
                software_age_months=age,
            )
            for s in scenarios
        ]
    )
    wbits = np.array(
        [[formats.bits_per_weight(f, s) for _, f, _ in triples] for s in scenarios]
    ).ravel()
    kbits = np.array(
        [[formats.bits_per_weight(k, "base") for _, _, k in triples] for _ in scenarios]
    ).ravel()
    marr = model_arrays(models)

    n_vals = np.array([np.nan if n is None else n for n in n_list], dtype=float)
    b_vals = np.array([np.nan if b is None else b for b in batches], dtype=float)
    # the grid stays open: each axis its own dimension, so numpy broadcasting computes a quantity
    # once per combination of the axes it depends on (weights once per model and format, KV once
    # per model, batch and context, ...); columns are flattened in the end, in C order
    axes = [
        np.arange(len(models)),
        np.arange(n_t),
        np.arange(n_s),
        b_vals,
        np.array(ins, float),
        np.array(outs, float),
        n_vals,
    ]
    shape = tuple(len(x) for x in axes)
    mi, ti, si, B, S, O, N = (
        x.reshape([-1 if j == i else 1 for j in range(len(axes))]) for i, x in enumerate(axes)
    )

    keep = np.ones(shape[:2], bool)
    for a_i, m_id in enumerate(models):
        for t_i, (c, f, _) in enumerate(triples):
            why = _compatible(m_id, c)
            if why:
                keep[a_i, t_i] = False
                bad(why)
    keep = np.broadcast_to(keep.reshape(shape[:2] + (1,) * 5), shape)
    too_long = np.broadcast_to((S + O) > marr.max_context[mi], shape)
    if too_long.any():
        for a_i in np.unique(np.broadcast_to(mi, shape)[too_long]):
            bad(
                f"input_tokens + output_tokens exceeds {models[a_i]}'s maximum context of "
                f"{int(marr.max_context[a_i]):,} tokens"
            )
        keep = keep & ~too_long
    if not keep.any():
        raise ValueError("nothing left to evaluate: " + "; ".join(dict.fromkeys(skipped)))

    def block(mi, ti, kept):
        """Columns for the open grid of models ``mi`` x (chip, format) triples ``ti`` x every
        other axis, flattened in C order, the rows where ``kept`` is False left out."""
        shape = kept.shape
        kept = None if kept.all() else kept
        si_, B_, S_, O_, N_ = si, B, S, O, N
        single = kept is None and math.prod(shape) == 1
        if single:
            # one configuration (an estimate): every axis becomes a numpy scalar, so the engine's
            # element-wise operations run over the candidate deployments alone
            mi, ti, si_, B_, S_, O_, N_ = (
                np.reshape(x, (-1,))[0] for x in (mi, ti, si, B, S, O, N)
            )

        def flat(x):
            """One column: ``x`` spread over the block's grid, in C order, only the kept rows."""
            if single:
                return np.asarray(x).reshape(1)
            if np.shape(x) != shape:
                x = np.broadcast_to(x, shape)
            return x.reshape(-1) if kept is None else x[kept]

        def labels(names: list[str], index) -> Labels:
            """A name column: ``names[index]`` over the block's grid (coded against every name,
            so the blocks' columns join: a one-row block of a sweep over several models keeps the
            whole vocabulary)."""
            if single and len(names) == 1:
                return Labels(np.array(names, dtype=object), np.zeros(1, np.intp))
            return Labels.of(names, flat(index))

        k = si_ * n_t + ti
        hw = hw_all.take(k)
        uniform = float if single else _uniform  # one configuration: every factor one number
        f = serving.Factors(**{name: uniform(v[k]) for name, v in f_all.__dict__.items()})
        m = marr.take(mi)
        wb, kb = wbits[k], kbits[k]
        tp, pp, reps, ep, dpa = req.split or (None, None, None, None, None)
        nan = lambda v: np.nan if v is None else float(v)  # noqa: E731
        pins = deployment.Pins(
            nan(tp), nan(pp), nan(reps), nan(None if dpa is None else int(bool(dpa))), nan(ep)
        )
        # the reading changes the numbers, not the decisions: chips, split and batch are chosen at the
        # base reading, then every row is evaluated under its own (so optimistic >= base >= pessimistic)
        if all(s == "base" for s in scenarios):
            hw_d, f_d, wb_d = hw, f, wb
        else:
            hw_d = hardware_arrays(hw_pairs, "base").take(ti)
            f_b = factors.factor_arrays(
                [c.id for c, _, _ in triples],
                "base",
                overrides,
                engines=engines,
                software_age_months=age,
            )
            f_d = serving.Factors(**{name: _uniform(v[ti]) for name, v in f_b.__dict__.items()})
            wb_d = np.array([formats.bits_per_weight(fm, "base") for _, fm, _ in triples])[ti]
        res = deployment.search(
            m,
            hw_d,
            f_d,
            N_,
            B_,
            S_,
            O_,
            wb_d,
            kb,
            pins,
            goal,
            mode,
        )
        if hw_d is not hw:
            res = deployment.reread(
                res,
                m,
                hw,
                f,
                S_,
                O_,
                wb,
                kb,
                goal,
                mode,
            )

        w = weights_bytes(m, wb)
        kv = kv_bytes_held(m, res["batch"], S_, O_, kb, cv)
        cols = {
            "model": labels(models, mi),
            "chip": labels([c.id for c, _, _ in triples], ti),
            "precision": labels([f for _, f, _ in triples], ti),
            "kv_precision": labels([k for _, _, k in triples], ti),
            "engine": labels(engines, ti),
            "scenario": labels(scenarios, si_),
            "batch": np.round(flat(res["batch"])).astype(np.int64),
            "batch_requested": flat(B_),
            "input_tokens": flat(S_).astype(np.int64),
            "output_tokens": flat(O_).astype(np.int64),
            "n_chips": flat(res["n_chips"]).astype(np.int64),
            "n_chips_needed": flat(res["n_chips_needed"]).astype(np.int64),
            "fits": flat(res["fits"]),
            "why": flat(res["why"]),
            "weights_gb": flat(w / 1e9),
            "kv_cache_gb": flat(kv / 1e9),
            "tp": flat(res["tp"]).astype(np.int64),
            "pp": flat(res["pp"]).astype(np.int64),
            "ep": flat(res["ep"]).astype(np.int64),
            "replicas": flat(res["replicas"]).astype(np.int64),
            "attention_dp": flat(res["dp_attention"]).astype(bool),
            "batch_per_instance": np.round(flat(res["batch_per_instance"])).astype(np.int64),
            "bound": Labels(_BOUND_NAMES, _BOUND_CODES[flat(res["bound_index"])]),
        }
        for name in METRICS:
            cols[name] = flat(res[name])
        if req.ranges:
            # the same deployments, read at both bounds (deployment.reread, as for a scenario)
            bounds = []
            for bscen in ("optimistic", "pessimistic"):
                hw_b = hardware_arrays(hw_pairs, bscen).take(ti)
                wb_b = np.array([formats.bits_per_weight(fm, bscen) for _, fm, _ in triples])[ti]
                f_b = factors.factor_arrays(
                    [c.id for c, _, _ in triples], bscen, overrides, engines=engines
                )
                f_b = serving.Factors(**{name: v[ti] for name, v in f_b.__dict__.items()})
                bounds.append(deployment.reread(res, m, hw_b, f_b, S_, O_, wb_b, kb, mode=mode))
            for name in METRICS:
                stack = np.stack([cols[name], flat(bounds[0][name]), flat(bounds[1][name])])
                cols[f"{name}_low"] = stack.min(axis=0)
                cols[f"{name}_high"] = stack.max(axis=0)
        cols["_storage_gb"] = flat(
            memory.storage_capacity_bytes(hw, f.usable_memory_fraction) / memory.GB
        )
        return cols

    # blocks of about BLOCK_CONFIGS configurations (one model, a run of triples): each block's
    # arrays stay in the processor's cache, and the blocks in order are the grid in C order
    inner = math.prod(shape[2:])
    per = max(1, BLOCK_CONFIGS // inner)
    blocks = [
        block(mi[a : a + 1], ti[:, t : t + per], keep[a : a + 1, t : t + per])
        for a in range(shape[0])
        for t in range(0, shape[1], per)
        if keep[a : a + 1, t : t + per].any()
    ]
    if len(blocks) == 1:
        return blocks[0], list(dict.fromkeys(skipped))
    cols = {name: _concat([b[name] for b in blocks]) for name in blocks[0]}
    return cols, list(dict.fromkeys(skipped))


#: The engine's bound names (``serving.BOUNDS``) as a sorted :class:`Labels` vocabulary.
_BOUND_NAMES = np.array(sorted(serving.BOUNDS), dtype=object)
_BOUND_CODES = np.searchsorted(_BOUND_NAMES.astype(str), serving.BOUNDS)

#: Configurations evaluated together by :func:`sweep` (larger grids go in blocks of about this many).
BLOCK_CONFIGS = 32_768


def _concat(parts: list):
    """Join a column's blocks (arrays, or :class:`Labels` over the same names)."""
    if len(parts) == 1:
        return parts[0]
    if isinstance(parts[0], Labels):
        return Labels(parts[0].names, np.concatenate([p.codes for p in parts]))
    return np.concatenate(parts)


def _python(x):
    """A numpy scalar (e.g. a :class:`Labels` entry, ``np.str_``) as the plain Python value."""
    return x.item() if isinstance(x, np.generic) else x


def _uniform(values: np.ndarray):
    """A factor that is the same for every configuration as one float (the engine broadcasts it:
    fewer element-wise operations), else the array."""
    v = np.asarray(values)
    if v.size == 1:
        return float(v.flat[0])
    return float(v.flat[0]) if v.size and (v == v.flat[0]).all() else v


class Labels:
    """A column of names stored as codes into a few unique names (a sweep's model, chip, format
    and scenario columns): indexing with an int gives the name, with an array a sub-column, and
    :meth:`categorical` builds the DataFrame column without factorising millions of strings."""

    def __init__(self, names: np.ndarray, codes: np.ndarray) -> None:
        self.names, self.codes = names, codes

    @classmethod
    def of(cls, values: list[str], index: np.ndarray) -> Labels:
        unique = sorted(set(values))
        position = {v: i for i, v in enumerate(unique)}
        codes = np.fromiter((position[v] for v in values), dtype=np.intp, count=len(values))
        return cls(np.array(unique, dtype=object), codes[index])

    def __len__(self) -> int:
        return len(self.codes)

    def __getitem__(self, i):
        if np.ndim(i) == 0:
            return self.names[self.codes[i]]
        return Labels(self.names, self.codes[i])

    def categorical(self):
        import pandas as pd

        return pd.Categorical.from_codes(self.codes, categories=self.names)


def _stack(items):
    """Concatenate a list of same-typed dataclasses of arrays field by field."""
    if len(items) == 1:
        return items[0]
    cls = type(items[0])
    return cls(
        **{
            k: np.concatenate([np.atleast_1d(getattr(x, k)) for x in items])
            for k in cls.__dataclass_fields__
        }
    )


_SCALARS = (
    "batch",
    "input_tokens",
    "output_tokens",
    "n_chips",
    "precision",
    "kv_precision",
    "scenario",
)


def _prefill_pool(prefill_chips, n_chips_list, disaggregated) -> int | None:
    """A fixed prefill pool, checked: a disaggregated system with more chips than the pool."""
    if prefill_chips is None:
        return None
    pool = _count("prefill_chips", prefill_chips)
    if not disaggregated or any(n is None or pool >= n for n in n_chips_list):
        raise ValueError(
            "prefill_chips fixes the prefill pool of a disaggregated system: it needs "
            "disaggregated=True and n_chips larger than the pool, got "
            f"prefill_chips={pool}, n_chips={n_chips_list if len(n_chips_list) > 1 else n_chips_list[0]}, "
            f"disaggregated={disaggregated}"
        )
    return pool


def estimate(
    model: str,
    chip: str,
    n_chips: int | None = None,
    batch: int | None = 1,
    input_tokens: int = 1024,
    output_tokens: int = 256,
    precision: str | None = None,
    kv_precision: str | None = None,
    scenario: str = "base",
    ranges: bool = False,
    *,
    tp: int | None = None,
    pp: int | None = None,
    ep: int | None = None,
    replicas: int | None = None,
    attention_dp: bool | None = None,
    objective: str = "throughput",
    min_tokens_per_s_per_user: float | None = None,
    max_ttft_s: float | None = None,
    ttft_quantile: float | None = None,
    mtp_tokens: int = 0,
    disaggregated: bool = False,
    prefill_chips: int | None = None,
    output_tokens_cv: float = 0.0,
    engine: str | None = None,
    software_age_months: float | None = None,
    **assumption_overrides: float,
) -> Estimate:
    """Serve ``model`` on ``chip``: chips, deployment, latency, throughput, cost and energy.

    ``n_chips=None`` uses the fewest chips that hold the weights and the KV cache of ``batch``
    sequences of ``input_tokens + output_tokens`` tokens. ``batch`` counts the whole system's
    concurrent sequences; ``batch=None`` serves as many as fit (the engine's limit included).
    The deployment (``replicas x (tp x pp)``, TP or DP attention) is chosen for ``objective``
    (``"throughput"``: most tokens/s per chip; ``"latency"``: most tokens/s per user) under the
    optional targets ``min_tokens_per_s_per_user`` and ``max_ttft_s`` (a lone request's time to
    first token; with ``ttft_quantile``, e.g. 0.99, the time that share of requests arriving at
    random must meet, so the system is loaded only as far as its prefill queue allows, as in
    MLPerf's server scenario: :func:`inference_wars.engine.serving.poisson_load_cap`); pin any part
    with ``tp``, ``pp``, ``ep``, ``replicas``, ``attention_dp`` (a MoE model's experts are spread
    over the ``tp`` chips of a stage; an ``ep`` below ``tp`` splits each expert over ``tp / ep``
    chips, as SGLang's and vLLM's TP-only MoE at ``ep=1``: every chip loads alike, but multiplies
    smaller slices, :func:`inference_wars.engine.serving.expert_layout`). ``mtp_tokens`` draft
    tokens per step turn on speculative decoding / multi-token prediction; ``disaggregated=True``
    runs prefill on its own chips, a pool the engine sizes to keep up with decode, or
    ``prefill_chips`` of the ``n_chips`` (then the system delivers what the slower pool allows).
    ``scenario`` reads estimated numbers at their base, optimistic or pessimistic bound; keyword
    overrides replace factors, e.g. ``usd_per_kwh=0.05``.

    ``output_tokens_cv`` says how much answer lengths vary around ``output_tokens`` (standard
    deviation / mean; 0: all one length): long answers hold their batch slot for longer, so a
    decode step reads the KV cache of :func:`inference_wars.engine.workload.decode_context`
    tokens per sequence, ``S + O/2 * (1 + cv^2)`` (reasoning models' answers vary most).

    ``engine`` names the serving software (``"tensorrt-llm"``, ``"vllm"``, ``"sglang"``,
    ``"atom"``, ...: ``data/engines.csv``); None assumes the chip's default
    (:func:`inference_wars.engine.software.default_engine`: TensorRT-LLM on NVIDIA GPUs, vLLM on
    AMD GPUs and TPUs). Its fitted ``engine_efficiency`` scales the compute, memory and KV-cache
    efficiencies and divides the kernel overheads (:func:`inference_wars.engine.factors.factor_arrays`).

    ``software_age_months`` asks about young software: the engine as it ran that many months
    after the model's architecture first shipped (:func:`inference_wars.engine.software.maturity`,
    with the fitted ``young_software_slowdown``; months from the first DeepSeek-V3 for
    DeepSeek-R1, from Llama 2 70B for Llama 3.1). Its efficiencies are scaled as the measured
    results of that age are (:func:`inference_wars.evidence.validation.software_maturity`). None
    (the default): mature software.

    ``ranges=True`` fills ``Estimate.ranges`` with ``{metric: [low, high]}`` for the same
    deployment under the optimistic and pessimistic readings (see :func:`sweep`).
    """
    if "calibrated" in assumption_overrides:
        raise ValueError(
            "calibrated= is gone: the default estimate already uses the factors fitted to measured "
            "results (see inference_wars.evidence.calibration)"
        )
    for name, v in (("model", model), ("chip", chip)):
        if not isinstance(v, str):
            raise ValueError(f"estimate() takes one {name} id as a string; use sweep() for several")
    for name, v in zip(
        _SCALARS, (batch, input_tokens, output_tokens, n_chips, precision, kv_precision, scenario)
    ):
        if v is not None and not isinstance(v, (str, bytes)) and isinstance(v, Iterable):
            raise ValueError(
                f"estimate() takes one {name}, got {v!r}; use sweep() for several values"
            )
    m_id, c, _, _ = resolve(model, chip, precision, kv_precision)
    n_chips = None if n_chips is None else _count("n_chips", n_chips)
    prefill_chips = _prefill_pool(prefill_chips, [n_chips], disaggregated)
    split = check_split(
        m_id,
        c.id,
        None if n_chips is None else n_chips - (prefill_chips or 0),
        tp,
        pp,
        ep,
        replicas,
    ) + (attention_dp,)
    cols, _ = _grid(
        Request(
            model=m_id,
            chip=c.id,
            batch=batch,
            input_tokens=input_tokens,
            output_tokens=output_tokens,
            precision=precision,
            kv_precision=kv_precision,
            n_chips=n_chips,
            scenario=scenario,
            overrides=assumption_overrides,
            on_invalid="raise",
            ranges=ranges,
            split=split,
            objective=objective,
            min_tokens_per_s_per_user=min_tokens_per_s_per_user,
            max_ttft_s=max_ttft_s,
            ttft_quantile=ttft_quantile,
            mtp_tokens=mtp_tokens,
            disaggregated=disaggregated,
            prefill_chips=prefill_chips,
            output_tokens_cv=output_tokens_cv,
            engine=engine,
            software_age_months=software_age_months,
        )
    )
    row = {k: (v.item() if isinstance(v, np.ndarray) else _python(v[0])) for k, v in cols.items()}
    if ranges:
        row["ranges"] = {k: [row.pop(f"{k}_low"), row.pop(f"{k}_high")] for k in METRICS}
    fits = bool(row["fits"])
    storage = row.pop("_storage_gb")
    why = row.pop("why")
    row.pop("batch_requested")
    row["batch"] = None if batch is None else row["batch"]
    if fits:
        reason = "fits"
    else:
        reason = _reason(
            row, c, storage, why, min_tokens_per_s_per_user, max_ttft_s, batch, scenario
        )
        for k in METRICS + (
            "bound",
            "tp",
            "pp",
            "ep",
            "replicas",
            "attention_dp",
            "batch_per_instance",
        ):
            row[k] = None
        if ranges:
            row["ranges"] = None
    row["reason"] = reason
    row["fits"] = fits
    return Estimate(**row)


def _reason(
    row: dict,
    c: catalog.Chip,
    storage_gb: float,
    why: int,
    tgt_user,
    tgt_ttft,
    batch,
    scenario: str = "base",
) -> str:
    have = row["n_chips"] * storage_gb
    if why == 3:
        targets = " and ".join(
            t
            for t in (
                None if tgt_user is None else f"{tgt_user:g} tok/s per user",
                None if tgt_ttft is None else f"a TTFT of {tgt_ttft:g} s",
            )
            if t
        )
        where = (
            ""
            if scenario == "base"
            else f" (deployment chosen at the base reading, read {scenario})"
        )
        return (
            f"no deployment of {row['n_chips']} x {c.id} meets {targets}{where}; try more chips, a smaller batch "
            f"or a looser target"
        )
    if why == 2:
        return "the pinned split (tp, pp, replicas, attention_dp) is not possible here; leave parts free"
    if c.hardwired_model:
        return (
            f"does not fit: KV cache {row['kv_cache_gb']:.2f} GB exceeds the {have:.2f} GB of SRAM on "
            f"{row['n_chips']} x {c.id}; use n_chips >= {row['n_chips_needed']} or a smaller batch or context"
        )
    b = "the batch" if batch is not None else "one sequence"
    return (
        f"does not fit: weights {row['weights_gb']:.1f} GB + KV cache of {b} need more than the {have:.1f} GB "
        f"usable on {row['n_chips']} x {c.id} in any split; use n_chips >= {row['n_chips_needed']} "
        f"or a smaller batch, context or precision"
    )


def sweep(
    model: str | Sequence[str],
    chip: str | Sequence[str],
    batch=1,
    input_tokens=1024,
    output_tokens=256,
    precision=None,
    kv_precision=None,
    n_chips=None,
    scenario="base",
    drop_unfit: bool = True,
    ranges: bool = False,
    *,
    tp: int | None = None,
    pp: int | None = None,
    replicas: int | None = None,
    attention_dp: bool | None = None,
    objective: str = "throughput",
    min_tokens_per_s_per_user: float | None = None,
    max_ttft_s: float | None = None,
    ttft_quantile: float | None = None,
    mtp_tokens: int = 0,
    disaggregated: bool = False,
    prefill_chips: int | None = None,
    output_tokens_cv: float = 0.0,
    engine: str | None = None,
    software_age_months: float | None = None,
    **assumption_overrides: float,
):
    """Evaluate every combination of the arguments (each a value or a list) as a DataFrame.

    Each row carries the deployment the search chose (``tp``, ``pp``, ``ep``, ``replicas``,
    ``attention_dp``, ``batch_per_instance``). Combinations that cannot run (a format the chip
    lacks, another model on a hard-wired chip, a context beyond the model's maximum) are left
    out and listed in ``df.attrs["skipped"]``. Rows that do not fit or miss a target are dropped
    (``drop_unfit=True``; their count is in ``df.attrs["unfit"]``) so every metric is finite.

    ``ranges=True`` adds ``<metric>_low`` and ``<metric>_high`` for every metric: the same
    deployment evaluated with all estimated catalog numbers and factors at their optimistic and
    pessimistic bounds. ``low`` is always the smaller number and ``low <= value <= high``.
    ``prefill_chips`` fixes a disaggregated system's prefill pool inside every ``n_chips``, and
    ``engine`` the serving software on every chip it runs on (chips it does not run on are
    skipped; see :func:`estimate`), and ``software_age_months`` reads every engine as young
    software of that age (see :func:`estimate`).
    """
    import pandas as pd

    if "calibrated" in assumption_overrides:
        raise ValueError(
            "calibrated= is gone: the default estimate already uses the fitted factors"
        )
    prefill_chips = _prefill_pool(
        prefill_chips,
        [None if n is None else _count("n_chips", n) for n in _as_list(n_chips, "n_chips")],
        disaggregated,
    )
    split = (tp, pp, replicas, None, attention_dp)
    if any(x is not None for x in split[:3]):
        split = (
            None if tp is None else _count("tp", tp),
            None if pp is None else _count("pp", pp),
            None if replicas is None else _count("replicas", replicas),
            None,
            attention_dp,
        )
    cols, skipped = _grid(
        Request(
            model=model,
            chip=chip,
            batch=batch,
            input_tokens=input_tokens,
            output_tokens=output_tokens,
            precision=precision,
            kv_precision=kv_precision,
            n_chips=n_chips,
            scenario=scenario,
            overrides=assumption_overrides,
            on_invalid="skip",
            ranges=ranges,
            split=split,
            objective=objective,
            min_tokens_per_s_per_user=min_tokens_per_s_per_user,
            max_ttft_s=max_ttft_s,
            ttft_quantile=ttft_quantile,
            mtp_tokens=mtp_tokens,
            disaggregated=disaggregated,
            prefill_chips=prefill_chips,
            output_tokens_cv=output_tokens_cv,
            engine=engine,
            software_age_months=software_age_months,
        )
    )
    cols.pop("_storage_gb")
    cols.pop("why")
    cols.pop("batch_requested")
    fits = cols["fits"]
    unfit = int((~fits).sum())
    if drop_unfit and unfit:
        cols = {k: v[fits] for k, v in cols.items()}
    for k in ("model", "chip", "precision", "kv_precision", "engine", "scenario", "bound"):
        v = cols[k]
        cols[k] = v.categorical() if isinstance(v, Labels) else pd.Categorical(v)
    cols["bound"] = cols["bound"].remove_unused_categories()
    # one block per column, as computed: consolidating a million rows into one 2-D block copies
    # every column (a quarter of a large sweep's time); pandas copies on write anyway
    df = pd.DataFrame(cols, copy=False)
    if not drop_unfit and unfit:
        for k in METRICS:
            for col in (k, f"{k}_low", f"{k}_high") if ranges else (k,):
                df.loc[~df["fits"], col] = np.nan
    df.attrs["skipped"] = skipped
    df.attrs["unfit"] = unfit
    return df


def max_concurrent_sequences(
    model: str,
    chip: str,
    n_chips: int,
    context_tokens: int,
    precision: str | None = None,
    kv_precision: str | None = None,
    scenario: str = "base",
) -> int:
    """How many sequences of ``context_tokens`` fit next to the weights on ``n_chips`` chips:
    ``floor((n * usable capacity - weights) / KV bytes per sequence)`` (0 if the weights alone
    do not fit; for a hard-wired chip the weights live in ROM and all storage holds KV)."""
    m_id, c, fmt, kv_fmt = resolve(model, chip, precision, kv_precision)
    factors.check_scenario(scenario)
    n = _count("n_chips", n_chips)
    ctx = _count("context_tokens", context_tokens, MAX_TOKENS)
    from .engine import memory, workload

    m = workload.model_arrays([m_id])
    if ctx > m.max_context[0]:
        raise ValueError(
            f"context_tokens exceeds {m_id}'s maximum context of {int(m.max_context[0]):,} tokens"
        )
    hw = hardware_arrays([(c.id, fmt)], scenario)
    usable = factors.chip_factors(c.id, scenario)["usable_memory_fraction"]
    cap = n * memory.storage_capacity_bytes(hw, usable)[0]
    w = (
        0.0
        if c.hardwired_model
        else workload.weights_bytes(m, formats.bits_per_weight(fmt, scenario))[0]
    )
    per_seq = workload.kv_bytes_per_sequence(m, ctx, formats.bits_per_weight(kv_fmt))[0]
    return int(max(cap - w, 0.0) // per_seq)
