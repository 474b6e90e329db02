"""Splitting a model over chips, and what the links cost.

*Tensor parallelism* (TP) spreads every layer over the ``t`` chips of one scale-up domain
(NVLink, ICI); *pipeline parallelism* (PP) gives each of ``p`` domains a slice of the layers;
*expert parallelism* (EP) places a MoE layer's experts on different chips of the domain.
With ``n`` chips: ``t = min(n, domain)``, ``p = ceil(n / t)``.

Per forward pass over ``T`` tokens, with activations of ``a`` bytes and width ``d``:

* each dense layer does 2 ring all-reduces: ``alpha + 2 (t-1)/t * T d a / B_link``
* each MoE layer does 1 all-reduce (attention) and 2 all-to-alls (dispatch, combine):
  ``alpha + (t-1)/t * T k d a / B_link`` each
* each pipeline boundary sends ``T d a`` bytes over the scale-out network:
  ``alpha_so + T d a / B_out``

``B_link`` is one direction of the per-chip scale-up bandwidth (vendors quote both
directions) times an achievable-efficiency factor.
"""

from __future__ import annotations

import numpy as np


def split(n_chips, scaleup_domain) -> tuple[np.ndarray, np.ndarray]:
    """``(t, p)``: tensor-parallel degree inside a domain and pipeline stages across domains."""
    n = np.asarray(n_chips, float)
    t = np.minimum(n, np.asarray(scaleup_domain, float))
    return t, np.ceil(n / t)


def tensor_parallel_time_s(tokens, d_model, n_layers, n_moe_layers, experts_active, tp,
                           scaleup_gb_s, latency_us, activation_bytes, efficiency) -> np.ndarray:
    """Link time of TP/EP collectives for one pass over all layers (0 when ``tp == 1``)."""
    T = np.asarray(tokens, float)
    t = np.asarray(tp, float)
    bw = np.maximum(np.asarray(scaleup_gb_s, float), 1e-9) / 2.0 * 1e9 * efficiency
    alpha = np.asarray(latency_us, float) * 1e-6
    vol = T * d_model * activation_bytes
    frac = (t - 1.0) / t
    allreduce = alpha + 2.0 * frac * vol / bw
    all2all = alpha + frac * vol * experts_active / bw
    dense_layers = n_layers - n_moe_layers
    total = dense_layers * 2.0 * allreduce + n_moe_layers * (allreduce + 2.0 * all2all)
    return np.where(t > 1, total, 0.0)


def pipeline_hop_time_s(tokens, d_model, pp, scaleout_gb_s, latency_us, activation_bytes) -> np.ndarray:
    """Time for activations to cross the ``p - 1`` pipeline boundaries once."""
    bw = np.maximum(np.asarray(scaleout_gb_s, float), 1e-9) * 1e9
    hop = np.asarray(latency_us, float) * 1e-6 + np.asarray(tokens, float) * d_model * activation_bytes / bw
    return (np.asarray(pp, float) - 1.0) * hop
