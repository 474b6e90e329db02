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
infeasible; a slot infeasible for every configuration of a call is dropped before the
evaluation (:func:`_usable_slots`); when no slot is feasible the result says which constraint
failed. With
``batch=None`` each deployment serves the most sequences that fit (the engine's batch limit
included) or, under a target, the largest power-of-two batch that meets it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import memory, serving, workload
from .hardware import HardwareArrays, any_of
from .serving import Deployment, Factors
from .workload import ModelArrays

#: Tensor-parallel widths tried (a stage never spans more than the scale-up domain).
TP_CHOICES = np.array([1, 2, 4, 8, 16, 32, 64], float)


def batch_grid(largest: int = 4096) -> tuple[int, ...]:
    """The package's one grid of batch sizes (concurrent sequences): the powers of two from 1 to
    ``largest``. Each analysis takes it up to the largest batch its question needs.

    >>> batch_grid(64)
    (1, 2, 4, 8, 16, 32, 64)
    """
    return tuple(2**i for i in range(int(np.log2(max(int(largest), 1))) + 1))


#: Batch sizes per instance tried under a per-user or TTFT target when ``batch=None``: the
#: powers of two from 1 to 4,096 (``batch_grid(4096)``, as floats).
#:
#: :meta hide-value:
BATCH_CHOICES = np.array(batch_grid(4096), float)
OBJECTIVES = ("throughput", "latency")


@dataclass(frozen=True)
class Pins:
    """Parts of the split a caller fixed (NaN = free). ``dp_attention``: 1, 0 or NaN. ``ep``:
    the chips of a stage the routed experts are spread over (NaN: the whole stage,
    :class:`serving.Deployment`); not searched, only pinned."""

    tp: np.ndarray
    pp: np.ndarray
    replicas: np.ndarray
    dp_attention: np.ndarray
    ep: np.ndarray | float = np.nan


def expert_pin(ep, tp, moe) -> np.ndarray:
    """The expert width a published or asked ``ep`` pins: ``ep`` where a MoE model's experts are
    spread over fewer chips than its ``tp``-wide stage (each then split over ``tp / ep`` chips,
    :func:`serving.expert_layout`), else NaN (experts over the whole stage, EP = TP)."""
    ep, tp = np.asarray(ep, float), np.asarray(tp, float)
    with np.errstate(invalid="ignore"):
        return np.where(np.asarray(moe, bool) & (ep >= 1) & (ep < tp), ep, np.nan)


@dataclass(frozen=True)
class Goal:
    """What the search maximises (:data:`OBJECTIVES`) and the targets a deployment must meet
    (``None``: no target; else floats or arrays that broadcast against the configurations)."""

    objective: str = "throughput"
    min_tokens_per_s_per_user: float | np.ndarray | None = None
    max_ttft_s: float | np.ndarray | None = None


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


def _meets(goal: Goal, tokens_per_s_per_user, ttft_s, shape_target=lambda x: x) -> np.ndarray:
    """Whether each result meets the goal's targets (``shape_target`` aligns a target array with
    the results, e.g. :func:`_slot_axis`)."""
    met = np.ones((), bool)
    if goal.min_tokens_per_s_per_user is not None:
        tgt = shape_target(np.asarray(goal.min_tokens_per_s_per_user, float))
        met = met & ~(tokens_per_s_per_user < tgt * (1 - 1e-9))
    if goal.max_ttft_s is not None:
        tgt = shape_target(np.asarray(goal.max_ttft_s, float))
        met = met & ~(ttft_s > tgt * (1 + 1e-9))
    return met


def _slot_axis(x):
    """``x`` with a trailing axis of length 1 for the candidate slots (scalars stay scalars)."""
    if isinstance(x, np.ndarray):
        return x[..., None] if x.ndim else x
    return np.asarray(x)[..., None] if np.ndim(x) else x


def _shape(x) -> tuple:
    return x.shape if isinstance(x, np.ndarray) else np.shape(x)


