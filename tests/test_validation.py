"""Range propagation, the measured table, calibration and the accuracy benchmark."""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import inference_wars as iw
from inference_wars import api, calibration, cli, uncertainty, validation

ROOT = Path(__file__).resolve().parents[1]
CHIPS = [
    "h100-sxm",
    "b200",
    "vera-rubin-nvl72",
    "mi355x",
    "tpu-ironwood",
    "groq-lpu",
    "cerebras-wse3",
    "matx-one",
]


# ---------------------------------------------------------------- ranges


@settings(max_examples=25, deadline=None)
@given(
    chip=st.sampled_from(CHIPS),
    model=st.sampled_from(["llama-3.1-8b", "llama-3.1-70b", "deepseek-r1"]),
    batch=st.integers(1, 512),
    s=st.integers(16, 16384),
    o=st.integers(1, 4096),
)
def test_ranges_contain_the_base_value(chip, model, batch, s, o):
    df = iw.sweep(model, chip, batch=batch, input_tokens=s, output_tokens=o, ranges=True)
    for k in api.METRICS:
        assert (df[f"{k}_low"] <= df[k] * (1 + 1e-12)).all(), k
        assert (df[k] <= df[f"{k}_high"] * (1 + 1e-12)).all(), k
        assert np.isfinite(df[[f"{k}_low", f"{k}_high"]].to_numpy()).all()


def test_default_output_is_unchanged_without_ranges():
    plain = iw.sweep("llama-3.1-70b", ["h100-sxm", "b200"], batch=[1, 64])
    ranged = iw.sweep("llama-3.1-70b", ["h100-sxm", "b200"], batch=[1, 64], ranges=True)
    assert not any(c.endswith(("_low", "_high")) for c in plain.columns)
    for k in api.METRICS:
        np.testing.assert_allclose(plain[k], ranged[k])
    assert iw.estimate("llama-3.1-8b", "h100-sxm").ranges is None


def test_ranges_are_the_bounding_scenarios_for_the_same_chips():
    # ranges keep the base reading's deployment; pin it so the scenarios run the same split
    kw = dict(batch=64, precision="nvfp4", n_chips=8, tp=8, pp=1, replicas=1)
    e = iw.estimate("llama-3.1-70b", "vera-rubin-nvl72", ranges=True, **kw)
    opt = iw.estimate("llama-3.1-70b", "vera-rubin-nvl72", scenario="optimistic", **kw)
    pes = iw.estimate("llama-3.1-70b", "vera-rubin-nvl72", scenario="pessimistic", **kw)
    low, base, high = e.bounds("usd_per_million_tokens")  # lower is better: optimistic is low
    assert low == pytest.approx(opt.usd_per_million_tokens) and high == pytest.approx(
        pes.usd_per_million_tokens
    )
    assert low < base < high
    low, _, high = e.bounds("tokens_per_s")  # higher is better: optimistic is high
    assert high == pytest.approx(opt.tokens_per_s) and low == pytest.approx(pes.tokens_per_s)


def test_estimate_bounds_needs_ranges_and_a_known_metric():
    e = iw.estimate("llama-3.1-8b", "h100-sxm")
    with pytest.raises(ValueError, match="ranges=True"):
        e.bounds("ttft_s")
    with pytest.raises(iw.UnknownNameError):
        iw.estimate("llama-3.1-8b", "h100-sxm", ranges=True).bounds("ttft")


def test_monte_carlo_is_deterministic_and_inside_the_interval():
    a = uncertainty.monte_carlo(
        "llama-3.1-70b", "vera-rubin-nvl72", batch=64, precision="nvfp4", n_samples=500, seed=1
    )
    b = uncertainty.monte_carlo(
        "llama-3.1-70b", "vera-rubin-nvl72", batch=64, precision="nvfp4", n_samples=500, seed=1
    )
    assert a.equals(b) and len(a) == 500
    e = iw.estimate("llama-3.1-70b", "vera-rubin-nvl72", batch=64, precision="nvfp4", ranges=True)
    for k in api.METRICS:
        lo, _, hi = e.bounds(k)
        assert lo * (1 - 1e-9) <= a[k].median() <= hi * (1 + 1e-9), k


