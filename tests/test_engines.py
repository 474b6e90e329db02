"""Serving engines: the catalog, which engine a measured result ran, the default an estimate
assumes, and the fitted engine factor's effect."""

from __future__ import annotations

import numpy as np
import pytest

import inference_wars as iw
from inference_wars import catalog
from inference_wars.cli import main
from inference_wars.engine import factors, software
from inference_wars.engine.hardware import family
from inference_wars.errors import UnknownNameError
from inference_wars.evidence import validation


@pytest.mark.parametrize(
    ("text", "engine"),
    [
        ("TensorRT-LLM 1.0 (trtllm-bench; PyTorch backend)", "tensorrt-llm"),
        ("NVIDIA NIM 1.8.0 (AIPerf client)", "tensorrt-llm"),
        ("Dynamo + TensorRT-LLM", "tensorrt-llm"),
        # Dynamo orchestrates other engines too: it names none by itself
        ("SGLang (PD disaggregation; orchestrated by NVIDIA Dynamo)", "sglang"),
        ("vLLM 0.9.0 ROCm 6.4.1 (MLPerf v5.1 submission)", "vllm"),
        ("SGLang-JAX 0.1.0 (sgl_jax.launch_server)", "sglang"),
        ("ATOM (rocm/atom:latest)", "atom"),
        ("optimum-neuron 0.4.6.dev3 vLLM server", "neuron"),
        ("TGI Neuron (ghcr.io/huggingface/text-generation-inference)", "neuron"),
        ("Cerebras Inference (hosted API)", "native"),
        ("some unnamed stack", None),
        (None, None),
    ],
)
def test_engine_named_in_software_text(text, engine):
    found = catalog.engine_named_in(text)
    assert (found.id if found else None) == engine


def test_every_fitted_row_names_an_engine_that_runs_on_its_chip():
    df = validation.measured()
    named = [catalog.engine_named_in(s) for s in df["software"]]
    # a row names its engine, or says its source did not (then it is read as the chip's default)
    missing = [
        i for i, e, s in zip(df["id"], named, df["software"]) if e is None and "not given" not in s
    ]
    assert not missing, f"measured rows whose software names no engine: {missing[:5]}"
    wrong = [
        (i, e.id, c)
        for i, e, c in zip(df["id"], named, df["chip"])
        if e is not None and not software.runs_on(e.id, c)
    ]
    assert not wrong, f"rows naming an engine that does not run on their chip: {wrong[:5]}"
    expected = [
        software.default_engine(c) if e is None else e.id for e, c in zip(named, df["chip"])
    ]
    assert (df["engine"] == expected).all()


def test_every_chip_has_one_default_engine_that_runs_on_it():
    for c in catalog.chip_ids():
        e = software.default_engine(c)
        assert software.runs_on(e, c), (c, e)
    assert software.default_engine("h200") == "tensorrt-llm"
    assert software.default_engine("mi300x") == "vllm"
    assert software.default_engine("tpu-v6e") == "vllm"
    assert software.default_engine("inferentia2") == "neuron"
    assert software.default_engine("cerebras-wse3") == "native"


def test_unknown_engine_suggests_the_closest_and_wrong_hardware_names_the_options():
    with pytest.raises(UnknownNameError, match="did you mean 'vllm'"):
        iw.estimate("llama-3.1-8b", "h100-sxm", engine="vlm")
    with pytest.raises(ValueError, match="does not run on h100-sxm.*tensorrt-llm, vllm, sglang"):
        iw.estimate("llama-3.1-8b", "h100-sxm", engine="atom")
    assert catalog.get_engine("NIM").id == "tensorrt-llm"  # an alias, any case


