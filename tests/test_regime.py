"""Workload regimes: the cheapest architecture that meets a latency target."""

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import inference_wars as iw
from inference_wars import economics, hardwired, regime

M8 = "llama-3.1-8b"
GRID = dict(
    zoo_size=[1, 3, 10, 30],
    update_months=[1, 3, 6, 12, 24],
    tokens_per_day=[1e6, 1e8, 1e10, 1e12],
    min_tokens_per_s_per_user=[10, 100, 1000, 3000, 10000, 20000],
)


@pytest.fixture(scope="module")
def base_map():
    return regime.regime_map(M8, context_tokens=[2048, 8192], **GRID)


def test_inputs_are_sourced_estimates_with_ranges():
    df = regime.regime_inputs().set_index("key")
    assert set(df.index) == set(regime.HARDWIRING_KEYS)
    assert (df["status"] == "estimated").all()
    assert (df["low"] <= df["value"]).all() and (df["value"] <= df["high"]).all()
    opt, base, pess = (regime.hardwiring(s) for s in ("optimistic", "base", "pessimistic"))
    assert opt.tapeout_usd <= base.tapeout_usd <= pess.tapeout_usd
    assert opt.turnaround_months <= base.turnaround_months <= pess.turnaround_months
    # one price for a tape-out across the book: the regime map uses chapter 4's model
    assert (
        base.tapeout_usd == float(hardwired.tapeout_usd(1))
        and base.turnaround_months == hardwired.lead_months()
    )


def test_serving_format_prefers_fp8_then_the_chips_own():
    assert regime.serving_format("h100-sxm") == "fp8"
    assert regime.serving_format("groq-lpu") == "int8"
    assert regime.serving_format("cerebras-wse3") == "bf16"
    assert regime.serving_format("taalas-hc1") == "taalas-3b6b"
    assert regime.architecture_kind("b200") == "GPU"
    assert regime.architecture_kind("tpu-ironwood") == "ASIC"
    assert regime.architecture_kind("taalas-hc1") == "hard-wired"


def test_projected_chips_are_left_out_unless_asked():
    assert "matx-one" not in regime.candidates()
    assert "matx-one" in regime.candidates(include_projected=True)
    with pytest.raises(ValueError, match="projected"):
        regime.candidates(["matx-one"])


def test_a_full_programmable_fleet_reproduces_the_sweep_cost():
    """With volume large enough to fill the fleet, a GPU's cost is the sweep's usd_per_million_tokens
    at the cheapest batch meeting the target."""
    df = regime.choose(
        M8,
        tokens_per_day=1e13,
        min_tokens_per_s_per_user=100,
        context_tokens=4096,
        chips=["h100-sxm"],
    ).iloc[0]
    sw = iw.sweep(
        M8,
        "h100-sxm",
        batch=list(regime.BATCHES),
        input_tokens=4096 - 256,
        output_tokens=256,
        precision="fp8",
    )
    ok = sw[sw["tokens_per_s_per_user"] >= 100]
    best = ok.loc[ok["usd_per_million_tokens"].idxmin()]
    assert df["usd_per_million_tokens"] == pytest.approx(best["usd_per_million_tokens"], rel=1e-9)
    assert df["batch"] == best["batch"]


def test_hard_wired_cost_by_hand():
    """One HC1 model, 12-month cadence: capex over one year, plus one tape-out per year."""
    V, months = 1e11, 12
    row = regime.choose(
        M8,
        tokens_per_day=V,
        update_months=months,
        min_tokens_per_s_per_user=100,
        context_tokens=2048,
        chips=["taalas-hc1"],
    ).iloc[0]
    sw = iw.sweep(
        M8, "taalas-hc1", batch=int(row["batch"]), input_tokens=2048 - 256, output_tokens=256
    ).iloc[0]
    a = iw.assumptions_for("base")
    c = iw.get_chip("taalas-hc1")
    util = min(a.utilization, V / 86400 / sw["tokens_per_s"])
    serving = economics.usd_per_million_tokens(
        sw["n_chips"],
        sw["tokens_per_s"],
        c.get("price_usd"),
        c.get("power_w"),
        min(a.amortization_years, months / 12),
        util,
        a.pue,
        a.usd_per_kwh,
    )
    nre = 1e6 * regime.hardwiring().tapeout_usd / (V * 365.25)
    assert row["usd_per_million_tokens"] == pytest.approx(float(serving) + nre, rel=1e-9)


def test_an_idle_fleet_pays_for_the_whole_instance():
    """Below one instance's capacity the cost per token rises as 1 / volume (capital share)."""
    small, tiny = (
        regime.choose(M8, tokens_per_day=v, min_tokens_per_s_per_user=10, chips=["cerebras-wse3"])[
            "usd_per_million_tokens"
        ].iloc[0]
        for v in (1e8, 1e7)
    )
    assert tiny > 5 * small


