"""Splitting a model over chips, and what the links cost.

A *deployment* of ``n`` chips is ``replicas x (tp x pp)``: ``replicas`` independent copies of
the model, each spread over ``pp`` pipeline stages of ``tp`` chips. Inside a stage, tensor
parallelism (TP) splits every layer's matrices over the ``tp`` chips; for a mixture of
experts the same chips hold different experts (expert parallelism, EP = ``tp``). Attention
either splits its heads over the stage (TP attention) or runs *data-parallel* (DP attention:
each chip serves its own sequences with a full copy of the attention weights, as DeepSeek's
MLA deployments do), and the tokens travel to their experts by all-to-all.

Collectives on a fabric with per-chip one-way bandwidth ``B`` and latency ``alpha``, for
``V`` bytes of activations on each of ``t`` chips (ring/one-shot algorithms' volume)::

    all_reduce(V)  = alpha + 2 (t - 1) / t * V / B
    all_to_all(V)  = alpha + (t - 1) / t * V / B

A stage wider than the scale-up domain (``t > D``: wide EP over several servers) sends the
share ``1 - D / t`` of its traffic over the scale-out NICs, in parallel with the rest:
``max(V_in / B_up, V_out / B_out)``. Per layer, TP attention and dense blocks do two
all-reduces; a MoE layer under DP attention does two all-to-alls (dispatch, combine) of each
token's ``k`` expert copies. ``B_up`` is one direction of the vendor's bidirectional figure
times ``interconnect_efficiency``.
"""

from __future__ import annotations

import numpy as np


def scaleup_bytes_per_s(scaleup_gb_s, interconnect_efficiency) -> np.ndarray:
    """Bytes/s one chip sends inside its scale-up domain: one direction of the vendor's
    bidirectional figure at the achieved efficiency, ``scaleup/2 * efficiency``."""
    return np.maximum(scaleup_gb_s, 1e-9) * 0.5e9 * interconnect_efficiency


def scaleout_bytes_per_s(scaleout_gb_s) -> np.ndarray:
    """Bytes/s one chip sends over its scale-out NICs."""
    return np.maximum(scaleout_gb_s, 1e-9) * 1e9


def seconds_per_byte(t, domain, scaleup_gb_s, scaleout_gb_s, interconnect_efficiency) -> np.ndarray:
    """Seconds per byte each chip of a ``t``-wide group sends to the others: inside the scale-up
    domain at :func:`scaleup_bytes_per_s`; a group wider than the domain ``D`` sends the share
    ``1 - D / t`` over the NICs in parallel, so ``max((1 - off) / B_up, off / B_out)``."""
    b_up = scaleup_bytes_per_s(scaleup_gb_s, interconnect_efficiency)
    off = np.minimum(np.maximum(1.0 - np.asarray(domain, float) / t, 0.0), 1.0)  # clipped to [0, 1]
    if not off.any():  # every group inside its scale-up domain (the common case): one division
        return 1.0 / b_up
    return np.maximum((1.0 - off) / b_up, off / scaleout_bytes_per_s(scaleout_gb_s))


def stage_collectives_s(
    tokens,
    m,
    t,
    dp_attention,
    domain,
    scaleup_gb_s,
    scaleout_gb_s,
    latency_s,
    activation_bytes,
    interconnect_efficiency,
) -> np.ndarray:
    """Collective time of one pipeline stage's layers for ``tokens`` tokens in flight (all
    layers of the model; the caller divides by the number of stages). Zero when ``t == 1``."""
    t = np.asarray(t, float)
    frac = (t - 1.0) / np.maximum(t, 1.0)
    # one layer's activations, moved at the fabric's seconds per byte (the volume is linear)
    move = (
        np.asarray(tokens, float)
        * (m.d_model * activation_bytes)
        * seconds_per_byte(t, domain, scaleup_gb_s, scaleout_gb_s, interconnect_efficiency)
    )
    ar = latency_s + 2.0 * frac * move
    # all-to-all: each chip's tokens x k experts
    a2a = latency_s + frac * move * (m.n_experts_active / np.maximum(t, 1.0))
    dpa = np.asarray(dp_attention, bool) & (m.n_moe_layers > 0)
    moe = np.where(dpa, 2.0 * a2a, 2.0 * ar)
    total = m.n_dense_layers * 2.0 * ar + m.n_moe_layers * moe
    return np.where(t > 1, total, 0.0)


def pipeline_hops_s(
    tokens,
    d_model,
    tp,
    pp,
    domain,
    scaleup_gb_s,
    scaleout_gb_s,
    latency_s,
    scaleout_latency_s,
    activation_bytes,
    interconnect_efficiency,
) -> np.ndarray:
    """Time for one micro-batch's activations to cross the ``pp - 1`` stage boundaries: over the
    scale-up fabric while the whole instance sits in one domain, else over the NICs."""
    pp = np.asarray(pp, float)
    inside = np.asarray(tp, float) * pp <= np.asarray(domain, float)
    vol = np.asarray(tokens, float) * d_model * activation_bytes
    b_up = scaleup_bytes_per_s(scaleup_gb_s, interconnect_efficiency)
    hop = np.where(
        inside,
        latency_s + vol / b_up,
        scaleout_latency_s + vol / scaleout_bytes_per_s(scaleout_gb_s),
    )
    return (pp - 1.0) * hop
