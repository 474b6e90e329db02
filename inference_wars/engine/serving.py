"""Serving: the time of one decode step for a deployment, and what users and owners see.

One model *instance* spans ``tp x pp`` chips (:mod:`inference_wars.engine.parallel`) and holds ``b``
concurrent sequences, cut into ``mb = min(b, pp)`` micro-batches. Every decode *step* gives
each sequence ``g`` new tokens (``g = 1``; with speculative decoding or multi-token prediction
of ``k`` draft tokens accepted with probability ``a`` each, ``g = (1 - a**(k+1)) / (1 - a)``
and the step verifies ``k + 1`` tokens per sequence). One pipeline stage, for one micro-batch,
per chip::

    per operator group g in (dense matmuls, routed experts, attention over the KV cache):
    t_compute[g] = tokens * FLOPs_token[g](c) / (tp * pp) / (peak[g] * eff[g] * size[g])
    t_memory[g]  = the group's bytes / (BW * eff_w or eff_kv)                 (fastest tier first)
    t_ops     = sum_g (t_compute[g]**p + t_memory[g]**p) ** (1/p)          (p: overlap_exponent)
    work      = max(t_ops, L/pp * layer_floor) + overhead / pp
    overhead  = L * layer_overhead + L_moe * k * expert_overhead
    stage     = work + comm - overlap * min(work, comm)                     (comm: parallel)
    step      = pp * stage + pipeline hops

Each group runs as its own kernels, so the groups' times add (a step is not one kernel whose
maths hides all of its memory traffic). Within a group the maths and the reads overlap, but not
perfectly (:func:`overlapped_s`): ``p -> inf`` would be the roofline's ``max``, ``p = 1`` no
overlap; the fitted ``p`` says how much a real kernel loses near the ridge, where it needs both
at once. ``size[g]`` is how well
a group's matrix multiplies fill the chip (:func:`gemm_size_efficiency`): a chip's share of a
dense layer shrinks as ``tp`` grows, and a fine-grained expert is small at any width.

``layer_overhead`` is the per-layer cost of launching and synchronising a layer's kernels on
programmable chips, ``expert_overhead`` the extra fixed time of each of the ``k`` experts a token
activates in a MoE layer (routing, permutation and one more small GEMM each; it does not grow with
the batch); ``layer_floor`` is the per-layer time of a dataflow pipeline (Groq,
Cerebras). Weight bytes per chip: attention weights ``/ tp`` (whole under DP attention), the
rest ``/ tp``, routed experts only those the step's tokens touch; KV bytes per chip: the
sequences' cache ``/ min(tp, kv heads)`` under TP attention (MLA's one latent is replicated on
every chip), ``/ tp`` under DP attention.

Prefill of a prompt of ``S`` tokens, run with other prompts at full efficiency, costs the
instance ``T_pf(S) = (FLOPs_matmul(S) / peak + FLOPs_attention(S) / peak_16) / (tp * pp * eff_c)``
(the attention over the prompt runs at the 16-bit peak, as in decode: a 4-bit model's 128K-token
prompt is mostly attention, at a quarter of its matmul rate). Each step finishes
``b g / O`` requests whose replacements must be prefilled, so the owner pays::

    step_owner = step + (b g / O) * T_pf(S)               tokens/s = replicas * b g / step_owner

the same whether prefill runs in the decode step (chunked prefill) or on a separate pool of
chips (disaggregated; the split of chips that balances the two pools gives the same total).
A *fixed* prefill pool of ``P`` chips (a published split) is not balanced: the system delivers
what the slower pool allows, ``min(replicas * b g / step, P / (T_pf * tp * pp) * O)`` tokens/s,
over ``replicas * tp * pp + P`` chips.
What a user sees differs: with chunked prefill the other ``b - 1`` sequences' prefills
interrupt each step, ``TPOT = (step + (b - 1) g / O * T_pf) / g``; disaggregated,
``TPOT = step / g``. Time to first token of a lone request::

    TTFT = overlapped(T_pf * pp, weights / (tp * BW * eff_w))
           + L * overhead + comm(S tokens) + hops + request_overhead

Under random (Poisson) arrivals with a tail target on TTFT (``Mode.tail_ttft_s``), prompts queue
for prefill and the system takes only the load whose tail wait fits the target
(:func:`poisson_load_cap`, :mod:`inference_wars.engine.queueing`); at that load the mean time to
first token (``ttft_mean_loaded_s``) is a lone request's plus the mean wait
(:func:`poisson_mean_wait_s`).
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import numpy as np

from . import economics, memory, parallel, queueing, workload
from .hardware import HardwareArrays, any_of
from .workload import ModelArrays

BOUNDS = np.array(["compute", "memory", "interconnect", "overhead"])


@dataclass(frozen=True)
class Factors:
    """Modelling factors per configuration (floats or arrays). Defaults come from
    ``data/assumptions.csv``; the hardware families' fitted values from
    ``data/calibration.csv`` (:mod:`inference_wars.engine.factors`)."""

    compute_efficiency: float
    moe_efficiency: float
    gemm_half_params_m: float
    fp4_efficiency: float
    weight_only_efficiency: float
    memory_efficiency: float
    kv_efficiency: float
    sram_efficiency: float
    interconnect_efficiency: float
    collective_latency_us: float
    scaleout_latency_us: float
    layer_overhead_us: float
    expert_overhead_us: float
    expert_imbalance: float
    layer_floor_us: float
    request_overhead_ms: float
    comm_overlap: float
    overlap_exponent: float
    mtp_acceptance: float
    mtp_acceptance_decay: float
    max_batch_per_instance: float
    usable_memory_fraction: float
    activation_bytes: float
    pue: float
    usd_per_kwh: float
    amortization_years: float
    utilization: float


@dataclass(frozen=True)
class Mode:
    """How the instances serve, beyond their split (each off unless asked for; floats or arrays
    that broadcast against the configurations): ``mtp_tokens`` draft tokens per step (speculative
    decoding / multi-token prediction), ``disaggregated`` prefill on chips of its own,
    ``prefill_chips`` a fixed prefill pool of that many chips (NaN: a pool sized to keep up), and
    a tail target for the time to first token under random arrivals (:func:`poisson_load_cap`),
    and how much answer lengths vary (``output_cv``)."""

    mtp_tokens: float | np.ndarray = 0.0
    disaggregated: bool | np.ndarray = False
    prefill_chips: float | np.ndarray = np.nan
    #: requests arrive at random (Poisson) and the system takes only the load that keeps this
    #: quantile of the time to first token within ``tail_ttft_s`` (inf: loaded to capacity)
    tail_ttft_s: float | np.ndarray = np.inf
    tail_quantile: float | np.ndarray = 0.99
    #: answer lengths' coefficient of variation (0: all one length): a decode step's tokens
    #: attend to :func:`inference_wars.engine.workload.decode_context` tokens on average
    output_cv: float | np.ndarray = 0.0


@dataclass(frozen=True)
class Deployment:
    """``replicas x (tp x pp)`` chips; ``dp_attention`` runs attention data-parallel (MoE only).

    ``ep``: the chips of a ``tp``-wide stage the routed experts are spread over (expert
    parallelism). NaN, the default, is all ``tp`` of them (each chip holds whole experts); a
    narrower ``ep`` splits each expert over ``tp / ep`` chips (expert tensor parallelism; ``ep =
    1`` is SGLang's and vLLM's TP-only MoE), see :func:`expert_layout`."""

    tp: np.ndarray
    pp: np.ndarray
    replicas: np.ndarray
    dp_attention: np.ndarray
    ep: np.ndarray | float = math.nan


def head_padding(m: ModelArrays, hw: HardwareArrays, t) -> np.ndarray:
    """Query heads a ``t``-wide stage computes over the model's own: ``ceil(H / (t r)) * t r / H``
    on a chip whose software pads the heads to a multiple of its ``r`` tensor-parallel ranks per
    chip (``head_padding_ranks``: AWS Neuron pads Llama 70B's 64 heads to 72 over 24 NeuronCores),
    1 elsewhere (the width must divide the heads).

    >>> from .workload import model_arrays
    >>> from .hardware import hardware_arrays
    >>> hw = hardware_arrays([("inferentia2", "bf16"), ("h100-sxm", "bf16")])
    >>> head_padding(model_arrays(["llama-3.1-70b"] * 2), hw, np.array([12, 8])).tolist()
    [1.125, 1.0]
    """
    r = np.asarray(hw.head_padding_ranks, float)
    if not any_of(r):  # no chip here pads: every width divides the heads
        return np.ones(np.shape(t)) if np.ndim(t) else 1.0
    ranks = np.maximum(np.asarray(t, float) * r, 1.0)
    heads = np.maximum(m.n_heads, 1.0)
    return np.where(r > 0, np.ceil(heads / ranks) * ranks / heads, 1.0)


def _shares(m: ModelArrays, hw: HardwareArrays, t, dpa):
    """(attention-weight share, KV share) each chip of a ``t``-wide stage holds (a dataflow
    compiler spreads a layer's KV over its chips by position, so it never replicates heads; where
    the software pads heads (:func:`head_padding`) each rank holds at least one KV head)."""
    t = np.asarray(t, float)
    r = np.asarray(hw.head_padding_ranks, float)
    kv_heads = np.maximum(m.n_kv_heads, 1.0)
    kv_tp = 1.0 / np.minimum(t, kv_heads)
    if any_of(r):  # each padding rank holds at least one KV head
        padded_kv = np.minimum(np.ceil(kv_heads / np.maximum(t * r, 1.0)) * r / kv_heads, 1.0)
        kv_tp = np.where(r > 0, padded_kv, kv_tp)
    attn = np.where(dpa, 1.0, head_padding(m, hw, t) / t)
    kv = np.where(dpa | np.asarray(hw.dataflow, bool), 1.0 / t, np.where(m.is_mla > 0, 1.0, kv_tp))
    return attn, kv


def stored_bytes_per_chip(
    m: ModelArrays, hw: HardwareArrays, dep: Deployment, b, context, wb, kb, extra_context=None
):
    """(weight bytes, KV bytes) one chip stores: weights of its stage, KV of ``b`` sequences of
    ``context`` tokens (hard-wired chips keep weights in ROM: 0 here). With ``extra_context``,
    also the KV bytes of one sequence of that many tokens, as a third value."""
    attn, kvs = _shares(m, hw, dep.tp, dep.dp_attention)
    w = workload.weight_bytes(
        m, m.params_attention * attn, (m.params_total - m.params_attention) / dep.tp, wb
    )
    w = np.where(hw.hardwired, 0.0, w / dep.pp)
    kv = np.asarray(b, float) * workload.kv_bytes_per_sequence(m, context, kb) * kvs / dep.pp
    if extra_context is None:
        return w, kv
    return w, kv, workload.kv_bytes_per_sequence(m, extra_context, kb) * kvs / dep.pp


def max_batch(
    m: ModelArrays,
    hw: HardwareArrays,
    dep: Deployment,
    input_tokens,
    output_tokens,
    wb,
    kb,
    f: Factors,
    output_cv=0.0,
) -> np.ndarray:
    """Most running sequences one instance holds next to its weights (0 if the weights alone do
    not fit; KV in steady state, :func:`inference_wars.engine.workload.kv_bytes_held`), capped by
    the engine's ``max_batch_per_instance``."""
    S, O = np.asarray(input_tokens, float), np.asarray(output_tokens, float)
    w, kv1, tail = stored_bytes_per_chip(
        m, hw, dep, 1.0, workload.decode_context(S, O, output_cv), wb, kb, O / 2.0
    )
    # hard-wired replicas pool their SRAM for one cache, so the longest sequence's extra is shared
    tail = np.where(hw.hardwired, tail / np.maximum(np.asarray(dep.replicas, float), 1.0), tail)
    cap = memory.storage_capacity_bytes(hw, f.usable_memory_fraction)
    with np.errstate(divide="ignore", invalid="ignore"):
        room = np.maximum(cap - w - tail, 0.0) / kv1
    # a hard-wired chip may hold part of a sequence's cache (chips pool their SRAM for long contexts)
    room = np.where(hw.hardwired, room, np.floor(room))
    # the engine's limit holds per attention group: each DP-attention rank schedules its own batch
    limit = f.max_batch_per_instance * np.where(np.asarray(dep.dp_attention, bool), dep.tp, 1.0)
    return np.minimum(np.where(np.isfinite(room), room, 0.0), limit)


def tokens_per_step(mtp_tokens, acceptance, decay=1.0) -> np.ndarray:
    """Expected tokens a sequence gains per step with ``k`` draft tokens, the ``i``-th accepted
    (given the ones before it were) with probability ``a * d**(i-1)``: a draft further ahead is
    guessed from guesses, so it is accepted less often (``d = decay``)::

        g = sum_{i=0..k} prod_{j=1..i} a d**(j-1) = sum_{i=0..k} a**i d**(i(i-1)/2)

    With ``d = 1`` this is ``(1 - a**(k+1)) / (1 - a)``; without drafts, 1.

    >>> round(float(tokens_per_step(3, 0.85)), 2), float(tokens_per_step(0, 0.85))
    (3.19, 1.0)
    >>> [round(float(tokens_per_step(k, 0.92, 0.7)), 2) for k in (1, 2, 3)]
    [1.92, 2.51, 2.78]
    """
    k = np.asarray(mtp_tokens, float)
    if not k.any():  # no drafts anywhere (the common case): one token per step
        return np.ones(np.broadcast_shapes(k.shape, np.shape(acceptance), np.shape(decay)))
    a = np.clip(np.asarray(acceptance, float), 0.0, 1.0)
    d = np.clip(np.asarray(decay, float), 0.0, 1.0)
    g = np.ones(np.broadcast(k, a, d).shape)
    for i in range(1, int(np.max(k, initial=0)) + 1):
        g = g + np.where(k >= i, a**i * d ** (i * (i - 1) / 2.0), 0.0)
    return g


def _peaks(hw: HardwareArrays, f: Factors):
    """(matmul peak, attention peak) in FLOP/s after the efficiency factors: 4-bit tensor cores
    run below the dense efficiency (``fp4_efficiency``); weight-only formats run at the 16-bit
    peak (their unpacking costs bandwidth, not maths: ``weight_only_efficiency`` slows W8A16
    weight reads, :func:`~inference_wars.engine.formats.pays_unpacking`, and at a large batch
    one unpacked tile serves every row); a hard-wired
    datapath has no scheduling losses."""
    eff = f.compute_efficiency * np.where(hw.narrow > 0, f.fp4_efficiency, 1.0)
    eff = np.where(hw.hardwired, 1.0, eff)
    return hw.peak_tflops * 1e12 * eff, hw.attn_peak_tflops * 1e12 * np.where(
        hw.hardwired, 1.0, f.compute_efficiency
    )


#: Matrix multiplies (GEMMs) a routed expert runs per token group: its gate and up projections
#: fused into one, then its down projection (SwiGLU experts as vLLM, SGLang and TensorRT-LLM
#: launch them).
GEMMS_PER_EXPERT = 2
#: GEMMs of a decoder layer's dense part as serving engines fuse them: the query-key-value
#: projection, the output projection, the fused gate-up projection and the down projection.
GEMMS_PER_DENSE_LAYER = 4


def gemm_size_efficiency(weights_per_gemm, f: Factors) -> np.ndarray:
    """Speed of a matrix multiply over ``W`` weights (one chip's share of one GEMM) relative to
    a large one of the same format::

        size = W / (W + W_half)                     (W_half = gemm_half_params_m millions)

    A GEMM too small to fill the chip loses to tile and wave quantisation and to its fixed
    set-up (nvidia2023matmulguide): half of the loss at ``W_half`` weights.
    """
    w = np.asarray(weights_per_gemm, float)
    half = np.asarray(f.gemm_half_params_m, float) * 1e6
    return w / np.maximum(w + half, 1e-30)


def expert_efficiency(m: ModelArrays, f: Factors, shards=1.0) -> np.ndarray:
    """Speed of routed-expert matrix multiplies relative to a dense GEMM of the same format::

        eff = moe_efficiency * size(P_e / GEMMS_PER_EXPERT / shards)   (P_e: weights of one expert)

    Fine-grained experts (Qwen3's 19 M weights, DeepSeek's 44 M) fill the chip less well than
    coarse ones (Mixtral's 176 M). Under expert parallelism an expert is never split across
    chips, so its GEMMs keep their size at any deployment width (:func:`gemm_size_efficiency`);
    split over ``shards`` chips (expert tensor parallelism, :func:`expert_layout`) each chip
    multiplies a ``1 / shards`` slice.

    >>> from .factors import factor_arrays
    >>> from .workload import model_arrays
    >>> f = factor_arrays(["h100-sxm"], overrides={"moe_efficiency": 1.0, "gemm_half_params_m": 22.0})
    >>> expert_efficiency(model_arrays(["deepseek-r1", "mixtral-8x7b"]), f).round(2).tolist()
    [0.5, 0.8]
    """
    pe = m.params_per_expert
    # a dense model has no experts: size 1
    size = np.where(pe > 0, gemm_size_efficiency(pe / GEMMS_PER_EXPERT / shards, f), 1.0)
    return f.moe_efficiency * size


def expert_width(ep, t) -> np.ndarray:
    """Chips a ``t``-wide stage spreads its routed experts over: a pinned ``ep`` (between 1 and
    ``t``), or all ``t`` where none is pinned (NaN)."""
    t = np.asarray(t, float)
    ep = np.asarray(ep, float)
    return np.where(np.isnan(ep), t, np.clip(ep, 1.0, np.maximum(t, 1.0)))


def expert_layout(m: ModelArrays, f: Factors, dep: Deployment, t) -> tuple[np.ndarray, np.ndarray]:
    """``(imbalance, shards)`` of a ``t``-wide stage's routed experts: spread whole over ``ep``
    chips (``dep.ep``, NaN: all ``t``), each split over ``shards = t / ep``::

        imbalance = expert_imbalance  where ep > 1 (and the model has experts), else 1

    Routing sends uneven token counts to the ``ep`` groups and the step waits for the busiest
    (``expert_imbalance``); an expert split over every chip (``ep = 1``) loads them all alike,
    but each chip multiplies only a slice of it (:func:`expert_efficiency`)."""
    t = np.asarray(t, float)
    moe = m.n_moe_layers > 0
    if not np.isfinite(dep.ep).any():  # experts over the whole stage (every search but a pinned ep)
        return np.where((t > 1) & moe, f.expert_imbalance, 1.0), 1.0
    ep = expert_width(dep.ep, t)
    imbalance = np.where((ep > 1) & moe, f.expert_imbalance, 1.0)
    return imbalance, np.where(moe, t / ep, 1.0)


def dense_efficiency(m: ModelArrays, f: Factors, tp, attention_share) -> np.ndarray:
    """Speed of a decode step's dense matrix multiplies (attention projections, dense and shared
    feed-forward blocks, the output head) on one chip of a ``tp``-wide stage, relative to large
    GEMMs: one chip multiplies ``P_dense / L`` weights per layer (attention's at
    ``attention_share``: ``1/tp``, or whole under DP attention; the rest ``/ tp``), in
    :data:`GEMMS_PER_DENSE_LAYER` GEMMs::

        eff = size(P_dense_chip / L / GEMMS_PER_DENSE_LAYER)

    Llama 3.1 70B's 0.86 B weights per layer make GEMMs of 215 M on one chip and 27 M each on
    eight: tensor parallelism shrinks the matrix multiplies it spreads. Prefill's dense GEMMs
    multiply each weight by thousands of prompt tokens and fill the chip, so they are not slowed
    (slowing them too scored worse held out: ``data/calibration_experiments.csv``); its routed
    experts, each fed only its share of the prompt, keep :func:`expert_efficiency`.

    >>> from .factors import factor_arrays
    >>> from .workload import model_arrays
    >>> f = factor_arrays(["h100-sxm"], overrides={"gemm_half_params_m": 22.0})
    >>> tp = np.array([1, 8])
    >>> dense_efficiency(model_arrays(["llama-3.1-70b"] * 2), f, tp, 1.0 / tp).round(2).tolist()
    [0.91, 0.55]
    """
    t = np.asarray(tp, float)
    dense = workload.dense_params_per_token(m)
    per_chip = m.params_attention * attention_share + (dense - m.params_attention) / t
    return gemm_size_efficiency(per_chip / m.n_layers / GEMMS_PER_DENSE_LAYER, f)


def overlapped_s(compute_s, memory_s, exponent) -> np.ndarray:
    """Time of kernels that must do ``compute_s`` of maths and ``memory_s`` of reads:
    ``(compute**p + memory**p) ** (1/p)`` with ``p = exponent`` (``overlap_exponent``).
    ``p = inf`` is the roofline's ``max`` (maths hides every read, and the other way round);
    ``p = 1`` is no overlap at all (``compute + memory``). In between, the two overlap well far
    from the roofline's ridge and worst at it, where a kernel needs both units busy at once: at
    ``compute = memory`` the time is ``2**(1/p)`` times the roofline's.

    >>> overlapped_s(np.array([3.0, 1.0, 2.0, 2.0]), np.array([4.0, 0.0, 2.0, 2.0]),
    ...              np.array([2.0, 2.0, 2.0, np.inf])).round(3).tolist()
    [5.0, 1.0, 2.828, 2.0]
    >>> overlapped_s(np.array([3.0, 2.0]), np.array([4.0, 2.0]), np.array([1.0, np.inf])).tolist()
    [7.0, 2.0]
    """
    c = np.asarray(compute_s, float)
    mem = np.asarray(memory_s, float)
    hi = np.maximum(c, mem)
    p = np.asarray(exponent)
    if p.ndim == 0:  # one exponent for every configuration (an estimate, a block of a sweep)
        p0 = float(p)
        if p0 == 1.0:
            return c + mem
        return hi if math.isinf(p0) else hi * _stretch(_ratio(c, mem, hi), p0)
    ones = p == 1.0
    limits = ones | np.isinf(p)
    if limits.all():  # the two limits need no power: exact, and much cheaper
        return np.where(ones, c + mem, hi) if ones.any() else hi
    r = _ratio(c, mem, hi)
    p_in = p[~limits]
    p0 = float(p_in.flat[0])
    if (p_in == p0).all():
        stretch = _stretch(r, p0)
    else:  # exponents differ between configurations: the powers in single precision
        p32 = p.astype(np.float32)
        stretch = (1.0 + r**p32) ** (1.0 / p32)
    out = hi * stretch
    if limits.any():
        out = np.where(ones, c + mem, np.where(limits, hi, out))
    return out


#: Intervals of the table :func:`overlapped_s` interpolates the stretch on.
_STRETCH_STEPS = 4096


def _ratio(c: np.ndarray, mem: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """``r = min(c, mem) / max(c, mem)`` in single precision (0 where both are 0)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(hi > 0, np.minimum(c, mem) / hi, 0.0).astype(np.float32)


def _stretch(r: np.ndarray, p: float) -> np.ndarray:
    """The stretch ``1 <= (1 + r**p)**(1/p) <= 2`` of one fitted exponent ``p`` (every sweep),
    read off a table over ``r`` in [0, 1] by linear interpolation (relative error below 4e-6 at
    ``p = 1.1``, less for larger ``p``), far cheaper than two fractional powers per
    configuration."""
    table, slope = _stretch_table(p)
    x = r * np.float32(_STRETCH_STEPS)
    with np.errstate(invalid="ignore"):  # a NaN time stays NaN (its index is clipped)
        i = np.minimum(np.maximum(x.astype(np.intp), 0), _STRETCH_STEPS - 1)
    return table[i] + (x - i) * slope[i]


@functools.lru_cache(maxsize=8)
def _stretch_table(p: float) -> tuple[np.ndarray, np.ndarray]:
    """``(1 + r**p)**(1/p)`` at ``r = k / _STRETCH_STEPS`` and the slope to the next point."""
    r = np.linspace(0.0, 1.0, _STRETCH_STEPS + 1)
    t = (1.0 + r**p) ** (1.0 / p)
    return t[:-1].astype(np.float32), np.diff(t).astype(np.float32)


def overlap_exponent(hw: HardwareArrays, f: Factors) -> np.ndarray:
    """The exponent :func:`overlapped_s` uses on each chip: the fitted ``overlap_exponent`` where
    kernels run, infinite (the roofline's max) on a compiled dataflow pipeline or a fixed datapath,
    which stream weights into their multipliers as they compute."""
    return np.where(hw.dataflow | hw.hardwired, np.inf, f.overlap_exponent)


def fixed_overhead_s(m: ModelArrays, f: Factors) -> np.ndarray:
    """Seconds a forward pass over every layer spends that neither moves bytes nor does maths:
    ``L * layer_overhead + L_moe * k * expert_overhead``."""
    return (
        m.n_layers * f.layer_overhead_us
        + m.n_moe_layers * m.n_experts_active * f.expert_overhead_us
    ) * 1e-6


def prefill_compute_s(
    m: ModelArrays,
    hw: HardwareArrays,
    f: Factors,
    new_tokens,
    context_tokens=0.0,
    chips=1.0,
    head_padding_factor=1.0,
) -> np.ndarray:
    """Seconds of maths for ``chips`` chips to prefill ``new_tokens`` on top of a cached
    ``context_tokens``: the matrix multiplies at the format's peak (routed experts at
    :func:`expert_efficiency`), the attention over the prompt at the 16-bit peak, as in decode
    (:func:`_peaks`)::

        (2 * P_matmul * u / peak + (A(C + u) - A(C)) / peak_16) / chips

    with ``A`` :func:`inference_wars.engine.workload.prefill_attention_flops`."""
    u = np.asarray(new_tokens, float)
    C = np.asarray(context_tokens, float)
    peak, attn_peak = _peaks(hw, f)
    routed = 2.0 * workload.routed_params_per_token(m) * u
    matmul = 2.0 * m.params_matmul * u - routed + routed / expert_efficiency(m, f)
    attn = workload.prefill_attention_flops(m, C + u)
    if np.any(C > 0):
        attn = attn - workload.prefill_attention_flops(m, C)
    return (matmul / peak + attn * head_padding_factor / attn_peak) / chips


def prefill_pool(disaggregated, prefill_chips) -> np.ndarray:
    """Chips of a fixed prefill pool: ``prefill_chips`` where a disaggregated system has one,
    else 0 (no pool, or one the engine sizes to keep up with decode)."""
    pool = np.asarray(prefill_chips, float)
    fixed = np.asarray(disaggregated, bool) & np.isfinite(pool) & (pool > 0)
    return np.where(fixed, pool, 0.0)


def chips_counted(disaggregated, pool, dep: Deployment, n_system) -> np.ndarray:
    """Chips a system's throughput is shared over: all ``n_system`` (idle ones and a fixed prefill
    pool included), except that a disaggregated system with a balanced pool counts its decode
    instances only (:func:`evaluate` already charges them the prefill work)."""
    balanced = np.asarray(disaggregated, bool) & (np.asarray(pool, float) == 0)
    return np.where(balanced, dep.tp * dep.pp * dep.replicas, n_system)


def compute_parts_s(
    m: ModelArrays,
    hw: HardwareArrays,
    f: Factors,
    tokens,
    context,
    chips,
    imbalance=1.0,
    dense_eff=1.0,
    expert_shards=1.0,
):
    """Seconds for ``chips`` chips to do ``tokens`` tokens' decode maths, per operator group:
    ``(dense, routed, attention)``. Dense matrix multiplies run at the format's peak slowed by
    ``dense_eff`` (:func:`dense_efficiency`), routed
    experts at :func:`expert_efficiency` of it slowed by the busiest chip's share
    (``expert_imbalance`` when experts are spread over several chips) and split over
    ``expert_shards`` chips each (:func:`expert_layout`), attention at the 16-bit
    peak (decode attention kernels such as FlashAttention and FlashMLA compute in BF16 even over
    an FP8 cache)."""
    peak, attn_peak = _peaks(hw, f)
    routed = workload.routed_params_per_token(m)
    dense = workload.dense_params_per_token(m)
    per_chip = np.asarray(tokens, float) / chips
    return (
        per_chip * 2.0 * dense / (peak * dense_eff),
        per_chip * 2.0 * routed * imbalance / (peak * expert_efficiency(m, f, expert_shards)),
        per_chip * workload.decode_attention_flops_per_token(m, context) / attn_peak,
    )


def _stage(m, hw, f, dep, tokens, seqs, c, wb, kb, alpha_s):
    """One stage's time for one micro-batch: ``(stage_s, compute_s, memory_s, comm_s, overhead_s,
    roofline_s)``, the last the sum over operator groups of their overlapped maths and reads
    (:func:`overlapped_s`)."""
    t, p = dep.tp, dep.pp
    # with experts spread over several chips, the step waits for the chip whose experts got most
    # tokens; split over every chip (ep = 1), each chip multiplies a slice of every touched expert
    imbalance, shards = expert_layout(m, f, dep, t)
    attn, kvs = _shares(m, hw, t, dep.dp_attention)
    c_dense, c_routed, c_attn = compute_parts_s(
        m,
        hw,
        f,
        tokens,
        c,
        t * p,
        imbalance,
        np.where(hw.hardwired, 1.0, dense_efficiency(m, f, t, attn)),  # a datapath has no tiles
        shards,
    )
    if any_of(hw.head_padding_ranks):  # padded heads compute too
        c_attn = c_attn * np.where(dep.dp_attention, 1.0, head_padding(m, hw, t))
    t_comp = c_dense + c_routed + c_attn
    always = m.params_attention * attn + (m.params_always_read - m.params_attention) / t
    touched = workload.expected_experts_touched(m, tokens)
    experts = (
        m.n_moe_layers
        * m.params_per_expert
        * touched
        / t
        * np.minimum(imbalance, np.maximum(m.n_experts, 1.0) / np.maximum(touched, 1e-9))
    )
    a_chip = m.params_attention * attn  # attention weights on each chip, at their own width
    stage_bytes = workload.weight_bytes(m, a_chip, always - a_chip + experts, wb) / p
    w = np.where(hw.hardwired, 0.0, stage_bytes)
    kv = seqs * workload.kv_bytes_per_sequence(m, c, kb) * kvs / p
    w_rom = np.where(hw.hardwired, stage_bytes, 0.0)
    w_eff = f.memory_efficiency * np.where(hw.weight_only > 0, f.weight_only_efficiency, 1.0)
    m_w = memory.tiered_read_time_s(w, hw, f.sram_efficiency, w_eff) + w_rom / (
        np.where(hw.rom_tb_s > 0, hw.rom_tb_s, 1.0) * 1e12
    )
    m_kv = memory.tiered_read_time_s(kv, hw, f.sram_efficiency, f.kv_efficiency)
    t_mem = m_w + m_kv
    # each operator group is its own kernels, its maths and reads overlapped: the groups' times add
    share_exp = experts * wb / 8.0 / p / np.maximum(stage_bytes, 1e-30)  # experts' share of bytes
    p_ov = overlap_exponent(hw, f)
    t_ops = overlapped_s(c_dense, m_w * (1.0 - share_exp), p_ov) + overlapped_s(c_attn, m_kv, p_ov)
    if any_of(m.n_moe_layers > 0):  # a dense model's routed group is empty: no maths, no reads
        t_ops = t_ops + overlapped_s(c_routed, m_w * share_exp, p_ov)
    floor = m.n_layers / p * f.layer_floor_us * 1e-6
    overhead = fixed_overhead_s(m, f) / p
    work = np.maximum(t_ops, floor) + overhead
    comm = (
        parallel.stage_collectives_s(
            tokens,
            m,
            t,
            dep.dp_attention,
            hw.scaleup_domain,
            hw.scaleup_gb_s,
            hw.scaleout_gb_s,
            alpha_s,
            f.activation_bytes,
            f.interconnect_efficiency,
        )
        / p
    )
    overlap = np.where(
        np.asarray(dep.dp_attention, bool) & (m.n_moe_layers > 0), f.comm_overlap, 0.0
    )
    stage = work + comm - overlap * np.minimum(work, comm)
    # a dataflow pipeline's per-layer floor is latency between its chips: counted as interconnect
    latency = comm + np.maximum(floor - t_ops, 0.0)
    return stage, t_comp, t_mem, latency, overhead, t_ops


def _first_largest(*parts) -> np.ndarray:
    """Index of the largest of ``parts`` element-wise, the first on a tie (``np.argmax`` over
    the stacked parts; small ones, e.g. one estimate's candidate deployments, without stacking)."""
    if max(np.size(x) for x in parts) > 256:  # stacked last: each row's parts side by side
        return np.argmax(np.stack(np.broadcast_arrays(*parts), axis=-1), axis=-1)
    best, index = parts[0], np.zeros(np.broadcast_shapes(*(np.shape(x) for x in parts)), np.intp)
    for j, x in enumerate(parts[1:], 1):
        take = (x > best) | (np.isnan(x) & ~np.isnan(best))  # a NaN wins, as in np.argmax
        index = np.where(take, j, index)
        best = np.where(take, x, best)
    return index


def evaluate(
    m: ModelArrays,
    hw: HardwareArrays,
    f: Factors,
    dep: Deployment,
    batch,
    input_tokens,
    output_tokens,
    weight_bits,
    kv_bits,
    mode: Mode = Mode(),
    bound_names: bool = True,
) -> dict[str, np.ndarray]:
    """Every serving metric for broadcastable arrays of configurations (formulas in the module
    doc). ``batch`` is the whole system's concurrent sequences (``replicas`` share them);
    ``mode`` turns on drafts and disaggregated prefill (:class:`Mode`). ``"bound_index"``
    indexes :data:`BOUNDS`; ``bound_names=False`` leaves ``"bound"`` None (what
    :func:`inference_wars.engine.deployment.search` scores, which names only the bound of the
    deployment it keeps, without building the names over every candidate)."""
    mtp_tokens, disaggregated = mode.mtp_tokens, mode.disaggregated
    t, p, r = (np.asarray(x, float) for x in (dep.tp, dep.pp, dep.replicas))
    pool = prefill_pool(disaggregated, mode.prefill_chips)
    fixed = pool > 0
    n = t * p * r + pool
    b = np.asarray(batch, float) / r
    S = np.asarray(input_tokens, float)
    O = np.asarray(output_tokens, float)
    wb = np.asarray(weight_bits, float)
    kb = np.asarray(kv_bits, float)
    q = 1.0 + np.asarray(mtp_tokens, float)
    g = tokens_per_step(mtp_tokens, f.mtp_acceptance, f.mtp_acceptance_decay)
    c = workload.decode_context(S, O, mode.output_cv)
    alpha_s = (
        np.where(
            np.isfinite(hw.collective_latency_us), hw.collective_latency_us, f.collective_latency_us
        )
        * 1e-6
    )

    # ---- decode step
    mb = np.minimum(np.maximum(b, 1.0), p)
    seqs = b / mb
    stage, t_c, t_m, t_x, t_o, t_r = _stage(m, hw, f, dep, seqs * q, seqs, c, wb, kb, alpha_s)
    hops = parallel.pipeline_hops_s(
        seqs * q,
        m.d_model,
        t,
        p,
        hw.scaleup_domain,
        hw.scaleup_gb_s,
        hw.scaleout_gb_s,
        alpha_s,
        f.scaleout_latency_us * 1e-6,
        f.activation_bytes,
        f.interconnect_efficiency,
    )
    step = p * stage + hops
    bound_index = _first_largest(t_c, t_m, t_x + hops / p, t_o)

    # ---- prefill: batched (what the owner pays per request) and a lone prompt (TTFT)
    # padded heads (head_padding) add their share of the attention maths
    pad = head_padding(m, hw, t) if any_of(hw.head_padding_ranks) else 1.0
    t_pf = prefill_compute_s(m, hw, f, S, chips=t * p, head_padding_factor=pad)
    w_all = workload.weight_bytes_read(m, S, wb) / t
    pf_mem = np.where(
        hw.hardwired,
        0.0,
        memory.tiered_read_time_s(w_all / p, hw, f.sram_efficiency, f.memory_efficiency) * p,
    )
    pf_comm = parallel.stage_collectives_s(
        S,
        m,
        t,
        False,
        hw.scaleup_domain,
        hw.scaleup_gb_s,
        hw.scaleout_gb_s,
        alpha_s,
        f.activation_bytes,
        f.interconnect_efficiency,
    )
    pf_hops = parallel.pipeline_hops_s(
        S,
        m.d_model,
        t,
        p,
        hw.scaleup_domain,
        hw.scaleup_gb_s,
        hw.scaleout_gb_s,
        alpha_s,
        f.scaleout_latency_us * 1e-6,
        f.activation_bytes,
        f.interconnect_efficiency,
    )
    ttft = (
        np.maximum(
            overlapped_s(t_pf * p, pf_mem, overlap_exponent(hw, f)),
            m.n_layers * f.layer_floor_us * 1e-6,
        )
        + fixed_overhead_s(m, f)
        + pf_comm
        + pf_hops
        + f.request_overhead_ms * 1e-3
    )

    owner_step = step + b * g / O * t_pf
    user_step = np.where(disaggregated, step, step + np.maximum(b - 1.0, 0.0) * g / O * t_pf)
    tpot = user_step / g
    with np.errstate(divide="ignore", invalid="ignore"):
        fed = pool / (t_pf * t * p) * O  # output tokens/s a fixed prefill pool can start
    tokens_per_s = np.where(fixed, np.minimum(r * b * g / step, fed), r * b * g / owner_step)
    tail = mode.tail_ttft_s
    ttft_mean = ttft
    if np.isfinite(tail).any() if isinstance(tail, np.ndarray) else math.isfinite(tail):
        pool_instances = np.where(fixed, pool / (t * p), np.nan)
        tokens_per_s = np.minimum(
            tokens_per_s,
            poisson_load_cap(
                mode.tail_ttft_s - ttft,
                mode.tail_quantile,
                t_pf,
                step / (b * g),
                O,
                r,
                pool_instances,
                disaggregated,
            ),
        )
        # the mean time to first token at that load: a lone request's plus the mean queue wait
        wait = poisson_mean_wait_s(
            tokens_per_s, t_pf, step / (b * g), O, r, pool_instances, disaggregated
        )
        ttft_mean = ttft + np.where(np.isfinite(tail), wait, 0.0)
    return {
        "tp": t,
        "pp": p,
        "replicas": r,
        "n_chips": n,
        "ttft_s": ttft,
        "ttft_mean_loaded_s": ttft_mean,
        "tpot_s": tpot,
        "tokens_per_s_per_user": 1.0 / tpot,
        "tokens_per_s": tokens_per_s,
        "tokens_per_s_per_chip": tokens_per_s / n,
        "decode_tokens_per_s_per_chip": b * g / step / (t * p),
        "decode_compute_s": p * t_c,
        "decode_memory_s": p * t_m,
        "decode_roofline_s": p * t_r,
        "decode_interconnect_s": p * t_x + hops,
        "decode_overhead_s": p * t_o,
        "step_s": step,
        "prefill_s": t_pf,
        "bound": BOUNDS[bound_index] if bound_names else None,
        "bound_index": bound_index,
        "usd_per_million_tokens": economics.usd_per_million_tokens(
            n,
            tokens_per_s,
            hw.price_usd,
            hw.power_w,
            f.amortization_years,
            f.utilization,
            f.pue,
            f.usd_per_kwh,
        ),
        "joules_per_token": economics.joules_per_token(n, tokens_per_s, hw.power_w),
        "tokens_per_s_per_mw": economics.tokens_per_s_per_mw(n, tokens_per_s, hw.power_w, f.pue),
    }


def _prefill_queue(prefill_s, decode_s_per_token, output_tokens, pool_instances, disaggregated):
    """The prefill queue of each arrangement (:func:`poisson_load_cap`): ``(O, s, fixed, grows,
    d)``: a fixed pool (``fixed``) is one queue served in ``d = prefill_s / pool_instances``;
    otherwise each instance queues alone with ``d = prefill_s``, which ``grows`` by ``rho * O *
    s`` under chunked prefill (decode steps share the instance)."""
    O = np.asarray(output_tokens, float)
    s = np.asarray(decode_s_per_token, float)
    fixed = np.isfinite(pool_instances)
    grows = ~np.asarray(disaggregated, bool) & ~fixed
    d = np.where(fixed, prefill_s / np.where(fixed, pool_instances, 1.0), prefill_s)
    return O, s, fixed, grows, d


def poisson_load_cap(
    budget_s,
    quantile,
    prefill_s,
    decode_s_per_token,
    output_tokens,
    replicas,
    pool_instances,
    disaggregated,
) -> np.ndarray:
    """Output tokens/s a system may take when requests arrive at random and the ``quantile`` of
    the time to first token must stay within a target: ``budget_s`` is the target less a lone
    request's TTFT, the wait the queue may add (:mod:`inference_wars.engine.queueing`).

    Each instance queues prompts for its prefill, ``D = prefill_s`` seconds each. With chunked
    prefill the decode steps share the instance, so a prompt is served more slowly as the load
    rises: ``D = prefill_s + rho * O * decode_s_per_token``. At the largest load ``rho`` the
    budget allows, an instance takes ``lambda = rho / (prefill_s + rho O s)`` requests/s (at
    ``rho = 1`` its capacity, ``1 / (prefill_s + O s)``), the system ``replicas * lambda * O``
    tokens/s. Disaggregated, the balanced prefill pool queues alone (``D = prefill_s``); a fixed
    pool of ``pool_instances`` instance-widths is one queue, ``D = prefill_s / pool_instances``,
    that feeds ``rho O / D`` tokens/s."""
    O, s, fixed, grows, d = _prefill_queue(
        prefill_s, decode_s_per_token, output_tokens, pool_instances, disaggregated
    )
    rho = queueing.max_load(budget_s, d, quantile, np.where(grows, O * s, 0.0))
    with np.errstate(divide="ignore", invalid="ignore"):
        per_instance = rho / (prefill_s + rho * O * s)
        cap = np.where(fixed, rho * O / d, replicas * per_instance * O)
    return np.where(np.isfinite(budget_s), cap, np.inf)


def poisson_mean_wait_s(
    tokens_per_s,
    prefill_s,
    decode_s_per_token,
    output_tokens,
    replicas,
    pool_instances,
    disaggregated,
) -> np.ndarray:
    """Mean seconds a request waits for its prefill when requests arrive at random and the system
    delivers ``tokens_per_s``: the queues of :func:`poisson_load_cap` at the load that rate
    implies, each an M/D/1 queue (:func:`inference_wars.engine.queueing.mean_wait_s`).

    With chunked prefill an instance takes ``lambda = tokens_per_s / (O * replicas)`` requests/s
    and serves a prompt in ``D = prefill_s + rho * O * s``, so ``rho = lambda * D`` gives
    ``rho = lambda * prefill_s / (1 - lambda * O * s)``; disaggregated, ``D = prefill_s``; a
    fixed pool is one queue of ``lambda = tokens_per_s / O`` and ``D = prefill_s /
    pool_instances``."""
    O, s, fixed, grows, d = _prefill_queue(
        prefill_s, decode_s_per_token, output_tokens, pool_instances, disaggregated
    )
    rate = np.asarray(tokens_per_s, float) / np.maximum(O, 1.0)
    lam = np.where(fixed, rate, rate / np.maximum(np.asarray(replicas, float), 1.0))
    with np.errstate(divide="ignore", invalid="ignore"):
        busy = np.where(grows, lam * O * s, 0.0)  # share of the instance decode steps take
        rho = np.where(busy < 1.0, lam * d / (1.0 - busy), 1.0)
    service = d + np.where(grows, rho * O * s, 0.0)
    return queueing.mean_wait_s(rho, service)


def largest_divisor_at_most(n, limit) -> np.ndarray:
    """Largest divisor of each ``n`` that is at most ``limit`` (1 for n < 1): the most pipeline
    stages of whole chips an ``n``-chip dataflow instance can form over ``limit`` layers."""
    n = np.maximum(np.asarray(n, float), 1.0)
    lim = np.minimum(np.asarray(limit, float), n)
    cand = np.arange(1, int(np.max(lim, initial=1)) + 1, dtype=float)
    ok = (np.mod(n[:, None], cand[None, :]) == 0) & (cand[None, :] <= lim[:, None])
    return np.where(ok, cand[None, :], 0.0).max(axis=1)


def single_instance(m: ModelArrays, hw: HardwareArrays, n_chips) -> Deployment:
    """The deployment that stretches one copy of the model over all ``n`` chips (the engine's
    latency-first split, used where a chapter studies one instance): ``tp = min(n, domain)``,
    ``pp = ceil(n / tp)``; dataflow chips pipeline over the layers; a hard-wired chip is a
    whole model, so ``n`` chips are ``n`` replicas."""
    n = np.asarray(n_chips, float)
    t = np.minimum(n, np.maximum(hw.scaleup_domain, 1.0))
    p = np.ceil(n / t)
    p_df = largest_divisor_at_most(np.broadcast_to(n, np.shape(m.n_layers)), m.n_layers)
    t = np.where(hw.dataflow, n / p_df, t)
    p = np.where(hw.dataflow, p_df, p)
    one = np.ones_like(n)
    return Deployment(
        np.where(hw.hardwired, one, t),
        np.where(hw.hardwired, one, p),
        np.where(hw.hardwired, n, one),
        np.zeros(n.shape, bool),
    )


def chips_needed(
    m: ModelArrays,
    hw: HardwareArrays,
    batch,
    input_tokens,
    output_tokens,
    weight_bits,
    kv_bits,
    usable_fraction,
    output_cv=0.0,
) -> np.ndarray:
    """Fewest chips (unrounded; ``inf`` where nothing fits) whose storage holds the weights and
    the KV cache ``batch`` running sequences hold (:func:`inference_wars.engine.workload.kv_bytes_held`;
    hard-wired chips: the KV cache only)."""
    w = workload.weights_bytes(
        m, weight_bits
    )  # (memory.chips_needed ignores it for hard-wired chips)
    kv = workload.kv_bytes_held(m, batch, input_tokens, output_tokens, kv_bits, output_cv)
    return memory.chips_needed(w, kv, hw, usable_fraction)
