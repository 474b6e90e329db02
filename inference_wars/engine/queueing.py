"""Queueing: how long a request waits for its prefill when requests arrive at random.

Real traffic, and MLPerf's *server* scenario, send requests as a Poisson process, and a
service-level objective bounds a tail of the time to first token ("99 % of requests see their
first token within 2 s"), not a lone request's. A new prompt waits for the prompts queued
ahead of it; an instance that prefills them one after another, each in ``D`` seconds, is an
M/D/1 queue at load ``rho = lambda D`` (``lambda`` requests per second). Its waiting time has an
exponential tail (the Cramér-Lundberg approximation for M/G/1, e.g. Asmussen, *Applied
Probability and Queues*, 2003, ch. XIII)::

    P(W > t) ~ C exp(-x t / D),   rho (e^x - 1) = x,   C = (1 - rho) / (rho e^x - 1)

so the ``q``-quantile of the wait is ``D ln(C / (1 - q)) / x`` (0 when ``C <= 1 - q``). The
equation in ``x`` is solved for ``rho`` in closed form, ``rho = x / (e^x - 1)``, so the
largest load that keeps the quantile within a budget is found on a table of ``x`` with every
quantity explicit and no root-finding inside the loop.

Heavy traffic costs more than its mean suggests: at ``rho = 0.5`` the mean wait is ``D / 2``
but the 99th percentile is about ``3.3 D``.

>>> round(float(wait_quantile_s(0.5, 1.0, 0.99)), 2)
3.34
>>> round(float(max_load(3.33, 1.0, 0.99)), 2)
0.5
"""

from __future__ import annotations

import numpy as np

#: Bisection steps over ``ln x`` (its 20-wide bracket then shrinks below 1e-7: the load is
#: known to better than 1e-6).
_STEPS = 28
_X_LOW, _X_HIGH = 1e-7, 60.0


def _load(x) -> np.ndarray:
    """The load ``rho`` whose tail decays at rate ``x / D``: ``rho = x / (e^x - 1)``."""
    return x / np.expm1(x)


def _ln_c(x) -> np.ndarray:
    """``ln C`` of the tail ``P(W > t) ~ C exp(-x t / D)`` at load ``_load(x)`` (module doc)."""
    rho = _load(x)
    return np.log((1.0 - rho) / np.maximum(rho * np.exp(x) - 1.0, 1e-300))


def _quantile_in_services(x, q) -> np.ndarray:
    """The ``q``-quantile of the wait in units of the service time ``D``, at load ``_load(x)``."""
    return np.maximum(_ln_c(x) - np.log1p(-np.asarray(q, float)), 0.0) / x


def _rate(rho) -> np.ndarray:
    """The decay rate ``x`` for a load ``rho`` (bisection on ``ln x``; ``_load`` falls with ``x``)."""
    rho = np.clip(np.asarray(rho, float), 1e-12, 1.0 - 1e-12)
    lo, hi = np.full(rho.shape, np.log(_X_LOW)), np.full(rho.shape, np.log(_X_HIGH))
    for _ in range(_STEPS):
        mid = 0.5 * (lo + hi)
        above = _load(np.exp(mid)) > rho  # x too small
        lo, hi = np.where(above, mid, lo), np.where(above, hi, mid)
    return np.exp(0.5 * (lo + hi))


def wait_quantile_s(load, service_s, q) -> np.ndarray:
    """Seconds within which a share ``q`` of requests start their prefill, at ``load`` (``rho``)
    with service time ``service_s`` (``D``): ``D ln(C / (1 - q)) / x`` (module doc)."""
    load = np.asarray(load, float)
    out = np.asarray(service_s, float) * _quantile_in_services(_rate(load), q)
    return np.where(load >= 1.0, np.inf, np.where(load <= 0.0, 0.0, out))


def mean_wait_s(load, service_s) -> np.ndarray:
    """Mean seconds a request waits for its prefill at ``load`` (``rho``) with service time
    ``service_s`` (``D``): the Pollaczek-Khinchine mean of the M/D/1 queue,
    ``rho D / (2 (1 - rho))`` (infinite at ``rho >= 1``).

    >>> float(mean_wait_s(0.5, 1.0))
    0.5
    """
    load = np.asarray(load, float)
    with np.errstate(divide="ignore", invalid="ignore"):
        w = load * np.asarray(service_s, float) / (2.0 * (1.0 - load))
    return np.where(load >= 1.0, np.inf, np.where(load <= 0.0, 0.0, w))


# the decay rate x on a fine log grid, with the load and ln C each x implies (module doc): the
# search for the largest load walks this table instead of re-evaluating exponentials
_U = np.linspace(np.log(_X_LOW), np.log(_X_HIGH), 2049)
_X = np.exp(_U)
_RHO = _load(_X)
_LN_C = _ln_c(_X)


def max_load(budget_s, service_s, q, service_growth_s=0.0) -> np.ndarray:
    """Largest load ``rho`` (0 to 1) at which the ``q``-quantile of the wait stays within
    ``budget_s``. The service time may grow with the load, ``D = service_s + rho *
    service_growth_s`` (a prefill that shares its chips with decode steps, which take more of the
    time as the load rises). A budget below 0 allows no load; an infinite one, all of it.

    The wait's quantile falls as the decay rate ``x`` rises (less load), so the smallest ``x`` on
    a table of 2,049 rates that meets the budget is found by bisection on the table's index (11
    steps) and refined by linear interpolation between its two neighbours."""
    budget, d0, d1, q = np.broadcast_arrays(
        *(np.asarray(x, float) for x in (budget_s, service_s, service_growth_s, q))
    )
    out = np.where(budget < 0, 0.0, 1.0)
    todo = np.isfinite(budget) & (budget >= 0)  # only these need the search
    b, d0, d1, ln_tail = budget[todo], d0[todo], d1[todo], np.log1p(-q[todo])

    def wait(i):
        """The quantile of the wait at table row ``i`` (seconds)."""
        return (d0 + _RHO[i] * d1) * np.maximum(_LN_C[i] - ln_tail, 0.0) / _X[i]

    lo = np.zeros(b.shape, int)
    hi = np.full(b.shape, len(_U) - 1)
    for _ in range(int(np.ceil(np.log2(len(_U))))):
        mid = (lo + hi) // 2
        ok = wait(mid) <= b
        lo, hi = np.where(ok, lo, mid), np.where(ok, mid, hi)
    w_lo, w_hi = wait(lo), wait(hi)
    with np.errstate(divide="ignore", invalid="ignore"):
        frac = np.clip((w_lo - b) / (w_lo - w_hi), 0.0, 1.0)
    u = np.where(w_lo <= b, _U[lo], _U[lo] + np.nan_to_num(frac, nan=1.0) * (_U[hi] - _U[lo]))
    out[todo] = _load(np.exp(u))
    return out
