"""The decision checklist: every condition under which hard-wiring a model pays, with its verdict."""

from __future__ import annotations

import math
from dataclasses import dataclass

from ...errors import (
    require_fraction,
    require_number,
    require_positive,
)

# --------------------------------------------------------------------------- the checklist


@dataclass(frozen=True)
class Verdict:
    """Result of :func:`hardwire_checklist`: ``hardwire`` only when every question is a yes."""

    hardwire: bool
    answers: dict[str, bool]
    reasons: dict[str, str]

    def __str__(self) -> str:
        lines = [f"{'yes' if ok else 'no ':3}  {self.reasons[q]}" for q, ok in self.answers.items()]
        return (
            ("Hard-wire it." if self.hardwire else "Stay on programmable chips.")
            + "\n"
            + "\n".join(lines)
        )


def hardwire_checklist(
    dominant_share: float,
    stable_months: float,
    break_even_lifetime_months: float,
    needed_tokens_per_s_per_user: float,
    gpu_tokens_per_s_per_user: float,
    cost_dominates: bool,
    update_interval_months: float,
    lead_time_months: float,
    min_share: float = 0.5,
) -> Verdict:
    """The four questions of the chapter as tests on numbers:

    1. *volume*: one model carries at least ``min_share`` of traffic and stays in service at
       least its break-even lifetime (``stable_months >= break_even_lifetime_months``);
    2. *latency*: the product needs more speed per user than the GPU fleet gives;
    3. *unit economics*: cost and power per token dominate (the reader's judgement);
    4. *cadence*: model updates come no faster than the hardware lead time.

    Used in chapter 4.
    """
    share = require_fraction("dominant_share", dominant_share)
    ms = require_fraction("min_share", min_share)
    stable = require_positive("stable_months", stable_months)
    upd = require_positive("update_interval_months", update_interval_months)
    lead = require_number("lead_time_months", lead_time_months, 0, 1200)
    be = (
        break_even_lifetime_months
        if break_even_lifetime_months == math.inf
        else require_number("break_even_lifetime_months", break_even_lifetime_months, 0)
    )
    need = require_positive("needed_tokens_per_s_per_user", needed_tokens_per_s_per_user)
    gpu = require_positive("gpu_tokens_per_s_per_user", gpu_tokens_per_s_per_user)
    answers = {
        "volume": share >= ms and stable >= be,
        "latency": need > gpu,
        "economics": bool(cost_dominates),
        "cadence": upd >= lead,
    }
    be_txt = "never" if not math.isfinite(be) else f"{be:.1f} months"
    reasons = {
        "volume": f"one model carries {share:.0%} of traffic (need {ms:.0%}) and stays {stable:.0f} months "
        f"(break-even: {be_txt})",
        "latency": f"product needs {need:,.0f} tokens/s per user; the GPU fleet gives {gpu:,.0f}",
        "economics": "cost and power per token dominate the unit economics"
        if cost_dominates
        else "cost per token is not what limits the product",
        "cadence": f"model updates every {upd:.0f} months vs a {lead:.1f}-month hardware lead time",
    }
    return Verdict(all(answers.values()), answers, reasons)
