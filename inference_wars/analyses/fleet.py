"""Fleet utilisation when traffic shifts between the models a fleet serves.

A *flexible* fleet (GPUs) can load any model on any chip, so it needs enough chips for the
peak of the **total** demand. A *dedicated* fleet (one chip type or one partition per model:
a model-as-silicon chip, or GPUs pinned to a model) needs enough chips for the peak of
**each** model's demand. With demand ``d[t, m]`` in chips busy in period ``t`` for model
``m``::

    pooled_chips     = max_t sum_m d[t, m] / (1 - swap_overhead)
    dedicated_chips  = sum_m max_t d[t, m]
    utilisation      = mean_t sum_m d[t, m] / chips

``swap_overhead`` is the fraction of a flexible fleet's time lost to reloading weights as the
mix shifts. ``dedicated_chips / pooled_chips`` (the *break-even advantage*) is how many times
cheaper per token a dedicated chip must be before a dedicated fleet costs no more than a
flexible one at the same peak service.

Traffic that moves between models is modelled by :func:`shifting_demand`: model ``m``'s share
in period ``t`` is proportional to ``exp(k * cos(2 pi (t / T - m / N)))``; ``k = 0`` gives
equal, constant shares, larger ``k`` concentrates the traffic on one model at a time, and the
favourite rotates through all ``N`` models over the ``T`` periods.
"""

from __future__ import annotations

import numpy as np

from ..errors import (
    require_array,
    require_fraction,
    require_number,
    require_positive,
    require_positive_int,
)


def shifting_demand(
    n_models: int,
    n_periods: int = 24,
    concentration: float = 1.0,
    total: float = 1.0,
    diurnal_amplitude: float = 0.0,
) -> np.ndarray:
    """Demand ``d[t, m]`` (shape ``(n_periods, n_models)``) whose mix rotates between models.

    ``total * (1 + diurnal_amplitude * sin(2 pi t / T))`` is the fleet-wide demand in period ``t``,
    split by the shares in the module doc. Units are those of ``total`` (chips busy, tokens/s).

    Used in chapter 2.
    """
    n = require_positive_int("n_models", n_models, limit=100_000)
    T = require_positive_int("n_periods", n_periods, limit=100_000)
    k = require_number("concentration", concentration, 0, 100)  # exp(100 * cos) stays finite
    total = require_positive("total", total)
    a = require_fraction("diurnal_amplitude", diurnal_amplitude, allow_zero=True)
    if a >= 1:
        raise ValueError("diurnal_amplitude must be below 1 (demand would reach zero)")
    t = np.arange(T, dtype=float)[:, None]
    m = np.arange(n, dtype=float)[None, :]
    w = np.exp(k * np.cos(2.0 * np.pi * (t / T - m / n)))
    shares = w / w.sum(axis=1, keepdims=True)
    level = total * (1.0 + a * np.sin(2.0 * np.pi * t / T))
    return level * shares


def fleet_capacity(demand, swap_overhead: float = 0.0) -> dict[str, float]:
    """Chips each fleet needs for ``demand[t, m]`` and how busy they are (module doc).

    Returns ``pooled_chips``, ``dedicated_chips``, ``pooled_utilisation``,
    ``dedicated_utilisation`` and ``breakeven_advantage`` (= dedicated / pooled chips).

    Used in chapter 2.
    """
    d = require_array("demand", demand, 0, allow_empty=True)
    if d.ndim != 2 or d.size == 0:
        raise ValueError("demand must be a non-empty 2-D array: periods x models")
    if not np.isfinite(d).all() or (d < 0).any():
        raise ValueError("demand must be finite and non-negative")
    if d.sum() <= 0:
        raise ValueError("demand is zero everywhere: nothing to serve")
    s = require_fraction("swap_overhead", swap_overhead, allow_zero=True)
    if s >= 1:
        raise ValueError("swap_overhead must be below 1 (a fleet that only reloads serves nothing)")
    total = d.sum(axis=1)
    pooled = total.max() / (1.0 - s)
    dedicated = d.max(axis=0).sum()
    mean = total.mean()
    return {
        "pooled_chips": float(pooled),
        "dedicated_chips": float(dedicated),
        "pooled_utilisation": float(mean / pooled),
        "dedicated_utilisation": float(mean / dedicated),
        "breakeven_advantage": float(dedicated / pooled),
    }


def utilisation_curve(
    n_models, concentration, n_periods: int = 24, swap_overhead: float = 0.0
) -> dict[str, np.ndarray]:
    """:func:`fleet_capacity` over a grid: every ``(n_models, concentration)`` pair (1-D arrays out,
    ``n_models`` varying slowest).

    Used in chapter 2.
    """
    ns = np.atleast_1d(require_array("n_models", n_models, 1, 100_000))
    ks = np.atleast_1d(require_array("concentration", concentration, 0, 100))
    out: dict[str, list[float]] = {"n_models": [], "concentration": []}
    for n in ns:
        for k in ks:
            r = fleet_capacity(
                shifting_demand(require_positive_int("n_models", n), n_periods, float(k)),
                swap_overhead,
            )
            out["n_models"].append(float(n))
            out["concentration"].append(float(k))
            for key, v in r.items():
                out.setdefault(key, []).append(v)
    return {k: np.asarray(v) for k, v in out.items()}


def demand_in_chips(tokens_per_s, tokens_per_s_per_chip) -> np.ndarray:
    """Chips busy serving a demand: ``tokens_per_s / tokens_per_s_per_chip`` (broadcast; e.g.
    a ``(periods, models)`` demand over one throughput per model).

    No chapter calls it directly (a building block for readers' own analyses).
    """
    d = require_array("tokens_per_s", tokens_per_s, 0)
    r = require_array("tokens_per_s_per_chip", tokens_per_s_per_chip, 0, low_open=True)
    return d / r
