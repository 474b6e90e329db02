"""Cost per token and energy per token.

A chip costs, per hour of serving,

    usd_per_hour = price / (amortization_years * 8766 h) / utilization
                   + power_w * pue * usd_per_kwh / 1000

(capital is paid whether or not the chip is busy, so it is spread over the fraction of hours
it serves; energy is counted while it serves). Then

    usd_per_million_tokens = n_chips * usd_per_hour / (tokens_per_s * 3600) * 1e6
    joules_per_token       = n_chips * power_w / tokens_per_s          (IT power, no PUE)
    tokens_per_s_per_mw    = tokens_per_s / (n_chips * power_w * pue / 1e6)   (facility MW)

Comparing two chips at a speed target, with ``inf`` as the cost of a chip that misses it::

    cost_ratio = baseline_cost / chip_cost   (inf where only the chip reaches the target,
                                              0 where the chip misses it; at most ``cap``)
"""

from __future__ import annotations

import numpy as np

from ..units import HOURS_PER_YEAR, SECONDS_PER_HOUR


def energy_usd_per_hour(power_w, pue, usd_per_kwh) -> np.ndarray:
    """Electricity for one chip unit for an hour of serving: ``power_w * pue * usd_per_kwh / 1000``."""
    return np.asarray(power_w, float) * pue * usd_per_kwh / 1000.0


def usd_per_chip_hour(
    price_usd, power_w, amortization_years, utilization, pue, usd_per_kwh
) -> np.ndarray:
    """Hourly cost of one chip unit while it serves (formula in module doc)."""
    capex = np.asarray(price_usd, float) / (amortization_years * HOURS_PER_YEAR) / utilization
    return capex + energy_usd_per_hour(power_w, pue, usd_per_kwh)


def usd_per_million_tokens(
    n_chips, tokens_per_s, price_usd, power_w, amortization_years, utilization, pue, usd_per_kwh
) -> np.ndarray:
    """``n * usd_per_chip_hour / (3600 * tokens_per_s) * 1e6``. Eight 30,000 USD, 1 kW chips
    written off over 5 years, fully used, PUE 1, 0.10 USD/kWh, making 1,000 tokens/s:

    >>> round(float(usd_per_million_tokens(8, 1000.0, 30000.0, 1000.0, 5.0, 1.0, 1.0, 0.1)), 2)
    1.74
    """
    hourly = np.asarray(n_chips, float) * usd_per_chip_hour(
        price_usd, power_w, amortization_years, utilization, pue, usd_per_kwh
    )
    return hourly / (np.asarray(tokens_per_s, float) * SECONDS_PER_HOUR) * 1e6


def joules_per_token(n_chips, tokens_per_s, power_w) -> np.ndarray:
    """``n * power_w / tokens_per_s`` (chip power only; the facility's PUE is not included)."""
    return np.asarray(n_chips, float) * np.asarray(power_w, float) / np.asarray(tokens_per_s, float)


def tokens_per_s_per_mw(n_chips, tokens_per_s, power_w, pue) -> np.ndarray:
    return np.asarray(tokens_per_s, float) / (
        np.asarray(n_chips, float) * np.asarray(power_w, float) * pue / 1e6
    )


def cost_ratio(baseline_usd, chip_usd, cap: float = np.inf) -> np.ndarray:
    """How many times cheaper per token ``chip`` is than ``baseline`` (formula in the module doc):
    the one convention every chapter uses (chapter 3's Rubin ratios, chapter 5's MatX ratios).
    Costs are positive, ``inf`` where a chip misses the target; ``cap`` clips the ratio for charts.

    >>> [float(r) for r in cost_ratio([1.0, np.inf, 1.0], [0.5, 1.0, np.inf])]
    [2.0, inf, 0.0]
    >>> [float(r) for r in cost_ratio([1.0, np.inf], [0.5, 1.0], cap=10.0)]
    [2.0, 10.0]
    """
    b, c = (_costs(name, x) for name, x in (("baseline_usd", baseline_usd), ("chip_usd", chip_usd)))
    with np.errstate(divide="ignore", invalid="ignore"):
        r = np.where(np.isfinite(c), np.where(np.isfinite(b), b / c, np.inf), 0.0)
    return np.minimum(r, cap)


def _costs(name: str, x) -> np.ndarray:
    """Costs per token: positive, ``inf`` allowed (target missed), never NaN."""
    try:
        a = None if isinstance(x, (str, bytes, dict)) else np.asarray(x, float)
    except (TypeError, ValueError):
        a = None
    if a is None or np.isnan(a).any() or (a <= 0).any():
        raise ValueError(
            f"{name} must be positive costs (inf where the target is missed), got {x!r}"
        )
    return a
