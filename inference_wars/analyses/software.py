"""The same chip under different serving engines.

A measured result is the hardware *and* the software that ran it. The package fits one factor
per serving engine (:func:`inference_wars.engine.factors.engine_efficiency`, ``e``) that scales
the compute, memory and KV-cache efficiencies and divides the kernel overheads, so an estimate
under engine ``E`` on a chip is the reference engine's with::

    compute_efficiency * e_E,   memory and KV efficiencies * e_E   (reads at most 0.9 of peak)
    per-layer and per-expert overheads / e_E

:func:`engine_comparison` puts every engine that runs on each chip side by side.
"""

from __future__ import annotations

from collections.abc import Sequence

from .. import catalog
from ..api import estimate
from ..engine import factors, software


def engine_comparison(model: str, chips: Sequence[str], **estimate_kwargs):
    """One row per (chip, engine that runs on it and is its default or has a fitted factor): the
    engine's factor, whether it is the
    chip's default, and the estimate's tokens/s per user, per chip and TTFT (``estimate_kwargs``
    go to :func:`inference_wars.estimate`; ``engine`` is not one of them). ``speed_vs_default``
    is the per-chip throughput over the default engine's on that chip.

    Used in chapter 2 and the validation appendix.
    """
    import pandas as pd

    if "engine" in estimate_kwargs:
        raise ValueError("engine_comparison compares every engine; do not pass engine=")
    rows = []
    for chip in chips:
        c = catalog.get_chip(chip).id
        default = software.default_engine(c)
        base = None
        for e in catalog.engine_ids():
            # the chip's default and every engine with a factor of its own (the others run at 1)
            if not software.runs_on(e, c) or (e != default and not factors.fitted(e)):
                continue
            r = estimate(model, c, engine=e, **estimate_kwargs)
            if not r.fits:
                raise ValueError(f"{model} on {c}: {r.reason}")
            rows.append(
                {
                    "chip": c,
                    "engine": e,
                    "default": e == default,
                    "engine_efficiency": factors.engine_efficiency(e),
                    "tokens_per_s_per_user": r.tokens_per_s_per_user,
                    "tokens_per_s_per_chip": r.tokens_per_s_per_chip,
                    "ttft_s": r.ttft_s,
                }
            )
            if e == default:
                base = r.tokens_per_s_per_chip
        for row in rows:
            if row["chip"] == c:
                row["speed_vs_default"] = row["tokens_per_s_per_chip"] / base
    return pd.DataFrame(rows)
