"""The throughput-interactivity frontier and cost ratios at an interactivity target."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import inference_wars as iw
from inference_wars import frontier as fr


def test_pareto_mask_by_hand():
    x = np.array([1.0, 2.0, 3.0, 2.0, 1.0])
    y = np.array([5.0, 4.0, 1.0, 3.0, 5.0])
    assert fr.pareto_mask(x, y).tolist() == [True, True, True, False, True]


@settings(max_examples=50, deadline=None)
@given(st.lists(st.tuples(st.floats(0, 100), st.floats(0, 100)), min_size=1, max_size=30))
def test_pareto_points_are_not_dominated_and_others_are(pts):
    x, y = np.array(pts).T
    keep = fr.pareto_mask(x, y)
    assert keep.any()
    for i in range(len(x)):
        dominated = np.any((x >= x[i]) & (y >= y[i]) & ((x > x[i]) | (y > y[i])))
        assert keep[i] == (not dominated)


def test_frontier_marks_points_and_best_at_target():
    df = fr.frontier(
        "llama-3.1-70b",
        ["h100-sxm", "b200"],
        batch=[1, 8, 64, 512],
        precision="fp8",
        input_tokens=2048,
        output_tokens=256,
        n_chips=[1, 2, 4, 8],  # a batch served on too few chips is beaten by the same on more
    )
    assert df["on_frontier"].any() and not df["on_frontier"].all()
    best = fr.best_at_interactivity(df, [10.0, 1e6])
    ok = best[best["reachable"]]
    assert (ok["tokens_per_s_per_user"] >= ok["target"]).all()
    assert not best[best["target"] == 1e6]["reachable"].any()
    # the best is the cheapest of those that qualify
    h = df[(df["chip"] == "h100-sxm") & (df["tokens_per_s_per_user"] >= 10)]
    got = ok[(ok["chip"] == "h100-sxm") & (ok["target"] == 10)]["usd_per_million_tokens"].iloc[0]
    assert got == pytest.approx(h["usd_per_million_tokens"].min())


def test_cost_ratio_against_itself_is_one():
    r = fr.cost_ratio(
        "llama-3.1-70b",
        "h100-sxm",
        "h100-sxm",
        [20.0, 50.0],
        input_tokens=2048,
        output_tokens=256,
        precision="fp8",
        n_chips=[8],
    )
    assert np.allclose(r["ratio"], 1.0)
    assert (r["ratio_low"] <= 1.0 + 1e-12).all() and (r["ratio_high"] >= 1.0 - 1e-12).all()


def test_cost_ratio_scales_with_price():
    kw = dict(input_tokens=2048, output_tokens=256, precision="fp8", n_chips=[8])
    base = fr.cost_ratio("llama-3.1-70b", "h100-sxm", "b200", [30.0], **kw)["ratio"].iloc[0]
    h_hour = fr.usd_per_chip_hour("b200")
    # halve b200's capital cost: the ratio rises by hourly_old / hourly_new
    cheap = fr.cost_ratio(
        "llama-3.1-70b",
        "h100-sxm",
        "b200",
        [30.0],
        price_usd={"b200": iw.get_chip("b200").get("price_usd") / 2},
        **kw,
    )["ratio"].iloc[0]
    h_cheap = fr.usd_per_chip_hour("b200", price_usd=iw.get_chip("b200").get("price_usd") / 2)
    assert cheap == pytest.approx(base * h_hour / h_cheap)


def test_unreachable_targets_are_flagged():
    r = fr.cost_ratio(
        "llama-3.1-405b",
        "h100-sxm",
        "vera-rubin-nvl72",
        [1e5],
        input_tokens=2048,
        output_tokens=256,
        precision="fp8",
        n_chips=[16],
    )
    assert not r["reachable_baseline"].iloc[0] and not r["reachable_chip"].iloc[0]


def test_step_breakdown_adds_up_and_shows_the_rack():
    b = fr.step_breakdown(
        "llama-3.1-405b", ["h100-sxm", "gb200-nvl72"], [72], batch=16, precision="fp8"
    )
    h = b.set_index("chip")
    assert h.loc["h100-sxm", "tp"] == 8 and h.loc["h100-sxm", "pp"] == 9
    assert h.loc["gb200-nvl72", "tp"] == 72 and h.loc["gb200-nvl72", "pp"] == 1
    # each operator group overlaps its maths and reads (at best the roofline's max, at worst their
    # sum): the groups' sum lies between the larger total and the sum of both totals
    assert (h["roofline_s"] >= np.maximum(h["compute_s"], h["memory_s"]) - 1e-12).all()
    assert (h["roofline_s"] <= h["compute_s"] + h["memory_s"] + 1e-12).all()
    tpot = h["roofline_s"] + h["interconnect_s"] + h["overhead_s"] + h["prefill_interruptions_s"]
    assert np.allclose(tpot, h["tpot_s"])
    assert (h["overhead_s"] > 0).all() and (h["prefill_interruptions_s"] > 0).all()
    # DeepSeek-R1's dense layers split 72 ways are small GEMMs that wait on compute while the
    # experts wait on memory: the groups' sum exceeds either total
    r1 = fr.step_breakdown("deepseek-r1", "gb200-nvl72", 72, batch=64, precision="fp8").iloc[0]
    assert r1["roofline_s"] > max(r1["compute_s"], r1["memory_s"])
    e = iw.estimate(
        "llama-3.1-405b",
        "h100-sxm",
        n_chips=72,
        batch=16,
        precision="fp8",
        input_tokens=8192,
        output_tokens=1024,
        tp=8,
        pp=9,
        replicas=1,
    )
    assert h.loc["h100-sxm", "tpot_s"] == pytest.approx(e.tpot_s)


def test_errors():
    with pytest.raises(ValueError, match="same length"):
        fr.pareto_mask([1, 2], [1])
    with pytest.raises(ValueError, match="did you mean"):
        fr.cost_ratio("llama-3.1-70b", "h100-sxm", "b20", [10])
    with pytest.raises(ValueError, match="neither"):
        fr.cost_ratio("llama-3.1-70b", "h100-sxm", "b200", [10], price_usd={"a100-sxm": 1.0})
    with pytest.raises(ValueError, match="positive"):
        fr.cost_ratio("llama-3.1-70b", "h100-sxm", "b200", [0])
    with pytest.raises(ValueError, match="metric"):
        fr.best_at_interactivity(
            fr.frontier("llama-3.1-8b", "h100-sxm", batch=[1]), 10, metric="speed"
        )
    with pytest.raises(ValueError, match="high must exceed"):
        fr.interactivity_targets(100, 10)


def test_price_for_cost_ratio_round_trips():
    kw = dict(input_tokens=2048, output_tokens=256, precision="fp8", n_chips=[8])
    r0 = fr.cost_ratio("llama-3.1-70b", "h100-sxm", "b200", [30.0], **kw)["ratio"].iloc[0]
    p = fr.price_for_cost_ratio("b200", r0, 1.5 * r0)
    assert 0 < p < iw.get_chip("b200").get("price_usd")
    r1 = fr.cost_ratio("llama-3.1-70b", "h100-sxm", "b200", [30.0], price_usd={"b200": p}, **kw)[
        "ratio"
    ].iloc[0]
    assert r1 == pytest.approx(1.5 * r0)
    assert fr.price_for_cost_ratio("b200", r0, r0) == pytest.approx(
        iw.get_chip("b200").get("price_usd")
    )
    assert fr.price_for_cost_ratio("b200", 1.0, 1e6) == 0.0


def test_cost_ratio_sensitivity_moves_one_assumption_at_a_time():
    """Each row is cost_ratio with only that swing applied; the base column is the unmoved case."""
    work = dict(input_tokens=8192, output_tokens=1024, precision="nvfp4")
    args = ("llama-3.1-70b", "gb200-nvl72", "vera-rubin-nvl72")
    swings = [
        ("Rubin price", 60_000.0, 120_000.0, ("price_usd", "vera-rubin-nvl72")),
        ("Electricity", 0.05, 0.15, "usd_per_kwh"),
    ]
    sens = fr.cost_ratio_sensitivity(swings, *args, 50.0, **work).set_index("assumption")
    base = fr.cost_ratio(*args, [50.0], **work)["ratio"].iloc[0]
    assert sens.attrs["base"] == pytest.approx(base) and (sens["base"] == sens.attrs["base"]).all()
    cheap = fr.cost_ratio(*args, [50.0], price_usd={"vera-rubin-nvl72": 60_000.0}, **work)
    assert sens.loc["Rubin price", "ratio_a"] == pytest.approx(cheap["ratio"].iloc[0])
    # a cheaper Rubin makes the ratio larger; the price moves it far more than electricity does
    assert sens.loc["Rubin price", "ratio_a"] > base > sens.loc["Rubin price", "ratio_b"]
    spread = sens["hi"] - sens["lo"]
    assert spread["Rubin price"] > spread["Electricity"] > 0
    with pytest.raises(ValueError, match="moves price_usd or power_w"):
        fr.cost_ratio_sensitivity([("x", 1, 2, ("hbm_gb", "b200"))], *args, 50.0, **work)
