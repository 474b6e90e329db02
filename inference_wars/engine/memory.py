"""Where weights and KV cache live, whether they fit, and how long reading them takes.

A chip has up to three storage tiers: mask ROM (weights of a hard-wired model only), on-chip
SRAM (when the design stores weights/KV there: Groq, Cerebras, d-Matrix, MatX; on GPUs SRAM
is a cache and does not add capacity) and off-chip memory (HBM, LPDDR). Bytes fill the fastest
tier first, so the time to read ``x`` bytes per step from SRAM of capacity ``C_s`` then HBM is

    t(x) = min(x, C_s) / (B_s * eff_s) + max(x - C_s, 0) / (B_h * eff_h)
"""

from __future__ import annotations

import numpy as np

from .hardware import HardwareArrays, any_of

GB = 1e9
TB = 1e12
#: A DRAM "gigabyte" on a spec sheet: HBM and LPDDR dies hold powers of two, so an "80 GB" H100
#: holds 80 GiB (81,559 MiB free to CUDA), a "192 GB" MI300X 192 GiB, a "180 GB" B200 179 GiB.
GIB = 2.0**30
#: Bytes in one catalog unit of each capacity quantity: DRAM counts binary gigabytes
#: (:data:`GIB`); on-chip SRAM, caches and mask ROM are quoted in decimal units.
BYTES_PER_UNIT = {
    "hbm_gb": GIB,
    "rom_gb": GB,
    "sram_mb": 1e6,
    "l2_mb": 1e6,
    "l1_smem_mb": 1e6,
    "regfile_mb": 1e6,
}


def capacity_gb(quantity: str, value):
    """A catalog capacity in (decimal) gigabytes of bytes, the unit every model size is in::

        value * BYTES_PER_UNIT[quantity] / 1e9

    so an "80 GB" H100 (``hbm_gb = 80``) holds 85.9 GB of bytes, the number to set against a
    model's weights and KV cache. The one conversion the engine (:func:`storage_capacity_bytes`)
    and the book's memory maps (chapters 2 and 6) share."""
    if quantity not in BYTES_PER_UNIT:
        raise ValueError(
            f"{quantity!r} is not a capacity quantity; known: {', '.join(BYTES_PER_UNIT)}"
        )
    out = np.asarray(value, float) * BYTES_PER_UNIT[quantity] / GB
    return float(out) if out.ndim == 0 else out


def storage_capacity_bytes(hw: HardwareArrays, usable_fraction) -> np.ndarray:
    """Bytes per chip available for weights and KV (ROM excluded: it holds only weights)::

        (sram_gb * 1e9 + hbm_gb * 2**30) * usable_fraction

    The off-chip memory's capacity is read in binary gigabytes (:data:`GIB`), as DRAM is sold and
    as the engines see it (vLLM's ``gpu_memory_utilization`` is a fraction of the device's bytes);
    read in decimal ones it was 7 % short, and a model that fills a GPU (Qwen3 32B in 16 bits on
    one H100, DeepSeek-R1 in FP8 on four B200) was said not to fit where it ran
    (``data/calibration_experiments.csv``, ``dram-gib-2080``)."""
    return (hw.sram_gb * GB + hw.hbm_gb * BYTES_PER_UNIT["hbm_gb"]) * usable_fraction


def _tier_s(x, tb_s, efficiency) -> np.ndarray:
    """Seconds to read ``x`` bytes from one tier of ``tb_s`` TB/s at ``efficiency`` (0 where
    there are no bytes to read)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(x > 0, x / (np.where(tb_s > 0, tb_s, 1.0) * TB * efficiency), 0.0)


def tiered_read_time_s(
    bytes_per_chip, hw: HardwareArrays, sram_efficiency, memory_efficiency
) -> np.ndarray:
    """Seconds to read ``bytes_per_chip`` once, fastest tier first (formula in module doc)."""
    x = np.asarray(bytes_per_chip, float)
    if not any_of(hw.sram_gb):  # no SRAM tier (GPUs): everything streams from HBM
        return _tier_s(x, hw.hbm_tb_s, memory_efficiency)
    in_sram = np.minimum(x, hw.sram_gb * GB)
    return _tier_s(in_sram, hw.sram_tb_s, sram_efficiency) + _tier_s(
        x - in_sram, hw.hbm_tb_s, memory_efficiency
    )


def read_time_s(
    weight_bytes_per_chip, kv_bytes_per_chip, hw: HardwareArrays, sram_efficiency, memory_efficiency
) -> np.ndarray:
    """Time to stream one step's weights and KV. Hard-wired chips read weights from ROM at
    ``rom_tb_s`` (no efficiency factor: the dataflow is fixed) and KV from SRAM/HBM."""
    w = np.asarray(weight_bytes_per_chip, float)
    kv = np.asarray(kv_bytes_per_chip, float)
    rom = hw.rom_gb > 0
    with np.errstate(divide="ignore", invalid="ignore"):
        t_rom = np.where(rom, w / (np.where(hw.rom_tb_s > 0, hw.rom_tb_s, 1.0) * TB), 0.0)
    rest = np.where(rom, kv, w + kv)
    return t_rom + tiered_read_time_s(rest, hw, sram_efficiency, memory_efficiency)


def round_chip_count(n) -> np.ndarray:
    """Deployable chip counts: the next power of two up to 8, then whole multiples of 8
    (tensor-parallel groups split heads evenly; servers come in eights)."""
    n = np.maximum(np.ceil(np.asarray(n, float)), 1.0)
    # the powers of two, 2**ceil(log2(n)) for whole n <= 8, without the logarithms
    pow2 = np.where(n <= 2.0, n, np.where(n <= 4.0, 4.0, 8.0))
    return np.where(n <= 8, pow2, np.ceil(n / 8.0) * 8.0)


def chips_needed(weights_bytes, kv_bytes, hw: HardwareArrays, usable_fraction) -> np.ndarray:
    """Fewest chips (before rounding) whose storage holds the weights and the KV cache.

    Ordinary chips shard both: ``(W + KV) / capacity``. A hard-wired chip holds its whole
    model in ROM, so extra chips are replicas that add only KV capacity: ``KV / capacity``.
    """
    cap = storage_capacity_bytes(hw, usable_fraction)
    w = np.asarray(weights_bytes, float)
    kv = np.asarray(kv_bytes, float)
    with np.errstate(divide="ignore", invalid="ignore"):
        need = np.where(hw.hardwired, kv / cap, (w + kv) / cap)
    return np.where(np.isfinite(need), np.maximum(need, 1.0), np.inf)
