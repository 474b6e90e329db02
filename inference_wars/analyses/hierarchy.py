"""A GPU's memory hierarchy as data, and where prefill and decode sit on its roofline.

A GPU keeps on-chip SRAM in three levels: registers and the combined L1/shared memory of each
streaming multiprocessor, then a chip-wide L2 cache. They are fast but small (tens of MB); the
weights and KV cache (tens to hundreds of GB) live in HBM and are streamed through the SRAM
every step. :func:`memory_hierarchy` collects the catalog's numbers per level.

For a step of ``F`` FLOPs that moves ``Q`` bytes from HBM the arithmetic intensity is
``I = F / Q``; attainable throughput is ``min(peak, I * B_hbm)`` and the step is compute-bound
when ``I`` exceeds the ridge ``peak / B_hbm`` (:mod:`inference_wars.engine.roofline`). The two points
of :func:`roofline_points` are

* prefill of one prompt of ``c`` tokens: ``F = FLOPs_prefill(c)``, ``Q = W_read(c) + KV(c)``
* one decode step of ``b`` sequences at context ``c``: ``F = b * FLOPs_token(c)``,
  ``Q = W_read(b) + b * KV(c)`` (:func:`inference_wars.engine.workload.decode_step`).

Batch-1 decode cannot beat ``B_hbm / bytes_per_token`` tokens/s per user on one chip
(:func:`decode_ceiling_tokens_per_s`).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .. import catalog
from ..engine import memory, roofline, workload
from ..engine.formats import (
    bits_per_weight,
    check_format_on_chip,
    compute_peak_quantity,
    default_kv_format,
)

#: (level, capacity quantity, bandwidth quantity); capacities are converted to GB of bytes by
#: :func:`memory.capacity_gb` (HBM's "GB" are binary).
LEVELS = (
    ("registers", "regfile_mb", None),
    ("L1 / shared memory", "l1_smem_mb", "l1_smem_tb_s"),
    ("L2 cache", "l2_mb", "l2_tb_s"),
    ("HBM", "hbm_gb", "hbm_tb_s"),
)


def memory_hierarchy(chips: Sequence[str]):
    """One row per (chip, level): ``capacity_gb`` and ``bandwidth_tb_s`` with their ``_low`` /
    ``_high`` bounds, status and source. Levels the catalog lacks for a chip are left out
    (NVIDIA publishes no register bandwidth, and no cache figures yet for Rubin).

    Used in chapter 2.
    """
    import pandas as pd

    rows = []
    for name in [chips] if isinstance(chips, str) else list(chips):
        c = catalog.get_chip(name)
        for level, cap_q, bw_q in LEVELS:
            if not c.has(cap_q):
                continue
            cap = c.specs[cap_q]
            row = {
                "chip": c.id,
                "level": level,
                "capacity_gb": memory.capacity_gb(cap_q, cap.value),
                "capacity_status": cap.status,
                "capacity_source": cap.source,
                "bandwidth_tb_s": np.nan,
                "bandwidth_tb_s_low": np.nan,
                "bandwidth_tb_s_high": np.nan,
                "bandwidth_status": "",
                "bandwidth_source": "",
            }
            if bw_q and c.has(bw_q):
                bw = c.specs[bw_q]
                row.update(
                    bandwidth_tb_s=bw.value,
                    bandwidth_tb_s_low=bw.low,
                    bandwidth_tb_s_high=bw.high,
                    bandwidth_status=bw.status,
                    bandwidth_source=bw.source,
                )
            rows.append(row)
    if not rows:
        raise ValueError("none of these chips has memory-hierarchy numbers in the catalog")
    return pd.DataFrame(rows)


def roofline_points(
    models: Sequence[str], chips: Sequence[str], precisions: Sequence[str], batches, contexts
):
    """Prefill and decode as points on each chip's roofline, for every combination.

    Returns a DataFrame with ``model, chip, precision, batch, context, phase`` (``prefill`` or
    ``decode``), ``intensity`` (FLOP/byte), ``attainable_tflops``, ``peak_tflops``,
    ``hbm_tb_s``, ``ridge`` and ``bound``. (chip, precision) pairs the chip cannot run are
    skipped; the KV cache uses the format's default KV precision.

    Used in chapters 1 and 2.
    """
    import pandas as pd

    as_list = lambda x: [x] if isinstance(x, (str, int, float)) else list(x)  # noqa: E731
    b = np.asarray(as_list(batches), float)
    cx = np.asarray(as_list(contexts), float)
    if (b < 1).any() or (cx < 1).any():
        raise ValueError("batches and contexts must be >= 1")
    B, C = (g.ravel() for g in np.meshgrid(b, cx, indexing="ij"))
    frames, skipped = [], 0
    for m_id in as_list(models):
        m = workload.model_arrays([catalog.get_model(m_id).id])
        if (C > m.max_context[0]).any():
            raise ValueError(
                f"a context exceeds {m_id}'s maximum of {int(m.max_context[0]):,} tokens"
            )
        for chip in as_list(chips):
            c = catalog.get_chip(chip)
            for fmt in as_list(precisions):
                try:
                    check_format_on_chip(fmt, c)
                except ValueError:
                    skipped += 1
                    continue
                wb, kb = bits_per_weight(fmt), bits_per_weight(default_kv_format(fmt))
                peak, bw = (
                    c.get(compute_peak_quantity(fmt, c)),
                    c.get("hbm_tb_s"),
                )  # weight-only formats: the 16-bit peak
                f_pre = workload.prefill_flops(m, C)
                q_pre = workload.weight_bytes_read(m, C, wb) + workload.kv_bytes_per_sequence(
                    m, C, kb
                )
                f_dec, q_dec = workload.decode_step(m, B, C, wb, kb)
                for phase, f, q in (("prefill", f_pre, q_pre), ("decode", f_dec, q_dec)):
                    inten = roofline.arithmetic_intensity(f, q)
                    ridge = float(roofline.ridge_point(peak, bw))
                    frames.append(
                        pd.DataFrame(
                            {
                                "model": m_id,
                                "chip": c.id,
                                "precision": fmt,
                                "batch": B.astype(int),
                                "context": C.astype(int),
                                "phase": phase,
                                "intensity": inten,
                                "attainable_tflops": roofline.attainable_tflops(inten, peak, bw),
                                "peak_tflops": peak,
                                "hbm_tb_s": bw,
                                "ridge": ridge,
                                "bound": np.where(inten >= ridge, "compute", "memory"),
                            }
                        )
                    )
    if not frames:
        raise ValueError("no (chip, precision) pair in this request can run")
    return pd.concat(frames, ignore_index=True)


def decode_ceiling_tokens_per_s(
    model: str, chip: str, precision: str, context: int = 1, n_chips: int = 1
) -> float:
    """Upper bound on batch-1 decode speed: ``n * B_hbm / (W_read(1) + KV(context))`` tokens/s
    (every weight a token uses and its KV cache cross HBM once per token; perfect efficiency).

    Used in chapter 2.
    """
    c = catalog.get_chip(chip)
    check_format_on_chip(precision, c)
    m = workload.model_arrays([catalog.get_model(model).id])
    q = workload.weight_bytes_read(
        m, 1, bits_per_weight(precision)
    ) + workload.kv_bytes_per_sequence(m, context, bits_per_weight(default_kv_format(precision)))
    if n_chips < 1:
        raise ValueError(f"n_chips must be at least 1, got {n_chips!r}")
    return float(roofline.decode_tokens_per_s_upper_bound(q[0], c.get("hbm_tb_s") * n_chips))