def test_triangular_by_hand():
    # low 0, mode 1, high 2: u = 0.5 is the mode; u = 0.125 -> sqrt(0.125 * 2 * 1) = 0.5
    assert uncertainty.triangular(0.5, 0, 1, 2) == pytest.approx(1.0)
    assert uncertainty.triangular(0.125, 0, 1, 2) == pytest.approx(0.5)
    assert uncertainty.triangular(0.7, 3, 3, 3) == 3


# ---------------------------------------------------------------- measured table


def test_measured_table_coverage():
    df = validation.measured()
    assert len(df) >= 150 and df["source_family"].nunique() >= 8
    assert df["chip"].nunique() >= 6 and df["model"].nunique() >= 4
    assert set(df["regime"]) == set(validation.REGIMES)
    assert (df["value"] > 0).all()
    assert df["source"].isin(iw.catalog.bib_keys()).all()


def test_a_bad_measured_row_fails_loudly():
    good = validation.measured().iloc[0].drop(["regime", "family", "source_family", "engine"])
    good = good.to_dict()
    good = {k: (None if isinstance(v, float) and np.isnan(v) else v) for k, v in good.items()}
    validation.MeasuredRow.model_validate(good)
    with pytest.raises(ValueError):
        validation.MeasuredRow.model_validate({**good, "value": -3})
    with pytest.raises(ValueError):
        validation.MeasuredRow.model_validate({**good, "metric": "tokens"})
    with pytest.raises(ValueError):
        validation.MeasuredRow.model_validate({**good, "note": " "})


def test_predictions_are_finite_and_errors_by_hand():
    df = validation.predict()
    assert np.isfinite(df["predicted"]).all() and (df["predicted"] > 0).all()
    row = df.iloc[0]
    assert row["ape"] == pytest.approx(abs(row["predicted"] - row["value"]) / row["value"])
    s = validation.error_summary(df)
    assert s["median_ape_pct"] == pytest.approx(100 * df["ape"].median())
    with pytest.raises(ValueError, match="unknown grouping"):
        validation.error_summary(df, by="bogus")


def test_a_batch_1_prediction_matches_estimate():
    df = validation.predict().set_index("id")
    m = validation.measured()
    # the row's software as mature as it was at its date (gpt-fast has no fitted factor of its own)
    here = m["id"].to_numpy() == "gptfast-l2-70b-a100x4-bf16"
    assert 0.5 < validation.software_maturity(m)[here][0] < 1.0
    age = validation.software_age_months(m)[here][0]
    e = iw.estimate(
        "llama-2-70b",
        "a100-sxm",
        n_chips=4,
        batch=1,
        input_tokens=5,
        output_tokens=200,
        precision="bf16",
        tp=4,
        objective="latency",
        software_age_months=age,
    )
    assert df.loc["gptfast-l2-70b-a100x4-bf16", "predicted"] == pytest.approx(
        e.tokens_per_s_per_user
    )


def test_a_curve_point_is_the_best_throughput_at_its_per_user_speed():
    df = validation.predict().set_index("id")
    row = validation.measured().set_index("id").loc["ix-dsr1-b200-8k1k-max"]
    assert np.isnan(row["batch"]) or row["batch"] > 0
    pred = df.loc["ix-dsr1-b200-8k1k-max", "predicted"]
    assert np.isfinite(pred) and pred > 0


def test_chip_counts_the_rows_leave_blank_follow_what_the_row_publishes():
    """A per-chip figure with neither a chip count nor a batch (a rack's best tokens/s per GPU at
    a per-user speed) may use one scale-up domain; with a batch, the fewest chips that fit it; a
    hosted per-user speed gets one server."""
    pts = validation._inputs()
    df = validation.measured().reset_index(drop=True)
    n = pd.Series(pts.n_chips, index=df["id"])
    assert n["sglang-dsr1-gb300-128k8k-u30"] == 72  # GB300 NVL72: 72 GPUs in one NVLink domain
    assert np.isnan(n["ix-gptoss-b200-8k1k-max"])  # batch 256 published: the fewest that fit
    blank = df["n_chips"].isna() & df["metric"].str.contains("per_chip") & df["batch"].isna()
    assert blank.sum() >= 9 and (n[df.loc[blank, "id"]] >= 8).all()


