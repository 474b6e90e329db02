"""What the market charges next to what the hardware costs.

For every (provider, model) in ``data/market_prices.csv`` the engine serves the model on the
catalog chip the provider uses, at the batch that costs least while still giving each user the
provider's published speed (or at any speed where none is published), and splits the cost of
ownership the way providers price: per million *input* (prefill) and *output* (decode) tokens.

Split (from one :func:`inference_wars.sweep` row run with ``disaggregated=True``, whose owner
cost equals chunked prefill's): the decode share of the chips' time is

    f_decode = tpot_s * tokens_per_s / batch           (step / owner step)

so with ``C = usd_per_million_tokens`` (all cost over output tokens)

    usd_per_m_output = C * f_decode
    usd_per_m_input  = C * (1 - f_decode) * output_tokens / input_tokens

and the blended figures use the request's own mix, ``(S * in + O * out) / (S + O)``.
The gap to the list price is explained by the break-even chip price and utilisation
(:mod:`inference_wars.engine.economics` formula solved for each, with the revenue of a request,
``S * in + O * out``, spread over its ``O`` output tokens), the capital share of an hour's
cost, and the implied margin ``1 - cost / price`` (negative: the price is below cost).
"""

from __future__ import annotations

import numpy as np

from .. import api, catalog
from ..engine import economics
from ..engine.deployment import batch_grid
from ..units import HOURS_PER_YEAR, SECONDS_PER_HOUR

#: Batches searched for the cheapest deployment: powers of two up to the engine's default
#: ``max_batch_per_instance`` (1024 sequences, vLLM's default; ``assumptions.csv``).
BATCHES = batch_grid(1024)


def blended_usd_per_m(usd_per_m_input, usd_per_m_output, input_tokens, output_tokens) -> np.ndarray:
    """Price of a request's tokens per million: ``(S * in + O * out) / (S + O)``.

    No chapter calls it directly; :func:`cost_vs_price` uses it.
    """
    s, o = float(input_tokens), float(output_tokens)
    return (np.asarray(usd_per_m_input, float) * s + np.asarray(usd_per_m_output, float) * o) / (
        s + o
    )


def split_cost(usd_per_million_tokens, tpot_s, tokens_per_s, batch, input_tokens, output_tokens):
    """``(usd_per_m_input, usd_per_m_output)`` from a disaggregated estimate (formula in the
    module doc): decode takes ``f = tpot * tokens_per_s / batch`` of the chips' time.

    No chapter calls it directly; :func:`cost_vs_price` uses it.
    """
    c = np.asarray(usd_per_million_tokens, float)
    f = np.clip(
        np.asarray(tpot_s, float) * np.asarray(tokens_per_s, float) / np.asarray(batch, float),
        0.0,
        1.0,
    )
    return c * (1.0 - f) * float(output_tokens) / float(input_tokens), c * f


def breakeven_price_usd(
    list_usd_per_m,
    tokens_per_s,
    n_chips,
    power_w,
    amortization_years,
    utilization,
    pue,
    usd_per_kwh,
) -> np.ndarray:
    """Chip price at which the modelled cost per million tokens equals ``list_usd_per_m``:
    ``(list * tokens_per_s * 3600 / 1e6 / n - energy_per_hour) * years * 8766 * utilization``
    (negative: the electricity alone costs more than the price).

    No chapter calls it directly; :func:`cost_vs_price` uses it.
    """
    revenue_per_chip_hour = (
        np.asarray(list_usd_per_m, float)
        * np.asarray(tokens_per_s, float)
        * SECONDS_PER_HOUR
        / 1e6
        / n_chips
    )
    margin = revenue_per_chip_hour - economics.energy_usd_per_hour(power_w, pue, usd_per_kwh)
    return margin * amortization_years * HOURS_PER_YEAR * utilization


def breakeven_utilization(
    list_usd_per_m, tokens_per_s, n_chips, price_usd, power_w, amortization_years, pue, usd_per_kwh
) -> np.ndarray:
    """Utilisation at which the modelled cost equals the list price (``inf``: no utilisation does):
    ``capex_per_hour / (revenue_per_chip_hour - energy_per_hour)``.

    No chapter calls it directly; :func:`cost_vs_price` uses it.
    """
    revenue = (
        np.asarray(list_usd_per_m, float)
        * np.asarray(tokens_per_s, float)
        * SECONDS_PER_HOUR
        / 1e6
        / n_chips
    )
    spare = revenue - economics.energy_usd_per_hour(power_w, pue, usd_per_kwh)
    capex = np.asarray(price_usd, float) / (amortization_years * HOURS_PER_YEAR)
    return np.where(spare > 0, capex / np.where(spare > 0, spare, 1.0), np.inf)


def verdict(cost_low, cost_high, price) -> str:
    """``above cost`` when even the pessimistic cost is below the price, ``looks subsidised``
    when even the optimistic cost is above it, else ``within the model's range``.

    No chapter calls it directly; :func:`cost_vs_price`, :func:`reproduce_claim` use it.
    """
    if cost_high < price:
        return "above cost"
    if cost_low > price:
        return "looks subsidised"
    return "within the model's range"


