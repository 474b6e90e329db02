"""The KV-cache tier beyond HBM: fetch versus recompute, hit rate, time to first token."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import inference_wars as iw
from inference_wars import context_memory as cm
from inference_wars import workload


def test_fetch_time_by_hand():
    # Llama 3.1 70B, FP8 KV: 80 layers x 2 x 8 heads x 128 dims x 1 byte = 163,840 B per token
    t = cm.turn_times(
        "llama-3.1-70b",
        "h100-sxm",
        8,
        10_000,
        100,
        tier_gb_s_per_chip=50,
        tier_latency_us=0,
        precision="fp8",
    )
    kv = 10_000 * 163_840
    assert t["kv_gb"] == pytest.approx(kv / 1e9)
    assert t["fetch_s"] == pytest.approx(kv / (8 * 50e9))
    assert t["ttft_hit_s"] == pytest.approx(t["fetch_s"] + t["new_prefill_s"])
    assert t["ttft_miss_s"] == pytest.approx(t["recompute_s"] + t["new_prefill_s"])


def test_recompute_is_the_prefill_roofline():
    """At the chip's own fitted compute efficiency, as iw.estimate reads it (not the unfitted
    default): the matrix multiplies at the FP8 peak, the attention over the context at the BF16
    peak, as the engine prices a prompt."""
    from inference_wars.engine import factors

    chip = iw.get_chip("h100-sxm")
    eff = factors.chip_factors("h100-sxm")["compute_efficiency"]
    assert eff == factors.fitted("nvidia-gpu")["compute_efficiency"][0]
    m = workload.model_arrays(["llama-3.1-70b"])
    t = cm.turn_times("llama-3.1-70b", "h100-sxm", 8, 32_000, 100, 50, precision="fp8")
    attn = workload.prefill_attention_flops(m, 32_000)[0]
    matmul = workload.prefill_flops(m, 32_000)[0] - attn
    expect = (
        matmul / chip.get("peak_dense_tflops_fp8") + attn / chip.get("peak_dense_tflops_bf16")
    ) / (8 * 1e12 * eff)
    assert t["recompute_s"] == pytest.approx(expect)
    # ... and the same maths the engine charges for a lone 32k-token prompt
    one = iw.estimate(
        "llama-3.1-70b",
        "h100-sxm",
        n_chips=8,
        tp=8,
        batch=1,
        precision="fp8",
        input_tokens=32_000,
        output_tokens=1,
    )
    # (its time to first token adds the tensor-parallel all-reduces of the prompt's activations)
    assert t["recompute_s"] < one.ttft_s < 1.7 * t["recompute_s"]


def test_no_context_means_nothing_to_fetch_or_recompute():
    t = cm.turn_times("llama-3.1-8b", "h100-sxm", 1, 0, 500, 10)
    assert t["fetch_s"] == 0 and t["recompute_s"] == 0
    assert t["ttft_hit_s"] == pytest.approx(t["ttft_miss_s"])


def test_breakeven_bandwidth_matches_turn_times():
    be = float(cm.breakeven_tier_gb_s("llama-3.1-70b", "h100-sxm", 32_000, precision="fp8"))
    t = cm.turn_times(
        "llama-3.1-70b", "h100-sxm", 8, 32_000, 100, be, tier_latency_us=0, precision="fp8"
    )
    assert t["fetch_s"] == pytest.approx(t["recompute_s"], rel=1e-9)


@settings(max_examples=30, deadline=None)
@given(ctx=st.integers(1_000, 120_000), bw=st.floats(1, 1000), h=st.floats(0, 1))
def test_properties(ctx, bw, h):
    t = cm.turn_times("deepseek-r1", "vera-rubin-nvl72", 8, ctx, 500, bw, precision="nvfp4")
    e = cm.expected_ttft_s(h, t["ttft_hit_s"], t["ttft_miss_s"])
    lo, hi = sorted([float(t["ttft_hit_s"]), float(t["ttft_miss_s"])])
    assert lo - 1e-12 <= float(e) <= hi + 1e-12
    faster = cm.turn_times(
        "deepseek-r1", "vera-rubin-nvl72", 8, ctx, 500, bw * 2, precision="nvfp4"
    )
    assert faster["fetch_s"] <= t["fetch_s"]


def test_vectorised_over_context_and_monotone():
    ctx = np.array([1_000, 8_000, 64_000])
    t = cm.turn_times("llama-3.1-70b", "b200", 8, ctx, 200, 100, precision="fp8")
    assert t["recompute_s"].shape == (3,) and np.all(np.diff(t["recompute_s"]) > 0)
    assert np.all(np.diff(t["fetch_s"]) > 0)


def test_hit_rate_and_cost():
    assert cm.tier_hit_rate(100, 10, 5) == pytest.approx(1.0)
    assert cm.tier_hit_rate(25, 10, 5) == pytest.approx(0.5)
    assert cm.expected_ttft_s(0.25, 1.0, 5.0) == pytest.approx(4.0)
    c1 = cm.prefill_usd_per_turn("llama-3.1-70b", "h100-sxm", 8, 1.0)
    assert cm.prefill_usd_per_turn("llama-3.1-70b", "h100-sxm", 8, 2.0) == pytest.approx(2 * c1)
    assert c1 > 0


def test_errors():
    with pytest.raises(ValueError, match="did you mean"):
        cm.turn_times("llama-3.1-70b", "h100x", 8, 1000, 10, 10)
    with pytest.raises(ValueError, match="tier_gb_s_per_chip"):
        cm.turn_times("llama-3.1-70b", "h100-sxm", 8, 1000, 10, 0)
    with pytest.raises(ValueError, match="maximum context"):
        cm.turn_times("llama-3.1-70b", "h100-sxm", 8, 200_000, 10, 10)
    with pytest.raises(ValueError, match="hit_rate"):
        cm.expected_ttft_s(1.5, 1, 2)
    with pytest.raises(ValueError, match="hard-wired"):
        cm.turn_times("llama-3.1-70b", "taalas-hc1", 1, 1000, 10, 10)


def test_ttft_by_hit_rate_is_turn_times_on_every_axis():
    """One long table over tier bandwidth x hit rate x context: each row's expected TTFT is the
    hit-rate mix of that bandwidth's fetch and recompute times from turn_times."""
    ctx, bws, hits = [2048, 32768], [25.0, 200.0], [0.0, 0.5, 1.0]
    df = cm.ttft_by_hit_rate(
        "llama-3.1-70b",
        "h100-sxm",
        8,
        contexts=ctx,
        tiers_gb_s=bws,
        hit_rates=hits,
        new_tokens=200,
        precision="fp8",
    )
    assert len(df) == len(ctx) * len(bws) * len(hits)
    assert df["context"].dtype.kind == "i"  # token counts stay integers
    for r in df.itertuples():
        t = cm.turn_times(
            "llama-3.1-70b", "h100-sxm", 8, r.context, 200, r.tier_gb_s, precision="fp8"
        )
        assert r.fetch_ttft_s == pytest.approx(float(t["ttft_hit_s"]))
        assert r.recompute_ttft_s == pytest.approx(float(t["ttft_miss_s"]))
        mix = r.hit_rate * r.fetch_ttft_s + (1 - r.hit_rate) * r.recompute_ttft_s
        assert r.expected_ttft_s == pytest.approx(mix)
    with pytest.raises(ValueError, match="hit_rate must be in"):
        cm.ttft_by_hit_rate(
            "llama-3.1-70b",
            "h100-sxm",
            8,
            contexts=ctx,
            tiers_gb_s=bws,
            hit_rates=[1.5],
            new_tokens=200,
        )