# ---------------------------------------------------------------- calibration


@pytest.fixture(scope="module")
def fresh_fits():
    """The fit to all rows and the fit without one source family (``nim``), computed from scratch
    side by side in two processes (each takes about a minute): ``(full, (predictions, fold))``."""
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor(2) as pool:
        full, fold = pool.submit(calibration.fit), pool.submit(calibration._fold, "nim")
        return full.result(), fold.result()


def test_calibration_is_reproducible(fresh_fits):
    # (the held-out predictions are re-derived by the accuracy benchmark below)
    assert calibration.check(full=fresh_fits[0]) == []


def test_the_fit_helps_and_held_out_error_is_not_better_than_in_sample():
    held, fit, raw = (
        validation.predict_held_out(),
        validation.predict(),
        validation.predict(use_fitted=False),
    )
    s_h, s_f, s_r = (validation.error_summary(d) for d in (held, fit, raw))
    assert s_f["median_ape_pct"] <= s_h["median_ape_pct"]
    assert s_h["p90_ape_pct"] < s_r["p90_ape_pct"]
    for r in calibration.fitted_table():
        assert r["low"] <= r["value"] <= r["high"]


def test_fitted_factors_reach_the_default_estimate():
    from inference_wars import factors

    fit = {(r["scope"], r["key"]): r["value"] for r in calibration.fitted_table()}
    assert factors.chip_factors("h100-sxm")["fp4_efficiency"] == fit[("all", "fp4_efficiency")]
    # an AMD GPU's default engine is vLLM: the family's efficiency times vLLM's engine factor
    assert factors.chip_factors("mi300x")["compute_efficiency"] == pytest.approx(
        fit[("amd-gpu", "compute_efficiency")] * fit[("vllm", "engine_efficiency")]
    )
    assert factors.chip_factors("mi300x", engine="atom")["compute_efficiency"] == pytest.approx(
        min(1.0, fit[("amd-gpu", "compute_efficiency")] * fit[("atom", "engine_efficiency")])
    )
    # an unmeasured programmable chip borrows NVIDIA's software factors; a dataflow chip runs no kernels
    assert (
        factors.chip_factors("matx-one")["layer_overhead_us"]
        == fit[("nvidia-gpu", "layer_overhead_us")]
    )
    assert factors.chip_factors("groq-lpu")["layer_overhead_us"] == 0
    # a chip's own published kernel overheads win over the family fit it would borrow
    # (SambaNova fuses a decoder layer into one looped kernel: koeplinger2024kernellooping)
    sn = factors.chip_factors("sambanova-sn40l")
    assert sn["layer_overhead_us"] == 0 and sn["expert_overhead_us"] == 0
    assert factors.chip_factors("sambanova-sn40l", "pessimistic")["layer_overhead_us"] == 3
    assert (
        factors.factor_arrays(
            ["sambanova-sn40l"], fitted={("nvidia-gpu", "layer_overhead_us"): 50.0}
        ).layer_overhead_us[0]
        == 0
    )
    assert factors.chip_factors("groq-lpu")["layer_floor_us"] == fit[("groq-lpu", "layer_floor_us")]
    with pytest.raises(ValueError, match="calibrated= is gone"):
        iw.estimate("llama-3.1-8b", "h100-sxm", calibrated=True)


def test_cli_calibrate_check_and_ranges(capsys):
    assert (
        cli.main(
            [
                "estimate",
                "-m",
                "llama-3.1-70b",
                "-c",
                "vera-rubin-nvl72",
                "-b",
                "8",
                "--ranges",
                "--json",
            ]
        )
        == 0
    )
    out = json.loads(capsys.readouterr().out)
    lo, hi = out["ranges"]["tokens_per_s"]
    assert lo <= out["tokens_per_s"] <= hi