def test_a_regime_nobody_can_serve_is_reported_not_nan():
    df = regime.choose(M8, min_tokens_per_s_per_user=1e6)
    assert df.attrs["winner"] == regime.NONE and "no candidate reaches" in df.attrs["reason"]
    assert not df["serves"].any() and np.isinf(df["usd_per_million_tokens"]).all()
    assert df["reason"].str.contains("below the 1,000,000 target").all()
    m = regime.regime_map(M8, min_tokens_per_s_per_user=[50, 1e6])
    assert list(m["winner"]) != [regime.NONE, regime.NONE] and m["winner"].iloc[1] == regime.NONE
    assert not m.isna().any().any()


def test_hard_wiring_needs_a_cadence_longer_than_the_turnaround():
    df = regime.choose(M8, update_months=1, min_tokens_per_s_per_user=5000).set_index("chip")
    assert not df.loc["taalas-hc1", "serves"]
    assert "turnaround" in df.loc["taalas-hc1", "reason"]
    assert df.attrs["winner"] == regime.NONE
    ok = regime.choose(M8, update_months=12, min_tokens_per_s_per_user=5000)
    assert ok.attrs["winner"] == "taalas-hc1"


def test_hard_wired_chip_does_not_serve_other_models():
    df = regime.choose("llama-3.1-70b", min_tokens_per_s_per_user=10).set_index("chip")
    assert not df.loc["taalas-hc1", "serves"] and "hard-wired" in df.loc["taalas-hc1", "reason"]


def test_bad_input_says_what_is_wrong():
    with pytest.raises(ValueError, match="zoo_size"):
        regime.choose(M8, zoo_size=0)
    with pytest.raises(ValueError, match="zoo_size"):
        regime.regime_map(M8, zoo_size=[1, 2.5])
    with pytest.raises(ValueError, match="tokens_per_day"):
        regime.regime_map(M8, tokens_per_day=[1e9, -1])
    with pytest.raises(ValueError, match="maximum context"):
        regime.choose(M8, context_tokens=10**6)
    with pytest.raises(ValueError, match="exceed output_tokens"):
        regime.choose(M8, context_tokens=100)
    with pytest.raises(iw.UnknownNameError, match="h100-sxm"):
        regime.choose(M8, chips=["h100x"])
    with pytest.raises(ValueError, match="scenario"):
        regime.regime_map(M8, scenario="likely")


def test_map_is_finite_where_served_and_labelled_where_not(base_map):
    served = base_map[base_map["served"]]
    assert (
        np.isfinite(served["usd_per_million_tokens"]).all()
        and (served["usd_per_million_tokens"] > 0).all()
    )
    assert (base_map.loc[~base_map["served"], "winner"] == regime.NONE).all()
    assert (served["usd_per_million_tokens"] <= served["runner_up_usd_per_million_tokens"]).all()
    assert (served["usd_per_million_tokens"] <= served["best_gpu_usd_per_million_tokens"]).all()
    assert set(base_map["winner"]) <= set(regime.candidates()) | {regime.NONE}


def _pivot(df, value, axis):
    keys = [
        k
        for k in (
            "context_tokens",
            "zoo_size",
            "update_months",
            "tokens_per_day",
            "min_tokens_per_s_per_user",
        )
        if k != axis
    ]
    return df.sort_values(axis).groupby(keys)[value]


def test_a_looser_latency_target_never_raises_the_minimum_cost(base_map):
    for _, costs in _pivot(base_map, "usd_per_million_tokens", "min_tokens_per_s_per_user"):
        c = costs.to_numpy()  # targets ascending: cost may only rise
        ok = np.isfinite(c)
        assert not np.any(~ok[:-1] & ok[1:]), "a tighter target became servable"
        assert (np.diff(c[ok]) >= -1e-12).all()


def test_more_volume_never_raises_the_minimum_cost(base_map):
    for _, costs in _pivot(base_map, "usd_per_million_tokens", "tokens_per_day"):
        c = costs.to_numpy()  # volume ascending: feasibility is unchanged, cost falls
        assert len(set(np.isfinite(c))) == 1
        if np.isfinite(c).all():
            assert (np.diff(c) <= 1e-12).all()


def test_a_bigger_zoo_never_favours_the_hard_wired_chip_more(base_map):
    for _, won in _pivot(base_map, "winner", "zoo_size"):
        hw = (won == "taalas-hc1").to_numpy()
        # once the hard-wired chip loses as the zoo grows, it never wins again
        assert not np.any(~hw[:-1] & hw[1:])


def test_a_longer_update_cadence_never_hurts_the_hard_wired_chip():
    df = regime.chip_cost_curves(
        M8,
        update_months=[3, 6, 12, 24, 48],
        tokens_per_day=1e10,
        min_tokens_per_s_per_user=1000,
        chips=["taalas-hc1"],
    )
    assert (np.diff(df.sort_values("update_months")["usd_per_million_tokens"]) <= 1e-12).all()


