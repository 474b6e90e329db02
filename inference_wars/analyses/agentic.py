"""How an agentic chain multiplies tokens.

An agent that takes ``k`` steps re-sends its growing context every step. Step ``i`` (from 0)
reads

    input_i  = prompt + i * (output_per_step + tool_tokens_per_step)

tokens and writes ``output_per_step``. Without prefix caching every step prefills its whole
input again, so the tokens processed grow quadratically with the number of steps:

    sum_i input_i = k * prompt + (output + tool) * k (k - 1) / 2

With a prefix-cache hit rate ``h`` only ``(1 - h)`` of the previously seen context is
prefilled again.
"""

from __future__ import annotations

import numpy as np

from ..errors import require_fraction, require_positive_int


def chain_steps(
    steps: int,
    prompt_tokens: int,
    output_per_step: int,
    tool_tokens_per_step: int = 0,
    prefix_cache_hit_rate: float = 0.0,
) -> dict[str, np.ndarray]:
    """Per-step token counts of an agent chain (arrays of length ``steps``).

    Returns ``input_tokens`` (context each step sees), ``prefill_tokens`` (what must be
    computed, after prefix caching), and ``output_tokens``.

    Used in chapter 1.
    """
    k = require_positive_int("steps", steps)
    p = require_positive_int("prompt_tokens", prompt_tokens)
    o = require_positive_int("output_per_step", output_per_step)
    if tool_tokens_per_step < 0:
        raise ValueError(f"tool_tokens_per_step must be >= 0, got {tool_tokens_per_step!r}")
    h = require_fraction("prefix_cache_hit_rate", prefix_cache_hit_rate, allow_zero=True)
    i = np.arange(k, dtype=float)
    grown = i * (o + tool_tokens_per_step)
    inputs = p + grown
    new = np.where(i == 0, p, o + tool_tokens_per_step)  # tokens never seen before
    prefill = new + (1.0 - h) * (inputs - new)  # re-prefill the cached part unless hit
    return {
        "step": i.astype(int),
        "input_tokens": inputs,
        "prefill_tokens": prefill,
        "output_tokens": np.full(k, float(o)),
    }


def chain_totals(
    steps: int,
    prompt_tokens: int,
    output_per_step: int,
    tool_tokens_per_step: int = 0,
    prefix_cache_hit_rate: float = 0.0,
) -> dict[str, float]:
    """Totals over the chain and the multiplier versus a single call of ``prompt + output``.

    Used in chapter 1.
    """
    s = chain_steps(
        steps, prompt_tokens, output_per_step, tool_tokens_per_step, prefix_cache_hit_rate
    )
    processed = float(s["prefill_tokens"].sum() + s["output_tokens"].sum())
    single = float(prompt_tokens + output_per_step)
    return {
        "prefill_tokens": float(s["prefill_tokens"].sum()),
        "output_tokens": float(s["output_tokens"].sum()),
        "tokens_processed": processed,
        "multiplier_vs_single_call": processed / single,
    }
