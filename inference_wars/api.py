"""The public entry points: :func:`estimate` for one configuration, :func:`sweep` for a grid.

Both run the same vectorised engine (:mod:`inference_wars.serving`); ``sweep`` evaluates
every combination of its arguments without a Python loop per row.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from . import catalog, formats, serving
from .errors import UnknownNameError, require_positive, require_positive_int
from .hardware import hardware_arrays
from .workload import model_arrays

#: Whether a larger value of an assumption helps the hardware (for optimistic/pessimistic).
ASSUMPTION_DIRECTION = {
    "compute_efficiency": +1, "memory_efficiency": +1, "sram_efficiency": +1,
    "interconnect_efficiency": +1, "collective_latency_us": -1, "scaleout_latency_us": -1,
    "usable_memory_fraction": +1, "activation_bytes": -1, "pue": -1, "usd_per_kwh": -1,
    "amortization_years": +1, "utilization": +1,
}
_FRACTIONS = {"compute_efficiency", "memory_efficiency", "sram_efficiency", "interconnect_efficiency",
              "usable_memory_fraction", "utilization"}

METRICS = ("ttft_s", "tpot_s", "tokens_per_s_per_user", "tokens_per_s", "tokens_per_s_per_chip",
           "usd_per_million_tokens", "joules_per_token", "tokens_per_s_per_mw")

#: Metrics where a smaller value is better (their optimistic reading is their ``_low`` column).
LOWER_IS_BETTER = frozenset({"ttft_s", "tpot_s", "usd_per_million_tokens", "joules_per_token"})


def assumptions_for(scenario: str = "base", **overrides: float) -> serving.Assumptions:
    """Modelling assumptions for a scenario, with explicit overrides (validated)."""
    if scenario not in catalog.SCENARIOS:
        raise ValueError(f"scenario must be one of {', '.join(catalog.SCENARIOS)}, got {scenario!r}")
    values = {}
    for key, direction in ASSUMPTION_DIRECTION.items():
        if scenario == "base":
            which = "base"
        else:
            good = "high" if direction > 0 else "low"
            bad = "low" if direction > 0 else "high"
            which = good if scenario == "optimistic" else bad
        values[key] = catalog.assumption(key, which)
    for key, v in overrides.items():
        if key not in ASSUMPTION_DIRECTION:
            raise UnknownNameError("assumption", key, ASSUMPTION_DIRECTION)
        v = require_positive(key, v)
        if key in _FRACTIONS and v > 1:
            raise ValueError(f"{key} is a fraction and must be in (0, 1], got {v!r}")
        values[key] = v
    return serving.Assumptions(**values)


@dataclass(frozen=True)
class Estimate:
    """One configuration's result. Metrics are ``None`` when the model does not fit."""

    model: str
    chip: str
    precision: str
    kv_precision: str
    batch: int
    input_tokens: int
    output_tokens: int
    scenario: str
    fits: bool
    n_chips: int
    n_chips_needed: int
    weights_gb: float
    kv_cache_gb: float
    reason: str
    bound: str | None = None
    tp: int | None = None
    pp: int | None = None
    replicas: int | None = None
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

    def bounds(self, metric: str) -> tuple[float, float, float]:
        """``(low, value, high)`` of one metric; needs ``estimate(..., ranges=True)``."""
        if metric not in METRICS:
            raise UnknownNameError("metric", metric, METRICS)
        if self.ranges is None:
            raise ValueError("this estimate has no ranges: call estimate(..., ranges=True)")
        if not self.fits:
            raise ValueError(f"no metrics: {self.reason}")
        low, high = self.ranges[metric]
        return low, getattr(self, metric), high

    def __str__(self) -> str:
        head = f"{self.model} on {self.n_chips} x {self.chip} ({self.precision}, batch {self.batch}, {self.input_tokens}+{self.output_tokens} tokens)"
        if not self.fits:
            return f"{head}: does not fit. {self.reason}"
        return (f"{head}: {self.bound}-bound; TTFT {self.ttft_s * 1e3:.1f} ms, "
                f"{self.tokens_per_s_per_user:,.0f} tok/s per user, {self.tokens_per_s:,.0f} tok/s total, "
                f"${self.usd_per_million_tokens:.3f} per M tokens, {self.joules_per_token:.3g} J/token")


