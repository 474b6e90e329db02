"""The roofline: a step takes as long as its slower side, compute or memory.

    time = max(FLOPs / (peak * eff_c),  bytes / (bandwidth * eff_m))

Arithmetic intensity ``I = FLOPs / bytes``; a chip's *ridge point* is ``peak / bandwidth``
(FLOP per byte). Below the ridge a kernel is memory-bound, above it compute-bound. Attainable
throughput is ``min(peak, I * bandwidth)``. Units: TFLOPS = 1e12 FLOP/s, TB/s = 1e12 B/s.
"""

from __future__ import annotations

import numpy as np


def arithmetic_intensity(flops, bytes_moved) -> np.ndarray:
    """FLOPs per byte moved."""
    return np.asarray(flops, float) / np.asarray(bytes_moved, float)


def ridge_point(peak_tflops, bandwidth_tb_s) -> np.ndarray:
    """FLOP/byte at which compute time equals memory time: ``peak / bandwidth``.

    H100 SXM, BF16 dense (989 TFLOPS) over HBM3 (3.35 TB/s): below about 295 FLOP per byte
    a kernel waits on memory.

    >>> round(float(ridge_point(989.0, 3.35)), 1)
    295.2
    """
    return np.asarray(peak_tflops, float) / np.asarray(bandwidth_tb_s, float)


def attainable_tflops(intensity, peak_tflops, bandwidth_tb_s) -> np.ndarray:
    """``min(peak, intensity * bandwidth)`` in TFLOPS."""
    return np.minimum(
        np.asarray(peak_tflops, float),
        np.asarray(intensity, float) * np.asarray(bandwidth_tb_s, float),
    )


def roofline_time_s(
    flops, bytes_moved, peak_tflops, bandwidth_tb_s, compute_efficiency=1.0, memory_efficiency=1.0
) -> np.ndarray:
    """``max(flops / (peak * eff_c), bytes / (bandwidth * eff_m))`` seconds."""
    t_c = np.asarray(flops, float) / (np.asarray(peak_tflops, float) * 1e12 * compute_efficiency)
    t_m = np.asarray(bytes_moved, float) / (
        np.asarray(bandwidth_tb_s, float) * 1e12 * memory_efficiency
    )
    return np.maximum(t_c, t_m)


def decode_tokens_per_s_upper_bound(weight_bytes, bandwidth_tb_s) -> np.ndarray:
    """Batch-1 decode can produce at most ``bandwidth / weight_bytes`` tokens/s: every token
    reads every weight once.

    A 70B model in BF16 (140 GB) on one H100 (3.35 TB/s): under 24 tokens/s per user.

    >>> round(float(decode_tokens_per_s_upper_bound(140e9, 3.35)), 1)
    23.9
    """
    return np.asarray(bandwidth_tb_s, float) * 1e12 / np.asarray(weight_bytes, float)
