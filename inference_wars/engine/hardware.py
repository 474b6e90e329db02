"""The chip side of the model as arrays: peak throughput for a number format, memory tiers,
links, power and price, under a ``base``/``optimistic``/``pessimistic`` reading of the catalog
(estimated numbers have ranges; optimistic takes the bound that favours the chip).
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ..catalog import Chip, get_chip, get_format
from .formats import compute_peak_quantity, pays_unpacking, runs_natively


@dataclass(frozen=True)
class HardwareArrays:
    """Per-(chip, format) constants as float arrays. Units are in the names."""

    peak_tflops: np.ndarray
    attn_peak_tflops: (
        np.ndarray
    )  # peak for attention maths: the 16-bit peak (decode attention kernels compute in BF16)
    narrow: np.ndarray  # 1.0 when the format computes at 4 bits (FP4 tensor cores)
    weight_only: np.ndarray  # 1.0 when unpacking slows weight reads (W8A16: formats.pays_unpacking)
    rom_gb: np.ndarray
    rom_tb_s: np.ndarray
    sram_gb: np.ndarray  # SRAM usable as storage (0 where SRAM is only a cache)
    sram_tb_s: np.ndarray
    hbm_gb: np.ndarray
    hbm_tb_s: np.ndarray
    scaleup_gb_s: np.ndarray
    scaleup_domain: np.ndarray
    scaleout_gb_s: np.ndarray
    collective_latency_us: np.ndarray  # NaN where the catalog has no chip-specific value
    layer_latency_us: np.ndarray  # per-layer dataflow floor (0 where not modelled)
    #: tensor-parallel ranks per chip where the chip's software pads attention heads up to a
    #: multiple of its ranks instead of requiring that they divide the heads (Neuron: 2 cores)
    head_padding_ranks: np.ndarray  # 0 = the TP width must divide the heads
    power_w: np.ndarray
    price_usd: np.ndarray
    hardwired: np.ndarray  # bool: chip is one model (replicas, not shards)
    dataflow: np.ndarray  # bool: weights live only in on-chip SRAM (Groq, Cerebras): pipelined

    def take(self, idx: np.ndarray) -> "HardwareArrays":
        return HardwareArrays(**{k: getattr(self, k)[idx] for k in self.__dataclass_fields__})


def any_of(x) -> bool:
    """Whether any element of ``x`` (an array, a numpy scalar or a number) is nonzero: what
    ``np.any`` says, without its reduction machinery for the scalars of a single estimate."""
    if isinstance(x, np.ndarray) and x.ndim:
        return bool(x.any())
    return bool(x)  # a number, a numpy scalar or a 0-d array


def chip_row(chip: str | Chip, fmt: str, scenario: str = "base") -> dict[str, float]:
    """One chip's numbers for one format, as a dict of floats."""
    c = get_chip(chip)
    g = lambda q, default=0.0: c.get(q, default, scenario)  # noqa: E731
    # spec peaks are quoted at the peak clock; a chip that cannot hold it through dense matrix
    # maths (power-limited: AMD measures MI300X at 0.59 of it) runs them at the clock it holds
    clock = g("matrix_clock_fraction", 1.0)
    peak = g(compute_peak_quantity(fmt, c), 0.0)
    return dict(
        peak_tflops=peak * clock,
        attn_peak_tflops=(g("peak_dense_tflops_bf16", 0.0) or peak) * clock,
        narrow=float(get_format(fmt).compute == "fp4" and runs_natively(fmt, c)),
        weight_only=float(pays_unpacking(fmt, c)),
        rom_gb=g("rom_gb"),
        rom_tb_s=g("rom_tb_s"),
        sram_gb=g("sram_mb") / 1e3 if c.sram_role == "storage" else 0.0,
        sram_tb_s=g("sram_tb_s"),
        hbm_gb=g("hbm_gb"),
        hbm_tb_s=g("hbm_tb_s"),
        scaleup_gb_s=g("scaleup_gb_s"),
        scaleup_domain=max(g("scaleup_domain", 1.0), 1.0),
        scaleout_gb_s=g("scaleout_gb_s"),
        collective_latency_us=g("collective_latency_us", float("nan")),
        layer_latency_us=g("layer_latency_us", 0.0),
        head_padding_ranks=g("head_padding_ranks", 0.0),
        power_w=c.serving_power_w(scenario),
        price_usd=g("price_usd"),
        hardwired=float(bool(c.hardwired_model)),
        dataflow=float(family(c) == "dataflow"),
    )


def hardware_arrays(pairs: Sequence[tuple[str, str]], scenario: str = "base") -> HardwareArrays:
    """Arrays for a list of ``(chip, format)`` pairs (read-only: built once per list, then
    shared)."""
    return _hardware_arrays(tuple((get_chip(c).id, f) for c, f in pairs), scenario)


@functools.lru_cache(maxsize=256)
def _hardware_arrays(pairs: tuple[tuple[str, str], ...], scenario: str) -> HardwareArrays:
    rows = [_chip_row(c, f, scenario) for c, f in pairs]
    cols = {
        k: np.array([r[k] for r in rows], dtype=float) for k in HardwareArrays.__dataclass_fields__
    }
    cols["hardwired"] = cols["hardwired"].astype(bool)
    cols["dataflow"] = cols["dataflow"].astype(bool)
    return HardwareArrays(**read_only(cols))


def read_only(cols: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The arrays of ``cols`` marked read-only (a cached table must not change under its users)."""
    for v in cols.values():
        v.flags.writeable = False
    return cols


@functools.cache
def _chip_row(chip_id: str, fmt: str, scenario: str) -> dict[str, float]:
    return chip_row(chip_id, fmt, scenario)


#: Hardware families: chips whose software stacks and memory systems behave alike share the
#: factors fitted to measured results (:mod:`inference_wars.engine.factors`).
FAMILIES = ("nvidia-gpu", "amd-gpu", "tpu", "dataflow", "other")


def family(chip: str | Chip) -> str:
    """The chip's hardware family: ``nvidia-gpu``, ``amd-gpu``, ``tpu``, ``dataflow`` (weights
    only in on-chip SRAM, pipelined across chips or wafers: Groq, Cerebras) or ``other``."""
    c = get_chip(chip)
    if c.category == "gpu":
        return "nvidia-gpu" if c.vendor == "NVIDIA" else "amd-gpu"
    if c.category == "tpu":
        return "tpu"
    if c.sram_role == "storage" and not c.hardwired_model and c.get("hbm_gb") == 0:
        return "dataflow"
    return "other"
