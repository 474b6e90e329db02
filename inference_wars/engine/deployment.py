"""Choosing how a system of chips serves a model: ``replicas x (tp x pp)``, TP or DP attention.

Real systems rarely stretch one copy of a model over every chip they have: an 8-GPU server
runs eight copies of a model that fits one GPU, a rack runs wide expert parallelism. For each
configuration this module lists the candidate deployments, sizes each one, evaluates them all
in one vectorised call (:func:`inference_wars.engine.serving.evaluate`) and keeps the best for an
objective:

* ``"throughput"`` (default): most output tokens/s per chip, subject to the optional targets
  ``min_tokens_per_s_per_user`` and ``max_ttft_s``;
* ``"latency"``: most tokens/s per user.

Candidates per configuration (``K`` fixed slots, so the search is one reshape and an argmax):

* programmable chips: ``tp`` in 1, 2, 4, ... up to the scale-up domain (and the system), each
  with TP attention and, for a mixture of experts, DP attention; ``pp`` is the fewest stages
  whose chips hold the weights and their share of the KV cache; ``replicas`` fill the system;
* dataflow chips (weights only in SRAM: Groq, Cerebras): an instance of ``n / replicas`` chips
  pipelined over the layers (``pp = min(chips, layers)``), ``replicas`` in 1, 2, 4, ...;
* hard-wired chips: every chip is a whole model (``replicas = n``).

A slot that cannot hold its share, breaks a pinned part of the split or misses a target is
infeasible; when no slot is feasible the result says which constraint failed. With
``batch=None`` each deployment serves the most sequences that fit (the engine's batch limit
included) or, under a target, the largest power-of-two batch that meets it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import memory, serving
from .hardware import HardwareArrays
from .serving import Deployment, Factors
from .workload import ModelArrays

#: Tensor-parallel widths tried (a stage never spans more than the scale-up domain).
TP_CHOICES = np.array([1, 2, 4, 8, 16, 32, 64], float)
#: Batch sizes per instance tried under a per-user or TTFT target when ``batch=None``.
BATCH_CHOICES = 2.0 ** np.arange(0, 13)
OBJECTIVES = ("throughput", "latency")


@dataclass(frozen=True)
class Pins:
    """Parts of the split a caller fixed (NaN = free). ``dp_attention``: 1, 0 or NaN."""

    tp: np.ndarray
    pp: np.ndarray
    replicas: np.ndarray
    dp_attention: np.ndarray


def _slots(pins: Pins, moe: np.ndarray, special: np.ndarray):
    """Slot tables: TP width and attention mode of each of the ``K`` slots. When every
    configuration pins its width (and its attention mode, or is dense) and none is a dataflow
    or hard-wired chip, one or two slots suffice: the pinned fast path."""
    pinned_t = np.isfinite(pins.tp).all() and not special.any()
    if pinned_t:
        modes = {0.0} if not moe.any() else {0.0, 1.0}
        if np.isfinite(pins.dp_attention).all():
            modes = set(np.unique(pins.dp_attention > 0).astype(float))
        modes = sorted(modes)
        return np.zeros(len(modes)), np.array(modes, float)
    t = np.repeat(TP_CHOICES, 2)
    dpa = np.tile([0.0, 1.0], len(TP_CHOICES))
    return t, dpa


def search(
    m: ModelArrays,
    hw: HardwareArrays,
    f: Factors,
    n_chips,
    batch,
    input_tokens,
    output_tokens,
    weight_bits,
    kv_bits,
    pins: Pins,
    objective: str = "throughput",
    min_tokens_per_s_per_user=None,
    max_ttft_s=None,
    mtp_tokens=0.0,
    disaggregated=False,
    prefill_chips=np.nan,
) -> dict[str, np.ndarray]:
    """Best deployment per configuration (arrays of length ``n``; ``n_chips`` and ``batch`` may
    hold NaN for "fewest that fit" and "as many as fit"). ``prefill_chips`` (disaggregated only)
    is a fixed prefill pool inside ``n_chips``; NaN sizes it to balance decode. Returns the chosen
    slot's metrics plus ``fits`` and ``why`` (0 fits, 1 memory, 2 pinned split, 3 target missed)."""
    if objective not in OBJECTIVES:
        raise ValueError(f"objective must be one of {', '.join(OBJECTIVES)}, got {objective!r}")
    N = np.asarray(n_chips, float)
    B = np.asarray(batch, float)
    S = np.asarray(input_tokens, float)
    O = np.asarray(output_tokens, float)
    n_cfg = N.shape[0]

    # one row per (configuration, slot)
    t_slot, dpa_slot = _slots(pins, m.n_moe_layers > 0, hw.dataflow | hw.hardwired)
    K = len(t_slot)
    base_batch_free = np.isnan(B)
    target = np.zeros(n_cfg, bool)
    if min_tokens_per_s_per_user is not None:
        target |= np.isfinite(np.asarray(min_tokens_per_s_per_user, float))
    if max_ttft_s is not None:
        target |= np.isfinite(np.asarray(max_ttft_s, float))
    grid_b = base_batch_free & target
    KB = len(BATCH_CHOICES) if grid_b.any() else 1

    rep = lambda x: np.repeat(np.asarray(x), K * KB)  # noqa: E731
    idx = np.repeat(np.arange(n_cfg), K * KB)
    mm = m.take(idx)
    hh = hw.take(idx)
    N_, B_, S_, O_ = rep(N), rep(B), rep(S), rep(O)
    wb, kb = rep(np.broadcast_to(weight_bits, N.shape)), rep(np.broadcast_to(kv_bits, N.shape))
    ff = Factors(
        **{
            k: (rep(np.broadcast_to(v, N.shape)) if np.ndim(v) else v)
            for k, v in f.__dict__.items()
        }
    )
    slot = np.tile(np.repeat(np.arange(K), KB), n_cfg)
    bslot = np.tile(np.arange(KB), n_cfg * K)
    t = t_slot[slot]
    dpa = dpa_slot[slot] > 0
    pin_t, pin_p, pin_r, pin_d = (
        rep(x) for x in (pins.tp, pins.pp, pins.replicas, pins.dp_attention)
    )
    # a pinned width is tried in the first pair of slots (TP and DP attention), whatever it is
    pinned_t = np.isfinite(pin_t)
    t = np.where(pinned_t, pin_t, t)
    moe = mm.n_moe_layers > 0
    ok = ~(dpa & ~moe)  # DP attention only for MoE
    domain = np.maximum(hh.scaleup_domain, 1.0)

    cap = memory.storage_capacity_bytes(hh, ff.usable_memory_fraction)
    one = Deployment(t, np.ones_like(t), np.ones_like(t), dpa)
    # KV in steady state: each running sequence holds S + O/2 tokens on average (workload.kv_bytes_held)
    w_full, kv1 = serving.stored_bytes_per_chip(mm, hh, one, 1.0, S_ + O_ / 2.0, wb, kb)  # pp = 1
    # fewest chips when the caller gave none: weights + KV of the batch (1 sequence if free)
    need = serving.chips_needed(
        mm, hh, np.where(np.isnan(B_), 1.0, B_), S_, O_, wb, kb, ff.usable_memory_fraction
    )
    fits_any = np.isfinite(need)
    # ... and enough instances for the batch under the engine's per-instance limit
    need = np.maximum(need, np.where(np.isnan(B_), 1.0, B_ / ff.max_batch_per_instance))
    n_auto = memory.round_chip_count(np.where(fits_any, need, 1.0))
    Nsys = np.where(np.isnan(N_), n_auto, N_)
    dis_ = rep(np.broadcast_to(disaggregated, N.shape))
    pool = serving.prefill_pool(
        dis_, rep(np.broadcast_to(np.asarray(prefill_chips, float), N.shape))
    )
    Nsys = np.maximum(Nsys, pool + 1.0)
    Ndec = Nsys - pool  # chips left for decode instances

    # ---- programmable chips: t-wide stages, fewest stages that hold their share. A stage stays in
    # one scale-up domain, except wide expert parallelism (DP attention) across servers
    ok &= (t <= Ndec) & ((t <= domain) | (dpa & moe))
    ok &= ~pinned_t | (slot < 2) | (K <= 2)
    ok &= np.isnan(pin_d) | (dpa == (pin_d > 0))
    heads_ok = dpa | (np.mod(mm.n_heads, t) == 0)
    ok &= heads_ok & ((mm.n_experts <= 0) | (t <= np.maximum(mm.n_experts, 1.0)))
    # KV per chip does not depend on pp when replicas fill the system: B * kv1 * t / N
    kv_chip = np.where(np.isnan(B_), kv1, B_ * kv1 * t / Ndec)
    room = cap - np.minimum(kv_chip, np.where(np.isnan(B_), kv1, np.inf))
    with np.errstate(divide="ignore", invalid="ignore"):
        p = np.ceil(np.where(room > 0, w_full / room, np.inf))
    p = np.maximum(p, 1.0)
    p = np.where(np.isnan(pin_p), p, pin_p)
    # ---- dataflow chips: instances of Nsys / r chips pipelined over the layers
    r_df = 2.0**slot
    w_df = np.floor(Ndec / r_df)
    p_df = np.ones_like(w_df)  # whole chips per stage (dataflow rows only)
    if hh.dataflow.any():
        p_df[hh.dataflow] = serving.largest_divisor_at_most(
            w_df[hh.dataflow], mm.n_layers[hh.dataflow]
        )
    t_df = w_df / np.maximum(p_df, 1.0)
    df = hh.dataflow
    t = np.where(df, np.maximum(t_df, 1.0), t)
    p = np.where(df, np.maximum(p_df, 1.0), p)
    ok = np.where(
        df, (dpa == 0) & (w_df >= 1) & (np.isnan(pin_r) | (r_df == pin_r)) & (slot < 14), ok
    )
    # ---- hard-wired chips: each chip a whole model
    hwd = hh.hardwired
    t = np.where(hwd, 1.0, t)
    p = np.where(hwd, 1.0, p)
    ok = np.where(hwd, slot == 0, ok)

    per_inst = t * p
    with np.errstate(divide="ignore", invalid="ignore"):
        per_inst = np.where(np.isfinite(per_inst), per_inst, np.inf)
        r = np.floor(Ndec / per_inst)
    r = np.where(df, np.floor(Ndec / np.maximum(t * p, 1.0) + 1e-9), r)
    r = np.where(np.isnan(B_) | hwd, r, np.minimum(r, B_))  # no idle replicas beyond the batch
    r = np.where(np.isnan(pin_r), r, pin_r)
    with np.errstate(invalid="ignore"):
        ok &= np.isfinite(p) & (r >= 1) & (r * per_inst <= Ndec + 1e-6)
    p = np.where(np.isfinite(p), p, 1.0)
    r = np.where(np.isfinite(r), r, 1.0)
    dep = Deployment(t, p, np.maximum(r, 1.0), dpa)

    bmax = serving.max_batch(mm, hh, dep, S_, O_, wb, kb, ff)
    b_inst = np.where(
        np.isnan(B_),
        np.where(grid_b[idx], np.minimum(BATCH_CHOICES[bslot], bmax), bmax),
        B_ / dep.replicas,
    )
    fit = ((b_inst >= 1) | (hwd & (b_inst > 0))) & (b_inst <= bmax + 1e-9) & fits_any
    B_sys = b_inst * dep.replicas
    with np.errstate(divide="ignore", invalid="ignore"):
        res = serving.evaluate(
            mm,
            hh,
            ff,
            dep,
            B_sys,
            S_,
            O_,
            wb,
            kb,
            rep(np.broadcast_to(mtp_tokens, N.shape)),
            dis_,
            pool,
        )
    met = np.ones_like(fit)
    if min_tokens_per_s_per_user is not None:
        tgt = rep(np.broadcast_to(np.asarray(min_tokens_per_s_per_user, float), N.shape))
        met &= ~(res["tokens_per_s_per_user"] < tgt * (1 - 1e-9))
    if max_ttft_s is not None:
        tgt = rep(np.broadcast_to(np.asarray(max_ttft_s, float), N.shape))
        met &= ~(res["ttft_s"] > tgt * (1 + 1e-9))
    per_chip = res["tokens_per_s"] / serving.chips_counted(dis_, pool, dep, Nsys)
    score = (
        per_chip if objective == "throughput" else res["tokens_per_s_per_user"] + 1e-9 * per_chip
    )
    good = ok & fit & met
    score = np.where(good, score, -np.inf)
    score2 = score.reshape(n_cfg, K * KB)
    best = np.argmax(score2, axis=1) + np.arange(n_cfg) * K * KB
    any_good = np.isfinite(score2).any(axis=1)
    pinned = np.isfinite(np.stack([pins.tp, pins.pp, pins.replicas, pins.dp_attention])).any(axis=0)
    why = np.where(
        any_good, 0, np.where((ok & fit).reshape(n_cfg, -1).any(axis=1), 3, np.where(pinned, 2, 1))
    )
    # when nothing is feasible, report the slot that fits memory (or any allowed slot)
    fallback = np.where((ok & fit), per_chip, np.where(ok, -1e300, -np.inf)).reshape(n_cfg, -1)
    fb = np.argmax(fallback, axis=1) + np.arange(n_cfg) * K * KB
    pick = np.where(any_good, best, fb)
    out = {k: (v[pick] if np.ndim(v) else v) for k, v in res.items()}
    out["tokens_per_s_per_chip"] = per_chip[pick]
    out["n_chips"] = Nsys[pick]
    out["batch"] = B_sys[pick]
    out["batch_per_instance"] = b_inst[pick]
    out["max_batch_per_instance"] = bmax[pick]
    out["dp_attention"] = dpa[pick]
    out["ep"] = np.where(mm.n_moe_layers[pick] > 0, t[pick], 1.0)
    out["n_chips_needed"] = n_auto[pick]
    out["need_unrounded"] = need[pick]
    out["fits"] = any_good
    out["why"] = why
    return out


