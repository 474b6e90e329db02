"""The silicon a model-as-chip needs: the latency budget per layer, multiply-accumulators and
ROM bits (formulas in :mod:`inference_wars.analyses.hardwired`)."""

from __future__ import annotations

import numpy as np

from ...errors import (
    require_positive,
    require_positive_int,
)
from .costs import _positive

# --------------------------------------------------------------------------- silicon budget


def latency_budget(tokens_per_s_per_user, n_layers, clock_ghz=1.0) -> dict[str, np.ndarray]:
    """Time per token, per layer (``1/(v L)``) and clock cycles per layer at ``clock_ghz``.

    Used in chapter 4.
    """
    v = _positive("tokens_per_s_per_user", tokens_per_s_per_user)
    L = require_positive_int("n_layers", n_layers)
    f = _positive("clock_ghz", clock_ghz) * 1e9
    per_token_s = 1.0 / v
    per_layer_s = per_token_s / L
    return {
        "us_per_token": per_token_s * 1e6,
        "ns_per_layer": per_layer_s * 1e9,
        "cycles_per_layer": per_layer_s * f,
    }


def silicon_budget(
    params, bits_per_weight, tokens_per_s_per_user, transistors_b, die_area_mm2, clock_ghz=1.0
) -> dict[str, np.ndarray]:
    """What one die must hold and do to serve one user at ``tokens_per_s_per_user``:

    * ``rom_gbit = P b / 1e9`` weight bits; ``mbit_per_mm2`` over the whole die; ``transistors_per_bit``
      (a mask-ROM bit needs about one transistor, an SRAM bit six);
    * ``macs_parallel = P v / f`` multiply-accumulators busy every cycle (``2 P`` ops per token);
    * ``tops = 2 P v / 1e12`` operations per second actually used.

    Used in chapter 4.
    """
    P = _positive("params", params)
    b = _positive("bits_per_weight", bits_per_weight, 64)
    v = _positive("tokens_per_s_per_user", tokens_per_s_per_user)
    f = _positive("clock_ghz", clock_ghz) * 1e9
    bits = P * b
    return {
        "rom_gbit": bits / 1e9,
        "rom_gb": bits / 8e9,
        "mbit_per_mm2": bits / 1e6 / require_positive("die_area_mm2", die_area_mm2),
        "transistors_per_bit": require_positive("transistors_b", transistors_b) * 1e9 / bits,
        "macs_parallel": P * v / f,
        "tops": 2.0 * P * v / 1e12,
    }


def hbm_decode_floor_tokens_per_s(weight_bytes, bandwidth_tb_s) -> np.ndarray:
    """Batch-1 decode ceiling when weights stream from memory: ``bandwidth / weight bytes``.

    Used in chapter 4.
    """
    return (
        _positive("bandwidth_tb_s", bandwidth_tb_s) * 1e12 / _positive("weight_bytes", weight_bytes)
    )
