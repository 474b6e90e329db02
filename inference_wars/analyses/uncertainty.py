"""Uncertainty: how far the estimated inputs can move a result.

Two propagations, both vectorised:

* **Interval** (``iw.estimate(..., ranges=True)`` / ``iw.sweep(..., ranges=True)``): every
  estimated catalog number and modelling assumption is read at the bound that helps the hardware
  (optimistic) and at the bound that hurts it (pessimistic); the metric's range is the envelope
  ``[min, max]`` of the base and the two bounding results. Fast, conservative where inputs move
  together, and what the book's error bars show.
* **Monte Carlo** (:func:`monte_carlo`): each uncertain input is drawn independently from a
  triangular distribution with ``(low, base, high)`` as (left, mode, right), and the same
  configuration is evaluated for every draw at once. Independent draws partly cancel, so its
  5-95 % band is usually narrower than the interval.

And where a verdict flips as one input moves (a fitted factor across its range, a price):
:func:`threshold`, by bisection.

Inverse-CDF of the triangular distribution for ``u`` uniform on ``[0, 1)``::

    x = a + sqrt(u (b - a)(c - a))            if u < (c - a) / (b - a)
    x = b - sqrt((1 - u)(b - a)(b - c))       otherwise           (a = low, c = mode, b = high)
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from .. import api, catalog
from ..engine import factors, serving
from ..engine.formats import bits_per_weight
from ..engine.hardware import HardwareArrays, chip_row
from ..engine.workload import model_arrays
from ..errors import require_array, require_count, require_seed


def triangular(u, low, mode, high) -> np.ndarray:
    """Triangular draws by inverse CDF (formula in module doc); ``low == high`` gives ``mode``.

    No chapter calls it directly; :func:`monte_carlo` uses it.
    """
    u = require_array("u", u, 0, 1)
    a, c, b = (require_array(n, x) for n, x in (("low", low), ("mode", mode), ("high", high)))
    if (a > c).any() or (c > b).any():
        raise ValueError("triangular needs low <= mode <= high")
    width = b - a
    with np.errstate(divide="ignore", invalid="ignore"):
        split = np.where(width > 0, (c - a) / np.where(width > 0, width, 1.0), 0.5)
        left = a + np.sqrt(np.maximum(u * width * (c - a), 0.0))
        right = b - np.sqrt(np.maximum((1.0 - u) * width * (b - c), 0.0))
    x = np.where(u < split, left, right)
    return np.where(width > 0, x, c)


def _three(values_by_scenario: dict[str, float]) -> tuple[float, float, float]:
    v = values_by_scenario
    lo, hi = min(v.values()), max(v.values())
    return lo, v["base"], hi


def monte_carlo(
    model: str,
    chip: str,
    n_chips: int | None = None,
    batch: int = 1,
    input_tokens: int = 1024,
    output_tokens: int = 256,
    precision: str | None = None,
    kv_precision: str | None = None,
    n_samples: int = 2000,
    seed: int = 0,
    **assumption_overrides: float,
):
    """``n_samples`` draws of every metric for one configuration, as a DataFrame (one row per draw).

    The configuration (chip count, parallel split) is the base estimate's. Every estimated chip
    number, format width and assumption is drawn independently from a triangular distribution on
    its ``(low, base, high)``; explicit ``assumption_overrides`` are held fixed. Deterministic for
    a given ``seed``. Summarise with ``df.quantile([0.05, 0.5, 0.95])``.

    Used in the validation appendix.
    """
    import pandas as pd

    n_samples = require_count("n_samples", n_samples, limit=1_000_000)
    seed = require_seed(seed)
    over = api.check_assumption_overrides(assumption_overrides)
    base = api.estimate(
        model,
        chip,
        n_chips=n_chips,
        batch=batch,
        input_tokens=input_tokens,
        output_tokens=output_tokens,
        precision=precision,
        kv_precision=kv_precision,
        **assumption_overrides,
    )
    if not base.fits:
        raise ValueError(base.reason)
    rng = np.random.default_rng(seed)
    rows = {s: chip_row(base.chip, base.precision, s) for s in catalog.SCENARIOS}
    hw_cols = {}
    for k in HardwareArrays.__dataclass_fields__:
        lo, mid, hi = _three({s: rows[s][k] for s in rows})
        if k in (
            "hardwired",
            "dataflow",
            "narrow",
            "weight_only",
            "head_padding_ranks",
        ) or not np.isfinite(mid):
            hw_cols[k] = np.full(n_samples, mid)
        else:
            hw_cols[k] = triangular(rng.random(n_samples), lo, mid, hi)
    hw_cols["hardwired"] = hw_cols["hardwired"].astype(bool)
    hw_cols["dataflow"] = hw_cols["dataflow"].astype(bool)
    hw = HardwareArrays(**hw_cols)
    wb = triangular(
        rng.random(n_samples),
        *_three({s: bits_per_weight(base.precision, s) for s in catalog.SCENARIOS}),
    )
    kb = bits_per_weight(base.kv_precision, "base")
    ass = {s: factors.chip_factors(base.chip, s) | over for s in catalog.SCENARIOS}
    a = serving.Factors(
        **{
            k: triangular(rng.random(n_samples), *_three({s: ass[s][k] for s in ass}))
            for k in serving.Factors.__dataclass_fields__
        }
    )
    m = model_arrays([base.model]).take(np.zeros(n_samples, dtype=np.intp))
    dep = serving.Deployment(
        *(np.full(n_samples, float(x)) for x in (base.tp, base.pp, base.replicas)),
        np.full(n_samples, bool(base.attention_dp)),
    )
    res = serving.evaluate(
        m, hw, a, dep, float(base.batch), float(input_tokens), float(output_tokens), wb, kb
    )
    res["tokens_per_s_per_chip"] = res["tokens_per_s"] / float(base.n_chips)
    return pd.DataFrame({k: np.broadcast_to(res[k], (n_samples,)) for k in api.METRICS})


def threshold(holds: Callable[[float], bool], lo: float, hi: float, steps: int = 30) -> float:
    """Where a verdict flips as one input moves, by bisection: with ``holds(lo)`` true and
    ``holds(hi)`` false, each of ``steps`` halvings keeps the half whose ends disagree, and the
    result is the last value at which the verdict held (within ``(hi - lo) / 2**steps``). The
    chapters use it to say how far a fitted factor or a price can move before a reading changes.
    Used in chapters 5 and 8.

    >>> round(threshold(lambda x: x * x <= 2.0, 0.0, 2.0), 6)
    1.414214
    """
    for _ in range(steps):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if holds(mid) else (lo, mid)
    return lo
