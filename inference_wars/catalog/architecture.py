"""Parameter counts of a transformer, computed from its architecture.

For a model with ``L`` layers, width ``d``, ``H`` query heads of size ``h``, ``H_kv`` key/value
heads and a gated (SwiGLU) feed-forward block of width ``f``:

* attention (grouped-query):  ``d*H*h + 2*d*H_kv*h + H*h*d``  (Q, K, V, O projections)
* attention (multi-head latent, DeepSeek): ``d*r_q + r_q*H*(h_nope+h_rope) + d*(r_kv+h_rope)
  + r_kv*H*(h_nope+h_v) + H*h_v*d``
* dense feed-forward: ``3*d*f``;  one routed expert: ``3*d*f_e``; router: ``d*E``
* norms: ``2*d`` per layer plus a final ``d``
* embeddings: ``V*d`` in, ``V*d`` out unless tied.

Active parameters per token replace the ``E`` routed experts of each MoE layer by the ``k``
the router picks (shared experts are always active).
"""

from __future__ import annotations

from .lookup import get_model
from .schemas import ModelRow


def attention_params_per_layer(m: ModelRow) -> int:
    d = m.d_model
    if m.attention == "mla":
        qk_head = m.qk_nope_head_dim + m.qk_rope_head_dim
        q = (
            d * m.q_lora_rank + m.q_lora_rank * m.n_heads * qk_head + m.q_lora_rank
            if m.q_lora_rank
            else d * m.n_heads * qk_head
        )
        kv = (
            d * (m.kv_lora_rank + m.qk_rope_head_dim)
            + m.kv_lora_rank
            + m.kv_lora_rank * m.n_heads * (m.qk_nope_head_dim + m.v_head_dim)
        )
        o = m.n_heads * m.v_head_dim * d
        return q + kv + o
    q = d * m.n_heads * m.head_dim
    kv = 2 * d * m.n_kv_heads * m.head_dim
    o = m.n_heads * m.head_dim * d
    return q + kv + o


def expert_params(m: ModelRow) -> int:
    """Parameters of one routed (or shared) expert: a gated FFN of width ``d_ff_expert``."""
    return 3 * m.d_model * m.d_ff_expert


def n_moe_layers(m: ModelRow) -> int:
    return m.n_layers - m.n_dense_layers


def parameter_counts(model: str | ModelRow) -> dict[str, float]:
    """Total and active parameters and the pieces the performance model needs.

    Returns a dict with (all counts in parameters, not billions, except ``*_b``):

    ``params_total``
        every stored weight.
    ``params_active``
        weights used per token, counting the input embedding if the model's publisher does
        (``active_counts_input_embedding``), for comparison with published figures.
    ``params_matmul``
        weights that take part in a matrix multiply per token (no input embedding): the
        ``2 * params_matmul`` FLOPs per token of the forward pass.
    ``params_always_read``
        weights every decode step reads regardless of routing (attention, dense FFNs, shared
        experts, routers, LM head).
    ``params_per_expert``, ``n_moe_layers``
        for the routed-expert part.
    """
    m = get_model(model)
    d, L = m.d_model, m.n_layers
    attn = attention_params_per_layer(m) * L
    norms = 2 * d * L + d
    dense_ffn = 3 * d * m.d_ff * m.n_dense_layers
    moe_layers = n_moe_layers(m)
    per_expert = expert_params(m) if moe_layers else 0
    routed_total = per_expert * m.n_experts * moe_layers
    routed_active = per_expert * m.n_experts_active * moe_layers
    shared = per_expert * m.n_shared_experts * moe_layers
    router = d * m.n_experts * moe_layers
    embed_in = m.vocab_size * d
    lm_head = 0 if m.tied_embeddings else m.vocab_size * d
    head_matmul = m.vocab_size * d  # the output projection is a matmul even when tied
    total = attn + norms + dense_ffn + routed_total + shared + router + embed_in + lm_head
    always = attn + norms + dense_ffn + shared + router + head_matmul
    matmul = always + routed_active
    active = matmul + (embed_in if m.active_counts_input_embedding else 0)
    return {
        "params_total": float(total),
        "params_active": float(active),
        "params_matmul": float(matmul),
        "params_always_read": float(always),
        "params_per_expert": float(per_expert),
        "n_moe_layers": float(moe_layers),
        "params_total_b": total / 1e9,
        "params_active_b": active / 1e9,
    }
