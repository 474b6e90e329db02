"""The landscape tables: memory tiers, model needs, one model on every system."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import inference_wars as iw
from inference_wars import landscape


def test_every_chip_has_a_tier_or_is_listed_as_omitted():
    df = landscape.memory_tiers()
    assert set(df["chip"]) == set(iw.chip_ids())
    assert np.isfinite(df[["capacity_gb", "bandwidth_tb_s"]].to_numpy(float)).all()
    assert (df["capacity_gb_low"] <= df["capacity_gb"]).all() and (
        df["capacity_gb"] <= df["capacity_gb_high"]
    ).all()
    assert any(o.startswith("h100-sxm on-chip SRAM") for o in df.attrs["omitted"])


def test_groq_and_cerebras_tiers_match_the_spec_sheets():
    t = landscape.memory_tiers(["groq-lpu", "cerebras-wse3"]).set_index(["chip", "tier"])
    assert t.loc[("groq-lpu", "on-chip SRAM"), "capacity_gb"] == pytest.approx(0.23)
    assert t.loc[("groq-lpu", "on-chip SRAM"), "bandwidth_tb_s"] == 80
    assert t.loc[("cerebras-wse3", "on-chip SRAM"), "capacity_gb"] == 44
    assert t.loc[("cerebras-wse3", "on-chip SRAM"), "role"] == "weights and KV cache"


def test_the_map_reads_dram_in_the_bytes_the_engine_fits_against():
    """An "80 GB" H100 holds 80 GiB: the memory map, the hierarchy table and the engine's fit
    check must all say so, or a model the engine serves on one GPU is drawn as not fitting."""
    from inference_wars.analyses import hierarchy
    from inference_wars.engine import hardware, memory

    tier = landscape.memory_tiers(["h100-sxm"]).set_index("tier").loc["off-chip DRAM"]
    level = hierarchy.memory_hierarchy(["h100-sxm"]).set_index("level").loc["HBM"]
    engine_gb = (
        float(
            memory.storage_capacity_bytes(hardware.hardware_arrays([("h100-sxm", "fp8")]), 1.0)[0]
        )
        / 1e9
    )
    assert tier["capacity_gb"] == pytest.approx(engine_gb) == pytest.approx(level["capacity_gb"])
    assert tier["capacity_gb"] == pytest.approx(80 * 2**30 / 1e9)  # 85.9, not the label's 80
    with pytest.raises(ValueError, match="not a capacity quantity"):
        memory.capacity_gb("hbm_tb_s", 1.0)


def test_domain_scope_multiplies_by_the_scaleup_domain():
    chip = landscape.memory_tiers(["gb200-nvl72"]).iloc[0]
    dom = landscape.memory_tiers(["gb200-nvl72"], scope="domain").iloc[0]
    assert dom["chips_in_scope"] == 72
    assert dom["capacity_gb"] == pytest.approx(72 * chip["capacity_gb"])
    assert dom["bandwidth_tb_s"] == pytest.approx(72 * chip["bandwidth_tb_s"])


def test_bad_inputs_say_what_is_allowed():
    with pytest.raises(ValueError, match="scope must be one of"):
        landscape.memory_tiers(scope="rack")
    with pytest.raises(iw.UnknownNameError, match="groq-lpu"):
        landscape.memory_tiers(["groq-lpx"])
    with pytest.raises(ValueError, match="maximum context"):
        landscape.model_needs("llama-2-70b", context_tokens=100_000)
    with pytest.raises(ValueError, match="positive"):
        landscape.model_needs("llama-3.1-8b", target_tokens_per_s_per_user=0)


def test_model_needs_hand_computed_for_llama_70b_fp8():
    n = landscape.model_needs(
        "llama-3.1-70b",
        precision="fp8",
        context_tokens=8192,
        batch=1,
        target_tokens_per_s_per_user=100,
    ).iloc[0]
    params = iw.models().set_index("id").loc["llama-3.1-70b", "params_total"]
    assert n["weights_gb"] == pytest.approx(params / 1e9)  # 1 byte per weight
    assert n["kv_gb"] == pytest.approx(
        2 * 8 * 128 * 80 * 8192 / 1e9
    )  # FP8 KV, 8 KV heads, 80 layers
    # one step reads every weight but the input-embedding table, plus the KV cache
    read = (params - 128256 * 8192) + 2 * 8 * 128 * 80 * 8192
    assert n["bandwidth_tb_s"] == pytest.approx(read * 100 / 1e12, rel=1e-6)


@settings(max_examples=25, deadline=None)
@given(st.integers(1, 64), st.integers(1024, 65536), st.floats(1, 5000))
def test_needs_grow_with_batch_context_and_speed(batch, context, target):
    base = landscape.model_needs(
        "llama-3.1-8b", context_tokens=context, batch=batch, target_tokens_per_s_per_user=target
    ).iloc[0]
    more = landscape.model_needs(
        "llama-3.1-8b",
        context_tokens=context + 1024,
        batch=batch + 1,
        target_tokens_per_s_per_user=target * 2,
    ).iloc[0]
    assert more["capacity_gb"] > base["capacity_gb"]
    assert more["bandwidth_tb_s"] > 2 * base["bandwidth_tb_s"]


def test_serving_format_prefers_eight_bit():
    assert landscape.serving_format("h100-sxm") == "fp8"
    assert landscape.serving_format("groq-lpu") == "int8"
    assert landscape.serving_format("cerebras-wse3") == "bf16"
    assert landscape.serving_format("taalas-hc1") == "taalas-3b6b"


def test_compare_systems_ranges_bracket_the_base_and_skip_hardwired_chips():
    c = landscape.compare_systems("llama-3.1-70b", batch=1)
    assert "taalas-hc1" not in set(c["chip"]) and c.attrs["skipped"] == [
        "taalas-hc1 runs only llama-3.1-8b"
    ]
    for k in landscape.COMPARE_METRICS:
        assert (c[f"{k}_low"] <= c[k] + 1e-9).all() and (c[k] <= c[f"{k}_high"] + 1e-9).all()
    row = c.set_index("chip")
    # 70 GB of int8 weights in 230 MB chips: hundreds of Groq chips, one Ironwood
    assert 300 < row.loc["groq-lpu", "n_chips"] < 576
    assert row.loc["tpu-ironwood", "n_chips"] == 1
    # SRAM machines buy per-user speed at a high price per token at batch 1
    assert (
        row.loc["groq-lpu", "tokens_per_s_per_user"] > 3 * row.loc["b200", "tokens_per_s_per_user"]
    )
    assert row.loc["groq-lpu", "usd_per_million_tokens"] > row.loc["b200", "usd_per_million_tokens"]
    long = landscape.long_comparison(c)
    assert len(long) == len(c) * len(landscape.COMPARE_METRICS)


def test_compare_includes_taalas_for_its_own_model():
    c = landscape.compare_systems("llama-3.1-8b", chips=["taalas-hc1", "h100-sxm"], batch=1)
    assert list(c["chip"]) == ["taalas-hc1", "h100-sxm"]
    assert c.loc[0, "tokens_per_s_per_user"] > 20 * c.loc[1, "tokens_per_s_per_user"]


def test_compare_rejects_a_chip_that_cannot_serve_anything():
    with pytest.raises(ValueError, match="no chip in the list"):
        landscape.compare_systems("llama-3.1-70b", chips=["taalas-hc1"])
    with pytest.raises(ValueError, match="cannot run taalas-3b6b"):
        landscape.compare_systems("llama-3.1-70b", chips=["h100-sxm"], precision="taalas-3b6b")


def test_prefill_and_decode_splits_a_long_request_into_its_two_phases():
    """Chapter 6: a prefill GPU (Rubin CPX) against an HBM GPU (Rubin): prompt time scales with the
    FP4 peaks (a 100K-token prompt is mostly attention, priced at the 16-bit peaks, which the catalog
    estimates in the same ratio), the prompt is cheaper per token on the cheaper chip, the answer
    far slower."""
    df = landscape.prefill_and_decode(
        "llama-3.1-70b", ["rubin-cpx", "rubin-gpu"], 100_000, precision="nvfp4"
    ).set_index("chip")
    cpx, rubin = iw.get_chip("rubin-cpx"), iw.get_chip("rubin-gpu")
    assert (df["n_chips"] == 1).all()
    peaks = rubin.get("peak_dense_tflops_fp4") / cpx.get("peak_dense_tflops_fp4")
    assert df.loc["rubin-cpx", "ttft_s"] / df.loc["rubin-gpu", "ttft_s"] == pytest.approx(
        peaks, rel=0.05
    )
    assert (
        df.loc["rubin-cpx", "usd_per_million_prompt_tokens"]
        < df.loc["rubin-gpu", "usd_per_million_prompt_tokens"]
    )
    assert (
        df.loc["rubin-cpx", "tokens_per_s_per_user"]
        < 0.2 * df.loc["rubin-gpu", "tokens_per_s_per_user"]
    )
    for k in landscape.PREFILL_DECODE_METRICS:
        assert (df[f"{k}_low"] <= df[k] + 1e-12).all() and (df[k] <= df[f"{k}_high"] + 1e-12).all()
    # cost = chips x TTFT x hourly cost / prompt tokens, with the chip's own hourly cost
    from inference_wars.analyses import context_memory

    usd = context_memory.prefill_usd_per_turn(
        "llama-3.1-70b", "rubin-cpx", 1, df.loc["rubin-cpx", "ttft_s"]
    )
    assert df.loc["rubin-cpx", "usd_per_million_prompt_tokens"] == pytest.approx(
        float(usd) / 100_000 * 1e6
    )
    with pytest.raises(ValueError, match="cannot run taalas-3b6b"):
        landscape.prefill_and_decode("llama-3.1-70b", ["rubin-cpx"], 1000, precision="taalas-3b6b")
