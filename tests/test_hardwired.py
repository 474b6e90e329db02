"""Model-as-silicon economics and silicon budget (inference_wars.analyses.hardwired)."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from inference_wars import hardwired as hw
from inference_wars import units

BE = dict(
    gpu_usd_per_million_tokens=0.05,
    hc_tokens_per_s_per_chip=3000.0,
    hc_price_usd=4000.0,
    hc_power_w=250.0,
    tapeout_usd_total=1e6,
    lead_time_months=3.0,
    utilization=0.7,
    pue=1.3,
    usd_per_kwh=0.08,
)


def test_tables_load_with_sources_and_ranges():
    costs = hw.cost_assumptions()
    assert {"mask_usd", "masks_per_tapeout", "fab_months", "r1_chips"} <= set(costs["key"])
    assert (costs["low"] <= costs["value"]).all() and (costs["value"] <= costs["high"]).all()
    q = hw.quantization_quality().set_index("format")
    assert q.loc["bf16", "loss_pct"] == 0
    # fewer bits never buys better quality in the table's central values (fp8 < int4 < 3-bit)
    assert q.loc["fp8", "loss_pct"] < q.loc["int4", "loss_pct"] < q.loc["int3", "loss_pct"]


def test_unknown_cost_key_suggests():
    with pytest.raises(ValueError, match="mask_usd"):
        hw.cost_assumption("mask_usdd")


def test_tapeout_cost_hand_computed():
    # 2 masks x 150k + 500k engineering
    assert float(hw.tapeout_usd(1)) == pytest.approx(800_000)
    assert float(hw.tapeout_usd(30)) == pytest.approx(24e6)
    assert hw.tapeout_usd(1, "low") < hw.tapeout_usd(1) < hw.tapeout_usd(1, "high")
    assert hw.lead_months() == pytest.approx(3.0)


def test_latency_and_silicon_budget_hand_computed():
    lb = hw.latency_budget(16_000, 32, clock_ghz=1.0)
    assert float(lb["us_per_token"]) == pytest.approx(62.5)
    assert float(lb["ns_per_layer"]) == pytest.approx(62.5e3 / 32)
    sb = hw.silicon_budget(8e9, 3.5, 16_000, 53, 815, clock_ghz=1.0)
    assert float(sb["rom_gbit"]) == pytest.approx(28.0)
    assert float(sb["transistors_per_bit"]) == pytest.approx(53 / 28)
    assert float(sb["macs_parallel"]) == pytest.approx(8e9 * 16_000 / 1e9)
    assert float(sb["tops"]) == pytest.approx(256.0)


def test_chips_for_model_and_r1_claim():
    ref = hw._model_params("llama-3.1-8b")
    assert float(hw.chips_for_model(ref, 3.5)) == 1
    assert float(hw.chips_for_model(ref * 1.01, 3.5)) == 2
    # at HC1 density DeepSeek-R1 needs far more than the ~30 dies Taalas quotes
    r1 = hw._model_params("deepseek-r1")
    assert float(hw.chips_for_model(r1, 3.5)) > 2 * hw.cost_assumption("r1_chips")
    assert float(hw.implied_params_per_chip(r1, 30)) > 2 * ref


def test_pipeline_speed_falls_with_chips_and_hops():
    v1 = hw.pipeline_tokens_per_s_per_user(8e9, 1, us_per_token_chip=60.0, params_per_chip=8e9)
    assert float(v1) == pytest.approx(1e6 / 60.0)
    v9 = hw.pipeline_tokens_per_s_per_user(
        72e9, 9, us_per_token_chip=60.0, params_per_chip=8e9, hop_latency_us=2.0
    )
    assert float(v9) == pytest.approx(1e6 / (9 * 60 + 8 * 2))
    with pytest.raises(ValueError):
        hw.pipeline_tokens_per_s_per_user(8e9, 1, hop_latency_us=-1)


def test_break_even_hand_computed():
    R = 100_000.0
    N = R / (3000 * 0.7)
    saving_h = 3600 * R * 0.05e-6 - N * 250 * 1.3 * 0.08 / 1000
    hours = (1e6 + N * 4000) / saving_h
    assert float(hw.break_even_months(R, **BE)) == pytest.approx(
        3.0 + hours / units.HOURS_PER_MONTH
    )


def test_never_pays_when_gpu_is_cheaper_than_the_chips_energy():
    args = dict(BE, gpu_usd_per_million_tokens=1e-6)
    assert math.isinf(float(hw.break_even_months(1e5, **args)))


def test_lifetime_costs_cross_at_break_even():
    R = 200_000.0
    T = float(hw.break_even_months(R, **BE))
    kw = {
        k: v
        for k, v in BE.items()
        if k not in ("gpu_usd_per_million_tokens", "hc_tokens_per_s_per_chip")
    }
    c = hw.lifetime_costs(
        T, R, BE["gpu_usd_per_million_tokens"], BE["hc_tokens_per_s_per_chip"], **kw
    )
    assert float(c["saving_usd"]) == pytest.approx(0.0, abs=1e-6 * float(c["gpu_usd"]))
    later = hw.lifetime_costs(
        T * 1.5, R, BE["gpu_usd_per_million_tokens"], BE["hc_tokens_per_s_per_chip"], **kw
    )
    assert float(later["saving_usd"]) > 0


@settings(max_examples=200, deadline=None)
@given(
    r1=st.floats(1.0, 1e7),
    factor=st.floats(1.0, 1e3),
    gpu=st.floats(1e-3, 5.0),
    nre=st.floats(0.0, 1e8),
)
def test_break_even_falls_as_token_volume_rises(r1, factor, gpu, nre):
    args = dict(BE, gpu_usd_per_million_tokens=gpu, tapeout_usd_total=nre)
    t1 = float(hw.break_even_months(r1, **args))
    t2 = float(hw.break_even_months(r1 * factor, **args))
    assert t2 <= t1 * (1 + 1e-9) or math.isinf(t1)
    assert t2 >= BE["lead_time_months"]


def test_tapeout_case_from_the_catalog():
    lo = hw.tapeout_case(1e9)
    hi = hw.tapeout_case(1e11)
    assert hi.break_even_months < lo.break_even_months
    assert lo.hc_tokens_per_s_per_user > 10 * lo.gpu_tokens_per_s_per_user
    opt = hw.tapeout_case(1e10, scenario="optimistic")
    pes = hw.tapeout_case(1e10, scenario="pessimistic")
    assert opt.break_even_months < pes.break_even_months
    with pytest.raises(ValueError, match="hard-wired chip only for llama-3.1-8b"):
        hw.tapeout_case(1e9, model="llama-3.1-70b")
    with pytest.raises(ValueError, match="tokens_per_day"):
        hw.tapeout_case(-5)


def test_zoo_plan_hardwires_only_the_head():
    case = hw.tapeout_case(1e10)
    shares = hw.zipf_shares(10, 1.2)
    assert shares.sum() == pytest.approx(1.0) and (np.diff(shares) < 0).all()
    plan = hw.zoo_plan(shares, 5e6, 24, case)
    wired = plan["hardwire"].to_numpy()
    # once a model is not worth wiring, no less popular model is
    assert not np.any(~wired[:-1] & wired[1:])
    assert (plan["chosen_usd"] <= plan["gpu_usd"] + 1e-6).all()


def test_checklist():
    yes = hw.hardwire_checklist(0.8, 24, 12, 2000, 200, True, 12, 3)
    assert yes.hardwire and all(yes.answers.values())
    no = hw.hardwire_checklist(0.8, 6, 12, 2000, 200, True, 1, 3)
    assert not no.hardwire and not no.answers["volume"] and not no.answers["cadence"]
    assert "break-even" in str(no)
    never = hw.hardwire_checklist(0.9, 48, float("inf"), 2000, 200, True, 12, 3)
    assert not never.answers["volume"] and "never" in never.reasons["volume"]
    with pytest.raises(ValueError):
        hw.hardwire_checklist(1.5, 24, 12, 2000, 200, True, 12, 3)


def test_break_even_grid_is_tapeout_case_at_every_volume():
    """hardwired.break_even_grid costs each baseline once and every volume at once; each row is
    the break-even that tapeout_case gives at that volume."""
    volumes = np.geomspace(1e9, 1e12, 4)
    g = hw.break_even_grid(volumes, ["h100-sxm"], gpu_batches=(8, 64), scenarios=("base",))
    assert len(g) == 2 * len(volumes)
    assert list(g.columns) == ["gpu", "gpu_batch", "scenario", "tokens_per_day", "months"]
    for r in g.itertuples():
        case = hw.tapeout_case(
            r.tokens_per_day, gpu=r.gpu, gpu_batch=r.gpu_batch, scenario=r.scenario
        )
        assert r.months == pytest.approx(case.break_even_months, rel=1e-12)
    # more volume never makes hard-wiring take longer to pay
    for _, s in g.groupby("gpu_batch"):
        m = s["months"].to_numpy()
        assert (np.minimum.accumulate(m) == m).all()
    with pytest.raises(ValueError, match="tokens_per_day"):
        hw.break_even_grid([1e9, -5.0], ["h100-sxm"])
    with pytest.raises(ValueError, match="did you mean 'h100-sxm'"):
        hw.break_even_grid([1e9], ["h100-sxn"])
    # one GPU, one batch, one scenario given bare: never split into letters
    assert len(hw.break_even_grid([1e9], "h100-sxm", gpu_batches=64, scenarios="base")) == 1