def _as_list(x, name: str) -> list:
    if x is None:
        return [None]
    if isinstance(x, (str, bytes)) or not isinstance(x, Iterable):
        return [x]
    items = list(x)
    if not items:
        raise ValueError(f"{name} must not be empty")
    return items


def _compatible(model_id: str, chip: catalog.Chip) -> str | None:
    if chip.hardwired_model and chip.hardwired_model != model_id:
        return f"{chip.id} is hard-wired to {chip.hardwired_model} and runs no other model"
    return None


def _resolve_format(chip: catalog.Chip, precision: str | None) -> str:
    """The weight format to run: the chip's default for ``None``; raises if the chip cannot run it."""
    fmt = formats.default_format(chip) if precision is None else catalog.get_format(precision).id
    formats.check_format_on_chip(fmt, chip)
    return fmt


def resolve(model: str, chip: str, precision: str | None = None,
            kv_precision: str | None = None) -> tuple[str, catalog.Chip, str, str]:
    """Check that ``chip`` can run ``model`` and settle the formats:
    ``(model id, chip, weight format, KV format)``. Unknown names suggest the closest match;
    a hard-wired chip asked to run another model, or a format the chip lacks, raises ValueError."""
    c = catalog.get_chip(chip)
    m_id = catalog.get_model(model).id
    why = _compatible(m_id, c)
    if why:
        raise ValueError(why)
    fmt = _resolve_format(c, precision)
    kv_fmt = formats.check_kv_format(kv_precision).id if kv_precision else formats.default_kv_format(fmt)
    return m_id, c, fmt, kv_fmt