def test_engine_factor_scales_the_efficiencies_and_caps_reads():
    fit = {("vllm", "engine_efficiency"): 1.25, ("sglang", "engine_efficiency"): 3.0}
    base = factors.factor_arrays(["h100-sxm"] * 3, use_fitted=False)
    f = factors.factor_arrays(
        ["h100-sxm"] * 3, fitted=fit, engines=["tensorrt-llm", "vllm", "sglang"]
    )
    for key in factors.ENGINE_SCALES:
        b = np.asarray(getattr(base, key))
        got = np.asarray(getattr(f, key))
        cap = 1.0 if key == "compute_efficiency" else factors.MAX_READ_EFFICIENCY
        assert got[0] == pytest.approx(b[0])  # the reference engine: factor 1
        assert got[1] == pytest.approx(min(b[1] * 1.25, cap))
        assert got[2] == pytest.approx(cap)  # 3x would read faster than the bandwidth allows
    # a machine that runs no kernels has no engine to scale
    g = factors.factor_arrays(["groq-lpu"], fitted=fit, engines=["native"])
    assert g.memory_efficiency[0] == pytest.approx(
        factors.factor_arrays(["groq-lpu"], use_fitted=False).memory_efficiency[0]
    )


def test_assumptions_for_applies_an_engine_factor_what_if_instead_of_dropping_it():
    base = iw.assumptions_for()
    slow = iw.assumptions_for(engine_efficiency=0.5)
    assert slow.memory_efficiency == pytest.approx(base.memory_efficiency * 0.5)
    assert slow.compute_efficiency == pytest.approx(base.compute_efficiency * 0.5)
    assert slow.layer_overhead_us == pytest.approx(base.layer_overhead_us / 0.5)
    # an explicit override of a scaled factor wins over the engine's scaling
    assert iw.assumptions_for(engine_efficiency=0.5, memory_efficiency=0.3).memory_efficiency == 0.3
    with pytest.raises(ValueError, match="engine_efficiency"):
        iw.assumptions_for(engine_efficiency=-1)


def test_estimate_follows_the_shipped_engine_factor():
    kw = dict(n_chips=8, batch=64, input_tokens=1024, output_tokens=256)
    ref = iw.estimate("llama-3.1-70b", "h100-sxm", **kw)
    assert ref.engine == "tensorrt-llm"
    assert "tensorrt-llm" in str(ref)
    for e in ("vllm", "sglang"):
        other = iw.estimate("llama-3.1-70b", "h100-sxm", engine=e, **kw)
        assert other.engine == e
        ratio = other.tokens_per_s / ref.tokens_per_s
        eff = factors.engine_efficiency(e)
        # faster exactly when the engine's factor is above the reference's 1
        assert (ratio > 1) == (eff > 1) or abs(eff - 1) < 1e-9, (e, eff, ratio)
    amd = iw.estimate("llama-3.1-70b", "mi355x", **kw)
    assert amd.engine == "vllm"
    atom = iw.estimate("llama-3.1-70b", "mi355x", engine="atom", **kw)
    assert (atom.tokens_per_s > amd.tokens_per_s) == (
        factors.engine_efficiency("atom") > factors.engine_efficiency("vllm")
    )


def test_sweep_skips_chips_the_engine_does_not_run_on():
    df = iw.sweep("llama-3.1-8b", ["h100-sxm", "mi300x", "groq-lpu"], engine="sglang")
    assert set(df["chip"]) == {"h100-sxm", "mi300x"}
    assert set(df["engine"]) == {"sglang"}
    assert any("groq-lpu" in s for s in df.attrs["skipped"])
    default = iw.sweep("llama-3.1-8b", ["h100-sxm", "mi300x", "groq-lpu"])
    assert dict(zip(default["chip"], default["engine"])) == {
        "h100-sxm": "tensorrt-llm",
        "mi300x": "vllm",
        "groq-lpu": "native",
    }


def test_engine_factors_are_fitted_only_on_their_own_rows():
    pts = validation._inputs()
    df = validation.measured()
    for e in ("vllm", "sglang", "atom"):
        mask = pts.fit_mask(e, factors.ENGINE_KEY, [e])
        assert mask.sum() == ((df["engine"] == e) & (df["family"] != "dataflow")).sum() > 0
        assert set(df.loc[mask, "family"]) <= {"nvidia-gpu", "amd-gpu", "tpu"}