@pytest.mark.parametrize(
    "args, message",
    [
        (["calibrate"], "--output PATH .* or --update-shipped"),
        (["calibrate", "--output", ""], "must be a path to a .csv file"),
        (["calibrate", "--output", "/nonexistent_dir/x.csv"], "does not exist"),
        (
            ["calibrate", "--output", str(ROOT / "inference_wars" / "data" / "calibration.csv")],
            "use --update-shipped",
        ),
        (["calibrate", "--output", "x.csv", "--date", "not-a-date"], "--date must be a date"),
    ],
)
def test_cli_calibrate_never_writes_into_the_package_by_accident(args, message, capsys):
    before = (ROOT / "inference_wars" / "data" / "calibration.csv").read_bytes()
    assert cli.main(args) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error:") and "\n" not in err
    import re

    assert re.search(message, err)
    assert (ROOT / "inference_wars" / "data" / "calibration.csv").read_bytes() == before


def test_accuracy_benchmark_reports_held_out_error():
    out = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "accuracy.py"), "--shipped"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.splitlines()
    s = validation.error_summary(validation.predict_held_out())
    assert "leave-one-source-out" in out[1]
    assert (
        f"median APE {s['median_ape_pct']:5.1f}%" in out[1]
        and f"p90 APE {s['p90_ape_pct']:5.1f}%" in out[1]
    )
    f = validation.error_summary(validation.forward_test())
    line = next(x for x in out if x.startswith("forward test"))
    assert (
        f"median APE {f['median_ape_pct']:.1f}%" in line
        and f"p90 APE {f['p90_ape_pct']:.1f}%" in line
    )


def test_the_forward_test_holds_results_no_fit_has_seen():
    """data/forward/: published results that no fit (shipped or held-out) has used, predicted
    with the shipped factors."""
    fwd = validation.forward_test()
    assert len(fwd) >= 10 and fwd["source_family"].nunique() >= 2
    assert np.isfinite(fwd["predicted"]).all() and (fwd["predicted"] > 0).all()
    assert set(fwd["id"]).isdisjoint(validation.held_out())  # never in a leave-one-out fold
    assert fwd["source"].isin(iw.catalog.bib_keys()).all()
    row = fwd.iloc[0]
    assert row["ape"] == pytest.approx(abs(row["predicted"] - row["value"]) / row["value"])


def test_a_forward_row_that_repeats_a_measured_result_is_refused(tmp_path, monkeypatch):
    src = validation.measured_path("trtllm_perf").read_text(encoding="utf-8").splitlines()
    copy = src[1].replace(src[1].split(",")[0], "new-copy", 1)
    (tmp_path / "copied.csv").write_text("\n".join([src[0], copy]) + "\n", encoding="utf-8")
    monkeypatch.setattr(validation, "FORWARD_DIR", tmp_path)
    with pytest.raises(iw.catalog.CatalogError, match="repeats 1 measured result"):
        validation.forward_test()
    (tmp_path / "copied.csv").write_text("\n".join([src[0], src[1]]) + "\n", encoding="utf-8")
    validation._rows.cache_clear()
    with pytest.raises(iw.catalog.CatalogError, match="repeats measured ids"):
        validation.forward_test()


def test_the_experiment_record_names_the_shipped_fit_with_its_held_out_error():
    """data/calibration_experiments.csv: its one shipped row is what the shipped held-out
    predictions give (so a refit that changes the error must update the record)."""
    e = calibration.experiments()
    shipped = e[e["outcome"] == "shipped"].iloc[0]
    held = validation.predict_held_out()
    s = validation.error_summary(held)
    assert shipped["rows"] == len(held)
    assert shipped["held_out_median_pct"] == round(s["median_ape_pct"], 1)
    assert shipped["held_out_p90_pct"] == round(s["p90_ape_pct"], 1)
    assert shipped["rows_beyond_35"] == int((held["ape"] > 0.35).sum())
    fwd = validation.forward_test()
    f = validation.error_summary(fwd)
    assert shipped["forward_rows"] == len(fwd)
    assert shipped["forward_median_pct"] == round(f["median_ape_pct"], 1)
    assert shipped["forward_p90_pct"] == round(f["p90_ape_pct"], 1)
    assert e["id"].is_unique and set(e["stage"]) <= {"loss", "structure", "data"}