def _grid(model, chip, batch, input_tokens, output_tokens, precision, kv_precision, n_chips, scenario,
          overrides: dict[str, float], on_invalid: str, ranges: bool = False, calibrated: bool = False):
    """Validate inputs and evaluate every combination. Returns (columns dict, skipped list).

    ``ranges=True`` adds ``<metric>_low`` / ``<metric>_high`` columns: the same configuration
    (same chips, same parallel split) re-evaluated with every estimated catalog number and
    assumption at its optimistic and at its pessimistic bound (interval propagation through
    the two bounding scenarios); low/high are the element-wise min/max of the row's value and
    the two bounds, so ``low <= value <= high`` for every metric, whichever direction is better.
    ``calibrated=True`` replaces the efficiency assumptions by the factors fitted to measured
    results (:mod:`inference_wars.calibration`), per chip family."""
    models = [catalog.get_model(m).id for m in _as_list(model, "model")]
    chips = [catalog.get_chip(c) for c in _as_list(chip, "chip")]
    batches = [require_positive_int("batch", b) for b in _as_list(batch, "batch")]
    ins = [require_positive_int("input_tokens", s) for s in _as_list(input_tokens, "input_tokens")]
    outs = [require_positive_int("output_tokens", o) for o in _as_list(output_tokens, "output_tokens")]
    n_list = [None if n is None else require_positive_int("n_chips", n) for n in _as_list(n_chips, "n_chips")]
    scenarios = _as_list(scenario, "scenario")
    for s in scenarios:
        if s not in catalog.SCENARIOS:
            raise ValueError(f"scenario must be one of {', '.join(catalog.SCENARIOS)}, got {s!r}")
    kv_req = [None if k is None else formats.check_kv_format(k).id for k in _as_list(kv_precision, "kv_precision")]
    skipped: list[str] = []

    def bad(msg: str):
        if on_invalid == "raise":
            raise ValueError(msg)
        skipped.append(msg)

    # (chip, precision, kv) triples that are valid
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
    if not triples:
        raise ValueError("no valid (chip, precision) combination: " + "; ".join(skipped))

    # hardware arrays per (triple, scenario)
    hw_pairs = [(c.id, f) for c, f, _ in triples]
    hw_by_scen = [hardware_arrays(hw_pairs, s) for s in scenarios]
    n_t, n_s = len(triples), len(scenarios)
    hw_all = type(hw_by_scen[0])(**{k: np.concatenate([getattr(h, k) for h in hw_by_scen])
                                    for k in hw_by_scen[0].__dataclass_fields__})  # index = s * n_t + t
    wbits = np.array([[formats.bits_per_weight(f, s) for _, f, _ in triples] for s in scenarios]).ravel()
    kbits = np.array([[formats.bits_per_weight(k, "base") for _, _, k in triples] for _ in scenarios]).ravel()
    ass = [assumptions_for(s, **overrides) for s in scenarios]
    ass_arr = {k: np.array([getattr(a, k) for a in ass]) for k in serving.Assumptions.__dataclass_fields__}
    marr = model_arrays(models)

    n_vals = np.array([0 if n is None else n for n in n_list], dtype=float)
    axes = [np.arange(len(models)), np.arange(n_t), np.arange(n_s), np.array(batches, float),
            np.array(ins, float), np.array(outs, float), n_vals]
    grid = [g.ravel() for g in np.meshgrid(*axes, indexing="ij")]
    mi, ti, si, B, S, O, N = grid
    mi, ti, si = mi.astype(np.intp), ti.astype(np.intp), si.astype(np.intp)

    # drop incompatible (model, hard-wired chip) and over-long contexts
    keep = np.ones(mi.shape, bool)
    for a_i, m_id in enumerate(models):
        for t_i, (c, f, _) in enumerate(triples):
            why = _compatible(m_id, c)
            if why:
                keep &= ~((mi == a_i) & (ti == t_i))
                bad(why)
    too_long = (S + O) > marr.max_context[mi]
    if too_long.any():
        for a_i in np.unique(mi[too_long]):
            bad(f"input_tokens + output_tokens exceeds {models[a_i]}'s maximum context of "
                f"{int(marr.max_context[a_i]):,} tokens")
        keep &= ~too_long
    if not keep.any():
        raise ValueError("nothing left to evaluate: " + "; ".join(dict.fromkeys(skipped)))
    mi, ti, si, B, S, O, N = (x[keep] for x in (mi, ti, si, B, S, O, N))

    hw = hw_all.take(si * n_t + ti)
    m = marr.take(mi)
    wb, kb = wbits[si * n_t + ti], kbits[si * n_t + ti]
    a_cols = {k: v[si] for k, v in ass_arr.items()}
    cal_cols: dict[str, np.ndarray] = {}    # fitted factor per row, NaN where not fitted
    if calibrated:
        from . import calibration
        cal = calibration.factor_arrays([c.id for c, _, _ in triples])
        cal_cols = {k: v[ti] for k, v in cal.items() if k not in overrides}
        a_cols = calibration.with_fitted(cal_cols, a_cols)
    a = serving.Assumptions(**a_cols)

    w, kv, raw_need, needed = serving.fit(m, hw, B, S, O, wb, kb, a.usable_memory_fraction)
    n = np.where(N > 0, N, needed)
    fits = np.isfinite(raw_need) & (n >= raw_need - 1e-9)
    res = serving.evaluate(m, hw, n, B, S, O, wb, kb, a)

    cols = {
        "model": np.array(models, dtype=object)[mi],
        "chip": np.array([c.id for c, _, _ in triples], dtype=object)[ti],
        "precision": np.array([f for _, f, _ in triples], dtype=object)[ti],
        "kv_precision": np.array([k for _, _, k in triples], dtype=object)[ti],
        "scenario": np.array(scenarios, dtype=object)[si],
        "batch": B.astype(np.int64), "input_tokens": S.astype(np.int64), "output_tokens": O.astype(np.int64),
        "n_chips": n.astype(np.int64), "n_chips_needed": needed.astype(np.int64), "fits": fits,
        "weights_gb": w / 1e9, "kv_cache_gb": kv / 1e9,
        "tp": res["tp"].astype(np.int64), "pp": res["pp"].astype(np.int64), "replicas": res["replicas"].astype(np.int64),
        "bound": res["bound"],
    }
    for k in METRICS:
        cols[k] = res[k]
    if ranges:
        bounds = []
        for bscen in ("optimistic", "pessimistic"):
            hw_b = hardware_arrays(hw_pairs, bscen).take(ti)
            wb_b = np.array([formats.bits_per_weight(f, bscen) for _, f, _ in triples])[ti]
            a_b = {k: np.full(mi.shape, v) for k, v in asdict(assumptions_for(bscen, **overrides)).items()}
            if calibrated:
                a_b = calibration.with_fitted(cal_cols, a_b)
            bounds.append(serving.evaluate(m, hw_b, n, B, S, O, wb_b, kb, serving.Assumptions(**a_b)))
        for k in METRICS:
            stack = np.stack([res[k], bounds[0][k], bounds[1][k]])
            cols[f"{k}_low"] = stack.min(axis=0)
            cols[f"{k}_high"] = stack.max(axis=0)
    cols["_storage_gb"] = (hw.sram_gb + hw.hbm_gb) * a.usable_memory_fraction
    return cols, list(dict.fromkeys(skipped))