def test_cli_lists_engines_and_takes_engine(capsys):
    assert main(["engines"]) == 0
    out = capsys.readouterr().out
    for e in catalog.engine_ids():
        assert e in out
    assert main(["estimate", "-m", "llama-3.1-8b", "-c", "mi300x", "--engine", "sglang"]) == 0
    assert "sglang" in capsys.readouterr().out
    assert main(["estimate", "-m", "llama-3.1-8b", "-c", "h100", "--engine", "atom"]) == 2
    assert "does not run on h100-sxm" in capsys.readouterr().err


def test_engine_rows_have_sources_and_known_platforms():
    families = {"nvidia-gpu", "amd-gpu", "tpu", "dataflow", "other"}
    for e in map(catalog.get_engine, catalog.engine_ids()):
        for p in e.platforms + e.default_on:
            assert p in families or p in catalog.chip_ids(), (e.id, p)
        if e.id != "native":
            assert e.source in catalog.bib_keys()
    # every family has a default engine (a chip may have its own)
    defaults = {p for e in map(catalog.get_engine, catalog.engine_ids()) for p in e.default_on}
    assert {family(c) for c in catalog.chip_ids()} <= defaults


def test_engine_comparison_lists_each_engine_once_per_chip_against_the_default():
    from inference_wars.analyses.software import engine_comparison

    df = engine_comparison("llama-3.1-70b", ["h100-sxm", "mi355x"], n_chips=8, batch=64)
    assert set(df.loc[df.chip == "h100-sxm", "engine"]) == {"tensorrt-llm", "vllm", "sglang"}
    assert set(df.loc[df.chip == "mi355x", "engine"]) == {"vllm", "sglang", "atom"}
    assert (df.groupby("chip")["default"].sum() == 1).all()
    assert (df.loc[df["default"], "speed_vs_default"] == 1).all()
    for r in df.itertuples():
        # a faster engine (bigger factor) never serves fewer tokens/s per chip on the same chip
        same = df[(df.chip == r.chip) & (df.engine_efficiency > r.engine_efficiency)]
        assert (same.tokens_per_s_per_chip >= r.tokens_per_s_per_chip - 1e-9).all()
    with pytest.raises(ValueError, match="do not pass engine"):
        engine_comparison("llama-3.1-8b", ["h100-sxm"], engine="vllm")


def test_a_kernel_overhead_what_if_leaves_machines_without_kernels_alone():
    f = factors.factor_arrays(
        ["h100-sxm", "cerebras-wse3", "taalas-hc1"], overrides={"layer_overhead_us": 14.6}
    )
    assert list(f.layer_overhead_us) == [14.6, 0.0, 0.0]


def test_weight_only_int4_runs_its_maths_on_the_16_bit_path():
    from inference_wars.engine import formats

    assert formats.compute_peak_quantity("int4", "a100-sxm") == "peak_dense_tflops_int4"
    assert formats.compute_peak_quantity("int4-wo", "a100-sxm") == "peak_dense_tflops_bf16"
    assert formats.bits_per_weight("int4-wo") == formats.bits_per_weight("int4")
    kw = dict(batch=None, input_tokens=1024, output_tokens=512)
    wo = iw.estimate("llama-3.1-8b", "a100-sxm", precision="int4-wo", **kw)
    w4a4 = iw.estimate("llama-3.1-8b", "a100-sxm", precision="int4", **kw)
    bf16 = iw.estimate("llama-3.1-8b", "a100-sxm", precision="bf16", **kw)
    # the same bytes per weight, but W4A16's maths run at bf16's peak: slower than INT4 units
    assert bf16.tokens_per_s < wo.tokens_per_s < w4a4.tokens_per_s