def test_a_bad_experiment_row_is_refused(tmp_path, monkeypatch):
    bad = tmp_path / "calibration_experiments.csv"
    text = calibration.EXPERIMENTS_PATH.read_text(encoding="utf-8")
    bad.write_text(text.replace(",shipped,", ",dropped,"), encoding="utf-8")
    monkeypatch.setattr(calibration, "EXPERIMENTS_PATH", bad)
    calibration._experiment_rows.cache_clear()
    try:
        with pytest.raises(iw.catalog.CatalogError, match="exactly one row must be shipped"):
            calibration.experiments()
    finally:
        calibration._experiment_rows.cache_clear()


def test_shipped_held_out_predictions_are_what_leaving_a_family_out_gives(fresh_fits):
    """One fold refitted from scratch (every fold: `benchmarks/accuracy.py` and `calibrate --check`)."""
    pred, fold = fresh_fits[1]
    assert fold != fresh_fits[0]  # leaving a family out moves the fit
    df = validation.predict_held_out()
    rows = (df["source_family"] == "nim").to_numpy()
    assert rows.sum() >= 5
    np.testing.assert_allclose(pred[rows], df["predicted"].to_numpy()[rows], rtol=1e-4)


def test_leave_one_source_out_in_processes_matches_one_process(monkeypatch):
    """``jobs=2`` (``calibrate --jobs 2``) runs the folds in worker processes and must give what
    one process gives, fold by fold. A fast stand-in fit (a factor that depends on which rows
    trained it) keeps this quick; forked workers inherit it."""

    def fake_fit(train=None):
        return {("all", "kv_efficiency"): 0.3 + 0.5 * float(np.mean(train))}

    monkeypatch.setattr(calibration, "fit", fake_fit)
    families = ["nim", "groq", "cerebras"]
    one, fits1 = calibration.leave_one_source_out(families, jobs=1)
    two, fits2 = calibration.leave_one_source_out(families, jobs=2)
    rows = validation.measured()["source_family"].isin(families).to_numpy()
    assert np.isfinite(one[rows]).all() and np.isnan(one[~rows]).all()
    np.testing.assert_array_equal(one, two)
    assert fits1 == fits2 and len({v[("all", "kv_efficiency")] for v in fits1.values()}) == 3


def test_same_system_drift_compares_one_configuration_across_dates():
    """MLPerf's H100 Llama 2 70B offline result, v4.1 then v5.0: the change is the ratio of the
    two measured rows, and every pair is one source family's rows of identical inputs."""
    d = validation.same_system_drift()
    m = validation.measured().set_index("id")
    assert len(d) >= 10 and (d["months"] > 0).all()
    row = d.set_index("last").loc["mlperf-v50-nvidia-h100-sxm-x8-llama-2-70b-offline"]
    assert row["first"] == "mlperf-v41-nvidia-h100-sxm-x8-llama-2-70b-offline"
    ratio = m.loc[row.name, "value"] / m.loc[row["first"], "value"]
    assert row["change"] == pytest.approx(ratio - 1) and row["change"] > 0.2
    for _, r in d.iterrows():
        a, b = m.loc[r["first"]], m.loc[r["last"]]
        assert a["source_family"] == b["source_family"] and a["date"][:7] < b["date"][:7]
        for col in ("chip", "model", "precision", "metric", "input_tokens", "output_tokens"):
            assert a[col] == b[col]
    # a TTFT that shrinks counts as faster (a positive change)
    ttft = validation.measured().query("metric == 'ttft_s'").head(2).copy()
    ttft["date"], ttft["value"] = ["2025-01", "2025-07"], [2.0, 1.0]
    for col in validation.SAME_SYSTEM:
        ttft[col] = ttft[col].iloc[0]
    assert validation.same_system_drift(ttft)["change"].tolist() == [pytest.approx(1.0)]


