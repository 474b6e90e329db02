"""Number formats: how many bits a stored weight costs and which peak a chip runs it at.

``bits_per_weight`` is *effective*: block-scaled formats add their scales, e.g. NVFP4 stores
4-bit values plus one FP8 scale per 16 values, ``4 + 8/16 = 4.5`` bits.
"""

from __future__ import annotations

import functools

from ..catalog import Chip, FormatRow, format_ids, get_chip, get_format
from ..errors import require_scenario

#: KV-cache formats accepted for ``kv_precision``.
KV_FORMATS = ("bf16", "fp8", "int8", "nvfp4", "mxfp4", "fp4", "int4")


def bits_per_weight(fmt: str | FormatRow, scenario: str = "base") -> float:
    """Effective bits per weight; ``optimistic`` takes the low end of an estimated range
    (fewer bytes to move), ``pessimistic`` the high end."""
    f = get_format(fmt)
    require_scenario(scenario)
    if scenario == "optimistic" and f.low is not None:
        return f.low
    if scenario == "pessimistic" and f.high is not None:
        return f.high
    return f.bits_per_weight


def peak_quantity(fmt: str | FormatRow) -> str:
    """The chip quantity holding this format's dense peak, e.g. ``peak_dense_tflops_fp4``."""
    return f"peak_dense_tflops_{get_format(fmt).compute}"


#: Formats a chip without their own tensor-core path can still *store* (weight-only
#: quantisation: weights are unpacked to 16 bits before each multiply, e.g. Marlin kernels
#: running FP8 or MXFP4 weights on A100/H100).
WEIGHT_ONLY = ("fp8", "int8", "int8-wo", "int4", "int4-wo", "mxfp4", "nvfp4", "fp4")


def compute_peak_quantity(fmt: str | FormatRow, chip: str | Chip) -> str:
    """The chip quantity whose peak runs ``fmt``: the format's own compute class where the chip
    has it, else (weight-only quantisation) the chip's bf16 peak."""
    q = peak_quantity(fmt)
    c = get_chip(chip)
    if c.has(q) or get_format(fmt).id not in WEIGHT_ONLY:
        return q
    return "peak_dense_tflops_bf16"


def runs_natively(fmt: str, chip: str | Chip) -> bool:
    """Whether the chip has a tensor-core (matrix-unit) path for the format itself."""
    return get_chip(chip).has(peak_quantity(fmt))


def pays_unpacking(fmt: str, chip: str | Chip) -> bool:
    """Whether weight reads of ``fmt`` on ``chip`` stream below native bandwidth
    (``weight_only_efficiency``): only the W8A16 class (``int8-wo``: gpt-fast's int8 and the
    W8A16 kernels its format row names), whose kernels gpt-fast measured at 0.77 of bf16's
    bandwidth. The other formats a chip has no units for (FP8 on an A100, MXFP4 on Hopper and
    MI300X, INT4) are unpacked by Marlin-class mixed-input kernels, which keep close to the ideal
    speed-up of the narrower read up to batches of 16-32; their maths still runs on the 16-bit
    path (:func:`compute_peak_quantity`)."""
    return not runs_natively(fmt, chip) and get_format(fmt).compute == "w8a16"


def formats_for_chip(chip: str | Chip) -> list[str]:
    """Format ids a chip can run: natively (a dense peak for the format's compute class) or as
    weight-only quantisation on its bf16 path (:data:`WEIGHT_ONLY`)."""
    return list(_formats_for(get_chip(chip).id))


@functools.cache
def _formats_for(chip_id: str) -> tuple[str, ...]:
    c = get_chip(chip_id)
    return tuple(f for f in format_ids() if c.has(compute_peak_quantity(f, c)))


def check_format_on_chip(fmt: str, chip: str | Chip) -> FormatRow:
    """Return the format, or raise a ValueError naming the formats the chip does run."""
    f = get_format(fmt)
    c = get_chip(chip)
    if not c.has(compute_peak_quantity(f, c)):
        allowed = formats_for_chip(c)
        raise ValueError(
            f"{c.id} cannot run {f.id}: the catalog lists no {f.compute} throughput for it; "
            f"formats it runs: {', '.join(allowed) or 'none'}"
        )
    return f


def default_format(chip: str | Chip) -> str:
    """``bf16`` where the chip runs it, else the chip's only/first format (Taalas HC1)."""
    allowed = formats_for_chip(chip)
    if "bf16" in allowed or not allowed:
        return "bf16"
    return allowed[0]


#: Order in which :func:`serving_format` picks a chip's format for a like-for-like comparison.
FORMAT_PREFERENCE: tuple[str, ...] = ("fp8", "int8", "bf16")


def serving_format(chip: str | Chip) -> str:
    """The weight format a like-for-like comparison runs ``chip`` at: the first of
    :data:`FORMAT_PREFERENCE` it supports, else its default (a hard-wired chip's own format)."""
    native = [f for f in formats_for_chip(chip) if runs_natively(f, chip)]
    return next((f for f in FORMAT_PREFERENCE if f in native), default_format(chip))


def default_kv_format(weight_format: str) -> str:
    """KV cache in bf16 for 16-bit weights, fp8 for anything narrower (common practice in
    vLLM/TensorRT-LLM deployments of fp8/fp4 models)."""
    return "bf16" if bits_per_weight(weight_format) >= 16 else "fp8"


def check_kv_format(fmt: str) -> FormatRow:
    f = get_format(fmt)
    if f.id not in KV_FORMATS:
        raise ValueError(
            f"kv_precision {fmt!r} is not a KV-cache format; use one of {', '.join(KV_FORMATS)}"
        )
    return f