def cost_vs_price(
    input_tokens: int = 1024, output_tokens: int = 256, match_speed: bool = True, batches=BATCHES
):
    """One row per (provider, model): list prices next to the modelled cost of ownership
    (base and optimistic/pessimistic range), split into input and output tokens, with the
    deployment (chips, batch, per-user speed) and the numbers that explain the gap.

    ``match_speed=True`` requires the provider's published per-user speed where the table has
    one (the cheapest batch that still serves it); rows whose speed no deployment reaches fall
    back to the cheapest batch and say so in ``speed_met``.

    Used in chapter 8.
    """
    import pandas as pd

    market = catalog.market_prices()
    f = api.assumptions_for("base")
    rows = []
    for m in market.itertuples(index=False):
        speed = None if pd.isna(m.tokens_per_s_per_user) else float(m.tokens_per_s_per_user)
        kw = dict(
            batch=list(batches),
            input_tokens=input_tokens,
            output_tokens=output_tokens,
            precision=m.precision,
            disaggregated=True,
            ranges=True,
        )
        df = api.sweep(
            m.model, m.chip, min_tokens_per_s_per_user=speed if match_speed else None, **kw
        )
        met = bool(len(df)) and speed is not None and match_speed
        if not len(df):
            df = api.sweep(m.model, m.chip, **kw)
        best = df.loc[df["usd_per_million_tokens"].idxmin()]
        chip = catalog.get_chip(m.chip)
        price, power = chip.get("price_usd"), chip.serving_power_w()
        c = float(best["usd_per_million_tokens"])
        cin, cout = split_cost(
            c, best["tpot_s"], best["tokens_per_s"], best["batch"], input_tokens, output_tokens
        )
        scale_low = float(best["usd_per_million_tokens_low"]) / c
        scale_high = float(best["usd_per_million_tokens_high"]) / c
        list_blend = float(
            blended_usd_per_m(
                m.usd_per_m_input_tokens, m.usd_per_m_output_tokens, input_tokens, output_tokens
            )
        )
        cost_blend = float(blended_usd_per_m(cin, cout, input_tokens, output_tokens))
        n, tps = int(best["n_chips"]), float(best["tokens_per_s"])
        # revenue per million *output* tokens: each output token carries S/O input tokens
        revenue_per_m_output = list_blend * (input_tokens + output_tokens) / output_tokens
        capex_h = float(
            economics.usd_per_chip_hour(
                price, 0.0, f.amortization_years, f.utilization, f.pue, f.usd_per_kwh
            )
        )
        hour = float(
            economics.usd_per_chip_hour(
                price, power, f.amortization_years, f.utilization, f.pue, f.usd_per_kwh
            )
        )
        one = api.estimate(
            m.model,
            m.chip,
            batch=1,
            input_tokens=input_tokens,
            output_tokens=output_tokens,
            precision=m.precision,
            disaggregated=True,
        )
        c1in, c1out = split_cost(
            one.usd_per_million_tokens, one.tpot_s, one.tokens_per_s, 1, input_tokens, output_tokens
        )
        rows.append(
            {
                "id": m.id,
                "provider": m.provider,
                "model": m.model,
                "chip": m.chip,
                "precision": m.precision,
                "list_usd_per_m_input": m.usd_per_m_input_tokens,
                "list_usd_per_m_output": m.usd_per_m_output_tokens,
                "list_usd_per_m_blended": list_blend,
                "cost_usd_per_m_input": float(cin),
                "cost_usd_per_m_output": float(cout),
                "cost_usd_per_m_blended": cost_blend,
                "cost_usd_per_m_blended_low": cost_blend * scale_low,
                "cost_usd_per_m_blended_high": cost_blend * scale_high,
                "cost_usd_per_m_blended_batch1": float(
                    blended_usd_per_m(c1in, c1out, input_tokens, output_tokens)
                ),
                "n_chips_batch1": int(one.n_chips),
                "cost_to_price": cost_blend / list_blend,
                "implied_margin": 1.0 - cost_blend / list_blend,
                "verdict": verdict(cost_blend * scale_low, cost_blend * scale_high, list_blend),
                "n_chips": n,
                "batch": int(best["batch"]),
                "deployment": f"{int(best['replicas'])} x "
                f"(TP{int(best['tp'])} x PP{int(best['pp'])})",
                "tokens_per_s_per_user": float(best["tokens_per_s_per_user"]),
                "published_tokens_per_s_per_user": speed,
                "speed_met": met,
                "tokens_per_s": tps,
                "chip_price_usd": price,
                "chip_power_w": power,
                "system_price_usd": n * price,
                "capex_share": capex_h / hour,
                "breakeven_chip_price_usd": float(
                    breakeven_price_usd(
                        revenue_per_m_output,
                        tps,
                        n,
                        power,
                        f.amortization_years,
                        f.utilization,
                        f.pue,
                        f.usd_per_kwh,
                    )
                ),
                "breakeven_utilization": float(
                    breakeven_utilization(
                        revenue_per_m_output,
                        tps,
                        n,
                        price,
                        power,
                        f.amortization_years,
                        f.pue,
                        f.usd_per_kwh,
                    )
                ),
                "price_date": m.date,
                "source": m.source,
            }
        )
    return pd.DataFrame(rows)
