"""The market table (list prices) and the cost-of-ownership comparison (inference_wars.analyses.market)."""

import math

import numpy as np
import pytest

import inference_wars as iw
from inference_wars import catalog, economics, market


@pytest.fixture(scope="module")
def table():
    return market.cost_vs_price()


def test_market_table_is_sourced_and_refers_to_the_catalog():
    df = catalog.market_prices()
    keys = catalog.bib_keys()
    assert df["id"].is_unique
    assert df["provider"].nunique() >= 5
    assert set(df["source"]) <= keys
    assert set(df["speed_source"].dropna()) <= keys
    assert set(df["model"]) <= set(iw.model_ids())
    assert set(df["chip"]) <= set(iw.chip_ids())
    assert (df["usd_per_m_input_tokens"] > 0).all() and (df["usd_per_m_output_tokens"] > 0).all()
    # a speed always comes with its own source and date
    has_speed = df["tokens_per_s_per_user"].notna()
    assert df.loc[has_speed, ["speed_status", "speed_source", "speed_date"]].notna().all().all()


@pytest.mark.parametrize(
    "bad, message",
    [
        ({"usd_per_m_input_tokens": "-0.1"}, "positive"),
        ({"speed_source": ""}, "speed needs"),
        ({"date": "2024/08"}, "YYYY-MM"),
    ],
)
def test_bad_market_rows_fail_with_file_and_line(tmp_path, bad, message):
    import csv

    src = catalog.DATA_DIR / "market_prices.csv"
    rows = list(csv.DictReader(src.open(encoding="utf-8")))
    row = next(r for r in rows if r["tokens_per_s_per_user"])
    row.update(bad)
    out = tmp_path / "market_prices.csv"
    with out.open("w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerow(row)
    with pytest.raises(catalog.CatalogError, match=rf"market_prices.csv:2: .*{message}"):
        catalog.read_rows(out, catalog.MarketRow)


def test_split_cost_recombines_to_the_cost_of_a_request():
    c, tpot, tps, b, s, o = 2.0, 0.01, 3000.0, 64, 2048, 512
    cin, cout = market.split_cost(c, tpot, tps, b, s, o)
    # the request's input and output tokens together pay the whole cost the engine puts on O tokens
    assert float(cin) * s + float(cout) * o == pytest.approx(c * o)
    assert float(cout) == pytest.approx(c * tpot * tps / b)


def test_breakeven_price_and_utilization_reproduce_the_list_price():
    f = iw.assumptions_for("base")
    n, tps, power, listed = 16, 20_000.0, 1500.0, 0.5
    p = float(
        market.breakeven_price_usd(
            listed, tps, n, power, f.amortization_years, f.utilization, f.pue, f.usd_per_kwh
        )
    )
    back = economics.usd_per_million_tokens(
        n, tps, p, power, f.amortization_years, f.utilization, f.pue, f.usd_per_kwh
    )
    assert float(back) == pytest.approx(listed)
    u = float(
        market.breakeven_utilization(
            listed, tps, n, 30_000.0, power, f.amortization_years, f.pue, f.usd_per_kwh
        )
    )
    back = economics.usd_per_million_tokens(
        n, tps, 30_000.0, power, f.amortization_years, u, f.pue, f.usd_per_kwh
    )
    assert float(back) == pytest.approx(listed)
    # electricity alone above the price: no utilisation breaks even
    assert math.isinf(
        float(market.breakeven_utilization(1e-6, tps, n, 30_000.0, power, 5, 1.2, 0.08))
    )


def test_verdict_reads_the_range_against_the_price():
    assert market.verdict(0.1, 0.4, 0.5) == "above cost"
    assert market.verdict(0.6, 2.0, 0.5) == "looks subsidised"
    assert market.verdict(0.1, 2.0, 0.5) == "within the model's range"


def test_cost_vs_price_covers_every_listed_service(table):
    assert list(table["id"]) == list(catalog.market_prices()["id"])
    assert (table["cost_usd_per_m_blended_low"] <= table["cost_usd_per_m_blended"] + 1e-12).all()
    assert (table["cost_usd_per_m_blended"] <= table["cost_usd_per_m_blended_high"] + 1e-12).all()
    assert np.allclose(
        table["cost_to_price"], table["cost_usd_per_m_blended"] / table["list_usd_per_m_blended"]
    )
    blended = market.blended_usd_per_m(
        table["cost_usd_per_m_input"], table["cost_usd_per_m_output"], 1024, 256
    )
    assert np.allclose(blended, table["cost_usd_per_m_blended"])


def test_published_speed_is_served_where_the_model_reaches_it(table):
    met = table[table["speed_met"]]
    # Groq and Cerebras on Llama 70B; Cerebras' 8B speed sits at the model's edge (within 1%)
    assert len(met) >= 2
    assert (met["tokens_per_s_per_user"] >= met["published_tokens_per_s_per_user"] - 1e-9).all()


def test_batch_one_is_what_made_sram_machines_look_expensive(table):
    sram = table[table["chip"].isin(["groq-lpu", "cerebras-wse3"])]
    # serving one user at a time costs far more than the cheapest batch at the same per-user speed
    assert (sram["cost_usd_per_m_blended_batch1"] > 10 * sram["cost_usd_per_m_blended"]).all()
    assert (sram["batch"] >= 64).all()