def test_known_source_scale_removes_each_sources_median_offset():
    """Two sources, one read 2x too fast on every row, one half too slow on a speed and a TTFT:
    known their scale, every row is exact; a source whose rows scatter keeps its scatter."""
    import pandas as pd

    d = pd.DataFrame(
        {
            "source_family": ["a", "a", "b", "b", "c", "c", "c"],
            "metric": ["tokens_per_s", "tokens_per_s_per_user", "tokens_per_s", "ttft_s"]
            + ["tokens_per_s"] * 3,
            "value": [10.0, 20.0, 10.0, 1.0, 10.0, 10.0, 10.0],
            # b: the speed read at half, so the TTFT read at twice the time
            "predicted": [20.0, 40.0, 5.0, 2.0, 10.0, 20.0, 5.0],
        }
    )
    d["ape"] = (d["predicted"] / d["value"] - 1).abs()
    d["log_ratio"] = np.log(d["predicted"] / d["value"])
    k = validation.known_source_scale(d)
    np.testing.assert_allclose(k["predicted"].iloc[:4], d["value"].iloc[:4])
    # c's median offset is 0: its rows keep their misses
    np.testing.assert_allclose(k["ape"].iloc[4:], d["ape"].iloc[4:])
    assert validation.error_summary(k)["median_ape_pct"] == 0.0
    with pytest.raises(ValueError, match="log_ratio"):
        validation.known_source_scale(d.drop(columns="log_ratio"))


def test_folded_rows_are_the_forward_sets_the_record_read():
    """data/forward_folded.csv: each folded set has as many rows as the record says the fit then
    shipped read blind on it, and every id is a measured row."""
    from inference_wars.evidence import calibration

    rec = calibration.experiments().set_index("id")
    assert len(validation.folded(11)) == rec.loc["fold-tenth-1405", "forward_rows"] == 359
    assert len(validation.folded(10)) == rec.loc["client-cap-1244", "forward_rows"] == 161
    assert len(validation.folded(13)) == rec.loc["dram-gib-2080", "forward_rows"] == 317
    ids = set(validation.measured()["id"])
    assert set(validation.folded()) <= ids and len(set(validation.folded())) == len(
        validation.folded()
    )
    with pytest.raises(ValueError, match="no forward set 3 was folded"):
        validation.folded(3)


def test_a_folded_id_that_is_not_measured_is_refused(tmp_path, monkeypatch):
    bad = tmp_path / "forward_folded.csv"
    bad.write_text("id,forward_set,folded\nno-such-row,12,2026-12-02\n", encoding="utf-8")
    monkeypatch.setattr(validation, "FOLDED_PATH", bad)
    validation._folded_rows.cache_clear()
    try:
        with pytest.raises(validation.CatalogError, match="not measured rows.*no-such-row"):
            validation.folded()
    finally:
        validation._folded_rows.cache_clear()


def test_a_factor_is_fitted_only_on_the_rows_that_use_it():
    from inference_wars.engine import factors

    scopes = ["nvidia-gpu", "amd-gpu", "inferentia2"]
    # a family's own chips fit its factor; a narrower scope (a chip's own fit) takes its rows away
    assert factors.fitted_by("nvidia-gpu", "layer_overhead_us", "h100-sxm", scopes)
    assert not factors.fitted_by("amd-gpu", "layer_overhead_us", "h100-sxm", scopes)
    assert factors.fitted_by("inferentia2", "layer_overhead_us", "inferentia2", scopes)
    # borrowers are predicted with NVIDIA's factors (in_scope) but never fit them
    for chip in ("tpu-ironwood", "inferentia2", "sambanova-sn40l"):
        assert factors.in_scope("nvidia-gpu", chip)
        assert not factors.fitted_by("nvidia-gpu", "compute_efficiency", chip, ["nvidia-gpu"])
    # a chip's own published kernel overhead (SambaNova's looped kernel) and a kernel-less chip fit none
    assert not factors.fitted_by("all", "expert_overhead_us", "sambanova-sn40l", ["all"])
    assert not factors.fitted_by("all", "expert_overhead_us", "groq-lpu", ["all"])
    assert factors.fitted_by("all", "kv_efficiency", "tpu-ironwood", ["all"])
    # what the fit uses is what the shipped predictions use: TPU rows move no NVIDIA factor
    pts = validation._inputs()
    tpu = np.array(["tpu" in c for c in pts.chips])
    assert (
        tpu.any()
        and not (pts.fit_mask("nvidia-gpu", "memory_efficiency", ["nvidia-gpu"]) & tpu).any()
    )