@settings(max_examples=40, deadline=None)
@given(
    n=st.integers(1, 40),
    months=st.sampled_from([3, 6, 12, 24]),
    v=st.floats(1e6, 1e13),
    target=st.floats(5, 15000),
    grow=st.integers(1, 10),
)
def test_property_zoo_growth_only_raises_the_hard_wired_cost_relative_to_others(
    n, months, v, target, grow
):
    a, b = (
        regime.choose(
            M8,
            zoo_size=z,
            update_months=months,
            tokens_per_day=v,
            min_tokens_per_s_per_user=target,
            context_tokens=2048,
        ).set_index("chip")["usd_per_million_tokens"]
        for z in (n, n * grow)
    )
    assert b["taalas-hc1"] >= a["taalas-hc1"] or np.isinf(a["taalas-hc1"])
    others = [c for c in a.index if c != "taalas-hc1"]
    assert np.array_equal(
        a[others].to_numpy(), b[others].to_numpy()
    )  # the programmable pool ignores the zoo
    if a.idxmin() != "taalas-hc1" or not np.isfinite(a.min()):
        assert b.idxmin() != "taalas-hc1" or not np.isfinite(b.min())


@settings(max_examples=30, deadline=None)
@given(
    v=st.floats(1e6, 1e13),
    t1=st.floats(5, 20000),
    t2=st.floats(5, 20000),
    months=st.sampled_from([1, 6, 24]),
)
def test_property_looser_target_never_costs_more(v, t1, t2, months):
    lo, hi = sorted((t1, t2))
    c_lo, c_hi = (
        regime.choose(M8, tokens_per_day=v, min_tokens_per_s_per_user=t, update_months=months)[
            "usd_per_million_tokens"
        ].min()
        for t in (lo, hi)
    )
    assert c_lo <= c_hi


def test_contested_cells_are_where_ranges_overlap(base_map):
    assert base_map["contested"].dtype == bool
    # a regime only the hard-wired chip can serve under any reading is settled
    only = base_map[
        (base_map["min_tokens_per_s_per_user"] == 10000) & (base_map["update_months"] >= 6)
    ]
    assert (only["winner"] == "taalas-hc1").all() and not only["contested"].any()


def test_cost_curves_carry_ordered_ranges():
    df = regime.chip_cost_curves(
        M8, tokens_per_day=[1e8, 1e10, 1e12], min_tokens_per_s_per_user=1000
    )
    assert (df["usd_per_million_tokens_low"] <= df["usd_per_million_tokens"]).all()
    assert (df["usd_per_million_tokens"] <= df["usd_per_million_tokens_high"]).all()
    assert "h100-sxm" in df.attrs["unserved"] and "h100-sxm" not in set(df["chip"])
    assert isinstance(df, pd.DataFrame) and np.isfinite(df["usd_per_million_tokens"]).all()


def test_break_even_agrees_with_choose_at_every_volume():
    """regime.break_even (one vectorised evaluation per scenario) gives the costs and winners that
    regime.choose gives volume by volume, and its break-even is the first volume where the
    hard-wired chip is cheaper."""
    volumes = np.logspace(9, 13, 5)
    kw = dict(update_months=12, min_tokens_per_s_per_user=1000, context_tokens=2048)
    be = regime.break_even(M8, volumes, scenarios=("base",), **kw)
    for _, row in be.iterrows():
        d = regime.choose(M8, tokens_per_day=row["tokens_per_day"], **kw)
        prog = d[(d["kind"] != "hard-wired") & d["serves"]].iloc[0]
        assert row["winner"] == d.attrs["winner"]
        assert row["programmable"] == prog["chip"]
        assert row["programmable_usd"] == pytest.approx(prog["usd_per_million_tokens"], rel=1e-12)
        hw = d.set_index("chip").loc["taalas-hc1", "usd_per_million_tokens"]
        assert row["hard_wired_usd"] == pytest.approx(hw, rel=1e-12)
    cheaper = be["hard_wired_usd"] < be["programmable_usd"]
    assert (
        cheaper.any() and be.attrs["break_even"]["base"] == be.loc[cheaper, "tokens_per_day"].min()
    )


def test_break_even_needs_a_hard_wired_chip_for_the_model():
    with pytest.raises(ValueError, match="no hard-wired candidate runs llama-3.1-70b"):
        regime.break_even("llama-3.1-70b", [1e9, 1e10])
    with pytest.raises(ValueError, match="tokens_per_day must be positive"):
        regime.break_even(M8, [1e9, -1.0])
    with pytest.raises(ValueError, match="scenario must be one of"):
        regime.break_even(M8, [1e9], scenarios=("likely",))
    assert regime.break_even(M8, 1e10, scenarios="base")["scenario"].tolist() == ["base"]
