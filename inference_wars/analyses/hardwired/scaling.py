"""Scaling a hard-wired model beyond one die: chips per model, the pipeline of dies and its speed."""

from __future__ import annotations

import numpy as np

from ... import catalog
from ...catalog import claims as claims_data
from ...errors import (
    MAX_COUNT,
    require_array,
    require_list,
    require_positive,
)
from .costs import REFERENCE_CHIP, Bound, _positive

# --------------------------------------------------------------------------- scaling to big models


def chips_for_model(
    params, bits_per_weight, params_per_chip=None, bits_per_weight_chip=None
) -> np.ndarray:
    """Dies (each a separate tape-out) to hold ``params`` weights at ``bits_per_weight``:
    ``ceil(P b / (P_chip b_chip))``. Defaults: the reference die (HC1: Llama 3.1 8B at the
    3/6-bit format's average bits).

    Used in chapter 4.
    """
    P = _positive("params", params)
    b = _positive("bits_per_weight", bits_per_weight, 64)
    chip_bits = _chip_rom_bits(params_per_chip, bits_per_weight_chip)
    return np.ceil(P * b / chip_bits - 1e-9)


def _chip_rom_bits(params_per_chip=None, bits_per_weight_chip=None) -> float:
    ref = catalog.get_chip(REFERENCE_CHIP)
    if params_per_chip is None:
        params_per_chip = _model_params(ref.hardwired_model)
    if bits_per_weight_chip is None:
        bits_per_weight_chip = catalog.get_format("taalas-3b6b").bits_per_weight
    return require_positive("params_per_chip", params_per_chip) * require_positive(
        "bits_per_weight_chip", bits_per_weight_chip
    )


def _model_params(model: str) -> float:
    from ...catalog.architecture import parameter_counts

    return float(parameter_counts(catalog.get_model(model))["params_total"])


def implied_params_per_chip(params, n_chips) -> np.ndarray:
    """Weights per die that a claimed chip count implies: ``P / n``.

    Used in chapter 4.
    """
    return _positive("params", params) / _positive("n_chips", n_chips, MAX_COUNT)


def pipeline_tokens_per_s_per_user(
    active_params, n_chips, us_per_token_chip=None, params_per_chip=None, hop_latency_us=2.0
) -> np.ndarray:
    """One user's speed through a chain of dies: ``1 / ((P_active / P_chip) t_chip + (n - 1) t_hop)``.
    Defaults: ``t_chip`` from the reference die's claimed speed (HC1 on its 8B model), ``P_chip``
    its model's parameters.

    Used in chapter 4.
    """
    A = _positive("active_params", active_params)
    n = require_array("n_chips", n_chips, 1, MAX_COUNT)
    if params_per_chip is None:
        params_per_chip = _model_params(catalog.get_chip(REFERENCE_CHIP).hardwired_model)
    if us_per_token_chip is None:
        us_per_token_chip = 1e6 / reference_tokens_per_s_per_user()
    params_per_chip = require_positive("params_per_chip", params_per_chip)
    us_per_token_chip = require_positive("us_per_token_chip", us_per_token_chip)
    hop = require_array("hop_latency_us", hop_latency_us, 0, 1e9)
    t_us = A / params_per_chip * us_per_token_chip + (n - 1.0) * hop
    return 1e6 / t_us


def reference_tokens_per_s_per_user(bound: Bound = "base") -> float:
    """The reference die's claimed speed per user (HC1 on Llama 3.1 8B) from the claims table.

    Used in chapter 4.
    """
    c = claims_data.get_claim("taalas-llama8b")
    if bound not in ("base", "low", "high"):
        raise ValueError(f"bound must be 'base', 'low' or 'high', got {bound!r}")
    return {"base": c.value, "low": c.low, "high": c.high}[bound]


def link_gb_s(tokens_per_s, d_model, activation_bytes=2.0) -> np.ndarray:
    """Bandwidth one pipeline hop carries: ``tokens/s * d_model * bytes`` (one direction), GB/s.

    No chapter calls it directly; :func:`scaling_table` uses it.
    """
    return (
        require_array("tokens_per_s", tokens_per_s, 0)
        * _positive("d_model", d_model)
        * require_positive("activation_bytes", activation_bytes, 8)
        / 1e9
    )


def scaling_table(models, bits_per_weight=None, params_per_chip=None, hop_latency_us=2.0):
    """Per model: dies (= tape-outs) at the reference density, one user's speed through the chain
    and the link bandwidth per hop at that speed. Returns a DataFrame.

    Used in chapter 4.
    """
    import pandas as pd

    from ...catalog.architecture import parameter_counts

    b = (
        catalog.get_format("taalas-3b6b").bits_per_weight
        if bits_per_weight is None
        else bits_per_weight
    )
    b = require_positive("bits_per_weight", b, 64)
    rows = []
    for name in require_list("models", models):
        m = catalog.get_model(name)
        p = parameter_counts(m)
        n = float(chips_for_model(p["params_total"], b, params_per_chip))
        v = float(
            pipeline_tokens_per_s_per_user(
                p["params_active"],
                n,
                params_per_chip=params_per_chip,
                hop_latency_us=hop_latency_us,
            )
        )
        rows.append(
            {
                "model": m.id,
                "params_total_b": p["params_total"] / 1e9,
                "params_active_b": p["params_active"] / 1e9,
                "chips": int(n),
                "tapeouts": int(n),
                "tokens_per_s_per_user": v,
                "link_gb_s": float(link_gb_s(v, m.d_model)),
            }
        )
    return pd.DataFrame(rows)
