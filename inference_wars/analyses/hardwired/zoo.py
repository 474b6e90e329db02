"""A model zoo: how many models are worth a tape-out when traffic follows a Zipf law."""

from __future__ import annotations

import math

import numpy as np

from ...errors import (
    require_array,
    require_number,
    require_positive,
    require_positive_int,
)
from .break_even import TapeoutCase, break_even_months, lifetime_costs

# --------------------------------------------------------------------------- flexibility: a model zoo


def zipf_shares(n_models: int, exponent: float = 1.0) -> np.ndarray:
    """Traffic shares of ``n`` models ranked by popularity: ``k^-s / sum_j j^-s``.

    Used in chapter 4.
    """
    n = require_positive_int("n_models", n_models, limit=1_000_000)
    exponent = require_number("exponent", exponent, 0, 100)
    w = np.arange(1, n + 1, dtype=float) ** -float(exponent)
    return w / w.sum()


def zoo_plan(shares, total_tokens_per_s, service_months, case: TapeoutCase):
    """Hard-wire each model of a zoo only where it pays within its ``service_months``.

    Every model is assumed to cost what ``case`` describes (same GPU cost per token, same chip
    economics) at its own volume ``share * total``; a model is hard-wired when its break-even
    lifetime is shorter than ``service_months``. Returns a DataFrame per model (rank, share,
    break-even months, hard-wired?, GPU-only and chosen cost).

    Used in chapter 4.
    """
    import pandas as pd

    s = require_array("shares", shares, 0, 1, low_open=True)
    if s.ndim != 1 or not math.isclose(s.sum(), 1.0, rel_tol=1e-6):
        raise ValueError("shares must be positive and sum to 1")
    R = s * require_positive("total_tokens_per_s", total_tokens_per_s)
    T = require_positive("service_months", service_months, 1200)
    if not isinstance(case, TapeoutCase):
        raise ValueError(
            f"case must be a TapeoutCase from tapeout_case(), got {type(case).__name__}"
        )
    be = break_even_months(
        R, case.gpu_usd_per_million_tokens, case.hc_tokens_per_s_per_chip, **case.inputs
    )
    costs = lifetime_costs(
        T, R, case.gpu_usd_per_million_tokens, case.hc_tokens_per_s_per_chip, **case.inputs
    )
    wire = be <= T
    chosen = np.where(wire, costs["hardwired_usd"], costs["gpu_usd"])
    return pd.DataFrame(
        {
            "rank": np.arange(1, len(s) + 1),
            "share": s,
            "tokens_per_s": R,
            "break_even_months": be,
            "hardwire": wire,
            "gpu_usd": costs["gpu_usd"],
            "chosen_usd": chosen,
        }
    )