def reread(
    res: dict[str, np.ndarray],
    m: ModelArrays,
    hw: HardwareArrays,
    f: Factors,
    input_tokens,
    output_tokens,
    weight_bits,
    kv_bits,
    mtp_tokens=0.0,
    disaggregated=False,
    min_tokens_per_s_per_user=None,
    max_ttft_s=None,
    prefill_chips=np.nan,
) -> dict[str, np.ndarray]:
    """The deployments :func:`search` chose (``res``), evaluated again under other readings of
    the catalog (``hw``, ``f``, ``weight_bits``): same chips, split and batch, so a reading moves the
    speeds and costs, never the decisions (whether a deployment fits memory is decided at the
    base reading, as for ``ranges``). A row that misses a target under the reading gets ``why = 3``."""
    dep = Deployment(res["tp"], res["pp"], res["replicas"], res["dp_attention"])
    S, O = np.asarray(input_tokens, float), np.asarray(output_tokens, float)
    out = dict(res)
    with np.errstate(divide="ignore", invalid="ignore"):
        r = serving.evaluate(
            m,
            hw,
            f,
            dep,
            res["batch"],
            S,
            O,
            weight_bits,
            kv_bits,
            mtp_tokens,
            disaggregated,
            prefill_chips,
        )
    pool = serving.prefill_pool(disaggregated, prefill_chips)
    r["tokens_per_s_per_chip"] = r["tokens_per_s"] / serving.chips_counted(
        disaggregated, pool, dep, res["n_chips"]
    )
    out.update({k: v for k, v in r.items() if k not in ("tp", "pp", "replicas", "n_chips")})
    met = np.ones(np.shape(res["fits"]), bool)
    if min_tokens_per_s_per_user is not None:
        met &= ~(
            r["tokens_per_s_per_user"] < np.asarray(min_tokens_per_s_per_user, float) * (1 - 1e-9)
        )
    if max_ttft_s is not None:
        met &= ~(r["ttft_s"] > np.asarray(max_ttft_s, float) * (1 + 1e-9))
    fits = np.asarray(res["fits"], bool)
    out["why"] = np.where(fits & ~met, 3, res["why"])
    out["fits"] = fits & met
    return out
