"""Serving: time to first token, time per output token, per-user and aggregate throughput.

One *instance* of the model spans ``n / r`` chips (``r`` replicas; ``r = n`` for hard-wired
chips, each of which is a whole model, else ``r = 1``) and serves ``b = B / r`` concurrent
sequences. With ``t``-way tensor and ``p``-way pipeline parallelism the batch is cut into
``m = min(b, p)`` micro-batches of ``b / m`` sequences. One decode step of every sequence (one
*cycle*) takes::

    TPOT = p * max(t_compute, t_memory)  +  t_link

    t_compute = (b/m) * FLOPs_token(c) / p / (t * peak * eff_c)       one stage, one micro-batch
    t_memory  = read time of the chip's weight shard and KV shard     (memory.read_time_s)
    t_link    = TP/EP collectives over all layers + pipeline hops      (parallel)
                + n_layers * layer_latency   (a wafer's per-layer dataflow floor, where catalogued)

at the mean decode context ``c = input + output / 2``. A pipeline therefore does not cut
latency (a token still crosses every stage) and each micro-batch re-reads the weights: at
small batch, PP buys capacity, not speed. Time to first token is one prompt's prefill::

    TTFT = max(FLOPs_prefill / (n_inst * peak * eff_c), read time) + t_link(prompt)

Aggregate output tokens/s: each instance emits ``b * O`` tokens every ``O * TPOT + b * TTFT``
seconds (prefills interleave with decode); ``tokens_per_s`` sums the ``r`` instances.
The term that dominates TPOT names the ``bound``: compute, memory or interconnect.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import economics, memory, parallel, workload
from .hardware import HardwareArrays
from .workload import ModelArrays

BOUNDS = np.array(["compute", "memory", "interconnect"])


@dataclass(frozen=True)
class Assumptions:
    """Modelling factors (defaults come from ``data/assumptions.csv``)."""

    compute_efficiency: float
    memory_efficiency: float
    sram_efficiency: float
    interconnect_efficiency: float
    collective_latency_us: float
    scaleout_latency_us: float
    usable_memory_fraction: float
    activation_bytes: float
    pue: float
    usd_per_kwh: float
    amortization_years: float
    utilization: float


def fit(m: ModelArrays, hw: HardwareArrays, batch, input_tokens, output_tokens, weight_bits, kv_bits, usable_fraction):
    """``(weights_bytes, kv_bytes, need, chips_needed)``: storage for the weights and for the KV of
    ``batch`` sequences at full length, the fewest chips that hold them (unrounded; ``inf`` where
    nothing fits) and that count rounded to a deployable number of chips."""
    w = workload.weights_bytes(m, weight_bits)
    kv = np.asarray(batch, float) * workload.kv_bytes_per_sequence(m, np.asarray(input_tokens, float) + output_tokens, kv_bits)
    need = memory.chips_needed(w, kv, hw, usable_fraction)
    return w, kv, need, memory.round_chip_count(np.where(np.isfinite(need), need, 1.0))


def evaluate(m: ModelArrays, hw: HardwareArrays, n_chips, batch, input_tokens, output_tokens,
             weight_bits, kv_bits, a: Assumptions) -> dict[str, np.ndarray]:
    """Every serving metric for broadcastable arrays of configurations (see module doc)."""
    n = np.asarray(n_chips, float)
    B = np.asarray(batch, float)
    S = np.asarray(input_tokens, float)
    O = np.asarray(output_tokens, float)

    r = np.where(hw.hardwired, n, 1.0)
    n_inst = n / r
    b = B / r
    t, p = parallel.split(n_inst, hw.scaleup_domain)
    micro = np.minimum(np.maximum(b, 1.0), p)
    bm = b / micro
    c = S + O / 2.0
    alpha = np.where(np.isfinite(hw.collective_latency_us), hw.collective_latency_us, a.collective_latency_us)
    # a hard-wired model's datapath is fixed at tape-out: no scheduling losses to discount
    peak = hw.peak_tflops * 1e12 * np.where(hw.hardwired, 1.0, a.compute_efficiency)

    # ---- decode (one cycle = one token for every sequence)
    flops_tok = workload.decode_flops_per_token(m, c)
    t_comp = bm * flops_tok / p / (t * peak)
    w_read = workload.weight_bytes_read(m, bm, weight_bits) / n_inst
    kv_read = bm * workload.kv_bytes_per_sequence(m, c, kv_bits) / n_inst
    t_mem = memory.read_time_s(w_read, kv_read, hw, a.sram_efficiency, a.memory_efficiency)
    t_link = parallel.tensor_parallel_time_s(bm, m.d_model, m.n_layers, m.n_moe_layers, m.n_experts_active, t,
                                             hw.scaleup_gb_s, alpha, a.activation_bytes, a.interconnect_efficiency)
    t_link = t_link + parallel.pipeline_hop_time_s(bm, m.d_model, p, hw.scaleout_gb_s, a.scaleout_latency_us, a.activation_bytes)
    t_link = t_link + m.n_layers * hw.layer_latency_us * 1e-6
    tpot = p * np.maximum(t_comp, t_mem) + t_link
    bound = BOUNDS[np.argmax(np.stack(np.broadcast_arrays(p * t_comp, p * t_mem, t_link)), axis=0)]

    # ---- prefill of one prompt on one instance
    pf = workload.prefill_flops(m, S)
    pf_comp = pf / (n_inst * peak)
    pf_w = workload.weight_bytes_read(m, S, weight_bits) / n_inst
    pf_kv = workload.kv_bytes_per_sequence(m, S, kv_bits) / n_inst
    pf_mem = memory.read_time_s(pf_w, pf_kv, hw, a.sram_efficiency, a.memory_efficiency)
    pf_link = parallel.tensor_parallel_time_s(S, m.d_model, m.n_layers, m.n_moe_layers, m.n_experts_active, t,
                                              hw.scaleup_gb_s, alpha, a.activation_bytes, a.interconnect_efficiency)
    pf_link = pf_link + parallel.pipeline_hop_time_s(S, m.d_model, p, hw.scaleout_gb_s, a.scaleout_latency_us, a.activation_bytes)
    pf_link = pf_link + m.n_layers * hw.layer_latency_us * 1e-6
    ttft = np.maximum(pf_comp, pf_mem) + pf_link

    tokens_per_s = r * b * O / (O * tpot + b * ttft)
    out = {
        "tp": t, "pp": p, "replicas": r,
        "ttft_s": ttft, "tpot_s": tpot,
        "tokens_per_s_per_user": 1.0 / tpot,
        "tokens_per_s": tokens_per_s,
        "tokens_per_s_per_chip": tokens_per_s / n,
        "decode_compute_s": p * t_comp, "decode_memory_s": p * t_mem, "decode_interconnect_s": t_link,
        "bound": bound,
        "usd_per_million_tokens": economics.usd_per_million_tokens(
            n, tokens_per_s, hw.price_usd, hw.power_w, a.amortization_years, a.utilization, a.pue, a.usd_per_kwh),
        "joules_per_token": economics.joules_per_token(n, tokens_per_s, hw.power_w),
        "tokens_per_s_per_mw": economics.tokens_per_s_per_mw(n, tokens_per_s, hw.power_w, a.pue),
    }
    return out
