"""Answer lengths that vary: a decode step's tokens come mostly from long answers
(``engine.workload.decode_context``), checked against a batch simulated token by token and
against the MLPerf DeepSeek-R1 dataset's own per-sample lengths."""

import numpy as np
import pytest

import inference_wars as iw
from inference_wars.engine import workload
from inference_wars.evidence import validation


def test_decode_context_is_the_token_weighted_mean_context():
    """Answers drawn from a gamma distribution with cv 1.25 (mean 3,886), prompts of 804: the
    context averaged over every generated token, counted one by one, matches the formula."""
    rng = np.random.default_rng(0)
    cv, mean = 1.25, 3886.0
    k = 1.0 / cv**2
    out = np.maximum(np.round(rng.gamma(k, mean / k, 20_000)), 1.0)
    S = 804.0
    # token j of an answer attends to S + j tokens; the sum over j < O is S*O + O(O-1)/2
    per_token = (S * out + out * (out - 1) / 2).sum() / out.sum()
    formula = workload.decode_context(S, out.mean(), out.std() / out.mean())
    assert formula == pytest.approx(per_token, rel=0.01)
    assert formula > 1.9 * workload.decode_context(S, out.mean())  # twice the fixed-length read


def test_mlperf_rows_carry_the_datasets_length_spread():
    df = validation.measured()
    ml = df[df["source_family"] == "mlperf"]
    assert ml["output_tokens_cv"].notna().all()
    cv = ml.groupby("model")["output_tokens_cv"].first()
    assert cv["deepseek-r1"] == 1.25 and cv["llama-3.1-405b"] < cv["llama-2-70b"] < 1
    for note, v in zip(ml["note"], ml["output_tokens_cv"]):
        assert f"coefficient of variation {v:.2f}" in note
    # fixed-length benchmarks leave it blank or write 0 (one length for every request)
    trt = df.loc[df["source_family"] == "trtllm_perf", "output_tokens_cv"]
    assert trt.isna().any() and (trt.fillna(0.0) == 0.0).all()


def test_varying_answers_read_more_kv_and_serve_fewer_tokens():
    kw = dict(n_chips=8, batch=512, input_tokens=804, output_tokens=3886, precision="fp8")
    fixed = iw.estimate("deepseek-r1", "h200", **kw)
    varied = iw.estimate("deepseek-r1", "h200", output_tokens_cv=1.25, **kw)
    assert varied.kv_cache_gb > 1.8 * fixed.kv_cache_gb
    assert varied.tokens_per_s < fixed.tokens_per_s
    assert varied.ttft_s == pytest.approx(fixed.ttft_s)  # prefill does not change
    # the default is answers of one length
    assert iw.estimate("deepseek-r1", "h200", output_tokens_cv=0.0, **kw) == fixed
    swept = iw.sweep("deepseek-r1", "h200", output_tokens_cv=1.25, **kw)
    assert swept["tokens_per_s"].iloc[0] == pytest.approx(varied.tokens_per_s)


@pytest.mark.parametrize("bad", [-0.1, float("nan"), 11.0, "wide"])
def test_an_impossible_spread_is_refused(bad):
    with pytest.raises(ValueError, match="output_tokens_cv"):
        iw.estimate("llama-3.1-8b", "h100-sxm", output_tokens_cv=bad)


def test_the_cli_takes_the_spread(capsys):
    import json

    from inference_wars.cli import main

    args = ["estimate", "-m", "deepseek-r1", "-c", "h200", "--n-chips", "8", "--batch", "512"]
    args += ["--input-tokens", "804", "--output-tokens", "3886", "--precision", "fp8", "--json"]
    assert main(args) == 0
    fixed = json.loads(capsys.readouterr().out)["kv_cache_gb"]
    assert main(args + ["--output-tokens-cv", "1.25"]) == 0
    assert json.loads(capsys.readouterr().out)["kv_cache_gb"] > 1.8 * fixed