def _with_slot_axis(arrays):
    """A dataclass of arrays (model, hardware, factors) with :func:`_slot_axis` on every field."""
    return type(arrays)(**{k: _slot_axis(v) for k, v in arrays.__dict__.items()})


def _usable_slots(ok: np.ndarray, *slot_arrays):
    """``slot_arrays`` without the candidate slots no configuration can use (``ok`` False in
    every row: a DP-attention slot for a dense model, a width wider than every system, ...).
    Such a slot scores ``-inf`` everywhere, so dropping it before the evaluation leaves each
    row's argmax where it was; slot 0, the pick of a row where nothing is feasible, always stays.
    Arrays with a length-1 slot axis (the same in every slot) are returned as they are."""
    k = np.shape(ok)[-1]
    usable = np.reshape(ok, (-1, k)).any(axis=0)
    usable[0] = True
    if usable.all():
        return slot_arrays
    return tuple(x[..., usable] if np.ndim(x) and np.shape(x)[-1] == k else x for x in slot_arrays)


def _best_slot(score: np.ndarray) -> np.ndarray:
    """Index of each row's best slot, ``np.argmax`` over the last axis (the first on a tie),
    kept as a length-1 axis; with one slot, 0 without a reduction."""
    if score.shape[-1] == 1:
        return np.zeros(score.shape, np.intp)
    return np.argmax(score, axis=-1)[..., None]


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
    goal: Goal = Goal(),
    mode: serving.Mode = serving.Mode(),
    max_batch=np.nan,
) -> dict[str, np.ndarray]:
    """Best deployment per configuration for ``goal``, served as ``mode`` says. Every input
    broadcasts to one shape of configurations (``n_chips`` and ``batch`` may hold NaN for "fewest
    that fit" and "as many as fit"); so do the outputs. ``max_batch`` caps a free batch for the
    whole system (a client that never has more than that many requests in flight, however many
    replicas or DP-attention ranks share them; NaN: no cap beyond memory and the engine's
    ``max_batch_per_instance``). ``mode.prefill_chips`` (disaggregated
    only) is a fixed prefill pool inside ``n_chips``; NaN sizes it to balance decode. Returns the
    chosen slot's metrics plus ``fits`` and ``why`` (0 fits, 1 memory, 2 pinned split, 3 target
    missed).

    The candidates are a trailing axis of ``K`` slots: a quantity that does not depend on the
    slot (or on the batch, or on the model) keeps a length-1 axis there and is computed once,
    numpy broadcasting does the rest, and one argmax over the last axis picks the best slot."""
    objective = goal.objective
    min_tokens_per_s_per_user, max_ttft_s = goal.min_tokens_per_s_per_user, goal.max_ttft_s
    mtp_tokens, disaggregated, prefill_chips = (
        mode.mtp_tokens,
        mode.disaggregated,
        mode.prefill_chips,
    )
    if objective not in OBJECTIVES:
        raise ValueError(f"objective must be one of {', '.join(OBJECTIVES)}, got {objective!r}")
    shape = np.broadcast_shapes(
        *{  # each distinct shape once
            *(
                _shape(x)
                for x in (n_chips, batch, input_tokens, output_tokens, weight_bits, kv_bits)
            ),
            *(_shape(x) for x in pins.__dict__.values()),
            np.shape(m.n_layers),
            np.shape(hw.peak_tflops),
            *(x.shape for x in f.__dict__.values() if isinstance(x, np.ndarray)),
            _shape(mtp_tokens),
            _shape(disaggregated),
            _shape(prefill_chips),
            _shape(mode.tail_ttft_s),
            _shape(mode.tail_quantile),
            _shape(mode.output_cv),
            _shape(max_batch),
        }
    )
    N, B, S, O = (
        _slot_axis(np.asarray(x, float)) for x in (n_chips, batch, input_tokens, output_tokens)
    )
    wb, kb = _slot_axis(weight_bits), _slot_axis(kv_bits)
    if shape == ():  # one configuration: its scalars broadcast against the slots as they are
        mm, hh, ff = m, hw, f
    else:
        mm, hh, ff = _with_slot_axis(m), _with_slot_axis(hw), _with_slot_axis(f)
    pin_t, pin_p, pin_r, pin_d, pin_e = (
        _slot_axis(np.asarray(x, float))
        for x in (pins.tp, pins.pp, pins.replicas, pins.dp_attention, pins.ep)
    )
    mtp, dis_ = _slot_axis(mtp_tokens), _slot_axis(disaggregated)
    cv = _slot_axis(mode.output_cv)

    # the slots: TP width x attention mode, times batch sizes when a target leaves the batch free
    t_slot, dpa_slot = _slots(pins, m.n_moe_layers > 0, hw.dataflow | hw.hardwired)
    K = len(t_slot)
    batch_free = np.isnan(B)
    target = np.zeros((), bool)
    if min_tokens_per_s_per_user is not None:
        target = target | np.isfinite(_slot_axis(np.asarray(min_tokens_per_s_per_user, float)))
    if max_ttft_s is not None:
        target = target | np.isfinite(_slot_axis(np.asarray(max_ttft_s, float)))
    grid_b = batch_free & target
    KB = len(BATCH_CHOICES) if any_of(grid_b) else 1
    slot = np.repeat(np.arange(K), KB)
    bslot = np.tile(np.arange(KB), K)
    t = t_slot[slot]
    dpa = dpa_slot[slot] > 0
    # a pinned width is tried in the first pair of slots (TP and DP attention), whatever it is
    pinned_t = np.isfinite(pin_t)
    t = np.where(pinned_t, pin_t, t)
    moe = mm.n_moe_layers > 0
    ok = ~(dpa & ~moe)  # DP attention only for MoE
    domain = np.maximum(hh.scaleup_domain, 1.0)

    cap = memory.storage_capacity_bytes(hh, ff.usable_memory_fraction)
    one = Deployment(t, 1.0, 1.0, dpa)
    # KV in steady state: each running sequence holds workload.decode_context tokens on average
    w_full, kv1 = serving.stored_bytes_per_chip(  # pp = 1
        mm, hh, one, 1.0, workload.decode_context(S, O, cv), wb, kb
    )
    # fewest chips when the caller gave none: weights + KV of the batch (1 sequence if free)
    B1 = np.where(batch_free, 1.0, B)
    need = serving.chips_needed(mm, hh, B1, S, O, wb, kb, ff.usable_memory_fraction, cv)
    fits_any = np.isfinite(need)
    # ... and enough instances for the batch under the engine's per-instance limit
    need = np.maximum(need, np.where(batch_free, 1.0, B / ff.max_batch_per_instance))
    n_auto = memory.round_chip_count(np.where(fits_any, need, 1.0))
    Nsys = np.where(np.isnan(N), n_auto, N)
    pool = serving.prefill_pool(dis_, _slot_axis(np.asarray(prefill_chips, float)))
    Nsys = np.maximum(Nsys, pool + 1.0)
    Ndec = Nsys - pool  # chips left for decode instances

    # ---- programmable chips: t-wide stages, fewest stages that hold their share. A stage stays in
    # one scale-up domain, except wide expert parallelism (DP attention) across servers
    ok = ok & (t <= Ndec) & ((t <= domain) | (dpa & moe))
    if pinned_t.any() and K > 2:
        ok = ok & (~pinned_t | (slot < 2))
    ok = ok & (np.isnan(pin_d) | (dpa == (pin_d > 0)))
    heads_ok = dpa | (np.mod(mm.n_heads, t) == 0) | (hh.head_padding_ranks > 0)  # or padded
    ok = ok & heads_ok & ((mm.n_experts <= 0) | (t <= np.maximum(mm.n_experts, 1.0)))
    # KV per chip does not depend on pp when replicas fill the system: B * kv1 * t / N
    kv_chip = np.where(batch_free, kv1, B * kv1 * t / Ndec)
    room = cap - np.minimum(kv_chip, np.where(batch_free, kv1, np.inf))
    with np.errstate(divide="ignore", invalid="ignore"):
        p = np.ceil(np.where(room > 0, w_full / room, np.inf))
    p = np.maximum(p, 1.0)
    p = np.where(np.isnan(pin_p), p, pin_p)
    full = np.broadcast_shapes(shape + (1,), np.shape(ok), np.shape(p), np.shape(t))
    hwd, df = hh.hardwired, hh.dataflow
    if any_of(df):
        # ---- dataflow chips: instances of Nsys / r chips pipelined over the layers
        r_df = 2.0**slot
        w_df = np.floor(Ndec / r_df)
        dfm = np.broadcast_to(df, full)
        p_df = np.ones(full)  # whole chips per stage (dataflow rows only)
        p_df[dfm] = serving.largest_divisor_at_most(
            np.broadcast_to(w_df, full)[dfm], np.broadcast_to(mm.n_layers, full)[dfm]
        )
        t_df = w_df / np.maximum(p_df, 1.0)
        t = np.where(df, np.maximum(t_df, 1.0), t)
        p = np.where(df, np.maximum(p_df, 1.0), p)
        ok = np.where(
            df, (dpa == 0) & (w_df >= 1) & (np.isnan(pin_r) | (r_df == pin_r)) & (slot < 14), ok
        )
    if any_of(hwd):
        # ---- hard-wired chips: each chip a whole model
        t = np.where(hwd, 1.0, t)
        p = np.where(hwd, 1.0, p)
        ok = np.where(hwd, slot == 0, ok)

    per_inst = t * p
    with np.errstate(divide="ignore", invalid="ignore"):
        per_inst = np.where(np.isfinite(per_inst), per_inst, np.inf)
        r = np.floor(Ndec / per_inst)
    if any_of(df):
        r = np.where(df, np.floor(Ndec / np.maximum(t * p, 1.0) + 1e-9), r)
    r = np.where(batch_free | hwd, r, np.minimum(r, B))  # no idle replicas beyond the batch
    r = np.where(np.isnan(pin_r), r, pin_r)
    with np.errstate(invalid="ignore"):
        ok = ok & np.isfinite(p) & (r >= 1) & (r * per_inst <= Ndec + 1e-6)
    p = np.where(np.isfinite(p), p, 1.0)
    r = np.where(np.isfinite(r), r, 1.0)
    t, p, r, dpa, bslot, ok = _usable_slots(ok, t, p, r, dpa, bslot, ok)
    full = np.broadcast_shapes(shape + (1,), np.shape(ok), np.shape(p), np.shape(t))
    dep = Deployment(t, p, np.maximum(r, 1.0), dpa, pin_e)

    bmax = serving.max_batch(mm, hh, dep, S, O, wb, kb, ff, cv)
    cap_sys = _slot_axis(np.asarray(max_batch, float))
    if any_of(np.isfinite(cap_sys)):  # the client's cap, shared by the replicas
        bmax = np.where(np.isnan(cap_sys), bmax, np.minimum(bmax, cap_sys / dep.replicas))
    b_inst = np.where(
        batch_free,
        np.where(grid_b, np.minimum(BATCH_CHOICES[bslot], bmax), bmax),
        B / dep.replicas,
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
            S,
            O,
            wb,
            kb,
            serving.Mode(
                mtp,
                dis_,
                pool,
                _slot_axis(mode.tail_ttft_s),
                _slot_axis(mode.tail_quantile),
                cv,
            ),
            bound_names=False,
        )
    met = _meets(goal, res["tokens_per_s_per_user"], res["ttft_s"], _slot_axis)
    per_chip = res["tokens_per_s"] / serving.chips_counted(dis_, pool, dep, Nsys)
    score = (
        per_chip if objective == "throughput" else res["tokens_per_s_per_user"] + 1e-9 * per_chip
    )
    full = np.broadcast_shapes(full, np.shape(score), np.shape(fit), np.shape(met))
    allowed = np.broadcast_to(ok & fit, full)
    good = allowed & met
    score = np.where(good, score, -np.inf)
    best = _best_slot(score)
    any_good = np.isfinite(np.take_along_axis(score, best, axis=-1))[..., 0]
    pinned = np.zeros(shape, bool)
    for x in (pins.tp, pins.pp, pins.replicas, pins.dp_attention):
        pinned = pinned | np.isfinite(x)
    why = np.where(any_good, 0, np.where(allowed.any(axis=-1), 3, np.where(pinned, 2, 1)))
    if not any_good.all():
        # when nothing is feasible, report the slot that fits memory (or any allowed slot)
        fallback = np.where(allowed, per_chip, np.where(ok, -1e300, -np.inf))
        fb = _best_slot(np.broadcast_to(fallback, full))
        best = np.where(any_good[..., None], best, fb)

    # the chosen slot of each configuration as one index into the flattened (configurations x K)
    flat_best = np.arange(int(np.prod(shape))) * full[-1] + best.reshape(-1)

    one_config = shape == ()
    best_0 = int(best.reshape(-1)[0])

    def pick(v):
        """The chosen slot's value of ``v``, one per configuration (shape ``shape``)."""
        if not isinstance(v, np.ndarray):
            if not np.ndim(v):
                return v
            v = np.asarray(v)
        elif not v.ndim:
            return v
        if one_config:  # (K,) or (1,): the chosen slot's scalar
            return v[best_0 if v.shape[-1] > 1 else 0]
        if v.shape[-1] == 1:  # the same in every slot
            v = v[..., 0]
            return v if v.shape == shape else np.broadcast_to(v, shape)
        if v.shape != full:
            v = np.broadcast_to(v, full)
        return np.ravel(v)[flat_best].reshape(shape)

    out = {k: pick(v) for k, v in res.items() if k != "bound"}
    out["bound"] = serving.BOUNDS[out["bound_index"]]
    out["tokens_per_s_per_chip"] = pick(per_chip)
    out["n_chips"] = pick(Nsys)
    out["batch"] = pick(B_sys)
    out["batch_per_instance"] = pick(b_inst)
    out["max_batch_per_instance"] = pick(bmax)
    out["dp_attention"] = pick(dpa)
    out["ep"] = np.where(pick(mm.n_moe_layers) > 0, serving.expert_width(pick(pin_e), pick(t)), 1.0)
    out["n_chips_needed"] = pick(n_auto)
    out["need_unrounded"] = pick(need)
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
    goal: Goal = Goal(),
    mode: serving.Mode = serving.Mode(),
) -> dict[str, np.ndarray]:
    """The deployments :func:`search` chose (``res``), evaluated again under other readings of
    the catalog (``hw``, ``f``, ``weight_bits``): same chips, split and batch, so a reading moves the
    speeds and costs, never the decisions (whether a deployment fits memory is decided at the
    base reading, as for ``ranges``). A row that misses a target under the reading gets ``why = 3``."""
    dep = Deployment(res["tp"], res["pp"], res["replicas"], res["dp_attention"], res["ep"])
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
            mode,
        )
    pool = serving.prefill_pool(mode.disaggregated, mode.prefill_chips)
    r["tokens_per_s_per_chip"] = r["tokens_per_s"] / serving.chips_counted(
        mode.disaggregated, pool, dep, res["n_chips"]
    )
    out.update({k: v for k, v in r.items() if k not in ("tp", "pp", "replicas", "n_chips")})
    met = _meets(goal, r["tokens_per_s_per_user"], r["ttft_s"])
    fits = np.asarray(res["fits"], bool)
    out["why"] = np.where(fits & ~met, 3, res["why"])
    out["fits"] = fits & met
    return out