def estimate(model: str, chip: str, n_chips: int | None = None, batch: int = 1, input_tokens: int = 1024,
             output_tokens: int = 256, precision: str | None = None, kv_precision: str | None = None,
             scenario: str = "base", ranges: bool = False, calibrated: bool = False,
             **assumption_overrides: float) -> Estimate:
    """Serve ``model`` on ``chip``: chips needed, latency, throughput, cost and energy.

    ``n_chips=None`` uses the fewest chips that hold the weights and the KV cache of ``batch``
    sequences of ``input_tokens + output_tokens`` tokens. ``precision=None`` means bf16 (or the
    only format a chip runs). ``scenario`` reads estimated catalog numbers and assumptions at
    their base, optimistic or pessimistic bound. Keyword overrides replace assumptions, e.g.
    ``usd_per_kwh=0.05`` or ``memory_efficiency=0.8``.

    ``ranges=True`` fills ``Estimate.ranges`` with ``{metric: [low, high]}`` from the estimated
    inputs' bounds, for the same chips and parallel split (see :func:`sweep`).
    ``calibrated=True`` uses the efficiency factors fitted to measured results
    (:mod:`inference_wars.calibration`) instead of the defaults in ``assumptions.csv``.
    """
    for name, v in (("model", model), ("chip", chip)):
        if not isinstance(v, str):
            raise ValueError(f"estimate() takes one {name} id as a string; use sweep() for several")
    c = catalog.get_chip(chip)
    m_id = catalog.get_model(model).id
    why = _compatible(m_id, c)
    if why:
        raise ValueError(why)
    cols, _ = _grid(m_id, c.id, batch, input_tokens, output_tokens, precision, kv_precision, n_chips,
                    scenario, assumption_overrides, on_invalid="raise", ranges=ranges, calibrated=calibrated)
    row = {k: (v[0].item() if hasattr(v[0], "item") else v[0]) for k, v in cols.items()}
    if ranges:
        row["ranges"] = {k: [row.pop(f"{k}_low"), row.pop(f"{k}_high")] for k in METRICS}
    fits = bool(row["fits"])
    storage = row.pop("_storage_gb")
    if fits:
        reason = "fits"
    else:
        have = row["n_chips"] * storage
        reason = (f"weights {row['weights_gb']:.1f} GB + KV cache {row['kv_cache_gb']:.1f} GB need more than the "
                  f"{have:.1f} GB usable on {row['n_chips']} x {c.id}; use n_chips >= {row['n_chips_needed']} "
                  f"or a smaller batch, context or precision")
        if c.hardwired_model:
            reason = (f"KV cache {row['kv_cache_gb']:.2f} GB exceeds the {have:.2f} GB of SRAM on {row['n_chips']} x "
                      f"{c.id}; use n_chips >= {row['n_chips_needed']} or a smaller batch or context")
        for k in METRICS + ("bound", "tp", "pp", "replicas"):
            row[k] = None
        if ranges:
            row["ranges"] = None
    row["reason"] = reason
    row["fits"] = fits
    return Estimate(**row)


