"""Published tokens/s claims: the data table, the readings of one configuration, reproduction."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

import inference_wars as iw
from inference_wars import catalog, claims


def test_claims_table_is_small_sourced_and_unique():
    df = claims.claims()
    assert 5 <= len(df) <= 10
    assert df["id"].is_unique
    assert set(df["source"]) <= catalog.bib_keys()
    assert set(df["model"]) <= set(iw.model_ids()) and set(df["chip"]) <= set(iw.chip_ids())
    assert (df["low"] <= df["value"]).all() and (df["value"] <= df["high"]).all()
    # the coding-model claim names its stand-in honestly
    spark = claims.get_claim("openai-codex-spark")
    assert spark.model_match == "proxy" and spark.chip == "cerebras-wse3"


def test_a_bad_claim_row_fails_with_file_and_line(tmp_path):
    bad = tmp_path / "claims.csv"
    header = claims.CLAIMS_CSV.read_text().splitlines()[0]
    row = (
        "x,X,h100-sxm,M,llama-3.1-8b,exact,fp8,tokens_per_s_per_user,100,200,300,1024,256,false,"
        "announced,taalas2026blog,2026-01,note"
    )
    bad.write_text(header + "\n" + row + "\n")
    with pytest.raises(catalog.CatalogError, match=r"claims.csv:2: .*low <= value <= high"):
        catalog.read_rows(bad, claims.ClaimRow)


def test_unknown_claim_suggests_the_closest():
    with pytest.raises(iw.UnknownNameError, match="groq-llama2-70b"):
        claims.get_claim("groq-llama2-70")


@pytest.mark.parametrize(
    "claimed,lo,hi,expected",
    [
        (100, 50, 200, "consistent"),
        (300, 50, 200, "beyond"),
        (10, 50, 200, "conservative"),
        (50, 50, 200, "consistent"),
    ],
)
def test_verdict_hand_cases(claimed, lo, hi, expected):
    assert claims.verdict(claimed, lo, hi) == expected


@given(st.floats(1, 1e5), st.floats(1, 1e5), st.floats(1, 1e5))
def test_verdict_is_consistent_exactly_inside_the_range(claimed, a, b):
    inside = min(a, b) <= claimed <= max(a, b)
    assert (claims.verdict(claimed, a, b) == "consistent") == inside


def test_readings_relations_for_one_configuration():
    r = claims.readings(
        "llama-3.1-70b",
        "h100-sxm",
        batch=64,
        input_tokens=1024,
        output_tokens=256,
        precision="fp8",
        n_chips=8,
    )
    per_user, agg = r["per user (decode)"], r["aggregate (output)"]
    assert agg < 64 * per_user  # prefills interleave with decode
    assert r["aggregate (input + output)"] == pytest.approx(agg * (1024 + 256) / 256)
    assert r["per chip (output)"] == pytest.approx(agg / 8)
    assert r["prefill (one prompt)"] > per_user


def test_one_system_quotes_numbers_two_orders_of_magnitude_apart():
    g = claims.readings_grid(
        "llama-3.1-70b", "h100-sxm", n_chips=8, precision="fp8", context=(2048, 8192)
    )
    assert g["tokens_per_s"].max() / g["tokens_per_s"].min() > 100
    assert set(g["reading"]) == set(claims.READINGS)


def test_matching_configurations_are_within_tolerance():
    m = claims.matching_configurations(
        1000, "llama-3.1-70b", "h100-sxm", tolerance=0.2, n_chips=8, precision="fp8"
    )
    assert len(m) > 0
    assert ((m["tokens_per_s"] >= 800) & (m["tokens_per_s"] <= 1200)).all()
    with pytest.raises(ValueError, match="tolerance"):
        claims.matching_configurations(1000, "llama-3.1-70b", "h100-sxm", tolerance=2)


def test_readings_grid_rejects_contexts_shorter_than_the_output():
    with pytest.raises(ValueError, match="must exceed output_tokens"):
        claims.readings_grid("llama-3.1-8b", "h100-sxm", context=(128,), output_tokens=256)


def test_groq_fitted_layer_time_reproduces_its_claims():
    r = claims.reproduce(["groq-llama2-70b", "groq-llama8b-implied"]).set_index("claim")
    # both are among the rows Groq's fitted per-layer time is fitted to (with two independent
    # Artificial Analysis measurements), so they agree within the fit's scatter
    assert r.loc["groq-llama2-70b", "ratio"] == pytest.approx(1.0, rel=0.1)
    assert r.loc["groq-llama8b-implied", "ratio"] == pytest.approx(1.0, rel=0.15)
    assert (r["verdict"] == "consistent").all()
    assert (r["bound"] == "interconnect").all()


def test_reproduce_every_claim_is_finite_and_ordered():
    r = claims.reproduce()
    assert len(r) == len(claims.claim_ids())
    assert (r["predicted_low"] <= r["predicted"]).all() and (
        r["predicted"] <= r["predicted_high"]
    ).all()
    assert set(r["verdict"]) <= set(claims.VERDICTS)
    assert (r["required_tb_s"] > 0).all() and (r["peak_tb_s"] > 0).all()
    # a claim the base model reaches holds at batch 1 at least; one it misses has max_batch 0
    reached = r["predicted"] >= r["claimed"]
    assert ((r["max_batch"] >= 1) == reached).all()
    # SRAM machines use a tiny fraction of their on-chip bandwidth: latency, not bytes, binds
    sram = r[r["chip"].isin(["groq-lpu", "cerebras-wse3"])]
    assert (sram["bandwidth_used"] < 0.01).all()


def test_405b_claim_is_beyond_the_launch_day_wafer_floor():
    r = claims.reproduce_claim("cerebras-llama405b")
    assert r["verdict"] == "beyond"
    # 969 tokens/s over 126 layers leaves ~8 us per layer, under the catalog's 10 us low bound
    assert r["us_per_layer"] == pytest.approx(1e6 / (969 * 126), rel=1e-6)
    assert r["us_per_layer"] < iw.get_chip("cerebras-wse3").specs["layer_latency_us"].low


# --------------------------------------------------------------------------- the article's claims ledger


@pytest.fixture(scope="module")
def ledger():
    return claims.ledger()


def test_ledger_covers_the_article_with_sourced_rows_and_allowed_verdicts(ledger):
    assert len(ledger) >= 45 and ledger["id"].is_unique
    assert set(ledger["verdict"]) <= set(claims.LEDGER_VERDICTS)
    assert ledger["source"].isin(catalog.bib_keys()).all()
    assert (ledger["claim"].str.len() > 10).all() and (ledger["claimant"].str.len() > 0).all()
    counts = claims.verdict_counts(ledger)
    assert sum(counts.values()) == len(ledger) and list(counts) == list(claims.LEDGER_VERDICTS)
    # the claims issue 12 names must each have a row
    for cid in (
        "matx-10x",
        "inf2-4x-throughput",
        "inf2-10x-latency",
        "anthropic-gigawatt",
        "codex-spark-1200",
        "rubin-50-pflops",
        "rubin-10x-token-cost",
        "rubin-10x-dense",
        "groq-nvidia-licence",
        "groq-people",
        "taalas-funding",
        "hc1-demo",
        "matx-backers",
        "nvl72-36-vera-cpus",
    ):
        assert cid in set(ledger["id"]), cid


def test_verdicts_are_computed_not_stored():
    header = claims.LEDGER_CSV.read_text().splitlines()[0].split(",")
    assert "verdict" not in header and "model_value" not in header
    # every testable row gets its verdict from a check; only untestable rows are 'stated'
    for r in claims._ledger().values():
        v = claims.check_ledger_row(r)["verdict"]
        assert (v == "stated") == (r.check == ""), r.id


def test_a_spec_verdict_follows_the_claimed_number():
    r = claims.ledger_row("rubin-288gb")
    assert claims.check_ledger_row(r)["verdict"] == "reproduced"
    assert claims.check_ledger_row(r.model_copy(update={"claimed": 400.0}))["verdict"] == "refuted"
    rubin = claims.check_ledger_row("rubin-50-pflops")  # 50 is the compressed-inference figure
    fp4 = iw.get_chip("vera-rubin-nvl72").specs["peak_dense_tflops_fp4"]
    assert rubin["model_value"] == fp4.value < 50000 and rubin["verdict"] == "qualified"
    wse = claims.check_ledger_row("wse3-125-pflops")  # a sparse headline: only its half is in range
    assert wse["verdict"] == "qualified" and wse["model_high"] < 125000 <= 2 * wse["model_high"]


def test_gigawatt_claim_is_chips_times_power_times_pue():
    s = iw.get_chip("tpu-ironwood").specs["power_w"]
    r = claims.check_ledger_row("anthropic-gigawatt")
    assert r["model_value"] == pytest.approx(1e6 * s.value * catalog.assumption("pue") / 1e9)
    assert r["model_low"] == pytest.approx(1e6 * s.low * catalog.assumption("pue", "low") / 1e9)
    expected = (
        "reproduced" if r["model_low"] >= 1 else "qualified" if r["model_high"] >= 1 else "refuted"
    )
    assert r["verdict"] == expected
    row = claims.ledger_row("anthropic-gigawatt")
    assert claims.check_ledger_row(row.model_copy(update={"claimed": 10.0}))["verdict"] == "refuted"


def test_ratio_claims_are_read_on_the_cost_frontier():
    from inference_wars import frontier

    r = claims.check_ledger_row("rubin-10x-token-cost")
    t = frontier.interactivity_targets(*claims.RATIO_TARGETS)
    df = frontier.cost_ratio(
        "kimi-k2",
        "gb200-nvl72",
        "vera-rubin-nvl72",
        t,
        input_tokens=32768,
        output_tokens=8192,
        precision="nvfp4",
    )
    both = df[df["reachable_baseline"] & df["reachable_chip"]]
    assert r["model_value"] == pytest.approx(both["ratio"].max())
    assert r["model_low"] <= r["model_value"] <= r["model_high"]
    dense = claims.check_ledger_row("rubin-10x-dense")
    # "up to": the best ratio sits near the edge of Blackwell's frontier (one of the two fastest
    # targets GB200 still reaches), where Blackwell's cost climbs steeply
    fastest_two = sorted(df.loc[df["reachable_baseline"], "target"])[-2:]
    assert both.loc[both["ratio"].idxmax(), "target"] in fastest_two
    # both gain from the bigger rack, and neither reaches NVIDIA's 10x at the base reading
    assert 1.0 < dense["model_value"] < 10 and 1.0 < r["model_value"] < 10
    matx = claims.check_ledger_row("matx-10x")
    need = 10 / (1 + claims.RATIO_TOLERANCE)
    expected = (
        "reproduced"
        if matx["model_value"] >= need
        else "qualified"
        if matx["model_high"] >= need
        else "refuted"
    )
    assert matx["verdict"] == expected


def test_an_up_to_claim_is_read_over_the_targets_both_systems_reach():
    """cost_ratio_reading (the ledger's rule for "up to N x"): the best ratio and the best of each
    end over targets both reach, whatever an unreached target reads; reproduced from
    N / (1 + tolerance), qualified when only the favourable end gets there."""
    import pandas as pd

    need = 10 / (1 + claims.RATIO_TOLERANCE)
    frame = pd.DataFrame(
        {
            "target": [50.0, 100.0, 200.0, 400.0],
            "ratio": [2.0, 3.0, 5.0, 40.0],
            "ratio_low": [1.0, 2.0, 1.5, 20.0],
            "ratio_high": [4.0, need, 6.0, 80.0],
            "reachable_baseline": [True, True, True, False],  # 400: only the new system
            "reachable_chip": [True, True, True, True],
        }
    )
    read = claims.cost_ratio_reading(frame, 10)
    assert (read["best"], read["low"], read["high"]) == (5.0, 2.0, need)
    assert (read["edge"], read["targets"], read["verdict"]) == (200.0, 3, "qualified")
    assert claims.cost_ratio_reading(frame, 5 * (1 + claims.RATIO_TOLERANCE))["verdict"] == (
        "reproduced"
    )
    assert claims.cost_ratio_reading(frame, 20)["verdict"] == "refuted"
    with pytest.raises(ValueError, match="no speed target both"):
        claims.cost_ratio_reading(frame.assign(reachable_chip=False), 10)


def test_speed_claims_use_the_engine():
    spark = claims.check_ledger_row("codex-spark-1200")
    rep = claims.reproduce_claim(
        claims.get_claim("openai-codex-spark").model_copy(update={"value": 1200.0, "high": 1200.0})
    )
    assert spark["model_value"] == pytest.approx(rep["predicted"])
    assert spark["verdict"] in ("qualified", "refuted")  # a stand-in model is never 'reproduced'
    hc1 = claims.check_ledger_row("hc1-speed")
    assert hc1["model_low"] <= hc1["model_value"] <= hc1["model_high"]


def test_r1_chip_count_is_qualified_at_hc1_density():
    from inference_wars import hardwired

    r = claims.check_ledger_row("r1-thirty-chips")
    assert r["model_value"] == hardwired.scaling_table(["deepseek-r1"])["chips"].iloc[0] > 30
    assert r["verdict"] == "qualified"


def test_ledger_rows_are_validated(tmp_path):
    header = claims.LEDGER_CSV.read_text().splitlines()[0]
    bad = tmp_path / "claims_ledger.csv"
    bad.write_text(header + "\nx,9,t,some claim here,1,x,me,taalas2026blog,2026-02,spec,,n\n")
    with pytest.raises(catalog.CatalogError, match=r"claims_ledger.csv:2"):
        catalog.read_rows(bad, claims.LedgerRow)
    from inference_wars.errors import UnknownNameError

    with pytest.raises(UnknownNameError):
        claims.ledger_row("no-such-claim")