def _as_run(rid: str) -> tuple[pd.Series, dict]:
    """A measured row and the ``iw.estimate`` arguments of its run on one chip under vLLM, its
    software as mature as it was at the row's date."""
    df = validation.measured()
    row = df.set_index("id").loc[rid]
    age = validation.software_age_months(df)[df["id"].to_numpy() == rid][0]
    return row, dict(
        software_age_months=max(age, 0.0),
        n_chips=1,
        input_tokens=int(row["input_tokens"]),
        output_tokens=int(row["output_tokens"]),
        output_tokens_cv=float(row["output_tokens_cv"]),
        precision=row["precision"],
        engine="vllm",
        tp=1,
    )


def test_a_published_batch_memory_cannot_hold_runs_at_the_largest_that_fits():
    """ML.ENERGY ran Qwen3 32B in BF16 at vLLM's max_num_seqs 384 on one B200. The engine's
    memory accounting holds fewer of its sequences beside the weights (an estimate at 384 says
    so), so the row is evaluated at the largest batch that fits, not scored as a 100x miss."""
    rid = "mlenergy-qwen3-32b-b200x1-bf16-lm-b384"
    row, args = _as_run(rid)
    assert not iw.estimate("qwen3-32b", "b200", batch=384, **args).fits
    pred = validation.predict().set_index("id").loc[rid, "predicted"]
    smaller = [iw.estimate("qwen3-32b", "b200", batch=b, **args) for b in (345, 310, 279, 251)]
    assert any(e.fits and pred == pytest.approx(e.tokens_per_s) for e in smaller)
    assert row["value"] / 3 < pred < row["value"] * 3


def test_a_latency_figure_of_a_run_loaded_to_its_targets_is_read_at_that_load():
    """MLPerf's server scenario publishes a per-user speed and a mean TTFT of the run its
    throughput row comes from: no batch, the load the submitter tuned to the targets. They are
    evaluated at the throughput objective under those targets (not at batch 1), and the TTFT is
    the mean under load, a lone request's plus the queue's mean wait."""
    inputs = validation._inputs()
    df = validation.measured()
    rows = np.flatnonzero(inputs.loaded)
    assert len(rows) >= 2 and set(df["metric"].iloc[rows]) == {"tokens_per_s_per_user", "ttft_s"}
    pred = inputs.evaluate(inputs.factor_arrays(), rows)
    value = df["value"].to_numpy()[rows]
    speed = df["metric"].to_numpy()[rows] == "tokens_per_s_per_user"
    floor = df["min_tokens_per_s_per_user"].to_numpy()[rows]
    # the load meets the per-user floor without running at batch 1's speed (several times it)
    assert (pred[speed] >= floor[speed] * 0.999).all() and (pred[speed] < 3 * value[speed]).all()
    assert (value[~speed] / 3 < pred[~speed]).all() and (pred[~speed] < 3 * value[~speed]).all()


def test_a_median_inter_token_latency_is_a_decode_step_without_prefill():
    """1 / median ITL (ML.ENERGY's per-user speed) leaves out the prefills chunked into some
    steps, so it is faster than 1 / TPOT of the same run, by less than the prefill share."""
    rid = "mlenergy-llama-3.1-8b-h100x1-bf16-lm-b64-user"
    row, args = _as_run(rid)
    assert row["metric"] == "itl_tokens_per_s_per_user" and row["regime"] == "decode, per user"
    e = iw.estimate("llama-3.1-8b", "h100-sxm", batch=64, objective="latency", **args)
    pred = validation.predict().set_index("id").loc[rid, "predicted"]
    assert e.tokens_per_s_per_user < pred < 1.5 * e.tokens_per_s_per_user


