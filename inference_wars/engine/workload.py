"""What one inference step asks of the hardware: FLOPs and bytes.

All functions are vectorised: model quantities come as arrays (see :func:`model_arrays`),
and ``batch``/``context`` broadcast against them.

Per generated token (decode) at context ``c`` the model does::

    FLOPs_token(c) = 2 * P_matmul + 2 * H * (d_qk + d_v) * sum_layers c_eff
    KV_bytes(c)    = kv_elems_per_token_layer * bytes_kv * sum_layers c_eff

with ``c_eff = c`` for full-attention layers and ``min(c, window)`` for sliding-window layers.
A decode step of a batch of ``b`` sequences reads the weights once (for a mixture of experts,
only the experts the batch's tokens route to) and every sequence's KV cache::

    bytes_step = bytes_w * (P_always + n_moe_layers * P_expert * E * (1 - (1 - k/E)**b))
                 + b * KV_bytes(c)

where ``E * (1 - (1 - k/E)**b)`` is the expected number of distinct experts ``b`` tokens
choose when each picks ``k`` of ``E`` uniformly.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ..catalog import ModelRow, get_model
from ..catalog.architecture import attention_params_per_layer, parameter_counts
from .hardware import any_of, read_only


@dataclass(frozen=True)
class ModelArrays:
    """Per-model constants as float arrays (one entry per model), for vectorised maths."""

    n_layers: np.ndarray
    d_model: np.ndarray
    n_heads: np.ndarray
    d_qk_decode: np.ndarray
    d_v_decode: np.ndarray
    d_qk_prefill: np.ndarray
    d_v_prefill: np.ndarray
    kv_elems_per_token_layer: np.ndarray
    n_full_layers: np.ndarray
    n_sliding_layers: np.ndarray
    window: np.ndarray
    n_kv_heads: np.ndarray
    is_mla: np.ndarray  # 1.0 for multi-head latent attention (one latent shared by all heads)
    n_dense_layers: np.ndarray  # layers whose feed-forward block is dense (all of a dense model)
    params_attention: np.ndarray  # attention weights of all layers (replicated under DP attention)
    params_total: np.ndarray
    params_matmul: np.ndarray
    params_always_read: np.ndarray
    params_per_expert: np.ndarray
    n_moe_layers: np.ndarray
    n_experts: np.ndarray
    n_experts_active: np.ndarray
    max_context: np.ndarray

    def take(self, idx: np.ndarray) -> "ModelArrays":
        return ModelArrays(**{k: getattr(self, k)[idx] for k in self.__dataclass_fields__})


def model_arrays(models: Sequence[str | ModelRow]) -> ModelArrays:
    """Arrays for a list of model ids (one entry per id, repeats allowed; read-only: built once
    per list, then shared)."""
    return _model_arrays(tuple(get_model(name).id for name in models))


@functools.lru_cache(maxsize=256)
def _model_arrays(ids: tuple[str, ...]) -> ModelArrays:
    rows = [_model_row(i) for i in ids]
    return ModelArrays(
        **read_only(
            {
                k: np.array([r[k] for r in rows], dtype=float)
                for k in ModelArrays.__dataclass_fields__
            }
        )
    )


@functools.cache
def _model_row(model_id: str) -> dict[str, float]:
    m = get_model(model_id)
    p = parameter_counts(m)
    if m.attention == "mla":
        kv_elems = m.kv_lora_rank + m.qk_rope_head_dim  # one latent + one rope key
        qk_dec, v_dec = m.kv_lora_rank + m.qk_rope_head_dim, m.kv_lora_rank  # absorbed form
        qk_pre, v_pre = m.qk_nope_head_dim + m.qk_rope_head_dim, m.v_head_dim
    else:
        kv_elems = 2 * m.n_kv_heads * m.head_dim  # K and V
        qk_dec = v_dec = qk_pre = v_pre = m.head_dim
    vals = dict(
        n_layers=m.n_layers,
        d_model=m.d_model,
        n_heads=m.n_heads,
        d_qk_decode=qk_dec,
        d_v_decode=v_dec,
        d_qk_prefill=qk_pre,
        d_v_prefill=v_pre,
        kv_elems_per_token_layer=kv_elems,
        n_kv_heads=m.n_kv_heads,
        is_mla=float(m.attention == "mla"),
        n_dense_layers=m.n_layers - p["n_moe_layers"],
        params_attention=attention_params_per_layer(m) * m.n_layers,
        n_full_layers=m.n_layers - m.n_sliding_layers,
        n_sliding_layers=m.n_sliding_layers,
        window=max(m.sliding_window, 1),
        params_total=p["params_total"],
        params_matmul=p["params_matmul"],
        params_always_read=p["params_always_read"],
        params_per_expert=p["params_per_expert"],
        n_moe_layers=p["n_moe_layers"],
        n_experts=m.n_experts,
        n_experts_active=m.n_experts_active,
        max_context=m.max_context,
    )
    return {k: float(v) for k, v in vals.items()}


def effective_context_layers(m: ModelArrays, context) -> np.ndarray:
    """``sum over layers of c_eff``: tokens of context each layer attends to, summed."""
    c = np.asarray(context, dtype=float)
    return m.n_full_layers * c + m.n_sliding_layers * np.minimum(c, m.window)


def kv_bytes_per_sequence(m: ModelArrays, context, kv_bits) -> np.ndarray:
    """KV-cache bytes of one sequence holding ``context`` tokens."""
    return (
        m.kv_elems_per_token_layer
        * (np.asarray(kv_bits, float) / 8.0)
        * effective_context_layers(m, context)
    )


#: Bits per attention weight of a mixture of experts stored in a 4-bit format. Published 4-bit
#: MoE checkpoints quantise the experts only: gpt-oss stores its MoE weights in MXFP4 and
#: attention in BF16 (openai2025gptoss); NVIDIA's DeepSeek-R1 FP4 checkpoint leaves attention
#: unquantised (its v2 "additionally quantizes the wo module", nvidia2025dsr1fp4).
MOE_4BIT_ATTENTION_BITS = 16.0


def attention_bits(m: ModelArrays, weight_bits) -> np.ndarray:
    """Bits per attention weight: the format's, except a mixture of experts in a format narrower
    than 8 bits keeps attention at :data:`MOE_4BIT_ATTENTION_BITS`.

    >>> m = model_arrays(["deepseek-r1", "llama-3.1-70b"])
    >>> attention_bits(m, 4.5).tolist(), attention_bits(m, 8.0).tolist()
    ([16.0, 4.5], [8.0, 8.0])
    """
    wb = np.asarray(weight_bits, float)
    return np.where((m.n_moe_layers > 0) & (wb < 8.0), MOE_4BIT_ATTENTION_BITS, wb)


def weight_bytes(m: ModelArrays, attention_params, other_params, weight_bits) -> np.ndarray:
    """Bytes of ``attention_params`` attention weights (at :func:`attention_bits`) and
    ``other_params`` other weights (at the format's bits): the one place weights become bytes."""
    wb = np.asarray(weight_bits, float)
    return (attention_params * attention_bits(m, wb) + other_params * wb) / 8.0


#: Largest coefficient of variation of answer lengths an input may give (MLPerf DeepSeek-R1: 1.25).
MAX_OUTPUT_CV = 10.0


def decode_context(input_tokens, output_tokens, output_cv=0.0) -> np.ndarray:
    """Mean context of a decode step's tokens under continuous batching, for prompts of ``S``
    tokens and answers of mean ``O`` tokens whose lengths vary with coefficient of variation
    ``cv`` (standard deviation / mean; 0: every answer the same length)::

        c = S + E[O^2] / (2 E[O]) = S + O/2 * (1 + cv^2)

    A sequence's ``i``-th answer token attends to ``S + i`` tokens; averaged over every token
    generated, long answers weigh in proportion to their length (they hold a batch slot for
    longer), so a long-tailed length distribution (reasoning models' answers: MLPerf's
    DeepSeek-R1 set has ``cv`` 1.25, psap2025mlperfdatasetsummaries) reads about twice the KV
    cache per step that fixed-length answers of the same mean would.

    >>> float(decode_context(804, 3886)), float(decode_context(804, 3886, 1.25))
    (2747.0, 5782.9375)
    """
    S, O = np.asarray(input_tokens, float), np.asarray(output_tokens, float)
    cv = np.asarray(output_cv, float)
    return S + O / 2.0 * (1.0 + cv * cv)


def kv_bytes_held(
    m: ModelArrays, batch, input_tokens, output_tokens, kv_bits, output_cv=0.0
) -> np.ndarray:
    """KV-cache bytes a running batch of ``b`` sequences holds in steady state. With continuous
    batching and a paged cache, sequences sit at every point of their answer, so on average each
    holds :func:`decode_context` tokens (``S + O/2`` for answers of one length); one of them at
    its longest holds ``O/2`` more::

        KV_held = b * KV_bytes(c) + KV_bytes(O/2)          (= KV_bytes(S + O) at b = 1, cv = 0)
    """
    S, O = np.asarray(input_tokens, float), np.asarray(output_tokens, float)
    return np.asarray(batch, float) * kv_bytes_per_sequence(
        m, decode_context(S, O, output_cv), kv_bits
    ) + kv_bytes_per_sequence(m, O / 2.0, kv_bits)


def weights_bytes(m: ModelArrays, weight_bits) -> np.ndarray:
    """Bytes to store every weight: ``(P_total - P_attention) * bits / 8 + P_attention *
    attention_bits / 8`` (:func:`attention_bits`)."""
    return weight_bytes(m, m.params_attention, m.params_total - m.params_attention, weight_bits)


def expected_experts_touched(m: ModelArrays, tokens) -> np.ndarray:
    """Expected distinct experts per MoE layer hit by ``tokens`` tokens, each routing to ``k`` of
    ``E``: ``E * (1 - (1 - k/E)**tokens)`` (0 for dense models)."""
    E = m.n_experts
    if not any_of(E):  # dense models only: E * (1 - 1**tokens) is 0, without the powers
        return np.zeros(np.broadcast_shapes(np.shape(E), np.shape(tokens)))[()]
    with np.errstate(divide="ignore", invalid="ignore"):
        frac_miss = np.where(E > 0, 1.0 - m.n_experts_active / np.where(E > 0, E, 1.0), 1.0)
    return E * (1.0 - frac_miss ** np.asarray(tokens, float))


def weight_bytes_read(m: ModelArrays, tokens, weight_bits) -> np.ndarray:
    """Weight bytes one forward pass over ``tokens`` tokens must read (experts once each)."""
    params = m.params_always_read + m.n_moe_layers * m.params_per_expert * expected_experts_touched(
        m, tokens
    )
    return weight_bytes(m, m.params_attention, params - m.params_attention, weight_bits)


def decode_attention_flops_per_token(m: ModelArrays, context) -> np.ndarray:
    """``2 * H * (d_qk + d_v) * sum_layers c_eff``: one new token's attention over its context."""
    return 2.0 * m.n_heads * (m.d_qk_decode + m.d_v_decode) * effective_context_layers(m, context)


def routed_params_per_token(m: ModelArrays) -> np.ndarray:
    """Routed-expert weights one token multiplies by: ``n_moe_layers * k * P_expert``."""
    return m.n_moe_layers * m.n_experts_active * m.params_per_expert


def dense_params_per_token(m: ModelArrays) -> np.ndarray:
    """Weights every token multiplies by (attention, dense and shared feed-forward blocks, the
    output head): ``P_matmul -`` :func:`routed_params_per_token`."""
    return m.params_matmul - routed_params_per_token(m)


def decode_flops_per_token(m: ModelArrays, context) -> np.ndarray:
    """``2 * P_matmul + 2 * H * (d_qk + d_v) * sum_layers c_eff`` FLOPs for one new token."""
    return 2.0 * m.params_matmul + decode_attention_flops_per_token(m, context)


def prefill_attention_flops(m: ModelArrays, prompt_tokens) -> np.ndarray:
    """The attention part of :func:`prefill_flops`, causal over a prompt of ``S`` tokens:
    ``2 * H * (d_qk + d_v) * (n_full * S**2 / 2 + n_sliding * S * min(S, w))``."""
    S = np.asarray(prompt_tokens, float)
    attn_ctx = m.n_full_layers * S * S / 2.0 + m.n_sliding_layers * S * np.minimum(S, m.window)
    return 2.0 * m.n_heads * (m.d_qk_prefill + m.d_v_prefill) * attn_ctx


def prefill_flops(m: ModelArrays, prompt_tokens) -> np.ndarray:
    """FLOPs to prefill a prompt of ``S`` tokens with causal attention:
    ``2 * P_matmul * S +`` :func:`prefill_attention_flops`."""
    S = np.asarray(prompt_tokens, float)
    return 2.0 * m.params_matmul * S + prefill_attention_flops(m, S)


def decode_step(
    m: ModelArrays, batch, context, weight_bits, kv_bits
) -> tuple[np.ndarray, np.ndarray]:
    """(FLOPs, bytes) of one decode step for ``batch`` sequences at ``context`` tokens each."""
    b = np.asarray(batch, float)
    flops = b * decode_flops_per_token(m, context)
    bytes_ = weight_bytes_read(m, b, weight_bits) + b * kv_bytes_per_sequence(m, context, kv_bits)
    return flops, bytes_