def sweep(model: str | Sequence[str], chip: str | Sequence[str], batch=1, input_tokens=1024, output_tokens=256,
          precision=None, kv_precision=None, n_chips=None, scenario="base", drop_unfit: bool = True,
          ranges: bool = False, calibrated: bool = False, **assumption_overrides: float):
    """Evaluate every combination of the arguments (each a value or a list) as a DataFrame.

    Combinations that cannot run (a format the chip lacks, another model on a hard-wired chip,
    a context beyond the model's maximum) are left out and listed in ``df.attrs["skipped"]``.
    With explicit ``n_chips``, rows that do not fit are dropped (``drop_unfit=True``; their
    count is in ``df.attrs["unfit"]``) so every metric column is finite.

    ``ranges=True`` adds ``<metric>_low`` and ``<metric>_high`` for every metric: the same
    configuration (same chips and split) evaluated with all estimated catalog numbers and
    assumptions at their optimistic and pessimistic bounds, vectorised like the rest. ``low`` is
    always the smaller number (for a lower-is-better metric such as ``usd_per_million_tokens``
    the optimistic end is ``_low``) and ``low <= value <= high``. ``calibrated=True`` uses the
    efficiency factors fitted to measured results (:mod:`inference_wars.calibration`).
    """
    import pandas as pd

    cols, skipped = _grid(model, chip, batch, input_tokens, output_tokens, precision, kv_precision, n_chips,
                          scenario, assumption_overrides, on_invalid="skip", ranges=ranges, calibrated=calibrated)
    cols.pop("_storage_gb")
    fits = cols["fits"]
    unfit = int((~fits).sum())
    if drop_unfit and unfit:
        cols = {k: v[fits] for k, v in cols.items()}
    for k in ("model", "chip", "precision", "kv_precision", "scenario", "bound"):
        cols[k] = pd.Categorical(cols[k])
    df = pd.DataFrame(cols)
    if not drop_unfit and unfit:
        for k in METRICS:
            for col in (k, f"{k}_low", f"{k}_high") if ranges else (k,):
                df.loc[~df["fits"], col] = np.nan
    df.attrs["skipped"] = skipped
    df.attrs["unfit"] = unfit
    return df


def max_concurrent_sequences(model: str, chip: str, n_chips: int, context_tokens: int, precision: str | None = None,
                             kv_precision: str | None = None, scenario: str = "base") -> int:
    """How many sequences of ``context_tokens`` fit next to the weights on ``n_chips`` chips:
    ``floor((n * usable capacity - weights) / KV bytes per sequence)`` (0 if the weights alone
    do not fit; for a hard-wired chip the weights live in ROM and all storage holds KV)."""
    m_id, c, fmt, kv_fmt = resolve(model, chip, precision, kv_precision)
    n = require_positive_int("n_chips", n_chips)
    ctx = require_positive_int("context_tokens", context_tokens)
    from . import memory, workload
    m = workload.model_arrays([m_id])
    if ctx > m.max_context[0]:
        raise ValueError(f"context_tokens exceeds {m_id}'s maximum context of {int(m.max_context[0]):,} tokens")
    hw = hardware_arrays([(c.id, fmt)], scenario)
    usable = assumptions_for(scenario).usable_memory_fraction
    cap = n * memory.storage_capacity_bytes(hw, usable)[0]
    w = 0.0 if c.hardwired_model else workload.weights_bytes(m, formats.bits_per_weight(fmt, scenario))[0]
    per_seq = workload.kv_bytes_per_sequence(m, ctx, formats.bits_per_weight(kv_fmt))[0]
    return int(max(cap - w, 0.0) // per_seq)