def test_young_software_runs_slower_and_mature_software_is_the_default():
    """``software_age_months`` reads an engine as it ran that long after the model's architecture
    first shipped: slower when young, the default estimate once mature; a dataflow chip's compiled
    schedule is not scaled; a negative age is a clear error."""
    kw = dict(n_chips=8, batch=1, input_tokens=1024, output_tokens=256, precision="fp8", tp=8)
    mature = iw.estimate("deepseek-r1", "h200", **kw).tokens_per_s_per_user
    young = iw.estimate("deepseek-r1", "h200", software_age_months=0, **kw).tokens_per_s_per_user
    later = iw.estimate("deepseek-r1", "h200", software_age_months=6, **kw).tokens_per_s_per_user
    old = iw.estimate("deepseek-r1", "h200", software_age_months=240, **kw).tokens_per_s_per_user
    assert young < later < mature and old == pytest.approx(mature, rel=1e-6)
    # the engine's own factor still applies: SGLang (fitted below TensorRT-LLM) young is slower
    # than TensorRT-LLM young
    sglang = iw.estimate("deepseek-r1", "h200", engine="sglang", software_age_months=0, **kw)
    assert sglang.tokens_per_s_per_user < young
    groq = dict(model="llama-3.1-8b", chip="groq-lpu", batch=1)
    assert iw.estimate(**groq, software_age_months=0).tokens_per_s_per_user == pytest.approx(
        iw.estimate(**groq).tokens_per_s_per_user
    )
    with pytest.raises(ValueError, match="software_age_months"):
        iw.estimate("deepseek-r1", "h200", software_age_months=-1, **kw)


def test_sweep_and_cli_read_young_software_as_estimate_does(capsys):
    """``sweep(software_age_months=)`` scales each chip's own engine by the software's maturity,
    as ``estimate`` does (a dataflow chip not at all); the CLI takes ``--software-age-months``."""
    from inference_wars.cli import main

    kw = dict(n_chips=8, batch=1, precision="fp8", tp=8)
    df = iw.sweep("deepseek-r1", ["h200", "mi355x"], software_age_months=3, **kw)
    for chip in ("h200", "mi355x"):
        one = iw.estimate("deepseek-r1", chip, software_age_months=3, **kw)
        row = df[df["chip"] == chip].iloc[0]
        assert row["tokens_per_s_per_user"] == pytest.approx(one.tokens_per_s_per_user, rel=1e-9)
        assert (
            one.tokens_per_s_per_user < iw.estimate("deepseek-r1", chip, **kw).tokens_per_s_per_user
        )
    groq = iw.sweep("llama-3.1-8b", "groq-lpu", software_age_months=0)
    assert groq["tokens_per_s_per_user"].iloc[0] == pytest.approx(
        iw.estimate("llama-3.1-8b", "groq-lpu").tokens_per_s_per_user
    )
    with pytest.raises(ValueError, match="software_age_months"):
        iw.sweep("deepseek-r1", "h200", software_age_months=[3])
    args = [
        "estimate",
        "-m",
        "deepseek-r1",
        "-c",
        "h200",
        "-n",
        "8",
        "--precision",
        "fp8",
        "--json",
    ]
    assert main(args + ["--software-age-months", "3"]) == 0
    young = json.loads(capsys.readouterr().out)["tokens_per_s_per_user"]
    assert main(args) == 0
    mature = json.loads(capsys.readouterr().out)["tokens_per_s_per_user"]
    assert young < mature


def test_a_client_cap_is_shared_by_replicas_and_dp_ranks_an_engine_limit_is_not():
    """A published cap is the client's concurrency (50 prompts in flight at most), shared by every
    replica and DP-attention rank of the system, unless the row says it is the engine's own limit
    per instance (TensorRT-LLM's max batch size), which each DP-attention rank schedules up to."""
    pts = validation._inputs()
    ids = list(pts.ids)
    f = pts.factor_arrays()
    for rid, shared in (
        ("vllm_r1bench-dsr1-h200x8-dgx-sgl-1000x2000", True),  # SGLang DP attention, 50 prompts
        ("lightllm_blog-v110-dsr1-h200x8-dp8ep8-vllm-1024x1024", True),  # 200 requests
        ("trt-qwen3-b200-128-2048", False),  # max batch size 2048 per DP-attention rank
    ):
        j = np.array([ids.index(rid)])
        sub = validation.serving.Factors(**{k: np.asarray(v)[j] for k, v in f.__dict__.items()})
        res = pts._search(j, pts.batch[j], sub, "throughput")
        cap = pts.batch_cap[j][0]
        assert res["fits"][0] and bool(res["dp_attention"][0])
        if shared:
            assert res["batch"][0] <= cap + 1e-9
        else:
            assert res["batch"][0] > cap  # 8 ranks, each up to the cap
